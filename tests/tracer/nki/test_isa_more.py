"""Random numbers, find/replace-8, shuffles, selections, sequence bounds, cumulative scans,
gathers and tensor-indexed (indirect) DMA, traced and run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.tracer.nki.util import BETA2, line_of, op_names, rand, run_kernel, trace_error, trace_kernel, where


def test_rand_max8_find_index8(tmp_path: Path) -> None:
    src = """
    def kernel():
        data = nl.rand((4, 32))
        top = nisa.max8(src=data)
        idx = nisa.nc_find_index8(data=data, vals=top)
        out = nl.ndarray((4, 32), dtype=nl.float32, buffer=nl.shared_hbm)
        vals = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        where = nl.ndarray((4, 8), dtype=nl.uint32, buffer=nl.shared_hbm)
        nl.store(out, value=data)
        nl.store(vals, value=top)
        nl.store(where, value=idx)
        return out, vals, where
    """
    data, top, idx = run_kernel(tmp_path, src)
    assert np.all((data >= 0) & (data < 1))
    np.testing.assert_array_equal(top, -np.sort(-data, axis=1)[:, :8])
    np.testing.assert_array_equal(idx, np.argsort(-data, axis=1, kind="stable")[:, :8])


def test_rand_emits_rand2(tmp_path: Path) -> None:
    src = """
    def kernel():
        out = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out, value=nl.rand((4, 8)))
        return out
    """
    assert op_names(trace_kernel(tmp_path, src)) == ["rand2", "ncDmaCopy"]


def test_match_replace8_with_indices(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        top = nisa.max8(src=t)
        idx = nl.ndarray((8, 8), dtype=nl.uint32, buffer=nl.sbuf)
        r = nisa.nc_match_replace8(data=t, vals=top, imm=-1.0, dst_idx=idx)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        where = nl.ndarray((8, 8), dtype=nl.uint32, buffer=nl.shared_hbm)
        nl.store(out, value=r)
        nl.store(where, value=idx)
        return out, where
    """
    x = np.random.default_rng(1).random((8, 20)).astype(np.float32)
    out, where_ = run_kernel(tmp_path, src, x)
    order = np.argsort(-x, axis=1, kind="stable")[:, :8]
    want = x.copy()
    np.put_along_axis(want, order, -1.0, axis=1)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(where_, order)


def test_dropout_both_dialects(tmp_path: Path) -> None:
    legacy = """
    def kernel(x):
        t = nl.load(x)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nisa.dropout(t, prob=0.0))
        return out
    """
    x = rand(16, 32)
    (out,) = run_kernel(tmp_path, legacy, x)
    np.testing.assert_array_equal(out, x)   # drop probability 0 keeps everything
    beta2 = """
    def kernel(x):
        t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        d = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.dropout(d, t, 1.0)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=d)
        return out
    """
    (out,) = run_kernel(tmp_path, beta2, x, header=BETA2)
    np.testing.assert_array_equal(out, np.zeros_like(x))


def test_stream_shuffle_broadcasts_a_partition(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        a = nl.load(x)
        b = nl.ndarray((32, 16), dtype=nl.float32)
        nisa.nc_stream_shuffle(src=a[0, nl.arange(16)[None, :]], dst=b, shuffle_mask=[0] * 32)
        out = nl.ndarray((32, 16), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out, value=b)
        return out
    """
    x = rand(1, 16)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, np.repeat(x, 32, axis=0))


def test_range_select_and_reduce(tmp_path: Path) -> None:
    src = """
    def kernel(x, lo, hi):
        t, b0, b1 = nl.load(x), nl.load(lo), nl.load(hi)
        red = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)
        r = nisa.range_select(on_true_tile=t, comp_op0=np.greater_equal, comp_op1=np.less, bound0=b0,
                              bound1=b1, reduce_cmd=nisa.reduce_cmd.reset_reduce, reduce_res=red,
                              reduce_op=np.max, range_start=2, on_false_value=-5.0)
        out = nl.ndarray((8, 17), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out[:, 0:16], value=r)
        nl.store(out[:, 16:17], value=red)
        return out
    """
    x = rand(8, 16)
    lo = np.full((8, 1), 4, np.float32)
    hi = np.arange(8, dtype=np.float32)[:, None] + 6
    (out,) = run_kernel(tmp_path, src, x, lo, hi)
    index = 2 + np.arange(16)[None, :]
    want = np.where((index >= lo) & (index < hi), x, -5.0)
    np.testing.assert_array_equal(out[:, :16], want)
    np.testing.assert_array_equal(out[:, 16], want.max(axis=1))


def test_select_reduce_beta2(tmp_path: Path) -> None:
    src = """
    def kernel(p, x):
        pt = nl.ndarray(p.shape, dtype=p.dtype, buffer=nl.sbuf)
        xt = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=pt, src=p)
        nisa.dma_copy(dst=xt, src=x)
        r = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.select_reduce(r, pt, xt, 7.0)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=r)
        return out
    """
    p = (np.random.default_rng(2).random((8, 8)) > 0.5).astype(np.float32)
    x = rand(8, 8)
    (out,) = run_kernel(tmp_path, src, p, x, header=BETA2)
    np.testing.assert_array_equal(out, np.where(p != 0, x, 7.0))


def test_sequence_bounds(tmp_path: Path) -> None:
    src = """
    def kernel(ids):
        t = nl.load(ids)
        b = nisa.sequence_bounds(segment_ids=t)
        out = nl.ndarray((1, 2, 8), dtype=ids.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=b)
        return out
    """
    ids = np.array([[1, 1, 0, 2, 2, 2, 3, 0]], np.float32)
    (out,) = run_kernel(tmp_path, src, ids)
    np.testing.assert_array_equal(out[0, 0], [0, 0, 8, 3, 3, 3, 6, 8])
    np.testing.assert_array_equal(out[0, 1], [2, 2, -1, 6, 6, 6, 7, -1])


def test_tensor_scalar_cumulative_chain(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        d = nl.ndarray(x.shape, dtype=nl.float32, buffer=nl.sbuf)
        nisa.tensor_scalar_cumulative(src=t, dst=d, op0=nl.add, op1=nl.add, imm0=1.0, imm1=3.0,
                                      reduce_cmd=nisa.reduce_cmd.load_reduce)
        nisa.tensor_scalar_cumulative(src=t, dst=d, op0=nl.add, op1=nl.add, imm0=1.0,
                                      reduce_cmd=nisa.reduce_cmd.reduce)
        out = nl.ndarray(x.shape, dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out, value=d)
        return out
    """
    x = rand(4, 6)
    (out,) = run_kernel(tmp_path, src, x)
    first = 3.0 + np.cumsum(x + 1.0, axis=1)
    np.testing.assert_allclose(out, first[:, -1:] + np.cumsum(x + 1.0, axis=1), rtol=1e-6)


def test_tensor_scalar_cumulative_load_reduce_needs_imm1(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        d = nl.ndarray(x.shape, dtype=nl.float32, buffer=nl.sbuf)
        nisa.tensor_scalar_cumulative(src=t, dst=d, op0=nl.add, op1=nl.add, imm0=1.0,
                                      reduce_cmd=nisa.reduce_cmd.load_reduce)
        return x
    """
    err = trace_error(tmp_path, src, rand(4, 6))
    assert err.message == ("nisa.tensor_scalar_cumulative: reduce_cmd load_reduce needs imm1, the "
                           "starting value")
    assert where(err) == (line_of(src, "nisa.tensor_scalar_cumulative"), 5)


def test_gather_flattened(tmp_path: Path) -> None:
    src = """
    def kernel(x, i):
        t, it = nl.load(x), nl.load(i)
        g = nl.gather_flattened(data=t, indices=it)
        out = nl.ndarray(i.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=g)
        return out
    """
    x = rand(4, 12)
    idx = np.random.default_rng(3).integers(0, 12, (4, 5)).astype(np.uint32)
    (out,) = run_kernel(tmp_path, src, x, idx)
    np.testing.assert_array_equal(out, np.take_along_axis(x, idx.astype(np.int64), axis=1))


def test_local_gather(tmp_path: Path) -> None:
    src = """
    def kernel(x, i):
        t, it = nl.load(x), nl.load(i)
        g = nisa.local_gather(t, it)
        out = nl.ndarray((16, 16), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=g)
        return out
    """
    x = rand(16, 8)
    idx = np.random.default_rng(4).integers(0, 8, (16, 1)).astype(np.uint16)
    (out,) = run_kernel(tmp_path, src, x, idx)
    np.testing.assert_array_equal(out, x[:, idx[:, 0].astype(np.int64)])


def test_indirect_load_and_store(tmp_path: Path) -> None:
    src = """
    def kernel(data, idx):
        i_p = nl.arange(6)[:, None]
        i_f = nl.arange(8)[None, :]
        it = nl.load(idx[i_p])
        rows = nl.load(data[it[i_p, 0], i_f])
        out = nl.ndarray((10, 8), dtype=data.dtype, buffer=nl.shared_hbm)
        nl.store(out[0:10, 0:8], value=nl.zeros((10, 8), dtype=data.dtype))
        nl.store(out[it, i_f], value=rows)
        got = nl.ndarray((6, 8), dtype=data.dtype, buffer=nl.shared_hbm)
        nl.store(got, value=rows)
        return got, out
    """
    data = rand(10, 8)
    idx = np.array([9, 0, 3, 3, 7, 1], np.int32)
    got, out = run_kernel(tmp_path, src, data, idx)
    np.testing.assert_array_equal(got, data[idx])
    want = np.zeros_like(data)
    want[idx] = data[idx]
    np.testing.assert_array_equal(out, want)


def test_indirect_index_must_be_on_chip_integers(tmp_path: Path) -> None:
    src = """
    def kernel(data, idx):
        f = nl.load(idx)
        rows = nl.load(data[f, nl.arange(8)[None, :]])
        return data
    """
    err = trace_error(tmp_path, src, rand(10, 8), rand(6, 1))
    assert err.message == "an index tensor must hold integers, not float32"
    assert where(err)[0] == line_of(src, "rows =")
