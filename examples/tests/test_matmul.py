"""NKI-style tests of the matrix-multiplication example kernels."""
import ml_dtypes
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl
import numpy as np
import pytest
from beta2_matmul import beta2_matmul_kernel
from tiled_matmul import tiled_matmul_kernel


def test_tiled_matmul_bf16():
    lhsT = nl.static_cast(np.random.random_sample([256, 256]), nl.bfloat16)
    rhs = np.random.random_sample([256, 512]).astype(nl.bfloat16)
    out = nki.baremetal(tiled_matmul_kernel)(lhsT, rhs)
    assert out.dtype == ml_dtypes.bfloat16
    golden = lhsT.astype(np.float32).T @ rhs.astype(np.float32)
    assert np.allclose(out.astype(np.float32), golden, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("n", [64, 128])
def test_beta2_matmul(n):
    lhsT = np.random.random_sample([256, n]).astype(np.float32)
    rhs = np.random.random_sample([256, 512]).astype(np.float32)
    out = nki.simulate(beta2_matmul_kernel)(lhsT, rhs)
    assert out.shape == (n, 512)
    assert np.allclose(out, lhsT.T @ rhs, rtol=1e-4)
