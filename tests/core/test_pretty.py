"""The Core pretty printer: a golden kernel and the recovery of slices from access patterns.

Set KLR_UPDATE_GOLDEN=1 to rewrite the golden files from the current output.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from klr.core import (
    AccumCmd,
    ActivationFunc,
    AluOp,
    APPair,
    BirAccessPattern,
    Block,
    BrCmpOp,
    CmpBranch,
    DataPattern,
    DgeComputeOp,
    DmaReg,
    Dtype,
    Edges,
    Engine,
    ImmFloat,
    ImmInt,
    ImmRegister,
    Iota,
    Kernel,
    LncKernel,
    Memory,
    NcActivate,
    NcDmaCopy,
    ReduceScatter,
    ReplicaLiteral,
    ScalarReg,
    SharedConstantFile,
    Stmt,
    TensorName,
    TensorScalar,
    TensorScalarReverseOps,
    TensorTensor,
    full_access,
)
from klr.core.pretty import pretty, pretty_value
from klr.pos import Pos

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KLR_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text()


def _t(name: str, dims: list[int], memory: Memory = Memory.sbuf, dtype: Dtype = Dtype.float32) -> TensorName:
    return TensorName.make(name, dtype, dims, memory)


def _dma(dst: BirAccessPattern, src: BirAccessPattern) -> NcDmaCopy:
    return NcDmaCopy(dst, src, DgeComputeOp.none, DmaReg(2), 0, False, None, Engine.unassigned)


def small_kernel() -> LncKernel:
    x, out = _t("in", [128, 512], Memory.hbm), _t("out", [128, 512], Memory.hbm)
    a, b, c = _t("a", [128, 512]), _t("b", [128, 512]), _t("c", [128, 1])
    w = _t("w", [128, 4, 8], dtype=Dtype.bfloat16)
    full = full_access
    sub = BirAccessPattern(a, 32 * 512, (APPair(512, 32, 0), APPair(1, 256, 0)))  # a[32:64, 0:256]
    even = BirAccessPattern(b, 64, (APPair(512, 128, 0), APPair(2, 32, 0)))  # b[0:128, 64:127:2]
    row = BirAccessPattern(w, 1 * 8, (APPair(32, 128, 0), APPair(1, 8, 0)))  # w[0:128, 1, 0:8]
    bcast = BirAccessPattern(c, 0, (APPair(1, 128, 0), APPair(0, 512, 0)))  # c broadcast along free
    dyn = BirAccessPattern(a, 0, (APPair(512, 1, 0), APPair(1, 512, 0)), ScalarReg("r1"))
    as_int = BirAccessPattern(a, 0, (APPair(512, 128, 0), APPair(1, 512, 0)), dtypeOverride=Dtype.int32)
    body0 = (
        Block("main", False, (
            Stmt(_dma(full(a), full(x)), "inst.1", Pos(3, 2)),
            Stmt(TensorTensor(full(b), sub, bcast, AluOp.add, Dtype.float32, Engine.unassigned),
                 "inst.2", Pos(4, 2, 4, 38, "kernel.py")),
            Stmt(NcActivate(full(b), even, AccumCmd.Idle, ActivationFunc.exp, ImmFloat(0.10000000149011612),
                            None, None, None, Dtype.float32), "inst.3", Pos(5, 2, None, None, "kernel.py")),
            Stmt(TensorScalar(row, row, full(c), AluOp.mult, ImmRegister(3), AluOp.add,
                              TensorScalarReverseOps.none, Engine.dve, None), "inst.4", Pos(6)),
            Stmt(Iota(dyn, DataPattern(-4, (APPair(1, 512, 0),), 1), Dtype.int32), "inst.5", Pos(7)),
            Stmt(CmpBranch("i", "", 4, BrCmpOp.lt_imm, "main", "exit"), "br.1", Pos(0)),
        )),
        Block("exit", True, (
            Stmt(ReduceScatter((full(a),), (as_int,), AluOp.max, ReplicaLiteral(((0, 1), (2, 3)))),
                 "inst.6", Pos(9)),
            Stmt(_dma(full(out), full(b)), "inst.7", Pos(10, 2)),
        )),
    )
    body1 = (Block("main", False, (Stmt(_dma(full(out), full(x)), None, Pos(3, 2)),)),)
    return LncKernel("small", (x,), (out,), (body0, body1),
                     (SharedConstantFile("ident", "shared_constants/ab12.npy"),), (c,),
                     (Edges("inst.2", ("inst.1", "inst.3")),))


def test_small_kernel_golden() -> None:
    check_golden("small_kernel.txt", pretty(small_kernel()))


def test_output_is_deterministic() -> None:
    assert pretty(small_kernel()) == pretty(small_kernel())


@pytest.mark.parametrize(("offset", "pattern", "text"), [
    (0, [(32, 128), (8, 4), (1, 8)], "t[0:128, 0:4, 0:8]"),
    (32 * 32 + 8 + 2, [(32, 64), (8, 3), (1, 6)], "t[32:96, 1:4, 2:8]"),
    (3, [(32, 128), (8, 4)], "t[0:128, 0:4, 3]"),
    (16, [(32, 128), (1, 8)], "t[0:128, 2, 0:8]"),
    (1, [(64, 64), (2, 4)], "t[0:127:2, 0, 1:8:2]"),
    (0, [(32, 128), (8, 5)], "t{off=0; [[32,128],[8,5]]}"),      # runs past dimension 1
    (0, [(1, 128), (32, 8)], "t{off=0; [[1,128],[32,8]]}"),      # not row-major
    (0, [(32, 128), (-1, 8)], "t{off=0; [[32,128],[-1,8]]}"),    # reversed
    (128 * 32, [(32, 1)], "t{off=4096; [[32,1]]}"),               # offset past the end
])
def test_slices_recovered_from_patterns(offset: int, pattern: list[tuple[int, int]], text: str) -> None:
    t = _t("t", [128, 4, 8])
    bap = BirAccessPattern(t, offset, tuple(APPair(s, n, 0) for s, n in pattern))
    assert pretty_value(bap) == text + ":float32@sbuf"


def test_pair_offsets_show_only_in_the_raw_form() -> None:
    t = _t("t", [128, 4, 8])
    bap = BirAccessPattern(t, 0, (APPair(32, 128, 3), APPair(8, 5, 0)))
    assert pretty_value(bap) == "t{off=0; [[32,128,3],[8,5]]}:float32@sbuf"


@pytest.mark.parametrize(("imm", "text"), [
    (ImmFloat(0.10000000149011612), "0.1"), (ImmFloat(1.0), "1.0"), (ImmFloat(-2.5e-8), "-2.5e-08"),
    (ImmFloat(float("inf")), "inf"), (ImmInt(-1000), "-1000"), (ImmRegister(7), "register(7)"),
])
def test_immediates(imm: object, text: str) -> None:
    assert pretty_value(imm) == text


def test_single_core_kernel() -> None:
    x = _t("x", [2, 3], Memory.hbm)
    k = Kernel("one", (x,), (x,), (Block("main", False, (Stmt(_dma(full_access(x), full_access(x)), "inst.1",
                                                               Pos(0)),)),))
    assert pretty(k) == (
        "kernel one\n"
        "inputs:  x:float32[2, 3]@hbm\n"
        "outputs: x:float32[2, 3]@hbm\n"
        "block main:\n"
        "  inst.1  ncDmaCopy  dst=x[0:2, 0:3]:float32@hbm  src=x[0:2, 0:3]:float32@hbm  compute_op=none"
        "  oobMode=reg(2)  dgeMode=0  uniqueIndices=false  engine=unassigned\n"
    )
