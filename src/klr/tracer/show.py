"""``repr`` and ``str`` of traced values, written by klr.

Python's own ``repr`` of a container would call ``repr`` of every element, recurse without a
bound and build strings of any size; here a ``Printer`` walks the value with an explicit
depth (``Limits.max_nesting``), prints a container that contains itself as ``[...]`` (as
Python does), charges the text to the trace's memory budget as it grows and the elements it
visits to the step budget, and honours user ``__repr__``/``__str__`` methods at every level.

A TraceObject prints as its ``to_repr(ctx)``/``to_str(ctx)`` when it defines them (user
instances), else as the items of its ``repr_parts(ctx)`` (sets, dict views, dataclasses), else
as its own ``__repr__``. Integers of more than ``INT_DIGITS`` decimal digits do not print
(Python's limit, which keeps conversion time linear).

``describe(v)`` is the short form error messages use: it never runs user code and is cut
at ``DESCRIBE_CHARS`` characters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["to_repr", "to_str", "describe", "int_text", "INT_DIGITS"]

INT_DIGITS = 4300
"""Most decimal digits of an integer that prints (Python's ``int_max_str_digits``)."""
_INT_BITS = 14_284
"""Integers below 2**_INT_BITS have at most INT_DIGITS digits."""
_INT_MAX = 10 ** INT_DIGITS
DESCRIBE_CHARS = 80
_CHUNK = 1 << 16
"""Characters (and elements) printed between two charges to the budgets."""

_SIMPLE = (type(None), bool, float, type(Ellipsis))
_BRACKETS: dict[type, tuple[str, str]] = {list: ("[", "]"), tuple: ("(", ")"), dict: ("{", "}")}


def int_text(ctx: Ctx, v: int) -> str:
    """``str(v)``, or an error for an integer too long to print."""
    if v.bit_length() > _INT_BITS and abs(v) >= _INT_MAX:
        raise ctx.error(f"cannot convert an integer of more than {INT_DIGITS} digits to a string")
    return str(int(v))


def str_repr(ctx: Ctx, v: str) -> str:
    """``repr(v)`` of a string, charged first: an escape such as ``\\x00`` or ``\\U0001f600``
    makes the text up to four (ASCII) or ten times longer than the string."""
    ctx.alloc(len(v) * (4 if v.isascii() else 10))
    return repr(v)


class Printer:
    """One ``repr``/``str`` walk (see the module docstring)."""

    __slots__ = ("active", "ctx", "limit", "out", "pending", "visits")

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.out: list[str] = []
        self.pending = 0          # characters not yet charged
        self.visits = 0           # elements not yet charged
        self.active: set[int] = set()   # ids of the containers being printed (cycles)
        self.limit = ctx.limits.max_nesting

    def text(self) -> str:
        self._charge()
        return "".join(self.out)

    def put(self, s: str) -> None:
        self.out.append(s)
        self.pending += len(s)
        if self.pending > _CHUNK:
            self._charge()

    def _charge(self) -> None:
        if self.pending or self.visits:
            self.ctx.alloc(self.pending)
            self.ctx.spend(self.visits)
            self.pending = self.visits = 0

    def value(self, v: Value, depth: int, as_str: bool = False) -> None:
        t = type(v)
        if t is str:
            self.put(v if as_str else str_repr(self.ctx, v))
            return
        if t is int:
            self.put(int_text(self.ctx, v))
            return
        if isinstance(v, _SIMPLE) or v is NotImplemented:
            self.put(repr(v))
            return
        self.visits += 1
        if self.visits > _CHUNK:
            self._charge()
        if isinstance(v, TraceObject):
            self._object(v, depth, as_str)
        elif t is list or t is tuple or t is dict:
            self._container(v, depth)
        elif t is range:
            step = "" if v.step == 1 else f", {int_text(self.ctx, v.step)}"
            self.put(f"range({int_text(self.ctx, v.start)}, {int_text(self.ctx, v.stop)}{step})")
        elif t is slice:
            self._items("slice(", [("", v.start), ("", v.stop), ("", v.step)], ")", depth)
        else:   # an iterator made by a builtin (never its address)
            self.put(f"<{type_name(v)} object>")

    def _object(self, v: TraceObject, depth: int, as_str: bool) -> None:
        hook = getattr(v, "to_str" if as_str else "to_repr", None)
        if hook is not None:
            self.put(hook(self.ctx))
            return
        parts = getattr(v, "repr_parts", None)
        got = parts(self.ctx) if parts is not None else None
        if got is None:
            self.put(repr(v))
            return
        head, items, tail = got
        self._guarded(v, depth, lambda: self._items(head, items, tail, depth))

    def _container(self, v: list[Value] | tuple[Value, ...] | dict[Value, Value], depth: int) -> None:
        if isinstance(v, dict):
            self._guarded(v, depth, lambda: self._dict(v, depth), "{...}")
        elif isinstance(v, list):
            self._guarded(v, depth, lambda: self._items("[", [("", x) for x in v], "]", depth), "[...]")
        elif len(v) == 1:
            self._items("(", [("", v[0])], ",)", depth)
        else:
            self._items("(", [("", x) for x in v], ")", depth)

    def _guarded(self, v: Value, depth: int, body: Callable[[], None], cycle: str = "...") -> None:
        if depth >= self.limit:
            raise self.ctx.limit(f"cannot print a value nested more than {self.limit} deep", "max_nesting")
        key = id(v)
        if key in self.active:
            self.put(cycle)
            return
        self.active.add(key)
        try:
            body()
        finally:
            self.active.discard(key)

    def _items(self, head: str, items: list[tuple[str, Value]], tail: str, depth: int) -> None:
        if depth >= self.limit:
            raise self.ctx.limit(f"cannot print a value nested more than {self.limit} deep", "max_nesting")
        self.put(head)
        for i, (label, x) in enumerate(items):
            if i:
                self.put(", ")
            if label:
                self.put(label)
            self.value(x, depth + 1)
        self.put(tail)

    def _dict(self, d: dict[Value, Value], depth: int) -> None:
        self.put("{")
        for i, (k, x) in enumerate(d.items()):
            if i:
                self.put(", ")
            self.value(k, depth + 1)
            self.put(": ")
            self.value(x, depth + 1)
        self.put("}")


def to_repr(ctx: Ctx, v: Value) -> str:
    """``repr(v)``."""
    t = type(v)
    if t is str:
        return str_repr(ctx, v)
    if t is int:
        return int_text(ctx, v)
    p = Printer(ctx)
    p.value(v, 0)
    return p.text()


def to_str(ctx: Ctx, v: Value) -> str:
    """``str(v)``: a string itself, a user object's ``__str__``, else ``repr(v)``."""
    t = type(v)
    if t is str:
        text: str = v
        return text
    if t is int:
        return int_text(ctx, v)
    p = Printer(ctx)
    p.value(v, 0, as_str=True)
    return p.text()


def describe(v: Value, limit: int = DESCRIBE_CHARS) -> str:
    """A short repr of ``v`` for an error message: no user code runs, at most ``limit``
    characters, nesting shown to a few levels."""
    out: list[str] = []
    budget = [limit + 1]

    def put(s: str) -> None:
        if budget[0] > 0:
            out.append(s[:budget[0]])
            budget[0] -= len(s)

    def walk(x: Value, depth: int) -> None:
        if budget[0] <= 0:
            return
        t = type(x)
        if t is str:
            put(repr(x[:limit]))
        elif t is int:
            put(str(x) if x.bit_length() < 256 else f"<int of {x.bit_length()} bits>")
        elif isinstance(x, _SIMPLE) or x is NotImplemented:
            put(repr(x))
        elif t in (list, tuple, dict):
            if depth > 3:
                put("...")
                return
            opening, closing = _BRACKETS[t]
            put(opening)
            for i, item in enumerate(x.items() if t is dict else x):
                if budget[0] <= 0:
                    break
                if i:
                    put(", ")
                if t is dict:
                    walk(item[0], depth + 1)
                    put(": ")
                    walk(item[1], depth + 1)
                else:
                    walk(item, depth + 1)
            put("," + closing if t is tuple and len(x) == 1 else closing)
        elif isinstance(x, TraceObject):
            put(repr(x))
        elif t is range or t is slice:
            put(f"{t.__name__}(...)")
        else:
            put(f"<{type_name(x)} object>")

    walk(v, 0)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit - 3] + "..."
