"""Element-wise arithmetic on the vector and GpSimd engines: ``nl.add`` and the other binary
functions (with their numpy spellings), ``nl.negative``, ``nl.invert``, ``nl.logical_not``,
``nl.fmod``, ``nl.floor``/``ceil``/``trunc``, ``nisa.tensor_tensor``, ``nisa.tensor_scalar``,
``nisa.scalar_tensor_tensor`` and ``nisa.reciprocal``.

Binary functions take tiles and numbers and become ``tensorTensor``/``tensorScalar``; the
numpy spellings (``np.add``...) are aliases, so they work both as ``op=`` values of ISA calls
and as calls; on plain Python numbers they compute at trace time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import (
    ActivationFunc,
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
from klr.tracer.nki.consts import DTYPES, alu_of, dtype_of, engine_of
from klr.tracer.nki.dialects import form, into, isa
from klr.tracer.nki.masks import as_mask, boxed, masked
from klr.tracer.nki.promotion import promote, result_dtype, scalar_result_dtype
from klr.tracer.nki.tensors import Number, TensorValue, binary, result, tile_view, unary_activation, unary_alu
from klr.tracer.nki.views import Box, View
from klr.tracer.registry import Dialect, builtin
from klr.tracer.values import Value, type_name

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


def _default_dtype(ctx: Ctx, op: AluOp, x: Value, y: Value, name: str) -> Dtype:
    """The dtype ``binary`` gives ``x op y`` (tiles and/or numbers)."""
    for v, what in ((x, "first"), (y, "second")):
        if not isinstance(v, (TensorValue, *Number)):
            raise ctx.error(f"the {what} operand of {name} must be a tensor or a number, not {type_name(v)}")
    if isinstance(x, TensorValue) and isinstance(y, TensorValue):
        return result_dtype(ctx, op, x.dtype, y.dtype)
    t, v = (x, y) if isinstance(x, TensorValue) else (y, x)
    if not isinstance(t, TensorValue):
        raise ctx.error(f"{name} needs at least one tensor operand")
    return scalar_result_dtype(ctx, op, t.dtype, v)


def _abs(ctx: Ctx, v: Value, work: Value, mask: Value, name: str) -> Value:
    return unary_alu(ctx, AluOp.abs, v, 0, dtype=work, mask=mask, name=name) if isinstance(v, TensorValue) \
        else abs(v)


def truncated_mod(ctx: Ctx, x: Value, y: Value, *, dtype: Value, mask: Value, name: str) -> Value:
    """``sign(x) * (|x| mod |y|)``: the remainder of the truncated division (numpy.fmod), since
    Core's ``mod`` is floored. It is computed in float32 (int32 for integers) and written as
    ``dtype`` or ``nl.mod``'s default dtype."""
    out_dt = dtype_of(ctx, dtype) if dtype is not None else _default_dtype(ctx, AluOp.mod, x, y, name)
    work = DTYPES[Dtype.float32 if out_dt.is_float else out_dt if out_dt.size >= 4 else Dtype.int32]
    r = binary(ctx, AluOp.mod, _abs(ctx, x, work, mask, name), _abs(ctx, y, work, mask, name), dtype=work,
               mask=mask, name=name)
    if isinstance(x, TensorValue):
        sign: Value = unary_activation(ctx, ActivationFunc.sign, x, dtype=work, mask=mask, name=name)
    else:
        sign = (x > 0) - (x < 0)
    return binary(ctx, AluOp.mult, r, sign, dtype=DTYPES[out_dt], mask=mask, name=name)


@builtin(NL + "fmod", NP + "fmod", emits=("tensorScalar", "tensorTensor", "ncActivate"), dialect=Dialect.both)
def fmod(ctx: Ctx, x: Value, y: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """Element-wise remainder of ``x / y`` rounded toward zero: the sign of ``x`` (numpy.fmod)."""
    if isinstance(x, Number) and isinstance(y, Number):
        try:
            return math.fmod(x, y)
        except (ArithmeticError, ValueError) as e:
            raise ctx.error(f"nl.fmod(): {e}") from None
    return truncated_mod(ctx, x, y, dtype=dtype, mask=mask, name="nl.fmod")


def _integral_number(fn: Callable[[float], int], x: float | int | bool) -> float | int:
    if isinstance(x, float):
        return float(fn(x)) if math.isfinite(x) else x
    return int(x)


def _floor_or_ceil(ctx: Ctx, src: View, divisor: int, dtype: Value, mask: Value) -> Value:
    """``x - (x mod divisor)`` in one instruction: Core's ``mod`` is floored, so ``x mod 1`` is
    in [0, 1) (floor) and ``x mod -1`` in (-1, 0] (ceiling); integers compute exactly and are
    unchanged, infinities give NaN."""
    pred = as_mask(ctx, mask)
    d = operators.imm(divisor, src.dtype)
    x_minus = operators.reverse_ops(False, True)   # src1 - (data mod d)

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(dv: View, box: Box) -> None:
            s = src.box(box)
            operators.scalar_tensor_tensor(c, dv, s, AluOp.mod, d, AluOp.subtract, s, x_minus)
        masked(c, dst, pred, body)
    out = src.dtype if dtype is None else dtype_of(ctx, dtype)
    return result(ctx, src.shape, out, body_fn, inputs=[src], par_axis=src.par_dim, elementwise=True,
                  mask=pred)


def _rounding_builtin(name: str, py: Callable[[float], int], doc: str) -> Callable[..., Value]:
    def impl(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
        fn = f"nl.{name}"
        if isinstance(x, Number):
            return _integral_number(py, x)
        src = tile_view(ctx, x, f"the operand of {fn}")
        if name != "trunc":
            return _floor_or_ceil(ctx, src, 1 if name == "floor" else -1, dtype, mask)
        out = dtype if dtype is not None else DTYPES[src.dtype]
        if src.dtype.is_int:  # integers are their own truncation
            return binary(ctx, AluOp.add, x, 0, dtype=out, mask=mask, name=fn)
        frac = truncated_mod(ctx, x, 1.0, dtype=DTYPES[Dtype.float32], mask=mask, name=fn)
        return binary(ctx, AluOp.subtract, x, frac, dtype=out, mask=mask, name=fn)
    impl.__doc__ = doc
    impl.__name__ = name
    emits = ("tensorScalar", "tensorTensor", "ncActivate") if name == "trunc" else ("ncScalarTensorTensor",)
    return builtin(NL + name, NP + name, emits=emits, dialect=Dialect.both)(impl)


floor = _rounding_builtin("floor", math.floor, "Element-wise largest integer not above ``x`` (numpy.floor).")


ceil = _rounding_builtin("ceil", math.ceil, "Element-wise smallest integer not below ``x`` (numpy.ceil).")


trunc = _rounding_builtin("trunc", math.trunc, "Element-wise ``x`` rounded toward zero (numpy.trunc).")


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
            default = promote(ctx, default, s.dtype)

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
    if dps:
        no_mask(ctx, a, fn)
    pred = None if dps else as_mask(ctx, a["mask"])
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

        def body(d: View, box: Box) -> None:
            operators.scalar_tensor_tensor(c, d, data.box(box), op0, boxed(s0, box), op1, t1.box(box), rev)
        masked(c, dst, pred, body)
    return into(ctx, a, dps, data.shape, data.dtype, [data, t1], write, par_axis=data.par_dim, mask=pred)


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
