"""DMA forms production kernels use: 4-D ``nisa.dma_transpose`` between tiles whose partition
axis is any of their dimensions (legacy ``(B, par_dim(N), M, K)`` tiles), checked against
numpy.transpose; ``nl.load``/``nl.store`` with ``mode=oob_mode.skip``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tracer.nki.util import line_of, rand, run_kernel, trace_error, where

SHAPE = (4, 6, 3, 5)


def _decl(shape: tuple[int, ...], par: int | None) -> str:
    """A shape tuple for nl.ndarray, ``par`` marked with nl.par_dim (None: an HBM tensor)."""
    return "(" + ", ".join(f"nl.par_dim({n})" if i == par else str(n) for i, n in enumerate(shape)) + ")"


def _kernel(src_par: int | None, dst_par: int, axes: tuple[int, ...]) -> str:
    out = tuple(SHAPE[a] for a in axes)
    load = "src = x" if src_par is None else (
        f"src = nl.ndarray({_decl(SHAPE, src_par)}, dtype=x.dtype, buffer=nl.sbuf)\n"
        "    nisa.dma_copy(dst=src, src=x)")
    return f"""
def kernel(x):
    {load}
    d = nl.ndarray({_decl(out, dst_par)}, dtype=x.dtype, buffer=nl.sbuf)
    nisa.dma_transpose(dst=d, src=src, axes={axes})
    out = nl.ndarray({out}, dtype=x.dtype, buffer=nl.shared_hbm)
    nisa.dma_copy(dst=out, src=d)
    return out
"""


CASES = [(sp, dp, axes) for sp in (None, 0, 1, 2) for dp in (0, 1, 3)
         for axes in ((3, 1, 2, 0), (1, 2, 3, 0), (2, 3, 0, 1), (0, 1, 3, 2))]


@pytest.mark.parametrize("src_par,dst_par,axes", CASES)
def test_dma_transpose_of_4d_tiles(tmp_path: Path, src_par: int | None, dst_par: int,
                                   axes: tuple[int, ...]) -> None:
    x = rand(*SHAPE)
    (out,) = run_kernel(tmp_path, _kernel(src_par, dst_par, axes), x)
    np.testing.assert_array_equal(out, x.transpose(axes))


def test_dma_transpose_dst_must_hold_the_transpose(tmp_path: Path) -> None:
    src = _kernel(1, 0, (3, 1, 2, 0)).replace("axes=(3, 1, 2, 0)", "axes=(1, 2, 3, 0)")
    err = trace_error(tmp_path, src, rand(*SHAPE))
    assert err.message == ("nisa.dma_transpose: dst of shape [5, 6, 3, 4] does not hold src [4, 6, 3, 5] "
                           "transposed by (1, 2, 3, 0)")
    assert where(err) == (line_of(src, "dma_transpose"), 5)


def test_dma_transpose_src_needs_its_partition_axis(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.ndarray((nl.par_dim(2), 4, 6, 3, 5), dtype=x.dtype, buffer=nl.sbuf)
        d = nl.ndarray((5, 6, 3, 4), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_transpose(dst=d, src=t[0], axes=(3, 1, 2, 0))
        return x
    """
    err = trace_error(tmp_path, src, rand(*SHAPE))
    assert err.message == "nisa.dma_transpose: src must keep its partition axis as a dimension"
    assert where(err) == (line_of(src, "dma_transpose"), 5)


OOB_SKIP = """
from neuronxcc.nki.isa.constants import oob_mode

def kernel(x, idx):
    out = nl.ndarray((8, 16), dtype=x.dtype, buffer=nl.shared_hbm)
    nl.store(out, value=nl.zeros((8, 16), dtype=x.dtype))
    i_f = nl.arange(16)[None, :]
    rows = nl.load(idx)
    buf = nl.zeros((8, 16), dtype=x.dtype, buffer=nl.sbuf)
    buf[...] = nl.load(x[rows[nl.arange(8)[:, None], 0], i_f], mode=oob_mode.skip)
    nl.store(out[rows[nl.arange(8)[:, None], 1], i_f], value=buf, mode=oob_mode.skip)
    return out
"""


def test_load_and_store_skip_rows_out_of_bounds(tmp_path: Path) -> None:
    x = rand(10, 16)
    idx = np.array([[3, 7], [12, 0], [0, 9], [9, 1], [-1, 2], [5, 3], [10, 4], [1, 5]], np.int32)
    (out,) = run_kernel(tmp_path, OOB_SKIP, x, idx)
    want = np.zeros((8, 16), np.float32)
    for src, dst in idx:
        if 0 <= dst < 8:
            want[dst] = x[src] if 0 <= src < 10 else 0
    np.testing.assert_array_equal(out, want)


ONE_INDEX = """
def kernel(x, idx):
    k = nl.load(idx)
    out = nl.ndarray((4, 1), dtype=x.dtype, buffer=nl.shared_hbm)
    col = nl.load(VIEW[nl.arange(4)[:, None], k[0, 0]])
    twice = nl.multiply(col[0:4, 0], 2.0)
    nl.store(out, value=twice[0:4, 0])
    return out
"""


def test_one_element_of_a_tile_indexes_a_tensor(tmp_path: Path) -> None:
    x = rand(4, 6)
    (out,) = run_kernel(tmp_path, ONE_INDEX.replace("VIEW", "x"), x, np.array([[4]], np.int32))
    np.testing.assert_array_equal(out, 2 * x[:, 4:5])


def test_one_element_index_along_a_strided_view_is_an_error(tmp_path: Path) -> None:
    src = ONE_INDEX.replace("VIEW", "x[:, 0:6:2]")
    err = trace_error(tmp_path, src, rand(4, 6), np.array([[1]], np.int32))
    assert err.message == ("a tensor index must select along a dimension of the tensor itself, not of a "
                           "reshaped or strided view of it")
    assert where(err) == (line_of(src, "col ="), 19)
