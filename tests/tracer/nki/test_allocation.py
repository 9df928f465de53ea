"""nki.compiler direct allocation and directives: they select memory, values are unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from klr.core import Memory
from tests.tracer.nki.util import LEGACY, line_of, rand, run_kernel, stmts, trace_error, trace_kernel, where

HEADER = LEGACY + "import neuronxcc.nki.compiler as ncc\n"

DOUBLE_BUFFERED = """\
def kernel(x):
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    tiles = nl.ndarray((4, nl.par_dim(32), 16), dtype=x.dtype,
                       buffer=ncc.sbuf.mod_alloc(base_addr=0, num_free_tiles=(2,)))
    acc = nl.ndarray((nl.par_dim(32), 16), dtype=nl.float32,
                     buffer=ncc.psum.alloc(ncc.psum.mod_alloc(base_bank=1, num_bank_tiles=(1,))))
    for i in nl.sequential_range(4, directives=ncc.no_reorder()):
        tiles[i] = nl.load(x[:, nl.ds(i * 16, 16)])
        acc[...] = nl.multiply(tiles[i], 2.0)
        nl.store(out[:, nl.ds(i * 16, 16)], value=acc)
    return out
"""


def test_mod_alloc_buffers_compute_like_plain_ones(tmp_path: Path) -> None:
    x = rand(32, 64)
    (out,) = run_kernel(tmp_path, DOUBLE_BUFFERED, x, header=HEADER)
    np.testing.assert_allclose(out, 2 * x, rtol=1e-6)
    memories = {s.op.dst.tensor.address.memory for s in stmts(trace_kernel(tmp_path, DOUBLE_BUFFERED, x,
                                                                            header=HEADER))}
    assert {Memory.sbuf, Memory.psum} <= memories


def test_mod_alloc_checks_its_tiles(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        buf = ncc.sbuf.mod_alloc(base_addr=0, num_free_tiles=2)
        t = nl.ndarray((nl.par_dim(32), 16), dtype=x.dtype, buffer=buf)
        return t
    """
    err = trace_error(tmp_path, src, rand(32, 16), header=HEADER)
    assert err.message == "num_free_tiles must be a tuple of positive integers, not 2"
    assert where(err)[0] == line_of(src, "mod_alloc", header=HEADER)
