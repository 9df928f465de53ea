"""Core operators for control flow, registers, communication between ranks, random numbers and debugging.

These are the payloads of the Operator constructors that do not compute on tensor elements
(see ``klr.core.operators`` for the Operator sum, its constructor order and the conventions
shared by all payloads).
"""

from __future__ import annotations

from typing import ClassVar

from klr.core.optypes import (
    AluOp,
    BrCmpOp,
    Engine,
    EngineRule,
    Operand,
    OperatorPayload,
    PrintOutputBuffer,
    ReplicaGroup,
    ReplicaUnspecified,
)
from klr.core.tensor import Immediate, TensorRef
from klr.schema import Int, Nat, node


@node(tag=187)
class SendRecv(OperatorPayload):
    """Point-to-point exchange of a tensor between ranks."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    src: TensorRef
    sendToRank: Immediate
    recvFromRank: Immediate
    pipeId: Immediate
    useGpsimdDma: bool


@node(tag=188)
class SendRecvCompute(OperatorPayload):
    """Exchange tensors between ranks and combine them with op."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dsts: tuple[TensorRef, ...]
    srcs: tuple[TensorRef, ...]
    sendToRanks: tuple[Immediate, ...]
    recvFromRanks: tuple[Immediate, ...]
    pipeId: Immediate
    op: AluOp


@node(tag=190)
class TensorLoad(OperatorPayload):
    """Load the named register from a 1x1 tensor access."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: str
    src: TensorRef


@node(tag=191)
class TensorStore(OperatorPayload):
    """Store the named register into a 1x1 tensor access."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    src: str


@node(tag=192)
class RegisterMove(OperatorPayload):
    """Set the named register to an immediate."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: str
    imm: Int


@node(tag=193)
class CmpBranch(OperatorPayload):
    """Jump to trueLabel if (reg1 op imm-or-reg2) holds, else to falseLabel; op=always is a jump."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    reg1: str
    reg2: str
    imm: Int
    op: BrCmpOp
    trueLabel: str
    falseLabel: str


@node(tag=194)
class RegisterAluOp(OperatorPayload):
    """dst register = src register op imm."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: str
    src: str
    imm: Int
    op: AluOp


@node(tag=199)
class CollectiveOp(OperatorPayload):
    """A collective communication over ranks (the Operator constructor says which)."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dsts: tuple[TensorRef, ...]
    srcs: tuple[TensorRef, ...]
    op: AluOp | None = None
    replicaGroup: ReplicaGroup = ReplicaUnspecified()
    concatDim: Int | None = None
    sourceTargetPairs: tuple[tuple[Int, ...], ...] | None = None
    channel_id: Int | None = None
    num_channels: Int | None = None
    priority: Nat | None = None


@node(tag=199, name="CollectiveOp")
class AllReduce(CollectiveOp):
    """Reduce srcs over all ranks of the group; every rank gets the result."""


@node(tag=199, name="CollectiveOp")
class AllGather(CollectiveOp):
    """Concatenate srcs of all ranks; every rank gets the result."""


@node(tag=199, name="CollectiveOp")
class ReduceScatter(CollectiveOp):
    """Reduce over ranks and give each rank one slice of the result."""


@node(tag=199, name="CollectiveOp")
class CollectivePermute(CollectiveOp):
    """Send srcs to the ranks given by sourceTargetPairs."""


@node(tag=199, name="CollectiveOp")
class CollectivePermuteImplicit(CollectiveOp):
    """Collective permute with implicit (ring) targets."""


@node(tag=199, name="CollectiveOp")
class CollectivePermuteImplicitReduce(CollectiveOp):
    """Implicit collective permute that reduces what it receives."""


@node(tag=199, name="CollectiveOp")
class Broadcast(CollectiveOp):
    """Copy one rank's srcs to all ranks."""


@node(tag=199, name="CollectiveOp")
class AllToAll(CollectiveOp):
    """Every rank sends a distinct slice to every other rank."""


@node(tag=200)
class RankId(OperatorPayload):
    """Set the named register to this rank's id."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: str


@node(tag=201)
class CurrentProcessingRankId(OperatorPayload):
    """Set the named register to the rank processed in an implicit-permute iteration."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: str
    iterationId: Int
    channelId: Int
    numChannels: Int
    replicaGroup: tuple[tuple[Int, ...], ...]


@node(tag=202)
class Send(OperatorPayload):
    """Send srcs to a peer rank."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    op: AluOp
    srcs: tuple[TensorRef, ...]
    peerId: Int


@node(tag=203)
class Recv(OperatorPayload):
    """Receive dsts from a peer rank."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    op: AluOp
    dsts: tuple[TensorRef, ...]
    replicaGroups: tuple[Int, ...]
    peerId: Int


@node(tag=204)
class CoreBarrier(OperatorPayload):
    """Barrier across logical cores (lnc_barrier) through data."""

    ENGINE: ClassVar[EngineRule] = "field"
    data: TensorRef
    cores: tuple[Int, ...]
    engine: Engine


@node(tag=205)
class Rng(OperatorPayload):
    """Fill dst with random bits."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    engine: Engine


@node(tag=206)
class Rand2(OperatorPayload):
    """Fill dst with uniform random values in [min, max]."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    dst: TensorRef
    min: Operand
    max: Operand


@node(tag=207)
class RandGetState(OperatorPayload):
    """Read the random generator state into dst."""

    ENGINE: ClassVar[EngineRule] = "field"
    dst: TensorRef
    engine: Engine


@node(tag=208)
class SetRngSeed(OperatorPayload):
    """Seed the random generator from src."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    src: TensorRef


@node(tag=209)
class RandSetState(OperatorPayload):
    """Write the random generator state from src."""

    ENGINE: ClassVar[EngineRule] = "field"
    src: TensorRef
    engine: Engine


@node(tag=210)
class ExtendedInst(OperatorPayload):
    """An opaque raw instruction (escape hatch)."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    opcode: Nat
    hasRead: bool
    hasWrite: bool
    ports: Nat
    data0: tuple[Nat, ...]
    data1: tuple[Nat, ...]


@node(tag=215)
class DevicePrint(OperatorPayload):
    """Print a tensor from the device, prefixed by printPrefix."""

    ENGINE: ClassVar[EngineRule] = Engine.unassigned
    src: TensorRef
    printPrefix: str
    buffer: PrintOutputBuffer

