"""The static rules of Core: one per operator, how operands are described, tensor declarations,
the kernel checker, and the facts a front end calls before it has built an operator."""

from __future__ import annotations

import pytest

from klr.core import (
    OPERATOR_CLASSES,
    OPERATOR_NAMES,
    AccessBasic,
    AccessPattern,
    Address,
    APPair,
    BirAccessPattern,
    Block,
    BrCmpOp,
    CmpBranch,
    Coord,
    Kernel,
    LncKernel,
    Memory,
    NcCopy,
    NcMatMul,
    PsumView,
    RegisterRef,
    SbufView,
    ScalarReg,
    Shape,
    Slice,
    Stmt,
    TensorHbm,
    TensorName,
    TensorSram,
    TensorTensor,
)
from klr.core.optypes import AluOp, Engine, MatmulPerfMode
from klr.core.rules import (
    RULES,
    Arg,
    Diagnostic,
    RuleError,
    check,
    check_kernel,
    check_tensor,
    matmul_limits,
    matmul_shape,
    same_shape,
    static_arg,
)
from klr.dtypes import Dtype
from klr.errors import KlrError
from klr.pos import Pos
from tests.core.rules_support import BF16, F32, GOOD, U8, sb

T = TensorName.make("t", F32, (4, 8), Memory.sbuf)


def test_every_operator_has_exactly_one_rule() -> None:
    assert set(RULES) == set(OPERATOR_CLASSES)
    for cls, name in zip(OPERATOR_CLASSES, OPERATOR_NAMES, strict=True):
        assert RULES[cls].name == name


@pytest.mark.parametrize("cls", OPERATOR_CLASSES, ids=OPERATOR_NAMES)
def test_every_operator_has_an_example_that_keeps_every_rule(cls: type) -> None:
    check(GOOD[cls])
    check(GOOD[cls], hardware=False)


# --- operands ----------------------------------------------------------------------------------


def test_static_args_follow_every_access_form() -> None:
    assert static_arg("x", T) == Arg("x", (4, 8), F32, Memory.sbuf)
    basic = AccessBasic(T, (Slice(1, 4, 2), Coord(3)))
    assert static_arg("x", basic) == Arg("x", (2, 1), F32, Memory.sbuf)
    pattern = AccessPattern(T, 4, (APPair(8, 2, 0), APPair(1, 8, 1)))
    assert static_arg("x", pattern).shape == (2, 8)  # type: ignore[union-attr]
    viewed = BirAccessPattern(T, 0, (APPair(16, 4, 0), APPair(1, 16, 0)), dtypeOverride=BF16)
    assert static_arg("x", viewed) == Arg("x", (4, 16), BF16, Memory.sbuf)
    sram = TensorSram("s", U8, 2, (APPair(1, 6, 0),))
    assert static_arg("x", SbufView(sram)) == Arg("x", (2, 6), U8, Memory.sbuf)
    assert static_arg("x", PsumView(sram)).memory is Memory.psum  # type: ignore[union-attr]
    hbm = TensorHbm("h", F32, 0, (APPair(8, 3, 0), APPair(1, 8, 0)))
    assert static_arg("x", hbm) == Arg("x", (3, 8), F32, Memory.hbm)
    assert static_arg("x", None) is None


@pytest.mark.parametrize(("value", "message"), [
    (BirAccessPattern(T, 20, (APPair(8, 4, 0), APPair(1, 8, 0))),
     "out-of-bounds access to 't' (flat index 51, size 32)"),
    (BirAccessPattern(T, 3, (APPair(8, 4, 0), APPair(-1, 8, 0))),
     "out-of-bounds access to 't' (flat index -4, size 32)"),
    (AccessPattern(T, 4, (APPair(8, 4, 1), APPair(1, 8, 0))),
     "out-of-bounds access to 't' (flat index 39, size 32)"),
    (AccessBasic(T, (Slice(0, 5, 1), Coord(0))), "out-of-bounds access to 't' (flat index 32, size 32)"),
    (AccessBasic(T, (Coord(0),)), "basic access to 't' has 1 indexes for 2 dimensions"),
    (AccessBasic(T, (Slice(0, 4, 1), Slice(0, 8, 0))), "basic access to 't' has a slice with step 0"),
    (RegisterRef(3), "x is a register-shaped tensor reference, whose shape is not known statically"),
    ("t", "x is a str, not a tensor"),
])
def test_a_malformed_operand_is_a_rule_error(value: object, message: str) -> None:
    with pytest.raises(RuleError) as info:
        static_arg("x", value)
    assert str(info.value) == message


def test_a_basic_access_to_an_empty_tensor_has_an_empty_shape() -> None:  # found by tests/fuzz
    empty = TensorName.make("z", F32, (4, 0), Memory.sbuf)
    got = static_arg("x", AccessBasic(empty, (Coord(1), Slice(0, 0, 1))))
    assert got == Arg("x", (1, 0), F32, Memory.sbuf)


def test_a_dynamic_offset_is_left_to_run_time() -> None:
    moved = BirAccessPattern(T, 31, (APPair(8, 4, 0), APPair(1, 8, 0)), scalarOffset=ScalarReg("r"))
    assert static_arg("x", moved) == Arg("x", (4, 8), F32, Memory.sbuf)


def test_an_operand_error_names_the_operator() -> None:
    bad = BirAccessPattern(T, 1, (APPair(8, 4, 0), APPair(1, 8, 0)))
    with pytest.raises(RuleError) as info:
        check(NcCopy(sb("d", 4, 8), bad, None, Engine.dve))
    assert str(info.value) == "ncCopy: out-of-bounds access to 't' (flat index 32, size 32)"


# --- tensor declarations -----------------------------------------------------------------------


@pytest.mark.parametrize(("t", "message"), [
    (TensorName.make("t", F32, (256, 8), Memory.sbuf), "tensor 't' has 256 partitions; SBUF has 128"),
    (TensorName.make("t", F32, (128, 50000), Memory.sbuf),
     "tensor 't' needs 200000 bytes per partition; SBUF has 196608"),
    (TensorName.make("t", F32, (128, 4097), Memory.psum),
     "tensor 't' needs 16388 bytes per partition; PSUM has 16384"),
    (TensorName("t", F32, Shape(4, (8,)), Address("t", Memory.sbuf, 4, 16), 8, False),
     "tensor 't' ([4, 8] float32) does not fit its address of 4 x 16 bytes"),
])
def test_a_tensor_must_fit_its_address_and_memory(t: TensorName, message: str) -> None:
    with pytest.raises(RuleError) as info:
        check_tensor(t)
    assert str(info.value) == message


def test_hbm_tensors_have_no_partition_limit() -> None:
    check_tensor(TensorName.make("t", F32, (100_000, 4096), Memory.hbm))


# --- whole kernels -----------------------------------------------------------------------------


def _stmt(op: object, n: int, line: int = 0) -> Stmt:
    return Stmt(op, f"inst.{n}", Pos(line, 4, None, None, "kern.py"))  # type: ignore[arg-type]


def test_check_kernel_reports_each_broken_statement_in_order() -> None:
    good = GOOD[TensorTensor]
    wide = sb("w", 256, 8)
    body = (
        Block("main", False, (
            _stmt(good, 1, 10),
            _stmt(TensorTensor(sb("d", 4, 8), sb("s", 4, 8), sb("y", 4, 4), AluOp.add, None, Engine.dve),
                  2, 11),
            _stmt(TensorTensor(wide, wide, wide, AluOp.add, None, Engine.dve), 3, 12),
        )),
        Block("next", False, (
            _stmt(CmpBranch("r", "", 0, BrCmpOp.eq_imm, "main", "gone"), 4, 13),
            _stmt(TensorTensor(wide, wide, wide, AluOp.add, None, Engine.dve), 5, 14),
        )),
    )
    kernel = LncKernel("k", (), (), (body,), (), (), ())
    found = check_kernel(kernel)
    assert [str(d) for d in found] == [
        "tensorTensor (statement 2, inst.2): src1 has shape [4, 4] but dst has [4, 8]",
        "tensorTensor (statement 3, inst.3): dst has 256 partitions, at most 128",
        "cmpBranch (statement 4, inst.4): falseLabel 'gone' names no block of this body",
        "tensorTensor (statement 5, inst.5): dst has 256 partitions, at most 128",
    ]
    assert found[0] == Diagnostic("tensorTensor", 2, "inst.2", Pos(11, 4, None, None, "kern.py"),
                                  "src1 has shape [4, 4] but dst has [4, 8]")
    assert [str(d) for d in check_kernel(kernel, hardware=False)] == [str(found[0]), str(found[2])]


def test_a_tensor_declaration_is_reported_at_its_first_use_only() -> None:
    big = TensorName.make("big", F32, (128, 60000), Memory.sbuf)
    copy = NcCopy(BirAccessPattern(big, 0, (APPair(60000, 4, 0), APPair(1, 8, 0))), sb("s", 4, 8), None,
                  Engine.dve)
    body = (Block("main", False, (_stmt(copy, 1), Stmt(copy, None, Pos(0)))),)
    found = check_kernel(Kernel("k", (), (), body))
    assert [str(d) for d in found] == [
        "ncCopy (statement 1, inst.1): tensor 'big' needs 240000 bytes per partition; SBUF has 196608"]


def test_statements_are_numbered_across_bodies() -> None:
    bad = TensorTensor(sb("d", 4, 8), sb("s", 4, 8), sb("y", 4, 4), AluOp.add, None, Engine.dve)
    body = (Block("main", False, (_stmt(GOOD[TensorTensor], 1), _stmt(bad, 2))),)
    found = check_kernel(LncKernel("k", (), (), (body, body), (), (), ()))
    assert [(d.index, d.name) for d in found] == [(2, "inst.2"), (4, "inst.2")]
    unnamed = Diagnostic("memSet", 7, None, Pos(0), "dst is in HBM, but it must be in SBUF or PSUM")
    assert str(unnamed) == "memSet (statement 7): dst is in HBM, but it must be in SBUF or PSUM"


def test_an_unconditional_branch_needs_only_its_true_label() -> None:
    jump = CmpBranch("", "", 0, BrCmpOp.always, "main", "")
    body = (Block("main", False, (_stmt(jump, 1),)),)
    assert check_kernel(Kernel("k", (), (), body)) == []


# --- facts for front ends ----------------------------------------------------------------------


def test_facts_take_args_and_report_without_an_operator() -> None:
    a = Arg("data1", (128, 2, 256), BF16, Memory.sbuf)
    b = Arg("data2", (128, 256), BF16, Memory.psum)
    with pytest.raises(RuleError) as info:
        same_shape(a, b)
    assert str(info.value) == "data2 has shape [128, 256] but data1 has [128, 2, 256]"
    assert isinstance(info.value, KlrError) and info.value.phase == "check" and info.value.op is None
    assert (a.partitions, a.free, a.count, a.text) == (128, 512, 65536, "[128, 2, 256]")


def test_matmul_facts_give_the_result_shape_before_the_operator_exists() -> None:
    st = Arg("stationary", (128, 2, 64), Dtype.float8e4, Memory.sbuf)
    mv = Arg("moving", (128, 2, 512), Dtype.float8e5, Memory.sbuf)
    assert matmul_shape(None, st, mv, MatmulPerfMode.DoubleRow) == (64, 512)
    matmul_limits(None, st, mv, MatmulPerfMode.DoubleRow)
    plain = Arg("x", (128, 96), BF16, Memory.sbuf)
    assert matmul_shape(None, plain, Arg("y", (128, 300), BF16, Memory.sbuf)) == (96, 300)
    assert matmul_shape(None, plain, Arg("y", (96, 128), BF16, Memory.sbuf), transpose=True) == (128, 96)
    with pytest.raises(RuleError) as info:
        matmul_limits(Arg("dst", (96, 300), F32, Memory.psum), Arg("x", (128, 96), F32, Memory.sbuf),
                      Arg("y", (128, 300), BF16, Memory.sbuf))
    assert str(info.value) == "x is float32 and y is bfloat16; a float32 operand needs a float32 partner"


def test_the_interpreter_level_skips_hardware_rules() -> None:
    hbm_add = TensorTensor(*(BirAccessPattern(TensorName.make(n, F32, (4, 8), Memory.hbm), 0,
                                              (APPair(8, 4, 0), APPair(1, 8, 0))) for n in "dab"),
                           AluOp.add, None, Engine.unassigned)
    check(hbm_add, hardware=False)
    with pytest.raises(RuleError, match=r"^tensorTensor: dst is in HBM, but it must be in SBUF or PSUM$"):
        check(hbm_add)
    matmul = NcMatMul(sb("d", 8, 12), sb("s", 16, 8), sb("m", 16, 12), False, False, False, (), (),
                      MatmulPerfMode.None_)
    check(matmul, hardware=False)


def test_operand_fields_are_the_tensor_and_scalar_operands() -> None:
    from klr.core import DmaCompute, NcActivate, NcDmaCopy
    from klr.core.rules import operand_fields

    assert operand_fields(NcDmaCopy) == (("dst", False), ("src", False))  # not oobMode, engine...
    assert operand_fields(DmaCompute) == (("dst", False), ("srcs", True))
    assert operand_fields(NcActivate) == (("dst", False), ("src", False), ("scale", False), ("bias", False),
                                          ("reduceRes", False))
