"""One test per message of the interpreter: the exact text, at the statement that fails.

Core files are hostile input too: each case is a small hand-written kernel (see builder.py)
whose first statement (line 10 of kern.py) is malformed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from klr.core import (
    AccumCmd,
    ActivationFunc,
    ActivationReduce,
    AluOp,
    APPair,
    BatchNormAggregate,
    BirAccessPattern,
    DataPattern,
    DmaCompute,
    DmaTranspose,
    ImmPointer,
    Iota,
    LncKernel,
    MatmulPerfMode,
    Max8,
    NcActivate,
    NcLocalGather,
    NcMatMul,
    NcNGather,
    NcScalarTensorTensor,
    RegisterAluOp,
    RegisterRef,
    SbufView,
    SequenceBounds,
    SharedConstantFile,
    Shuffle,
    TensorLoad,
    TensorPartitionReduce,
    TensorReduce,
    TensorScalar,
    TensorScalarCumulative,
    TensorScalarReverseOps,
    TensorSram,
    TensorSubDim,
    Transpose,
    TransposeOps,
)
from klr.core import Engine as Eng
from klr.dtypes import Dtype
from klr.errors import EvalError, LimitError
from klr.interp import run
from tests.interp.builder import ap, block, dma, fimm, full, hbm, iimm, kernel, sbuf

X = hbm("x", (4, 8))
X16 = hbm("x16", (16, 8))
XI = hbm("xi", (4, 2), Dtype.int32)
SEVENS = hbm("sevens", (16, 2), Dtype.int32)
INPUTS = {"x": np.ones((4, 8), np.float32), "x16": np.ones((16, 8), np.float32),
          "xi": np.zeros((4, 2), np.int32), "sevens": np.full((16, 2), 7, np.int32)}


def t(name: str, *dims: int, dtype: Dtype = Dtype.float32) -> Any:
    return full(sbuf(name, dims, dtype))


def act(dst: Any, cmd: AccumCmd, res: Any = None, kind: type = NcActivate) -> Any:
    return kind(dst, full(X), cmd, ActivationFunc.copy, fimm(1.0), None, AluOp.add, res, None)


def ts(dst: Any, src: Any, imm1: Any = None, op1: Any = None) -> TensorScalar:
    return TensorScalar(dst, src, fimm(1.0), AluOp.add, imm1, op1, TensorScalarReverseOps.none,
                        Eng.unassigned, None)


def mm(dst: Any, st: Any, mv: Any, transpose: bool = False,
       mode: MatmulPerfMode = MatmulPerfMode.None_) -> NcMatMul:
    return NcMatMul(dst, st, mv, False, False, transpose, (), (), mode)


def cumulative(cmd: AccumCmd) -> TensorScalarCumulative:
    return TensorScalarCumulative(t("o", 4, 8), full(X), AluOp.add, AluOp.add, fimm(1.0), None, cmd,
                                  TensorScalarReverseOps.none, None)


def shuffle(dst: Any, src: Any, mask: tuple[int, ...]) -> Shuffle:
    return Shuffle(dst, src, tuple(iimm(m) for m in mask), None)


def gather(dst: Any, index: Any, valid: int | None = None, src: Any = None) -> NcLocalGather:
    return NcLocalGather(dst, src or full(X16), index, iimm(1), None if valid is None else iimm(valid))


def with_vector(axis: int, index: Any) -> BirAccessPattern:
    return BirAccessPattern(X, 0, (APPair(8, 4, 0), APPair(1, 8, 0)), None, index, axis, None)


def copy(dst: Any, src: Any) -> Any:
    return dma(dst, src)


CASES: list[tuple[str, Callable[[], Any]]] = [
    # accumulators and operands
    ("the act accumulator holds no 4-partition value to accumulate into in ncActivate inst.1",
     lambda: act(t("o", 4, 8), AccumCmd.Accumulate, t("r", 4, 1))),
    ("LoadAccumulate needs an initial value in ncActivate inst.1",
     lambda: act(t("o", 4, 8), AccumCmd.LoadAccumulate, t("r", 4, 1))),
    ("activationReduce needs reduceRes in activationReduce inst.1",
     lambda: act(t("o", 4, 8), AccumCmd.ZeroAccumulate, None, ActivationReduce)),
    ("op1 and imm1 must be given together in tensorScalar inst.1",
     lambda: ts(t("o", 4, 8), full(X), op1=AluOp.add)),
    ("src1 has shape [4, 2] but data has [4, 8] in ncScalarTensorTensor inst.1",
     lambda: NcScalarTensorTensor(t("o", 4, 8), full(X), fimm(1.0), t("s", 4, 2), AluOp.add, AluOp.add,
                                  TensorScalarReverseOps.none, None)),
    ("dst has 8 elements but reducing X of src [4, 8] leaves 4 in tensorReduce inst.1",
     lambda: TensorReduce(t("o", 4, 2), full(X), AluOp.add, TensorSubDim.X, False, None, False)),
    ("dst must be [1, 8] (one partition, the free size of data) but has shape [2, 8] in "
     "tensorPartitionReduce inst.1",
     lambda: TensorPartitionReduce(t("o", 2, 8), AluOp.add, full(X), None)),
    ("the dve accumulator holds no 4-partition value to accumulate into in tensorScalarCumulative inst.1",
     lambda: cumulative(AccumCmd.Accumulate)),
    ("LoadAccumulate needs imm1 as the initial value in tensorScalarCumulative inst.1",
     lambda: cumulative(AccumCmd.LoadAccumulate)),
    # matmul
    ("a double-row matmul needs operands [K, 2, M] and [K, 2, N], but stationary has 3 and moving 8 "
     "elements per partition in ncMatMul inst.1",
     lambda: mm(t("o", 1, 4, dtype=Dtype.float32), t("s", 4, 3), full(X), mode=MatmulPerfMode.DoubleRow)),
    ("dst must be the [8, 4] transpose of moving [4, 8] but has shape [4, 8] in ncMatMul inst.1",
     lambda: mm(t("o", 4, 8), t("s", 4, 4), full(X), transpose=True)),
    ("stationary has 2 partitions but moving has 4; both are the contraction axis in ncMatMul inst.1",
     lambda: mm(t("o", 4, 8), t("s", 2, 4), full(X))),
    ("dst must be [4, 8] for stationary [4, 4] and moving [4, 8] but has shape [4, 4] in ncMatMul inst.1",
     lambda: mm(t("o", 4, 4), t("s", 4, 4), full(X))),
    # data movement
    ("pattern generates 4 values per partition but dst has 8 in iota inst.1",
     lambda: Iota(t("o", 4, 8, dtype=Dtype.int32), DataPattern(0, (APPair(1, 4, 0),), 0), None)),
    ("dst must be the [8, 4] transpose of a [4, 8] src but has 4 x 8 in transpose inst.1",
     lambda: Transpose(t("o", 4, 8), full(X), None, Eng.unassigned)),
    ("src must be a 4-d access pattern to transpose but has shape [4, 8] in dmaTranspose inst.1",
     lambda: DmaTranspose(t("o", 8, 4), full(X), TransposeOps.ZWYX, None, 0, dma(X, X).oobMode, None)),
    ("shuffleMask has 33 entries; a quadrant has 32 partitions in shuffle inst.1",
     lambda: shuffle(t("o", 4, 8), full(X), (0,) * 33)),
    ("src has 8 elements per partition but dst has 4 in shuffle inst.1",
     lambda: shuffle(t("o", 4, 4), full(X), (0,))),
    ("src has 16 partitions, more than the 4 of dst in shuffle inst.1",
     lambda: shuffle(t("o", 4, 8), full(X16), (0,))),
    ("shuffleMask[0] = 40 is not a partition of a quadrant (0..31) or 255 in shuffle inst.1",
     lambda: shuffle(t("o", 4, 8), full(X), (40,))),
    ("shuffleMask[1] = 5 names partition 5 of a 4-partition src in shuffle inst.1",
     lambda: shuffle(t("o", 4, 8), full(X), (0, 5))),
    ("dst has 4 x 8 elements but indices has 4 x 2 in ncNGather inst.1",
     lambda: NcNGather(t("o", 4, 8), full(X), full(XI), None)),
    ("indices has 2 partitions but dst has 4 in ncNGather inst.1",
     lambda: NcNGather(t("o", 4, 2), full(X), t("i", 2, 2, dtype=Dtype.int32), None)),
    ("src spans 4 partitions, not a multiple of 16 in ncLocalGather inst.1",
     lambda: gather(t("o", 4, 4), full(XI), src=full(X))),
    ("numValidIndicies 40 exceeds the 32 indices of a 16-partition group in ncLocalGather inst.1",
     lambda: gather(t("o", 16, 40), t("i", 16, 2, dtype=Dtype.int32), 40)),
    ("an index reads past the 8 elements of a partition in ncLocalGather inst.1",
     lambda: NcLocalGather(t("o", 16, 64), full(X16), full(SEVENS), iimm(2), None)),
    ("dst must have 32 elements per partition (32 indices x 1) but has 8 in ncLocalGather inst.1",
     lambda: gather(t("o", 16, 8), t("i", 16, 2, dtype=Dtype.int32))),
    ("2 srcs need as many scales but 1 are given in dmaCompute inst.1",
     lambda: DmaCompute(t("o", 4, 8), (full(X), full(X)), (fimm(1.0),), AluOp.add)),
    ("there are no srcs in dmaCompute inst.1", lambda: DmaCompute(t("o", 4, 8), (), (), AluOp.add)),
    ("srcs[0] has 32 elements but dst has 16 in dmaCompute inst.1",
     lambda: DmaCompute(t("o", 4, 4), (full(X),), (fimm(1.0),), AluOp.add)),
    # special operators
    ("src must hold (count, mean, variance*count) triples but has 8 elements per partition in "
     "batchNormAggregate inst.1", lambda: BatchNormAggregate(t("o", 4, 2), full(X), None)),
    ("src must have at least 8 elements per partition but has 2 in max8 inst.1",
     lambda: Max8(t("o", 4, 8), t("s", 4, 2), None)),
    ("dst must have 8 elements per partition but has shape [4, 4] in max8 inst.1",
     lambda: Max8(t("o", 4, 4), full(X), None)),
    ("dst must hold [4, 2, 2] elements (start and end per segment id) but has shape [4, 2] in "
     "sequenceBounds inst.1", lambda: SequenceBounds(t("o", 4, 2, dtype=Dtype.int32), full(XI), None)),
    ("src must be a single element but has 32 in tensorLoad inst.1", lambda: TensorLoad("r", full(X))),
    # references and immediates
    ("allocated tensor views (sbuf/psum/hbm) are not supported; the interpreter runs kernels before "
     "allocation in ncDmaCopy inst.1",
     lambda: copy(t("o", 4, 8), SbufView(TensorSram("s", Dtype.float32, 4, (APPair(1, 8, 0),), 0, 0)))),
    ("register-shaped tensor references are not supported in ncDmaCopy inst.1",
     lambda: copy(t("o", 4, 8), RegisterRef("r"))),
    ("src must be a tensor, not an immediate in ncDmaCopy inst.1", lambda: copy(t("o", 4, 8), ImmPointer())),
    ("indirectDim 5 is not an axis of a 2-d access pattern in ncDmaCopy inst.1",
     lambda: copy(t("o", 4, 8), with_vector(5, full(XI)))),
    ("vectorOffset has 8 indices for an axis of 4 in ncDmaCopy inst.1",
     lambda: copy(t("o", 4, 8), with_vector(0, full(XI)))),
    ("pointer immediates are not supported in tensorScalar inst.1",
     lambda: ts(t("o", 4, 8), full(X), ImmPointer(), AluOp.add)),
    ("BirAccessPattern is not an immediate in ncLocalGather inst.1",
     lambda: NcLocalGather(t("o", 16, 32), full(X16), t("i", 16, 2, dtype=Dtype.int32), full(X), None)),
]


@pytest.mark.parametrize(("message", "op"), CASES, ids=[c[0][:70] for c in CASES])
def test_message(message: str, op: Callable[[], Any]) -> None:
    k = kernel([X, X16, XI, SEVENS], [], [op()])
    with pytest.raises(EvalError) as info:
        run(k, INPUTS)
    assert info.value.message == message
    assert info.value.pos is not None
    assert (info.value.pos.filename, info.value.pos.line) == ("kern.py", 10)


def test_a_register_from_never_written_memory() -> None:
    s = sbuf("s", (1, 1))
    k = kernel([], [], [TensorLoad("r", full(s)), RegisterAluOp("q", "r", 1, AluOp.add)])
    message = ("register 'r' holds a value computed from never-written memory (first read by tensorLoad "
               "inst.1 at kern.py:10:5) and is used by registerAluOp inst.2")
    assert [w.message for w in run(k, {}).warnings] == [message]
    with pytest.raises(EvalError) as info:
        run(k, {}, strict=True)
    assert info.value.message == message
    assert info.value.pos is not None and info.value.pos.line == 11


def test_a_shared_constant_of_the_wrong_size() -> None:
    c, out = hbm("c", (2, 3), Dtype.int32), hbm("out", (2, 3), Dtype.int32)
    k = LncKernel("k", (), (out,), ((block("main", [dma(out, c)]),),),
                  (SharedConstantFile("c", "shared_constants/c.npy"),), (c,), ())
    with pytest.raises(EvalError) as info:
        run(k, {}, constants={"c": np.zeros(5, np.int32)})
    assert info.value.message == "shared constant 'c' has 5 elements but the kernel uses it as (2, 3)"


def test_an_empty_access_with_huge_dimensions() -> None:
    """Found by tests/fuzz/test_core_kernels.py: numpy refused to make the empty operand."""
    big = ap(X, 0, (8, 0), (1, 3_000_000_000))
    k = kernel([X], [], [copy(t("o", 4, 8), big)])
    with pytest.raises(LimitError) as info:
        run(k, {"x": INPUTS["x"]})
    assert info.value.message == ("an empty access to 'x' has dimensions [0, 3000000000], more than the "
                                  "interpreter's limit of 67108864 elements")
