"""``nki.language`` computation: element-wise math, casts, reductions, matmul and transpose.

Every function returns a new tile (see ``klr.tracer.nki.arith``). Binary functions
(``nl.add``) take tiles and numbers and become ``tensorTensor``/``tensorScalar``; unary
functions with an activation-engine counterpart (``nl.exp``) become ``ncActivate``. The numpy
spellings (``np.add``, ``np.exp``, ``np.max``...) are aliases, so they work both as ``op=``
values of ISA calls and as calls; on plain Python numbers they compute at trace time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from klr.core import ActivationFunc, AluOp, ImmFloat, Memory
from klr.dtypes import Dtype
from klr.tracer import ops
from klr.tracer.nki import isa_ops
from klr.tracer.nki.arith import (
    LoopReduced,
    Number,
    binary,
    broadcast_to,
    result,
    tile_view,
    unary_activation,
    unary_alu,
)
from klr.tracer.nki.consts import PMAX, PSUM_BANK_BYTES, alu_of, dtype_of
from klr.tracer.nki.emit import taint, tile
from klr.tracer.nki.masks import as_mask, masked, region
from klr.tracer.nki.state import state
from klr.tracer.nki.tensors import Tile
from klr.tracer.nki.views import Box, View, permute_view
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

NL = "nki.language."
NP = "numpy."

# --- binary ---------------------------------------------------------------------------------

# name -> (ALU op, numpy alias?, on two numbers: the Python operator klr applies, or a function
# whose work and result are bounded by its operands' sizes)
_BINARY: dict[str, tuple[AluOp, bool, str | Callable[[Any, Any], Any] | None]] = {
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


def _binary_builtin(name: str, op: AluOp, numpy: bool, py: str | Callable[[Any, Any], Any] | None) -> None:
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
    builtin(NL + name, *aliases, emits=("tensorTensor", "tensorScalar"), dialect=Dialect.both)(impl)


for _name, (_op, _np, _py) in _BINARY.items():
    _binary_builtin(_name, _op, _np, _py)

# --- unary ----------------------------------------------------------------------------------

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


def _activation_builtin(name: str, func: ActivationFunc, py: Callable[[float], float] | None) -> None:
    def impl(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
        if isinstance(x, Number):
            return _scalar(ctx, name, py, x)
        return unary_activation(ctx, func, x, dtype=dtype, mask=mask, name=f"nl.{name}")
    impl.__doc__ = f"Element-wise ``{name}`` of a tile on the activation engine."
    aliases = (NP + name,) if name in _NUMPY_ACTIVATIONS else ()
    builtin(NL + name, *aliases, emits=("ncActivate",), dialect=Dialect.both)(impl)


for _act, (_func, _fn) in _ACTIVATIONS.items():
    _activation_builtin(_act, _func, _fn)


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
            isa_ops.tensor_scalar(c, shifted, src.box(box), AluOp.add, ImmFloat(math.pi / 2))
            isa_ops.activation(c, d, shifted, ActivationFunc.sin)
        masked(c, dst, pred, body)
    return result(ctx, src.shape, out_dt, fn, inputs=[src], par_axis=src.par_dim, elementwise=True, mask=pred)


def _copy(ctx: Ctx, x: Value, dtype: Value, mask: Value, name: str) -> Value:
    src = tile_view(ctx, x, f"the operand of {name}")
    if src.buf.memory.is_hbm:
        raise ctx.error(f"{name} cannot read the HBM tensor '{src.tensor.name}'; use nl.load")
    out_dt = dtype_of(ctx, dtype) if dtype is not None else src.dtype
    pred = as_mask(ctx, mask)

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: isa_ops.tensor_copy(c, d, src.box(box), d.dtype))
    return result(ctx, src.shape, out_dt, fn, inputs=[src], par_axis=src.par_dim, elementwise=True, mask=pred)


@builtin(NL + "copy", emits=("ncCopy",), dialect=Dialect.both)
def copy(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """A copy of a tile in SBUF (cast to ``dtype`` when given)."""
    return _copy(ctx, x, dtype, mask, "nl.copy")


@builtin(NL + "static_cast", emits=("ncCopy",), dialect=Dialect.legacy)
def static_cast(ctx: Ctx, x: Value, dtype: Value, *, mask: Value = None) -> Value:
    """A copy of a tile converted to ``dtype``."""
    return _copy(ctx, x, dtype, mask, "nl.static_cast")


@builtin(NL + "broadcast_to", dialect=Dialect.both, emits=("ncCopy", "ncDmaCopy"))
def broadcast_to_(ctx: Ctx, x: Value, shape: Value, dtype: Value = None) -> Value:
    """A new tile of ``shape`` holding ``x`` stretched along its size-1 dimensions."""
    if not isinstance(x, Tile):
        raise ctx.error(f"nl.broadcast_to needs a tensor, not {type_name(x)}")
    return broadcast_to(ctx, x, shape, dtype)


@builtin(NL + "where", NP + "where", emits=("ncCopy", "memSet", "copyPredicated"), dialect=Dialect.both)
def where(ctx: Ctx, condition: Value, x: Value, y: Value, *, dtype: Value = None,
          mask: Value = None) -> Value:
    """Element-wise ``x`` where ``condition`` is non-zero, else ``y`` (tiles or numbers)."""
    cond = tile_view(ctx, condition, "the condition of nl.where")
    shape = cond.shape
    for v in (x, y):
        if isinstance(v, Tile) and v.shape != shape:
            raise ctx.error(f"nl.where operands must have the condition's shape {list(shape)}, "
                            f"not {list(v.shape)}")
        if not isinstance(v, (Tile, *Number)):
            raise ctx.error(f"nl.where takes tiles or numbers, not {type_name(v)}")
    if dtype is not None:
        out_dt = dtype_of(ctx, dtype)
    else:
        out_dt = next((v.dtype for v in (x, y) if isinstance(v, Tile)), Dtype.float32)
    pred = as_mask(ctx, mask)

    def put(c: Ctx, d: View, v: Value, box: Box) -> View:
        if isinstance(v, Tile):
            return v.view.box(box)
        t = tile(c, d.shape, d.dtype, Memory.sbuf, par_axis=d.par_dim)
        isa_ops.memset(c, t, isa_ops.imm(v, d.dtype))
        return t

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            if isinstance(y, Tile):
                isa_ops.tensor_copy(c, d, y.view.box(box), d.dtype)
            else:
                isa_ops.memset(c, d, isa_ops.imm(y, d.dtype))
            isa_ops.copy_predicated(c, d, put(c, d, x, box), cond.box(box))
        masked(c, dst, pred, body)
    inputs = [cond] + [v.view for v in (x, y) if isinstance(v, Tile)]
    return result(ctx, shape, out_dt, fn, inputs=inputs, par_axis=cond.par_dim, elementwise=True, mask=pred)


# --- reductions -----------------------------------------------------------------------------


def _axes(ctx: Ctx, axis: Value, rank: int, name: str) -> tuple[int, ...]:
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int) or not -rank <= a < rank:
            raise ctx.error(f"{name} axis {describe(a)} is out of range for a tile of rank {rank}")
        out.append(a % rank)
    return tuple(sorted(set(out)))


def reduce(ctx: Ctx, op: AluOp, x: Value, axis: Value, *, dtype: Value = None, keepdims: bool = False,
           mask: Value = None, negate: bool = False, scale: float | None = None, name: str) -> Value:
    """Reduce the free axes ``axis`` of a tile with ``op``."""
    src = tile_view(ctx, x, f"the operand of {name}")
    axes = _axes(ctx, axis, src.rank, name)
    par = src.par_dim
    if par is not None and par in axes:
        raise ctx.error(f"{name} cannot reduce axis {par}, the partition axis; reduce the free axes")
    if len(axes) > 4:
        raise ctx.error(f"{name} can reduce at most 4 axes, not axis={describe(axis)}")
    # the engine reduces the innermost axes of its access pattern: walk the reduced axes last
    order = tuple(i for i in range(src.rank) if i not in axes) + axes
    kept = tuple(1 if i in axes else n for i, n in enumerate(src.shape)) if keepdims \
        else tuple(n for i, n in enumerate(src.shape) if i not in axes)
    out_dt = dtype_of(ctx, dtype) if dtype is not None else src.dtype
    pred = as_mask(ctx, mask)
    box, rest = region(ctx, pred, src.shape)
    if rest or (box is not None and any(box[i] != (0, src.shape[i]) for i in axes)):
        raise ctx.error(f"a mask of {name} can only restrict the axes that are not reduced")

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        if box is None:
            return
        if keepdims:
            kept_box = tuple((0, 1) if i in axes else b for i, b in enumerate(box))
        else:
            kept_box = tuple(b for i, b in enumerate(box) if i not in axes) or ((0, 1),)
        d = dst.box(kept_box)
        part = src.box(box)
        if order != tuple(range(src.rank)):
            part = permute_view(part, order)
        isa_ops.tensor_reduce(c, d, part, op, len(axes), negate=negate, keepdims=keepdims)
        if scale is not None:
            isa_ops.tensor_scalar(c, d, d, AluOp.mult, ImmFloat(scale))
    return result(ctx, kept or (1,), out_dt, fn, inputs=[src], par_axis=par)


def _reduction_builtin(name: str, op: AluOp, numpy: bool, *, mean: bool = False,
                       py: Callable[[Any], Any] | None = None) -> None:
    def impl(ctx: Ctx, x: Value, axis: Value = None, *, dtype: Value = None, keepdims: bool = False,
             mask: Value = None) -> Value:
        if isinstance(x, (tuple, list)) and py is not None and axis is None:
            return py(x)
        if axis is None:
            raise ctx.error(f"nl.{name} needs axis= (the free axes to reduce)")
        scale = None
        if mean:
            src = tile_view(ctx, x, f"the operand of nl.{name}")
            count = 1
            for a in _axes(ctx, axis, src.rank, f"nl.{name}"):
                count *= src.shape[a]
            scale = 1.0 / count
        return reduce(ctx, op, x, axis, dtype=dtype, keepdims=keepdims, mask=mask, scale=scale,
                      name=f"nl.{name}")
    impl.__doc__ = f"``{name}`` over the free axes ``axis`` of a tile (tensorReduce)."
    aliases = (NP + name,) if numpy else ()
    builtin(NL + name, *aliases, emits=("tensorReduce",) + (("tensorScalar",) if mean else ()),
            dialect=Dialect.both)(impl)


_reduction_builtin("sum", AluOp.add, True, py=sum)
_reduction_builtin("max", AluOp.max, True, py=max)
_reduction_builtin("min", AluOp.min, True, py=min)
_reduction_builtin("prod", AluOp.mult, True, py=math.prod)
_reduction_builtin("mean", AluOp.add, True, mean=True, py=lambda xs: sum(xs) / len(xs))
_reduction_builtin("all", AluOp.logical_and, False)


# --- transpose and matmul -------------------------------------------------------------------


def identity(ctx: Ctx, dtype: Dtype) -> View:
    """A 128x128 identity in SBUF (one per block and dtype): memSet 0, then an affine select
    that writes 1.0 where the free index equals the partition index."""
    st = state(ctx)
    key = (ctx.label, dtype)
    got = st.identities.get(key)
    if got is None:
        taint(ctx)
        got = tile(ctx, (PMAX, PMAX), dtype, Memory.sbuf, hint="identity")
        isa_ops.memset(ctx, got, ImmFloat(0.0))
        pattern = isa_ops.data_pattern(0, -1, [(1, PMAX)])
        isa_ops.affine_select(ctx, got, pattern, got, ImmFloat(1.0), AluOp.not_equal)
        st.identities[key] = got
    return got


def pe_transpose(ctx: Ctx, dst: View, src: View) -> None:
    """dst[F, P] = src[P, F]^T on the PE array: a matmul against the identity."""
    eye = identity(ctx, src.dtype)
    parts = src.partitions
    isa_ops.matmul(ctx, dst, eye.box(((0, parts), (0, parts))), src, stationary_onezero=True, transpose=True)


def check_transpose(ctx: Ctx, src: View, name: str) -> tuple[int, int]:
    if src.rank != 2 or src.par_dim != 0:
        raise ctx.error(f"{name} needs a 2-D [partition, free] tile, not {list(src.shape)}")
    p, f = src.shape
    if f > PMAX:
        raise ctx.error(f"{name} of a {[p, f]} tile: the free size {f} exceeds {PMAX}")
    return p, f


@builtin(NL + "transpose", emits=("memSet", "ncAffineSelect", "ncMatMul"), dialect=Dialect.both)
def transpose(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """The 2-D tile ``x`` with its partition and free axes swapped, in PSUM (PE transpose)."""
    src = tile_view(ctx, x, "the operand of nl.transpose")
    p, f = check_transpose(ctx, src, "nl.transpose")
    if mask is not None:
        raise ctx.error("nl.transpose does not take a mask")
    out_dt = dtype_of(ctx, dtype) if dtype is not None else src.dtype
    return result(ctx, (f, p), out_dt, lambda c, d, acc: pe_transpose(c, d, src), inputs=[src],
                  memory=Memory.psum, memories=(Memory.psum,))


def matmul_checks(ctx: Ctx, dst_shape: tuple[int, int], stationary: View, moving: View, name: str) -> None:
    if stationary.rank != 2 or moving.rank != 2:
        raise ctx.error(f"{name} needs 2-D tiles, not {list(stationary.shape)} and {list(moving.shape)}")
    k, m = stationary.shape
    k2, n = moving.shape
    if k != k2:
        raise ctx.error(f"{name}: the contraction sizes differ: stationary {list(stationary.shape)}, "
                        f"moving {list(moving.shape)}")
    if m > PMAX:
        raise ctx.error(f"{name}: the stationary free size {m} exceeds {PMAX}")
    if n * 4 > PSUM_BANK_BYTES:
        raise ctx.error(f"{name}: the moving free size {n} exceeds {PSUM_BANK_BYTES // 4} (one PSUM bank)")
    for v, what in ((stationary, "stationary"), (moving, "moving")):
        if v.buf.memory is not Memory.sbuf:
            raise ctx.error(f"{name}: the {what} operand must be in SBUF, not {v.buf.memory.name}")


def matmul_producer(stationary: View, moving: View, pre: Callable[[Ctx], View] | None = None,
                    **flags: Any) -> Callable[[Ctx, View, bool], None]:
    """memSet 0 then ncMatMul into dst; only the matmul when accumulating."""
    def fn(c: Ctx, dst: View, acc: bool) -> None:
        st = pre(c) if pre is not None else stationary
        if not acc:
            isa_ops.memset(c, dst, ImmFloat(0.0))
        isa_ops.matmul(c, dst, st, moving, **flags)
    return fn


def _in_sbuf(ctx: Ctx, v: View) -> View:
    """An operand of the PE array: a PSUM tile (the result of nl.transpose or nl.matmul) is
    copied to SBUF first, as the compiler would."""
    if v.buf.memory is not Memory.psum:
        return v
    copied = tile(ctx, v.shape, v.dtype, Memory.sbuf, par_axis=v.par_dim)
    isa_ops.tensor_copy(ctx, copied, v, v.dtype)
    return copied


@builtin(NL + "matmul", emits=("memSet", "ncMatMul"), dialect=Dialect.both)
def matmul(ctx: Ctx, x: Value, y: Value, *, transpose_x: bool = False, mask: Value = None) -> Value:
    """``x @ y`` (``x.T @ y`` with ``transpose_x``) into a new fp32 PSUM tile."""
    xv = _in_sbuf(ctx, tile_view(ctx, x, "x of nl.matmul"))
    yv = _in_sbuf(ctx, tile_view(ctx, y, "y of nl.matmul"))
    if mask is not None:
        raise ctx.error("nl.matmul does not take a mask")
    pre = None
    if transpose_x:
        stationary = xv
    else:
        p, f = check_transpose(ctx, xv, "nl.matmul")
        stationary = View(xv.buf, 0, (p, 1), (f, p), (0, 1), 0)   # shape only, for the checks

        def pre(c: Ctx) -> View:
            t_psum = tile(c, (f, p), xv.dtype, Memory.psum)
            pe_transpose(c, t_psum, xv)
            t_sbuf = tile(c, (f, p), xv.dtype, Memory.sbuf)
            isa_ops.tensor_copy(c, t_sbuf, t_psum, xv.dtype)
            return t_sbuf
    matmul_checks(ctx, (0, 0), stationary, yv, "nl.matmul")
    m, n = stationary.shape[1], yv.shape[1]
    fn = matmul_producer(xv, yv, pre)
    return result(ctx, (m, n), Dtype.float32, fn, inputs=[xv, yv], memory=Memory.psum,
                  accumulates=True, memories=(Memory.psum,))


@builtin(NL + "loop_reduce", emits=("tensorTensor",), dialect=Dialect.legacy)
def loop_reduce(ctx: Ctx, x: Value, op: Value, loop_indices: Value, *, dtype: Value = None,
                mask: Value = None) -> Value:
    """``x`` combined into the tile it is assigned to: ``acc[...] = nl.loop_reduce(x, op=np.add,
    loop_indices=(i,))`` is ``acc = acc op x`` (each iteration of the loops named adds one term)."""
    src = tile_view(ctx, x, "the operand of nl.loop_reduce")
    if as_mask(ctx, mask) is not None:
        raise ctx.error("nl.loop_reduce does not take an index mask")
    if dtype is not None:
        dtype_of(ctx, dtype)  # the destination's dtype decides the result's
    return LoopReduced(src, alu_of(ctx, op))
