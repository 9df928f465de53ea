"""examples/production_rows.py beyond its default launch (which test_examples runs): the enum
argument and the configuration fallback change what it computes, and errors raised in the
shared helpers point into the helper module, with the call chain."""
from __future__ import annotations

import enum
from typing import Any

import numpy as np
import pytest

from .e2e_support import EXAMPLES


class Activation(enum.Enum):  # the caller's copy of the kernel's enum: matched by name
    EXP = "exp"


def _run(x: np.ndarray, **kwargs: Any) -> np.ndarray:
    import klr

    py = klr.gather(str(EXAMPLES / "production_rows.py"), x, name="production_rows_kernel", **kwargs)
    out: np.ndarray = klr.eval(klr.trace(py), x).outputs["out"]
    return out


def _error(x: np.ndarray, **kwargs: Any) -> str:
    from klr.diagnostics import render_error
    from klr.errors import KlrError

    with pytest.raises(KlrError) as info:
        _run(x, **kwargs)
    return render_error(info.value)


def test_enum_argument_selects_the_activation_and_a_bad_scale_falls_back() -> None:
    x = np.random.default_rng(4).uniform(-1, 1, (256, 32)).astype(np.float32)
    # scale='bad' raises ConfigError inside RowConfig.from_scale; the kernel catches it and
    # runs with the default configuration (scale 1.0, no bias).
    out = _run(x, act=Activation.EXP, scale="bad")
    np.testing.assert_allclose(out, np.exp(x.astype(np.float64)).astype(np.float32), rtol=1e-6)


def test_rows_that_do_not_split_into_tiles_fail_in_the_helper() -> None:
    text = _error(np.zeros((200, 32), np.float32))
    assert "kernel_utils.py:37:13: error: ConfigError: 200 rows do not split into tiles of 128" in text
    assert "production_rows.py:39:13: note: called from here" in text


def test_an_activation_that_is_no_enum_member_fails_the_kernels_assertion() -> None:
    text = _error(np.zeros((128, 32), np.float32), act=3)
    assert "production_rows.py:29:5: error: assertion failed: act must be an Activation, not 3" in text
