"""Hypothesis strategies for any schema type, derived from the schema itself.

Generation is depth-limited: each type knows the least depth at which it can terminate
(empty lists, ``None`` options, leaf constructors), so recursive types such as Expr stay finite.
"""

from __future__ import annotations

import math
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


def values(tp: Any, depth: int = 4) -> st.SearchStrategy[Any]:
    return _strategy(describe(tp), depth)


def _strategy(d: TypeDesc, depth: int) -> st.SearchStrategy[Any]:
    match d.kind:
        case Kind.PRIM:
            assert d.prim is not None
            return _PRIMS[d.prim]
        case Kind.ENUM:
            return st.sampled_from(list(d.cls))
        case Kind.OPTION:
            if min_depth(d.args[0]) > depth - 1:
                return st.none()
            return st.none() | _strategy(d.args[0], depth - 1)
        case Kind.LIST:
            if min_depth(d.args[0]) > depth - 1:
                return st.just(())
            return st.lists(_strategy(d.args[0], depth - 1), max_size=2).map(tuple)
        case Kind.PAIR:
            return st.tuples(_strategy(d.args[0], depth), _strategy(d.args[1], depth))
        case Kind.STRUCT | Kind.CTOR:
            fields = [_strategy(describe(f.type), depth - 1) for f in fields_of(d.cls)]
            return st.builds(d.cls, *fields)
        case Kind.SUM:
            members = [a for a in d.args if min_depth(a) <= depth]
            return st.one_of([_strategy(a, depth) for a in members])
    raise TypeError(d)
