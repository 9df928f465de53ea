"""Faithful text forms of any KLR value: JSON and s-expressions, driven by the schema.

JSON follows the reference's derived encoding (Lean ``ToJson``), but is complete for every type:
a struct is an object with one key per field in order; a constructor with fields is
``{"ctor": {fields}}``; a wrapped constructor is ``{"ctor": value}``; a field-less constructor
or enum member is the string ``"ctor"``; Option is ``null`` or the value; floats that JSON cannot
hold are the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

S-expressions: ``(ctor field-value ...)`` with fields as ``(:name value)``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from klr.errors import FormatError
from klr.format.cbor import deep_recursion
from klr.schema import Kind, TypeDesc, describe, fields_of, info_of


def to_jsonable(value: Any, tp: Any = None) -> Any:
    return _jsonable(value, describe(tp if tp is not None else type(value)))


def _jsonable(v: Any, d: TypeDesc) -> Any:
    match d.kind:
        case Kind.PRIM:
            if isinstance(v, float) and not math.isfinite(v):
                return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
            return v
        case Kind.OPTION:
            return None if v is None else _jsonable(v, d.args[0])
        case Kind.LIST:
            return [_jsonable(x, d.args[0]) for x in v]
        case Kind.PAIR:
            return [_jsonable(v[0], d.args[0]), _jsonable(v[1], d.args[1])]
        case Kind.ENUM:
            return v.lean
        case Kind.STRUCT | Kind.CTOR:
            return {f.lean: _jsonable(getattr(v, f.name), describe(f.type)) for f in fields_of(type(v))}
        case Kind.SUM:
            ctor, member = _ctor_of(v, d)
            if member.kind is Kind.CTOR:
                if not fields_of(member.cls):
                    return d.ctor_names[ctor]
                return {d.ctor_names[ctor]: _jsonable(v, member)}
            return {d.ctor_names[ctor]: _jsonable(v, member)}
    raise TypeError(f"cannot convert {d}")


def _ctor_of(v: Any, d: TypeDesc) -> tuple[int, TypeDesc]:
    for i, member in enumerate(d.args):
        if _inhabits(v, member):
            return i, member
    raise TypeError(f"a {type(v).__name__} is not a {d.name}")


def _inhabits(v: Any, d: TypeDesc) -> bool:
    match d.kind:
        case Kind.STRUCT | Kind.CTOR | Kind.ENUM:
            return type(v) is d.cls
        case Kind.SUM:
            return any(_inhabits(v, a) for a in d.args)
    return False


def to_json(value: Any, tp: Any = None, *, indent: int | None = 2) -> str:
    try:
        with deep_recursion():
            return json.dumps(to_jsonable(value, tp), indent=indent, ensure_ascii=False)
    except RecursionError:
        raise FormatError("cannot print the value as JSON: it nests too deeply") from None


def to_sexp(value: Any, tp: Any = None) -> str:
    try:
        with deep_recursion():
            return _sexp(value, describe(tp if tp is not None else type(value)))
    except RecursionError:
        raise FormatError("cannot print the value as an s-expression: it nests too deeply") from None


def _atom(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return repr(v)


def _sexp(v: Any, d: TypeDesc) -> str:
    match d.kind:
        case Kind.PRIM:
            return _atom(v)
        case Kind.OPTION:
            return "none" if v is None else f"(some {_sexp(v, d.args[0])})"
        case Kind.LIST:
            return "(" + " ".join(_sexp(x, d.args[0]) for x in v) + ")"
        case Kind.PAIR:
            return f"({_sexp(v[0], d.args[0])} . {_sexp(v[1], d.args[1])})"
        case Kind.ENUM:
            return str(v.lean)
        case Kind.STRUCT | Kind.CTOR:
            return _sexp_fields(info_of(type(v)).lean, v)
        case Kind.SUM:
            ctor, member = _ctor_of(v, d)
            if member.kind is Kind.CTOR:
                return _sexp_fields(d.ctor_names[ctor], v)
            return f"({d.ctor_names[ctor]} {_sexp(v, member)})"
    raise TypeError(f"cannot convert {d}")


def _sexp_fields(head: str, v: Any) -> str:
    parts = [head] + [f"(:{f.lean} {_sexp(getattr(v, f.name), describe(f.type))})"
                      for f in fields_of(type(v))]
    return "(" + " ".join(parts) + ")" if len(parts) > 1 else head
