"""One function per Core operator the NKI layer emits, taking views.

These are the only places that build operator payloads, each with keyword arguments. Operands
are lowered together by ``emit.refs`` (so they agree on their leading dimension); ``dtype``
fields carry the destination's dtype, as the reference's builtins do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.core import (
    AccumCmd,
    ActivationFunc,
    AluOp,
    APPair,
    CopyPredicated,
    DataPattern,
    DgeComputeOp,
    DmaError,
    DmaSkip,
    Engine,
    Immediate,
    ImmFloat,
    ImmInt,
    Iota,
    MatmulPerfMode,
    MemSet,
    NcActivate,
    NcAffineSelect,
    NcCopy,
    NcDmaCopy,
    NcMatMul,
    Reciprocal,
    TensorReduce,
    TensorScalar,
    TensorScalarReverseOps,
    TensorSubDim,
    TensorTensor,
    Transpose,
)
from klr.dtypes import Dtype
from klr.errors import TraceError
from klr.tracer.nki.emit import emit, ref, refs
from klr.tracer.nki.index import Affine
from klr.tracer.nki.views import Box, View

if TYPE_CHECKING:
    from klr.core import Immediate
    from klr.tracer.context import Ctx


SUB_DIMS = (TensorSubDim.X, TensorSubDim.XY, TensorSubDim.XYZ, TensorSubDim.XYZW)


def imm(value: float | int | bool, dtype: Dtype | None = None) -> Immediate:
    """The immediate for a Python number (an int stays an int for integer tensors)."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int) and (dtype is None or dtype.is_int) and -2**31 <= value < 2**31:
        return ImmInt(value)
    try:
        return ImmFloat(float(value))
    except OverflowError:
        raise TraceError(f"the integer operand of {int(value).bit_length()} bits is too large for a "
                         "float") from None


def operand(ctx: Ctx, s: object) -> object:
    """The Core operand of an Immediate or a [P, 1] view."""
    return ref(ctx, s) if isinstance(s, View) else s


def reverse_ops(reverse0: bool, reverse1: bool) -> TensorScalarReverseOps:
    return (TensorScalarReverseOps.none, TensorScalarReverseOps.first,
            TensorScalarReverseOps.second, TensorScalarReverseOps.both)[int(reverse0) + 2 * int(reverse1)]


def dma(ctx: Ctx, dst: View, src: View, *, accumulate: bool = False, oob_skip: bool = False,
        dge_mode: int = 0, unique_indices: bool = False, priority: int | None = None,
        engine: Engine = Engine.unassigned) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, NcDmaCopy(d, s, DgeComputeOp.add if accumulate else DgeComputeOp.none,
                        DmaSkip() if oob_skip else DmaError(), dge_mode, unique_indices, priority, engine),
         [dst])


def tensor_copy(ctx: Ctx, dst: View, src: View, dtype: Dtype | None = None,
                engine: Engine = Engine.unassigned) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, NcCopy(d, s, dtype, engine), [dst])


def tensor_tensor(ctx: Ctx, dst: View, a: View, b: View, op: AluOp,
                  engine: Engine = Engine.unassigned) -> None:
    d, (x, y) = refs(ctx, dst, [a, b])
    emit(ctx, TensorTensor(d, x, y, op, dst.dtype, engine), [dst])


def tensor_scalar(ctx: Ctx, dst: View, src: View, op0: AluOp, s0: object, reverse0: bool = False,
                  op1: AluOp | None = None, s1: object = None, reverse1: bool = False,
                  engine: Engine = Engine.unassigned) -> None:
    """dst = (src op0 s0) op1 s1; each s is an Immediate or a [P, 1] view."""
    o0 = operand(ctx, s0)
    o1 = None if op1 is None else operand(ctx, s1)
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, TensorScalar(d, x, o0, op0, o1, op1, reverse_ops(reverse0, reverse1), engine, dst.dtype),  # type: ignore[arg-type]
         [dst])


def activation(ctx: Ctx, dst: View, src: View, func: ActivationFunc, *, scale: object = None,
               bias: View | None = None, reduce_op: AluOp | None = None, reduce_res: View | None = None,
               accumulate: AccumCmd = AccumCmd.Idle, reduce_kind: type = NcActivate) -> None:
    sc = operand(ctx, ImmFloat(1.0) if scale is None else scale)
    b = None if bias is None else ref(ctx, bias)
    r = None if reduce_res is None else ref(ctx, reduce_res, write=True)
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, reduce_kind(d, x, accumulate, func, sc, b, reduce_op, r, dst.dtype),
         [dst] + ([reduce_res] if reduce_res is not None else []))


def tensor_reduce(ctx: Ctx, dst: View, src: View, op: AluOp, naxes: int, *, negate: bool = False,
                  keepdims: bool = False) -> None:
    """Reduce the last ``naxes`` dimensions of ``src`` into ``dst``."""
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, TensorReduce(d, x, op, SUB_DIMS[naxes - 1], negate, dst.dtype, keepdims), [dst])


def memset(ctx: Ctx, dst: View, value: Immediate, engine: Engine = Engine.unassigned) -> None:
    d, _ = refs(ctx, dst, [])
    emit(ctx, MemSet(d, value, dst.dtype, engine), [dst])


def matmul(ctx: Ctx, dst: View, stationary: View, moving: View, *, stationary_onezero: bool = False,
           moving_zero: bool = False, transpose: bool = False, tile_position: tuple[int, ...] = (),
           tile_size: tuple[int, ...] = (), perf_mode: MatmulPerfMode = MatmulPerfMode.None_) -> None:
    d, (st, mv) = refs(ctx, dst, [stationary, moving])
    emit(ctx, NcMatMul(d, st, mv, stationary_onezero, moving_zero, transpose, tile_position, tile_size,
                       perf_mode), [dst])


def data_pattern(offset: int, channel: int, pairs: list[tuple[int, int]]) -> DataPattern:
    return DataPattern(offset, tuple(APPair(s, n, 0) for s, n in pairs), channel)


def iota(ctx: Ctx, dst: View, pattern: DataPattern) -> None:
    d, _ = refs(ctx, dst, [])
    emit(ctx, Iota(d, pattern, dst.dtype), [dst])


def affine_select(ctx: Ctx, dst: View, pred: DataPattern, on_true: View, on_false: Immediate,
                  cmp: AluOp) -> None:
    d, (t,) = refs(ctx, dst, [on_true])
    emit(ctx, NcAffineSelect(d, pred, t, on_false, dst.dtype, cmp), [dst])


def copy_predicated(ctx: Ctx, dst: View, src: View, predicate: View, reverse: bool = False) -> None:
    d, (s, p) = refs(ctx, dst, [src, predicate])
    emit(ctx, CopyPredicated(d, s, p, dst.dtype, reverse), [dst])


def reciprocal(ctx: Ctx, dst: View, src: View) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, Reciprocal(d, s, dst.dtype), [dst])


def vector_transpose(ctx: Ctx, dst: View, src: View, engine: Engine = Engine.dve) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, Transpose(d, s, dst.dtype, engine), [dst])


def copy(ctx: Ctx, dst: View, src: View, dtype: Dtype | None = None) -> None:
    """dst = src: a DMA when either side is in HBM, else a tensor copy."""
    if dst.buf.memory.is_hbm or src.buf.memory.is_hbm:
        dma(ctx, dst, src)
        return
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, NcCopy(d, s, dtype or dst.dtype, Engine.unassigned), [dst])


def _affine_pattern(a: Affine, box: Box, par: int | None) -> DataPattern:
    offset = a.const + sum(c * s for c, (s, _) in zip(a.coefs, box, strict=True))
    pairs = [(a.coefs[j], box[j][1] - box[j][0]) for j in range(len(box)) if j != par]
    return data_pattern(offset, 0 if par is None else a.coefs[par], pairs)
