"""The activation engine: element-wise functions (``nl.exp``, ``nl.tanh``... and their numpy
spellings), ``nl.cos``, ``nisa.activation``, ``nisa.activation_reduce``, ``nisa.activate2`` and
``nisa.exponential`` (a vector-engine instruction, grouped here with the functions it computes).

On plain Python numbers the ``nl`` functions compute at trace time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import (
    AccumCmd,
    ActivationFunc,
    AluOp,
    ImmFloat,
    Memory,
)
from klr.dtypes import Dtype
from klr.tracer import ops
from klr.tracer.nki import operators
from klr.tracer.nki.args import (
    Args,
    bool_arg,
    column_arg,
    float_operand,
    no_mask,
    on_chip,
    out_dtype,
    per_partition,
    reduce_cmd,
    same_size,
    scalar_operand,
    view_arg,
)
from klr.tracer.nki.consts import DTYPES, activation_of, alu_of, dtype_of
from klr.tracer.nki.dialects import form, isa
from klr.tracer.nki.emit import tile
from klr.tracer.nki.masks import as_mask, box_column, boxed, masked, rows_only
from klr.tracer.nki.operators import Scalar
from klr.tracer.nki.tensors import Number, TensorValue, binary, result, tile_view, unary_activation
from klr.tracer.nki.views import Box, View
from klr.tracer.registry import Dialect, builtin
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


NL = "nki.language."


NP = "numpy."


_ACTIVATIONS: dict[str, tuple[ActivationFunc, Callable[[float], float] | None]] = {
    "exp": (ActivationFunc.exp, math.exp),
    "log": (ActivationFunc.log, math.log),
    "tanh": (ActivationFunc.tanh, math.tanh),
    "sqrt": (ActivationFunc.sqrt, math.sqrt),
    "rsqrt": (ActivationFunc.rsqrt, lambda x: 1 / math.sqrt(x)),
    "sigmoid": (ActivationFunc.sigmoid, lambda x: 1 / (1 + math.exp(-x))),
    "relu": (ActivationFunc.relu, lambda x: max(x, 0)),
    "gelu": (ActivationFunc.gelu, None),
    "gelu_dx": (ActivationFunc.gelu_dx, None),
    "gelu_apprx_tanh": (ActivationFunc.gelu_apprx_tanh, None),
    "gelu_apprx_sigmoid": (ActivationFunc.gelu_apprx_sigmoid, None),
    "gelu_apprx_sigmoid_dx": (ActivationFunc.gelu_apprx_sigmoid_dx, None),
    "silu": (ActivationFunc.silu, None),
    "silu_dx": (ActivationFunc.silu_dx, None),
    "softplus": (ActivationFunc.softplus, None),
    "mish": (ActivationFunc.mish, None),
    "erf": (ActivationFunc.erf, math.erf),
    "erf_dx": (ActivationFunc.erf_dx, None),
    "sin": (ActivationFunc.sin, math.sin),
    "arctan": (ActivationFunc.arctan, math.atan),
    "sign": (ActivationFunc.sign, lambda x: (x > 0) - (x < 0)),
    "square": (ActivationFunc.square, lambda x: x * x),
    "reciprocal": (ActivationFunc.reciprocal, lambda x: 1 / x),
    "abs": (ActivationFunc.abs, abs),
}


_NUMPY_ACTIVATIONS = {"exp", "log", "tanh", "sqrt", "sin", "arctan", "sign", "square", "reciprocal", "abs"}


def _scalar(ctx: Ctx, name: str, fn: Callable[[float], float] | None, x: Value) -> Value:
    if fn is None:
        raise ctx.error(f"nl.{name} needs a tensor, not a number")
    if name == "square":    # the one whose result outgrows its argument
        return ops.binop(ctx, "*", x, x)
    try:
        return fn(x)
    except (ArithmeticError, ValueError) as e:
        raise ctx.error(f"nl.{name}(): {e}") from None


def _activation_builtin(name: str, func: ActivationFunc,
                        py: Callable[[float], float] | None) -> Callable[..., Value]:
    def impl(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
        if isinstance(x, Number):
            return _scalar(ctx, name, py, x)
        return unary_activation(ctx, func, x, dtype=dtype, mask=mask, name=f"nl.{name}")
    impl.__doc__ = f"Element-wise ``{name}`` of a tile on the activation engine."
    aliases = (NP + name,) if name in _NUMPY_ACTIVATIONS else ()
    impl.__name__ = name
    return builtin(NL + name, *aliases, emits=("ncActivate",), dialect=Dialect.both)(impl)


ACTIVATIONS = {name: _activation_builtin(name, func, py) for name, (func, py) in _ACTIVATIONS.items()}
"""The activation-engine functions by name (``ACTIVATIONS["exp"]`` is ``nl.exp``)."""


@builtin(NL + "cos", NP + "cos", emits=("tensorScalar", "ncActivate"), dialect=Dialect.both)
def cos(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """Element-wise cosine, as ``sin(x + pi/2)``."""
    if isinstance(x, Number):
        return math.cos(x)
    src = tile_view(ctx, x, "the operand of nl.cos")
    out_dt = dtype_of(ctx, dtype) if dtype is not None else src.dtype
    pred = as_mask(ctx, mask)

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            shifted = tile(c, d.shape, Dtype.float32, Memory.sbuf, par_axis=d.par_dim)
            operators.tensor_scalar(c, shifted, src.box(box), AluOp.add, ImmFloat(math.pi / 2))
            operators.activation(c, d, shifted, ActivationFunc.sin)
        masked(c, dst, pred, body)
    return result(ctx, src.shape, out_dt, fn, inputs=[src], par_axis=src.par_dim, elementwise=True, mask=pred)


@builtin(NL + "tan", NP + "tan", emits=("tensorScalar", "ncActivate", "tensorTensor"), dialect=Dialect.both)
def tan(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """Element-wise tangent, as ``sin(x) / cos(x)`` computed in float32."""
    if isinstance(x, Number):
        return _scalar(ctx, "tan", math.tan, x)
    src = tile_view(ctx, x, "the operand of nl.tan")
    f32 = DTYPES[Dtype.float32]
    sin = unary_activation(ctx, ActivationFunc.sin, x, dtype=f32, mask=mask, name="nl.tan")
    return binary(ctx, AluOp.divide, sin, cos(ctx, x, dtype=f32, mask=mask),
                  dtype=dtype if dtype is not None else DTYPES[src.dtype], mask=mask, name="nl.tan")


def _act_operands(ctx: Ctx, a: Args, data: View,
                  fn: str) -> tuple[Scalar, View | None, AluOp | None, View | None]:
    scale = a["scale"]
    if isinstance(scale, Number):
        sc: Scalar = ImmFloat(float(scale))
    else:
        sc = scalar_operand(ctx, scale, data, "scale", fn)
    bias = None
    if a["bias"] is not None:
        bias = on_chip(ctx, view_arg(ctx, a["bias"], "bias"), "bias", fn)
        per_partition(ctx, bias, data, "bias", fn)
    rop = None if a.get("reduce_op") is None else alu_of(ctx, a["reduce_op"], "reduce_op")
    rres = None if a.get("reduce_res") is None else view_arg(ctx, a["reduce_res"], "reduce_res")
    return sc, bias, rop, rres


@isa("activation",
     beta2=form("dst", "op", "data", bias=None, scale=1.0, reduce_op=None, reduce_res=None, reduce_cmd=None,
                mask=None, name=None),
     legacy=form("op", "data", bias=None, scale=1.0, mask=None, dtype=None, reduce_op=None, reduce_res=None,
                 reduce_cmd=None),
     legacy_tensors=0, emits=("ncActivate",))
def activation(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``op(data * scale + bias)`` on the activation engine; optionally also reduces each
    partition's results into ``reduce_res``."""
    fn = "nisa.activation"
    func = activation_of(ctx, a["op"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    sc, bias, rop, rres = _act_operands(ctx, a, data, fn)
    cmd = reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.Idle)
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, data, "data", fn)
        operators.activation(ctx, dst, data, func, scale=sc, bias=bias, reduce_op=rop, reduce_res=rres,
                           accumulate=cmd)
        return None
    pred = as_mask(ctx, a["mask"])
    if rres is not None:
        rows_only(ctx, pred, data, fn, "with reduce_res")

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            operators.activation(c, d, data.box(box), func, scale=boxed(sc, box),
                               bias=None if bias is None else box_column(bias, box), reduce_op=rop,
                               reduce_res=None if rres is None else box_column(rres, box), accumulate=cmd)
        masked(c, dst, pred, body)
    return result(ctx, data.shape, out_dtype(ctx, a, data.dtype), body_fn, inputs=[data],
                  par_axis=data.par_dim, elementwise=rres is None, mask=pred)


@isa("activation_reduce",
     beta2=form("dst", "op", "data", reduce_op=None, reduce_res=None, bias=None, scale=1.0, mask=None,
                name=None),
     legacy=form("op", "data", reduce_op=None, reduce_res=None, bias=None, scale=1.0, mask=None, dtype=None),
     legacy_tensors=0, emits=("activationReduce",))
def activation_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``op(data * scale + bias)``, reducing each partition's results with ``reduce_op`` into
    ``reduce_res``."""
    fn = "nisa.activation_reduce"
    if dps:
        no_mask(ctx, a, fn)
    func = activation_of(ctx, a["op"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    if isinstance(a["scale"], TensorValue):
        raise ctx.error(f"{fn}: scale can't be specified as tensor")
    sc, bias, rop, rres = _act_operands(ctx, a, data, fn)
    pred = None if dps else as_mask(ctx, a["mask"])
    rows_only(ctx, pred, data, fn, "with reduce_res")

    def emit_into(c: Ctx, dst: View) -> None:
        def body(d: View, box: Box) -> None:
            operators.activation(c, d, data.box(box), func, scale=sc,
                               bias=None if bias is None else box_column(bias, box), reduce_op=rop,
                               reduce_res=None if rres is None else box_column(rres, box),
                               accumulate=AccumCmd.ZeroAccumulate, reduce=True)
        masked(c, dst, pred, body)
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, data, "data", fn)
        emit_into(ctx, dst)
        return None
    return result(ctx, data.shape, out_dtype(ctx, a, data.dtype), lambda c, d, acc: emit_into(c, d),
                  inputs=[data], par_axis=data.par_dim, mask=pred)


@isa("exponential",
     beta2=form("dst", "src", max_value=0.0, reduce_res=None, reduce_cmd=None, reduce_init=0.0, name=None),
     emits=("exponential",))
def exponential(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``exp(src - max_value)`` on the vector engine (``max_value`` a number or a [P, 1] tile);
    with ``reduce_cmd`` (default idle) each partition's sum also goes to the vector engine's
    accumulator, and ``reduce_res`` [P, 1] receives it (``load_reduce`` starts from
    ``reduce_init``)."""
    fn = "nisa.exponential"
    src = on_chip(ctx, view_arg(ctx, a["src"], "src"), "src", fn)
    dst = on_chip(ctx, view_arg(ctx, a["dst"], "dst"), "dst", fn)
    same_size(ctx, dst, src, "src", fn)
    top = float_operand(ctx, a["max_value"], src, "max_value", fn)
    init = float_operand(ctx, a["reduce_init"], src, "reduce_init", fn)
    res = None if a["reduce_res"] is None else column_arg(ctx, a["reduce_res"], src, "reduce_res", fn)
    cmd = reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.Idle)
    operators.exponential(ctx, dst, src, top, res, cmd, init)
    return None


@isa("activate2",
     beta2=form("dst", "op", "data", "imm0", "imm1", "op0", "op1", relu_param=0.0, reverse0=False,
                reverse1=False, reduce_op=None, reduce_res=None, reduce_cmd=None, name=None),
     emits=("activate2",))
def activate2(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``op((data op0 imm0) op1 imm1)`` on the activation engine (``nl.bypass`` skips a stage,
    ``reverse0``/``reverse1`` swap a stage's operands; ``relu_param`` is the slope of
    parameterised activations); with ``reduce_op`` and ``reduce_cmd`` each partition's results
    are reduced into the activation engine's accumulator, which ``reduce_res`` [P, 1] receives."""
    fn = "nisa.activate2"
    func = activation_of(ctx, a["op"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    dst = on_chip(ctx, view_arg(ctx, a["dst"], "dst"), "dst", fn)
    same_size(ctx, dst, data, "data", fn)
    stages = operators.Stages(
        alu_of(ctx, a["op0"], "op0"), float_operand(ctx, a["imm0"], data, "imm0", fn),
        alu_of(ctx, a["op1"], "op1"), float_operand(ctx, a["imm1"], data, "imm1", fn),
        bool_arg(ctx, a["reverse0"], "reverse0"), bool_arg(ctx, a["reverse1"], "reverse1"))
    relu = float_operand(ctx, a["relu_param"], data, "relu_param", fn)
    rop = AluOp.bypass if a["reduce_op"] is None else alu_of(ctx, a["reduce_op"], "reduce_op")
    res = None if a["reduce_res"] is None else column_arg(ctx, a["reduce_res"], data, "reduce_res", fn)
    cmd = reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.Idle)
    operators.activate2(ctx, dst, data, func, stages, relu, rop, res, cmd)
    return None
