"""The hook between the Python evaluator and a front end's library (NKI): what a trace needs
that the evaluator cannot know.

The evaluator runs Python and knows nothing of any kernel language. The driver
(``klr.tracer.kernel``) traces a kernel with a ``Library`` and asks it for:

* ``dialect(kernel)``: the flavour of the library's API the gathered code uses (a name
  registered for two dialects resolves to the kernel's flavour);
* ``new_state(ctx)``: the library's state of one body, ``ctx.state`` (one body per logical
  core, shared by its SPMD instances);
* ``argument(ctx, name, shape, dtype)``: the value of a tensor kernel argument;
* ``returned(ctx, value)``: what the value an SPMD instance returns becomes, and
  ``output_of(ctx, value)`` the Core tensor a returned value is (None: not a tensor);
* ``finish(ctx)``: once a body is traced, what it adds to the kernel (``BodyOutputs``).

Builtins are not part of the hook: a library registers them in ``klr.tracer.registry`` when
its package is imported; the Python builtins' modules are declared when this module is, and
imported when a kernel first names one of their builtins.
``Library`` itself is the Python library alone (``run_python``): no tensors, no state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.tracer import registry
from klr.tracer.pynames import NAMES
from klr.tracer.registry import Dialect

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from klr import core
    from klr.python import ast as A
    from klr.tracer.context import Ctx
    from klr.tracer.values import Value

__all__ = ["BodyOutputs", "Library", "PYTHON"]

# The Python builtins: their modules are imported when a kernel first names one of them (most
# call range or len; a kernel that calls none skips their ~2 ms of registrations).
registry.defer(NAMES)


class BodyOutputs:
    """What one traced body adds to the kernel besides its statements: ``written``, the names
    of the input tensors the body writes (they are outputs too); ``shared_buffers``, the HBM
    tensors the body allocates, shared by the cores (``LncKernel.sharedBuffers``);
    ``constants``, shared constant tensors' contents (numpy arrays) by tensor name."""

    __slots__ = ("constants", "shared_buffers", "written")

    def __init__(self, written: frozenset[str] = frozenset(),
                 shared_buffers: tuple[core.TensorName, ...] = (),
                 constants: dict[str, NDArray[np.generic]] | None = None) -> None:
        self.written = written
        self.shared_buffers = shared_buffers
        self.constants = {} if constants is None else constants


class Library:
    """The Python library: what every front end's library extends."""

    name = "python"

    def dialect(self, kernel: A.Kernel) -> Dialect:
        """The API flavour ``kernel`` is written in."""
        return Dialect.beta2

    def new_state(self, ctx: Ctx) -> object:
        """The library's state of a body (``ctx.state``)."""
        return None

    def argument(self, ctx: Ctx, name: str, shape: tuple[int, ...], dtype: str) -> Value:
        """The value of the tensor kernel argument ``name`` (``dtype`` as gathered: ``"bfloat16"``)."""
        raise ctx.error(f"kernel argument '{name}' is a tensor, which Python code alone cannot take")

    def returned(self, ctx: Ctx, value: Value) -> Value:
        """What a value an SPMD instance returns becomes (a library may copy it to an output)."""
        return value

    def output_of(self, ctx: Ctx, value: Value) -> core.TensorName | None:
        """The output tensor a returned value is; None when it is not a tensor."""
        return None

    def finish(self, ctx: Ctx) -> BodyOutputs:
        """What the body traced with ``ctx`` adds to the kernel."""
        return BodyOutputs()


PYTHON = Library()
"""The Python library: ``run_python`` of plain Python functions."""
