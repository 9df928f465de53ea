"""Operators that move, fill, generate, select and rearrange data (no arithmetic on values).

Copies keep bits exactly when source and destination have the same dtype and convert
(``cast_to``) otherwise. Origin codes follow the data they describe.
"""

from __future__ import annotations

import numpy as np

from klr.core.dataops import (
    AffineSelect,
    Copy,
    CopyPredicated,
    DmaCompute,
    DmaCopy,
    DmaTranspose,
    Iota,
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
from klr.core.optypes import AffineSelectCmp, AluOp, DataPattern, DgeComputeOp, IndexMissSkip, TransposeOps
from klr.core.rules import GPSIMD_PARTITIONS as _GROUP  # one GpSimd core's partitions
from klr.interp import alu
from klr.interp.machine import F32, I64, Core, Tile, compute_kind, merge, select_origin
from klr.interp.registry import impl

# --- copies ------------------------------------------------------------------------------------


@impl(NcDmaCopy, DmaCopy)
def dma_copy(ctx: Core, op: NcDmaCopy | DmaCopy) -> None:
    """Elements pair up in row-major order; under skip, a pair with an element outside its
    tensor is not transferred."""
    src = ctx.load(op.src)
    where = _both_valid(src.valid, ctx.view(op.dst).valid)
    if op.compute_op is DgeComputeOp.add:
        dst = ctx.load(op.dst)
        kind = compute_kind(src.dtype, dst.dtype)
        total = dst.num(kind).reshape(-1) + src.num(kind).reshape(-1)
        ctx.store(op.dst, total, merge(_flat(dst.origin), _flat(src.origin)), where=where)
    else:
        ctx.store(op.dst, src.values, src.origin, where=where)


def _both_valid(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """Row-major pairs whose two elements are inside their tensors (None: all)."""
    if a is None and b is None:
        return None
    if a is None:
        assert b is not None
        return b.reshape(-1)
    return a.reshape(-1) if b is None else a.reshape(-1) & b.reshape(-1)


def _flat(origin: np.ndarray | None) -> np.ndarray | None:
    return None if origin is None else origin.reshape(-1)


@impl(NcCopy, Copy)
def tensor_copy(ctx: Core, op: NcCopy | Copy) -> None:
    src = ctx.load(op.src)
    ctx.store(op.dst, src.values, src.origin)


@impl(MemSet)
def mem_set(ctx: Core, op: MemSet) -> None:
    p, f = ctx.shape(op.dst)
    ctx.store(op.dst, np.full((p, f), ctx.imm(op.value)))


@impl(CopyPredicated)
def copy_predicated(ctx: Core, op: CopyPredicated) -> None:
    pred = ctx.load(op.predicate)
    src = ctx.load(op.src)
    dst = ctx.load(op.dst)
    take = (pred.values.astype(F32) != 0) != op.reversePred
    kind = compute_kind(src.dtype, dst.dtype)
    out = np.where(take, src.num(kind), dst.num(kind))
    origin = merge(pred.origin, select_origin(take, src.origin, dst.origin))
    ctx.store(op.dst, out, origin)


# --- generated values --------------------------------------------------------------------------


def pattern_values(pattern: DataPattern, partitions: int) -> np.ndarray:
    """``offset + p*channelMultiplier + sum(i_j*step_j)`` [P, prod(nums)], computed in 32-bit
    integer arithmetic (NKI's iota): the int64 result wraps to int32."""
    free = np.zeros(1, I64)
    for pair in pattern.pattern:
        free = (free[:, None] + np.arange(pair.num, dtype=I64) * pair.step).reshape(-1)
    chan = np.arange(partitions, dtype=I64)[:, None] * pattern.channelMultiplier
    return (pattern.offset + chan + free[None, :]).astype(np.int32).astype(I64)


@impl(Iota)
def iota(ctx: Core, op: Iota) -> None:
    ctx.store(op.dst, pattern_values(op.pattern, ctx.shape(op.dst)[0]))


@impl(NcAffineSelect)
def nc_affine_select(ctx: Core, op: NcAffineSelect) -> None:
    on_true = ctx.load(op.onTrueTile)
    values = pattern_values(op.pred, on_true.P)
    keep = alu.apply(op.cmpOp, values, np.zeros((), I64)) != 0
    _write_select(ctx, op.dst, keep, on_true, ctx.imm(op.onFalseValue))


_AFFINE_CMP = {
    AffineSelectCmp.GreaterThan: AluOp.is_gt,
    AffineSelectCmp.GreaterThanEq: AluOp.is_ge,
    AffineSelectCmp.Eq: AluOp.is_equal,
    AffineSelectCmp.NotEq: AluOp.not_equal,
}


@impl(AffineSelect)
def affine_select(ctx: Core, op: AffineSelect) -> None:
    src = ctx.load(op.src)
    values = pattern_values(op.maskPattern, src.P)
    keep = alu.apply(_AFFINE_CMP[op.fillMode], values, np.zeros((), I64)) != 0
    _write_select(ctx, op.dst, keep, src, ctx.reg(str(op.fillReg)))


def _write_select(ctx: Core, dst: object, keep: np.ndarray, on_true: Tile, fill: float | int) -> None:
    kind = compute_kind(on_true.dtype, ctx.view(dst).dtype, imms=(fill,))
    out = np.where(keep, on_true.num(kind), np.asarray(fill).astype(kind))
    ctx.store(dst, out, select_origin(keep, on_true.origin, None))


# --- rearrangements ----------------------------------------------------------------------------


@impl(Transpose)
def transpose(ctx: Core, op: Transpose) -> None:
    src = ctx.load(op.src)
    ctx.store(op.dst, src.values.T, None if src.origin is None else src.origin.T)


_PERMUTATIONS: dict[TransposeOps, tuple[int, int, int, int]] = {
    TransposeOps.None_: (0, 1, 2, 3), TransposeOps.WZXY: (0, 1, 3, 2),
    TransposeOps.WXZY: (0, 3, 1, 2), TransposeOps.WYXZ: (0, 2, 3, 1),
    TransposeOps.ZWYX: (1, 0, 2, 3), TransposeOps.ZYWX: (1, 2, 0, 3),
    TransposeOps.ZYXW: (1, 2, 3, 0), TransposeOps.YXWZ: (2, 3, 0, 1),
    TransposeOps.YXZW: (2, 3, 1, 0), TransposeOps.YWZX: (2, 0, 1, 3),
    TransposeOps.XWZY: (3, 0, 1, 2), TransposeOps.XZYW: (3, 1, 2, 0),
    TransposeOps.XYZW: (3, 2, 1, 0), TransposeOps.XYWZ: (3, 2, 0, 1),
}


@impl(DmaTranspose)
def dma_transpose(ctx: Core, op: DmaTranspose) -> None:
    """A 4-d src is permuted by ``axes``; any other src (axes None) has its axes reversed, NKI's
    default for 2-d and 3-d tiles (size-1 axes, where they are, do not change the order)."""
    src = ctx.load(op.src)
    dst_valid = ctx.view(op.dst).valid
    perm = _PERMUTATIONS[op.axes] if len(src.shape) == 4 else tuple(reversed(range(len(src.shape))))
    values = src.nd().transpose(perm)
    origin = None if src.origin is None else src.nd(src.origin).transpose(perm)
    valid = None if src.valid is None else src.nd(src.valid).transpose(perm)
    ctx.store(op.dst, values, origin, where=_both_valid(valid, dst_valid))


@impl(Shuffle)
def shuffle(ctx: Core, op: Shuffle) -> None:
    """Partition i of each 32-partition group of dst takes partition shuffleMask[i] of the
    same group of src; src may have fewer partitions than dst (a broadcast of its rows)."""
    src = ctx.load(op.src)
    dst = ctx.load(op.dst)
    rows = np.arange(dst.P)
    take = np.zeros(dst.P, bool)
    for i, m in enumerate(op.shuffleMask):
        choice = int(ctx.imm(m))
        if choice == 255:
            continue
        if not 0 <= choice < 32:
            ctx.fail(f"shuffleMask[{i}] = {choice} is not a partition of a quadrant (0..31) or 255")
        targets = np.arange(i, dst.P, 32)
        sources = targets - i + choice
        if sources.size and sources.max() >= src.P:
            ctx.fail(f"shuffleMask[{i}] = {choice} names partition {int(sources.max())} of a "
                     f"{src.P}-partition src")
        rows[targets] = sources
        take[targets] = True
    kind = compute_kind(src.dtype, dst.dtype)
    picked = np.where(take, rows, 0)
    out = np.where(take[:, None], src.num(kind)[picked], dst.num(kind))
    origin = select_origin(take[:, None], None if src.origin is None else src.origin[picked], dst.origin)
    ctx.store(op.dst, out, origin)


# --- gathers -----------------------------------------------------------------------------------


def _indices(ctx: Core, tile: Tile, limit: int, what: str) -> np.ndarray:
    idx = tile.num(I64)
    if idx.size and (idx.min() < 0 or idx.max() >= limit):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        ctx.fail(f"{what} {bad} is outside the {limit} elements of a partition")
    return idx


@impl(NcNGather)
def nc_n_gather(ctx: Core, op: NcNGather) -> None:
    data = ctx.load(op.data)
    index = ctx.load(op.indices)
    idx = _indices(ctx, index, data.F, "index")
    out = np.take_along_axis(data.values, idx, axis=1)
    origin = merge(None if data.origin is None else np.take_along_axis(data.origin, idx, axis=1),
                   index.origin)
    ctx.store(op.dst, out, origin)


@impl(LocalGather)
def legacy_local_gather(ctx: Core, op: LocalGather) -> None:
    """The legacy gather reads its data from the GpSimd pool buffer, which no Core operator
    fills: every index misses, so dst gets the miss value (or, under skip, keeps its own)."""
    if isinstance(op.indexMissBehavior, IndexMissSkip):
        return
    p, f = ctx.shape(op.dst)
    ctx.store(op.dst, np.full((p, f), ctx.imm(op.indexMissBehavior)))


@impl(NcLocalGather)
def nc_local_gather(ctx: Core, op: NcLocalGather) -> None:
    src = ctx.load(op.src)
    index = ctx.load(op.index)
    per_idx = int(ctx.imm(op.numElemPerIdx))
    valid = _GROUP * index.F if op.numValidIndicies is None else int(ctx.imm(op.numValidIndicies))
    if not 0 <= valid <= _GROUP * index.F:
        ctx.fail(f"numValidIndicies {valid} exceeds the {_GROUP * index.F} indices of a "
                 f"{_GROUP}-partition group")
    if ctx.shape(op.dst)[1] != valid * per_idx:
        ctx.fail(f"dst must have {valid * per_idx} elements per partition ({valid} indices x "
                 f"{per_idx}) but has {ctx.shape(op.dst)[1]}")
    groups = src.P // _GROUP
    # Indices of a group are read partition-first: column by column of the [16, F] index slice.
    order = index.num(I64).reshape(groups, _GROUP, index.F).transpose(0, 2, 1).reshape(groups, -1)
    starts = order[:, :valid]
    columns = (starts[:, :, None] + np.arange(per_idx)).reshape(groups, -1)
    if columns.size and (starts.min() < 0 or columns.max() >= src.F):
        ctx.fail(f"an index reads past the {src.F} elements of a partition")
    rows = src.values.reshape(groups, _GROUP, src.F)
    out = np.take_along_axis(rows, columns[:, None, :], axis=2)
    origin = None
    if src.origin is not None:
        origin = np.take_along_axis(src.origin.reshape(groups, _GROUP, src.F), columns[:, None, :], 2)
    if index.origin is not None:
        idx_origin = index.origin.reshape(groups, _GROUP, index.F).transpose(0, 2, 1)
        idx_origin = np.repeat(idx_origin.reshape(groups, -1)[:, :valid], per_idx, axis=1)
        origin = merge(origin, idx_origin[:, None, :])
    shape = (src.P, valid * per_idx)
    ctx.store(op.dst, out.reshape(shape), None if origin is None else np.broadcast_to(
        origin, (groups, _GROUP, valid * per_idx)).reshape(shape))


# --- DMA with compute --------------------------------------------------------------------------


@impl(DmaCompute)
def dma_compute(ctx: Core, op: DmaCompute) -> None:
    acc: np.ndarray | None = None
    origin: np.ndarray | None = None
    for src_ref, scale in zip(op.srcs, op.scales, strict=True):
        src = ctx.load(src_ref)
        term = src.num(F32).reshape(-1) * np.float32(ctx.imm(scale))
        acc = term if acc is None else alu.apply(op.reduceOp, acc, term)
        origin = merge(origin, _flat(src.origin))
    assert acc is not None
    ctx.store(op.dst, acc, origin)
