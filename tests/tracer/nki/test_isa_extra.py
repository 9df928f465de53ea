"""The statistics, scan and fused ISA builtins, in both dialects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.tracer.nki.util import BETA2, op_names, rand, run_kernel, trace_kernel


def test_tensor_scalar_reduce(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        sums = nl.ndarray((16, 1), dtype=nl.float32, buffer=nl.sbuf)
        y = nisa.tensor_scalar_reduce(data=t, op0=np.multiply, operand0=2.0, reduce_op=np.add,
                                      reduce_res=sums)
        out = nl.ndarray((16, 9), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out[:, 0:8], value=y)
        nl.store(out[:, 8:9], value=sums)
        return out
    """
    x = rand(16, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out[:, :8], 2 * x, rtol=1e-6)
    np.testing.assert_allclose(out[:, 8], 2 * x.sum(axis=1), rtol=1e-5, atol=1e-6)


def test_scalar_tensor_tensor_and_scan(tmp_path: Path) -> None:
    src = """
    def kernel(x, y):
        a = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        b = nl.ndarray(y.shape, dtype=y.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=a, src=x)
        nisa.dma_copy(dst=b, src=y)
        r = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.scalar_tensor_tensor(dst=r, data=a, op0=nl.multiply, operand0=3.0, op1=nl.add, operand1=b)
        s = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.tensor_tensor_scan(s, a, b, 0.0, nl.multiply, nl.add)
        out = nl.ndarray((2, 16, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out[0], src=r)
        nisa.dma_copy(dst=out[1], src=s)
        return out
    """
    x, y = rand(16, 8), rand(16, 8, seed=1)
    (out,) = run_kernel(tmp_path, src, x, y, header=BETA2)
    np.testing.assert_allclose(out[0], 3 * x + y, rtol=1e-6)
    acc = np.zeros(16, np.float32)
    scan = np.zeros_like(x)
    for j in range(8):
        acc = acc * x[:, j] + y[:, j]
        scan[:, j] = acc
    np.testing.assert_allclose(out[1], scan, rtol=1e-5, atol=1e-6)


def test_bn_stats_aggr_max8_partition_reduce(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        stats = nisa.bn_stats(t)
        mv = nisa.bn_aggr(stats)
        top = nisa.max8(t)
        col = nisa.tensor_partition_reduce(np.add, t)
        out = nl.ndarray((16, 2 + 8 + 32), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out[:, 0:2], value=mv)
        nl.store(out[:, 2:10], value=top)
        nl.store(out[0:1, 10:42], value=col)
        nl.store(out[1:16, 10:42], 0.0)
        return out
    """
    x = rand(16, 32)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out[:, 0], x.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[:, 1], x.var(axis=1), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(out[:, 2:10], -np.sort(-x, axis=1)[:, :8])
    np.testing.assert_allclose(out[0, 10:42], x.sum(axis=0), rtol=1e-5, atol=1e-6)


def test_dma_transpose_both_forms(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nisa.dma_transpose(x[:, :])
        out = nl.ndarray(t.shape, dtype=t.dtype, buffer=nl.hbm)
        nl.store(out, value=t)
        return out
    """
    x = rand(48, 32)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, x.T)
    src = """
    def kernel(x):
        t = nl.ndarray((2, 3, 4, 5), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_transpose(dst=t, src=x, axes=(1, 0, 2, 3))
        out = nl.ndarray((2, 3, 4, 5), dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(3, 2, 4, 5)
    (out,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_array_equal(out, x.transpose(1, 0, 2, 3))


def test_dma_transpose_of_on_chip_tiles(tmp_path: Path) -> None:
    """SBUF sources: Core accesses of a tile lead with its partition axis, so the transpose is
    a dmaTranspose (not a DMA of a permuted view, which would copy)."""
    src = """
    def kernel(x, y, z):
        t = nisa.dma_transpose(nl.load(x)[:, :])
        h = nisa.dma_transpose(nl.load(x), dge_mode=nisa.dge_mode.hwdge)
        c = nisa.dma_transpose(nl.load(x), dtype=nl.float32)
        w = nisa.dma_transpose(nl.load(y)[:, 1, 2, :])
        s = nl.ndarray((4, nl.par_dim(8)), dtype=z.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=s, src=z)
        u = nisa.dma_transpose(s)
        out = nl.ndarray((32, 32), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out[:, 0:16], value=t)
        nl.store(out[:, 16:32], value=h)
        o32 = nl.ndarray((32, 16), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(o32, value=c)
        ow = nl.ndarray((6, 8), dtype=y.dtype, buffer=nl.shared_hbm)
        nl.store(ow, value=w)
        ou = nl.ndarray((8, 4), dtype=z.dtype, buffer=nl.shared_hbm)
        nl.store(ou, value=u)
        return out, o32, ow, ou
    """
    x = rand(16, 32).astype(np.float16)
    y, z = rand(8, 2, 3, 6, seed=1), rand(4, 8, seed=2)
    out, o32, ow, ou = run_kernel(tmp_path, src, x, y, z)
    np.testing.assert_array_equal(out[:, 0:16], x.T)
    np.testing.assert_array_equal(out[:, 16:32], x.T)
    np.testing.assert_array_equal(o32, x.T.astype(np.float32))
    np.testing.assert_array_equal(ow, y[:, 1, 2, :].T)
    np.testing.assert_array_equal(ou, z.T)
    assert "dmaTranspose" in op_names(trace_kernel(tmp_path, src, x, y, z))


def test_dma_transpose_destination_passing_default_axes(tmp_path: Path) -> None:
    src = """
    def kernel(x, y, z):
        a = nl.ndarray((16, 32), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=a, src=x)
        t = nl.ndarray((32, 16), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_transpose(dst=t, src=a)
        t2 = nl.ndarray((32, 16), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_transpose(dst=t2, src=x, axes=(1, 0))
        t3 = nl.ndarray((5, 4, 3), dtype=y.dtype, buffer=nl.sbuf)
        nisa.dma_transpose(dst=t3, src=y[1], axes=(2, 1, 0))
        t4 = nl.ndarray((5, 3, 4, 2), dtype=z.dtype, buffer=nl.sbuf)
        nisa.dma_transpose(dst=t4, src=z)
        out = nl.ndarray((2, 32, 16), dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out[0], src=t)
        nisa.dma_copy(dst=out[1], src=t2)
        o3 = nl.ndarray((5, 4, 3), dtype=y.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=o3, src=t3)
        o4 = nl.ndarray((5, 3, 4, 2), dtype=z.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=o4, src=t4)
        return out, o3, o4
    """
    x, y, z = rand(16, 32), rand(2, 3, 4, 5, seed=1), rand(2, 3, 4, 5, seed=2)
    out, o3, o4 = run_kernel(tmp_path, src, x, y, z, header=BETA2)
    np.testing.assert_array_equal(out[0], x.T)
    np.testing.assert_array_equal(out[1], x.T)
    np.testing.assert_array_equal(o3, y[1].transpose(2, 1, 0))
    np.testing.assert_array_equal(o4, z.transpose(3, 1, 2, 0))


def test_partition_reduce_of_a_column(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        col = nl.sum(nl.load(x), axis=1)
        total = nisa.tensor_partition_reduce(np.add, col)
        out = nl.ndarray((1, 1), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=total)
        return out
    """
    x = rand(32, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, [[x.sum()]], rtol=1e-5)


def test_partition_reduce_keeps_the_free_axes(tmp_path: Path) -> None:
    src = """\
    def kernel(x, y):
        m = nisa.tensor_partition_reduce(np.maximum, nl.load(x))
        out = nl.ndarray((1, 6, 5), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=m)
        sums = nl.ndarray((3, 1, 4, 2), dtype=y.dtype, buffer=nl.shared_hbm)
        for b in nl.affine_range(3):
            nl.store(sums[b], value=nisa.tensor_partition_reduce(np.add, nl.load(y[b])))
        return out, sums
    """
    x, y = rand(16, 6, 5), rand(3, 32, 4, 2, seed=1)
    out, sums = run_kernel(tmp_path, src, x, y)
    np.testing.assert_array_equal(out, x.max(axis=0, keepdims=True))
    np.testing.assert_allclose(sums, y.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    src = """\
    def kernel(x):
        t = nl.ndarray((8, 3, 4), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        r = nl.ndarray((1, 3, 4), dtype=x.dtype, buffer=nl.sbuf)
        nisa.tensor_partition_reduce(dst=r, op=nl.add, data=t)
        out = nl.ndarray((1, 3, 4), dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=r)
        return out
    """
    x = rand(8, 3, 4, seed=2)
    (out,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_allclose(out, x.sum(axis=0, keepdims=True), rtol=1e-5, atol=1e-6)


def test_dma_copy_and_transpose_take_nki_positional_order(tmp_path: Path) -> None:
    # NKI: dma_copy(dst, src, priority, oob_mode, dge_mode, engine, name) and
    # dma_transpose(dst, src, axes, priority, dge_mode, oob_mode, name)
    src = """
    def kernel(x):
        a = nl.ndarray((16, 32), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(a, x, 3, nisa.oob_mode.skip, nisa.dge_mode.swdge)
        t = nl.ndarray((32, 16), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_transpose(t, a, (1, 0), 2, nisa.dge_mode.hwdge, nisa.oob_mode.skip)
        out = nl.ndarray((32, 16), dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(16, 32)
    result = trace_kernel(tmp_path, src, x, header=BETA2)
    copy, transpose = (s.op for s in result.kernel.bodies[0][0].body[:2])
    assert (copy.priority, type(copy.oobMode).__name__, copy.dgeMode) == (3, "DmaSkip", 1)
    assert (transpose.priority, transpose.dgeMode, type(transpose.oobMode).__name__) == (2, 2, "DmaSkip")
    (out,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_array_equal(out, x.T)
