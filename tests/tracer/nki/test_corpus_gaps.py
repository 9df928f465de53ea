"""Builtins the remaining corpus kernels needed: ``t.view(dtype)``, ``sizeinbytes``,
``ncc.multi_buffer``, partition masks beside ``reduce_res``, and double-row matmuls."""

from __future__ import annotations

from pathlib import Path

import ml_dtypes
import numpy as np

from tests.tracer.nki.util import rand, run_kernel, stmts, trace_error, trace_kernel


def test_view_reinterprets_the_bytes_of_a_tile(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((2, 128, 4), dtype=nl.float8_e4m3, buffer=nl.shared_hbm)
        t = nl.ndarray((2, nl.par_dim(128), 1), dtype=nl.float32, buffer=nl.sbuf)
        for g in nl.affine_range(2):
            t[g] = nl.load(x[g])
        for g in nl.affine_range(2):
            nl.store(out[g], value=t.view(nl.float8_e4m3)[g, :, :4])
        return out
    """
    x = rand(2, 128, 1)
    result = trace_kernel(tmp_path, src, x)
    reads = [s.op.src for s in stmts(result) if getattr(s.op, "src", None) is not None]
    assert any(r.dtypeOverride is not None for r in reads)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out.view(np.uint8), x.view(np.uint8).reshape(2, 128, 4))


def test_view_to_a_wider_dtype_divides_the_last_dimension(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((128, 2), dtype=nl.float32, buffer=nl.shared_hbm)
        t = nl.load(x)
        w = t.view(nl.float32)
        assert w.shape == (128, 2) and w.dtype == nl.float32
        nl.store(out, value=w)
        return out
    """
    x = rand(128, 2).view(np.uint8).copy()       # [128, 8] bytes
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out.view(np.uint8), x)


def test_view_of_part_of_a_tile_is_an_error(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        return t[:, 0:2].view(nl.uint8)
    """
    err = trace_error(tmp_path, src, rand(128, 4))
    assert err.message == "view(dtype) can only reinterpret a whole tensor, not a view of one"


def test_view_that_splits_an_element_is_an_error(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        return t.view(nl.float32)
    """
    err = trace_error(tmp_path, src, np.zeros((128, 6), np.uint8))
    assert err.message == "a last dimension of 6 uint8 elements cannot be viewed as whole float32 elements"


def test_sizeinbytes_and_multi_buffer(tmp_path: Path) -> None:
    src = """
    import neuronxcc.nki.compiler as ncc
    from neuronxcc.nki.language.constants import sizeinbytes

    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        assert sizeinbytes(np.float32) == 4 and sizeinbytes(nl.bfloat16) == 2
        assert sizeinbytes(nl.float8_e4m3) == 1
        for i in nl.sequential_range(2, directives=ncc.multi_buffer(8)):
            nl.store(out[i * 64:(i + 1) * 64], value=nl.load(x[i * 64:(i + 1) * 64]))
        return out
    """
    x = rand(128, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, x)


def test_partition_mask_beside_reduce_res(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((128, 2), dtype=nl.float32, buffer=nl.shared_hbm)
        p, f = nl.mgrid[0:128, 0:64]
        pc, fc = nl.mgrid[0:128, 0:1]
        t = nl.load(x)
        sums = nl.zeros((128, 2), dtype=nl.float32)
        sq = nisa.activation_reduce(op=nl.square, data=t[p, f], reduce_op=nl.add,
                                    reduce_res=sums[pc, fc], mask=(p < 100))
        e = nisa.activation(op=nl.exp, data=t[p, f], reduce_op=nl.add, reduce_res=sums[pc, 1 + fc],
                            mask=(p < 100))
        nl.store(out, value=sums)
        return out
    """
    x = rand(128, 64)
    (out,) = run_kernel(tmp_path, src, x)
    want = np.zeros((128, 2), np.float32)
    want[:100, 0] = (x[:100] ** 2).sum(axis=1)
    want[:100, 1] = np.exp(x[:100]).sum(axis=1)
    np.testing.assert_allclose(out, want, rtol=1e-5)


def test_free_axis_mask_beside_reduce_res_is_an_error(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        p, f = nl.mgrid[0:128, 0:64]
        t = nl.load(x)
        sums = nl.zeros((128, 1), dtype=nl.float32)
        return nisa.activation_reduce(op=nl.square, data=t, reduce_op=nl.add, reduce_res=sums,
                                      mask=(f < 10))
    """
    err = trace_error(tmp_path, src, rand(128, 64))
    assert err.message == ("nisa.activation_reduce: with reduce_res, a mask may only select partitions "
                           "(such as i_p < n)")


DOUBLE_ROW = """
def kernel(a, b):
    out = nl.ndarray((128, 512), dtype=nl.float32, buffer=nl.shared_hbm)
    st = nl.load(a)
    mv = nl.load(b)
    k, t, m = nl.mgrid[0:128, 0:2, 0:128]
    k2, t2, n = nl.mgrid[0:128, 0:2, 0:512]
    acc = nl.zeros((128, 512), dtype=nl.float32, buffer=nl.psum)
    acc[...] += nisa.nc_matmul(st[k, t * 128 + m], mv[k2, t2 * 512 + n], perf_mode=MODE)
    nl.store(out, value=acc)
    return out
"""


def test_double_row_matmul_contracts_over_the_pairs(tmp_path: Path) -> None:
    a = np.random.default_rng(1).uniform(-4, 4, (128, 256)).astype(ml_dtypes.float8_e4m3)
    b = np.random.default_rng(2).uniform(-4, 4, (128, 1024)).astype(ml_dtypes.float8_e4m3)
    result = trace_kernel(tmp_path, DOUBLE_ROW.replace("MODE", "'double_row_gen3'"), a, b)
    mm = [s.op for s in stmts(result) if type(s.op).__name__ == "NcMatMul"]
    assert [m.perfMode.name for m in mm] == ["DoubleRow"]
    (out,) = run_kernel(tmp_path, DOUBLE_ROW.replace("MODE", "nisa.matmul_perf_mode.double_row"), a, b)
    want = a.astype(np.float64).reshape(256, 128).T @ b.astype(np.float64).reshape(256, 512)
    np.testing.assert_allclose(out, want, rtol=1e-5)


def test_double_row_matmul_needs_pairs(tmp_path: Path) -> None:
    src = """
    def kernel(a, b):
        return nisa.nc_matmul(nl.load(a), nl.load(b), perf_mode='double_row')
    """
    err = trace_error(tmp_path, src, rand(128, 128), rand(128, 512))
    assert err.message == ("nisa.nc_matmul: a double-row matmul takes stationary [K, 2, M] and moving "
                           "[K, 2, N], not [128, 128] and [128, 512]")
