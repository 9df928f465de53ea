"""Helpers for the tracer tests: gather a kernel from source text and run or trace it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from klr.errors import KlrError
from klr.python import ast as K
from klr.python.gather import gather_file
from klr.tracer import run_python, trace
from klr.tracer.context import Ctx, Limits
from klr.tracer.kernel import TraceResult


def gather_src(tmp_path: Path, source: str, entry: str = "kernel", name: str = "kern.py",
               **options: Any) -> K.Kernel:
    """Write ``source`` (dedented) to ``tmp_path/name`` and gather function ``entry``."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return gather_file(str(path), entry, **options)


def run_src(tmp_path: Path, source: str, *args: Any, entry: str = "kernel",
            limits: Limits | None = None, **kwargs: Any) -> Any:
    """The value ``entry(*args, **kwargs)`` returns when traced."""
    value, _ = run_ctx(tmp_path, source, *args, entry=entry, limits=limits, **kwargs)
    return value


def run_ctx(tmp_path: Path, source: str, *args: Any, entry: str = "kernel",
            limits: Limits | None = None, **kwargs: Any) -> tuple[Any, Ctx]:
    kernel = gather_src(tmp_path, source, entry)
    return run_python(kernel, args=args, kwargs=kwargs, limits=limits)


def trace_src(tmp_path: Path, source: str, entry: str = "kernel", *, gather: dict[str, Any] | None = None,
              **options: Any) -> TraceResult:
    return trace(gather_src(tmp_path, source, entry, **(gather or {})), **options)


def error_of(tmp_path: Path, source: str, *args: Any, error: type[KlrError] = KlrError,
             limits: Limits | None = None, **kwargs: Any) -> KlrError:
    """The error running ``kernel(*args)`` raises."""
    with pytest.raises(error) as info:
        run_src(tmp_path, source, *args, limits=limits, **kwargs)
    return info.value


def where(err: KlrError) -> tuple[int, int]:
    """(line, 1-based column) of an error."""
    assert err.pos is not None
    return err.pos.line, err.pos.column + 1
