"""One test per message of the operators added for issue 10 (communication, engine state, bit
patterns, dynamic offsets, skipped DMA elements): the exact text, at the failing statement."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from klr.core import (
    AccumCmd,
    AllGather,
    AllReduce,
    AluOp,
    APPair,
    BirAccessPattern,
    Block,
    CollectivePermute,
    DmaError,
    DmaReg,
    ExtendedInst,
    LncKernel,
    LoadStationary,
    MatMul,
    Recv,
    RegisterAluOp,
    RegisterMove,
    ReplicaLiteral,
    SelectReduce,
    Send,
    SendRecv,
    TensorScalar,
    TensorScalarReduce,
    TensorScalarReverseOps,
)
from klr.core import Engine as Eng
from klr.core.basic import Stmt
from klr.core.dataops import NcDmaCopy
from klr.core.optypes import DgeComputeOp
from klr.dtypes import Dtype
from klr.errors import EvalError
from klr.interp import run
from tests.interp.builder import FILE, fimm, full, hbm, iimm, kernel, pos, psum, sbuf

X = hbm("x", (4, 8))
XI = hbm("xi", (4, 2), Dtype.int32)
INPUTS = {"x": np.ones((4, 8), np.float32), "xi": np.zeros((4, 2), np.int32)}


def t(name: str, *dims: int, dtype: Dtype = Dtype.float32) -> Any:
    return full(sbuf(name, dims, dtype))


def failure(*ops: object) -> EvalError:
    with pytest.raises(EvalError) as info:
        run(kernel([X, XI], [], ops), INPUTS)
    return info.value


def ts(dst: Any, src: Any, imm: Any, op: AluOp) -> TensorScalar:
    return TensorScalar(dst, src, imm, op, None, None, TensorScalarReverseOps.none, Eng.unassigned, None)


CASES: list[tuple[str, Any]] = [
    ("shift amount -1 of logical_shift_left is negative in tensorScalar inst.1",
     [ts(t("o", 4, 2, dtype=Dtype.int32), full(XI), iimm(-1), AluOp.logical_shift_left)]),
    ("the bitwise operator bitwise_and works on integers, but this instruction computes in float32 (a "
     "float operand, destination or immediate) in tensorScalar inst.1",
     [ts(t("o", 4, 8), full(X), iimm(3), AluOp.bitwise_and)]),
    ("indirectDim 2 is not a dimension of 'x' [4, 8] in ncDmaCopy inst.1",
     [NcDmaCopy(t("o", 1, 8), BirAccessPattern(X, 0, (APPair(8, 1, 0), APPair(1, 8, 0)), full(XI), None, 2),
                DgeComputeOp.none, DmaError(), 0, False, None, Eng.unassigned)]),
    ("no stationary matrix is loaded; a loadStationary or ncMatMul must come first in matMul inst.1",
     [MatMul(full(psum("p", (2, 8))), full(X))]),
    ("moving [4, 8] and dst [3, 8] do not fit the loaded stationary [4, 2] (dst must be [2, 8] and moving "
     "have 4 partitions) in matMul inst.2",
     [LoadStationary(full(XI), False), MatMul(full(psum("p", (3, 8))), full(X))]),
    ("sendToRank 3 is not a logical core of this kernel (0 to 0) in sendRecv inst.1",
     [SendRecv(t("o", 4, 8), full(X), iimm(3), iimm(0), iimm(0), False)]),
    ("send to rank 1: the interpreter runs one rank (rank 0) in send inst.1",
     [Send(AluOp.bypass, (full(X),), 1)]),
    ("rank 0 sent nothing to receive in recv inst.1", [Recv(AluOp.bypass, (t("o", 4, 8),), (), 0)]),
    ("2 dsts receive a message of 1 tensors in recv inst.2",
     [Send(AluOp.bypass, (full(X),), 0), Recv(AluOp.bypass, (t("o", 4, 8), t("p", 4, 8)), (), 0)]),
    ("a destination of 16 elements receives 32 from one rank in allGather inst.1",
     [AllGather((t("o", 4, 4),), (full(X),))]),
    ("no replica group in [[1, 2]] holds rank 0, the interpreter's only rank in allReduce inst.1",
     [AllReduce((t("o", 4, 8),), (full(X),), AluOp.add, ReplicaLiteral(((1, 2),)))]),
    ("replica group [0, 1] has 2 ranks; the interpreter runs one rank in allReduce inst.1",
     [AllReduce((t("o", 4, 8),), (full(X),), AluOp.add, ReplicaLiteral(((0, 1),)))]),
    ("source-target pair [0, 1] names a rank other than 0, the interpreter's only rank in "
     "collectivePermute inst.1",
     [CollectivePermute((t("o", 4, 8),), (full(X),), sourceTargetPairs=((0, 1),))]),
    ("extendedInst opcode 7 writes state that Core cannot name; its effect is undefined in extendedInst "
     "inst.1",
     [ExtendedInst(7, False, True, 1, (), ())]),
    ("divide of register 'a' (5) and 0 has no integer value in registerAluOp inst.2",
     [RegisterMove("a", 5), RegisterAluOp("b", "a", 0, AluOp.divide)]),
    ("register '3' holds 5, not an out-of-bounds mode (0 error, 1 skip) in ncDmaCopy inst.2",
     [RegisterMove("3", 5), NcDmaCopy(t("o", 4, 8), full(X), DgeComputeOp.none, DmaReg(3), 0, False, None,
                                      Eng.unassigned)]),
    ("the dve accumulator is undefined after selectReduce inst.2, which ran with reduce command Idle; reset "
     "it (ZeroAccumulate) first in tensorScalarReduce inst.3",
     [TensorScalarReduce(t("o", 4, 8), full(X), fimm(1.0), AluOp.mult, False, None, AluOp.add, t("r", 4, 1),
                         AccumCmd.ZeroAccumulate, None),
      SelectReduce(t("q", 4, 8), t("p", 4, 8, dtype=Dtype.uint8), full(X), fimm(0.0), None, AccumCmd.Idle,
                   AluOp.max, False, None),
      TensorScalarReduce(t("o", 4, 8), full(X), fimm(1.0), AluOp.mult, False, None, AluOp.add, t("r", 4, 1),
                         AccumCmd.Accumulate, None)]),
]


@pytest.mark.parametrize(("message", "ops"), CASES, ids=[c[0][:60] for c in CASES])
def test_message(message: str, ops: list[object]) -> None:
    err = failure(*ops)
    assert err.message == message
    assert err.pos is not None and (err.pos.filename, err.pos.line) == (FILE, 9 + len(ops))


def test_a_deadlock_names_the_first_waiting_statement() -> None:
    a, b = sbuf("a", (4, 8)), sbuf("b", (4, 8))
    core0 = (Block("main", False, (Stmt(SendRecv(full(b), full(a), iimm(1), iimm(1), iimm(0), False),
                                        "inst.1", pos(10)),)),)
    core1 = (Block("main", False, (Stmt(SendRecv(full(b), full(a), iimm(0), iimm(0), iimm(1), False),
                                        "inst.2", pos(20)),)),)
    k = LncKernel("k", (), (), (core0, core1), (), (), ())
    with pytest.raises(EvalError) as info:
        run(k, {})
    assert info.value.message == ("every core waits for a message no core will send (deadlock), first at "
                                  "sendRecv inst.1")
    assert info.value.pos is not None and info.value.pos.line == 10


def test_a_fixed_axis_must_have_one_element() -> None:
    from klr.core import AccessPattern
    fixed = AccessPattern(X, 4, (APPair(8, 4, 0), APPair(1, 8, 0)), fixedAxis=(1,))
    err = failure(NcDmaCopy(t("o", 4, 8), fixed, DgeComputeOp.none, DmaError(), 0, False, None,
                            Eng.unassigned))
    assert err.message == "access pattern to 'x': fixed axis 1 has 8 elements, not 1 in ncDmaCopy inst.1"
