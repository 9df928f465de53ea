"""The golden vectors in ../shared/golden, written by the reference's own serializer.

Each vector must decode to the value its README describes and re-encode to the same bytes.
The folder is never copied into the repository: outside CI a missing folder skips these
tests; with CI=true it fails them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from klr.core import (
    AccessBasic,
    AccessPattern,
    AccumCmd,
    ActivationFunc,
    Address,
    AluOp,
    APPair,
    BirAccessPattern,
    Block,
    Coord,
    DataPattern,
    DgeComputeOp,
    DmaError,
    Dtype,
    Engine,
    Immediate,
    ImmFloat,
    ImmInt,
    Index,
    Iota,
    LncKernel,
    MatmulPerfMode,
    Memory,
    NcActivate,
    NcDmaCopy,
    NcMatMul,
    Operator,
    Shape,
    Slice,
    Stmt,
    TensorName,
    TensorTensor,
)
from klr.errors import FormatError
from klr.format import file as kfile
from klr.format.cbor import decode, encode
from klr.pos import Pos
from klr.schema import Nat

GOLDEN = Path(os.environ.get("KLR_GOLDEN_DIR", Path(__file__).resolve().parents[3] / "shared" / "golden"))


def _golden(name: str) -> bytes:
    path = GOLDEN / name
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"golden vector {path} is missing (required under CI=true)")
        pytest.skip(f"golden vectors not found at {GOLDEN} (they live in ../shared/golden)")
    return path.read_bytes()


def tensor(name: str, dtype: Dtype, dims: list[int], memory: Memory, *, par_off: int | None = None,
           free_off: int | None = None, rotation: bool = False) -> TensorName:
    shape = Shape(dims[0], tuple(dims[1:]))
    free = 1
    for d in dims[1:]:
        free *= d
    addr = Address(name, memory, dims[0], free * dtype.size, par_off, free_off, False)
    return TensorName(name, dtype, shape, addr, free, rotation)


def full(t: TensorName) -> BirAccessPattern:
    p, f = t.shape.parDim, t.shape.freeDims[0]
    return BirAccessPattern(t, 0, (APPair(f, p, 0), APPair(1, f, 0)), None, None, 0, None)


def dma(dst: TensorName, src: TensorName) -> NcDmaCopy:
    return NcDmaCopy(full(dst), full(src), DgeComputeOp.none, DmaError(), 0, False, None, Engine.unassigned)


F32_512 = dict(dtype=Dtype.float32, dims=[128, 512])
T_IN = tensor("in", memory=Memory.hbm, **F32_512)
T_OUT = tensor("out", memory=Memory.hbm, **F32_512)
T_T, T_A, T_B, T_C = (tensor(n, memory=Memory.sbuf, **F32_512) for n in "tabc")


def pos3() -> Pos:
    return Pos(3, 2, None, None, None)


VALUES: dict[str, tuple[Any, Any]] = {
    "pos_min.cbor": (Pos, Pos(3, 2, None, None, None)),
    "pos_full.cbor": (Pos, Pos(300, 25, 301, 7, "kernel.py")),
    "dtype_bfloat16.cbor": (Dtype, Dtype.bfloat16),
    "dtype_int64.cbor": (Dtype, Dtype.int64),
    "memory_sbuf.cbor": (Memory, Memory.sbuf),
    "tensorname_hbm.cbor": (TensorName, T_IN),
    "tensorname_sbuf_alloc.cbor": (TensorName, tensor("x", Dtype.bfloat16, [64, 4, 32], Memory.sbuf,
                                                      par_off=32, free_off=1024, rotation=True)),
    "slice_neg_step.cbor": (Slice, Slice(10, 0, -2)),
    "accessbasic.cbor": (AccessBasic, AccessBasic(T_T, (Slice(0, 64, 1), Coord(3)))),
    "appair.cbor": (APPair, APPair(-512, 128, 3)),
    "accesspattern.cbor": (AccessPattern, AccessPattern(T_T, 64, (APPair(512, 64, 32), APPair(2, 256, 0)),
                                                        32, 0, ())),
    "option_nat_none.cbor": (Nat | None, None),
    "option_nat_some_7.cbor": (Nat | None, 7),
    "option_dtype_some_float32.cbor": (Dtype | None, Dtype.float32),
    "immediate_float_1_0.cbor": (Immediate, ImmFloat(1.0)),
    "immediate_float_0_1.cbor": (Immediate, ImmFloat(0.10000000149011612)),
    "immediate_int_neg1000.cbor": (Immediate, ImmInt(-1000)),
    "aluop_add.cbor": (AluOp, AluOp.add),
    "aluop_subtract.cbor": (AluOp, AluOp.subtract),
    "activationfunc_exp.cbor": (ActivationFunc, ActivationFunc.exp),
    "operator_ncmatmul.cbor": (Operator, NcMatMul(
        full(tensor("acc", Dtype.float32, [128, 512], Memory.psum)),
        full(tensor("w", Dtype.bfloat16, [128, 128], Memory.sbuf)),
        full(tensor("x", Dtype.bfloat16, [128, 512], Memory.sbuf)),
        True, False, True, (32, 64), (64, 128), MatmulPerfMode.DoubleRow)),
    "operator_iota.cbor": (Operator, Iota(
        full(tensor("idx", Dtype.int32, [128, 64], Memory.sbuf)),
        DataPattern(-4, (APPair(1, 64, 0),), 64), Dtype.int32)),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_value_vector_decodes_and_reencodes(name: str) -> None:
    data = _golden(f"values/{name}")
    tp, expected = VALUES[name]
    value = decode(data, tp)
    assert value == expected
    assert encode(expected, tp) == data
    assert encode(value, tp) == data


def test_index_sum_uses_both_constructors() -> None:
    assert encode(Coord(3), Index) == bytes.fromhex("d9 75 00 81 03")
    assert encode(Slice(0, 64, 1), Index) == bytes.fromhex("d9 75 01 81 d9 73 00 84 00 18 40 01")


def lnc_min() -> LncKernel:
    stmt = Stmt(dma(T_T, T_IN), "inst.1", pos3())
    return LncKernel("k", (T_IN,), (T_OUT,), ((Block("main", False, (stmt,)),),), (), (), ())


def lnc_small() -> LncKernel:
    body0 = (
        Stmt(dma(T_A, T_IN), "inst.1", pos3()),
        Stmt(TensorTensor(full(T_B), full(T_A), full(T_A), AluOp.add, Dtype.float32, Engine.unassigned),
             "inst.2", Pos(4, 2, 4, 38, "kernel.py")),
        Stmt(NcActivate(full(T_C), full(T_B), AccumCmd.Idle, ActivationFunc.exp, ImmFloat(1.0),
                        None, None, None, Dtype.float32), "inst.3", Pos(5, 2, None, None, None)),
        Stmt(dma(T_OUT, T_C), "inst.4", Pos(6, 2, None, None, None)),
    )
    body1 = (
        Stmt(dma(T_A, T_IN), "inst.5", pos3()),
        Stmt(dma(T_OUT, T_A), "inst.6", Pos(6, 2, None, None, None)),
    )
    return LncKernel("k", (T_IN,), (T_OUT,),
                     ((Block("main", False, body0),), (Block("main", False, body1),)), (), (), ())


@pytest.mark.parametrize("name,build", [("envelope_lnc_min.klr", lnc_min),
                                        ("envelope_lnc_small.klr", lnc_small)])
def test_whole_file_vectors(name: str, build: Any) -> None:
    data = _golden(name)
    expected = build()
    assert kfile.to_bytes(expected) == data
    decoded = kfile.from_bytes(data, expect="lnc")
    assert decoded == expected
    # positions are not part of equality, so compare them separately
    got = [s.pos for body in decoded.bodies for b in body for s in b.body]
    want = [s.pos for body in expected.bodies for b in body for s in b.body]
    assert [(p.line, p.column, p.lineEnd, p.columnEnd, p.filename) for p in got] == \
           [(p.line, p.column, p.lineEnd, p.columnEnd, p.filename) for p in want]


def test_negative_vector_is_rejected_with_a_clear_error() -> None:
    data = _golden("negative/tensorname_hbm.unfixed_cxx_prop.cbor")
    with pytest.raises(FormatError, match=r"at byte 49: expected a bool \(f4 or f5\), found byte 0x80"):
        decode(data, TensorName)
