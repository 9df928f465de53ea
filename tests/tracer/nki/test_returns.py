"""What a kernel returns becomes its outputs; on-chip results are copied out with a warning."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .util import run_kernel, trace_kernel


def test_returned_sbuf_tile_is_copied_to_a_new_hbm_output(tmp_path: Path) -> None:
    src = "def kernel(x):\n    t = nl.load(x)\n    return nl.exp(t)\n"
    x = np.linspace(-1, 1, 128 * 16, dtype=np.float32).reshape(128, 16)
    result = trace_kernel(tmp_path, src, x)
    assert [w.message for w in result.warnings] == [
        "the kernel returns 'tensor0' (sbuf); it is copied into the new HBM output 'tensor0_out'"]
    assert [t.name for t in result.kernel.outputs] == ["tensor0_out"]
    outputs = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(outputs[0], np.exp(x), rtol=1e-6)


def test_returned_hbm_tensor_is_the_output_itself(tmp_path: Path) -> None:
    src = ("def kernel(x):\n    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)\n"
           "    nl.store(out, value=nl.load(x))\n    return out\n")
    result = trace_kernel(tmp_path, src, np.zeros((128, 16), np.float32))
    assert not result.warnings
    assert [t.name for t in result.kernel.outputs] == ["out"]
