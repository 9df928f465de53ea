"""The reference interpreter of KLR Core: the executable definition of what Core means.

    from klr.interp import run, random_inputs
    result = run(kernel, {"a": a, "b": b})        # -> EvalResult(outputs, warnings, stats, prints)

Submodules: ``memory`` (storage, views, never-written tracking), ``machine`` (state and
helpers seen by operators), ``alu``, ``activation`` and ``xorwow`` (numerics, the engines'
random generators), ``registry`` (the operator table), ``ops_move``/``ops_compute``/
``ops_special``/``ops_mx``/``ops_system`` (one numpy implementation per operator, all 76),
``budget`` (limits and the memory a run needs, checked before it starts; which on-chip
tensors die after which statement), ``blas`` (one BLAS thread during a run), ``runner`` (inputs,
control flow, cores, outputs; it checks each operator's shape rule from ``klr.core.rules``
before running it, and reports each executed statement to ``run(observe=...)``). The names
below are loaded on first use, so importing ``klr.interp`` does not import numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["run", "random_inputs", "EvalResult", "EvalLimits", "Stats", "DevicePrintRecord", "Step"]

_HOMES = {
    "run": "klr.interp.runner", "random_inputs": "klr.interp.runner", "Step": "klr.interp.runner",
    "EvalLimits": "klr.interp.budget",
    "EvalResult": "klr.interp.runner", "Stats": "klr.interp.machine",
    "DevicePrintRecord": "klr.interp.machine",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'klr.interp' has no attribute {name!r}")
