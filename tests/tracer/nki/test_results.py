"""Value results written straight into their destination, and kept correct when reused."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.tracer.nki.util import op_names, rand, run_kernel, stmts, trace_kernel


def test_assigned_result_is_computed_in_place(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        t[...] = nl.load(x)
        t[...] = nl.exp(t)
        nl.store(x, value=t)
        return x
    """
    x = rand(16, 8)
    result = trace_kernel(tmp_path, src, x)
    assert op_names(result) == ["ncDmaCopy", "ncActivate", "ncDmaCopy"]
    act = stmts(result)[1].op
    assert act.dst == act.src and act.dst.tensor.name == "t"
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, np.exp(x), rtol=1e-6)


def test_shifted_in_place_update_copies(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        t[:, 1:] = nl.exp(t[:, :-1])
        nl.store(x, value=t)
        return x
    """
    x = rand(16, 8)
    assert op_names(trace_kernel(tmp_path, src, x)) == ["ncDmaCopy", "ncActivate", "ncCopy", "ncDmaCopy"]
    (out,) = run_kernel(tmp_path, src, x)
    expected = x.copy()
    expected[:, 1:] = np.exp(x[:, :-1])
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_named_result_survives_its_destination_changing(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((2, 16, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.zeros((16, 8), dtype=x.dtype)
        a = nl.exp(nl.load(x))
        t[...] = a
        nl.store(out[0], value=t)
        t[...] = 0.0
        nl.store(out[1], value=a)
        return out
    """
    x = rand(16, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out[0], np.exp(x), rtol=1e-6)
    np.testing.assert_allclose(out[1], np.exp(x), rtol=1e-6)


def test_named_result_read_after_assignment(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.zeros((16, 8), dtype=x.dtype)
        a = nl.load(x)
        t[...] = a
        nl.store(x, value=nl.add(a, t))
        return x
    """
    x = rand(16, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, 2 * x)


def test_matmul_accumulates_into_psum(tmp_path: Path) -> None:
    src = """
    def kernel(a, b):
        acc = nl.zeros((32, 64), dtype=nl.float32, buffer=nl.psum)
        for k in nl.affine_range(2):
            acc += nisa.nc_matmul(nl.load(a[k * 128:(k + 1) * 128, :]), nl.load(b[k * 128:(k + 1) * 128, :]))
        out = nl.ndarray((32, 64), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out, value=nl.copy(acc))
        return out
    """
    a, b = rand(256, 32), rand(256, 64, seed=1)
    assert op_names(trace_kernel(tmp_path, src, a, b)).count("ncMatMul") == 2
    assert "tensorTensor" not in op_names(trace_kernel(tmp_path, src, a, b))
    (out,) = run_kernel(tmp_path, src, a, b)
    np.testing.assert_allclose(out, a.T @ b, rtol=1e-4, atol=1e-4)


def test_accumulated_product_is_recomputed_when_needed(tmp_path: Path) -> None:
    src = """
    def kernel(a, b):
        at = nl.load(a)
        bt = nl.load(b)
        acc = nl.ndarray((32, 64), dtype=nl.float32, buffer=nl.psum)
        acc[...] = 1.0
        p = nisa.nc_matmul(at, bt)
        acc += p
        at[...] = 0.0
        out = nl.ndarray((2, 32, 64), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out[0], value=nl.copy(acc))
        nl.store(out[1], value=nl.copy(p))
        return out
    """
    a, b = rand(128, 32), rand(128, 64, seed=1)
    (out,) = run_kernel(tmp_path, src, a, b)
    np.testing.assert_allclose(out[0], 1 + a.T @ b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out[1], a.T @ b, rtol=1e-4, atol=1e-4)


def test_psum_accumulation_into_a_view_and_sbuf_accumulation(tmp_path: Path) -> None:
    src = """
    def kernel(a, b, x):
        at = nl.load(a)
        bt = nl.load(b)
        acc = nl.zeros((32, 128), dtype=nl.float32, buffer=nl.psum)
        acc[:, 0:64] += nisa.nc_matmul(at, bt)
        acc[:, 64:128] += nisa.nc_matmul(at, bt)
        s = nl.zeros((32, 128), dtype=nl.float32)
        s += nl.load(x)
        s += 1.0
        out = nl.ndarray((32, 128), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out, value=nl.add(nl.copy(acc), s))
        return out
    """
    a, b, x = rand(128, 32), rand(128, 64, seed=1), rand(32, 128, seed=2)
    names = op_names(trace_kernel(tmp_path, src, a, b, x))
    assert names.count("ncMatMul") == 2 and names.count("memSet") == 2
    (out,) = run_kernel(tmp_path, src, a, b, x)
    mm = a.T @ b
    np.testing.assert_allclose(out, np.concatenate([mm, mm], axis=1) + x + 1, rtol=1e-4, atol=1e-4)


def test_result_used_before_assignment_is_copied(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.zeros((16, 8), dtype=x.dtype)
        a = nl.exp(nl.load(x))
        b = nl.add(a, 1.0)
        t[...] = a
        nl.store(x, value=nl.add(t, b))
        return x
    """
    x = rand(16, 8)
    assert "ncCopy" in op_names(trace_kernel(tmp_path, src, x))
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, 2 * np.exp(x) + 1, rtol=1e-6)
