"""Trace: partial evaluation of a gathered kernel (Python AST) into KLR Core.

Entry point: ``trace`` (``klr.trace.kernel.trace``). Builtins register in
``klr.trace.registry``; the value protocol is ``klr.trace.values.TraceObject``; builtins
receive a ``klr.trace.context.Ctx``. See docs/trace.md.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import klr as _klr

__all__ = ["trace", "TraceResult", "run_python"]

_LAZY = frozenset(__all__)

# ``klr.trace`` is also the API function defined in klr/__init__.py. Importing this package
# makes Python rebind that name to the package, so the package forwards calls to the function
# it replaced: ``klr.trace(kernel)`` keeps working after any ``import klr.trace...``.
_api_trace = _klr.__dict__.get("trace")


def __getattr__(name: str) -> Any:
    if name in _LAZY:  # imported on first use: registering builtins must not load the engine
        from klr.trace import kernel

        return getattr(kernel, name)
    raise AttributeError(f"module 'klr.trace' has no attribute '{name}'")


class _Package(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if callable(_api_trace):
            return _api_trace(*args, **kwargs)
        from klr.trace.kernel import trace

        return trace(*args, **kwargs)


sys.modules[__name__].__class__ = _Package
