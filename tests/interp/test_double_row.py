"""ncMatMul in the double-row perf modes: operands [K, 2, M] and [K, 2, N] contract over 2K rows."""

import ml_dtypes
import numpy as np
import pytest

from klr.core import Engine, MatmulPerfMode, MemSet, NcMatMul
from klr.dtypes import Dtype
from klr.errors import EvalError
from tests.interp.builder import arg, fimm, full, hbm, run_ops

RNG = np.random.default_rng(11)


def fp8(*shape: int) -> np.ndarray:
    return RNG.uniform(-4, 4, shape).astype(ml_dtypes.float8_e4m3)


def matmul(dst, st, mv, mode):
    return NcMatMul(full(dst), full(st), full(mv), False, False, False, (), (), mode)


@pytest.mark.parametrize("mode", [MatmulPerfMode.DoubleRow, MatmulPerfMode.DoubleRowSwInterleave])
def test_double_row_contracts_over_partitions_and_the_pair_axis(mode):
    s, m = fp8(16, 2, 8), fp8(16, 2, 12)
    acc = hbm("acc", (8, 12))
    zero = MemSet(full(acc), fimm(0.0), Dtype.float32, Engine.unassigned)
    out = run_ops({"s": s, "m": m}, [acc], [zero, matmul(acc, arg("s", s), arg("m", m), mode)])
    assert out.warnings == []
    want = np.einsum("ktm,ktn->mn", s.astype(np.float64), m.astype(np.float64))
    np.testing.assert_allclose(out.outputs["acc"], want, rtol=1e-6)
    # the same as an ordinary matmul of the [2K, M] and [2K, N] matrices (row 2k + t)
    rows_s, rows_m = s.astype(np.float64).reshape(32, 8), m.astype(np.float64).reshape(32, 12)
    np.testing.assert_allclose(want, rows_s.T @ rows_m)


def test_double_row_reads_any_view_with_an_even_free_size_as_pairs():
    s, m = fp8(4, 6), fp8(4, 10)     # [K, 2*3] and [K, 2*5]
    acc = hbm("acc", (3, 5))
    out = run_ops({"s": s, "m": m}, [acc], [matmul(acc, arg("s", s), arg("m", m), MatmulPerfMode.DoubleRow)])
    want = s.astype(np.float64).reshape(8, 3).T @ m.astype(np.float64).reshape(8, 5)
    np.testing.assert_allclose(out.outputs["acc"], want, rtol=1e-6)


def test_double_row_rejects_an_odd_free_size():
    s, m = fp8(4, 3), fp8(4, 10)
    acc = hbm("acc", (1, 5))
    with pytest.raises(EvalError, match="double-row matmul needs operands"):
        run_ops({"s": s, "m": m}, [acc], [matmul(acc, arg("s", s), arg("m", m), MatmulPerfMode.DoubleRow)])


def test_double_row_checks_the_result_shape():
    s, m = fp8(4, 6), fp8(4, 10)
    acc = hbm("acc", (6, 10))
    with pytest.raises(EvalError, match=r"dst must be \[3, 5\]"):
        run_ops({"s": s, "m": m}, [acc], [matmul(acc, arg("s", s), arg("m", m), MatmulPerfMode.DoubleRow)])
