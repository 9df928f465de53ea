"""Operands and one valid operator of every Core class, for the static-rule tests.

``GOOD[cls]`` passes every rule, hardware ones included; the rejection tests change one field
of it (``dataclasses.replace``) and expect one message.
"""

from __future__ import annotations

from klr.core import (
    Activate,
    Activate2,
    ActivationReduce,
    AffineSelect,
    AllGather,
    AllReduce,
    AllToAll,
    APPair,
    BatchNormAggregate,
    BatchNormStats,
    BirAccessPattern,
    Broadcast,
    CmpBranch,
    CollectivePermute,
    CollectivePermuteImplicit,
    CollectivePermuteImplicitReduce,
    Copy,
    CopyPredicated,
    CoreBarrier,
    CurrentProcessingRankId,
    DataPattern,
    DevicePrint,
    DmaCompute,
    DmaCopy,
    DmaError,
    DmaTranspose,
    Dropout,
    Exponential,
    ExtendedInst,
    FindIndex8,
    ImmFloat,
    ImmInt,
    IndexMissSkip,
    Iota,
    LoadMaskRegister,
    LoadStationary,
    LocalGather,
    MatchReplace8,
    MatchValueLoad,
    MatMul,
    MatMulMX,
    Max8,
    Memory,
    MemSet,
    NcActivate,
    NcAffineSelect,
    NcCopy,
    NcDmaCopy,
    NcLocalGather,
    NcMatMul,
    NcNGather,
    NcRangeSelect,
    NcScalarTensorTensor,
    NonzeroWithCount,
    QuantizeMX,
    Rand2,
    RandGetState,
    RandSetState,
    RangeSelect,
    RankId,
    Reciprocal,
    Recv,
    ReduceScatter,
    RegisterAluOp,
    RegisterMove,
    Rng,
    ScalarTensorTensor,
    SelectReduce,
    Send,
    SendRecv,
    SendRecvCompute,
    SequenceBounds,
    SetRngSeed,
    Shuffle,
    TensorLoad,
    TensorName,
    TensorPartitionReduce,
    TensorReduce,
    TensorScalar,
    TensorScalarCumulative,
    TensorScalarReduce,
    TensorStore,
    TensorTensor,
    TensorTensorScan,
    Transpose,
    full_access,
)
from klr.core.optypes import (
    AccumCmd,
    ActivationFunc,
    AffineSelectCmp,
    AluOp,
    BrCmpOp,
    DgeComputeOp,
    DropoutThresholdType,
    Engine,
    MatmulPerfMode,
    OperatorPayload,
    PrintOutputBuffer,
    TensorScalarReverseOps,
    TensorSubDim,
    TransposeOps,
)
from klr.dtypes import Dtype

F32, BF16, I32 = Dtype.float32, Dtype.bfloat16, Dtype.int32
U8, U16, U32 = Dtype.uint8, Dtype.uint16, Dtype.uint32
ADD, MULT, MAX = AluOp.add, AluOp.mult, AluOp.max
IDLE, RESET = AccumCmd.Idle, AccumCmd.ZeroAccumulate
NONE = TensorScalarReverseOps.none


def tensor(name: str, dims: tuple[int, ...], dtype: Dtype, memory: Memory) -> BirAccessPattern:
    return full_access(TensorName.make(name, dtype, dims, memory))


def sb(name: str, *dims: int, dtype: Dtype = F32) -> BirAccessPattern:
    return tensor(name, dims, dtype, Memory.sbuf)


def ps(name: str, *dims: int, dtype: Dtype = F32) -> BirAccessPattern:
    return tensor(name, dims, dtype, Memory.psum)


def hb(name: str, *dims: int, dtype: Dtype = F32) -> BirAccessPattern:
    return tensor(name, dims, dtype, Memory.hbm)


def f(x: float) -> ImmFloat:
    return ImmFloat(float(x))


def i(x: int) -> ImmInt:
    return ImmInt(x)


def pattern(*nums: int) -> DataPattern:
    step, pairs = 1, []
    for n in reversed(nums):
        pairs.insert(0, APPair(step, n, 0))
        step *= n
    return DataPattern(0, tuple(pairs), 1)


D, S, COL = sb("d", 4, 8), sb("s", 4, 8), sb("c", 4, 1)
PACK = Dtype.float8_e4m3fn_x4
Q, R = (hb("q", 4, 8),), (hb("r", 4, 8),)

_GOOD: list[OperatorPayload] = [
    Activate(D, S, IDLE, ActivationFunc.exp, f(1), f(0), f(0)),
    NcActivate(D, S, RESET, ActivationFunc.exp, COL, sb("b", 4, 1), ADD, sb("r", 4, 1), None),
    ActivationReduce(D, S, RESET, ActivationFunc.exp, f(1), None, MAX, sb("r", 4, 1), None),
    AffineSelect(D, S, AffineSelectCmp.GreaterThan, 0, pattern(8)),
    NcAffineSelect(D, pattern(2, 4), S, f(0), None, AluOp.is_ge),
    BatchNormAggregate(sb("d", 4, 2), sb("s", 4, 12), None),
    BatchNormStats(sb("d", 4, 6), sb("s", 4, 512), None),
    Copy(D, ps("s", 4, 8), None),
    NcCopy(D, ps("s", 4, 2, 4), BF16, Engine.act),
    CopyPredicated(D, S, sb("p", 4, 8, dtype=U8), None, False),
    DmaCopy(hb("d", 8, 4), S, DgeComputeOp.none, DmaError(), DmaError()),
    NcDmaCopy(D, hb("s", 32), DgeComputeOp.add, DmaError(), 2, False, 3, Engine.sp),
    DmaTranspose(sb("d", 5, 4, 3, 2, dtype=BF16), hb("s", 2, 3, 4, 5, dtype=BF16), TransposeOps.XYZW, None,
                 2, DmaError(), None),
    Dropout(D, S, DropoutThresholdType.DropRate, COL, None),
    FindIndex8(sb("d", 4, 8, dtype=U32), sb("s", 4, 64), sb("v", 4, 8), None),
    Iota(sb("d", 4, 8, dtype=I32), pattern(2, 2, 2), None),
    LoadMaskRegister(3),
    LoadStationary(sb("s", 128, 128), False),
    LocalGather(sb("d", 16, 4), sb("s", 16, 8), IndexMissSkip(), False),
    NcLocalGather(sb("d", 32, 64), sb("s", 32, 100), sb("i", 32, 2, dtype=U16), i(2), None),
    MatMul(ps("d", 128, 512), sb("m", 128, 512)),
    NcMatMul(ps("d", 64, 512), sb("s", 128, 64, dtype=BF16), sb("m", 128, 512, dtype=BF16), False, False,
             False, (), (), MatmulPerfMode.None_),
    MatchReplace8(sb("d", 4, 64), sb("s", 4, 64), sb("v", 4, 8), f(0), sb("x", 4, 8, dtype=U16), None),
    MatchValueLoad(sb("v", 4, 8)),
    Max8(sb("d", 4, 8), sb("s", 4, 64), None),
    MemSet(ps("d", 4, 8), f(0), F32, Engine.dve),
    RangeSelect(D, S, IDLE, MAX, 0.0, -1.0, AluOp.is_ge, AluOp.is_lt, f(0), f(4)),
    NcRangeSelect(D, RESET, sb("r", 4, 1), MAX, AluOp.is_ge, AluOp.is_lt, COL, sb("e", 4, 1), i(0), S,
                  f(-3.4028235e38), None),
    Reciprocal(D, S, None),
    ScalarTensorTensor(D, S, ps("t", 4, 8), ADD, MULT, NONE, f(1), IDLE),
    NcScalarTensorTensor(D, S, COL, ps("t", 4, 8), ADD, MULT, NONE, None),
    Shuffle(sb("d", 32, 8), sb("s", 32, 8), tuple(i(k) for k in range(32)), None),
    TensorReduce(sb("d", 4, 1), sb("s", 4, 2, 8), ADD, TensorSubDim.XY, True, None, True),
    TensorScalar(D, S, COL, MULT, f(1), ADD, NONE, Engine.dve, None),
    TensorTensor(D, S, ps("t", 4, 8), ADD, None, Engine.dve),
    TensorTensorScan(D, S, ps("t", 4, 8), MULT, ADD, NONE, f(0), IDLE, None),
    TensorPartitionReduce(sb("d", 1, 8), ADD, S, None),
    TensorScalarReduce(D, S, f(2), MULT, False, None, ADD, sb("r", 4, 1), RESET, None),
    Transpose(sb("d", 8, 4), sb("s", 4, 8), None, Engine.dve),
    SelectReduce(D, sb("p", 4, 8, dtype=U8), S, f(0), sb("r", 4, 1), RESET, MAX, False, None),
    SequenceBounds(sb("d", 1, 2, 8, dtype=I32), sb("s", 1, 8, dtype=I32), None),
    SendRecv(D, S, i(1), i(0), i(0), False),
    SendRecvCompute((D,), (S,), (i(1),), (i(0),), i(0), ADD),
    TensorLoad("r", sb("s", 1, 1, dtype=I32)),
    TensorStore(hb("d", 1, dtype=I32), "r"),
    RegisterMove("r", 3),
    CmpBranch("r", "", 3, BrCmpOp.lt_imm, "main", "main"),
    RegisterAluOp("r", "r", 1, ADD),
    QuantizeMX(sb("d", 32, 4, dtype=Dtype.float8_e5m2_x4), sb("s", 32, 16, dtype=BF16),
               sb("x", 4, 4, dtype=U8)),
    MatMulMX(ps("d", 8, 16), sb("s", 32, 8, dtype=PACK), sb("m", 32, 16, dtype=PACK), sb("t", 4, 8, dtype=U8),
             sb("u", 4, 16, dtype=U8), (64, 0), (64, 128)),
    DmaCompute(hb("d", 4, 8), (hb("a", 32), S), (f(1), i(1)), ADD),
    AllReduce(Q, R, ADD),
    AllGather((hb("q", 8, 8),), R),
    ReduceScatter((hb("q", 2, 8),), R, ADD),
    CollectivePermute(Q, R),
    CollectivePermuteImplicit(Q, R),
    CollectivePermuteImplicitReduce(Q, (*R, hb("r2", 4, 8)), ADD),
    Broadcast(Q, R),
    AllToAll(Q, R),
    RankId("r"),
    CurrentProcessingRankId("r", 0, 0, 1, ((0, 1),)),
    Send(ADD, R, 1),
    Recv(ADD, Q, (0, 1), 0),
    CoreBarrier(hb("x", 4, 8), (0, 1), Engine.pool),
    Rng(sb("d", 4, 8, dtype=U32), Engine.dve),
    Rand2(D, f(0), COL),
    RandGetState(sb("d", 4, 6, dtype=U32), Engine.pool),
    SetRngSeed(sb("s", 1, 1, dtype=U32)),
    RandSetState(sb("s", 4, 24, dtype=U32), Engine.dve),
    ExtendedInst(1, True, False, 2, (), ()),
    TensorScalarCumulative(D, S, MULT, ADD, f(1), None, RESET, NONE, None),
    NcNGather(sb("d", 4, 3), S, sb("i", 4, 3, dtype=U32), None),
    NonzeroWithCount(sb("d", 4, 9, dtype=I32), S, i(0), i(-1)),
    DevicePrint(hb("x", 4, 8), "x = ", PrintOutputBuffer.stdout),
    Exponential(D, S, COL, sb("r", 4, 1), RESET, f(0)),
    Activate2(D, S, MULT, ADD, f(2), COL, ActivationFunc.gelu, f(0), ADD, sb("r", 4, 1), RESET, False, False,
              None),
]

GOOD: dict[type[OperatorPayload], OperatorPayload] = {type(op): op for op in _GOOD}
