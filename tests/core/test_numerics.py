"""klr.core.numerics: NKI's promotion table and weak scalars (the expected types are the NKI
documentation's examples), and the scalar conversions the interpreter's arrays must agree with."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klr.core import AluOp, ImmFloat, RangeSelect
from klr.core.numerics import (
    NumericsError,
    exact_integers,
    float_to_int,
    promote,
    reduce_dtype,
    result_dtype,
    saturate,
    scalar_dtype,
    scalar_result_dtype,
    to_float32,
    word_bits,
    wrap,
)
from klr.dtypes import Dtype as D

# "NKI Type Promotion" (nki.api.shared): every example it gives
DOCUMENTED = [
    (D.int32, D.float16, D.float16), (D.uint16, D.float32r, D.float32r),
    (D.float32, D.float32r, D.float32), (D.float32, D.bfloat16, D.float32),
    (D.float16, D.bfloat16, D.float32), (D.float8e4, D.float16, D.float16),
    (D.float8e4, D.bfloat16, D.bfloat16), (D.float8e4, D.float8e5, D.bfloat16),
    (D.int16, D.int32, D.int32), (D.uint8, D.uint16, D.uint16), (D.uint16, D.int32, D.int32),
    (D.int8, D.uint8, D.int16), (D.int8, D.uint16, D.int32), (D.int32, D.uint32, D.float32),
]


@pytest.mark.parametrize(("a", "b", "want"), DOCUMENTED, ids=[f"{a.name}+{b.name}" for a, b, _ in DOCUMENTED])
def test_the_documented_promotions(a: D, b: D, want: D) -> None:
    assert promote(a, b) is want
    assert promote(b, a) is want


NUMERIC = [d for d in D if not d.is_packed]


@given(st.sampled_from(NUMERIC), st.sampled_from(NUMERIC))
def test_promotion_is_commutative_and_absorbs_its_operands(a: D, b: D) -> None:
    assert promote(a, b) is promote(b, a)
    assert promote(a, a) is a
    ab = promote(a, b)
    assert promote(ab, a) is ab and promote(ab, b) is ab


def test_weak_scalars() -> None:
    # "Weakly typed scalars ... bool --> uint8, integer --> int32, floating --> float32"
    assert (scalar_dtype(True), scalar_dtype(3), scalar_dtype(2.5)) == (D.uint8, D.int32, D.float32)
    # "(np.int8, 2) -> np.int32", "(np.float16, 1.2) -> np.float32"
    assert scalar_result_dtype(AluOp.add, D.int8, 2) is D.int32
    assert scalar_result_dtype(AluOp.add, D.float16, 1.2) is D.float32
    assert scalar_result_dtype(AluOp.add, D.bfloat16, 1.5) is D.float32
    assert scalar_result_dtype(AluOp.is_gt, D.int32, 0.5) is D.float32
    with pytest.raises(NumericsError, match="a str is not a number"):
        scalar_dtype("1")  # type: ignore[arg-type]


def test_result_dtypes_of_operator_classes() -> None:
    assert result_dtype(AluOp.add, D.int8, D.uint8) is D.int16
    assert result_dtype(AluOp.bitwise_and, D.int32, D.uint32) is D.int32
    assert result_dtype(AluOp.bitwise_not, D.uint8) is D.uint8
    assert result_dtype(AluOp.abs, D.bfloat16, D.float32) is D.bfloat16  # unary: the operand's
    assert reduce_dtype(AluOp.average, D.int32) is D.float32  # nl.mean of integers
    assert reduce_dtype(AluOp.add, D.int32) is D.int32
    with pytest.raises(NumericsError) as info:
        result_dtype(AluOp.bitwise_or, D.float32, D.int32)
    assert str(info.value) == "the bitwise operator bitwise_or needs integer operands, not float32"
    with pytest.raises(NumericsError) as info:
        result_dtype(AluOp.logical_shift_left, D.bfloat16)
    assert str(info.value) == "the bitwise operator logical_shift_left needs an integer operand, not bfloat16"
    with pytest.raises(NumericsError) as info:
        promote(D.float8_e5m2_x4, D.float32)
    assert str(info.value) == "float8_e5m2_x4 is a packed type, which has no arithmetic"


def test_compute_types_and_words() -> None:
    assert exact_integers([D.int32, D.uint8, None], [2, 3.0])
    assert not exact_integers([D.int32, D.float32])
    assert not exact_integers([D.int32], [2.5])
    assert not exact_integers([D.int32], [math.inf])
    assert word_bits([D.int8, D.uint32]) == 32 and word_bits([D.int64, None]) == 64


@settings(max_examples=200)
@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([D.int8, D.uint8, D.int16, D.int32,
                                                                         D.uint32]))
def test_float_to_int_agrees_with_the_interpreter(x: float, dt: D) -> None:
    from klr.interp.machine import cast_to

    got = cast_to(np.array([np.float32(x) if abs(x) < 3e38 else x], np.float64), dt)[0]
    assert int(got) == float_to_int(float(np.float64(np.float32(x)) if abs(x) < 3e38 else x), dt)


@settings(max_examples=200)
@given(st.integers(-2**40, 2**40), st.sampled_from([D.int8, D.uint8, D.int16, D.uint16, D.int32, D.uint32]))
def test_saturate_and_wrap_agree_with_the_interpreter(x: int, dt: D) -> None:
    from klr.interp.machine import cast_to

    assert int(cast_to(np.array([x], np.int64), dt)[0]) == saturate(x, dt)
    assert int(cast_to(np.array([x], np.int64), dt, wrap=True)[0]) == wrap(x, dt)


def test_conversion_examples() -> None:
    assert [float_to_int(v, D.int8) for v in (0.5, 1.5, 2.5, -0.5, 300.0, -1e9, math.nan)] == \
        [0, 2, 2, 0, 127, -128, 0]
    assert wrap(128, D.int8) == -128 and wrap(-1, D.uint16) == 65535 and saturate(-1, D.uint16) == 0


@given(st.floats(allow_nan=False, width=64))
def test_to_float32_is_round_to_nearest_even(x: float) -> None:
    with np.errstate(over="ignore"):
        assert to_float32(x) == float(np.float32(x))


def test_float_immediates_are_float32_by_construction(tmp_path: object) -> None:
    """Issue 10 item 7: an ImmFloat (every Float32 field) rounds its value on construction, so a
    traced kernel equals its written file and klr.eval of either gives the same bits."""
    from pathlib import Path

    import klr
    from klr.core import Engine, Immediate, TensorScalar, TensorScalarReverseOps
    from klr.format.cbor import decode, encode
    from tests.interp.builder import full, hbm, kernel

    third = ImmFloat(1 / 9)
    assert third.f == float(np.float32(1 / 9)) != 1 / 9
    assert decode(encode(third, Immediate), Immediate) == third
    assert ImmFloat(1e39).f == math.inf and ImmFloat(2).f == 2.0
    rs = RangeSelect(*(None,) * 4, 1 / 3, 1 / 7, *(None,) * 4)  # type: ignore[arg-type]
    assert (rs.base, rs.fillValue) == (float(np.float32(1 / 3)), float(np.float32(1 / 7)))
    x, out = hbm("x", (2, 3)), hbm("out", (2, 3))
    k = kernel([x], [out], [TensorScalar(full(out), full(x), ImmFloat(1 / 9), AluOp.mult, ImmFloat(1 / 192),
                                         AluOp.add, TensorScalarReverseOps.none, Engine.unassigned, None)])
    path = Path(str(tmp_path)) / "k.klr"
    klr.save(str(path), k)
    assert klr.load(str(path)) == k
    a = np.linspace(-3, 3, 6, dtype=np.float32).reshape(2, 3)
    direct, written = klr.eval(k, a).outputs["out"], klr.eval(str(path), a).outputs["out"]
    assert direct.tobytes() == written.tobytes()
    assert np.array_equal(direct, a * np.float32(1 / 9) + np.float32(1 / 192))
