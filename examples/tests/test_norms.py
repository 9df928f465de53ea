"""NKI-style tests of the normalisation example kernels."""
import numpy as np
from layernorm import layernorm_kernel
from rmsnorm import rmsnorm_kernel
from softmax import softmax_kernel


def test_softmax():
    x = (np.random.random_sample([256, 160]) * 8 - 4).astype(np.float32)
    out = softmax_kernel(x)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    assert np.allclose(out, e / e.sum(axis=1, keepdims=True), atol=1e-6)


def test_layernorm():
    x = np.random.random_sample([256, 192]).astype(np.float32)
    gamma = np.random.random_sample([1, 192]).astype(np.float32)
    beta = np.random.random_sample([1, 192]).astype(np.float32)
    out = layernorm_kernel(x, gamma, beta, eps=1e-5)
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    assert np.allclose(out, (x - mean) / np.sqrt(var + 1e-5) * gamma + beta, atol=1e-4)


def test_rmsnorm():
    x = np.random.random_sample([256, 384]).astype(np.float32)
    weight = np.random.random_sample([384]).astype(np.float32)
    out = rmsnorm_kernel(x, weight, 1e-6)
    rms = np.sqrt((x * x).mean(axis=1, keepdims=True) + 1e-6)
    assert np.allclose(out, x / rms * weight, atol=1e-5)
