"""Core types: enum orders, defaults, equality without positions, and the convenience constructors."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from klr.core import (
    Access,
    ActivationFunc,
    Address,
    AluOp,
    APPair,
    BirAccessPattern,
    Block,
    CollectiveOp,
    Dtype,
    Engine,
    Immediate,
    ImmInt,
    Kernel,
    MatmulPerfMode,
    Memory,
    ReplicaUnspecified,
    Shape,
    Slice,
    Stmt,
    TensorName,
    TensorRef,
    TensorTensor,
    TransposeOps,
    full_access,
    tensors_of,
)
from klr.pos import Pos
from klr.schema import Kind, describe


def _names(enum: type) -> list[str]:
    return [m.lean for m in enum]  # type: ignore[attr-defined]


def test_dtype_order_puts_int64_before_int32() -> None:
    assert Dtype.__tag__ == 111
    assert _names(Dtype) == [
        "bfloat16", "float8e3", "float8e4", "float8e5", "float16", "float32", "float32r", "int8",
        "int16", "int64", "int32", "uint8", "uint16", "uint32", "uint64", "float8_e4m3",
        "float8_e4m3fn", "float8_e5m2_x4", "float8_e4m3fn_x4", "float4_e2m1fn_x4",
    ]


def test_alu_op_order() -> None:
    assert AluOp.__tag__ == 135
    assert _names(AluOp) == [
        "abs", "add", "arith_shift_left", "arith_shift_right", "average", "bitwise_and",
        "bitwise_not", "bitwise_or", "bitwise_xor", "bypass", "divide", "is_equal", "is_ge",
        "is_gt", "is_le", "is_lt", "logical_and", "logical_or", "logical_shift_left",
        "logical_shift_right", "logical_xor", "max", "min", "mod", "mult", "not_equal", "pow",
        "rsqrt", "subtract",
    ]
    assert AluOp.subtract.ctor == 28


def test_activation_func_order() -> None:
    assert ActivationFunc.__tag__ == 138
    assert _names(ActivationFunc) == [
        "abs", "arctan", "copy", "erf", "erf_dx", "exp", "gelu", "gelu_apprx_tanh", "gelu_dx",
        "log", "mish", "reciprocal", "relu", "rsqrt", "sigmoid", "sign", "silu", "silu_dx", "sin",
        "softplus", "sqrt", "square", "tanh", "gelu_apprx_sigmoid", "gelu_apprx_sigmoid_dx",
    ]
    assert ActivationFunc.exp.ctor == 5


def test_engine_and_memory_order() -> None:
    assert Engine.__tag__ == 130
    assert _names(Engine) == ["unassigned", "act", "dma", "dve", "pe", "pool", "sp"]
    assert Memory.__tag__ == 110
    assert _names(Memory) == ["hbm", "sbuf", "psum", "reg", "shared_hbm", "private_hbm"]
    assert [m.is_hbm for m in Memory] == [True, False, False, False, True, True]


def test_python_keywords_keep_their_lean_names() -> None:
    assert MatmulPerfMode.None_.lean == "None" and MatmulPerfMode.None_.ctor == 0
    assert TransposeOps.None_.lean == "None"


def test_sum_constructor_names() -> None:
    assert describe(Immediate).ctor_names == ("register", "pointer", "int", "float")
    assert describe(Access).ctor_names == ("simple", "basic", "pattern", "birPattern")
    refs = describe(TensorRef)
    assert refs.ctor_names == ("abstract", "sbuf", "psum", "hbm", "register")
    assert refs.args[0].kind is Kind.SUM  # abstract wraps the whole Access sum


def test_lean_defaults() -> None:
    assert APPair() == APPair(step=1, num=1, offset=1)
    addr = Address("a", Memory.sbuf, 128, 2048)
    assert (addr.parOffset, addr.freeOffset, addr.isShared) == (None, None, False)
    coll = CollectiveOp((), ())
    assert coll.replicaGroup == ReplicaUnspecified() and coll.priority is None


def test_tensor_name_make_uses_the_default_address() -> None:
    t = TensorName.make("x", Dtype.bfloat16, [64, 4, 32], Memory.sbuf)
    assert t.shape == Shape(64, (4, 32)) == Shape.of([64, 4, 32])
    assert t.freeElements == 128
    assert t.address == Address("x", Memory.sbuf, 64, 256)
    assert not t.addressRotation and t.fits()


def test_full_access_is_row_major_with_partition_pair_first() -> None:
    t = TensorName.make("t", Dtype.float32, [128, 512], Memory.sbuf)
    assert full_access(t) == BirAccessPattern(
        t, 0, (APPair(512, 128, 0), APPair(1, 512, 0)), None, None, 0, None)
    t3 = TensorName.make("u", Dtype.float32, [16, 4, 8], Memory.sbuf)
    assert full_access(t3).pattern == (APPair(32, 16, 0), APPair(8, 4, 0), APPair(1, 8, 0))
    assert full_access(t3).shape == t3.shape


@pytest.mark.parametrize(("lo", "hi", "step", "size"), [(0, 10, 1, 10), (10, 0, -1, 10), (0, 10, -1, 0),
                                                      (10, 0, 1, 0), (1, 10, 3, 3), (10, 0, -2, 5)])
def test_slice_size(lo: int, hi: int, step: int, size: int) -> None:
    assert Slice(lo, hi, step).size == size


def _stmt(pos: Pos) -> Stmt:
    t = full_access(TensorName.make("t", Dtype.float32, [128, 512], Memory.sbuf))
    return Stmt(TensorTensor(t, t, t, AluOp.add, None, Engine.unassigned), "inst.1", pos)


def test_positions_are_excluded_from_equality_and_hashing() -> None:
    a, b = _stmt(Pos(3, 2)), _stmt(Pos(40, 0, 41, 7, "other.py"))
    assert a == b and hash(a) == hash(b)
    assert _stmt(Pos(3)) != Stmt(a.op, "inst.2", Pos(3))


def test_nodes_are_frozen() -> None:
    imm: Any = ImmInt(3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        imm.i = 4


def test_tensors_of_and_internal() -> None:
    x = TensorName.make("x", Dtype.float32, [128, 512], Memory.hbm)
    t = TensorName.make("t", Dtype.float32, [128, 512], Memory.sbuf)
    op = TensorTensor(full_access(t), full_access(x), full_access(t), AluOp.add, None, Engine.dve)
    k = Kernel("k", (x,), (), (Block("main", False, (Stmt(op, None, Pos(1)),)),))
    assert tensors_of(op) == (t, x)
    assert k.internal() == (t,)
