"""NKI-style tests of the element-wise example kernels.

Run them with klr simulating the kernels: ``klr run -m pytest examples/tests``.
"""
import unittest

import neuronxcc.nki as nki
import numpy as np
from beta2_gated import beta2_gated_kernel
from masked_scale import masked_scale_kernel
from spmd_add import spmd_add_kernel


class TestElementwise(unittest.TestCase):
    def test_spmd_add(self):
        a = np.random.random_sample([256, 1024]).astype(np.float32)
        b = np.random.random_sample([256, 1024]).astype(np.float32)
        c = spmd_add_kernel[2, 2](a, b)
        self.assertTrue(np.allclose(c, a + b))

    def test_spmd_add_simulate_kernel(self):
        a = np.random.random_sample([256, 1024]).astype(np.float32)
        b = np.random.random_sample([256, 1024]).astype(np.float32)
        c = nki.simulate_kernel(spmd_add_kernel[2, 2], a, b)
        self.assertTrue(np.allclose(c, a + b))

    def test_masked_scale(self):
        x = (np.random.random_sample([200, 96]) - 0.5).astype(np.float32)
        out = masked_scale_kernel(x)
        self.assertTrue(np.allclose(out, np.maximum(x, 0.0) * 2.0 + 1.0))

    def test_beta2_gated(self):
        x = np.random.random_sample([128, 256]).astype(np.float32)
        y = np.random.random_sample([128, 256]).astype(np.float32)
        bias = np.random.random_sample([128, 1]).astype(np.float32)
        out = beta2_gated_kernel(x, y, bias)
        self.assertTrue(np.allclose(out, np.tanh(x * y * 0.5 + bias), atol=1e-5))
