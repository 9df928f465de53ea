"""``t.ap(...)`` on tensors and views (offsets, dynamic scalar and vector offsets, dtype
reinterpretation) and ``t[i][mask]`` operands, evaluated and checked against numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.tracer.nki.util import BETA2, rand, run_kernel


def test_ap_of_a_slice_starts_at_the_view(tmp_path: Path) -> None:
    # rows 2..5 of x, every other column: the pattern counts from the view's offset (2 * 64 + 4)
    src = """
    def kernel(x):
        out = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x[2:6, 4:20].ap(pattern=[[64, 4], [2, 8]]))
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(16, 64)
    (got,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_array_equal(got, x[2:6, 4:20:2])


def test_ap_offset_adds_to_the_view_offset(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x[1:9, :].ap(pattern=[[128, 4], [1, 8]], offset=3))
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(16, 64)
    (got,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_array_equal(got, x[1:9:2, 3:11])


def test_ap_of_a_reshaped_hbm_tensor(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((8, 4), dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.ndarray((8, 4), dtype=x.dtype, buffer=nl.sbuf)
        v = x.reshape(shape=(32, 32))
        nisa.dma_copy(dst=t, src=v.ap(pattern=[[32, 8], [8, 4]], offset=1))
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(16, 64)
    (got,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_array_equal(got, x.reshape(32, 32)[:8, 1::8])


def test_ap_reinterprets_the_dtype(tmp_path: Path) -> None:
    # the high and low bfloat16 halves of a float32 column, counted in bfloat16 elements
    src = """
    def kernel(x):
        out = nl.ndarray((4, 2), dtype=nl.bfloat16, buffer=nl.shared_hbm)
        t = nl.ndarray((4, 2), dtype=nl.bfloat16, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x[:, 1:2].ap(pattern=[[16, 4], [1, 2]], dtype=nl.bfloat16))
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(4, 8)
    (got,) = run_kernel(tmp_path, src, x, header=BETA2)
    want = np.ascontiguousarray(x[:, 1]).view(np.uint16).reshape(4, 2)
    np.testing.assert_array_equal(got.view(np.uint16), want)


def test_ap_scalar_offset_moves_the_pattern_at_run_time(tmp_path: Path) -> None:
    # scalar_offset counts rows (indirect_dim 0): rows k..k+3 where k is read from `start`
    src = """
    def kernel(x, start):
        out = nl.ndarray((4, 64), dtype=x.dtype, buffer=nl.shared_hbm)
        k = nl.ndarray((1, 1), dtype=nl.int32, buffer=nl.sbuf)
        nisa.dma_copy(dst=k, src=start)
        t = nl.ndarray((4, 64), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x.ap(pattern=[[64, 4], [1, 64]], scalar_offset=k))
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(16, 64)
    (got,) = run_kernel(tmp_path, src, x, np.array([[5]], np.int32), header=BETA2)
    np.testing.assert_array_equal(got, x[5:9])


def test_ap_vector_offset_gathers_rows(tmp_path: Path) -> None:
    src = """
    def kernel(x, rows):
        out = nl.ndarray((4, 64), dtype=x.dtype, buffer=nl.shared_hbm)
        idx = nl.ndarray((4, 1), dtype=nl.int32, buffer=nl.sbuf)
        nisa.dma_copy(dst=idx, src=rows)
        t = nl.ndarray((4, 64), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x.ap(pattern=[[64, 4], [1, 64]], vector_offset=idx, indirect_dim=0))
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(16, 64)
    rows = np.array([[7], [0], [15], [3]], np.int32)
    (got,) = run_kernel(tmp_path, src, x, rows, header=BETA2)
    np.testing.assert_array_equal(got, x[rows[:, 0]])


def test_masked_operand_masks_a_legacy_matmul(tmp_path: Path) -> None:
    # moving[k, j][j < 5]: only the first 5 output columns are computed (and stored)
    src = """
    def kernel(a, b):
        out = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.shared_hbm)
        i_k = nl.arange(16)[:, None]
        i_n = nl.arange(16)[None, :]
        s = nl.load(a)
        m = nl.load(b)
        c = nisa.nc_matmul(s, m[i_k, i_n][i_n < 5])
        nl.store(out[nl.arange(8)[:, None], i_n], nl.copy(c), mask=(i_n < 5))
        return out
    """
    a, b = rand(16, 8), rand(16, 16, seed=1)
    (got,) = run_kernel(tmp_path, src, a, b, strict=False)
    np.testing.assert_allclose(got[:, :5], (a.T @ b)[:, :5], rtol=1e-5, atol=1e-5)


def test_legacy_isa_calls_take_name(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        t = nisa.reciprocal(nl.load(x), name="r")
        u = nisa.tensor_copy(t, name="c")
        nl.store(out, u)
        return out
    """
    x = rand(4, 8) + 1
    (got,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(got, 1 / x, rtol=1e-6)


def test_an_unsupported_name_says_why(tmp_path: Path) -> None:
    from tests.tracer.nki.util import trace_error, where

    src = """
    def kernel(x):
        y = nisa.sendrecv(x)
        return x
    """
    err = trace_error(tmp_path, src, rand(4, 8))
    assert err.message == ("nisa.sendrecv is not supported: collective communication is not traced yet "
                           "(the interpreter runs the collective operators, but no NKI builtin emits them)")
    assert where(err) == (7, 9)  # at nisa.sendrecv


def test_memory_predicates(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.load(x)
        if nl.is_hbm(x) and nl.is_sbuf(t) and nl.is_on_chip(t) and not nl.is_psum(t):
            t = nl.add(t, 1.0)
        nl.store(out, t)
        return out
    """
    x = rand(4, 8)
    (got,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(got, x + 1)


def test_nonzero_with_count(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((32, 9), dtype=nl.int32, buffer=nl.shared_hbm)
        t = nl.ndarray((32, 8), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        r = nl.ndarray((32, 9), dtype=nl.int32, buffer=nl.sbuf)
        nisa.memset(dst=r, value=0)
        nisa.nonzero_with_count(dst=r, src=t, index_offset=10, padding_val=-1)
        nisa.dma_copy(dst=out, src=r)
        return out
    """
    x = (rand(32, 8) > 0).astype(np.float32)
    (got,) = run_kernel(tmp_path, src, x, header=BETA2)
    for p in (0, 16):
        nz = np.flatnonzero(x[p])
        want = np.full(9, -1)
        want[:len(nz)] = nz + 10
        want[8] = len(nz)
        np.testing.assert_array_equal(got[p], want)
    np.testing.assert_array_equal(got[1], 0)
