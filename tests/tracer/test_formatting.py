"""klr's own formatting (``format``, f-strings, ``str.format``, ``%``) agrees with Python's on
plain values, honours user ``__repr__``/``__str__``/``__format__``, and reports bad formats
as positioned errors."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klr.errors import KlrError, TraceError
from klr.tracer.context import Ctx
from klr.tracer.formatting import format_value, percent
from klr.tracer.pymethods import getattr_
from klr.tracer.strformat import str_format
from tests.tracer.util import error_of, run_src, where

VALUES = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True),
                   st.booleans(), st.text(max_size=8))
SPECS = st.from_regex(re.compile(r"(.?[<>=^])?[-+ ]?z?#?0?\d{0,2}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?",
                                 re.ASCII), fullmatch=True)


def _python(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except (ValueError, TypeError, OverflowError, KeyError, IndexError):
        return "error", None


def _klr(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except KlrError:
        return "error", None


@settings(max_examples=400, derandomize=True, deadline=None)
@given(VALUES, SPECS)
def test_format_specs_agree_with_python(value: Any, spec: str) -> None:
    ctx = Ctx()
    assert _klr(lambda: format_value(ctx, value, spec)) == _python(lambda: format(value, spec))


PERCENT = st.from_regex(re.compile(r"%(\(k\))?[-+ #0]{0,3}(\d{1,2}|\*)?(\.(\d{1,2}|\*)?)?[hlL]?"
                                   r"[diouxXeEfFgGcrsa%]", re.ASCII), fullmatch=True)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(PERCENT, st.lists(st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6), st.booleans(),
                                   st.text(max_size=3)), max_size=3))
def test_percent_formatting_agrees_with_python(template: str, args: list[Any]) -> None:
    ctx = Ctx()
    operand: Any = {"k": args[0]} if "(k)" in template and args else tuple(args)
    if "(k)" in template and "*" in template:
        return  # Python wants a mapping and positional widths at once: an error either way
    assert _klr(lambda: percent(ctx, template, operand)) == _python(lambda: template % operand)


@pytest.mark.parametrize("template, args, kwargs", [
    ("{} {} {}", (1, "a", 2.5), {}), ("{0}{1}{0}", ("x", "y"), {}), ("{a} {b!r}", (), {"a": 1, "b": "q"}),
    ("{0[1]} {1[k]} {2[0][1]}", ([1, 2], {"k": 3}, [[3, 4]]), {}), ("{{}} {0:>{1}}", ("x", 5), {}),
    ("{:*^9.3f}", (3.14159,), {}), ("{0!s:>6}|{0!r:<6}|{0!a}", ("é",), {}), ("{}", ((1, [2]),), {}),
    ("{x[a]}", (), {"x": {"a": "b"}}), ("{:,}", (1234567,), {}), ("{:#x}", (255,), {}),
])
def test_str_format_agrees_with_python(template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    assert str_format(Ctx(), template, args, kwargs, getattr_=getattr_) == template.format(*args, **kwargs)


@pytest.mark.parametrize("template, message", [
    ("{", "expected '}' before end of string"),
    ("}", "single '}' encountered in format string"),
    ("{0} {}", "cannot switch from manual field specification to automatic field numbering"),
    ("{} {0}", "cannot switch from automatic field numbering to manual field specification"),
    ("{5}", "replacement index 5 out of range for positional args tuple"),
    ("{nope}", "no argument named 'nope'"),
    ("{0!x}", "unknown conversion specifier 'x'"),
    ("{0!r x}", "expected ':' after conversion specifier"),
    ("{0.}", "empty attribute in format string"),
    ("{0[}", "expected '}' before end of string"),
    ("{0[0]x}", "only '.' or '[' may follow ']' in format field specifier"),
    ("{0:{1:{2}}}", "max string recursion exceeded"),
    ("{0:q}", "invalid format specifier 'q' for a value of type 'str'"),
    ("{0:=5}", "'=' alignment not allowed in string format specifier"),
])
def test_str_format_errors(tmp_path: Path, template: str, message: str) -> None:
    src = f"def kernel():\n    return {template!r}.format('ab', 1, 2)\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert (err.message, where(err)) == (f"str.format(): {message}", (2, 12))


@pytest.mark.parametrize("expr, message", [
    ("'%d' % 'x'", "str %: %d format: a real number is required, not str"),
    ("'%x' % 1.5", "str %: %x format: an integer is required, not float"),
    ("'%s %s' % (1,)", "str %: not enough arguments for format string"),
    ("'%s' % (1, 2)", "str %: not all arguments converted during string formatting"),
    ("'%(a)s' % 5", "str %: format requires a mapping"),
    ("'%z' % 5", "str %: unsupported format character 'z' (0x7a) at index 1"),
    ("'%' % ()", "str %: incomplete format"),
    ("'%c' % 10 ** 7", "str %: %c arg not in range(0x110000)"),
    ("'%*d' % ('a', 1)", "str %: * wants int"),
    ("format([1], '>3')", "format(): unsupported format string passed to list.__format__"),
    ("format(1, 5)", "format(): the format spec must be a string, not 'int'"),
    ("f'{10 ** 5000}'", "cannot convert an integer of more than 4300 digits to a string"),
    ("'{:d}'.format(10 ** 5000)", "cannot convert an integer of more than 4300 digits to a string"),
])
def test_formatting_errors(tmp_path: Path, expr: str, message: str) -> None:
    err = error_of(tmp_path, f"def kernel():\n    return {expr}\n", error=TraceError)
    assert (err.message, where(err)) == (message, (2, 12))


USER = """
class P:
    def __init__(self, x):
        self.x = x
    def __repr__(self):
        return f"P({self.x!r})"
    def __str__(self):
        return f"<{self.x}>"
    def __format__(self, spec):
        return f"P:{spec}"

class Q:
    pass

def kernel():
    p = P("a")
    return [f"{p}", f"{p!r}", f"{p!s}", f"{p:xy}", str(p), repr([p]), "{} {!r}".format(p, p),
            "%s %r" % (p, p), f"{[p, (p,)]}", format(Q(), ""), f"{Q()}"]
"""


def test_user_dunders_are_honoured_everywhere(tmp_path: Path) -> None:
    assert run_src(tmp_path, USER) == [
        "P:", "P('a')", "<a>", "P:xy", "<a>", "[P('a')]", "P: P('a')", "<a> P('a')", "[P('a'), (P('a'),)]",
        "<Q object>", "<Q object>"]


def test_a_user_dunder_must_return_a_string(tmp_path: Path) -> None:
    src = "class R:\n    def __repr__(self):\n        return 5\n\ndef kernel():\n    return repr(R())\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert (err.message, where(err)) == ("__repr__ must return a string, not 'int'", (6, 12))


def test_fstrings_and_format_of_plain_values(tmp_path: Path) -> None:
    src = ("def kernel():\n    x, s = 255, 'é'\n"
           "    return [f'{x:#06x}', f'{x!r:>5}', f'{s!a}', f'{3.14159:.2f}', f'{x:,}', f'{True}',\n"
           "            f'{None}',\n"
           "            format(True, '>5'), '%-4s|%04d|%+.1e' % ('a', 7, 12345.678), f'{[1, (2,)]!s}']\n")
    assert run_src(tmp_path, src) == ["0x00ff", "  255", "'\\xe9'", "3.14", "255", "True", "None", "    1",
                                      "a   |0007|+1.2e+04", "[1, (2,)]"]


def test_format_charges_its_width_first(tmp_path: Path) -> None:
    """``format`` builds nothing larger than its width and value need, and charges it."""
    with tempfile.TemporaryDirectory():
        assert run_src(tmp_path, "def kernel():\n    return len(f'{1:>1000000}')\n") == 1000000
