"""Hypothesis strategies for any schema type, derived from the schema itself.

Generation is depth-limited: each type knows the least depth at which it can terminate
(empty lists, ``None`` options, leaf constructors), so recursive types such as Expr stay finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from klr.schema import Kind, Prim, TypeDesc, describe, fields_of

_PRIMS = {
    Prim.NAT: st.integers(0, 2**32 - 1),
    Prim.INT: st.integers(-(2**31), 2**31 - 1),
    Prim.F32: st.floats(width=32, allow_nan=False),
    Prim.F64: st.floats(allow_nan=False),
    Prim.STR: st.text(max_size=6),
    Prim.BOOL: st.booleans(),
}

_MIN: dict[TypeDesc, float] = {}


def min_depth(d: TypeDesc) -> float:
    """Least depth at which a value of ``d`` can be built (structs count one level)."""
    if d in _MIN:
        return _MIN[d]
    _MIN[d] = math.inf  # a cycle back here cannot help terminate
    match d.kind:
        case Kind.PRIM | Kind.ENUM | Kind.OPTION | Kind.LIST:
            got = 0.0
        case Kind.PAIR:
            got = max(min_depth(a) for a in d.args)
        case Kind.STRUCT | Kind.CTOR:
            got = 1 + max((min_depth(describe(f.type)) for f in fields_of(d.cls)), default=0)
        case Kind.SUM:
            got = min(min_depth(a) for a in d.args)
    _MIN[d] = got
    return got


Override = Callable[[TypeDesc, int], "st.SearchStrategy[Any] | None"]


def values(tp: Any, depth: int = 4) -> st.SearchStrategy[Any]:
    return strategy(describe(tp), depth)


def strategy(d: TypeDesc, depth: int, *, prims: dict[Prim, st.SearchStrategy[Any]] | None = None,
             override: Override | None = None, max_list: int = 2) -> st.SearchStrategy[Any]:
    """Values of ``d`` at most ``depth`` structs deep; ``override`` may replace any sub-strategy
    (returning None keeps the default) and ``prims`` the scalar ones."""

    def walk(d: TypeDesc, depth: int) -> st.SearchStrategy[Any]:
        got = override(d, depth) if override is not None else None
        if got is not None:
            return got
        match d.kind:
            case Kind.PRIM:
                assert d.prim is not None
                return (prims or _PRIMS)[d.prim]
            case Kind.ENUM:
                return st.sampled_from(list(d.cls))
            case Kind.OPTION:
                if min_depth(d.args[0]) > depth - 1:
                    return st.none()
                return st.none() | walk(d.args[0], depth - 1)
            case Kind.LIST:
                if min_depth(d.args[0]) > depth - 1:
                    return st.just(())
                return st.lists(walk(d.args[0], depth - 1), max_size=max_list).map(tuple)
            case Kind.PAIR:
                return st.tuples(walk(d.args[0], depth), walk(d.args[1], depth))
            case Kind.STRUCT | Kind.CTOR:
                return st.builds(d.cls, *(walk(describe(f.type), depth - 1) for f in fields_of(d.cls)))
            case Kind.SUM:
                return st.one_of([walk(a, depth) for a in d.args if min_depth(a) <= depth])
        raise TypeError(d)

    return walk(d, depth)
