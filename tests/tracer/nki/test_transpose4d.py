"""4-D ``nisa.dma_transpose`` between tiles whose partition axis is any of their dimensions
(legacy ``(B, par_dim(N), M, K)`` tiles), checked against numpy.transpose."""

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
