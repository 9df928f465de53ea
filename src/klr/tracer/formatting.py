"""String formatting, written by klr over klr values: ``format(x, spec)`` (and the f-string
``{x:spec}``, which gather turns into it), ``str.format``/``str.format_map`` and ``str % args``.

Python's own formatter resolves ``{0.attr[key]}`` by walking attributes and items of host
objects, and pads to any width it is asked for; here:

* a field name resolves through klr's attribute and item protocol (``ops.getattr_``,
  ``ops.getitem``), so ``'{0.__init__}'.format(f)`` fails exactly as ``f.__init__`` does;
* conversions ``!r``/``!s``/``!a`` (and ``%r``/``%s``/``%a``) are klr's ``repr``/``str``,
  which honour user ``__repr__``/``__str__``; a user ``__format__`` is called with the spec;
* a format spec is parsed by klr and its width and precision charged to the memory budget
  before any text is built; only then is Python's ``format`` applied, and only to an
  ``int``, ``float``, ``bool`` or ``str``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from klr.tracer import ops, show
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["format_value", "str_format", "percent", "to_ascii"]

_SPEC = re.compile(r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?0?(?P<width>\d*)"
                   r"(?P<grouping>[,_])?(?:\.(?P<precision>\d+))?(?P<type>[bcdeEfFgGnosxX%])?\Z", re.S)
_FORMATTABLE = (int, float, bool, str)
_HUGE = 10 ** 18
_FLOAT_DIGITS = 330
"""Characters of a float in fixed notation besides its precision (1e308 has 309 digits)."""


def _number(text: str | None, default: int | None = None) -> int | None:
    """A width or precision as written; absurdly long ones read as huge (then charged)."""
    if not text:
        return default
    return int(text) if len(text) <= 18 else _HUGE


def to_ascii(ctx: Ctx, v: Value) -> str:
    """``ascii(v)``: ``repr(v)`` with non-ASCII characters escaped."""
    text = show.to_repr(ctx, v)
    if not text.isascii():
        ctx.alloc(len(text) * 10)  # each character may become \U0001f600
    return text.encode("ascii", "backslashreplace").decode("ascii")


# --- format(value, spec) ---------------------------------------------------------------------


def format_value(ctx: Ctx, v: Value, spec: str, what: str = "format()") -> str:
    """``format(v, spec)``."""
    from klr.tracer.objects import EnumMember, Instance

    if isinstance(v, EnumMember) and v.cls.int_like:
        v = v.value
    if isinstance(v, Instance):
        custom = v.user_format(ctx, spec)
        if custom is not None:
            return custom
    if type(v) not in _FORMATTABLE:
        if spec:
            raise ctx.error(f"{what}: unsupported format string passed to {type_name(v)}.__format__")
        return show.to_str(ctx, v)
    if not spec:
        return ops.to_str(ctx, v)
    m = _SPEC.match(spec)
    if m is None:
        raise ctx.error(f"{what}: invalid format specifier {show.describe(spec)} for a value of type "
                        f"'{type_name(v)}'")
    ctx.alloc(_size(ctx, v, m) * (1 if spec.isascii() and (type(v) is not str or v.isascii()) else 4))
    try:
        return format(v, spec)
    except (ValueError, TypeError, OverflowError) as e:
        raise ctx.error(f"{what}: {_python_message(e)}") from None


def _size(ctx: Ctx, v: Value, m: re.Match[str]) -> int:
    """An upper bound of the characters ``format(v, spec)`` makes."""
    width = _number(m["width"], 0) or 0
    precision = _number(m["precision"])
    kind = m["type"]
    if type(v) is str:
        body = len(v) if precision is None else min(len(v), precision)
    elif type(v) is float or kind in ("e", "E", "f", "F", "g", "G", "%"):
        body = (6 if precision is None else precision) + _FLOAT_DIGITS
    else:
        bits = abs(v).bit_length()
        if kind in (None, "d", "n"):
            show.int_text(ctx, v)   # the digit limit, with klr's message
            body = bits * 30103 // 100000 + 2
        else:
            body = bits + 4
    if m["grouping"]:
        body += body // 3
    return max(width, body + 4)


def _python_message(e: BaseException) -> str:
    """Python's message of a formatting error about a plain value (it names no user value)."""
    text = str(e)
    return text[:1].lower() + text[1:] if text else type(e).__name__


# --- str.format ------------------------------------------------------------------------------


class _Out:
    """Text being built, charged to the memory budget as it grows."""

    __slots__ = ("ctx", "parts", "pending")

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.parts: list[str] = []
        self.pending = 0

    def put(self, s: str) -> None:
        self.parts.append(s)
        self.pending += len(s)
        if self.pending > 4096:
            self.ctx.alloc(self.pending)
            self.pending = 0

    def text(self) -> str:
        self.ctx.alloc(self.pending)
        return "".join(self.parts)


class _Fields:
    """The arguments of one ``str.format`` call and its automatic field numbering."""

    __slots__ = ("args", "auto", "kwargs", "mapping", "what")

    def __init__(self, what: str, args: tuple[Value, ...], kwargs: dict[str, Value] | None,
                 mapping: Value) -> None:
        self.what = what
        self.args = args
        self.kwargs = kwargs
        self.mapping = mapping
        self.auto: int | None = 0     # next automatic index; None once manual numbering is used


def str_format(ctx: Ctx, template: str, args: tuple[Value, ...], kwargs: dict[str, Value] | None,
               mapping: Value = None, what: str = "str.format()") -> str:
    """``template.format(*args, **kwargs)``, or ``template.format_map(mapping)``."""
    out = _Out(ctx)
    _expand(ctx, template, _Fields(what, args, kwargs, mapping), out, 0)
    return out.text()


def _expand(ctx: Ctx, template: str, fields: _Fields, out: _Out, depth: int) -> None:
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


def _field(ctx: Ctx, text: str, fields: _Fields, out: _Out, depth: int) -> None:
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
        inner = _Out(ctx)
        _expand(ctx, spec, fields, inner, depth + 1)
        spec = inner.text()
    out.put(format_value(ctx, v, spec, what))


_FIRST = re.compile(r"[^.\[]*")


def _lookup(ctx: Ctx, name: str, fields: _Fields) -> Value:
    """The value a field name denotes: an argument, then ``.attr`` and ``[key]`` steps
    through klr's attribute and item protocol."""
    what = fields.what
    first = _FIRST.match(name)
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
        index = _number(head)
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
            m = _FIRST.match(rest, 1)
            attr = m.group() if m is not None else ""
            if not attr:
                raise ctx.error(f"{what}: empty attribute in format string")
            v = ops.getattr_(ctx, v, attr)
            rest = rest[1 + len(attr):]
        else:  # "["
            close = rest.find("]")
            assert close >= 0, "the field scanner stops a name at an unclosed '['"
            key_text = rest[1:close]
            if not key_text:
                raise ctx.error(f"{what}: empty attribute in format string")
            key: Value = _number(key_text) if key_text.isdigit() else key_text
            v = ops.getitem(ctx, v, key)
            rest = rest[close + 1:]
            if rest and rest[0] not in ".[":
                raise ctx.error(f"{what}: only '.' or '[' may follow ']' in format field specifier")
    return v


# --- str % args --------------------------------------------------------------------------------

_CONVERSION = re.compile(r"(?:\((?P<key>[^)]*)\))?(?P<flags>[-+ #0]*)(?P<width>\*|\d+)?"
                         r"(?:\.(?P<precision>\*|\d*))?[hlL]?", re.S)


def percent(ctx: Ctx, template: str, args: Value) -> str:
    """``template % args``: printf-style formatting."""
    from klr.tracer.objects import EnumMember

    if isinstance(args, EnumMember) and args.cls.int_like:
        args = args.value
    items = list(args) if type(args) is tuple else [args]
    # Python takes anything subscriptable but a tuple or string as the mapping of %(key)s
    mapping = args if type(args) in (dict, list) or isinstance(args, TraceObject) else None
    out = _Out(ctx)
    used = 0
    i, n = 0, len(template)
    while i < n:
        j = template.find("%", i)
        if j < 0:
            j = n
        if j > i:
            out.put(template[i:j])
        if j == n:
            break
        m = _CONVERSION.match(template, j + 1)
        assert m is not None  # every part of the pattern is optional
        k = m.end()
        if k >= n:
            raise ctx.error("str %: incomplete format")
        kind = template[k]
        i = k + 1
        if kind == "%" and k == j + 1:
            out.put("%")
            continue
        if m["key"] is not None:
            if mapping is None:
                raise ctx.error("str %: format requires a mapping")
            value = ops.getitem(ctx, mapping, m["key"])
        width, used = _star(ctx, m["width"], items, used)
        precision, used = _star(ctx, m["precision"], items, used)
        if m["key"] is None:
            if used >= len(items):
                raise ctx.error("str %: not enough arguments for format string")
            value = items[used]
            used += 1
        out.put(_convert(ctx, kind, m["flags"], width, precision, value, k))
    if mapping is None and used < len(items):
        raise ctx.error("str %: not all arguments converted during string formatting")
    return out.text()


def _star(ctx: Ctx, text: str | None, items: list[Value], used: int) -> tuple[int | None, int]:
    if text != "*":
        return _number(text, 0 if text == "" else None), used
    if used >= len(items):
        raise ctx.error("str %: not enough arguments for format string")
    v = items[used]
    if type(v) is not int:
        raise ctx.error("str %: * wants int")
    return v, used + 1


def _convert(ctx: Ctx, kind: str, flags: str, width: int | None, precision: int | None, v: Value,
             at: int) -> str:
    """One ``%`` conversion of ``v``."""
    left = "-" in flags
    if kind in "sra":
        text = {"s": show.to_str, "r": show.to_repr, "a": to_ascii}[kind](ctx, v)
        if precision is not None:
            text = text[:precision]
        return _pad(ctx, "", text, width, left, False)
    if kind == "c":
        return _pad(ctx, "", _char(ctx, v), width, left, False)
    sign_of = "+" if "+" in flags else " " if " " in flags else ""
    if kind in "diuoxX":
        n = _integer(ctx, v, kind)
        if kind in "diu":
            digits = show.int_text(ctx, abs(n))
        else:
            ctx.alloc(n.bit_length() // 3 + 8)
            digits = format(abs(n), "o" if kind == "o" else kind)
        prefix = "0" + kind if "#" in flags and kind in "oxX" else ""
        if precision is not None and precision > len(digits):
            ctx.alloc(precision)
            digits = digits.zfill(precision)
        sign = "-" if n < 0 else sign_of
        return _pad(ctx, sign + prefix, digits, width, left, "0" in flags)
    if kind in "eEfFgG":
        x = _real(ctx, v)
        prec = 6 if precision is None else precision
        ctx.alloc(prec + _FLOAT_DIGITS)
        body = format(abs(x), f"{'#' if '#' in flags else ''}.{prec}{kind}")
        sign = "-" if x < 0 or (x == 0 and str(x).startswith("-")) else sign_of
        return _pad(ctx, sign, body, width, left, "0" in flags and body[:1].isdigit())
    raise ctx.error(f"str %: unsupported format character {show.describe(kind)} ({ord(kind):#x}) "
                    f"at index {at}")


def _pad(ctx: Ctx, head: str, body: str, width: int | None, left: bool, zeros: bool) -> str:
    size = len(head) + len(body)
    if width is None or width <= size:
        return head + body
    ctx.alloc(width)
    if left:
        return (head + body).ljust(width)
    if zeros:
        return head + body.rjust(width - len(head), "0")
    return (head + body).rjust(width)


def _char(ctx: Ctx, v: Value) -> str:
    if type(v) is str and len(v) == 1:
        return v
    if type(v) in (int, bool):
        if not 0 <= v < 0x110000:
            raise ctx.error("str %: %c arg not in range(0x110000)")
        return chr(v)
    raise ctx.error("str %: %c requires int or char")


def _integer(ctx: Ctx, v: Value, kind: str) -> int:
    from klr.tracer.objects import EnumMember

    if isinstance(v, EnumMember) and v.cls.int_like:
        v = v.value
    if type(v) in (int, bool):
        return int(v)
    if type(v) is float and kind in "diu":
        if v != v or v in (float("inf"), float("-inf")):
            raise ctx.error(f"str %: cannot convert float {v} to integer")
        return int(v)
    need = "a real number" if kind in "diu" else "an integer"
    raise ctx.error(f"str %: %{kind} format: {need} is required, not {type_name(v)}")


def _real(ctx: Ctx, v: Value) -> float:
    from klr.tracer.objects import EnumMember

    if isinstance(v, EnumMember) and v.cls.int_like:
        v = v.value
    if type(v) in (int, bool, float):
        try:
            return float(v)
        except OverflowError:
            raise ctx.error("str %: int too large to convert to float") from None
    raise ctx.error(f"str %: must be real number, not {type_name(v)}")
