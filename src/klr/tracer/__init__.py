"""The tracer: partial evaluation of a gathered kernel (Python AST) into KLR Core.

Two layers (docs/architecture.md): the Python evaluator, the modules of this package, which
knows nothing of NKI; and the NKI library above it (``klr.tracer.nki``), joined to it by one
hook, ``klr.tracer.library.Library``. The driver ``klr.tracer.kernel.trace`` takes a library;
the functions here are the tracer with the NKI library (the public API is ``klr.trace``).
Builtins register in ``klr.tracer.registry``; the value protocol is
``klr.tracer.values.TraceObject``; builtins receive a ``klr.tracer.context.Ctx``.

Everything is imported on first use: ``import klr.tracer`` loads nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klr.python import ast as A
    from klr.tracer.context import Ctx, Limits
    from klr.tracer.kernel import TraceResult
    from klr.tracer.registry import Dialect, Entry
    from klr.tracer.values import Value

__all__ = ["TraceResult", "entries", "run_python", "trace"]


def trace(py_kernel: A.Kernel, *, args: Iterable[Any] | None = None, kwargs: Mapping[str, Any] | None = None,
          grid: object = None, lnc: int | None = None, arch: int | None = None,
          dialect: Dialect | str | None = None, limits: Limits | None = None,
          loop_templates: str | None = None) -> TraceResult:
    """Trace an NKI kernel into an ``LncKernel`` (see ``klr.tracer.kernel.trace``)."""
    from klr.tracer import kernel, nki

    return kernel.trace(py_kernel, library=nki.LIBRARY, args=args, kwargs=kwargs, grid=grid, lnc=lnc,
                        arch=arch, dialect=dialect, limits=limits, loop_templates=loop_templates)


def run_python(py_kernel: A.Kernel, name: str | None = None, args: Iterable[Any] = (),
               kwargs: Mapping[str, Any] | None = None, *, limits: Limits | None = None,
               dialect: Dialect | str | None = None) -> tuple[Value, Ctx]:
    """Run one gathered function on Python values, NKI builtins available (see
    ``klr.tracer.kernel.run_python``)."""
    from klr.tracer import kernel, nki

    return kernel.run_python(py_kernel, name, args, kwargs, library=nki.LIBRARY, limits=limits,
                             dialect=dialect)


def entries() -> Iterator[Entry]:
    """Every builtin and constant a kernel can name (Python's and NKI's), sorted by name."""
    from klr.tracer import nki, registry  # noqa: F401  (importing nki registers its builtins)

    return registry.entries()


def __getattr__(name: str) -> object:
    if name == "TraceResult":
        from klr.tracer.kernel import TraceResult

        return TraceResult
    raise AttributeError(f"module 'klr.tracer' has no attribute '{name}'")
