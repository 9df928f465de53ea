"""Masks: rectangular masks clip an operation, non-rectangular ones leave the masked-out
destination elements unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.tracer.nki.util import op_names, rand, run_kernel, stmts, trace_kernel


def test_rectangular_mask_clips_load_compute_and_store(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        n, m = x.shape
        i_p = nl.arange(128)[:, None]
        i_f = nl.arange(64)[None, :]
        for t in nl.affine_range((n + 127) // 128):
            rows = t * 128 + i_p
            ok = (rows < n) & (i_f < m)
            tile = nl.load(x[rows, i_f], mask=ok)
            nl.store(x[rows, i_f], value=nl.multiply(tile, 2.0, mask=ok), mask=ok)
        return x
    """
    x = rand(200, 64)
    result = trace_kernel(tmp_path, src, x)
    last = stmts(result)[-1].op
    assert [[p.step, p.num] for p in last.dst.pattern] == [[64, 72], [1, 64]]
    assert last.dst.offset == 128 * 64
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, 2 * x)


def test_mask_on_a_partial_free_range(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        i_p = nl.arange(128)[:, None]
        i_f = nl.arange(64)[None, :]
        zeros = nl.zeros((128, 64), dtype=x.dtype)
        nl.store(x[i_p, i_f], value=zeros, mask=(i_f >= 16) & (i_f < 48) & (i_p > 99))
        return x
    """
    x = rand(128, 64)
    (out,) = run_kernel(tmp_path, src, x)
    expected = x.copy()
    expected[100:, 16:48] = 0
    np.testing.assert_array_equal(out, expected)


def test_triangular_store_splits_by_rows(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        i_p = nl.arange(64)[:, None]
        i_f = nl.arange(64)[None, :]
        nl.store(x[i_p, i_f], value=nl.zeros((64, 64), dtype=x.dtype), mask=(i_f <= i_p))
        return x
    """
    x = rand(64, 64)
    result = trace_kernel(tmp_path, src, x)
    assert op_names(result).count("ncDmaCopy") == 64
    (out,) = run_kernel(tmp_path, src, x)
    expected = np.triu(x, 1)
    np.testing.assert_array_equal(out, expected)


def test_triangular_load_leaves_the_rest_unwritten(tmp_path: Path) -> None:
    src = """
    def kernel(x, y):
        i_p = nl.arange(32)[:, None]
        i_f = nl.arange(32)[None, :]
        t = nl.load(y)
        t[i_p, i_f] = nl.load(x[i_p, i_f], mask=(i_f > i_p))
        nl.store(y, value=t)
        return y
    """
    x, y = rand(32, 32), rand(32, 32, seed=1)
    (out,) = run_kernel(tmp_path, src, x, y)
    np.testing.assert_array_equal(out, np.triu(x, 1) + np.tril(y))


def test_triangular_compute_uses_a_predicate(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        i_p = nl.arange(32)[:, None]
        i_f = nl.arange(16)[None, :]
        t = nl.load(x)
        t[i_p, i_f] = nl.exp(t, mask=(i_f <= i_p - 8))
        nl.store(x, value=t)
        return x
    """
    x = rand(32, 16)
    result = trace_kernel(tmp_path, src, x)
    names = op_names(result)
    assert "iota" in names and "copyPredicated" in names
    (out,) = run_kernel(tmp_path, src, x)
    rows, cols = np.indices(x.shape)
    np.testing.assert_allclose(out, np.where(cols <= rows - 8, np.exp(x), x), rtol=1e-6)


def test_masked_value_assigned_copies_only_its_elements(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        i_p = nl.arange(32)[:, None]
        i_f = nl.arange(16)[None, :]
        t = nl.load(x)
        e = nl.exp(t, mask=(i_p < 10))
        u = nl.load(x)
        u[...] = e
        nl.store(x, value=u)
        return x
    """
    x = rand(32, 16)
    (out,) = run_kernel(tmp_path, src, x)
    expected = x.copy()
    expected[:10] = np.exp(x[:10])
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_mask_that_selects_nothing_emits_nothing(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        i_p = nl.arange(32)[:, None]
        nl.store(x[0:32, 0:4], value=nl.zeros((32, 4), dtype=x.dtype), mask=(i_p >= 32))
        return x
    """
    result = trace_kernel(tmp_path, src, rand(32, 8))
    assert op_names(result) == ["memSet"]


def test_mask_with_mgrid_and_not(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        g = nl.mgrid[0:16, 0:16]
        nl.store(x[g.p, g.x], value=nl.zeros((16, 16), dtype=x.dtype), mask=~(g.p < 4) & (g.x == 3))
        return x
    """
    x = rand(16, 16)
    (out,) = run_kernel(tmp_path, src, x)
    expected = x.copy()
    expected[4:, 3] = 0
    np.testing.assert_array_equal(out, expected)
