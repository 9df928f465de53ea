"""Tensor views: indexing forms and their lowering to access patterns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tracer.nki.util import op_names, rand, run_kernel, stmts, trace_kernel


def pattern(ref: object) -> tuple[int, list[list[int]]]:
    return ref.offset, [[p.step, p.num] for p in ref.pattern]  # type: ignore[attr-defined]


def load_src(index: str) -> str:
    return f"""
    def kernel(x):
        out = nl.ndarray(x[{index}].shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.load(x[{index}]))
        return out
    """


@pytest.mark.parametrize(("index", "expected"), [
    ("0:128, 0:64", (0, [[512, 128], [1, 64]])),
    ("1:2, :", (512, [[512, 1], [1, 512]])),
    (":, 3", (3, [[512, 128], [1, 1]])),
    ("-1:, 10:20", (127 * 512 + 10, [[512, 1], [1, 10]])),
    ("0:128:2, ::-1", (511, [[1024, 64], [-1, 512]])),
    ("..., 0:8", (0, [[512, 128], [1, 8]])),
    ("nl.ds(64, 32), nl.ds(8, 16)", (64 * 512 + 8, [[512, 32], [1, 16]])),
    ("-4:, -8:-2", (124 * 512 + 504, [[512, 4], [1, 6]])),
])
def test_basic_index_lowering(tmp_path: Path, index: str, expected: tuple[int, list[list[int]]]) -> None:
    x = rand(128, 512)
    result = trace_kernel(tmp_path, load_src(index), x)
    load = stmts(result)[0].op
    assert pattern(load.src) == expected
    (out,) = run_kernel(tmp_path, load_src(index), x)
    plain = index.replace("nl.ds(64, 32)", "64:96").replace("nl.ds(8, 16)", "8:24")
    np.testing.assert_array_equal(out, eval(f"x[{plain}]"))


def test_index_tiles_lower_to_affine_patterns(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((128, 64), dtype=x.dtype, buffer=nl.shared_hbm)
        i_p = nl.arange(128)[:, None]
        i_f = nl.arange(64)[None, :]
        t = nl.load(x[1, i_p, 2 * i_f + 1])
        nl.store(out[i_p, i_f], value=t)
        return out
    """
    x = rand(2, 128, 256)
    result = trace_kernel(tmp_path, src, x)
    load, store = (s.op for s in stmts(result))
    assert pattern(load.src) == (128 * 256 + 1, [[256, 128], [2, 64]])
    assert pattern(store.dst) == (0, [[64, 128], [1, 64]])
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, x[1, :, 1:128:2])


def test_mgrid_and_arithmetic(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((128, 32), dtype=x.dtype, buffer=nl.shared_hbm)
        g = nl.mgrid[0:128, 0:32]
        i_p, i_f = nl.mgrid[0:128, 0:32]
        a = nl.load(x[g.p, 32 + g.x])
        b = nl.load(x[i_p, 3 * 32 - 1 - i_f])
        nl.store(out[i_p, i_f], value=nl.add(a, b))
        return out
    """
    x = rand(128, 128)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, x[:, 32:64] + x[:, 95:63:-1])


def test_none_adds_an_axis_and_ellipsis_expands(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((128, 1, 16), dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.load(x[:, None, 0:16])
        assert t.shape == (128, 1, 16)
        nl.store(out[...], value=t)
        return out
    """
    x = rand(128, 64)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, x[:, None, 0:16])


def test_three_d_index_expressions_on_sbuf(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.load(x)
        i_p = nl.arange(16)[:, None, None]
        i_r = nl.arange(4)[None, :, None]
        i_c = nl.arange(8)[None, None, :]
        d = nl.ndarray((16, 32), dtype=x.dtype, buffer=nl.sbuf)
        d[i_p, i_c * 4 + i_r] = nl.copy(t[i_p, i_r * 8 + i_c])
        nl.store(out, value=d)
        return out
    """
    x = rand(16, 32)
    result = trace_kernel(tmp_path, src, x)
    assert op_names(result) == ["ncDmaCopy", "ncCopy", "ncDmaCopy"]
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, x.reshape(16, 4, 8).transpose(0, 2, 1).reshape(16, 32))


def test_par_dim_blocks(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        B, N, M = x.shape
        buf = nl.ndarray((B, nl.par_dim(N), M), dtype=x.dtype, buffer=nl.sbuf)
        out = nl.ndarray((B, N, M), dtype=x.dtype, buffer=nl.shared_hbm)
        for b in nl.affine_range(B):
            buf[b] = nl.load(x[b])
            buf[b] = nl.exp(buf[b])
        nl.store(out, value=buf)
        return out
    """
    x = rand(3, 64, 16)
    result = trace_kernel(tmp_path, src, x)
    buf = stmts(result)[0].op.dst.tensor
    assert (buf.shape.parDim, buf.shape.freeDims) == (64, (3, 16))
    final = stmts(result)[-1].op
    # the HBM side walks (N, B, M) like the tile does
    assert pattern(final.dst) == (0, [[16, 64], [1024, 3], [1, 16]])
    assert pattern(final.src) == (0, [[48, 64], [16, 3], [1, 16]])
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, np.exp(x), rtol=1e-6)


def test_reshape_of_hbm_tensor(tmp_path: Path) -> None:
    src = """
    def kernel(w):
        out = nl.ndarray((1, 64), dtype=w.dtype, buffer=nl.shared_hbm)
        t = nl.load(w.reshape((1, 64)))
        nl.store(out, value=t)
        return out
    """
    w = rand(64)
    (out,) = run_kernel(tmp_path, src, w)
    np.testing.assert_array_equal(out, w.reshape(1, 64))


def test_tensor_attributes(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        v = x[2:4, 8:]
        assert v.shape == (2, 56) and x.ndim == 2 and v.dtype == nl.float32 and x.dtype == np.float32
        assert v.offset == 2 * 64 + 8 and v.pattern == ([64, 2], [1, 56])
        assert x.buffer == nl.hbm and v.dtype.itemsize == 4
        t = nl.zeros((4, 8), dtype=nl.bfloat16)
        assert t.buffer == nl.sbuf and t.dtype == nl.bfloat16 and t.shape == (4, 8)
        return x
    """
    trace_kernel(tmp_path, src, rand(16, 64))


def test_integer_indexed_free_axis_of_a_tile_can_be_indexed_again(tmp_path: Path) -> None:
    # flash attention passes ``l_buf[:, i]`` to a helper that writes ``l_buf[:, 0]``
    src = """
    def kernel(x):
        buf = nl.ndarray((nl.par_dim(32), 4), dtype=x.dtype, buffer=nl.sbuf)
        buf[...] = nl.load(x)
        column = buf[:, 2]
        assert column.shape == (32,)
        column[:, 0] = nl.multiply(column[:, 0], 3.0)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=buf)
        return out
    """
    x = rand(32, 4)
    (out,) = run_kernel(tmp_path, src, x)
    want = x.copy()
    want[:, 2] *= 3
    np.testing.assert_allclose(out, want, rtol=1e-6)


def test_a_sliced_row_or_column_broadcasts(tmp_path: Path) -> None:
    # the deferred bounds check of a size-1 slice must not grow with the broadcast dimension
    src = """
    def kernel(x):
        t = nl.load(x)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.add(nl.add(t, t[:, 3:4]), nl.multiply(t, t[2:3, :])))
        return out
    """
    x = rand(128, 64)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, (x + x[:, 3:4]) + x * x[2:3, :], rtol=1e-6)
