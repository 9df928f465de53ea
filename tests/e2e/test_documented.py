"""Issue 10's disagreements with the NKI documentation, kernel to numbers: each expected value
comes from the NKI API reference (nki.language, nki.isa, the type promotion section), not from
klr. The interpreter's were fixed first, the tracer's builtins in the tracer round (the
functions' own tests, in both dialects: tests/tracer/nki/test_semantics.py)."""

from __future__ import annotations

from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from klr.errors import EvalError
from tests.tracer.nki.util import run_kernel, trace_error, trace_kernel, where


def unary(call: str) -> str:
    return f"""
def kernel(a):
    c = {call}
    out = nl.ndarray(c.shape, dtype=c.dtype, buffer=nl.shared_hbm)
    nl.store(out, value=c)
    return out
"""


def binary(call: str) -> str:
    return f"""
def kernel(a, b):
    c = {call}
    out = nl.ndarray(c.shape, dtype=c.dtype, buffer=nl.shared_hbm)
    nl.store(out, value=c)
    return out
"""


# --- fixed in the interpreter --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_invert_of_unsigned_integers_is_the_bitwise_not(tmp_path: Path, dtype: type) -> None:
    """nl.invert: "the bit-wise NOT of the underlying binary representation" (numpy.invert)."""
    a = np.array([[0, 1, 200, 255]], dtype)
    (got,) = run_kernel(tmp_path, unary("nl.invert(nl.load(a))"), a)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.invert(a))


def test_left_shift_of_signed_integers_shifts_bit_patterns(tmp_path: Path) -> None:
    """nl.left_shift: "the bit-wise left shift of the underlying binary representation"."""
    a, b = np.array([[-7, 1, 2**29]], np.int32), np.full((1, 3), 2, np.int32)
    (got,) = run_kernel(tmp_path, binary("nl.left_shift(nl.load(a), nl.load(b))"), a, b)
    np.testing.assert_array_equal(got, [[-28, 4, -2**31]])
    one, seven = np.array([[1]], np.int8), np.array([[7]], np.int8)
    (got,) = run_kernel(tmp_path, binary("nl.left_shift(nl.load(a), nl.load(b))"), one, seven)
    np.testing.assert_array_equal(got, [[-128]])


def test_activation_reset_then_reduce_accumulates(tmp_path: Path) -> None:
    """nisa.activation: reset zeroes reduce_regs, reduce adds the activated data to them, and
    reduce_res reads them out."""
    src = """
    def kernel(a):
        out = nl.ndarray((4, 1), dtype=nl.float32, buffer=nl.shared_hbm)
        t = nl.load(a)
        res = nl.ndarray((4, 1), dtype=nl.float32, buffer=nl.sbuf)
        nisa.activation(op=nl.copy, data=t, reduce_op=nl.add, reduce_cmd=nisa.reduce_cmd.reset)
        nisa.activation(op=nl.copy, data=t, reduce_op=nl.add, reduce_cmd=nisa.reduce_cmd.reduce)
        nisa.activation(op=nl.copy, data=t, reduce_op=nl.add, reduce_res=res,
                        reduce_cmd=nisa.reduce_cmd.reduce)
        nl.store(out, value=res)
        return out
    """
    a = np.array([[1, 2, 3, 4]] * 4, np.float32) * np.arange(1, 5, dtype=np.float32)[:, None]
    (got,) = run_kernel(tmp_path, src, a)
    np.testing.assert_array_equal(got, [[20.0], [40.0], [60.0], [80.0]])


def test_indirect_load_with_oob_skip_leaves_the_skipped_rows(tmp_path: Path) -> None:
    """nisa.dma_copy's example: indices 3*arange(64) into a 128-row tensor with oob_mode=skip."""
    src = """
    def kernel(in_tensor):
        out_tensor = nl.ndarray([64, 512], dtype=in_tensor.dtype, buffer=nl.shared_hbm)
        n, m = in_tensor.shape
        ix, iy = nl.mgrid[0:n // 2, 0:m]
        expr_arange = 3 * nl.arange(n // 2)[:, None]
        idx_tile = nisa.iota(expr_arange, dtype=np.int32)
        out_tile = nisa.memset(shape=(n // 2, m), value=-1, dtype=in_tensor.dtype)
        nisa.dma_copy(src=in_tensor[idx_tile, iy], dst=out_tile[ix, iy], oob_mode=nisa.oob_mode.skip)
        nl.store(out_tensor, value=out_tile)
        return out_tensor
    """
    x = np.arange(128 * 512, dtype=np.float32).reshape(128, 512)
    (got,) = run_kernel(tmp_path, src, x)
    rows = 3 * np.arange(64)
    want = np.where((rows < 128)[:, None], x[np.minimum(rows, 127)], -1.0)
    np.testing.assert_array_equal(got, want)


def test_indirect_load_out_of_bounds_is_an_error_by_default(tmp_path: Path) -> None:
    src = """
    def kernel(in_tensor):
        out_tensor = nl.ndarray([64, 512], dtype=in_tensor.dtype, buffer=nl.shared_hbm)
        n, m = in_tensor.shape
        ix, iy = nl.mgrid[0:n // 2, 0:m]
        idx_tile = nisa.iota(3 * nl.arange(n // 2)[:, None], dtype=np.int32)
        out_tile = nisa.memset(shape=(n // 2, m), value=-1, dtype=in_tensor.dtype)
        nisa.dma_copy(src=in_tensor[idx_tile, iy], dst=out_tile[ix, iy])
        nl.store(out_tensor, value=out_tile)
        return out_tensor
    """
    with pytest.raises(EvalError, match="out-of-bounds access to 'in_tensor'"):
        run_kernel(tmp_path, src, np.zeros((128, 512), np.float32))


# --- the tracer round ----------------------------------------------------------------------------


def test_int8_plus_uint8_is_int16(tmp_path: Path) -> None:
    a, b = np.array([[100, -100, 127]], np.int8), np.array([[200, 200, 255]], np.uint8)
    (got,) = run_kernel(tmp_path, binary("nl.add(nl.load(a), nl.load(b))"), a, b)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, [[300, 100, 382]])


@pytest.mark.parametrize(("a", "b", "want"), [
    (np.int8, np.uint16, np.int32),
    (np.int32, np.uint32, np.float32),
    (ml_dtypes.float8_e4m3, ml_dtypes.float8_e5m2, ml_dtypes.bfloat16),
])
def test_tile_promotion(tmp_path: Path, a: type, b: type, want: type) -> None:
    x, y = np.ones((2, 4), a), np.ones((2, 4), b)
    (got,) = run_kernel(tmp_path, binary("nl.add(nl.load(a), nl.load(b))"), x, y)
    assert got.dtype == np.dtype(want)


def test_float16_plus_bfloat16_is_float32(tmp_path: Path) -> None:
    x, y = np.ones((2, 4), np.float16), np.ones((2, 4), ml_dtypes.bfloat16)
    (got,) = run_kernel(tmp_path, binary("nl.add(nl.load(a), nl.load(b))"), x, y)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.full((2, 4), 2.0))


@pytest.mark.parametrize(("dtype", "call", "want"), [
    (np.int8, "nl.add(nl.load(a), 100)", np.int32),
    (np.float16, "nl.add(nl.load(a), 1.2)", np.float32),
    (ml_dtypes.bfloat16, "nl.add(nl.load(a), 1.5)", np.float32),
    (np.int32, "nl.where(nl.load(a) > 2, nl.load(a), 0.5)", np.float32),
])
def test_scalar_promotion(tmp_path: Path, dtype: type, call: str, want: type) -> None:
    (got,) = run_kernel(tmp_path, unary(call), np.ones((2, 4), dtype))
    assert got.dtype == np.dtype(want)


def test_mean_of_integers_is_float32(tmp_path: Path) -> None:
    a = np.array([[1, 2, 2, 2], [-1, -2, 0, 0]], np.int32)
    (got,) = run_kernel(tmp_path, unary("nl.mean(nl.load(a), axis=1)"), a)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.reshape(-1), [1.75, -0.75])


def test_max8_keeps_the_input_dtype(tmp_path: Path) -> None:
    x = np.arange(64, dtype=np.float32).reshape(4, 16).astype(ml_dtypes.bfloat16)
    (got,) = run_kernel(tmp_path, unary("nisa.max8(src=nl.load(a))"), x)
    assert got.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(got, np.sort(x, axis=1)[:, ::-1][:, :8])


def test_fmod_takes_the_sign_of_the_dividend(tmp_path: Path) -> None:
    a, b = np.array([[-7.0, 7.0]], np.float32), np.array([[2.0, -2.0]], np.float32)
    (got,) = run_kernel(tmp_path, binary("nl.fmod(nl.load(a), nl.load(b))"), a, b)
    np.testing.assert_array_equal(got, [[-1.0, 1.0]])


def test_mod_takes_the_sign_of_the_divisor(tmp_path: Path) -> None:
    a, b = np.array([[-7.0, 7.0]], np.float32), np.array([[2.0, -2.0]], np.float32)
    (got,) = run_kernel(tmp_path, binary("nl.mod(nl.load(a), nl.load(b))"), a, b)
    np.testing.assert_array_equal(got, [[1.0, -1.0]])


def test_nc_transpose_flattens_the_free_axes(tmp_path: Path) -> None:
    x = np.arange(64, dtype=np.float32).reshape(8, 2, 4)
    (got,) = run_kernel(tmp_path, unary("nisa.nc_transpose(nl.load(a))"), x)
    np.testing.assert_array_equal(got, x.reshape(8, 8).T)


def test_bitwise_operators_on_floats_fail_at_trace(tmp_path: Path) -> None:
    """Bitvec operators need integer operands (nki.isa "Supported Math Operators"); the
    interpreter's own check (tests/interp/test_alu.py) is never reached by traced kernels."""
    a = np.ones((1, 2), np.float32)
    err = trace_error(tmp_path, binary("nl.bitwise_and(nl.load(a), nl.load(b))"), a, a)
    assert not isinstance(err, EvalError)
    assert err.message == ("the bitwise operator bitwise_and needs integer operands, "
                           "not float32")
    assert where(err) == (7, 9)


@pytest.mark.parametrize(("call", "col"), [("nl.load(a) << 1", 9), ("~nl.load(a)", 9),
                                           ("nl.invert(nl.load(a))", 9)])
def test_bitwise_operators_on_float_tiles_and_numbers_fail_at_trace(tmp_path: Path, call: str,
                                                                    col: int) -> None:
    err = trace_error(tmp_path, unary(call), np.ones((1, 2), np.float32))
    assert "needs an integer operand" in err.message or "needs integer operands" in err.message
    assert where(err) == (7, col)


FUNCTIONS = [
    ("nl.softmax(nl.load(a), axis=1)", lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
    ("nl.var(nl.load(a), axis=1)", lambda x: x.var(axis=1)),
    ("nl.floor(nl.load(a))", np.floor),
    ("nl.ceil(nl.load(a))", np.ceil),
    ("nl.trunc(nl.load(a))", np.trunc),
    ("nl.tan(nl.load(a))", np.tan),
    ("nl.expand_dims(nl.load(a), 1)", lambda x: x[:, None, :]),
]


@pytest.mark.parametrize(("call", "ref"), FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_documented_functions_exist(tmp_path: Path, call: str, ref: object) -> None:
    x = np.linspace(-1.5, 1.5, 32, dtype=np.float32).reshape(4, 8)
    (got,) = run_kernel(tmp_path, unary(call), x)
    want = np.asarray(ref(x)).reshape(-1)  # type: ignore[operator]
    np.testing.assert_allclose(got.reshape(-1), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["nl.rms_norm", "nl.atomic_rmw", "nl.all_reduce",
                                  "nisa.tensor_copy_dynamic_src", "nisa.tensor_copy_dynamic_dst"])
def test_documented_names_are_known(tmp_path: Path, name: str) -> None:
    src = f"""
    def kernel(a):
        f = {name}
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.load(a))
        return out
    """
    trace_kernel(tmp_path, src, np.zeros((4, 8), np.float32))
