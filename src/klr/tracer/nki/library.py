"""The NKI library as the tracer's driver sees it: ``NkiLibrary``, the hook that joins the
NKI layer to the Python evaluator (``klr.tracer.library.Library``).

It gives a trace its dialect (``legacy`` when the gathered code names ``neuronxcc.*``), its
per-body state (``klr.tracer.nki.state.State``), tensor kernel arguments (HBM input tensors
named after their parameters), returned values (HBM outputs) and, once a body is traced, the
input tensors it writes, its shared buffers and its shared constants.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from klr.core import Memory, TensorName
from klr.dtypes import from_name
from klr.errors import TraceError
from klr.pos import Pos
from klr.python import ast as A
from klr.schema import field_names
from klr.tracer.library import BodyOutputs, Library
from klr.tracer.nki.emit import check_dims, hbm_tensor
from klr.tracer.nki.operators import dma
from klr.tracer.nki.state import State, state
from klr.tracer.nki.tensors import TensorValue
from klr.tracer.nki.views import Buf, View, is_contiguous, root_view
from klr.tracer.registry import Dialect
from klr.tracer.show import describe
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["LIBRARY", "NkiLibrary", "detect_dialect"]


def detect_dialect(kernel: A.Kernel) -> Dialect:
    """``legacy`` when the gathered code refers to ``neuronxcc.*`` names, else ``beta2``."""
    stack: list[object] = [kernel.funcs, kernel.classes, kernel.globals]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            stack.extend(node)
        elif isinstance(node, A.Name):
            if node.id.startswith("neuronxcc."):
                return Dialect.legacy
        elif not isinstance(node, Pos):
            stack.extend(getattr(node, f) for f in field_names(node) or ())
    return Dialect.beta2


class NkiLibrary(Library):
    """NKI kernels: tensors in HBM, SBUF and PSUM, and the ``nki.language`` and ``nki.isa`` builtins."""

    name = "nki"

    def dialect(self, kernel: A.Kernel) -> Dialect:
        return detect_dialect(kernel)

    def new_state(self, ctx: Ctx) -> State:
        return State()

    def argument(self, ctx: Ctx, name: str, shape: tuple[int, ...], dtype: str) -> Value:
        """An HBM tensor named after the parameter."""
        dt = from_name(dtype)
        if dt is None:
            raise ctx.error(f"kernel argument '{name}' has an unsupported dtype '{dtype}'")
        dims = tuple(shape) or (1,)
        if any(type(d) is int and d == 0 for d in dims):
            raise ctx.error(f"kernel argument '{name}' has an empty shape {describe(list(shape))}")
        check_dims(ctx, dims, dt, f"the dimensions of kernel argument '{name}'")
        buf = Buf(TensorName.make(ctx.claim_name(name, argument=True), dt, dims, Memory.hbm), dims, 0)
        return TensorValue(root_view(buf))

    def returned(self, ctx: Ctx, value: Value) -> Value:
        """HBM tensors stay; an on-chip tile or a part of a tensor is copied into a new HBM
        output, with a warning (the simulator returns them too)."""
        if isinstance(value, (tuple, list)):
            items = [self.returned(ctx, v) for v in value]
            return tuple(items) if isinstance(value, tuple) else items
        if not isinstance(value, TensorValue) or _is_whole_hbm(value.view):
            return value
        view = value.view
        buf = hbm_tensor(ctx, view.shape, 0, view.dtype, Memory.hbm, None, hint=f"{view.tensor.name}_out")
        where = view.buf.memory.name if not view.buf.memory.is_hbm else "part of an HBM tensor"
        ctx.warn(f"the kernel returns '{view.tensor.name}' ({where}); it is copied into the new HBM "
                 f"output '{buf.tensor.name}'")
        dma(ctx, root_view(buf), view)
        return TensorValue(root_view(buf))

    def output_of(self, ctx: Ctx, value: Value) -> TensorName | None:
        """The HBM tensor a returned value denotes."""
        if not isinstance(value, TensorValue):
            return None
        view = value.view
        if not view.buf.memory.is_hbm:
            raise TraceError(f"a kernel must return HBM tensors, but '{view.tensor.name}' is in "
                             f"{view.buf.memory.name}")
        if not _is_whole_hbm(view):
            raise TraceError(f"a kernel must return whole tensors, not a view of '{view.tensor.name}'")
        return view.tensor

    def finish(self, ctx: Ctx) -> BodyOutputs:
        st = state(ctx)
        return BodyOutputs(frozenset(st.hbm_written), tuple(st.shared_buffers), dict(st.constants))


def _is_whole_hbm(view: View) -> bool:
    return (view.buf.memory.is_hbm and view.offset == 0 and is_contiguous(view)
            and math.prod(view.shape) == view.buf.size)


LIBRARY = NkiLibrary()
"""The NKI library, for ``klr.tracer.kernel.trace``."""
