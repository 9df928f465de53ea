"""Statistics, top-8 search, non-zero indices, sequence bounds, random numbers, registers,
control flow and debug output."""

from __future__ import annotations

import numpy as np

from klr.core.mathops import (
    BatchNormAggregate,
    BatchNormStats,
    Dropout,
    FindIndex8,
    MatchReplace8,
    Max8,
    NonzeroWithCount,
    SequenceBounds,
)
from klr.core.optypes import BrCmpOp, DropoutThresholdType, Engine
from klr.core.rules import GPSIMD_PARTITIONS
from klr.core.sysops import (
    CmpBranch,
    CoreBarrier,
    DevicePrint,
    Rand2,
    RandGetState,
    RandSetState,
    RegisterAluOp,
    RegisterMove,
    Rng,
    SetRngSeed,
    TensorLoad,
    TensorStore,
)
from klr.interp import alu
from klr.interp.machine import F32, I64, Core, DevicePrintRecord, Tile, merge
from klr.interp.memory import CLEAN
from klr.interp.registry import impl

# --- batch-norm statistics ---------------------------------------------------------------------


def _stats(x: np.ndarray) -> np.ndarray:
    """[count, mean, sum of squared deviations] per row of x [P, n]."""
    n = x.shape[1]
    mean = x.mean(axis=1) if n else np.zeros(x.shape[0], F32)
    m2 = ((x - mean[:, None]) ** 2).sum(axis=1)
    return np.stack([np.full(x.shape[0], n, F32), mean.astype(F32), m2.astype(F32)], axis=1)


def _row_origin(origin: np.ndarray | None, width: int) -> np.ndarray | None:
    if origin is None:
        return None
    return np.repeat(origin.min(axis=1, initial=int(CLEAN))[:, None], width, axis=1)


@impl(BatchNormStats)
def batch_norm_stats(ctx: Core, op: BatchNormStats) -> None:
    src = ctx.load(op.src)
    x = src.num(F32)
    out = np.concatenate([_stats(x[:, 0::2]), _stats(x[:, 1::2])], axis=1)
    origin = None
    if src.origin is not None:
        origin = np.concatenate([_row_origin(src.origin[:, 0::2], 3),
                                 _row_origin(src.origin[:, 1::2], 3)], axis=1)
    ctx.store(op.dst, out, origin)


@impl(BatchNormAggregate)
def batch_norm_aggregate(ctx: Core, op: BatchNormAggregate) -> None:
    src = ctx.load(op.src)
    x = src.num(F32).astype(np.float64)
    count, mean, m2 = x[:, 0::3], x[:, 1::3], x[:, 2::3]
    total = count.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    grand = (count * mean).sum(axis=1) / safe
    var = (m2.sum(axis=1) + (count * (mean - grand[:, None]) ** 2).sum(axis=1)) / safe
    out = np.stack([np.where(total > 0, grand, 0.0), np.where(total > 0, var, 0.0)], axis=1)
    ctx.store(op.dst, out.astype(F32), _row_origin(src.origin, 2))


# --- top-8 search ------------------------------------------------------------------------------


@impl(Max8)
def max8(ctx: Core, op: Max8) -> None:
    src = ctx.load(op.src)
    top = np.sort(src.num(F32), axis=1)[:, ::-1][:, :8]
    ctx.store(op.dst, top, _row_origin(src.origin, 8))


def _not_found(ctx: Core, ref: object) -> int:
    dtype = ctx.view(ref).dtype
    return int(np.iinfo(dtype.numpy()).max) if dtype.is_int and not dtype.name.startswith("int") else -1


def _match8(x: np.ndarray, vals: np.ndarray, replace: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first match of each of the 8 values per row (-1 when absent); with
    ``replace``, each match is overwritten before the next value is searched."""
    index = np.full((x.shape[0], 8), -1, I64)
    rows = np.arange(x.shape[0])
    for j in range(8):
        hit = x == vals[:, j:j + 1]
        found = hit.any(axis=1)
        at = hit.argmax(axis=1)
        index[found, j] = at[found]
        if replace is not None:
            x[rows[found], at[found]] = replace
    return index, x


@impl(FindIndex8)
def find_index8(ctx: Core, op: FindIndex8) -> None:
    src, vals = ctx.load(op.src), ctx.load(op.vals)
    index, _ = _match8(src.num(F32), vals.num(F32), None)
    index = np.where(index < 0, _not_found(ctx, op.dst), index)
    ctx.store(op.dst, index, merge(_row_origin(src.origin, 8), vals.origin))


@impl(MatchReplace8)
def match_replace8(ctx: Core, op: MatchReplace8) -> None:
    src, vals = ctx.load(op.src), ctx.load(op.vals)
    x = src.num(F32).copy()
    index, replaced = _match8(x, vals.num(F32), float(np.float32(ctx.imm(op.replaceValue))))
    val_origin = _row_origin(vals.origin, src.F)
    ctx.store(op.dst, replaced, merge(src.origin, val_origin))
    if op.dstIdx is not None:
        index = np.where(index < 0, _not_found(ctx, op.dstIdx), index)
        ctx.store(op.dstIdx, index, merge(_row_origin(src.origin, 8), vals.origin))


# --- sequence bounds ---------------------------------------------------------------------------


@impl(SequenceBounds)
def sequence_bounds(ctx: Core, op: SequenceBounds) -> None:
    """Per row of ids: where each element's run of equal ids starts and ends (exclusive);
    id 0 is padding, with start n and end -1."""
    ids = ctx.load(op.segmentIds)
    x = ids.num(F32)
    p, n = x.shape
    pos = np.arange(n, dtype=I64)
    opens = np.ones((p, n), bool)
    opens[:, 1:] = x[:, 1:] != x[:, :-1]
    closes = np.ones((p, n), bool)
    closes[:, :-1] = x[:, :-1] != x[:, 1:]
    start = np.maximum.accumulate(np.where(opens, pos, 0), axis=1)
    end = np.minimum.accumulate(np.where(closes, pos + 1, n + 1)[:, ::-1], axis=1)[:, ::-1]
    pad = x == 0
    out = np.concatenate([np.where(pad, n, start), np.where(pad, -1, end)], axis=1)
    ctx.store(op.dst, out, _row_origin(ids.origin, 2 * n))


# --- non-zero indices -------------------------------------------------------------------------


@impl(NonzeroWithCount)
def nonzero_with_count(ctx: Core, op: NonzeroWithCount) -> None:
    """Only the first partition of each group of 16 (one GpSimd core each) is read and written:
    the indices of its non-zero elements plus indexOffset, then paddingVal up to src's length,
    then their count. The other partitions of dst keep their values."""
    src = ctx.load(op.src)
    offset, pad = int(ctx.imm(op.indexOffset)), int(ctx.imm(op.paddingVal))
    p, t = src.P, src.F
    out = np.full((p, t + 1), pad, I64)
    rows = np.arange(0, p, GPSIMD_PARTITIONS)
    for r in rows:
        found = np.flatnonzero(src.values[r] != 0)
        out[r, :found.size] = found + offset
        out[r, t] = found.size
    where = np.zeros((p, t + 1), bool)
    where[rows] = True
    ctx.store(op.dst, out, _row_origin(src.origin, t + 1), where=where)


# --- random numbers ----------------------------------------------------------------------------


def _unit(bits: np.ndarray) -> np.ndarray:
    """Uniform float32 values in [0, 1) from 32 random bits: their top 24 bits times 2**-24."""
    return (bits >> np.uint32(8)).astype(F32) * np.float32(2.0**-24)


@impl(Dropout)
def dropout(ctx: Core, op: Dropout) -> None:
    src = ctx.load(op.src)
    rate = ctx.operand(op.threshold)
    keep_rate = rate.num(F32)
    if op.thresholdType is DropoutThresholdType.DropRate:
        keep_rate = np.float32(1.0) - keep_rate
    keep = _unit(ctx.generators(Engine.dve).draw(src.P, src.F)) < keep_rate
    ctx.store(op.dst, np.where(keep, src.num(F32), np.float32(0.0)), merge(src.origin, rate.origin))


@impl(Rng)
def rng(ctx: Core, op: Rng) -> None:
    """32 random bits per element: an integer dst keeps their low bits (NKI), a float dst gets
    uniform [0, 1) values."""
    p, f = ctx.shape(op.dst)
    bits = ctx.generators(op.engine).draw(p, f)
    if ctx.view(op.dst).dtype.is_int:
        ctx.store(op.dst, bits.astype(I64), wrap=True)
    else:
        ctx.store(op.dst, _unit(bits))


@impl(Rand2)
def rand2(ctx: Core, op: Rand2) -> None:
    lo, hi = ctx.operand(op.min), ctx.operand(op.max)
    p, f = ctx.shape(op.dst)
    u = _unit(ctx.generators(Engine.dve).draw(p, f))
    ctx.store(op.dst, lo.num(F32) + u * (hi.num(F32) - lo.num(F32)), merge(lo.origin, hi.origin))


@impl(SetRngSeed)
def set_rng_seed(ctx: Core, op: SetRngSeed) -> None:
    """Seeds the vector engine's generators (NKI's set_rng_seed); GpSimd's keep their states."""
    seed = int(ctx.load(op.src).num(I64).reshape(-1)[0]) & 0xFFFFFFFF
    ctx.generators(Engine.dve).reseed(seed)


def _state_engine(engine: Engine) -> Engine:
    return Engine.dve if engine is Engine.dve else Engine.pool  # NKI's default is GpSimd


@impl(RandGetState)
def rand_get_state(ctx: Core, op: RandGetState) -> None:
    p, _ = ctx.shape(op.dst)
    ctx.store(op.dst, ctx.generators(_state_engine(op.engine)).get(p).astype(I64))


@impl(RandSetState)
def rand_set_state(ctx: Core, op: RandSetState) -> None:
    words = ctx.load(op.src)
    ctx.generators(_state_engine(op.engine)).set(words.num(I64) & 0xFFFFFFFF)


# --- registers and control flow ----------------------------------------------------------------


@impl(RegisterMove)
def register_move(ctx: Core, op: RegisterMove) -> None:
    ctx.set_reg(op.dst, op.imm)


@impl(RegisterAluOp)
def register_alu_op(ctx: Core, op: RegisterAluOp) -> None:
    """On exact integers; a fractional result is truncated toward zero (C's division), a result
    with no value (division by zero) is an error."""
    value = alu.apply(op.op, np.asarray(ctx.reg(op.src), I64), np.asarray(op.imm, I64))
    if value.dtype.kind == "f":
        if not np.isfinite(value):
            ctx.fail(f"{op.op.name} of register '{op.src}' ({ctx.reg(op.src)}) and {op.imm} has no "
                     f"integer value")
        value = np.trunc(value)
    ctx.set_reg(op.dst, int(value), ctx.reg_origin.get(op.src))


@impl(TensorLoad)
def tensor_load(ctx: Core, op: TensorLoad) -> None:
    tile = ctx.load(op.src)
    value = tile.num(F32) if not tile.dtype.is_int else tile.num(I64)
    code = None if tile.origin is None else int(tile.origin.reshape(-1)[0])
    ctx.set_reg(op.dst, int(np.rint(value.reshape(-1)[0])), code)


@impl(TensorStore)
def tensor_store(ctx: Core, op: TensorStore) -> None:
    value = ctx.reg(op.src)
    code = ctx.reg_origin.get(op.src)
    ctx.store(op.dst, np.full((1, 1), value, I64), None if code is None else np.full((1, 1), code))


_BRANCH = {
    BrCmpOp.lt_imm: np.less, BrCmpOp.le_imm: np.less_equal, BrCmpOp.eq_imm: np.equal,
    BrCmpOp.ne_imm: np.not_equal, BrCmpOp.ge_imm: np.greater_equal, BrCmpOp.gt_imm: np.greater,
    BrCmpOp.lt_reg: np.less, BrCmpOp.le_reg: np.less_equal, BrCmpOp.eq_reg: np.equal,
    BrCmpOp.ne_reg: np.not_equal, BrCmpOp.ge_reg: np.greater_equal, BrCmpOp.gt_reg: np.greater,
}


@impl(CmpBranch)
def cmp_branch(ctx: Core, op: CmpBranch) -> None:
    if op.op is BrCmpOp.always:
        ctx.jump = op.trueLabel
        return
    left = ctx.reg(op.reg1)
    right = ctx.reg(op.reg2) if op.op.name.endswith("_reg") else op.imm
    ctx.jump = op.trueLabel if bool(_BRANCH[op.op](left, right)) else op.falseLabel


@impl(CoreBarrier)
def core_barrier(ctx: Core, _op: CoreBarrier) -> None:
    ctx.at_barrier = True


PRINT_ELEMENTS = 10_000


@impl(DevicePrint)
def device_print(ctx: Core, op: DevicePrint) -> None:
    tile: Tile = ctx.load(op.src)
    # Every element up to PRINT_ELEMENTS, numpy's summary with '...' beyond (printing a
    # huge view whole would take minutes).
    text = op.printPrefix + np.array2string(tile.nd(), threshold=min(tile.values.size + 1, PRINT_ELEMENTS))
    ctx.machine.prints.append(DevicePrintRecord(op.buffer.name, text))
