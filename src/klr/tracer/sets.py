"""klr's set type and dict views.

``KlrSet`` is what ``set(...)`` builds in a kernel. Python's sets iterate in hash order, which
for strings changes with ``PYTHONHASHSEED``, and for other objects with their addresses; a
trace must give the same Core every time, so a klr set iterates in a fixed order, the order
of insertion:

* ``set(xs)``, ``s.add(x)``, ``s.update(xs)``: elements in the order first seen (adding an
  element already present does not move it; removing and re-adding moves it to the end);
* ``a | b``: the elements of ``a``, then those of ``b`` not in ``a``; ``a & b`` and ``a - b``:
  the elements of ``a`` that are (not) in ``b``, in ``a``'s order; ``a ^ b``: those of ``a``
  not in ``b``, then those of ``b`` not in ``a``;
* ``s.pop()`` removes the first element.

Membership uses Python's hashing of the elements (checked by ``ops.hashable``), which
decides only whether an element is present, never the order.

``d.keys()``, ``d.values()`` and ``d.items()`` are ``DictView``s: live views of the dict, as in
Python; key and item views support the set operators, which give KlrSets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from klr.tracer import ops, show
from klr.tracer.registry import method
from klr.tracer.templates import forbid
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["KlrSet", "DictView", "elements"]


def elements(ctx: Ctx, v: Value) -> dict[Value, None]:
    """The distinct elements of an iterable, in order, as the keys of a dict."""
    if isinstance(v, KlrSet):
        return v.items
    if isinstance(v, DictView) and v.kind == "keys":
        return dict.fromkeys(v.d)
    out: dict[Value, None] = {}
    for x in ops.materialise(ctx, v, "set"):
        out[ops.hashable(ctx, x)] = None
    ctx.alloc(64 * len(out))
    return out


class KlrSet(TraceObject):
    """A set that iterates in insertion order (see the module docstring)."""

    __slots__ = ("items",)
    __hash__ = None  # type: ignore[assignment]  # unhashable, as Python's sets and views
    type_name = "set"
    pure_compare = True

    def __init__(self, items: dict[Value, None] | None = None) -> None:
        self.items: dict[Value, None] = {} if items is None else items

    # --- protocol ----------------------------------------------------------------------------

    def iterate(self, ctx: Ctx) -> Iterator[Value]:
        return iter(self.items)

    def length(self, ctx: Ctx) -> int:
        return len(self.items)

    def truth(self, ctx: Ctx) -> bool:
        return bool(self.items)

    def contains(self, ctx: Ctx, item: Value) -> bool:
        return ops.hashable(ctx, item) in self.items

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        fn = _OPERATORS.get(op)
        if fn is None or not _set_like(other):
            return NotImplemented
        a, b = (elements(ctx, other), self.items) if reflected else (self.items, elements(ctx, other))
        ctx.alloc(64 * (len(a) + len(b)))
        return KlrSet(fn(a, b))

    def inplace(self, ctx: Ctx, op: str, other: Value) -> Value:
        fn = _OPERATORS.get(op)
        if fn is None or not _set_like(other):
            return NotImplemented
        if ctx.template is not None:
            raise forbid("a set changed in place")
        self.items = fn(self.items, elements(ctx, other))
        return self

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        if not _set_like(other):
            return super().compare(ctx, op, other, reflected)
        return _set_compare(op, self.items, elements(ctx, other))

    def getattr(self, ctx: Ctx, name: str) -> Value:
        impl = _METHODS.get(name)
        if impl is None:
            return super().getattr(ctx, name)
        if ctx.template is not None and name in _MUTATORS:
            raise forbid(f"set.{name}")
        return method(f"set.{name}", impl, self)

    def repr_parts(self, ctx: Ctx) -> tuple[str, list[tuple[str, Value]], str]:
        if not self.items:
            return "set(", [], ")"
        return "{", [("", x) for x in self.items], "}"

    def __repr__(self) -> str:
        return f"<set of {len(self.items)} elements>"


def _set_like(v: Value) -> bool:
    return isinstance(v, KlrSet) or (isinstance(v, DictView) and v.kind != "values")


def _union(a: dict[Value, None], b: dict[Value, None]) -> dict[Value, None]:
    return {**a, **b}


def _intersection(a: dict[Value, None], b: dict[Value, None]) -> dict[Value, None]:
    return {x: None for x in a if x in b}


def _difference(a: dict[Value, None], b: dict[Value, None]) -> dict[Value, None]:
    return {x: None for x in a if x not in b}


def _symmetric(a: dict[Value, None], b: dict[Value, None]) -> dict[Value, None]:
    return {**_difference(a, b), **_difference(b, a)}


_OPERATORS: dict[str, Callable[[dict[Value, None], dict[Value, None]], dict[Value, None]]] = {
    "|": _union, "&": _intersection, "-": _difference, "^": _symmetric,
}


def _set_compare(op: str, a: dict[Value, None], b: dict[Value, None]) -> bool:
    sub = len(a) <= len(b) and all(x in b for x in a)
    sup = len(a) >= len(b) and all(x in a for x in b)
    return {"==": sub and sup, "!=": not (sub and sup), "<=": sub, "<": sub and not sup,
            ">=": sup, ">": sup and not sub}[op]


# --- methods -------------------------------------------------------------------------------------


def _add(ctx: Ctx, s: KlrSet, x: Value, /) -> None:
    s.items[ops.hashable(ctx, x)] = None


def _remove(ctx: Ctx, s: KlrSet, x: Value, /) -> None:
    if s.items.pop(ops.hashable(ctx, x), _ABSENT) is _ABSENT:
        raise ctx.error(f"set.remove(): {show.describe(x)} is not in the set")


def _discard(ctx: Ctx, s: KlrSet, x: Value, /) -> None:
    s.items.pop(ops.hashable(ctx, x), None)


def _pop(ctx: Ctx, s: KlrSet, /) -> Value:
    if not s.items:
        raise ctx.error("set.pop(): the set is empty")
    first = next(iter(s.items))
    del s.items[first]
    return first


def _clear(ctx: Ctx, s: KlrSet, /) -> None:
    s.items.clear()


def _copy(ctx: Ctx, s: KlrSet, /) -> KlrSet:
    ctx.alloc(64 * len(s.items))
    return KlrSet(dict(s.items))


Combine = Callable[[dict[Value, None], dict[Value, None]], dict[Value, None]]
"""Combines two sets' elements (keys of insertion-ordered dicts)."""


def _folded(fn: Combine) -> Callable[..., Value]:
    def impl(ctx: Ctx, s: KlrSet, /, *others: Value) -> KlrSet:
        out = s.items
        for o in others:
            b = elements(ctx, o)
            ctx.alloc(64 * (len(out) + len(b)))
            out = fn(out, b)
        return KlrSet(dict(out))
    return impl


def _updating(fn: Combine) -> Callable[..., Value]:
    def impl(ctx: Ctx, s: KlrSet, /, *others: Value) -> None:
        for o in others:
            s.items = fn(s.items, elements(ctx, o))
    return impl


def _relation(op: str) -> Callable[..., Value]:
    def impl(ctx: Ctx, s: KlrSet, other: Value, /) -> bool:
        return _set_compare(op, s.items, elements(ctx, other))
    return impl


def _isdisjoint(ctx: Ctx, s: KlrSet, other: Value, /) -> bool:
    return not _intersection(s.items, elements(ctx, other))


_ABSENT: Value = object()

_METHODS: dict[str, Callable[..., Value]] = {
    "add": _add, "remove": _remove, "discard": _discard, "pop": _pop, "clear": _clear,
    "copy": _copy, "union": _folded(_union), "intersection": _folded(_intersection),
    "difference": _folded(_difference), "symmetric_difference": _folded(_symmetric),
    "update": _updating(_union), "intersection_update": _updating(_intersection),
    "difference_update": _updating(_difference),
    "symmetric_difference_update": _updating(_symmetric),
    "issubset": _relation("<="), "issuperset": _relation(">="), "isdisjoint": _isdisjoint,
}


# --- dict views ----------------------------------------------------------------------------------


class DictView(TraceObject):
    """``d.keys()``, ``d.values()`` or ``d.items()``: a live view of dict ``d``."""

    __slots__ = ("d", "kind")
    __hash__ = None  # type: ignore[assignment]  # unhashable, as Python's sets and views
    pure_compare = True

    def __init__(self, d: dict[Value, Value], kind: str) -> None:
        self.d = d
        self.kind = kind

    @property
    def type_name(self) -> str:  # type: ignore[override]  # a view is named by its kind
        return f"dict_{self.kind}"

    def iterate(self, ctx: Ctx) -> Iterator[Value]:
        d = self.d
        if self.kind == "keys":
            return iter(d)
        return iter(d.values()) if self.kind == "values" else iter(d.items())

    def length(self, ctx: Ctx) -> int:
        return len(self.d)

    def truth(self, ctx: Ctx) -> bool:
        return bool(self.d)

    def contains(self, ctx: Ctx, item: Value) -> bool:
        if self.kind == "keys":
            return ops.hashable(ctx, item) in self.d
        if self.kind == "items":
            if type(item) is not tuple or len(item) != 2:
                return False
            got = self.d.get(ops.hashable(ctx, item[0]), _ABSENT)
            return got is not _ABSENT and ops.equal(ctx, got, item[1])
        return ops.contains(ctx, list(self.d.values()), item)

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        fn = _OPERATORS.get(op)
        if self.kind == "values" or fn is None:
            return NotImplemented
        mine, theirs = elements(ctx, self), elements(ctx, other)  # (any iterable, as in Python)
        ctx.alloc(64 * (len(mine) + len(theirs)))
        return KlrSet(fn(theirs, mine) if reflected else fn(mine, theirs))

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        if self.kind == "values" or not _set_like(other):
            return super().compare(ctx, op, other, reflected)
        return _set_compare(op, elements(ctx, self), elements(ctx, other))

    def repr_parts(self, ctx: Ctx) -> tuple[str, list[tuple[str, Value]], str]:
        items = list(self.iterate(ctx))
        ctx.alloc(8 * len(items))
        return f"{self.type_name}([", [("", x) for x in items], "])"

    def __repr__(self) -> str:
        return f"<{type_name(self)}>"

_MUTATORS = frozenset(("add", "remove", "discard", "pop", "clear", "update", "intersection_update",
                       "difference_update", "symmetric_difference_update"))
"""The set methods that change their set: a loop template's probe may not call them."""
