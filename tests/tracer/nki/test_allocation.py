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


NAMED_IN_A_LOOP = """\
def kernel(x):
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm, lazy_initialization=True)
    for b in nl.affine_range(x.shape[0]):
        acc = nl.zeros((nl.par_dim(64), 8), dtype=x.dtype, buffer=nl.sbuf, name='acc')
        for k in nl.affine_range(3):
            acc += nl.load(x[b]) * (k + 1)
        nl.store(out[b], value=acc)
    return out
"""


def test_a_named_allocation_in_a_loop_is_one_tensor_per_iteration(tmp_path: Path) -> None:
    x = rand(3, 64, 8)
    (out,) = run_kernel(tmp_path, NAMED_IN_A_LOOP, x)
    np.testing.assert_allclose(out, 6 * x, rtol=1e-6)
    names = {s.op.dst.tensor.name for s in stmts(trace_kernel(tmp_path, NAMED_IN_A_LOOP, x))}
    assert len({n for n in names if n.split(".")[0] == "acc"}) == 3   # acc, then acc.<n> twice


def test_two_allocations_with_one_name_get_two_names_and_a_warning(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        a = nl.zeros((64, 8), dtype=x.dtype, buffer=nl.sbuf, name='tile')
        b = nl.full((64, 8), 2.0, dtype=x.dtype, buffer=nl.sbuf, name='tile')
        out = nl.ndarray((64, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.add(a, b))
        return out
    """
    result = trace_kernel(tmp_path, src, rand(64, 8))
    [w] = result.warnings
    assert w.message == "tensor name 'tile' is already in use; this tensor is named 'tile.2'"
    assert (w.pos.line, w.pos.column + 1) == (line_of(src, "b = nl.full"), 9)
    (out,) = run_kernel(tmp_path, src, rand(64, 8))
    np.testing.assert_array_equal(out, np.full((64, 8), 2.0, np.float32))
