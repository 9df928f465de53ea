"""Communication and the instructions that only touch engine state.

The interpreter is one rank (rank 0) of a world of one rank, with the logical cores of the
``LncKernel`` as that rank's NeuronCores. So:

* ``sendRecv`` and ``sendRecvCompute`` exchange tiles between the logical cores (NKI: between
  the NeuronCores of one LNC; ranks 0 and 1 are cores 0 and 1). A core's message is its
  source as read when it executes the instruction; a core that has nothing to receive yet
  waits, and the run fails when every unfinished core waits (a deadlock).
* The collectives are those of a replica group holding rank 0 alone: an all-reduce, an
  all-gather, a reduce-scatter, a broadcast and an all-to-all copy each source to its
  destination; a ring permute receives its own data. A replica group naming another rank is
  an error: the interpreter has no other rank.
* ``send``/``recv`` queue tiles between ranks; on one rank only rank 0 can be the peer.
* ``rankId`` and ``currentProcessingRankId`` are 0.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from klr.core.dataops import LoadMaskRegister
from klr.core.mathops import MatchValueLoad
from klr.core.numerics import BITVEC
from klr.core.optypes import AluOp, ReplicaLiteral
from klr.core.sysops import (
    AllGather,
    AllReduce,
    AllToAll,
    Broadcast,
    CollectiveOp,
    CollectivePermute,
    CollectivePermuteImplicit,
    CollectivePermuteImplicitReduce,
    CurrentProcessingRankId,
    ExtendedInst,
    RankId,
    Recv,
    ReduceScatter,
    Send,
    SendRecv,
    SendRecvCompute,
)
from klr.interp import alu
from klr.interp.machine import Core, Tile, bits_of, kept, kind_of, merge
from klr.interp.registry import impl

RANK = 0
"""The interpreter's rank."""


def _group(ctx: Core, groups: tuple[tuple[int, ...], ...]) -> None:
    """Check that the replica group holding this rank holds it alone (no groups: the world)."""
    if not groups:
        return
    mine = [g for g in groups if RANK in g]
    if not mine:
        ctx.fail(f"no replica group in {[list(g) for g in groups]} holds rank {RANK}, the "
                 f"interpreter's only rank")
    if len(set(mine[0])) > 1:
        ctx.fail(f"replica group {list(mine[0])} has {len(set(mine[0]))} ranks; the interpreter runs "
                 f"one rank")


def _literal(op: CollectiveOp) -> tuple[tuple[int, ...], ...]:
    return op.replicaGroup.groups if isinstance(op.replicaGroup, ReplicaLiteral) else ()


def _copy(ctx: Core, dst: object, src: Tile) -> None:
    count = int(np.prod(ctx.view(dst).shape, dtype=np.int64))
    if count != src.values.size:
        ctx.fail(f"a destination of {count} elements receives {src.values.size} from one rank")
    ctx.store(dst, src.values, src.origin)


@impl(AllReduce, AllGather, ReduceScatter, Broadcast, AllToAll, CollectivePermuteImplicit)
def single_rank_collective(ctx: Core, op: CollectiveOp) -> None:
    """On a group of one rank every one of these delivers each source to its destination."""
    _group(ctx, _literal(op))
    for dst, src in zip(op.dsts, op.srcs, strict=True):
        _copy(ctx, dst, ctx.load(src))


@impl(CollectivePermute)
def collective_permute(ctx: Core, op: CollectivePermute) -> None:
    """Rank 0 receives from the source of the pair that targets it; with no such pair its
    destinations are zero-filled (XLA's collective permute)."""
    pairs = [tuple(p) for p in op.sourceTargetPairs or ()]
    for pair in pairs:
        if len(pair) != 2 or any(r != RANK for r in pair):
            ctx.fail(f"source-target pair {list(pair)} names a rank other than {RANK}, the "
                     f"interpreter's only rank")
    for dst, src in zip(op.dsts, op.srcs, strict=True):
        tile = ctx.load(src)
        if pairs:
            _copy(ctx, dst, tile)
        else:
            ctx.store(dst, np.zeros(tile.values.shape, tile.values.dtype))


@impl(CollectivePermuteImplicitReduce)
def collective_permute_implicit_reduce(ctx: Core, op: CollectivePermuteImplicitReduce) -> None:
    """dsts[i] = op(srcs[i], srcs[n + i]) for n destinations: each rank reduces its two sources
    and receives its ring predecessor's result, which on one rank is its own."""
    _group(ctx, _literal(op))
    n = len(op.dsts)
    reduce_op = op.op or AluOp.add
    for i, dst in enumerate(op.dsts):
        a, b = ctx.load(op.srcs[i]), ctx.load(op.srcs[n + i])
        dt = ctx.view(dst).dtype
        kind = kind_of(dt, a, b)
        out = alu.apply(reduce_op, a.num(kind).reshape(-1), b.num(kind).reshape(-1), bits_of(dt, a, b))
        ctx.store(dst, out, merge(_flat(a), _flat(b)), wrap=reduce_op in BITVEC)


def _flat(t: Tile) -> np.ndarray | None:
    return None if t.origin is None else t.origin.reshape(-1)


@impl(RankId)
def rank_id(ctx: Core, op: RankId) -> None:
    ctx.set_reg(op.dst, RANK)


@impl(CurrentProcessingRankId)
def current_processing_rank_id(ctx: Core, op: CurrentProcessingRankId) -> None:
    """At every iteration of a ring of one rank, the data processed is the rank's own."""
    _group(ctx, op.replicaGroup)
    ctx.set_reg(op.dst, RANK)


# --- point to point ----------------------------------------------------------------------------


def _mailbox(ctx: Core) -> dict[tuple[object, ...], deque[list[Tile]]]:
    return ctx.machine.mail


def _post(ctx: Core, key: tuple[object, ...], tiles: list[Tile]) -> None:
    _mailbox(ctx).setdefault(key, deque()).append([kept(t) for t in tiles])
    ctx.machine.sent += 1


def _take(ctx: Core, key: tuple[object, ...]) -> list[Tile] | None:
    queue = _mailbox(ctx).get(key)
    return queue.popleft() if queue else None


def _core_rank(ctx: Core, value: int, what: str) -> int:
    if not 0 <= value < ctx.machine.cores:
        ctx.fail(f"{what} {value} is not a logical core of this kernel (0 to {ctx.machine.cores - 1})")
    return value


@impl(SendRecv)
def send_recv(ctx: Core, op: SendRecv) -> None:
    """Send src to core sendToRank and receive into dst what core recvFromRank sends this core
    on the same pipe."""
    to = _core_rank(ctx, int(ctx.imm(op.sendToRank)), "sendToRank")
    frm = _core_rank(ctx, int(ctx.imm(op.recvFromRank)), "recvFromRank")
    pipe = int(ctx.imm(op.pipeId))
    if not ctx.resuming:
        _post(ctx, ("sendRecv", ctx.index, to, pipe), [ctx.load(op.src)])
    got = _take(ctx, ("sendRecv", frm, ctx.index, pipe))
    if got is None:
        ctx.waiting = True
        return
    _copy(ctx, op.dst, got[0])


@impl(SendRecvCompute)
def send_recv_compute(ctx: Core, op: SendRecvCompute) -> None:
    """Send srcs to every core of sendToRanks; dsts[i] = op folded over srcs[i] and the srcs[i]
    received from each core of recvFromRanks, in that order."""
    pipe = int(ctx.imm(op.pipeId))
    targets = [_core_rank(ctx, int(ctx.imm(r)), "sendToRanks") for r in op.sendToRanks]
    sources = [_core_rank(ctx, int(ctx.imm(r)), "recvFromRanks") for r in op.recvFromRanks]
    if not ctx.resuming:
        mine = [ctx.load(src) for src in op.srcs]
        for to in targets:
            _post(ctx, ("sendRecvCompute", ctx.index, to, pipe), mine)
        ctx.received = []
    pending = ctx.received
    for frm in sources[len(pending):]:
        got = _take(ctx, ("sendRecvCompute", frm, ctx.index, pipe))
        if got is None:
            ctx.waiting = True
            return
        pending.append(got)
    for i, dst in enumerate(op.dsts):
        tiles = [ctx.load(op.srcs[i]), *(msg[i] for msg in pending)]
        dt = ctx.view(dst).dtype
        kind, bits = kind_of(dt, *tiles), bits_of(dt, *tiles)
        acc = tiles[0].num(kind).reshape(-1)
        for t in tiles[1:]:
            acc = alu.apply(op.op, acc, t.num(kind).reshape(-1), bits)
        ctx.store(dst, acc, merge(*(_flat(t) for t in tiles)), wrap=op.op in BITVEC)
    ctx.received = []


def _peer(ctx: Core, peer: int, what: str) -> None:
    if peer != RANK:
        ctx.fail(f"{what} rank {peer}: the interpreter runs one rank (rank {RANK})")


@impl(Send)
def send(ctx: Core, op: Send) -> None:
    """Queue srcs for the peer rank (the receiver's operator combines them)."""
    _peer(ctx, op.peerId, "send to")
    _post(ctx, ("rank", RANK, op.peerId), [ctx.load(src) for src in op.srcs])


@impl(Recv)
def recv(ctx: Core, op: Recv) -> None:
    """Take the oldest tiles the peer sent: dsts[i] = received[i] (bypass), else
    op(dsts[i], received[i])."""
    _peer(ctx, op.peerId, "receive from")
    got = _take(ctx, ("rank", op.peerId, RANK))
    if got is None:
        ctx.fail(f"rank {op.peerId} sent nothing to receive")
    if len(got) != len(op.dsts):
        ctx.fail(f"{len(op.dsts)} dsts receive a message of {len(got)} tensors")
    for dst, tile in zip(op.dsts, got, strict=True):
        if op.op is AluOp.bypass:
            _copy(ctx, dst, tile)
            continue
        old = ctx.load(dst)
        dt = ctx.view(dst).dtype
        kind = kind_of(dt, old, tile)
        out = alu.apply(op.op, old.num(kind).reshape(-1), tile.num(kind).reshape(-1), bits_of(dt, old, tile))
        ctx.store(dst, out, merge(_flat(old), _flat(tile)), wrap=op.op in BITVEC)


# --- engine state ------------------------------------------------------------------------------


@impl(LoadMaskRegister)
def load_mask_register(ctx: Core, op: LoadMaskRegister) -> None:
    """Select the Vector engine's mask register; no Core operator reads it (shuffle carries its
    mask), so nothing observable changes."""
    ctx.engine_state["mask_register"] = op.regNum


@impl(MatchValueLoad)
def match_value_load(ctx: Core, op: MatchValueLoad) -> None:
    """Load the Vector engine's 8 match values per partition; findIndex8 and matchReplace8 carry
    their values, so nothing observable changes."""
    ctx.engine_state["match_values"] = kept(ctx.load(op.src))


@impl(ExtendedInst)
def extended_inst(ctx: Core, op: ExtendedInst) -> None:
    """An opaque instruction names no Core operand: without hasWrite it changes nothing Core can
    observe; with hasWrite its effect is undefined, an error."""
    if op.hasWrite:
        ctx.fail(f"extendedInst opcode {op.opcode} writes state that Core cannot name; its effect "
                 f"is undefined")
