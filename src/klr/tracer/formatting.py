"""String formatting, written by klr over klr values: ``format(x, spec)`` (and the f-string
``{x:spec}``, which gather turns into it) and ``str % args``; ``str.format`` is strformat.py's.

Python's own formatter pads to any width it is asked for and calls back into the values it
formats; here:

* conversions ``!r``/``!s``/``!a`` (and ``%r``/``%s``/``%a``) are klr's ``repr``/``str``,
  which honour user ``__repr__``/``__str__``; a user ``__format__`` is called with the spec;
* a format spec is parsed by klr and its width and precision charged to the memory budget
  before any text is built; only then is Python's ``format`` applied, and only to an
  ``int``, ``float``, ``bool`` or ``str``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from klr.tracer import show
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["format_value", "percent", "to_ascii", "number", "Out"]

# Patterns are compiled on first use (re keeps them), so that importing compiles nothing.
_SPEC = (r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?0?(?P<width>\d*)"
         r"(?P<grouping>[,_])?(?:\.(?P<precision>\d+))?(?P<type>[bcdeEfFgGnosxX%])?\Z")
_FORMATTABLE = (int, float, bool, str)
_HUGE = 10 ** 18
_FLOAT_DIGITS = 330
"""Characters of a float in fixed notation besides its precision (1e308 has 309 digits)."""


def number(text: str | None, default: int | None = None) -> int | None:
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
    if isinstance(v, TraceObject):
        number = v.int_value()
        if number is not None:
            v = number
        else:
            custom = v.user_format(ctx, spec)
            if custom is not None:
                return custom
    if type(v) not in _FORMATTABLE:
        if spec:
            raise ctx.error(f"{what}: unsupported format string passed to {type_name(v)}.__format__")
        return show.to_str(ctx, v)
    if not spec:
        return show.to_str(ctx, v)
    m = re.match(_SPEC, spec, re.S)
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
    width = number(m["width"], 0) or 0
    precision = number(m["precision"])
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


# --- text built piece by piece ---------------------------------------------------------


class Out:
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


# --- str % args --------------------------------------------------------------------------------

_CONVERSION = (r"(?:\((?P<key>[^)]*)\))?(?P<flags>[-+ #0]*)(?P<width>\*|\d+)?"
               r"(?:\.(?P<precision>\*|\d*))?[hlL]?")


def percent(ctx: Ctx, template: str, args: Value) -> str:
    """``template % args``: printf-style formatting."""
    if isinstance(args, TraceObject) and args.int_value() is not None:
        args = args.int_value()
    items = list(args) if type(args) is tuple else [args]
    # Python takes anything subscriptable but a tuple or string as the mapping of %(key)s
    mapping = args if type(args) in (dict, list) or isinstance(args, TraceObject) else None
    out = Out(ctx)
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
        m = re.compile(_CONVERSION, re.S).match(template, j + 1)
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
            value = _mapped(ctx, mapping, m["key"])
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


def _mapped(ctx: Ctx, mapping: Value, key: str) -> Value:
    """``mapping[key]`` for ``%(key)s``, as ``ops.getitem`` does it for a string key."""
    if isinstance(mapping, TraceObject):
        return mapping.getitem(ctx, key)
    if type(mapping) is dict:
        if key not in mapping:
            raise ctx.error(f"key {show.describe(key)} is not in the dict")
        return mapping[key]
    raise ctx.error(f"{type_name(mapping)} indices must be integers or slices, not str")


def _star(ctx: Ctx, text: str | None, items: list[Value], used: int) -> tuple[int | None, int]:
    if text != "*":
        return number(text, 0 if text == "" else None), used
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
    if isinstance(v, TraceObject) and v.int_value() is not None:
        v = v.int_value()
    if type(v) in (int, bool):
        return int(v)
    if type(v) is float and kind in "diu":
        if v != v or v in (float("inf"), float("-inf")):
            raise ctx.error(f"str %: cannot convert float {v} to integer")
        return int(v)
    need = "a real number" if kind in "diu" else "an integer"
    raise ctx.error(f"str %: %{kind} format: {need} is required, not {type_name(v)}")


def _real(ctx: Ctx, v: Value) -> float:
    if isinstance(v, TraceObject) and v.int_value() is not None:
        v = v.int_value()
    if type(v) in (int, bool, float):
        try:
            return float(v)
        except OverflowError:
            raise ctx.error("str %: int too large to convert to float") from None
    raise ctx.error(f"str %: must be real number, not {type_name(v)}")
