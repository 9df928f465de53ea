"""The NKI functions whose meaning issue 10 settled, traced in both dialects, evaluated and
compared with numpy: each expected value is what the NKI documentation says the function
computes (numpy.floor, numpy.fmod, softmax, ...), never klr's output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from tests.tracer.nki.util import BETA2, line_of, op_names, run_kernel, trace_error, trace_kernel, where

LEGACY_KERNEL = """
def kernel(a, b):
    t = nl.load(a)
    u = nl.load(b)
    c = {call}
    out = nl.ndarray(c.shape, dtype=c.dtype, buffer=nl.shared_hbm)
    nl.store(out, value=c)
    return out
"""

BETA2_KERNEL = """
def kernel(a, b):
    t = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.sbuf)
    nisa.dma_copy(dst=t, src=a)
    u = nl.ndarray(b.shape, dtype=b.dtype, buffer=nl.sbuf)
    nisa.dma_copy(dst=u, src=b)
    c = {call}
    out = nl.ndarray(c.shape, dtype=c.dtype, buffer=nl.shared_hbm)
    nisa.dma_copy(dst=out, src=c)
    return out
"""

X = np.array([[-3.2, 3.7, -0.5, 0.5, 2.0, -2.0, 1.25, -1.25],
              [0.0, 0.99, -0.99, 7.5, -7.5, 1.5, -1.5, 0.1],
              [-7.0, 7.0, 5.5, -5.5, 0.3, -0.3, 1.0, -1.0],
              [1.4, -1.4, 0.7, -0.7, 1.1, -1.1, 0.2, -0.2]], np.float32)
Y = np.array([[2.0, -2.0, 0.75, -0.75, 1.5, 3.0, -0.5, 0.5]] * 4, np.float32)


def _rms_norm(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return x / np.sqrt((x * x).sum(axis=1, keepdims=True) / 8 + 1e-6) * w


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


CASES: list[tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = [
    ("nl.floor(t)", lambda x, y: np.floor(x)),
    ("nl.ceil(t)", lambda x, y: np.ceil(x)),
    ("nl.trunc(t)", lambda x, y: np.trunc(x)),
    ("nl.fmod(t, u)", np.fmod),
    ("nl.fmod(t, 0.75)", lambda x, y: np.fmod(x, np.float32(0.75))),
    ("nl.fmod(-7.0, u)", lambda x, y: np.fmod(np.float32(-7.0), y)),
    ("nl.tan(t * 0.2)", lambda x, y: np.tan(x * np.float32(0.2))),
    ("nl.softmax(t, axis=1)", lambda x, y: _softmax(x)),
    ("nl.var(t, axis=1)", lambda x, y: x.var(axis=1)),
    ("nl.rms_norm(t, u, axis=1, n=8)", _rms_norm),
    ("nl.expand_dims(t, 2)", lambda x, y: x[:, :, None]),
    ("nl.expand_dims(t, (1, 3))", lambda x, y: x[:, None, :, None]),
]


@pytest.mark.parametrize("dialect", ["legacy", "beta2"])
@pytest.mark.parametrize(("call", "ref"), CASES, ids=[c[0] for c in CASES])
def test_function_matches_numpy(tmp_path: Path, dialect: str, call: str,
                                ref: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    kernel = (LEGACY_KERNEL if dialect == "legacy" else BETA2_KERNEL).format(call=call)
    options = {"header": BETA2} if dialect == "beta2" else {}
    (got,) = run_kernel(tmp_path, kernel, X, Y, **options)
    want = ref(X, Y)
    if dialect == "beta2" and call.startswith("nl.var"):  # nki keeps the reduced axis (semantics.md §1.6)
        want = want[:, None]
    assert got.dtype == np.float32
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # tan near pi/2: cos is sin(x + pi/2)


def test_rounding_near_zero_and_of_large_values(tmp_path: Path) -> None:
    """floor/ceil/trunc of values whose fraction rounds away in float32 (x mod 1 of -1e-10 is
    1.0 in float32) and of values beyond 2**23, which are integers already."""
    x = np.array([[-1e-10, 1e-10, 2.0**24 + 2, -(2.0**23) - 0.5, -0.0, 1e30, -1e30, 3.0]], np.float32)
    for fn in ("floor", "ceil", "trunc"):
        (got,) = run_kernel(tmp_path, LEGACY_KERNEL.format(call=f"nl.{fn}(t)"), x, x)
        np.testing.assert_array_equal(got, getattr(np, fn)(x))


def test_fmod_of_integers_is_exact_and_keeps_the_dtype(tmp_path: Path) -> None:
    a = np.array([[-7, 7, -7, 7, 2**30 + 1, -(2**30) - 1, 0, 5]], np.int32)
    b = np.array([[2, -2, -2, 2, 7, 7, 3, -5]], np.int32)
    (got,) = run_kernel(tmp_path, LEGACY_KERNEL.format(call="nl.fmod(t, u)"), a, b)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.fmod(a, b))


def test_fmod_on_numbers_computes_at_trace_time(tmp_path: Path) -> None:
    src = """
    def kernel(a):
        assert nl.fmod(-7.0, 2.0) == -1.0 and np.fmod(7, -2) == 1.0
        assert nl.floor(-3.2) == -4.0 and nl.ceil(3.2) == 4.0 and nl.trunc(-3.7) == -3.0
        assert nl.floor(5) == 5 and nl.tan(0.0) == 0.0
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.load(a))
        return out
    """
    (got,) = run_kernel(tmp_path, src, X)
    np.testing.assert_array_equal(got, X)


@pytest.mark.parametrize("dtype", [np.int32, np.int8, ml_dtypes.bfloat16])
def test_rounding_keeps_the_input_dtype(tmp_path: Path, dtype: type) -> None:
    x = np.array([[-3, 3, 0, 100, -100, 7, -7, 1]], np.float32).astype(dtype)
    for fn in ("floor", "ceil", "trunc"):
        (got,) = run_kernel(tmp_path, LEGACY_KERNEL.format(call=f"nl.{fn}(t)"), x, x)
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, x)


def test_bfloat16_fractions_floor_to_bfloat16_integers(tmp_path: Path) -> None:
    x = np.array([[-3.25, 3.75, -0.5, 100.5, -100.5, 1.5, -1.5, 0.25]], np.float32).astype(ml_dtypes.bfloat16)
    (got,) = run_kernel(tmp_path, LEGACY_KERNEL.format(call="nl.floor(t)"), x, x)
    assert got.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(got.astype(np.float32), np.floor(x.astype(np.float32)))


def test_var_of_integers_is_float32(tmp_path: Path) -> None:
    a = np.array([[1, 2, 3, 4], [-5, 5, -5, 5]], np.int32)
    (got,) = run_kernel(tmp_path, LEGACY_KERNEL.format(call="nl.var(t, axis=1)"), a, a)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [1.25, 25.0])


def test_softmax_dtype_and_the_example_of_the_docs(tmp_path: Path) -> None:
    """nl.softmax's documented example: a uniform input gives a uniform output, 1/512."""
    src = """
    def kernel(a):
        x = nl.full((128, 512), 1.0, dtype=nl.float32, buffer=nl.sbuf)
        s = nl.softmax(x, axis=1, dtype=nl.bfloat16)
        out = nl.ndarray(s.shape, dtype=s.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=s)
        return out
    """
    (got,) = run_kernel(tmp_path, src, X)
    assert got.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(got.astype(np.float32), np.full((128, 512), 1 / 512))


def test_max8_of_bfloat16_is_bfloat16_in_both_dialects(tmp_path: Path) -> None:
    src = """
    def kernel(a):
        t = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=a)
        m = nl.ndarray((4, 8), dtype=a.dtype, buffer=nl.sbuf)
        nisa.max8(dst=m, src=t)
        out = nl.ndarray((4, 8), dtype=a.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=m)
        return out
    """
    x = np.random.default_rng(1).permutation(64).reshape(4, 16).astype(ml_dtypes.bfloat16)
    (got,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_array_equal(got, np.sort(x, axis=1)[:, ::-1][:, :8])


def test_atomic_rmw_adds_into_the_indexed_rows(tmp_path: Path) -> None:
    """nl.atomic_rmw's example: rows chosen by an index tile incremented by a value tile."""
    src = """
    def kernel(rmw, idx, v):
        ix = nl.load(idx)
        val = nl.load(v)
        iy = nl.arange(8)[None, :]
        nl.atomic_rmw(rmw[ix, iy], value=val, op=np.add)
        nl.atomic_rmw(rmw[ix, iy], value=0.5, op=np.add)
        return rmw
    """
    a = np.arange(32, dtype=np.float32).reshape(4, 8)
    idx = np.array([[3], [0]], np.int32)
    v = np.arange(16, dtype=np.float32).reshape(2, 8)
    (got,) = run_kernel(tmp_path, src, a, idx, v)
    want = a.copy()
    want[idx[:, 0]] += v + 0.5
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dialect", ["legacy", "beta2"])
def test_tensor_copy_dynamic_src_and_dst_copy(tmp_path: Path, dialect: str) -> None:
    if dialect == "legacy":
        call = "nisa.tensor_copy_dynamic_src(t[:, 2:6])"
        src = LEGACY_KERNEL.format(call=call)
        options = {}
    else:
        src = BETA2_KERNEL.format(call="""nl.ndarray((4, 4), dtype=a.dtype, buffer=nl.sbuf)
    nisa.tensor_copy_dynamic_src(dst=c, src=t[:, 2:6])
    nisa.tensor_copy_dynamic_dst(dst=u[:, 0:4], src=c)
    c = u""")
        options = {"header": BETA2}
    (got,) = run_kernel(tmp_path, src, X, Y, **options)
    if dialect == "legacy":
        np.testing.assert_array_equal(got, X[:, 2:6])
    else:
        want = Y.copy()
        want[:, 0:4] = X[:, 2:6]
        np.testing.assert_array_equal(got, want)


def test_nc_transpose_of_a_3d_view_copies_it_first(tmp_path: Path) -> None:
    src = """
    def kernel(a):
        t = nl.load(a)
        c = nisa.nc_transpose(t[:, :, 0:2])
        out = nl.ndarray(c.shape, dtype=c.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=c)
        return out
    """
    x = np.arange(8 * 3 * 4, dtype=np.float32).reshape(8, 3, 4)
    (got,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(got, x[:, :, 0:2].reshape(8, 6).T)


def test_where_promotes_its_operands(tmp_path: Path) -> None:
    a = np.array([[1, 3, 5, 2]], np.int32)
    (got,) = run_kernel(tmp_path, LEGACY_KERNEL.format(call="nl.where(t > 2, t, 0.5)"), a, a)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[0.5, 3.0, 5.0, 0.5]])


def test_scalar_promotion_of_operators(tmp_path: Path) -> None:
    """A Python int is int32 and a float float32 (the docs' scalar rule): an int8 tile plus 100
    does not wrap, a bfloat16 tile times 1.5 is float32."""
    a = np.array([[100, -100, 127, 1]], np.int8)
    (got,) = run_kernel(tmp_path, LEGACY_KERNEL.format(call="t + 100"), a, a)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [[200, 0, 227, 101]])
    h = np.array([[1.0, 3.0]], ml_dtypes.bfloat16)
    (got,) = run_kernel(tmp_path, LEGACY_KERNEL.format(call="t * 1.5"), h, h)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[1.5, 4.5]])


def test_fmod_emits_float32_intermediates(tmp_path: Path) -> None:
    result = trace_kernel(tmp_path, LEGACY_KERNEL.format(call="nl.fmod(t, u)"), X, Y)
    assert op_names(result) == ["ncDmaCopy", "ncDmaCopy", "tensorScalar", "tensorScalar", "tensorTensor",
                                "ncActivate", "tensorTensor", "ncDmaCopy"]


# --- errors ----------------------------------------------------------------------------------


ERRORS = [
    ("nl.expand_dims(t, 0)", "nl.expand_dims cannot insert an axis before the partition axis of an "
                             "on-chip tile"),
    ("nl.expand_dims(t, 5)", "nl.expand_dims axis 5 is out of range for a result of rank 3"),
    ("nl.expand_dims(t, (2, -2))", "nl.expand_dims got a repeated axis in (2, -2)"),
    ("nl.rms_norm(t, u, axis=1, n=0)", "nl.rms_norm: n must be a positive integer, not 0"),
    ("nl.rms_norm(t, u, axis=1, n=8, epsilon='x')", "nl.rms_norm: epsilon must be a number, not 'x'"),
    ("nl.all_reduce(t, op=np.add, program_axes=[0])",
     "nl.all_reduce is not supported: klr traces the programs of an SPMD grid one after another, so a "
     "program cannot wait for the values of the others"),
    ("nl.fmod(t, 'x')", "the second operand of nl.fmod must be a tensor or a number, not str"),
    ("nl.fmod(1.0, 0.0)", "nl.fmod(): math domain error"),
    ("nl.tan(float('inf'))", "nl.tan(): math domain error"),
    ("nl.bitwise_or(t, 1)", "the bitwise operator bitwise_or needs integer operands, not "
                            "float32"),
    ("nl.invert(t)", "the bitwise operator bitwise_not needs an integer operand, not float32"),
    ("nisa.tensor_copy_dynamic_src(a)",
     "nisa.tensor_copy_dynamic_src: src 'a' is in HBM, but it must be in SBUF or PSUM"),
    ("nisa.tensor_copy_dynamic_dst(dst=t[:, 0:4], src=u)",
     "nisa.tensor_copy_dynamic_dst: src has shape [4, 8] but dst has [4, 4]"),
    ("nisa.tensor_tensor(t, u, op=np.bitwise_xor)",
     "the bitwise operator bitwise_xor needs integer operands, not float32"),
]


@pytest.mark.parametrize(("call", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(tmp_path: Path, call: str, message: str) -> None:
    src = LEGACY_KERNEL.format(call=call)
    err = trace_error(tmp_path, src, X, Y)
    assert err.message == message
    assert where(err) == (line_of(src, "c = "), 9)


def test_in_place_bitwise_update_of_a_float_tile(tmp_path: Path) -> None:
    src = """
    def kernel(a, b):
        t = nl.load(a)
        t &= 3
        out = nl.ndarray(t.shape, dtype=t.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=t)
        return out
    """
    err = trace_error(tmp_path, src, X, Y)
    assert err.message == "the bitwise operator bitwise_and needs integer operands, not float32"
    assert where(err) == (line_of(src, "t &= 3"), 5)


@pytest.mark.parametrize(("call", "message"), [
    ("nl.atomic_rmw(a, value=t, op=np.multiply)", "nl.atomic_rmw supports only op=np.add"),
    ("nl.atomic_rmw(t, value=t, op=np.add)", "nl.atomic_rmw updates HBM, but 't' is in sbuf"),
    ("nl.atomic_rmw(a, value='v', op=np.add)", "nl.atomic_rmw takes a tile or a number as value, not str"),
    ("nl.atomic_rmw(a[0:2, :], value=t, op=np.add)",
     "nl.atomic_rmw: value has shape [4, 8] but dst has [2, 8]"),
])
def test_atomic_rmw_errors(tmp_path: Path, call: str, message: str) -> None:
    src = f"""
    def kernel(a, b):
        t = nl.load(a)
        {call}
        return a
    """
    err = trace_error(tmp_path, src, X, Y)
    assert err.message == message
    assert where(err) == (line_of(src, "atomic_rmw"), 5)
