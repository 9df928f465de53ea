"""Regressions found by tests/fuzz: '...' in the index of an index tile."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from klr.errors import TraceError
from tests.tracer.nki.util import trace_error
from tests.tracer.util import run_src


def test_ellipsis_keeps_the_axes_no_slice_consumes(tmp_path: Path) -> None:
    src = ("import neuronxcc.nki.language as nl\n\ndef kernel():\n"
           "    a = nl.arange(8)\n"
           "    return [repr(v) for v in (a[...], a[None, ...], a[..., None], a[:, None][..., :])]\n")
    assert run_src(tmp_path, src) == ["index[8](1*x0)", "index[1, 8](1*x1)", "index[8, 1](1*x0)",
                                      "index[8, 1](1*x0)"]


def test_two_ellipses_are_an_error(tmp_path: Path) -> None:
    err = trace_error(tmp_path, """
        def kernel(x):
            i = nl.arange(8)[..., ...]
            return x
        """, np.zeros((128, 4), np.float32))
    assert isinstance(err, TraceError)
    assert err.message == "an index can only have a single ellipsis ('...')"
    assert err.pos is not None and (err.pos.line, err.pos.column) == (7, 8)
