"""``str.format`` and ``str.format_map``, written by klr over klr values.

Python's own formatter resolves ``{0.attr[key]}`` by walking attributes and items of host
objects; here a field name resolves through klr's attribute and item protocol (the caller's
``getattr_``, ``ops.getitem``), so ``'{0.__init__}'.format(f)`` fails exactly as
``f.__init__`` does. Conversions and format specs are formatting.py's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.tracer import ops, show
from klr.tracer.formatting import Out, format_value, number, to_ascii
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["str_format"]

GetAttr = Callable[["Ctx", Value, str], Value]

class _Fields:
    """The arguments of one ``str.format`` call and its automatic field numbering."""

    __slots__ = ("args", "auto", "getattr", "kwargs", "mapping", "what")

    def __init__(self, what: str, args: tuple[Value, ...], kwargs: dict[str, Value] | None,
                 mapping: Value, getattr_: GetAttr) -> None:
        self.what = what
        self.getattr = getattr_
        self.args = args
        self.kwargs = kwargs
        self.mapping = mapping
        self.auto: int | None = 0     # next automatic index; None once manual numbering is used


def str_format(ctx: Ctx, template: str, args: tuple[Value, ...], kwargs: dict[str, Value] | None,
               mapping: Value = None, what: str = "str.format()", *, getattr_: GetAttr) -> str:
    """``template.format(*args, **kwargs)``, or ``template.format_map(mapping)``; a field's
    ``.attr`` is ``getattr_(ctx, value, attr)`` (klr's attribute protocol, pymethods.py)."""
    out = Out(ctx)
    _expand(ctx, template, _Fields(what, args, kwargs, mapping, getattr_), out, 0)
    return out.text()


def _expand(ctx: Ctx, template: str, fields: _Fields, out: Out, depth: int) -> None:
    what = fields.what
    i, n = 0, len(template)
    while i < n:
        j = _next_brace(template, i)
        if j > i:
            out.put(template[i:j])
        if j == n:
            return
        if template[j] == "}":
            if template.startswith("}", j + 1):
                out.put("}")
                i = j + 2
                continue
            raise ctx.error(f"{what}: single '}}' encountered in format string")
        if template.startswith("{", j + 1):
            out.put("{")
            i = j + 2
            continue
        k = _closing(template, j + 1)
        if k < 0:
            raise ctx.error(f"{what}: expected '}}' before end of string")
        _field(ctx, template[j + 1:k], fields, out, depth)
        i = k + 1


def _next_brace(s: str, i: int) -> int:
    a, b = s.find("{", i), s.find("}", i)
    if a < 0:
        return b if b >= 0 else len(s)
    return a if b < 0 else min(a, b)


def _closing(s: str, i: int) -> int:
    """The index of the ``}`` closing a field whose text starts at ``i`` (its spec may hold
    nested fields), or -1."""
    level = 1
    while i < len(s):
        c = s[i]
        if c == "[" and level == 1:
            close = s.find("]", i)
            if close < 0:
                return -1
            i = close
        elif c == "{":
            level += 1
        elif c == "}":
            level -= 1
            if level == 0:
                return i
        i += 1
    return -1


def _split_field(ctx: Ctx, text: str, what: str) -> tuple[str, str | None, str]:
    """(field name, conversion, spec) of a replacement field's text."""
    i = 0
    while i < len(text) and text[i] not in "!:":
        if text[i] == "[":
            close = text.find("]", i)
            i = len(text) if close < 0 else close
        i += 1
    name = text[:i]
    conv: str | None = None
    if i < len(text) and text[i] == "!":
        if i + 1 >= len(text):
            raise ctx.error(f"{what}: end of string while looking for conversion specifier")
        conv = text[i + 1]
        i += 2
        if i < len(text) and text[i] != ":":
            raise ctx.error(f"{what}: expected ':' after conversion specifier")
    spec = text[i + 1:] if i < len(text) else ""
    return name, conv, spec


def _field(ctx: Ctx, text: str, fields: _Fields, out: Out, depth: int) -> None:
    what = fields.what
    if depth >= 2:
        raise ctx.error(f"{what}: max string recursion exceeded")
    name, conv, spec = _split_field(ctx, text, what)
    v = _lookup(ctx, name, fields)
    if conv is not None:
        if conv == "r":
            v = show.to_repr(ctx, v)
        elif conv == "s":
            v = show.to_str(ctx, v)
        elif conv == "a":
            v = to_ascii(ctx, v)
        else:
            raise ctx.error(f"{what}: unknown conversion specifier {show.describe(conv)}")
    if "{" in spec:
        inner = Out(ctx)
        _expand(ctx, spec, fields, inner, depth + 1)
        spec = inner.text()
    out.put(format_value(ctx, v, spec, what))


_FIRST = r"[^.\[]*"  # compiled on first use (re keeps it), so that importing compiles nothing


def _lookup(ctx: Ctx, name: str, fields: _Fields) -> Value:
    """The value a field name denotes: an argument, then ``.attr`` and ``[key]`` steps
    through klr's attribute and item protocol."""
    what = fields.what
    first = re.match(_FIRST, name)
    head = first.group() if first is not None else ""
    rest = name[len(head):]
    if head == "":
        if fields.auto is None:
            raise ctx.error(f"{what}: cannot switch from manual field specification to automatic "
                            "field numbering")
        index: int | None = fields.auto
        fields.auto += 1
    elif head.isdigit():
        if fields.auto:
            raise ctx.error(f"{what}: cannot switch from automatic field numbering to manual field "
                            "specification")
        fields.auto = None
        index = number(head)
    else:
        index = None
    if index is not None:
        if fields.mapping is not None or index >= len(fields.args):
            raise ctx.error(f"{what}: replacement index {index} out of range for positional args tuple")
        v = fields.args[index]
    elif fields.kwargs is not None:
        if head not in fields.kwargs:
            raise ctx.error(f"{what}: no argument named {show.describe(head)}")
        v = fields.kwargs[head]
    else:
        v = ops.getitem(ctx, fields.mapping, head)
    while rest:
        if rest[0] == ".":
            m = re.compile(_FIRST).match(rest, 1)
            attr = m.group() if m is not None else ""
            if not attr:
                raise ctx.error(f"{what}: empty attribute in format string")
            v = fields.getattr(ctx, v, attr)
            rest = rest[1 + len(attr):]
        else:  # "["
            close = rest.find("]")
            assert close >= 0, "the field scanner stops a name at an unclosed '['"
            key_text = rest[1:close]
            if not key_text:
                raise ctx.error(f"{what}: empty attribute in format string")
            key: Value = number(key_text) if key_text.isdigit() else key_text
            v = ops.getitem(ctx, v, key)
            rest = rest[close + 1:]
            if rest and rest[0] not in ".[":
                raise ctx.error(f"{what}: only '.' or '[' may follow ']' in format field specifier")
    return v
