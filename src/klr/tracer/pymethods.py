"""Attributes and methods of plain Python values (``xs.append``, ``d.items``, ``s.join``...).

Only the listed names are reachable; each method runs Python's own implementation on the
traced values, and its user-input exceptions become TraceErrors naming the method.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

METHODS: dict[type, frozenset[str]] = {
    list: frozenset({"append", "extend", "insert", "pop", "remove", "index", "count", "reverse",
                     "sort", "copy", "clear"}),
    dict: frozenset({"get", "items", "keys", "values", "pop", "popitem", "setdefault", "update",
                     "copy", "clear"}),
    tuple: frozenset({"index", "count"}),
    str: frozenset({"format", "join", "upper", "lower", "split", "rsplit", "startswith", "endswith",
                    "replace", "strip", "lstrip", "rstrip", "find", "rfind", "isdigit", "isalpha",
                    "isalnum", "title", "capitalize", "zfill", "ljust", "rjust", "center", "count",
                    "index", "partition", "rpartition", "splitlines", "removeprefix",
                    "removesuffix"}),
    int: frozenset({"bit_length", "to_bytes"}),
    float: frozenset({"is_integer"}),
    range: frozenset({"index", "count"}),
}

ATTRIBUTES: dict[type, frozenset[str]] = {
    slice: frozenset({"start", "stop", "step"}),
    range: frozenset({"start", "stop", "step"}),
    int: frozenset({"real", "imag", "numerator", "denominator"}),
    float: frozenset({"real", "imag"}),
}


class PyMethod(TraceObject):
    """A bound method of a Python value."""

    __slots__ = ("name", "obj")
    type_name = "builtin_method"

    def __init__(self, obj: Value, name: str) -> None:
        self.obj = obj
        self.name = name

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        if self.name == "sort" and isinstance(self.obj, list):
            return _sort(ctx, self.obj, args, kwargs)
        fn = getattr(self.obj, self.name)
        try:
            return fn(*args, **kwargs)
        except KeyError as e:
            raise ctx.error(f"key {e.args[0]!r} is not in the dict") from None
        except (TypeError, ValueError, IndexError) as e:
            raise ctx.error(f"{type_name(self.obj)}.{self.name}(): {e}") from None

    def __repr__(self) -> str:
        return f"<built-in method {self.name} of {type_name(self.obj)} object>"


def _sort(ctx: Ctx, xs: list[Any], args: tuple[Value, ...], kwargs: dict[str, Value]) -> None:
    if args:
        raise ctx.error("list.sort() takes no positional arguments")
    unknown = set(kwargs) - {"key", "reverse"}
    if unknown:
        raise ctx.error(f"list.sort() got an unexpected keyword argument '{sorted(unknown)[0]}'")
    xs[:] = sort_values(ctx, xs, kwargs.get("key"), bool(kwargs.get("reverse", False)))


def sort_values(ctx: Ctx, xs: list[Any], key: Value, reverse: bool) -> list[Any]:
    """``sorted(xs, key=key, reverse=reverse)`` with ``key`` any traced callable."""
    try:
        if key is None:
            return sorted(xs, reverse=reverse)
        keys = [ctx.call(key, (x,)) for x in xs]
        order = sorted(range(len(xs)), key=keys.__getitem__, reverse=reverse)
        return [xs[i] for i in order]
    except TypeError as e:
        raise ctx.error(f"cannot sort these values: {e}") from None


def python_attr(ctx: Ctx, v: Value, name: str) -> Value:
    """``v.name`` for a Python value."""
    t = bool if isinstance(v, bool) else type(v)
    base = int if t is bool else t
    if name in METHODS.get(base, ()):
        return PyMethod(v, name)
    if name in ATTRIBUTES.get(base, ()):
        return getattr(v, name)
    raise ctx.error(f"'{type_name(v)}' object has no attribute '{name}'")
