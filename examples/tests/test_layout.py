"""NKI-style tests of the data-layout example kernels, and of kernels written in the test file."""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl
import numpy as np
from avgpool2d import avgpool2d_kernel
from transpose2d import transpose2d_kernel


@nki.jit(mode="simulation")
def scale_in_place(x_tensor, factor):
    x = nl.load(x_tensor)
    nl.store(x_tensor, value=nl.multiply(x, factor))


def test_transpose2d():
    x = np.random.random_sample([32, 48]).astype(np.float32)
    out = transpose2d_kernel(x, n_rows=4)
    assert np.allclose(out, x.reshape(32, 4, 12).transpose(0, 2, 1).reshape(32, 48))


def test_avgpool2d():
    x = np.random.random_sample([8, 12, 12]).astype(np.float16)
    out = nki.benchmark(warmup=2, iters=5)(avgpool2d_kernel)(x, pool=3)
    golden = x.astype(np.float32).reshape(8, 4, 3, 4, 3).mean(axis=(2, 4))
    assert out.dtype == np.float16
    assert np.allclose(out, golden, atol=1e-3)


def test_an_argument_written_in_place():
    x = np.random.random_sample([128, 64]).astype(np.float32)
    before = x.copy()
    assert scale_in_place(x, 3.0) is None
    assert np.allclose(x, before * 3.0)
