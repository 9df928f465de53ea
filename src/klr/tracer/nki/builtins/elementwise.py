"""Element-wise arithmetic on the vector and GpSimd engines: ``nl.add`` and the other binary
functions (with their numpy spellings), ``nl.negative``, ``nl.invert``, ``nl.logical_not``,
``nl.floor``, ``nisa.tensor_tensor``, ``nisa.tensor_scalar``, ``nisa.scalar_tensor_tensor`` and
``nisa.reciprocal``.

Binary functions take tiles and numbers and become ``tensorTensor``/``tensorScalar``; the
numpy spellings (``np.add``...) are aliases, so they work both as ``op=`` values of ISA calls
and as calls; on plain Python numbers they compute at trace time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import (
    AluOp,
)
from klr.dtypes import Dtype
from klr.tracer import ops
from klr.tracer.nki import operators
from klr.tracer.nki.args import (
    Args,
    bool_arg,
    no_mask,
    on_chip,
    out_dtype,
    same_size,
    scalar_operand,
    view_arg,
)
from klr.tracer.nki.consts import alu_of, dtype_of, engine_of
from klr.tracer.nki.dialects import form, into, isa
from klr.tracer.nki.masks import as_mask, boxed, masked
from klr.tracer.nki.promotion import promote
from klr.tracer.nki.tensors import Number, binary, result, tile_view, unary_alu
from klr.tracer.nki.views import Box, View
from klr.tracer.registry import Dialect, builtin
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


NL = "nki.language."


NP = "numpy."


# name -> (ALU op, numpy alias?, on two numbers: the Python operator klr applies, or a function
# whose work and result are bounded by its operands' sizes)
_BINARY: dict[str, tuple[AluOp, bool, str | Callable[[Value, Value], Value] | None]] = {
    "add": (AluOp.add, True, "+"),
    "subtract": (AluOp.subtract, True, "-"),
    "multiply": (AluOp.mult, True, "*"),
    "divide": (AluOp.divide, True, "/"),
    "maximum": (AluOp.max, True, max),
    "minimum": (AluOp.min, True, min),
    "power": (AluOp.pow, True, "**"),
    "mod": (AluOp.mod, True, "%"),
    "fmod": (AluOp.mod, True, math.fmod),
    "equal": (AluOp.is_equal, True, "=="),
    "not_equal": (AluOp.not_equal, True, "!="),
    "less": (AluOp.is_lt, True, "<"),
    "less_equal": (AluOp.is_le, True, "<="),
    "greater": (AluOp.is_gt, True, ">"),
    "greater_equal": (AluOp.is_ge, True, ">="),
    "bitwise_and": (AluOp.bitwise_and, True, "&"),
    "bitwise_or": (AluOp.bitwise_or, True, "|"),
    "bitwise_xor": (AluOp.bitwise_xor, True, "^"),
    "left_shift": (AluOp.logical_shift_left, True, "<<"),
    "right_shift": (AluOp.logical_shift_right, True, ">>"),
    "logical_and": (AluOp.logical_and, True, lambda a, b: bool(a) and bool(b)),
    "logical_or": (AluOp.logical_or, True, lambda a, b: bool(a) or bool(b)),
    "logical_xor": (AluOp.logical_xor, True, lambda a, b: bool(a) != bool(b)),
}


def _binary_builtin(name: str, op: AluOp, numpy: bool,
                    py: str | Callable[[Value, Value], Value] | None) -> Callable[..., Value]:
    def impl(ctx: Ctx, x: Value, y: Value, *, dtype: Value = None, mask: Value = None) -> Value:
        if isinstance(x, Number) and isinstance(y, Number) and py is not None:
            if isinstance(py, str):
                return ops.compare(ctx, py, x, y) if py in ops.COMPARES else ops.binop(ctx, py, x, y)
            try:
                return py(x, y)
            except (ArithmeticError, TypeError, ValueError) as e:
                raise ctx.error(f"nl.{name}(): {e}") from None
        return binary(ctx, op, x, y, dtype=dtype, mask=mask, name=f"nl.{name}")
    impl.__doc__ = f"Element-wise ``{name}`` of two tiles, or a tile and a number ({op.name})."
    aliases = (NP + name,) if numpy else ()
    impl.__name__ = name
    return builtin(NL + name, *aliases, emits=("tensorTensor", "tensorScalar"), dialect=Dialect.both)(impl)


BINARY = {name: _binary_builtin(name, op, numpy, py) for name, (op, numpy, py) in _BINARY.items()}
"""The binary element-wise functions by name (``BINARY["add"]`` is ``nl.add``)."""


@builtin(NL + "negative", NP + "negative", emits=("tensorScalar",), dialect=Dialect.both)
def negative(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """Element-wise ``-x``."""
    if isinstance(x, Number):
        return ops.unop(ctx, "-", x)
    return unary_alu(ctx, AluOp.mult, x, -1, dtype=dtype, mask=mask, name="nl.negative")


@builtin(NL + "invert", NL + "bitwise_not", NP + "invert", emits=("tensorScalar",), dialect=Dialect.both)
def invert(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """Element-wise bitwise not of an integer tile."""
    if isinstance(x, int):
        return ops.unop(ctx, "~", x)
    return unary_alu(ctx, AluOp.bitwise_not, x, 0, dtype=dtype, mask=mask, name="nl.invert")


@builtin(NL + "logical_not", NP + "logical_not", emits=("tensorScalar",), dialect=Dialect.both)
def logical_not(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """Element-wise ``x == 0`` (1 or 0)."""
    if isinstance(x, Number):
        return not x
    return unary_alu(ctx, AluOp.is_equal, x, 0, dtype=dtype, mask=mask, name="nl.logical_not")


@builtin(NL + "floor", emits=("ncScalarTensorTensor",), dialect=Dialect.both)
def floor(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """Element-wise floor, in one instruction: ``x - (x mod 1)`` (Core's ``mod`` is floored, so
    ``x mod 1`` is in [0, 1)); integers are their own floor, and infinities give NaN."""
    src = tile_view(ctx, x, "the operand of nl.floor")
    pred = as_mask(ctx, mask)
    one = operators.imm(1, src.dtype)
    x_minus = operators.reverse_ops(False, True)   # src1 - (data mod 1)

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            s = src.box(box)
            operators.scalar_tensor_tensor(c, d, s, AluOp.mod, one, AluOp.subtract, s, x_minus)
        masked(c, dst, pred, body)
    out = src.dtype if dtype is None else dtype_of(ctx, dtype)
    return result(ctx, src.shape, out, body_fn, inputs=[src], par_axis=src.par_dim, elementwise=True,
                  mask=pred)


@isa("tensor_tensor",
     beta2=form("dst", "data1", "data2", "op", mask=None, engine=None, name=None),
     legacy=form("data1", "data2", "op", dtype=None, mask=None, engine=None),
     legacy_tensors=2, emits=("tensorTensor",))
def tensor_tensor(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Element-wise ``data1 op data2`` on a compute engine."""
    fn = "nisa.tensor_tensor"
    op = alu_of(ctx, a["op"])
    engine = engine_of(ctx, a["engine"])
    x = on_chip(ctx, view_arg(ctx, a["data1"], "data1"), "data1", fn)
    y = on_chip(ctx, view_arg(ctx, a["data2"], "data2"), "data2", fn)
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, x, "data1", fn)
        same_size(ctx, dst, y, "data2", fn)
        operators.tensor_tensor(ctx, dst, x, y, op, engine)
        return None
    return binary(ctx, op, a["data1"], a["data2"], dtype=a["dtype"], mask=a["mask"], name=fn, engine=engine)


@isa("tensor_scalar",
     beta2=form("dst", "data", "op0", "operand0", reverse0=False, op1=None, operand1=None, reverse1=False,
                mask=None, engine=None, name=None),
     legacy=form("data", "op0", "operand0", reverse0=False, op1=None, operand1=None, reverse1=False,
                 dtype=None, mask=None, engine=None),
     legacy_tensors=1, emits=("tensorScalar",))
def tensor_scalar(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``(data op0 operand0) op1 operand1``; operands are numbers or per-partition [P, 1] tiles."""
    fn = "nisa.tensor_scalar"
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    op0 = alu_of(ctx, a["op0"], "op0")
    s0 = scalar_operand(ctx, a["operand0"], data, "operand0", fn)
    op1 = None if a["op1"] is None else alu_of(ctx, a["op1"], "op1")
    s1 = None if op1 is None else scalar_operand(ctx, a["operand1"], data, "operand1", fn)
    r0 = bool_arg(ctx, a["reverse0"], "reverse0")
    r1 = bool_arg(ctx, a["reverse1"], "reverse1")
    engine = engine_of(ctx, a["engine"])
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, data, "data", fn)
        operators.tensor_scalar(ctx, dst, data, op0, s0, r0, op1, s1, r1, engine)
        return None
    pred = as_mask(ctx, a["mask"])
    default = data.dtype
    for s, v in ((s0, a["operand0"]), (s1, a["operand1"])):
        if isinstance(v, float) and default.is_int:
            default = Dtype.float32
        if isinstance(s, View):
            default = promote(default, s.dtype)

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            operators.tensor_scalar(c, d, data.box(box), op0, boxed(s0, box), r0, op1,
                                    None if s1 is None else boxed(s1, box), r1, engine)
        masked(c, dst, pred, body)
    inputs = [data] + [s for s in (s0, s1) if isinstance(s, View)]
    return result(ctx, data.shape, out_dtype(ctx, a, default), body_fn, inputs=inputs, par_axis=data.par_dim,
                  elementwise=True, mask=pred)


@isa("scalar_tensor_tensor",
     beta2=form("dst", "data", "op0", "operand0", "op1", "operand1", reverse0=False, reverse1=False,
                mask=None, name=None),
     legacy=form("data", "op0", "operand0", "op1", "operand1", reverse0=False, reverse1=False, dtype=None,
                 mask=None),
     legacy_tensors=1, emits=("ncScalarTensorTensor",))
def scalar_tensor_tensor(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``(data op0 operand0) op1 operand1``: operand0 a number or [P, 1] tile, operand1 a tile
    of data's shape."""
    fn = "nisa.scalar_tensor_tensor"
    no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    op0 = alu_of(ctx, a["op0"], "op0")
    op1 = alu_of(ctx, a["op1"], "op1")
    s0 = scalar_operand(ctx, a["operand0"], data, "operand0", fn)
    t1 = on_chip(ctx, view_arg(ctx, a["operand1"], "operand1"), "operand1", fn)
    same_size(ctx, data, t1, "operand1", fn)
    rev = operators.reverse_ops(bool_arg(ctx, a["reverse0"], "reverse0"),
                              bool_arg(ctx, a["reverse1"], "reverse1"))

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, data, "data", fn)
        operators.scalar_tensor_tensor(c, dst, data, op0, s0, op1, t1, rev)
    return into(ctx, a, dps, data.shape, data.dtype, [data, t1], write)


@isa("reciprocal",
     beta2=form("dst", "data", mask=None, name=None),
     legacy=form("data", dtype=None, mask=None),
     legacy_tensors=1, emits=("reciprocal",))
def reciprocal(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Element-wise ``1 / data`` on the vector engine."""
    fn = "nisa.reciprocal"
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, data, "data", fn)
        operators.reciprocal(ctx, dst, data)
        return None
    pred = as_mask(ctx, a["mask"])

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: operators.reciprocal(c, d, data.box(box)))
    return result(ctx, data.shape, out_dtype(ctx, a, data.dtype), body_fn, inputs=[data],
                  par_axis=data.par_dim, elementwise=True, mask=pred)
