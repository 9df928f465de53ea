"""Core operators that compute: element-wise ALU and activation, reductions and selections,
scans, matmul, statistics, top-8 search, MX quantization and dropout.

Each payload class has the reference's name, tag and fields in wire order (see
``klr.core.operators`` for the Operator sum, its constructor order and the conventions shared by
all payloads).
"""

from __future__ import annotations

from typing import ClassVar

from klr.core.optypes import (
    AccumCmd,
    ActivationFunc,
    AluOp,
    DropoutThresholdType,
    Engine,
    EngineRule,
    MatmulPerfMode,
    Operand,
    OperatorPayload,
    TensorScalarReverseOps,
    TensorSubDim,
)
from klr.core.tensor import Dtype, Immediate, TensorRef
from klr.schema import F32, Nat, node


@node(tag=182)
class TensorTensor(OperatorPayload):
    """Element-wise dst = src0 op src1."""

    ENGINE: ClassVar[EngineRule] = "field"
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src0: TensorRef
    src1: TensorRef
    op: AluOp
    dtype: Dtype | None
    engine: Engine


@node(tag=180)
class TensorScalar(OperatorPayload):
    """tensor_scalar: dst = (src op0 imm0) op1 imm1; each imm is a constant or a per-partition column."""

    ENGINE: ClassVar[EngineRule] = "field"
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    imm0: Operand
    op0: AluOp
    imm1: Operand | None
    op1: AluOp | None
    reverse: TensorScalarReverseOps
    engine: Engine
    dtype: Dtype | None


@node(tag=166)
class ScalarTensorTensor(OperatorPayload):
    """Legacy: dst = (src0 op0 imm0) op1 src1."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src0: TensorRef
    src1: TensorRef
    op0: AluOp
    op1: AluOp
    reverseOperands: TensorScalarReverseOps
    imm0: Immediate
    accumulatorCmd: AccumCmd


@node(tag=167)
class NcScalarTensorTensor(OperatorPayload):
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


@node(tag=176)
class Reciprocal(OperatorPayload):
    """dst = 1 / src."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None


@node(tag=148)
class Activate(OperatorPayload):
    """Legacy activation: dst (accumulated by accumulatorCmd) = f(src*scale + bias)."""

    ENGINE: ClassVar[EngineRule] = Engine.act
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    accumulatorCmd: AccumCmd
    activationFunc: ActivationFunc
    scale: Immediate
    bias: Immediate
    imm: Immediate


@node(tag=149)
class NcActivate(OperatorPayload):
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


@node(tag=217)
class Activate2(OperatorPayload):
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


@node(tag=216)
class Exponential(OperatorPayload):
    """dst = exp(src - maxValue), optionally accumulating a sum into reduceRes (softmax helper)."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    maxValue: Operand
    reduceRes: TensorRef | None
    reducecmd: AccumCmd
    reduceInit: Operand


@node(tag=179)
class TensorReduce(OperatorPayload):
    """Reduce src with op along the innermost free axes named by opDim (negated: negate the result)."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    op: AluOp
    opDim: TensorSubDim
    negated: bool
    dtype: Dtype | None
    keepdims: bool


@node(tag=184)
class TensorPartitionReduce(OperatorPayload):
    """Reduce data across partitions with op."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    op: AluOp
    data: TensorRef
    dtype: Dtype | None


@node(tag=181)
class TensorScalarReduce(OperatorPayload):
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


@node(tag=185)
class SelectReduce(OperatorPayload):
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


@node(tag=164)
class RangeSelect(OperatorPayload):
    """Legacy range select: keep elements inside [bound0, bound1] (by compOp0/compOp1), else fillValue."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
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
class NcRangeSelect(OperatorPayload):
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


@node(tag=169)
class TensorTensorScan(OperatorPayload):
    """Scan along the free axis: acc = (src0 op0 acc) op1 src1, starting from imm0."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src0: TensorRef
    src1: TensorRef
    op0: AluOp
    op1: AluOp
    reverseOperands: TensorScalarReverseOps
    imm0: Operand
    accumulatorCmd: AccumCmd
    dtype: Dtype | None


@node(tag=211)
class TensorScalarCumulative(OperatorPayload):
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


@node(tag=160)
class LoadStationary(OperatorPayload):
    """Legacy PE: load the stationary (weights) matrix."""

    ENGINE: ClassVar[EngineRule] = Engine.pe
    TGR: ClassVar[bool] = True
    src: TensorRef
    isTranspose: bool


@node(tag=161)
class MatMul(OperatorPayload):
    """Legacy PE: multiply the moving matrix by the loaded stationary one."""

    ENGINE: ClassVar[EngineRule] = Engine.pe
    TGR: ClassVar[bool] = True
    dst: TensorRef
    moving: TensorRef


@node(tag=183)
class NcMatMul(OperatorPayload):
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


@node(tag=196)
class MatMulMX(OperatorPayload):
    """Matmul of MX-format operands with their scale tensors."""

    ENGINE: ClassVar[EngineRule] = Engine.pe
    CTOR: ClassVar[str | None] = "ncMatMulMX"
    dst: TensorRef
    stationary: TensorRef
    moving: TensorRef
    stationaryScale: TensorRef
    movingScale: TensorRef
    tilePosition: tuple[Nat, ...] | None
    tileSize: tuple[Nat, ...] | None


@node(tag=195)
class QuantizeMX(OperatorPayload):
    """Quantize src to the MX (microscaling) format, writing the scales to dstScale."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    dst: TensorRef
    src: TensorRef
    dstScale: TensorRef


@node(tag=175)
class BatchNormStats(OperatorPayload):
    """Per-partition batch-norm statistics of src."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None


@node(tag=174)
class BatchNormAggregate(OperatorPayload):
    """Combine batch-norm statistics into mean and variance."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None


@node(tag=173)
class Max8(OperatorPayload):
    """The 8 largest values of each partition."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None


@node(tag=171)
class FindIndex8(OperatorPayload):
    """Per partition, the index of the first element of src equal to each of 8 values."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    vals: TensorRef
    dtype: Dtype | None


@node(tag=172)
class MatchReplace8(OperatorPayload):
    """Replace the 8 matched values of src with replaceValue, optionally writing their indices."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    vals: TensorRef
    replaceValue: Immediate
    dstIdx: TensorRef | None
    dtype: Dtype | None


@node(tag=170)
class MatchValueLoad(OperatorPayload):
    """Load the vector engine's match values for a later find/replace."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    src: TensorRef


@node(tag=186)
class SequenceBounds(OperatorPayload):
    """Start and end bounds of each segment id."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    segmentIds: TensorRef
    dtype: Dtype | None


@node(tag=213)
class NonzeroWithCount(OperatorPayload):
    """Indices of the non-zero elements (plus indexOffset) and their count, padded with paddingVal."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    src: TensorRef
    indexOffset: Immediate
    paddingVal: Immediate


@node(tag=147)
class Dropout(OperatorPayload):
    """Randomly zero elements of src at the given rate."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    thresholdType: DropoutThresholdType
    threshold: Operand
    dtype: Dtype | None
