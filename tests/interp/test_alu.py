"""Property tests of the ALU through tensorTensor/tensorScalar, and of fp32 matmul and bf16 rounding."""

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from klr.core import (
    AluOp,
    Engine,
    MatmulPerfMode,
    NcMatMul,
    TensorScalar,
    TensorScalarReverseOps,
    TensorTensor,
)
from klr.dtypes import Dtype
from tests.interp.builder import arg, fimm, full, hbm, iimm, run_ops

U = Engine.unassigned
FLOATS = st.floats(-1e4, 1e4, allow_nan=False, width=32)

FLOAT_REFERENCE = {
    AluOp.add: lambda a, b: a + b,
    AluOp.subtract: lambda a, b: a - b,
    AluOp.mult: lambda a, b: a * b,
    AluOp.divide: lambda a, b: a / b,
    AluOp.max: np.maximum,
    AluOp.min: np.minimum,
    AluOp.mod: np.mod,
    AluOp.pow: np.power,
    AluOp.average: lambda a, b: (a + b) * np.float32(0.5),
    AluOp.is_equal: lambda a, b: (a == b).astype(np.float32),
    AluOp.not_equal: lambda a, b: (a != b).astype(np.float32),
    AluOp.is_ge: lambda a, b: (a >= b).astype(np.float32),
    AluOp.is_gt: lambda a, b: (a > b).astype(np.float32),
    AluOp.is_le: lambda a, b: (a <= b).astype(np.float32),
    AluOp.is_lt: lambda a, b: (a < b).astype(np.float32),
    AluOp.logical_and: lambda a, b: ((a != 0) & (b != 0)).astype(np.float32),
    AluOp.logical_or: lambda a, b: ((a != 0) | (b != 0)).astype(np.float32),
    AluOp.logical_xor: lambda a, b: ((a != 0) ^ (b != 0)).astype(np.float32),
    AluOp.abs: lambda a, b: np.abs(a),
    AluOp.bypass: lambda a, b: a,
    AluOp.rsqrt: lambda a, b: np.float32(1) / np.sqrt(a),
}

INT_REFERENCE = {
    AluOp.add: lambda a, b: a + b,
    AluOp.subtract: lambda a, b: a - b,
    AluOp.mult: lambda a, b: a * b,
    AluOp.max: np.maximum,
    AluOp.min: np.minimum,
    AluOp.is_lt: lambda a, b: (a < b).astype(np.int64),
}

# 32-bit words (Python ints, exact), written to int32 by keeping the low 32 bits
WORD_REFERENCE = {
    AluOp.bitwise_and: lambda a, b: a & b,
    AluOp.bitwise_or: lambda a, b: a | b,
    AluOp.bitwise_xor: lambda a, b: a ^ b,
    AluOp.bitwise_not: lambda a, b: ~a,
    AluOp.arith_shift_left: lambda a, b: a << b if b < 32 else 0,
    AluOp.logical_shift_left: lambda a, b: a << b if b < 32 else 0,
    AluOp.arith_shift_right: lambda a, b: a >> min(b, 31),
    AluOp.logical_shift_right: lambda a, b: (a & 0xFFFFFFFF) >> b if b < 32 else 0,
}


def low32(x: int) -> int:
    return (x & 0xFFFFFFFF) - (1 << 32 if x & 0x80000000 else 0)


def pair(dtype, elements):
    shape = st.tuples(st.integers(1, 5), st.integers(1, 7))
    return shape.flatmap(lambda s: st.tuples(hnp.arrays(dtype, s, elements=elements),
                                             hnp.arrays(dtype, s, elements=elements)))


def tensor_tensor(op, a, b, dtype=Dtype.float32):
    o = hbm("o", a.shape, dtype)
    r = run_ops({"a": a, "b": b}, [o], [TensorTensor(full(o), full(arg("a", a)), full(arg("b", b)),
                                                     op, None, U)])
    assert r.warnings == []
    return r.outputs["o"]


@settings(max_examples=30)
@given(st.sampled_from(sorted(FLOAT_REFERENCE, key=lambda o: o.name)), pair(np.float32, FLOATS))
def test_float_alu_ops_match_numpy(op, ab):
    a, b = ab
    with np.errstate(all="ignore"):
        expect = FLOAT_REFERENCE[op](a, b).astype(np.float32)
    np.testing.assert_array_equal(tensor_tensor(op, a, b), expect)


@settings(max_examples=30)
@given(st.sampled_from(sorted(INT_REFERENCE, key=lambda o: o.name)),
       pair(np.int32, st.integers(-1000, 1000)))
def test_integer_alu_ops_are_exact(op, ab):
    a, b = ab
    expect = INT_REFERENCE[op](a.astype(np.int64), b.astype(np.int64))
    info = np.iinfo(np.int32)
    np.testing.assert_array_equal(tensor_tensor(op, a, b, Dtype.int32),
                                  np.clip(expect, info.min, info.max))


@settings(max_examples=40)
@given(st.sampled_from(sorted(WORD_REFERENCE, key=lambda o: o.name)),
       st.tuples(st.integers(1, 3), st.integers(1, 5)).flatmap(
           lambda s: st.tuples(hnp.arrays(np.int32, s),
                               hnp.arrays(np.int32, s, elements=st.integers(0, 40)))))
def test_bitwise_ops_work_on_32_bit_words_and_wrap(op, ab):
    a, b = ab
    expect = np.vectorize(lambda x, y: low32(WORD_REFERENCE[op](int(x), int(y))), otypes=[np.int64])(a, b)
    np.testing.assert_array_equal(tensor_tensor(op, a, b, Dtype.int32), expect)


@settings(max_examples=20)
@given(st.sampled_from([AluOp.add, AluOp.mult, AluOp.max, AluOp.min, AluOp.is_equal,
                        AluOp.not_equal, AluOp.average]), pair(np.float32, FLOATS))
def test_commutative_ops_commute(op, ab):
    a, b = ab
    np.testing.assert_array_equal(tensor_tensor(op, a, b), tensor_tensor(op, b, a))


@settings(max_examples=20)
@given(st.sampled_from(list(TensorScalarReverseOps)), hnp.arrays(np.float32, (3, 4), elements=FLOATS),
       FLOATS, FLOATS)
def test_tensor_scalar_reverse_flags(reverse, x, s0, s1):
    o = hbm("o", (3, 4))
    op = TensorScalar(full(o), full(arg("x", x)), fimm(s0), AluOp.subtract, fimm(s1), AluOp.subtract,
                      reverse, U, None)
    got = run_ops({"x": x}, [o], [op]).outputs["o"]
    s0, s1 = np.float32(s0), np.float32(s1)
    first = s0 - x if reverse in (TensorScalarReverseOps.first, TensorScalarReverseOps.both) else x - s0
    both = s1 - first if reverse in (TensorScalarReverseOps.second, TensorScalarReverseOps.both) \
        else first - s1
    np.testing.assert_array_equal(got, both)


def test_integer_tensor_scalar_with_an_integral_float_immediate_stays_exact():
    x = np.array([[2**30 + 1, -3]], np.int32)
    o = hbm("o", (1, 2), Dtype.int32)
    op = TensorScalar(full(o), full(arg("x", x)), fimm(2.0), AluOp.add, iimm(1), AluOp.bitwise_or,
                      TensorScalarReverseOps.none, U, None)
    got = run_ops({"x": x}, [o], [op]).outputs["o"]
    np.testing.assert_array_equal(got, [[(2**30 + 3) | 1, -1]])


def test_bf16_writes_round_to_nearest_even():
    one = np.float32(1.0)
    ulp = np.float32(2.0**-7)  # bf16 spacing at 1.0
    x = np.array([[one + ulp / 2, one + 3 * ulp / 2, one + ulp / 2 + 2.0**-20, -(one + ulp / 2)]],
                 np.float32)
    zero = np.zeros_like(x)
    got = tensor_tensor(AluOp.add, x, zero, Dtype.bfloat16)
    expect = np.array([[1.0, 1.0 + 2 * ulp, 1.0 + ulp, -1.0]], np.float32)
    np.testing.assert_array_equal(got.astype(np.float32), expect)
    np.testing.assert_array_equal(got, x.astype(ml_dtypes.bfloat16))


@settings(max_examples=20)
@given(st.integers(1, 24), st.integers(1, 16), st.integers(1, 20), st.integers(0, 2**31 - 1))
def test_matmul_matches_numpy_in_fp32(k, m, n, seed):
    gen = np.random.default_rng(seed)
    s = gen.standard_normal((k, m)).astype(np.float32)
    mv = gen.standard_normal((k, n)).astype(np.float32)
    init = gen.standard_normal((m, n)).astype(np.float32)
    acc = hbm("acc", (m, n))
    ops = [NcMatMul(full(acc), full(arg("s", s)), full(arg("m", mv)), False, False, False, (), (),
                    MatmulPerfMode.None_)]
    from tests.interp.builder import dma
    r = run_ops({"s": s, "m": mv, "i": init}, [acc], [dma(acc, arg("i", init)), *ops])
    np.testing.assert_allclose(r.outputs["acc"], init + s.T @ mv, rtol=1e-5, atol=1e-5)


def test_alu_misuse_messages():
    from klr.interp import alu

    with pytest.raises(alu.AluError) as info:
        alu.apply(AluOp.arith_shift_right, np.array([1], np.int64), np.array([-2], np.int64))
    assert info.value.message == "shift amount -2 of arith_shift_right is negative"
    with pytest.raises(alu.AluError) as info:
        alu.apply(AluOp.bitwise_or, np.array([1.5], np.float32), np.array([1], np.int64))
    assert info.value.message == ("the bitwise operator bitwise_or works on integers, but this instruction "
                                  "computes in float32 (a float operand, destination or immediate)")
