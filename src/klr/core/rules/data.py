"""Rules of the operators that move, fill, generate, select and rearrange data (``klr.core.dataops``)."""

from __future__ import annotations

import math

from klr.core.dataops import (
    AffineSelect,
    Copy,
    CopyPredicated,
    DmaCompute,
    DmaCopy,
    DmaTranspose,
    Iota,
    LoadMaskRegister,
    LocalGather,
    MemSet,
    NcAffineSelect,
    NcCopy,
    NcDmaCopy,
    NcLocalGather,
    NcNGather,
    Shuffle,
    Transpose,
)
from klr.core.numerics import COMPARISONS
from klr.core.optypes import AluOp, DataPattern, Engine, TransposeOps
from klr.core.rules.base import (
    DMA,
    GPSIMD_PARTITIONS,
    PACKED,
    SBUF,
    Arg,
    Check,
    RuleError,
    dtype_in,
    in_memory,
    not_both_in_psum,
    number,
    op_in,
    rule,
    same_count,
    same_dtype,
    same_partitions,
    same_shape,
)
from klr.dtypes import Dtype

DMA_ENGINES = (Engine.sp, Engine.act, Engine.pool, Engine.dma)
"""Engines that may start a DMA (queue it, or generate its descriptors)."""


def _dma_modes(dge_mode: int, priority: int | None) -> None:
    if dge_mode > 3:
        raise RuleError(f"dgeMode {dge_mode} is not a DGE mode (0 unknown, 1 software, 2 hardware, 3 none)")
    if priority is not None and priority > 3:
        raise RuleError(f"priority {priority} is not a DMA priority (0 to 3)")


@rule(NcDmaCopy, memories=DMA, engines=DMA_ENGINES)
def nc_dma_copy(c: Check, op: NcDmaCopy) -> None:
    """Equal element counts; DMA reaches HBM and SBUF."""
    same_count(c("dst"), c("src"))
    if c.hardware:
        _dma_modes(op.dgeMode, op.priority)


@rule(DmaCopy, memories=DMA)
def dma_copy(c: Check, op: DmaCopy) -> None:
    same_count(c("dst"), c("src"))


@rule(DmaTranspose, memories=DMA)
def dma_transpose(c: Check, op: DmaTranspose) -> None:
    """A permutation other than None reads a 4-d src (None: a 4-d src is copied, any other has
    its axes reversed); equal counts; dst is in SBUF and keeps src's dtype."""
    src = c("src")
    if op.axes is not TransposeOps.None_ and len(src.shape) != 4:
        raise RuleError(f"src must be a 4-d access pattern to transpose but has shape {src.text}")
    same_count(dst := c("dst"), src)
    if c.hardware:
        _dma_modes(op.dgeMode, op.priority)
        in_memory(dst, *SBUF)
        same_dtype(src, dst)
        if op.dgeMode == 2:  # hardware DGE transposes 2-byte elements, at most 128 per row
            dtype_in(src, [d for d in Dtype if d.size == 2 and not d.is_packed], "a 2-byte type")
            if src.shape and src.shape[-1] > 128:
                raise RuleError(f"src's last dimension is {src.shape[-1]}, at most 128 for a "
                                f"hardware-DGE transpose")


@rule(DmaCompute, memories=DMA)
def dma_compute(c: Check, op: DmaCompute) -> None:
    """One scale per source, every source the size of dst; in hardware: add of up to 16 sources,
    unscaled."""
    if len(op.scales) != len(op.srcs):
        raise RuleError(f"{len(op.srcs)} srcs need as many scales but {len(op.scales)} are given")
    if not op.srcs:
        raise RuleError("there are no srcs")
    dst = c("dst")
    for src in c.each("srcs"):
        if src.count != dst.count:
            raise RuleError(f"{src.name} has {src.count} elements but dst has {dst.count}")
    if c.hardware:
        if len(op.srcs) > 16:
            raise RuleError(f"there are {len(op.srcs)} srcs, at most 16")
        op_in("reduceOp", op.reduceOp, (AluOp.add,))
        for i, scale in enumerate(op.scales):
            if number(scale) != 1:
                raise RuleError(f"scales[{i}] is not 1.0; DMA engines add their sources unscaled")


@rule(NcCopy, engines=(Engine.act, Engine.dve, Engine.pool))
def nc_copy(c: Check, op: NcCopy) -> None:
    same_shape(c("dst"), c("src"))


@rule(Copy)
def copy(c: Check, op: Copy) -> None:
    same_shape(c("dst"), c("src"))


@rule(CopyPredicated)
def copy_predicated(c: Check, op: CopyPredicated) -> None:
    """dst, src and predicate agree; in hardware the predicate is unsigned, src keeps dst's dtype."""
    dst, src, predicate = c("dst"), c("src"), c("predicate")
    same_shape(dst, src, predicate)
    if c.hardware:
        not_both_in_psum(src, predicate)
        dtype_in(predicate, (Dtype.uint8, Dtype.uint16, Dtype.uint32))
        same_dtype(dst, src)


@rule(MemSet, engines=(Engine.dve, Engine.pool))
def mem_set(c: Check, op: MemSet) -> None:
    """Any value; packed fp8/fp4 tiles can only be zeroed."""
    if c.hardware and c("dst").dtype in PACKED and number(op.value) != 0:
        raise RuleError(f"dst has the packed dtype {c('dst').dtype.name}, which memSet can only fill "
                        f"with 0")


def _pattern_fits(field: str, pattern: DataPattern, dst: Arg, hardware: bool) -> None:
    count = math.prod(p.num for p in pattern.pattern)
    if count != dst.free:
        raise RuleError(f"{field} generates {count} values per partition but dst has {dst.free}")
    if hardware and len(pattern.pattern) > 4:
        raise RuleError(f"{field} has {len(pattern.pattern)} [step, num] pairs, at most 4")


@rule(Iota, memories=SBUF)
def iota(c: Check, op: Iota) -> None:
    """The pattern generates dst's elements per partition."""
    _pattern_fits("pattern", op.pattern, c("dst"), c.hardware)


@rule(NcAffineSelect, memories=SBUF)
def nc_affine_select(c: Check, op: NcAffineSelect) -> None:
    dst = c("dst")
    _pattern_fits("pred", op.pred, dst, c.hardware)
    same_shape(dst, c("onTrueTile"))
    if c.hardware:
        op_in("cmpOp", op.cmpOp, COMPARISONS)


@rule(AffineSelect, memories=SBUF)
def affine_select(c: Check, op: AffineSelect) -> None:
    dst = c("dst")
    _pattern_fits("maskPattern", op.maskPattern, dst, c.hardware)
    same_shape(dst, c("src"))


@rule(Transpose, engines=(Engine.dve,))
def transpose(c: Check, op: Transpose) -> None:
    """dst is src with partitions and free elements swapped; in hardware at most 32 x 32."""
    src, dst = c("src"), c("dst")
    (p, f), (dp, df) = src.pf, dst.pf
    if (dp, df) != (f, p):
        raise RuleError(f"dst must be the [{f}, {p}] transpose of a [{p}, {f}] src but has {dp} x {df}")
    if c.hardware:
        if p > 32 or f > 32:
            raise RuleError(f"src is [{p}, {f}]; the vector engine transposes at most [32, 32]")
        same_dtype(src, dst)


@rule(Shuffle)
def shuffle(c: Check, op: Shuffle) -> None:
    """A mask of at most one quadrant; src as wide as dst, with no more partitions."""
    if len(op.shuffleMask) > 32:
        raise RuleError(f"shuffleMask has {len(op.shuffleMask)} entries; a quadrant has 32 partitions")
    src, dst = c("src"), c("dst")
    if src.free != dst.free:
        raise RuleError(f"src has {src.free} elements per partition but dst has {dst.free}")
    if src.partitions > dst.partitions:
        raise RuleError(f"src has {src.partitions} partitions, more than the {dst.partitions} of dst")
    if c.hardware:
        same_dtype(src, dst)


@rule(LoadMaskRegister)
def load_mask_register(c: Check, op: LoadMaskRegister) -> None:
    """Only a register number: nothing to check."""


@rule(LocalGather, memories=SBUF)
def local_gather(c: Check, op: LocalGather) -> None:
    same_partitions(c("dst"), c("src"))


_ELEMS_PER_INDEX = (1, 2, 4, 8, 16, 32)


@rule(NcLocalGather, memories=SBUF)
def nc_local_gather(c: Check, op: NcLocalGather) -> None:
    """src, index and dst span the same partitions, whole groups of 16 (one GpSimd core each)."""
    src, index, dst = c("src"), c("index"), c("dst")
    same_partitions(src, index, dst)
    if src.partitions % GPSIMD_PARTITIONS:
        raise RuleError(f"src spans {src.partitions} partitions, not a multiple of {GPSIMD_PARTITIONS}")
    if c.hardware:
        dtype_in(index, (Dtype.uint16,))
        same_dtype(src, dst)
        per = number(op.numElemPerIdx)
        if per is not None and per not in _ELEMS_PER_INDEX:
            raise RuleError(f"numElemPerIdx is {per}, but it must be 1, 2, 4, 8, 16 or 32")
        valid = number(op.numValidIndicies)
        indices = GPSIMD_PARTITIONS * index.free if valid is None else valid
        if indices > 4096:
            raise RuleError(f"each GpSimd core gathers {indices} indices, at most 4096")


@rule(NcNGather, memories=SBUF)
def nc_n_gather(c: Check, op: NcNGather) -> None:
    """dst has the shape of indices, and data and indices span dst's partitions."""
    dst, data, indices = c("dst"), c("data"), c("indices")
    same_partitions(dst, data, indices)
    if dst.pf != indices.pf:
        raise RuleError(f"dst has {dst.partitions} x {dst.free} elements but indices has "
                        f"{indices.partitions} x {indices.free}")
    if c.hardware:
        dtype_in(indices, (Dtype.uint32,))
        same_dtype(data, dst)
