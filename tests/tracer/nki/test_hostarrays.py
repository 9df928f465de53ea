"""Trace-time numpy arrays (building them, arithmetic, indexing), nl.shared_constant, finfo and iinfo."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest

from klr.dtypes import Dtype
from tests.tracer.nki.util import LEGACY, line_of, rand, run_kernel, trace_error, trace_kernel, where
from tests.tracer.util import run_src

IDENTITY_ROUND_TRIP = """\
def kernel(x):
    eye = nl.shared_constant(np.identity(32, dtype=np.int8), dtype=nl.bfloat16)
    e = nl.load(eye)
    y = nl.load(x)
    out = nl.ndarray((32, 32), dtype=x.dtype, buffer=nl.shared_hbm)
    nl.store(out, value=nl.matmul(e, y))
    return out
"""


def test_shared_constant_holds_the_host_array(tmp_path: Path) -> None:
    x = rand(32, 32)
    result = trace_kernel(tmp_path, IDENTITY_ROUND_TRIP, x)
    (const,) = result.kernel.sharedConstants
    # bfloat16 cannot be a constant file's dtype: the values are stored as float32
    np.testing.assert_array_equal(result.constants[const.fileName], np.eye(32, dtype=np.float32))
    (out,) = run_kernel(tmp_path, IDENTITY_ROUND_TRIP, x)
    np.testing.assert_allclose(out, x, rtol=1e-6)


def test_eye_shape_dtype_and_diagonal(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        a = np.eye(4, 8, k=1, dtype=np.float32)
        assert a.shape == (4, 8) and a.ndim == 2 and a.dtype == nl.float32
        c = nl.load(nl.shared_constant(a))
        out = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=c)
        return out
    """
    (out,) = run_kernel(tmp_path, src, rand(4, 8))
    np.testing.assert_array_equal(out, np.eye(4, 8, k=1, dtype=np.float32))


def test_constant_of_a_storable_dtype_keeps_it(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        c = nl.shared_constant(np.identity(8), dtype=nl.int32)
        out = nl.ndarray((8, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.load(c))
        return out
    """
    result = trace_kernel(tmp_path, src, rand(8, 8))
    loads = [s.op for b in result.kernel.bodies[0] for s in b.body]
    assert loads[0].src.tensor.dtype is Dtype.int32


def test_shared_constant_needs_a_host_array(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        c = nl.shared_constant(x)
        return c
    """
    err = trace_error(tmp_path, src, rand(8, 8))
    assert err.message == "shared_constant takes a numpy array built in the kernel, not tensor"
    assert where(err) == (line_of(src, "shared_constant"), 9)


# --- arithmetic on host arrays (numpy's rules) -----------------------------------------------

ADAPTIVE_POOL = """\
def kernel(x, size):
    rows, h, w = x.shape
    starts = (np.arange(size, dtype=np.int32) * h) // size
    ends = (np.arange(1, size + 1, dtype=np.int32) * h + size - 1) // size
    widest = int((ends - starts).max())
    assert widest <= h
    out = nl.ndarray((rows, size), dtype=x.dtype, buffer=nl.shared_hbm)
    for o in nl.static_range(size):
        lo, hi = starts[o], ends[o]
        total = nl.sum(nl.load(x[:, lo:hi, :]), axis=[1, 2])
        nl.store(out[:, o:o + 1], value=nl.divide(total, (hi - lo) * w))
    return out
"""


def test_adaptive_pooling_windows_computed_with_host_arrays(tmp_path: Path) -> None:
    x = rand(64, 13, 5)
    (out,) = run_kernel(tmp_path, ADAPTIVE_POOL, x, 6)
    want = np.stack([x[:, (o * 13) // 6:((o + 1) * 13 + 5) // 6].mean(axis=(1, 2)) for o in range(6)], axis=1)
    np.testing.assert_allclose(out, want, rtol=1e-5)


HOST_EXPRESSIONS = [
    ("(np.arange(8, dtype=np.int32) * 3 + 1) % 5", lambda: (np.arange(8, dtype=np.int32) * 3 + 1) % 5),
    ("7 - np.arange(2, 10, 2, dtype=np.int16) // 3", lambda: 7 - np.arange(2, 10, 2, dtype=np.int16) // 3),
    ("np.arange(6).reshape(2, 3) * np.arange(3)", lambda: np.arange(6, dtype=np.int32).reshape(2, 3)
     * np.arange(3, dtype=np.int32)),
    ("-(np.arange(4).astype(np.float32) / 4) ** 2", lambda: -(np.arange(4).astype(np.float32) / 4) ** 2),
    ("(np.arange(5) << 2 | 1) ^ ~np.arange(5) & 6", lambda: (np.arange(5, dtype=np.int32) << 2 | 1)
     ^ ~np.arange(5, dtype=np.int32) & 6),
    ("(np.arange(12).reshape(3, 4) >> 1)[1:, ::2]", lambda: (np.arange(12, dtype=np.int32).reshape(3, 4)
                                                             >> 1)[1:, ::2]),
    ("np.ones((2, 2), dtype=nl.bfloat16) * 0.5 + 0.25",
     lambda: np.ones((2, 2), ml_dtypes.bfloat16) * 0.5 + 0.25),
]


@pytest.mark.parametrize("expr,want", HOST_EXPRESSIONS, ids=[e for e, _ in HOST_EXPRESSIONS])
def test_host_array_arithmetic_follows_numpy(tmp_path: Path, expr: str, want: Any) -> None:
    src = f"""
    def kernel(x):
        a = {expr}
        c = nl.load(nl.shared_constant(a))
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=c)
        return out
    """
    expected = want()
    (out,) = run_kernel(tmp_path, src, rand(2, 2))
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)


def test_host_array_elements_lengths_and_reductions_are_numbers(tmp_path: Path) -> None:
    src = """
    def kernel():
        a = np.arange(3, 9, dtype=np.int32) * 2
        rows = np.arange(6).reshape(2, 3)
        return (a[1], a[-1], len(a), [v for v in a][:2], a.max(), a.min(), a.sum(), len(rows),
                rows[1].sum(), rows[1, 2], (np.arange(3) / 2)[1], bool(np.ones((1,))))
    """
    got = run_src(tmp_path, LEGACY + textwrap.dedent(src))
    assert got == (8, 16, 6, [6, 8], 16, 6, 66, 2, 12, 5, 0.5, True)
    assert [type(v) for v in got[:3]] == [int, int, int]


NOT_NKI = "this host array holds float64, which is not an NKI dtype: convert it with astype first"


def test_a_host_array_without_an_nki_dtype(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        half = np.arange(4) / 2
        return half.dtype
    """
    err = trace_error(tmp_path, src, rand(2, 2))
    assert err.message == NOT_NKI
    assert where(err) == (line_of(src, "return half"), 12)
    src = src.replace("half.dtype", "nl.shared_constant(half)")
    err = trace_error(tmp_path, src, rand(2, 2))
    assert err.message == NOT_NKI
    assert where(err) == (line_of(src, "return"), 12)


@pytest.mark.parametrize("expr,message,column", [
    ("np.arange(3) * np.arange(4)",
     "numpy.multiply(): operands could not be broadcast together with shapes (3,) (4,) ", 12),
    ("np.arange(3) ** -1", "numpy.power(): Integers to negative integer powers are not allowed.", 12),
    ("np.arange(3) + 2 ** 40", "numpy.add(): Python integer 1099511627776 out of bounds for int32", 12),
    ("np.arange(3)[5]", "numpy.ndarray.__getitem__(): index 5 is out of bounds for axis 0 with size 3", 12),
    ("np.arange(3)[1.5]", "numpy.ndarray.__getitem__() argument 'key' must be int | slice | "
                          "tuple[int | slice, ...], not float", 12),
    ("np.arange(3) + 'a'", "numpy.add() argument 'x2' must be ndarray or int or float, not str", 12),
    ("np.arange(3) < 2", "'<' is not supported between 'ndarray' and 'int'", 12),
    ("len(np.zeros(()))", "len() of a host array of no dimensions", 12),
    ("1 if np.arange(3) else 0", "the truth value of a host array of 3 elements is ambiguous", 17),
    ("np.zeros((2,))[0:0].max()",
     "numpy.ndarray.max(): zero-size array to reduction operation maximum which has no identity", 12),
])
def test_host_array_errors(tmp_path: Path, expr: str, message: str, column: int) -> None:
    src = f"""
    def kernel(x):
        return {expr}
    """
    err = trace_error(tmp_path, src, rand(2, 2))
    assert err.message == message
    assert where(err) == (line_of(src, "return"), column)


# --- finfo and iinfo -----------------------------------------------------------------------------

FLOATS = [("nl.float32", np.float32), ("nl.float16", np.float16), ("nl.bfloat16", ml_dtypes.bfloat16),
          ("nl.float8_e4m3", ml_dtypes.float8_e4m3), ("nl.float8_e5m2", ml_dtypes.float8_e5m2),
          ("nl.float8_e4m3fn", ml_dtypes.float8_e4m3fn), ("np.float32", np.float32)]


@pytest.mark.parametrize("name,np_type", FLOATS, ids=[n for n, _ in FLOATS])
def test_finfo_gives_the_limits_ml_dtypes_gives(tmp_path: Path, name: str, np_type: Any) -> None:
    src = f"""
    def kernel():
        f = nl.finfo({name})
        g = np.finfo({name})
        assert f is g and f.dtype == {name}
        return (f.max, f.min, f.eps, f.tiny, f.smallest_subnormal, f.resolution, f.bits, f.nmant,
                f.precision, f.maxexp, f.minexp)
    """
    info = ml_dtypes.finfo(np_type)
    want = (info.max, info.min, info.eps, info.tiny, info.smallest_subnormal, info.resolution, info.bits,
            info.nmant, info.precision, info.maxexp, info.minexp)
    got = run_src(tmp_path, LEGACY + textwrap.dedent(src))
    assert got == tuple(float(v) if i < 6 else int(v) for i, v in enumerate(want))


def test_finfo_fills_a_tile_with_the_lowest_value(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        low = nl.full((64, 8), dtype=x.dtype, buffer=nl.sbuf, fill_value=nl.finfo(x.dtype).min)
        lows = nl.ndarray((64, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        out = nl.ndarray((64, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(lows, value=low)
        nl.store(out, value=nl.maximum(low, nl.load(x)))
        return lows, out
    """
    x = rand(64, 8).astype(ml_dtypes.bfloat16)
    lows, out = run_kernel(tmp_path, src, x)
    assert (lows == ml_dtypes.finfo(ml_dtypes.bfloat16).min).all()
    np.testing.assert_array_equal(out, x)


def test_iinfo(tmp_path: Path) -> None:
    src = """
    def kernel():
        return [(i.min, i.max, i.bits) for i in (np.iinfo(np.int8), np.iinfo(nl.uint16), np.iinfo(nl.int32))]
    """
    assert run_src(tmp_path, LEGACY + textwrap.dedent(src)) == [(-128, 127, 8), (0, 65535, 16),
                                                                 (-2**31, 2**31 - 1, 32)]


@pytest.mark.parametrize("expr,message", [
    ("nl.finfo(nl.int32)", "finfo needs a floating-point dtype, not int32"),
    ("nl.finfo(nl.float8_e5m2_x4)", "finfo needs a floating-point dtype, not float8_e5m2_x4"),
    ("np.iinfo(nl.float16)", "iinfo needs an integer dtype, not float16"),
    ("nl.finfo(3)", "finfo's argument must be a dtype such as nl.float32, not 3"),
])
def test_limits_errors(tmp_path: Path, expr: str, message: str) -> None:
    src = f"""
    def kernel(x):
        return {expr}
    """
    err = trace_error(tmp_path, src, rand(2, 2))
    assert err.message == message
    assert where(err) == (line_of(src, "return"), 12)
