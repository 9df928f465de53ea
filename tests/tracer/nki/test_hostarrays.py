"""Trace-time numpy arrays and nl.shared_constant."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from klr.dtypes import Dtype
from tests.tracer.nki.util import line_of, rand, run_kernel, trace_error, trace_kernel, where

IDENTITY_ROUND_TRIP = """\
def kernel(x):
    eye = nl.shared_constant(np.identity(32, dtype=np.int8), dtype=nl.bfloat16)
    e = nl.load(eye)
    y = nl.load(x)
    out = nl.ndarray((32, 32), dtype=x.dtype, buffer=nl.shared_hbm)
    nl.store(out, value=nl.matmul(e, y))
    return out
"""


def test_shared_constant_holds_the_host_array(tmp_path: Path) -> None:
    x = rand(32, 32)
    result = trace_kernel(tmp_path, IDENTITY_ROUND_TRIP, x)
    (const,) = result.kernel.sharedConstants
    # bfloat16 cannot be a constant file's dtype: the values are stored as float32
    np.testing.assert_array_equal(result.constants[const.fileName], np.eye(32, dtype=np.float32))
    (out,) = run_kernel(tmp_path, IDENTITY_ROUND_TRIP, x)
    np.testing.assert_allclose(out, x, rtol=1e-6)


def test_eye_shape_dtype_and_diagonal(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        a = np.eye(4, 8, k=1, dtype=np.float32)
        assert a.shape == (4, 8) and a.ndim == 2 and a.dtype == nl.float32
        c = nl.load(nl.shared_constant(a))
        out = nl.ndarray((4, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=c)
        return out
    """
    (out,) = run_kernel(tmp_path, src, rand(4, 8))
    np.testing.assert_array_equal(out, np.eye(4, 8, k=1, dtype=np.float32))


def test_constant_of_a_storable_dtype_keeps_it(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        c = nl.shared_constant(np.identity(8), dtype=nl.int32)
        out = nl.ndarray((8, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.load(c))
        return out
    """
    result = trace_kernel(tmp_path, src, rand(8, 8))
    loads = [s.op for b in result.kernel.bodies[0] for s in b.body]
    assert loads[0].src.tensor.dtype is Dtype.int32


def test_shared_constant_needs_a_host_array(tmp_path: Path) -> None:
    src = """\
    def kernel(x):
        c = nl.shared_constant(x)
        return c
    """
    err = trace_error(tmp_path, src, rand(8, 8))
    assert err.message == "shared_constant takes a numpy array built in the kernel, not tensor"
    assert where(err) == (line_of(src, "shared_constant"), 9)
