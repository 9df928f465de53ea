"""One function per Core operator the NKI layer emits, taking views.

These are the only places that build operator payloads, each with keyword arguments. Operands
are lowered together by ``emit.refs`` (so they agree on their leading dimension); ``dtype``
fields carry the destination's dtype, as the reference's builtins do. A per-partition scalar
operand (``Scalar``) is an Immediate or a [P, 1] view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr import core
from klr.core import (
    AccumCmd,
    ActivationFunc,
    AluOp,
    APPair,
    DataPattern,
    DgeComputeOp,
    DmaError,
    DmaSkip,
    DropoutThresholdType,
    Engine,
    Immediate,
    ImmFloat,
    ImmInt,
    MatmulPerfMode,
    Memory,
    Operand,
    PrintOutputBuffer,
    TensorScalarReverseOps,
    TensorSubDim,
    TransposeOps,
)
from klr.dtypes import Dtype
from klr.errors import TraceError
from klr.schema import record
from klr.tracer.nki.emit import emit, ref, refs, tile
from klr.tracer.nki.index import Affine
from klr.tracer.nki.views import Box, View

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

Scalar = View | Immediate
"""A per-partition scalar operand: an immediate, or a [P, 1] view."""

SUB_DIMS = (TensorSubDim.X, TensorSubDim.XY, TensorSubDim.XYZ, TensorSubDim.XYZW)


# field-less and immutable: one value each instead of one per DMA statement
_DMA_SKIP = DmaSkip()
_DMA_ERROR = DmaError()


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


def operand(ctx: Ctx, s: Scalar) -> Operand:
    """The Core operand of an Immediate or a [P, 1] view."""
    return ref(ctx, s) if isinstance(s, View) else s


def reverse_ops(reverse0: bool, reverse1: bool) -> TensorScalarReverseOps:
    return (TensorScalarReverseOps.none, TensorScalarReverseOps.first,
            TensorScalarReverseOps.second, TensorScalarReverseOps.both)[int(reverse0) + 2 * int(reverse1)]



# --- moving data -----------------------------------------------------------------------------


def in_sbuf(ctx: Ctx, src: View) -> View:
    """``src``, or a fresh SBUF copy of it when it is in PSUM, which DMA queues and the GpSimd
    engine cannot read (klr check's hardware rules); a view stretched across partitions (step
    0) is left to the rules."""
    if src.buf.memory is not Memory.psum or (src.steps[src.par] == 0 and src.nums[src.par] > 1):
        return src
    staged = tile(ctx, src.shape, src.dtype, Memory.sbuf, par_axis=src.par_dim)
    tensor_copy(ctx, staged, src, src.dtype)
    return staged


def dma(ctx: Ctx, dst: View, src: View, *, accumulate: bool = False, oob_skip: bool = False,
        dge_mode: int = 0, unique_indices: bool = False, priority: int | None = None,
        engine: Engine = Engine.unassigned) -> None:
    src = in_sbuf(ctx, src)
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, core.NcDmaCopy(dst=d, src=s, compute_op=DgeComputeOp.add if accumulate else DgeComputeOp.none,
                             oobMode=_DMA_SKIP if oob_skip else _DMA_ERROR, dgeMode=dge_mode,
                             uniqueIndices=unique_indices, priority=priority, engine=engine), [dst])


def dma_compute(ctx: Ctx, dst: View, srcs: list[View], scales: list[float], op: AluOp) -> None:
    d, ss = refs(ctx, dst, srcs)
    emit(ctx, core.DmaCompute(dst=d, srcs=tuple(ss), scales=tuple(ImmFloat(x) for x in scales),
                              reduceOp=op), [dst])


def dma_transpose(ctx: Ctx, dst: View, src: View, axes: TransposeOps, *, dge_mode: int = 0,
                  oob_skip: bool = False, priority: int | None = None) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, core.DmaTranspose(dst=d, src=s, axes=axes, dtype=dst.dtype, dgeMode=dge_mode,
                                oobMode=_DMA_SKIP if oob_skip else _DMA_ERROR, priority=priority), [dst])


def tensor_copy(ctx: Ctx, dst: View, src: View, dtype: Dtype | None = None,
                engine: Engine = Engine.unassigned) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, core.NcCopy(dst=d, src=s, dtype=dtype, engine=engine), [dst])


def copy(ctx: Ctx, dst: View, src: View, dtype: Dtype | None = None) -> None:
    """dst = src: a DMA when either side is in HBM, else a tensor copy."""
    if dst.buf.memory.is_hbm or src.buf.memory.is_hbm:
        dma(ctx, dst, src)
        return
    tensor_copy(ctx, dst, src, dtype or dst.dtype)


def copy_predicated(ctx: Ctx, dst: View, src: View, predicate: View, reverse: bool = False) -> None:
    d, (s, p) = refs(ctx, dst, [src, predicate])
    emit(ctx, core.CopyPredicated(dst=d, src=s, predicate=p, dtype=dst.dtype, reversePred=reverse), [dst])


def memset(ctx: Ctx, dst: View, value: Immediate, engine: Engine = Engine.unassigned) -> None:
    d, _ = refs(ctx, dst, [])
    emit(ctx, core.MemSet(dst=d, value=value, dtype=dst.dtype, engine=engine), [dst])


def shuffle(ctx: Ctx, dst: View, src: View, mask: tuple[int, ...]) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, core.Shuffle(dst=d, src=s, shuffleMask=tuple(ImmInt(m) for m in mask), dtype=dst.dtype), [dst])


def vector_transpose(ctx: Ctx, dst: View, src: View, engine: Engine = Engine.dve) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, core.Transpose(dst=d, src=s, dtype=dst.dtype, engine=engine), [dst])


def device_print(ctx: Ctx, src: View, prefix: str, buffer: PrintOutputBuffer) -> None:
    emit(ctx, core.DevicePrint(src=ref(ctx, src), printPrefix=prefix, buffer=buffer))


# --- element-wise ----------------------------------------------------------------------------


def tensor_tensor(ctx: Ctx, dst: View, a: View, b: View, op: AluOp,
                  engine: Engine = Engine.unassigned) -> None:
    d, (x, y) = refs(ctx, dst, [a, b])
    emit(ctx, core.TensorTensor(dst=d, src0=x, src1=y, op=op, dtype=dst.dtype, engine=engine), [dst])


def tensor_scalar(ctx: Ctx, dst: View, src: View, op0: AluOp, s0: Scalar, reverse0: bool = False,
                  op1: AluOp | None = None, s1: Scalar | None = None, reverse1: bool = False,
                  engine: Engine = Engine.unassigned) -> None:
    """dst = (src op0 s0) op1 s1."""
    o0 = operand(ctx, s0)
    o1 = None if op1 is None or s1 is None else operand(ctx, s1)
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, core.TensorScalar(dst=d, src=x, imm0=o0, op0=op0, imm1=o1, op1=op1,
                                reverse=reverse_ops(reverse0, reverse1), engine=engine, dtype=dst.dtype),
         [dst])


def scalar_tensor_tensor(ctx: Ctx, dst: View, data: View, op0: AluOp, s0: Scalar, op1: AluOp, src1: View,
                         reverse: TensorScalarReverseOps) -> None:
    """dst = (data op0 s0) op1 src1."""
    o0 = operand(ctx, s0)
    d, (x, y) = refs(ctx, dst, [data, src1])
    emit(ctx, core.NcScalarTensorTensor(dst=d, data=x, src0=o0, src1=y, op0=op0, op1=op1,
                                        reverseOperands=reverse, dtype=dst.dtype), [dst])


def reciprocal(ctx: Ctx, dst: View, src: View) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, core.Reciprocal(dst=d, src=s, dtype=dst.dtype), [dst])


def activation(ctx: Ctx, dst: View, src: View, func: ActivationFunc, *, scale: Scalar | None = None,
               bias: View | None = None, reduce_op: AluOp | None = None, reduce_res: View | None = None,
               accumulate: AccumCmd = AccumCmd.Idle, reduce: bool = False) -> None:
    """dst = func(src * scale + bias); ``reduce`` makes it an activationReduce."""
    sc = operand(ctx, ImmFloat(1.0) if scale is None else scale)
    b = None if bias is None else ref(ctx, bias)
    r = None if reduce_res is None else ref(ctx, reduce_res, write=True)
    d, (x,) = refs(ctx, dst, [src])
    kind = core.ActivationReduce if reduce else core.NcActivate
    emit(ctx, kind(dst=d, src=x, accumulatorCmd=accumulate, activationFunc=func, scale=sc, bias=b,
                   reduceOp=reduce_op, reduceRes=r, dtype=dst.dtype),
         [dst] + ([reduce_res] if reduce_res is not None else []))


def exponential(ctx: Ctx, dst: View, src: View, top: Scalar, reduce_res: View | None, cmd: AccumCmd,
                init: Scalar) -> None:
    """dst = exp(src - top), its per-partition sums accumulated under ``cmd``."""
    t, i = operand(ctx, top), operand(ctx, init)
    r = None if reduce_res is None else ref(ctx, reduce_res, write=True)
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, core.Exponential(dst=d, src=x, maxValue=t, reduceRes=r, reducecmd=cmd, reduceInit=i),
         [dst] + ([reduce_res] if reduce_res is not None else []))


@record
class Stages:
    """activate2's tensor-scalar stages: ``(data op0 imm0) op1 imm1`` (reverse: operands swapped)."""

    op0: AluOp
    imm0: Scalar
    op1: AluOp
    imm1: Scalar
    reverse0: bool = False
    reverse1: bool = False


def activate2(ctx: Ctx, dst: View, src: View, func: ActivationFunc, stages: Stages, relu: Scalar,
              reduce_op: AluOp, reduce_res: View | None, cmd: AccumCmd) -> None:
    i0, i1, rp = operand(ctx, stages.imm0), operand(ctx, stages.imm1), operand(ctx, relu)
    r = None if reduce_res is None else ref(ctx, reduce_res, write=True)
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, core.Activate2(dst=d, src=x, op0=stages.op0, op1=stages.op1, imm0=i0, imm1=i1,
                             activationFunc=func, reluParam=rp, reduceOp=reduce_op, reduceRes=r,
                             reduceCmd=cmd, reverse0=stages.reverse0, reverse1=stages.reverse1,
                             dtype=dst.dtype),
         [dst] + ([reduce_res] if reduce_res is not None else []))


def dropout(ctx: Ctx, dst: View, src: View, rate: Scalar) -> None:
    th = operand(ctx, rate)
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, core.Dropout(dst=d, src=s, thresholdType=DropoutThresholdType.DropRate, threshold=th,
                           dtype=dst.dtype), [dst])


# --- reductions and scans --------------------------------------------------------------------


def tensor_reduce(ctx: Ctx, dst: View, src: View, op: AluOp, naxes: int, *, negate: bool = False,
                  keepdims: bool = False) -> None:
    """Reduce the last ``naxes`` dimensions of ``src`` into ``dst``."""
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, core.TensorReduce(dst=d, src=x, op=op, opDim=SUB_DIMS[naxes - 1], negated=negate,
                                dtype=dst.dtype, keepdims=keepdims), [dst])


def partition_reduce(ctx: Ctx, dst: View, data: View, op: AluOp) -> None:
    d, (s,) = refs(ctx, dst, [data])
    emit(ctx, core.TensorPartitionReduce(dst=d, op=op, data=s, dtype=dst.dtype), [dst])


def tensor_scalar_reduce(ctx: Ctx, dst: View, src: View, op0: AluOp, s0: Scalar, reverse0: bool,
                         reduce_op: AluOp, reduce_res: View, cmd: AccumCmd, init: Immediate | None) -> None:
    """dst = src op0 s0, each partition's results reduced into reduce_res."""
    o0 = operand(ctx, s0)
    r = ref(ctx, reduce_res, write=True)
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, core.TensorScalarReduce(dst=d, src=x, operand0=o0, op0=op0, reverse0=reverse0, dtype=dst.dtype,
                                      reduceOp=reduce_op, reduceRes=r, reduceCmd=cmd, reduceInit=init),
         [dst, reduce_res])


STATISTICS: dict[str, type[core.BatchNormStats | core.BatchNormAggregate | core.Max8]] = {
    "bn_stats": core.BatchNormStats, "bn_aggr": core.BatchNormAggregate, "max8": core.Max8}
"""The per-partition statistics operators (all dst, src and dtype) by builtin name."""


def statistics(ctx: Ctx, kind: str, dst: View, src: View, written: View | None = None) -> None:
    """One of ``STATISTICS``: ``bn_stats``, ``bn_aggr`` or ``max8`` (``written``: the view to
    record as written, default ``dst``)."""
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, STATISTICS[kind](dst=d, src=s, dtype=dst.dtype), [dst if written is None else written])


def tensor_tensor_scan(ctx: Ctx, dst: View, a: View, b: View, op0: AluOp, op1: AluOp, initial: Scalar,
                       reverse: TensorScalarReverseOps) -> None:
    i0 = operand(ctx, initial)
    d, (s0, s1) = refs(ctx, dst, [a, b])
    emit(ctx, core.TensorTensorScan(dst=d, src0=s0, src1=s1, op0=op0, op1=op1, reverseOperands=reverse,
                                    imm0=i0, accumulatorCmd=AccumCmd.Idle, dtype=dst.dtype), [dst])


def tensor_scalar_cumulative(ctx: Ctx, dst: View, src: View, op0: AluOp, op1: AluOp, s0: Scalar,
                             s1: Scalar | None, cmd: AccumCmd) -> None:
    o0 = operand(ctx, s0)
    o1 = None if s1 is None else operand(ctx, s1)
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, core.TensorScalarCumulative(dst=d, src=x, op0=op0, op1=op1, imm0=o0, imm1=o1, reduceCmd=cmd,
                                          reverse=TensorScalarReverseOps.none, dtype=dst.dtype), [dst])


# --- the Tensor Engine -----------------------------------------------------------------------


@record
class MatmulFlags:
    """How the PE array runs a matmul (``NcMatMul``'s fields besides its operands)."""

    stationary_onezero: bool = False
    moving_zero: bool = False
    transpose: bool = False
    tile_position: tuple[int, ...] = ()
    tile_size: tuple[int, ...] = ()
    perf_mode: MatmulPerfMode = MatmulPerfMode.None_


PLAIN_MATMUL = MatmulFlags()


def matmul(ctx: Ctx, dst: View, stationary: View, moving: View, flags: MatmulFlags = PLAIN_MATMUL) -> None:
    d, (st, mv) = refs(ctx, dst, [stationary, moving])
    emit(ctx, core.NcMatMul(dst=d, stationary=st, moving=mv, isStationaryOneZero=flags.stationary_onezero,
                            isMovingZero=flags.moving_zero, isTranspose=flags.transpose,
                            tilePosition=flags.tile_position, tileSize=flags.tile_size,
                            perfMode=flags.perf_mode), [dst])


def quantize_mx(ctx: Ctx, dst: View, src: View, scale: View) -> None:
    sc = ref(ctx, scale, write=True)
    d, (x,) = refs(ctx, dst, [src])
    emit(ctx, core.QuantizeMX(dst=d, src=x, dstScale=sc), [dst, scale])


def matmul_mx(ctx: Ctx, dst: View, stationary: View, moving: View, scales: tuple[View, View],
              tile_position: tuple[int, ...] | None, tile_size: tuple[int, ...] | None) -> None:
    ss, ms = ref(ctx, scales[0]), ref(ctx, scales[1])
    d, (st, mv) = refs(ctx, dst, [stationary, moving])
    emit(ctx, core.MatMulMX(dst=d, stationary=st, moving=mv, stationaryScale=ss, movingScale=ms,
                            tilePosition=tile_position, tileSize=tile_size), [dst])


# --- generated values and selection ----------------------------------------------------------


def data_pattern(offset: int, channel: int, pairs: list[tuple[int, int]]) -> DataPattern:
    return DataPattern(offset=offset, pattern=tuple(APPair(step=s, num=n, offset=0) for s, n in pairs),
                       channelMultiplier=channel)


def affine_pattern(a: Affine, box: Box, par: int | None) -> DataPattern:
    """The data pattern of the affine function ``a`` over ``box`` (partition axis ``par``)."""
    offset = a.const + sum(c * s for c, (s, _) in zip(a.coefs, box, strict=True))
    pairs = [(a.coefs[j], box[j][1] - box[j][0]) for j in range(len(box)) if j != par]
    return data_pattern(offset, 0 if par is None else a.coefs[par], pairs)


def iota(ctx: Ctx, dst: View, pattern: DataPattern) -> None:
    d, _ = refs(ctx, dst, [])
    emit(ctx, core.Iota(dst=d, pattern=pattern, dtype=dst.dtype), [dst])


def affine_select(ctx: Ctx, dst: View, pred: DataPattern, on_true: View, on_false: Immediate,
                  cmp: AluOp) -> None:
    d, (t,) = refs(ctx, dst, [in_sbuf(ctx, on_true)])
    emit(ctx, core.NcAffineSelect(dst=d, pred=pred, onTrueTile=t, onFalseValue=on_false, dtype=dst.dtype,
                                  cmpOp=cmp), [dst])


def range_select(ctx: Ctx, dst: View, on_true: View, cmps: tuple[AluOp, AluOp], bounds: tuple[View, View],
                 start: Immediate, fill: Immediate, cmd: AccumCmd, reduce_op: AluOp | None,
                 reduce_res: View | None) -> None:
    r = None if reduce_res is None else ref(ctx, reduce_res, write=True)
    d, (t, b0, b1) = refs(ctx, dst, [on_true, *bounds])
    emit(ctx, core.NcRangeSelect(dst=d, reduceCommand=cmd, reduceRes=r, reduceOp=reduce_op, compOp0=cmps[0],
                                 compOp1=cmps[1], bound0=b0, bound1=b1, rangeStart=start, onTrueTile=t,
                                 onFalseValue=fill, dtype=dst.dtype),
         [dst] + ([reduce_res] if reduce_res is not None else []))


def select_reduce(ctx: Ctx, dst: View, predicate: View, on_true: View, on_false: Scalar,
                  reduce_res: View | None, cmd: AccumCmd, reduce_op: AluOp, reverse: bool) -> None:
    f = operand(ctx, on_false)
    r = None if reduce_res is None else ref(ctx, reduce_res, write=True)
    d, (p, t) = refs(ctx, dst, [predicate, on_true])
    emit(ctx, core.SelectReduce(dst=d, predicate=p, onTrue=t, onFalse=f, reduceRes=r, reduceCmd=cmd,
                                reduceOp=reduce_op, reversePred=reverse, dtype=dst.dtype),
         [dst] + ([reduce_res] if reduce_res is not None else []))


def find_index8(ctx: Ctx, dst: View, src: View, vals: View) -> None:
    d, (s, v) = refs(ctx, dst, [src, vals])
    emit(ctx, core.FindIndex8(dst=d, src=s, vals=v, dtype=dst.dtype), [dst])


def match_replace8(ctx: Ctx, dst: View, src: View, vals: View, value: Immediate, index: View | None) -> None:
    ir = None if index is None else ref(ctx, index, write=True)
    d, (s, v) = refs(ctx, dst, [src, vals])
    emit(ctx, core.MatchReplace8(dst=d, src=s, vals=v, replaceValue=value, dstIdx=ir, dtype=dst.dtype),
         [dst] + ([index] if index is not None else []))


def sequence_bounds(ctx: Ctx, dst: View, segment_ids: View, dtype: Dtype | None) -> None:
    d, (s,) = refs(ctx, dst, [segment_ids])
    emit(ctx, core.SequenceBounds(dst=d, segmentIds=s, dtype=dtype or dst.dtype), [dst])


def local_gather(ctx: Ctx, dst: View, src: View, index: View, per_index: int, valid: int | None) -> None:
    d, (s, i) = refs(ctx, dst, [src, index])
    emit(ctx, core.NcLocalGather(dst=d, src=s, index=i, numElemPerIdx=ImmInt(per_index),
                                 numValidIndicies=None if valid is None else ImmInt(valid)), [dst])


def gather(ctx: Ctx, dst: View, data: View, indices: View) -> None:
    d, (s, i) = refs(ctx, dst, [data, indices])
    emit(ctx, core.NcNGather(dst=d, data=s, indices=i, dtype=dst.dtype), [dst])


# --- random numbers --------------------------------------------------------------------------


def rand(ctx: Ctx, dst: View, low: Scalar, high: Scalar) -> None:
    lo, hi = operand(ctx, low), operand(ctx, high)
    d, _ = refs(ctx, dst, [])
    emit(ctx, core.Rand2(dst=d, min=lo, max=hi), [dst])


def rng(ctx: Ctx, dst: View, engine: Engine) -> None:
    d, _ = refs(ctx, dst, [])
    emit(ctx, core.Rng(dst=d, engine=engine), [dst])


def set_rng_seed(ctx: Ctx, src: View) -> None:
    emit(ctx, core.SetRngSeed(src=ref(ctx, src)))


def rand_get_state(ctx: Ctx, dst: View, engine: Engine) -> None:
    d, _ = refs(ctx, dst, [])
    emit(ctx, core.RandGetState(dst=d, engine=engine), [dst])


def rand_set_state(ctx: Ctx, src: View, engine: Engine) -> None:
    emit(ctx, core.RandSetState(src=ref(ctx, src), engine=engine))


def nonzero_with_count(ctx: Ctx, dst: View, src: View, index_offset: int, padding: int) -> None:
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, core.NonzeroWithCount(dst=d, src=s, indexOffset=ImmInt(index_offset),
                                    paddingVal=ImmInt(padding)), [dst])


# --- registers and branches ------------------------------------------------------------------


def register_move(ctx: Ctx, dst: str, value: int) -> None:
    emit(ctx, core.RegisterMove(dst=dst, imm=value))


def register_alu(ctx: Ctx, dst: str, src: str, op: AluOp, value: int) -> None:
    emit(ctx, core.RegisterAluOp(dst=dst, src=src, imm=value, op=op))


def tensor_load(ctx: Ctx, dst: str, src: View) -> None:
    emit(ctx, core.TensorLoad(dst=dst, src=ref(ctx, src)))


def tensor_store(ctx: Ctx, dst: View, src: str) -> None:
    emit(ctx, core.TensorStore(dst=ref(ctx, dst, write=True), src=src), [dst])


def branch(ctx: Ctx, op: core.BrCmpOp, reg1: str, reg2: str, value: int, then: str, other: str) -> None:
    emit(ctx, core.CmpBranch(reg1=reg1, reg2=reg2, imm=value, op=op, trueLabel=then, falseLabel=other))


def jump(ctx: Ctx, label: str) -> None:
    branch(ctx, core.BrCmpOp.always, "", "", 0, label, label)
