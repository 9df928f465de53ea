"""Core operators: one payload struct per instruction and the ``Operator`` sum (tag 218).

Each payload class has the reference's name, tag and fields in wire order. ``Operator``'s
constructor number is the class's position in the union; where the reference uses one payload
for several constructors (``ncActivate``/``activationReduce``, the eight collectives) each
constructor has its own subclass, so the class of a value names its constructor.

``ENGINE`` on each class is the engine the reference reports for the operator, or ``"field"``
when the operator carries its own ``engine`` field; ``engine_of`` resolves it.
The auxiliary enums and types these payloads use are in ``klr.core.optypes``; the payloads of
control-flow, register, communication, random and debug operators are in ``klr.core.sysops``.
"""

from __future__ import annotations

import typing
from typing import Annotated, ClassVar

from klr.core.optypes import (
    AccumCmd,
    ActivationFunc,
    AffineSelectCmp,
    AluOp,
    DataPattern,
    DgeComputeOp,
    DmaBounds,
    DropoutThresholdType,
    Engine,
    EngineRule,
    IndexMissBehavior,
    MatmulPerfMode,
    Operand,
    TensorScalarReverseOps,
    TensorSubDim,
    TransposeOps,
)
from klr.core.sysops import (
    AllGather,
    AllReduce,
    AllToAll,
    Broadcast,
    CmpBranch,
    CollectivePermute,
    CollectivePermuteImplicit,
    CollectivePermuteImplicitReduce,
    CoreBarrier,
    CurrentProcessingRankId,
    DevicePrint,
    ExtendedInst,
    Rand2,
    RandGetState,
    RandSetState,
    RankId,
    Recv,
    ReduceScatter,
    RegisterAluOp,
    RegisterMove,
    Rng,
    Send,
    SendRecv,
    SendRecvCompute,
    SetRngSeed,
    TensorLoad,
    TensorStore,
)
from klr.core.tensor import Dtype, Immediate, Reg, TensorRef
from klr.schema import F32, Nat, Sum, node

__all__ = [
    "Dropout", "Activate", "NcActivate", "ActivationReduce", "AffineSelect", "NcAffineSelect",
    "DmaCopy", "NcDmaCopy", "DmaTranspose", "Transpose", "LoadMaskRegister", "Shuffle", "MemSet",
    "Iota", "LoadStationary", "MatMul", "LocalGather", "NcLocalGather", "RangeSelect", "NcRangeSelect",
    "ScalarTensorTensor", "NcScalarTensorTensor", "CopyPredicated", "TensorTensorScan",
    "MatchValueLoad", "FindIndex8", "MatchReplace8", "Max8", "BatchNormAggregate", "BatchNormStats",
    "Reciprocal", "Copy", "NcCopy", "TensorReduce", "TensorScalar", "TensorScalarReduce",
    "TensorTensor", "NcMatMul", "TensorPartitionReduce", "SelectReduce", "SequenceBounds", "QuantizeMX",
    "MatMulMX", "DmaCompute", "TensorScalarCumulative", "NcNGather", "NonzeroWithCount", "Exponential",
    "Activate2", "Operator", "TGROperator", "OPERATOR_NAMES", "TGR_OPERATOR_NAMES", "OPERATOR_CLASSES",
    "operator_ctor", "operator_name", "engine_of",
]


@node(tag=147)
class Dropout:
    """Randomly zero elements of src at the given rate."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    thresholdType: DropoutThresholdType
    threshold: Operand
    dtype: Dtype | None


@node(tag=148)
class Activate:
    """Legacy activation: dst (accumulated by accumulatorCmd) = f(src*scale + bias)."""

    ENGINE: ClassVar[EngineRule] = Engine.act
    dst: TensorRef
    src: TensorRef
    accumulatorCmd: AccumCmd
    activationFunc: ActivationFunc
    scale: Immediate
    bias: Immediate
    imm: Immediate


@node(tag=149)
class NcActivate:
    """NKI activation: dst = f(src*scale + bias), optionally reducing along the free axis into reduceRes."""

    ENGINE: ClassVar[EngineRule] = Engine.act
    dst: TensorRef
    src: TensorRef
    accumulatorCmd: AccumCmd
    activationFunc: ActivationFunc
    scale: Operand
    bias: TensorRef | None
    reduceOp: AluOp | None
    reduceRes: TensorRef | None
    dtype: Dtype | None


@node(tag=149, name="NcActivate")
class ActivationReduce(NcActivate):
    """NKI activation_reduce: an activation whose free-axis reduction into reduceRes is mandatory."""


@node(tag=150)
class AffineSelect:
    """Legacy affine select: src where the maskPattern value compares (fillMode) with 0, else fillReg."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    src: TensorRef
    fillMode: AffineSelectCmp
    fillReg: Reg
    maskPattern: DataPattern


@node(tag=151)
class NcAffineSelect:
    """dst = onTrueTile where ``cmpOp(pred value, 0)`` holds, else onFalseValue."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    pred: DataPattern
    onTrueTile: TensorRef
    onFalseValue: Immediate
    dtype: Dtype | None
    cmpOp: AluOp


@node(tag=152)
class DmaCopy:
    """Legacy DMA transfer between on-chip memories."""

    ENGINE: ClassVar[EngineRule] = Engine.dma
    dst: TensorRef
    src: TensorRef
    compute_op: DgeComputeOp
    dstBoundsCheck: DmaBounds
    srcBoundsCheck: DmaBounds


@node(tag=153)
class NcDmaCopy:
    """NKI dma_copy: move data between HBM/SBUF/PSUM, optionally accumulating (compute_op=add)."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    src: TensorRef
    compute_op: DgeComputeOp
    oobMode: DmaBounds
    dgeMode: Nat
    uniqueIndices: bool
    priority: Nat | None
    engine: Engine


@node(tag=154)
class DmaTranspose:
    """Transpose the axes of src while moving it by DMA."""

    ENGINE: ClassVar[EngineRule] = Engine.dma
    dst: TensorRef
    src: TensorRef
    axes: TransposeOps
    dtype: Dtype | None
    dgeMode: Nat
    oobMode: DmaBounds
    priority: Nat | None


@node(tag=155)
class Transpose:
    """Transpose 32x32 blocks on a vector engine."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None
    engine: Engine


@node(tag=156)
class LoadMaskRegister:
    """Legacy: select the register used as the vector engine's shuffle mask."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    regNum: Reg


@node(tag=157)
class Shuffle:
    """nc_stream_shuffle: permute partitions within each group of 32 by shuffleMask."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    shuffleMask: tuple[Immediate, ...]
    dtype: Dtype | None


@node(tag=158)
class MemSet:
    """Fill dst with a constant."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    value: Immediate
    dtype: Dtype
    engine: Engine


@node(tag=159)
class Iota:
    """Fill dst with the values of an affine pattern."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    pattern: DataPattern
    dtype: Dtype | None


@node(tag=160)
class LoadStationary:
    """Legacy PE: load the stationary (weights) matrix."""

    ENGINE: ClassVar[EngineRule] = Engine.pe
    src: TensorRef
    isTranspose: bool


@node(tag=161)
class MatMul:
    """Legacy PE: multiply the moving matrix by the loaded stationary one."""

    ENGINE: ClassVar[EngineRule] = Engine.pe
    dst: TensorRef
    moving: TensorRef


@node(tag=162)
class LocalGather:
    """Legacy gather within partitions."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    src: TensorRef
    indexMissBehavior: IndexMissBehavior
    freePoolBuffer: bool


@node(tag=163)
class NcLocalGather:
    """local_gather: gather elements by index within each partition group."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    src: TensorRef
    index: TensorRef
    numElemPerIdx: Immediate
    numValidIndicies: Immediate | None


@node(tag=164)
class RangeSelect:
    """Legacy range select: keep elements inside [bound0, bound1] (by compOp0/compOp1), else fillValue."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    reduceCommand: AccumCmd
    reduceOp: AluOp
    base: F32
    fillValue: F32
    compOp0: AluOp
    compOp1: AluOp
    bound0: Immediate
    bound1: Immediate


@node(tag=165)
class NcRangeSelect:
    """range_select: keep onTrueTile where the index lies within per-partition bounds, else onFalseValue."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    reduceCommand: AccumCmd
    reduceRes: TensorRef | None
    reduceOp: AluOp | None
    compOp0: AluOp
    compOp1: AluOp
    bound0: TensorRef
    bound1: TensorRef
    rangeStart: Immediate
    onTrueTile: TensorRef
    onFalseValue: Immediate
    dtype: Dtype | None


@node(tag=166)
class ScalarTensorTensor:
    """Legacy: dst = (src0 op0 imm0) op1 src1."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src0: TensorRef
    src1: TensorRef
    op0: AluOp
    op1: AluOp
    reverseOperands: TensorScalarReverseOps
    imm0: Immediate
    accumulatorCmd: AccumCmd


@node(tag=167)
class NcScalarTensorTensor:
    """scalar_tensor_tensor: dst = (data op0 src0) op1 src1."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    data: TensorRef
    src0: Operand
    src1: Operand
    op0: AluOp
    op1: AluOp
    reverseOperands: TensorScalarReverseOps
    dtype: Dtype | None


@node(tag=168)
class CopyPredicated:
    """Copy src to dst where predicate is non-zero (zero when reversePred)."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    predicate: TensorRef
    dtype: Dtype | None
    reversePred: bool


@node(tag=169)
class TensorTensorScan:
    """Scan along the free axis: acc = (src0 op0 acc) op1 src1, starting from imm0."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src0: TensorRef
    src1: TensorRef
    op0: AluOp
    op1: AluOp
    reverseOperands: TensorScalarReverseOps
    imm0: Operand
    accumulatorCmd: AccumCmd
    dtype: Dtype | None


@node(tag=170)
class MatchValueLoad:
    """Load the vector engine's match values for a later find/replace."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    src: TensorRef


@node(tag=171)
class FindIndex8:
    """Per partition, the index of the first element of src equal to each of 8 values."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    vals: TensorRef
    dtype: Dtype | None


@node(tag=172)
class MatchReplace8:
    """Replace the 8 matched values of src with replaceValue, optionally writing their indices."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    vals: TensorRef
    replaceValue: Immediate
    dstIdx: TensorRef | None
    dtype: Dtype | None


@node(tag=173)
class Max8:
    """The 8 largest values of each partition."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None


@node(tag=174)
class BatchNormAggregate:
    """Combine batch-norm statistics into mean and variance."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None


@node(tag=175)
class BatchNormStats:
    """Per-partition batch-norm statistics of src."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None


@node(tag=176)
class Reciprocal:
    """dst = 1 / src."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None


@node(tag=177)
class Copy:
    """Legacy element-wise copy."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    src: TensorRef
    opDim: TensorSubDim | None


@node(tag=178)
class NcCopy:
    """tensor_copy: element-wise copy with dtype conversion."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None
    engine: Engine


@node(tag=179)
class TensorReduce:
    """Reduce src with op along the innermost free axes named by opDim (negated: negate the result)."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    src: TensorRef
    op: AluOp
    opDim: TensorSubDim
    negated: bool
    dtype: Dtype | None
    keepdims: bool


@node(tag=180)
class TensorScalar:
    """tensor_scalar: dst = (src op0 imm0) op1 imm1; each imm is a constant or a per-partition column."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    src: TensorRef
    imm0: Operand
    op0: AluOp
    imm1: Operand | None
    op1: AluOp | None
    reverse: TensorScalarReverseOps
    engine: Engine
    dtype: Dtype | None


@node(tag=181)
class TensorScalarReduce:
    """(src op0 operand0) and a free-axis reduction of the result into reduceRes."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    operand0: Operand
    op0: AluOp
    reverse0: bool
    dtype: Dtype | None
    reduceOp: AluOp | None
    reduceRes: TensorRef
    reduceCmd: AccumCmd
    reduceInit: Immediate | None


@node(tag=182)
class TensorTensor:
    """Element-wise dst = src0 op src1."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    src0: TensorRef
    src1: TensorRef
    op: AluOp
    dtype: Dtype | None
    engine: Engine


@node(tag=183)
class NcMatMul:
    """nc_matmul: dst (PSUM) += stationary^T . moving, contracting over partitions; also PE transposes."""

    ENGINE: ClassVar[EngineRule] = Engine.pe
    dst: TensorRef
    stationary: TensorRef
    moving: TensorRef
    isStationaryOneZero: bool
    isMovingZero: bool
    isTranspose: bool
    tilePosition: tuple[Nat, ...]
    tileSize: tuple[Nat, ...]
    perfMode: MatmulPerfMode


@node(tag=184)
class TensorPartitionReduce:
    """Reduce data across partitions with op."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    op: AluOp
    data: TensorRef
    dtype: Dtype | None


@node(tag=185)
class SelectReduce:
    """Select onTrue or onFalse by predicate, optionally reducing the result into reduceRes."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    predicate: TensorRef
    onTrue: TensorRef
    onFalse: Operand
    reduceRes: TensorRef | None
    reduceCmd: AccumCmd
    reduceOp: AluOp
    reversePred: bool
    dtype: Dtype | None


@node(tag=186)
class SequenceBounds:
    """Start and end bounds of each segment id."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    segmentIds: TensorRef
    dtype: Dtype | None


@node(tag=195)
class QuantizeMX:
    """Quantize src to the MX (microscaling) format, writing the scales to dstScale."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    dstScale: TensorRef


@node(tag=196)
class MatMulMX:
    """Matmul of MX-format operands with their scale tensors."""

    ENGINE: ClassVar[EngineRule] = Engine.pe
    dst: TensorRef
    stationary: TensorRef
    moving: TensorRef
    stationaryScale: TensorRef
    movingScale: TensorRef
    tilePosition: tuple[Nat, ...] | None
    tileSize: tuple[Nat, ...] | None


@node(tag=197)
class DmaCompute:
    """DMA that combines several scaled sources with reduceOp into dst."""

    ENGINE: ClassVar[EngineRule] = Engine.dma
    dst: TensorRef
    srcs: tuple[TensorRef, ...]
    scales: tuple[Immediate, ...]
    reduceOp: AluOp


@node(tag=211)
class TensorScalarCumulative:
    """Cumulative (prefix) tensor-scalar along the free axis."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    op0: AluOp
    op1: AluOp
    imm0: Operand
    imm1: Operand | None
    reduceCmd: AccumCmd
    reverse: TensorScalarReverseOps
    dtype: Dtype | None


@node(tag=212)
class NcNGather:
    """Gather data along the free axis by an index tensor."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    data: TensorRef
    indices: TensorRef
    dtype: Dtype | None


@node(tag=213)
class NonzeroWithCount:
    """Indices of the non-zero elements (plus indexOffset) and their count, padded with paddingVal."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    src: TensorRef
    indexOffset: Immediate
    paddingVal: Immediate


@node(tag=216)
class Exponential:
    """dst = exp(src - maxValue), optionally accumulating a sum into reduceRes (softmax helper)."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    maxValue: Operand
    reduceRes: TensorRef | None
    reducecmd: AccumCmd
    reduceInit: Operand


@node(tag=217)
class Activate2:
    """Two ALU ops around an activation function, plus an optional reduction."""

    ENGINE: ClassVar[EngineRule] = Engine.act
    dst: TensorRef
    src: TensorRef
    op0: AluOp
    op1: AluOp
    imm0: Operand
    imm1: Operand
    activationFunc: ActivationFunc
    reluParam: Operand
    reduceOp: AluOp
    reduceRes: TensorRef | None
    reduceCmd: AccumCmd
    reverse0: bool
    reverse1: bool
    dtype: Dtype | None


OPERATOR_NAMES: tuple[str, ...] = (
    "activate", "ncActivate", "activationReduce", "affineSelect", "ncAffineSelect",
    "batchNormAggregate", "batchNormStats", "copy", "ncCopy", "copyPredicated", "dmaCopy",
    "ncDmaCopy", "dmaTranspose", "dropout", "findIndex8", "iota", "loadMaskRegister",
    "loadStationary", "localGather", "ncLocalGather", "matMul", "ncMatMul", "matchReplace8",
    "matchValueLoad", "max8", "memSet", "rangeSelect", "ncRangeSelect", "reciprocal",
    "scalarTensorTensor", "ncScalarTensorTensor", "shuffle", "tensorReduce", "tensorScalar",
    "tensorTensor", "tensorTensorScan", "tensorPartitionReduce", "tensorScalarReduce",
    "transpose", "selectReduce", "sequenceBounds", "sendRecv", "sendRecvCompute", "tensorLoad",
    "tensorStore", "registerMove", "cmpBranch", "registerAluOp", "quantizeMX", "ncMatMulMX",
    "dmaCompute", "allReduce", "allGather", "reduceScatter", "collectivePermute",
    "collectivePermuteImplicit", "collectivePermuteImplicitReduce", "broadcast", "allToAll",
    "rankId", "currentProcessingRankId", "send", "recv", "coreBarrier", "rng", "rand2",
    "randGetState", "setRngSeed", "randSetState", "extendedInst", "tensorScalarCumulative",
    "ncNGather", "nonzeroWithCount", "devicePrint", "exponential", "activate2",
)

Operator = Annotated[
    Activate | NcActivate | ActivationReduce | AffineSelect | NcAffineSelect
    | BatchNormAggregate | BatchNormStats | Copy | NcCopy | CopyPredicated | DmaCopy
    | NcDmaCopy | DmaTranspose | Dropout | FindIndex8 | Iota | LoadMaskRegister
    | LoadStationary | LocalGather | NcLocalGather | MatMul | NcMatMul | MatchReplace8
    | MatchValueLoad | Max8 | MemSet | RangeSelect | NcRangeSelect | Reciprocal
    | ScalarTensorTensor | NcScalarTensorTensor | Shuffle | TensorReduce | TensorScalar
    | TensorTensor | TensorTensorScan | TensorPartitionReduce | TensorScalarReduce
    | Transpose | SelectReduce | SequenceBounds | SendRecv | SendRecvCompute | TensorLoad
    | TensorStore | RegisterMove | CmpBranch | RegisterAluOp | QuantizeMX | MatMulMX
    | DmaCompute | AllReduce | AllGather | ReduceScatter | CollectivePermute
    | CollectivePermuteImplicit | CollectivePermuteImplicitReduce | Broadcast | AllToAll
    | RankId | CurrentProcessingRankId | Send | Recv | CoreBarrier | Rng | Rand2
    | RandGetState | SetRngSeed | RandSetState | ExtendedInst | TensorScalarCumulative
    | NcNGather | NonzeroWithCount | DevicePrint | Exponential | Activate2,
    Sum("Operator", 218, names=OPERATOR_NAMES),
]

TGR_OPERATOR_NAMES: tuple[str, ...] = (
    "activate", "affineSelect", "batchNormAggregate", "batchNormStats", "copy",
    "copyPredicated", "dmaCopy", "dmaTranspose", "dropout", "findIndex8", "iota",
    "loadMaskRegister", "loadStationary", "localGather", "matMul", "matchReplace8",
    "matchValueLoad", "max8", "memSet", "rangeSelect", "reciprocal", "scalarTensorTensor",
    "shuffle", "tensorReduce", "tensorScalar", "tensorTensor", "tensorTensorScan", "transpose",
)

TGROperator = Annotated[
    Activate | AffineSelect | BatchNormAggregate | BatchNormStats | Copy | CopyPredicated
    | DmaCopy | DmaTranspose | Dropout | FindIndex8 | Iota | LoadMaskRegister
    | LoadStationary | LocalGather | MatMul | MatchReplace8 | MatchValueLoad | Max8 | MemSet
    | RangeSelect | Reciprocal | ScalarTensorTensor | Shuffle | TensorReduce | TensorScalar
    | TensorTensor | TensorTensorScan | Transpose,
    Sum("TGROperator", 219, names=TGR_OPERATOR_NAMES),
]
"""The legacy subset of Operator used by TGR; the classes are shared with Operator."""

OPERATOR_CLASSES: tuple[type, ...] = typing.get_args(typing.get_args(Operator)[0])
"""The Operator member classes in constructor order."""

_CTOR_INDEX: dict[type, int] = {cls: i for i, cls in enumerate(OPERATOR_CLASSES)}


def operator_ctor(op: object) -> int:
    """The Operator constructor number of an operator value."""
    return _CTOR_INDEX[type(op)]


def operator_name(op: object) -> str:
    """The reference's constructor name of an operator value (``tensorTensor``, ``activationReduce``...)."""
    return OPERATOR_NAMES[_CTOR_INDEX[type(op)]]


def engine_of(op: object) -> Engine:
    """The engine that runs ``op``, as the reference's ``Operator.engine`` reports it."""
    rule: EngineRule = type(op).ENGINE  # type: ignore[attr-defined]
    if rule == "field":
        engine: Engine = op.engine  # type: ignore[attr-defined]
        return engine
    return rule

