"""Helpers for the NKI builtin tests: write a kernel, gather, trace, and run it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import klr
from klr.core import operator_name
from klr.errors import KlrError
from klr.python.gather import gather_file
from klr.tracer import trace
from klr.tracer.kernel import TraceResult

LEGACY = """\
import numpy as np
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl
import neuronxcc.nki.isa as nisa
"""

BETA2 = """\
import numpy as np
import nki
import nki.language as nl
import nki.isa as nisa
"""


def trace_kernel(tmp_path: Path, source: str, *inputs: Any, entry: str = "kernel", grid: Any = None,
                 header: str = LEGACY, **kwargs: Any) -> TraceResult:
    """Gather and trace ``source`` (dedented, after ``header``) called with ``inputs``."""
    path = tmp_path / "kern.py"
    path.write_text(header + textwrap.dedent(source))
    py = gather_file(str(path), entry, args=inputs, kwargs=kwargs, grid=grid)
    return trace(py)


def run_kernel(tmp_path: Path, source: str, *inputs: Any, strict: bool = True,
               **options: Any) -> list[np.ndarray]:
    """The kernel's outputs, in order, evaluated by the interpreter on ``inputs``."""
    result = trace_kernel(tmp_path, source, *inputs, **options)
    arrays = [x for x in inputs if isinstance(x, np.ndarray)]
    names = [t.name for t in result.kernel.inputs]
    out = klr.eval(result, strict=strict, **dict(zip(names, arrays, strict=True)))  # with its constants
    return [out.outputs[t.name] for t in result.kernel.outputs]


def trace_error(tmp_path: Path, source: str, *inputs: Any, **options: Any) -> KlrError:
    with pytest.raises(KlrError) as info:
        trace_kernel(tmp_path, source, *inputs, **options)
    return info.value


def op_names(result: TraceResult) -> list[str]:
    """The operator constructor names of the first body, in order."""
    return [operator_name(s.op) for b in result.kernel.bodies[0] for s in b.body]


def stmts(result: TraceResult) -> list[Any]:
    return [s for b in result.kernel.bodies[0] for s in b.body]


def where(err: KlrError) -> tuple[int, int]:
    """(line in the kernel body counting the header, 1-based column)."""
    assert err.pos is not None
    return err.pos.line, err.pos.column + 1


def line_of(source: str, marker: str, header: str = LEGACY) -> int:
    """The file line of the first source line containing ``marker``."""
    lines = (header + textwrap.dedent(source)).splitlines()
    return next(i + 1 for i, text in enumerate(lines) if marker in text)


def rand(*shape: int, dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)
