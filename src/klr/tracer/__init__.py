"""The tracer: partial evaluation of a gathered kernel (Python AST) into KLR Core.

Entry point: ``trace`` (``klr.tracer.kernel.trace``; the public API is ``klr.trace``). Builtins
register in ``klr.tracer.registry``; the value protocol is ``klr.tracer.values.TraceObject``;
builtins receive a ``klr.tracer.context.Ctx``. See docs/trace.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["trace", "TraceResult", "run_python"]


def __getattr__(name: str) -> Any:
    if name in __all__:  # imported on first use: registering builtins must not load the evaluator
        from klr.tracer import kernel

        return getattr(kernel, name)
    raise AttributeError(f"module 'klr.tracer' has no attribute '{name}'")
