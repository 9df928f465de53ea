"""Core operators that move, fill, generate, select and rearrange data: DMA, copies, memset,
iota, affine selects, transposes, shuffles and gathers.

Each payload class has the reference's name, tag and fields in wire order (see
``klr.core.operators`` for the Operator sum, its constructor order and the conventions shared by
all payloads).
"""

from __future__ import annotations

from typing import ClassVar

from klr.core.optypes import (
    AffineSelectCmp,
    AluOp,
    DataPattern,
    DgeComputeOp,
    DmaBounds,
    Engine,
    EngineRule,
    IndexMissBehavior,
    OperatorPayload,
    TensorSubDim,
    TransposeOps,
)
from klr.core.tensor import Dtype, Immediate, Reg, TensorRef
from klr.schema import Nat, node


@node(tag=152)
class DmaCopy(OperatorPayload):
    """Legacy DMA transfer between on-chip memories."""

    ENGINE: ClassVar[EngineRule] = Engine.dma
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    compute_op: DgeComputeOp
    dstBoundsCheck: DmaBounds
    srcBoundsCheck: DmaBounds


@node(tag=153)
class NcDmaCopy(OperatorPayload):
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
class DmaTranspose(OperatorPayload):
    """Transpose the axes of src while moving it by DMA."""

    ENGINE: ClassVar[EngineRule] = Engine.dma
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    axes: TransposeOps
    dtype: Dtype | None
    dgeMode: Nat
    oobMode: DmaBounds
    priority: Nat | None


@node(tag=197)
class DmaCompute(OperatorPayload):
    """DMA that combines several scaled sources with reduceOp into dst."""

    ENGINE: ClassVar[EngineRule] = Engine.dma
    dst: TensorRef
    srcs: tuple[TensorRef, ...]
    scales: tuple[Immediate, ...]
    reduceOp: AluOp


@node(tag=177)
class Copy(OperatorPayload):
    """Legacy element-wise copy."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    opDim: TensorSubDim | None


@node(tag=178)
class NcCopy(OperatorPayload):
    """tensor_copy: element-wise copy with dtype conversion."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None
    engine: Engine


@node(tag=168)
class CopyPredicated(OperatorPayload):
    """Copy src to dst where predicate is non-zero (zero when reversePred)."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    predicate: TensorRef
    dtype: Dtype | None
    reversePred: bool


@node(tag=158)
class MemSet(OperatorPayload):
    """Fill dst with a constant."""

    ENGINE: ClassVar[EngineRule] = "field"
    TGR: ClassVar[bool] = True
    dst: TensorRef
    value: Immediate
    dtype: Dtype
    engine: Engine


@node(tag=159)
class Iota(OperatorPayload):
    """Fill dst with the values of an affine pattern."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    TGR: ClassVar[bool] = True
    dst: TensorRef
    pattern: DataPattern
    dtype: Dtype | None


@node(tag=150)
class AffineSelect(OperatorPayload):
    """Legacy affine select: src where the maskPattern value compares (fillMode) with 0, else fillReg."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    fillMode: AffineSelectCmp
    fillReg: Reg
    maskPattern: DataPattern


@node(tag=151)
class NcAffineSelect(OperatorPayload):
    """dst = onTrueTile where ``cmpOp(pred value, 0)`` holds, else onFalseValue."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    pred: DataPattern
    onTrueTile: TensorRef
    onFalseValue: Immediate
    dtype: Dtype | None
    cmpOp: AluOp


@node(tag=155)
class Transpose(OperatorPayload):
    """Transpose 32x32 blocks on a vector engine."""

    ENGINE: ClassVar[EngineRule] = "field"
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    dtype: Dtype | None
    engine: Engine


@node(tag=157)
class Shuffle(OperatorPayload):
    """nc_stream_shuffle: permute partitions within each group of 32 by shuffleMask."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    shuffleMask: tuple[Immediate, ...]
    dtype: Dtype | None


@node(tag=156)
class LoadMaskRegister(OperatorPayload):
    """Legacy: select the register used as the vector engine's shuffle mask."""

    ENGINE: ClassVar[EngineRule] = Engine.dve
    TGR: ClassVar[bool] = True
    regNum: Reg


@node(tag=162)
class LocalGather(OperatorPayload):
    """Legacy gather within partitions."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    TGR: ClassVar[bool] = True
    dst: TensorRef
    src: TensorRef
    indexMissBehavior: IndexMissBehavior
    freePoolBuffer: bool


@node(tag=163)
class NcLocalGather(OperatorPayload):
    """local_gather: gather elements by index within each partition group."""

    ENGINE: ClassVar[EngineRule] = Engine.pool
    dst: TensorRef
    src: TensorRef
    index: TensorRef
    numElemPerIdx: Immediate
    numValidIndicies: Immediate | None


@node(tag=212)
class NcNGather(OperatorPayload):
    """Gather data along the free axis by an index tensor."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    data: TensorRef
    indices: TensorRef
    dtype: Dtype | None
