"""What builtins make of their arguments: tensors, per-partition scalars, shapes, flags, enums.

Each conversion raises a TraceError at the call naming the builtin and the parameter. What Core
requires of an operand (its memory, its shape against the others') is checked by the rules of
``klr.core.rules``, on the ``Arg`` a view is to them (``arg``); ``rule`` reports a broken one
at the user's call, after the builtin's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from klr.core import AccumCmd, ImmFloat, rules
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.consts import REDUCE_CMDS, dtype_of, enum_of, memory_of
from klr.tracer.nki.emit import alloc, hbm_tensor
from klr.tracer.nki.state import state
from klr.tracer.nki.tensors import Number, TensorValue
from klr.tracer.nki.views import View, root_view
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

Args = dict[str, Value]
"""A builtin's arguments by parameter name, as the dialect forms bind them (dialects.py)."""


class ParDim(int):
    """``nl.par_dim(n)``: marks the partition dimension of a shape (an int otherwise)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"par_dim({int(self)})"


def parse_shape(ctx: Ctx, shape: Value, what: str = "shape") -> tuple[tuple[int, ...], int]:
    """Dimensions and the partition axis of a shape argument (a ``par_dim`` marks it)."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise ctx.error(f"{what} must be a non-empty tuple of integers, not {describe(shape)}")
    dims = []
    par = 0
    marked = 0
    for i, d in enumerate(shape):
        if isinstance(d, bool) or not isinstance(d, int) or d <= 0:
            raise ctx.error(f"{what} must hold positive integers, not {list(shape)}")
        if isinstance(d, ParDim):
            par = i
            marked += 1
        dims.append(int(d))
    if marked > 1:
        raise ctx.error(f"{what} marks more than one dimension with par_dim")
    return tuple(dims), par


def name_arg(ctx: Ctx, name: Value) -> str | None:
    if name is None or name == "":
        return None
    if not isinstance(name, str):
        raise ctx.error(f"name must be a string, not {type_name(name)}")
    return name


def new_tensor(ctx: Ctx, shape: Value, dtype: Value, buffer: Value, name: Value = None) -> TensorValue:
    """An uninitialised tensor from a creation builtin's arguments; HBM tensors are shared
    buffers, one per SPMD launch."""
    dims, par = parse_shape(ctx, shape)
    dt = dtype_of(ctx, dtype)
    memory = memory_of(ctx, buffer)
    nm = name_arg(ctx, name)
    if memory.is_hbm:
        return TensorValue(root_view(hbm_tensor(ctx, dims, par, dt, memory, nm)))
    st = state(ctx)
    if st.spmd_first is None:
        st.spmd_first = ctx.program_id
    if nm is not None and ctx.program_id != st.spmd_first:
        # each SPMD instance has its own on-chip tensors: later ones are named <name>.<n>
        return TensorValue(root_view(alloc(ctx, dims, dt, memory, par_axis=par, hint=nm)))
    return TensorValue(root_view(alloc(ctx, dims, dt, memory, par_axis=par, name=nm)))


def view_arg(ctx: Ctx, v: Value, what: str) -> View:
    if isinstance(v, TensorValue):
        return v.view
    raise ctx.error(f"{what} must be a tensor, not {type_name(v)}")


def arg(view: View, name: str) -> rules.Arg:
    """``view`` as the rules see an operand: its partitions, then its other dimensions."""
    nums, par, buf = view.nums, view.par, view.buf
    return rules.Arg(name, (nums[par], *[nums[i] for i in view.vis if i != par]), buf.dtype, buf.memory)


@contextmanager
def rule(ctx: Ctx, fn: str) -> Iterator[None]:
    """Report a rule the block finds broken as ``fn: message`` at the call."""
    try:
        yield
    except rules.RuleError as err:
        raise ctx.error(f"{fn}: {err.message}") from None


def on_chip(ctx: Ctx, v: View, what: str, fn: str) -> View:
    """An operand of an engine: in SBUF or PSUM."""
    with rule(ctx, fn):
        rules.in_memory(arg(v, f"{what} '{v.tensor.name}'"), *rules.ON_CHIP)
    return v


def same_size(ctx: Ctx, dst: View, src: View, what: str, fn: str) -> None:
    """``src`` has the partitions and elements per partition of ``dst``."""
    with rule(ctx, fn):
        rules.same_shape(arg(dst, "dst"), arg(src, what))


def per_partition(ctx: Ctx, col: View, data: View, what: str, fn: str) -> None:
    """``col`` has one element per partition of ``data``."""
    with rule(ctx, fn):
        rules.per_partition(arg(col, what), arg(data, "data"))


def scalar_operand(ctx: Ctx, v: Value, data: View, what: str, fn: str) -> operators.Scalar:
    """An Immediate for a number, or the [P, 1] view of a per-partition column tile."""
    if isinstance(v, Number):
        return operators.imm(v, data.dtype)
    if isinstance(v, TensorValue):
        col = on_chip(ctx, v.view, what, fn)
        per_partition(ctx, col, data, what, fn)
        return col
    raise ctx.error(f"{fn}: {what} must be a number or a tile, not {type_name(v)}")


def no_mask(ctx: Ctx, args: Args, fn: str) -> None:
    if args.get("mask") not in (None, True):  # a Python True (a tile-level condition) masks nothing
        raise ctx.error(f"{fn}: the mask parameter is not supported")


def out_dtype(ctx: Ctx, args: Args, default: Dtype) -> Dtype:
    d = args.get("dtype")
    return dtype_of(ctx, d) if d is not None else default


def bool_arg(ctx: Ctx, v: Value, what: str) -> bool:
    if not isinstance(v, bool):
        raise ctx.error(f"{what} must be True or False, not {describe(v)}")
    return v


def pairs_arg(ctx: Ctx, pattern: Value, fn: str) -> list[tuple[int, int]]:
    ok = isinstance(pattern, (tuple, list)) and all(
        isinstance(p, (tuple, list)) and len(p) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                             for x in p) for p in pattern)
    if not ok:
        raise ctx.error(f"{fn}: pattern must be a list of [step, num] integer pairs")
    return [(p[0], p[1]) for p in pattern]


def int_arg(ctx: Ctx, v: Value, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ctx.error(f"{what} must be an integer, not {describe(v)}")
    n: int = v
    return n


def float_operand(ctx: Ctx, v: Value, data: View, what: str, fn: str) -> operators.Scalar:
    """A float Immediate for a number, else a [P, 1] tile (as ``scalar_operand``)."""
    if isinstance(v, Number):
        return ImmFloat(float(v))
    return scalar_operand(ctx, v, data, what, fn)


def column_arg(ctx: Ctx, v: Value, data: View, what: str, fn: str) -> View:
    """A [P, 1] on-chip tile with one value per partition of ``data``."""
    col = on_chip(ctx, view_arg(ctx, v, what), what, fn)
    per_partition(ctx, col, data, what, fn)
    return col


def reduce_cmd(ctx: Ctx, v: Value, default: AccumCmd) -> AccumCmd:
    return default if v is None else enum_of(ctx, v, "reduce_cmd", REDUCE_CMDS, "reduce_cmd")
