"""Rules of the statistics, top-8 search, sequence and random-number operators, and of the
system operators (``klr.core.sysops``): registers, control flow, cores, ranks and debug output."""

from __future__ import annotations

from klr.core.mathops import (
    BatchNormAggregate,
    BatchNormStats,
    Dropout,
    FindIndex8,
    MatchReplace8,
    MatchValueLoad,
    Max8,
    NonzeroWithCount,
    SequenceBounds,
)
from klr.core.optypes import Engine
from klr.core.rules.base import (
    ANYWHERE,
    BN_STATS_FMAX,
    DMA,
    HBM,
    SBUF,
    Arg,
    Check,
    RuleError,
    dtype_in,
    free_at_least,
    free_at_most,
    free_size,
    number,
    per_partition,
    rule,
    same_count,
    same_dtype,
    same_partitions,
    same_shape,
)
from klr.core.sysops import (
    AllGather,
    AllReduce,
    AllToAll,
    Broadcast,
    CmpBranch,
    CollectiveOp,
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
from klr.dtypes import Dtype

MAX8_FMAX = 16384
"""Elements per partition the top-8 search family reads at most."""
INDEX_DTYPES = (Dtype.uint16, Dtype.uint32)
RANDOM_INTS = (Dtype.int8, Dtype.int16, Dtype.int32, Dtype.uint8, Dtype.uint16, Dtype.uint32)
RANDOM_ENGINES = (Engine.dve, Engine.pool)


# --- statistics and top-8 ----------------------------------------------------------------------


@rule(BatchNormStats)
def batch_norm_stats(c: Check, op: BatchNormStats) -> None:
    """Six statistics per partition; in hardware from at most 512 elements."""
    dst, src = c("dst"), c("src")
    same_partitions(dst, src)
    free_size(dst, 6)
    if c.hardware:
        free_at_most(src, BN_STATS_FMAX, " (nl.tile_size.bn_stats_fmax)")


@rule(BatchNormAggregate)
def batch_norm_aggregate(c: Check, op: BatchNormAggregate) -> None:
    """(count, mean, variance*count) triples in, mean and variance out."""
    dst, src = c("dst"), c("src")
    same_partitions(dst, src)
    free_size(dst, 2)
    if src.free % 3:
        raise RuleError(f"src must hold (count, mean, variance*count) triples but has {src.free} "
                        f"elements per partition")


def _searched(src: Arg) -> None:
    if src.free < 8:
        raise RuleError(f"src must have at least 8 elements per partition but has {src.free}")


@rule(Max8)
def max8(c: Check, op: Max8) -> None:
    """Eight values per partition out of at least eight (at most 16384 in hardware)."""
    dst, src = c("dst"), c("src")
    same_partitions(dst, src)
    free_size(dst, 8)
    _searched(src)
    if c.hardware:
        free_at_most(src, MAX8_FMAX)


@rule(FindIndex8)
def find_index8(c: Check, op: FindIndex8) -> None:
    """Eight indices per partition for eight values; in hardware unsigned 16- or 32-bit."""
    dst, src, vals = c("dst"), c("src"), c("vals")
    same_partitions(dst, src, vals)
    free_size(dst, 8)
    free_size(vals, 8)
    if c.hardware:
        free_at_least(src, 8)
        free_at_most(src, MAX8_FMAX)
        dtype_in(dst, INDEX_DTYPES)


@rule(MatchReplace8)
def match_replace8(c: Check, op: MatchReplace8) -> None:
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    same_partitions(dst, vals := c("vals"))
    free_size(vals, 8)
    free_size(index := c.opt("dstIdx"), 8)
    if c.hardware:
        free_at_least(src, 8)
        free_at_most(src, MAX8_FMAX)
        dtype_in(index, INDEX_DTYPES)


@rule(MatchValueLoad)
def match_value_load(c: Check, op: MatchValueLoad) -> None:
    """The eight values a later find or replace matches."""
    free_size(c("src"), 8)


@rule(SequenceBounds)
def sequence_bounds(c: Check, op: SequenceBounds) -> None:
    """A start and an end per segment id; in hardware one partition of float32 or int32."""
    ids, dst = c("segmentIds"), c("dst")
    (p, n) = ids.pf
    if dst.pf != (p, 2 * n):
        raise RuleError(f"dst must hold [{p}, 2, {n}] elements (start and end per segment id) but has "
                        f"shape {dst.text}")
    if c.hardware:
        if p != 1:
            raise RuleError(f"segmentIds has {p} partitions, but sequence bounds work on one")
        dtype_in(ids, (Dtype.float32, Dtype.int32))
        dtype_in(dst, (Dtype.float32, Dtype.int32))


@rule(NonzeroWithCount, memories=SBUF)
def nonzero_with_count(c: Check, op: NonzeroWithCount) -> None:
    """Per partition the indices then the count: one element more than src."""
    dst, src = c("dst"), c("src")
    same_partitions(dst, src)
    if dst.free != src.free + 1:
        raise RuleError(f"dst must have {src.free + 1} elements per partition (the indices and the "
                        f"count) but has {dst.free}")
    if c.hardware:
        dtype_in(src, (Dtype.float32, Dtype.int32))
        dtype_in(dst, (Dtype.int32,))


# --- random numbers ----------------------------------------------------------------------------


@rule(Dropout)
def dropout(c: Check, op: Dropout) -> None:
    """dst is src's shape and the threshold a per-partition scalar."""
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    per_partition(threshold := c.opt("threshold"), src)
    if c.hardware:
        same_dtype(src, dst)
        if src.dtype.is_int:
            dtype_in(threshold, (Dtype.float32,))


@rule(Rng, engines=RANDOM_ENGINES)
def rng(c: Check, op: Rng) -> None:
    """Random bits into an integer tile."""
    if c.hardware:
        dtype_in(c("dst"), RANDOM_INTS)


@rule(Rand2)
def rand2(c: Check, op: Rand2) -> None:
    """min and max are per-partition scalars; constant bounds are increasing."""
    dst = c("dst")
    per_partition(c.opt("min"), dst)
    per_partition(c.opt("max"), dst)
    if c.hardware:
        lo, hi = number(op.min), number(op.max)
        if lo is not None and hi is not None and not lo < hi:
            raise RuleError(f"min {lo} is not below max {hi}")
        dtype_in(dst, (*RANDOM_INTS, Dtype.float8e4, Dtype.float8e5, Dtype.float16, Dtype.bfloat16,
                       Dtype.float32, Dtype.float32r))


def _rng_state(c: Check, field: str, engine: Engine) -> None:
    state = c(field)
    free_size(state, 24 if engine is Engine.dve else 6)
    if c.hardware:
        dtype_in(state, (Dtype.uint32,))


@rule(RandGetState, engines=RANDOM_ENGINES)
def rand_get_state(c: Check, op: RandGetState) -> None:
    """The generator state: 6 words per lane on GpSimd (and unassigned), 24 on the vector engine;
    in hardware uint32."""
    _rng_state(c, "dst", op.engine)


@rule(RandSetState, memories=SBUF, engines=RANDOM_ENGINES)
def rand_set_state(c: Check, op: RandSetState) -> None:
    _rng_state(c, "src", op.engine)


@rule(SetRngSeed)
def set_rng_seed(c: Check, op: SetRngSeed) -> None:
    """One 32-bit seed."""
    if c.hardware:
        src = c("src")
        if src.count != 1:
            raise RuleError(f"src must be a single element but has {src.count}")
        if src.dtype.size != 4:
            raise RuleError(f"src has dtype {src.dtype.name}, but a seed is a 32-bit value")


# --- registers and control flow ----------------------------------------------------------------


def _one_element(a: Arg, hardware: bool) -> None:
    if a.count != 1:
        raise RuleError(f"{a.name} must be a single element but has {a.count}")
    if hardware and a.dtype.size > 4:
        raise RuleError(f"{a.name} has dtype {a.dtype.name}, wider than a 32-bit register")


@rule(TensorLoad, memories=DMA)
def tensor_load(c: Check, op: TensorLoad) -> None:
    """A register loads one element of HBM or SBUF."""
    _one_element(c("src"), c.hardware)


@rule(TensorStore, memories=DMA)
def tensor_store(c: Check, op: TensorStore) -> None:
    _one_element(c("dst"), c.hardware)


@rule(RegisterMove, RegisterAluOp, CmpBranch, RankId, CurrentProcessingRankId, ExtendedInst)
def registers_only(c: Check, op: object) -> None:
    """No tensor operands: nothing to check here (``check_kernel`` checks branch targets)."""


@rule(CoreBarrier, memories=HBM)
def core_barrier(c: Check, op: CoreBarrier) -> None:
    """The barrier guards data in HBM shared by the cores (the memory rule is all there is)."""


@rule(DevicePrint, memories=ANYWHERE)
def device_print(c: Check, op: DevicePrint) -> None:
    """Any tensor, in any memory, can be printed."""


# --- communication between ranks ---------------------------------------------------------------


@rule(SendRecv, memories=SBUF)
def send_recv(c: Check, op: SendRecv) -> None:
    """What is sent has the shape of what is received; in hardware also its dtype."""
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    if c.hardware:
        same_dtype(src, dst)


def _pairs(dsts: list[Arg], srcs: list[Arg]) -> None:
    if len(dsts) != len(srcs):
        raise RuleError(f"there are {len(dsts)} dsts but {len(srcs)} srcs; they go in pairs")
    for d, s in zip(dsts, srcs, strict=True):
        same_count(d, s)


@rule(SendRecvCompute, memories=SBUF)
def send_recv_compute(c: Check, op: SendRecvCompute) -> None:
    _pairs(c.each("dsts"), c.each("srcs"))
    if len(op.sendToRanks) != len(op.recvFromRanks):
        raise RuleError(f"there are {len(op.sendToRanks)} sendToRanks but {len(op.recvFromRanks)} "
                        f"recvFromRanks")


_REDUCING = (AllReduce, ReduceScatter, CollectivePermuteImplicitReduce)
_SAME_SIZE = (AllReduce, Broadcast, CollectivePermute, CollectivePermuteImplicit)


@rule(AllReduce, AllGather, ReduceScatter, CollectivePermute, CollectivePermuteImplicit,
      CollectivePermuteImplicitReduce, Broadcast, AllToAll, memories=ANYWHERE)
def collective(c: Check, op: CollectiveOp) -> None:
    """Sources and destinations; a reduction names its operator; collectives that keep sizes pair
    each destination with a source of its size."""
    dsts, srcs = c.each("dsts"), c.each("srcs")
    if not srcs or not dsts:
        raise RuleError("a collective needs srcs and dsts")
    if isinstance(op, _REDUCING) and op.op is None:
        raise RuleError("op is missing; this collective reduces")
    if isinstance(op, _SAME_SIZE):
        _pairs(dsts, srcs)
    if isinstance(op, CollectivePermuteImplicitReduce):
        if len(srcs) != 2 * len(dsts):
            raise RuleError(f"there are {len(dsts)} dsts but {len(srcs)} srcs; each dst reduces two srcs "
                            f"(srcs[i] and srcs[{len(dsts)} + i])")
        for i, d in enumerate(dsts):
            same_count(d, srcs[i])
            same_count(d, srcs[len(dsts) + i])


@rule(Send, memories=ANYWHERE)
def send(c: Check, op: Send) -> None:
    if not c.each("srcs"):
        raise RuleError("there are no srcs to send")


@rule(Recv, memories=ANYWHERE)
def recv(c: Check, op: Recv) -> None:
    if not c.each("dsts"):
        raise RuleError("there are no dsts to receive into")
