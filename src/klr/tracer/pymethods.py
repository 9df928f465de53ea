"""Attributes and methods of plain values (``xs.append``, ``d.items``, ``s.join``...).

Only the names listed here exist. A method is either a host method on the allow-list
(host.py: argument types checked and its cost charged before Python runs it) or klr code:
the methods that iterate an argument, compare elements or format (``list.extend``,
``list.index``, ``list.sort``, ``dict.update``, ``str.join``, ``str.format``...), and the dict
views. Attributes are plain values (``slice.start``, ``int.real``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.tracer import host, ops, show
from klr.tracer.host import ANY, INT, KEY, NONE, OPT_INT, STR, STR_TUPLE, Arg, HostFn
from klr.tracer.registry import method
from klr.tracer.sets import DictView
from klr.tracer.strformat import str_format
from klr.tracer.templates import forbid
from klr.tracer.values import TraceObject, Value, type_name, type_name_of

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["getattr_", "python_attr", "HostMethod", "ATTRIBUTES", "surface"]


class HostMethod(TraceObject):
    """A host method bound to its plain value (``s.zfill``)."""

    __slots__ = ("entry", "obj")
    type_name = "builtin_method"

    def __init__(self, obj: Value, entry: HostFn) -> None:
        self.obj = obj
        self.entry = entry

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        return host.call(ctx, self.entry, (self.obj, *args), kwargs)

    def __repr__(self) -> str:
        return f"<built-in method {self.entry.name.rsplit('.', 1)[-1]} of {type_name(self.obj)} object>"


_HOST: dict[tuple[type, str], HostFn] = {}
_KLR: dict[tuple[type, str], Callable[..., Value]] = {}

ATTRIBUTES: dict[type, frozenset[str]] = {
    slice: frozenset({"start", "stop", "step"}),
    range: frozenset({"start", "stop", "step"}),
    int: frozenset({"real", "imag", "numerator", "denominator"}),
    float: frozenset({"real", "imag"}),
}


def getattr_(ctx: Ctx, v: Value, name: str) -> Value:
    """``v.name`` for any traced value: a TraceObject's attribute, or one listed here."""
    if isinstance(v, TraceObject):
        return v.getattr(ctx, name)
    return python_attr(ctx, v, name)


def python_attr(ctx: Ctx, v: Value, name: str) -> Value:
    """``v.name`` for a plain value."""
    t = type(v)
    base = int if t is bool else t
    if ctx.template is not None and name in _MUTATORS.get(base, ()):
        raise forbid(f"{type_name(v)}.{name}")
    entry = _HOST.get((base, name))
    if entry is not None:
        return HostMethod(v, entry)
    impl = _KLR.get((base, name))
    if impl is not None:
        return method(f"{type_name(v)}.{name}", impl, v)
    if name in ATTRIBUTES.get(base, ()):
        return getattr(v, name)
    raise ctx.error(f"'{type_name(v)}' object has no attribute '{name}'", python="AttributeError")


_MUTATORS: dict[type, frozenset[str]] = {
    list: frozenset(("append", "insert", "pop", "reverse", "clear", "extend", "remove", "sort")),
    dict: frozenset(("pop", "setdefault", "popitem", "clear", "update")),
}
"""The methods that change their object: a loop template's probe may not call them."""


def surface() -> list[str]:
    """Every attribute and method of plain values, one line each: ``str.zfill: host``,
    ``list.index: klr``, ``slice.start: attribute`` (the golden allow-list lists them)."""
    lines = [f"{type_name_of(t)}.{n}: host" for t, n in _HOST]
    lines += [f"{type_name_of(t)}.{n}: klr" for t, n in _KLR]
    lines += [f"{type_name_of(t)}.{n}: attribute" for t, names in ATTRIBUTES.items() for n in names]
    return sorted(lines)


def _method(t: type, name: str, args: tuple[Arg, ...], alloc: Callable[..., int],
            steps: Callable[..., int] = host._no_cost) -> None:
    self_arg = Arg("self", (t,))
    _HOST[(t, name)] = host.host(f"{type_name_of(t)}.{name}", getattr(t, name), (self_arg, *args),
                                 alloc, steps)


def _klr(t: type, name: str) -> Callable[[Callable[..., Value]], Callable[..., Value]]:
    def register(impl: Callable[..., Value]) -> Callable[..., Value]:
        _KLR[(t, name)] = impl
        return impl
    return register


# --- costs -------------------------------------------------------------------------------------


def _nothing(*args: Value) -> int:
    """nothing"""
    return 0


def _one_ref(*args: Value) -> int:
    """one reference"""
    return 8


def _copy(s: str, *args: Value) -> int:
    """a copy of the string"""
    return ops.str_bytes(s)


def _recased(s: str, *args: Value) -> int:
    """three times the string (a case mapping may expand a character into three)"""
    return 3 * ops.str_bytes(s)


def _padded(s: str, width: int, fill: str = " ") -> int:
    """max(len(self), width) characters"""
    return max(len(s), width) * (1 if s.isascii() and fill.isascii() else 4)


def _pieces(s: str, sep: str | None = None, maxsplit: int = -1) -> int:
    """the string plus a string object per piece"""
    count = len(s) // 2 + 1 if not sep else s.count(sep) + 1
    if 0 <= maxsplit < count:
        count = maxsplit + 1
    return ops.str_bytes(s) + 64 * count


def _lines(s: str, keepends: bool = False) -> int:
    """the string plus a string object per line"""
    return ops.str_bytes(s) + 64 * (len(s) + 1)


def _three(s: str, sep: str) -> int:
    """the string plus three string objects"""
    return ops.str_bytes(s) + 192


def _replaced(s: str, old: str, new: str, count: int = -1) -> int:
    """the string with every replaced occurrence grown to len(new)"""
    hits = len(s) + 1 if old == "" else s.count(old)
    if 0 <= count < hits:
        hits = count
    return ops.str_bytes(s, new) + hits * max(0, len(new) - len(old)) * (1 if new.isascii() else 4)


def _search(s: str, sub: Value = "", *args: Value) -> int:
    """len(self) * min(len(sub), 100) / 4096 (the worst case of Python's substring search)"""
    n = max(len(x) for x in sub) if type(sub) is tuple and sub else len(sub) if type(sub) is str else 1
    return len(s) * min(n, 100) >> 12


def _shift(xs: list[Value], *args: Value) -> int:
    """len(self) / 4096 (moving the elements after the position)"""
    return len(xs) >> 12


def _list_copy(xs: list[Value]) -> int:
    """8 bytes per element"""
    return 8 * len(xs)


def _dict_copy(d: dict[Value, Value]) -> int:
    """64 bytes per entry"""
    return 64 * len(d)


# --- str ---------------------------------------------------------------------------------------

for _name in ("upper", "lower", "title", "capitalize"):
    _method(str, _name, (), _recased)
for _name in ("isdigit", "isalpha", "isalnum"):
    _method(str, _name, (), _nothing)
for _name in ("strip", "lstrip", "rstrip"):
    _method(str, _name, (Arg("chars", (str, NONE), optional=True),), _copy)
for _name in ("split", "rsplit"):
    _method(str, _name, (Arg("sep", (str, NONE), optional=True, kind="any"),
                         Arg("maxsplit", INT, optional=True, kind="any")), _pieces)
_method(str, "splitlines", (Arg("keepends", (bool, int), optional=True, kind="any"),), _lines)
for _name in ("partition", "rpartition"):
    _method(str, _name, (Arg("sep", STR),), _three)
for _name in ("removeprefix", "removesuffix"):
    _method(str, _name, (Arg("affix", STR),), _copy)
for _name in ("zfill",):
    _method(str, _name, (Arg("width", INT),), _padded)
for _name in ("ljust", "rjust", "center"):
    _method(str, _name, (Arg("width", INT), Arg("fillchar", STR, optional=True)), _padded)
_method(str, "replace", (Arg("old", STR), Arg("new", STR), Arg("count", INT, optional=True)), _replaced)
for _name in ("find", "rfind", "index", "count"):
    _method(str, _name, (Arg("sub", STR), Arg("start", OPT_INT, optional=True),
                         Arg("end", OPT_INT, optional=True)), _nothing, _search)
for _name in ("startswith", "endswith"):
    _method(str, _name, (Arg("prefix", (str, STR_TUPLE)), Arg("start", OPT_INT, optional=True),
                         Arg("end", OPT_INT, optional=True)), _nothing, _search)


@_klr(str, "join")
def _join(ctx: Ctx, sep: str, iterable: Value, /) -> str:
    parts = ops.materialise(ctx, iterable, "str.join")
    for i, p in enumerate(parts):
        if type(p) is not str:
            raise ctx.error(f"str.join(): sequence item {i}: expected str instance, {type_name(p)} found",
                            python="TypeError")
    ctx.alloc(ops.str_bytes(sep) * max(0, len(parts) - 1) + ops.str_bytes(*parts))
    return sep.join(parts)


@_klr(str, "format")
def _format(ctx: Ctx, template: str, /, *args: Value, **kwargs: Value) -> str:
    return str_format(ctx, template, args, kwargs, getattr_=getattr_)


@_klr(str, "format_map")
def _format_map(ctx: Ctx, template: str, mapping: Value, /) -> str:
    return str_format(ctx, template, (), None, mapping, what="str.format_map()", getattr_=getattr_)


# --- list --------------------------------------------------------------------------------------

_method(list, "append", (Arg("object", (ANY,)),), _one_ref)
_method(list, "insert", (Arg("index", INT), Arg("object", (ANY,))), _one_ref, _shift)
_method(list, "pop", (Arg("index", INT, optional=True),), _nothing, _shift)
_method(list, "reverse", (), _nothing, _shift)
_method(list, "copy", (), _list_copy)
_method(list, "clear", (), _nothing)


@_klr(list, "extend")
def _extend(ctx: Ctx, xs: list[Value], iterable: Value, /) -> None:
    items = ops.materialise(ctx, iterable, "list.extend")
    xs.extend(items)


def _position(ctx: Ctx, xs: list[Value] | tuple[Value, ...], x: Value, start: int, stop: int | None) -> int:
    n = len(xs)
    lo, hi, _ = slice(start, stop).indices(n)
    ctx.spend((hi - lo) >> 6)
    for i in range(lo, hi):
        if ops.equal(ctx, xs[i], x):
            return i
    return -1


def _sequence_index(kind: str) -> Callable[..., int]:
    def index(ctx: Ctx, xs: list[Value] | tuple[Value, ...], x: Value, start: Value = 0,
              stop: Value = None, /) -> int:
        for v in (start, stop):
            if v is not None and type(v) not in (int, bool):
                raise ctx.error(f"{kind}.index(): slice indices must be integers, not {type_name(v)}",
                                python="TypeError")
        i = _position(ctx, xs, x, start, stop)
        if i < 0:
            raise ctx.error(f"{kind}.index(): {show.describe(x)} is not in the {kind}", python="ValueError")
        return i
    return index


def _sequence_count(ctx: Ctx, xs: list[Value] | tuple[Value, ...], x: Value, /) -> int:
    ctx.spend(len(xs) >> 6)
    return sum(1 for y in xs if ops.equal(ctx, y, x))


@_klr(list, "remove")
def _remove(ctx: Ctx, xs: list[Value], x: Value, /) -> None:
    i = _position(ctx, xs, x, 0, None)
    if i < 0:
        raise ctx.error(f"list.remove(): {show.describe(x)} is not in the list", python="ValueError")
    del xs[i]


@_klr(list, "sort")
def _sort(ctx: Ctx, xs: list[Value], /, *, key: Value = None, reverse: Value = False) -> None:
    xs[:] = ops.sort_values(ctx, xs, key, ops.truth(ctx, reverse))


for _t, _kind in ((list, "list"), (tuple, "tuple")):
    _KLR[(_t, "index")] = _sequence_index(_kind)
    _KLR[(_t, "count")] = _sequence_count


# --- dict --------------------------------------------------------------------------------------

_method(dict, "get", (Arg("key", (KEY,)), Arg("default", (ANY,), optional=True)), _nothing)
_method(dict, "pop", (Arg("key", (KEY,)), Arg("default", (ANY,), optional=True)), _nothing)
_method(dict, "setdefault", (Arg("key", (KEY,)), Arg("default", (ANY,), optional=True)), _one_ref)
_method(dict, "popitem", (), _nothing)
_method(dict, "copy", (), _dict_copy)
_method(dict, "clear", (), _nothing)


def _view(kind: str) -> Callable[..., Value]:
    def view(ctx: Ctx, d: dict[Value, Value], /) -> Value:
        return DictView(d, kind)
    return view


for _kind in ("keys", "values", "items"):
    _KLR[(dict, _kind)] = _view(_kind)


@_klr(dict, "update")
def _update(ctx: Ctx, d: dict[Value, Value], other: Value = (), /, **kwargs: Value) -> None:
    for k, v in pairs(ctx, other, "dict.update"):
        d[k] = v
    d.update(kwargs)


def pairs(ctx: Ctx, v: Value, what: str) -> list[tuple[Value, Value]]:
    """The (key, value) pairs of a dict, or of an iterable of pairs, keys checked."""
    if type(v) is dict:
        ctx.alloc(64 * len(v))
        return list(v.items())
    out = []
    for i, item in enumerate(ops.materialise(ctx, v, what)):
        pair = item if type(item) in (tuple, list) else ops.materialise(ctx, item, what)
        if len(pair) != 2:
            raise ctx.error(f"{what}(): element {i} has {len(pair)} items, 2 are required",
                            python="ValueError")
        out.append((ops.hashable(ctx, pair[0]), pair[1]))
    ctx.alloc(64 * len(out))
    return out


# --- numbers and ranges ------------------------------------------------------------------------

_method(int, "bit_length", (), _nothing)
_method(float, "is_integer", (), _nothing)
_method(range, "index", (Arg("value", INT),), _nothing)
_method(range, "count", (Arg("value", INT),), _nothing)
