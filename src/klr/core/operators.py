"""The Operator sum (tag 218): every Core instruction, in the reference's constructor order.

The union below is the one ordered list of Core operators. A constructor's number is its
class's position in it; everything else about an operator is declared on its payload class
(``klr.core.dataops``, ``klr.core.mathops``, ``klr.core.sysops``): its tag and fields (``@node``),
the engine the reference reports (``ENGINE``, ``"field"`` for an operator with its own ``engine``
field), whether TGR's legacy subset has it (``TGR``) and, when the class name does not give it,
its constructor name (``CTOR``). The name table, the TGROperator sum and the lookups here are
derived from those.

Where the reference uses one payload for several constructors (``ncActivate`` and
``activationReduce``, the eight collectives), each constructor has its own subclass, so the class
of a value names its constructor.
"""

from __future__ import annotations

import typing
from typing import Annotated, Union

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
from klr.core.mathops import (
    Activate,
    Activate2,
    ActivationReduce,
    BatchNormAggregate,
    BatchNormStats,
    Dropout,
    Exponential,
    FindIndex8,
    LoadStationary,
    MatchReplace8,
    MatchValueLoad,
    MatMul,
    MatMulMX,
    Max8,
    NcActivate,
    NcMatMul,
    NcRangeSelect,
    NcScalarTensorTensor,
    NonzeroWithCount,
    QuantizeMX,
    RangeSelect,
    Reciprocal,
    ScalarTensorTensor,
    SelectReduce,
    SequenceBounds,
    TensorPartitionReduce,
    TensorReduce,
    TensorScalar,
    TensorScalarCumulative,
    TensorScalarReduce,
    TensorTensor,
    TensorTensorScan,
)
from klr.core.optypes import Engine, OperatorPayload
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
from klr.schema import Sum

__all__ = [
    "Operator", "TGROperator", "OPERATOR_CLASSES", "OPERATOR_NAMES", "TGR_OPERATOR_CLASSES",
    "TGR_OPERATOR_NAMES", "ctor_name", "operator_ctor", "operator_name", "engine_of",
]

_OPERATORS = (
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
    | NcNGather | NonzeroWithCount | DevicePrint | Exponential | Activate2
)

OPERATOR_CLASSES: tuple[type[OperatorPayload], ...] = typing.get_args(_OPERATORS)
"""The Operator member classes in constructor order."""


def ctor_name(cls: type[OperatorPayload]) -> str:
    """The reference's constructor name of a payload class (``tensorTensor``, ``ncMatMulMX``...)."""
    return cls.CTOR or cls.__name__[0].lower() + cls.__name__[1:]


OPERATOR_NAMES: tuple[str, ...] = tuple(map(ctor_name, OPERATOR_CLASSES))

Operator = Annotated[_OPERATORS, Sum("Operator", 218, names=OPERATOR_NAMES)]

TGR_OPERATOR_CLASSES: tuple[type[OperatorPayload], ...] = tuple(c for c in OPERATOR_CLASSES if c.TGR)
TGR_OPERATOR_NAMES: tuple[str, ...] = tuple(map(ctor_name, TGR_OPERATOR_CLASSES))

TGROperator: object = Annotated[
    Union[TGR_OPERATOR_CLASSES], Sum("TGROperator", 219, names=TGR_OPERATOR_NAMES)]
"""The legacy subset of Operator used by TGR, in Operator's order; the classes are shared."""

_CTOR_INDEX: dict[type, int] = {cls: i for i, cls in enumerate(OPERATOR_CLASSES)}


def operator_ctor(op: object) -> int:
    """The Operator constructor number of an operator value."""
    return _CTOR_INDEX[type(op)]


def operator_name(op: object) -> str:
    """The reference's constructor name of an operator value (``tensorTensor``, ``activationReduce``...)."""
    return OPERATOR_NAMES[_CTOR_INDEX[type(op)]]


def engine_of(op: OperatorPayload) -> Engine:
    """The engine that runs ``op``, as the reference's ``Operator.engine`` reports it."""
    rule = type(op).ENGINE
    if rule == "field":
        engine = getattr(op, "engine")  # noqa: B009  (only the classes whose ENGINE says so have it)
        assert isinstance(engine, Engine)
        return engine
    return rule
