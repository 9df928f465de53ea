"""Every Operator constructor: its class, payload tag, constructor number and engine, as in the reference."""

from __future__ import annotations

import pytest

from klr.core import (
    OPERATOR_CLASSES,
    OPERATOR_NAMES,
    TGR_OPERATOR_NAMES,
    AccumCmd,
    ActivationFunc,
    ActivationReduce,
    AllReduce,
    CollectiveOp,
    DgeComputeOp,
    DmaError,
    Dtype,
    Engine,
    ImmFloat,
    Memory,
    NcActivate,
    NcDmaCopy,
    Operator,
    TensorName,
    TGROperator,
    engine_of,
    full_access,
    operator_ctor,
    operator_name,
)
from klr.schema import Kind, describe, info_of

# (constructor, payload struct, payload tag, engine: an Engine name or "field"), in constructor order.
OPERATORS = [
    ("activate", "Activate", 148, "act"),
    ("ncActivate", "NcActivate", 149, "act"),
    ("activationReduce", "NcActivate", 149, "act"),
    ("affineSelect", "AffineSelect", 150, "pool"),
    ("ncAffineSelect", "NcAffineSelect", 151, "pool"),
    ("batchNormAggregate", "BatchNormAggregate", 174, "dve"),
    ("batchNormStats", "BatchNormStats", 175, "dve"),
    ("copy", "Copy", 177, "unassigned"),
    ("ncCopy", "NcCopy", 178, "field"),
    ("copyPredicated", "CopyPredicated", 168, "dve"),
    ("dmaCopy", "DmaCopy", 152, "dma"),
    ("ncDmaCopy", "NcDmaCopy", 153, "field"),
    ("dmaTranspose", "DmaTranspose", 154, "dma"),
    ("dropout", "Dropout", 147, "dve"),
    ("findIndex8", "FindIndex8", 171, "dve"),
    ("iota", "Iota", 159, "pool"),
    ("loadMaskRegister", "LoadMaskRegister", 156, "dve"),
    ("loadStationary", "LoadStationary", 160, "pe"),
    ("localGather", "LocalGather", 162, "pool"),
    ("ncLocalGather", "NcLocalGather", 163, "pool"),
    ("matMul", "MatMul", 161, "pe"),
    ("ncMatMul", "NcMatMul", 183, "pe"),
    ("matchReplace8", "MatchReplace8", 172, "dve"),
    ("matchValueLoad", "MatchValueLoad", 170, "dve"),
    ("max8", "Max8", 173, "dve"),
    ("memSet", "MemSet", 158, "field"),
    ("rangeSelect", "RangeSelect", 164, "dve"),
    ("ncRangeSelect", "NcRangeSelect", 165, "dve"),
    ("reciprocal", "Reciprocal", 176, "dve"),
    ("scalarTensorTensor", "ScalarTensorTensor", 166, "dve"),
    ("ncScalarTensorTensor", "NcScalarTensorTensor", 167, "dve"),
    ("shuffle", "Shuffle", 157, "dve"),
    ("tensorReduce", "TensorReduce", 179, "unassigned"),
    ("tensorScalar", "TensorScalar", 180, "field"),
    ("tensorTensor", "TensorTensor", 182, "field"),
    ("tensorTensorScan", "TensorTensorScan", 169, "dve"),
    ("tensorPartitionReduce", "TensorPartitionReduce", 184, "pool"),
    ("tensorScalarReduce", "TensorScalarReduce", 181, "dve"),
    ("transpose", "Transpose", 155, "field"),
    ("selectReduce", "SelectReduce", 185, "dve"),
    ("sequenceBounds", "SequenceBounds", 186, "pool"),
    ("sendRecv", "SendRecv", 187, "unassigned"),
    ("sendRecvCompute", "SendRecvCompute", 188, "unassigned"),
    ("tensorLoad", "TensorLoad", 190, "unassigned"),
    ("tensorStore", "TensorStore", 191, "unassigned"),
    ("registerMove", "RegisterMove", 192, "unassigned"),
    ("cmpBranch", "CmpBranch", 193, "unassigned"),
    ("registerAluOp", "RegisterAluOp", 194, "unassigned"),
    ("quantizeMX", "QuantizeMX", 195, "dve"),
    ("ncMatMulMX", "MatMulMX", 196, "pe"),
    ("dmaCompute", "DmaCompute", 197, "dma"),
    ("allReduce", "CollectiveOp", 199, "unassigned"),
    ("allGather", "CollectiveOp", 199, "unassigned"),
    ("reduceScatter", "CollectiveOp", 199, "unassigned"),
    ("collectivePermute", "CollectiveOp", 199, "unassigned"),
    ("collectivePermuteImplicit", "CollectiveOp", 199, "unassigned"),
    ("collectivePermuteImplicitReduce", "CollectiveOp", 199, "unassigned"),
    ("broadcast", "CollectiveOp", 199, "unassigned"),
    ("allToAll", "CollectiveOp", 199, "unassigned"),
    ("rankId", "RankId", 200, "unassigned"),
    ("currentProcessingRankId", "CurrentProcessingRankId", 201, "unassigned"),
    ("send", "Send", 202, "unassigned"),
    ("recv", "Recv", 203, "unassigned"),
    ("coreBarrier", "CoreBarrier", 204, "field"),
    ("rng", "Rng", 205, "field"),
    ("rand2", "Rand2", 206, "unassigned"),
    ("randGetState", "RandGetState", 207, "field"),
    ("setRngSeed", "SetRngSeed", 208, "unassigned"),
    ("randSetState", "RandSetState", 209, "field"),
    ("extendedInst", "ExtendedInst", 210, "unassigned"),
    ("tensorScalarCumulative", "TensorScalarCumulative", 211, "dve"),
    ("ncNGather", "NcNGather", 212, "unassigned"),
    ("nonzeroWithCount", "NonzeroWithCount", 213, "unassigned"),
    ("devicePrint", "DevicePrint", 215, "unassigned"),
    ("exponential", "Exponential", 216, "dve"),
    ("activate2", "Activate2", 217, "act"),
]


def test_operator_sum_has_76_constructors_in_reference_order() -> None:
    desc = describe(Operator)
    assert desc.kind is Kind.SUM and desc.sum is not None
    assert desc.sum.tag == 218
    assert len(OPERATORS) == 76
    assert list(desc.ctor_names) == [name for name, *_ in OPERATORS]
    assert desc.ctor_names == OPERATOR_NAMES
    assert len(set(OPERATOR_CLASSES)) == 76  # one class per constructor


@pytest.mark.parametrize(("index", "row"), list(enumerate(OPERATORS)), ids=[r[0] for r in OPERATORS])
def test_each_constructor_has_its_class_tag_and_number(index: int, row: tuple[str, str, int, str]) -> None:
    name, payload, tag, engine = row
    cls = OPERATOR_CLASSES[index]
    assert OPERATOR_NAMES[index] == name
    member = describe(Operator).args[index]
    assert member.kind is Kind.STRUCT and member.cls is cls  # wrapped: d9 da <index> 81 <payload>
    assert info_of(cls).tag == tag
    assert info_of(cls).lean == payload
    assert (engine if engine == "field" else Engine[engine]) == cls.ENGINE


def test_shared_payloads_are_distinct_subclasses() -> None:
    assert issubclass(ActivationReduce, NcActivate) and ActivationReduce is not NcActivate
    collectives = OPERATOR_CLASSES[51:59]
    assert all(issubclass(c, CollectiveOp) and c is not CollectiveOp for c in collectives)
    assert len(set(collectives)) == 8
    op = AllReduce(dsts=(), srcs=())
    assert operator_ctor(op) == 51 and operator_name(op) == "allReduce"


def test_engine_of_fixed_and_field_engines() -> None:
    t = full_access(TensorName.make("t", Dtype.float32, [128, 512], Memory.sbuf))
    act = NcActivate(t, t, AccumCmd.Idle, ActivationFunc.exp, ImmFloat(1.0), None, None, None, None)
    assert engine_of(act) is Engine.act
    dma = NcDmaCopy(t, t, DgeComputeOp.none, DmaError(), 0, False, None, Engine.sp)
    assert engine_of(dma) is Engine.sp
    assert engine_of(AllReduce((), ())) is Engine.unassigned


def test_tgr_operator_is_the_legacy_subset() -> None:
    desc = describe(TGROperator)
    assert desc.sum is not None and desc.sum.tag == 219
    assert desc.ctor_names == TGR_OPERATOR_NAMES and len(TGR_OPERATOR_NAMES) == 28
    by_name = dict(zip(OPERATOR_NAMES, OPERATOR_CLASSES, strict=True))
    assert [a.cls for a in desc.args] == [by_name[n] for n in TGR_OPERATOR_NAMES]
