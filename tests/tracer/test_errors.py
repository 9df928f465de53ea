"""Trace errors: exact message, exact position, and the call chain of user helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from klr.diagnostics import render_error
from klr.errors import TraceError
from tests.tracer.util import error_of, where

F = "def f(a, b):\n    return a\n\n"
K = "def kernel():\n    "


@pytest.mark.parametrize(("source", "message", "at"), [
    (K + "x = 3\n    return x(1)\n", "'int' object is not callable", (3, 12)),
    (F + "def kernel():\n    return f(1, 2, 3)\n", "f() takes 2 positional arguments but 3 were given",
     (5, 12)),
    (F + "def kernel():\n    return f(1, c=2)\n", "f() got an unexpected keyword argument 'c'", (5, 12)),
    (F + "def kernel():\n    return f(1)\n", "f() missing required argument 'b'", (5, 12)),
    (F + "def kernel():\n    return f(1, a=2)\n", "f() got multiple values for argument 'a'", (5, 12)),
    (K + "assert 1 == 2, f'bad {1}'\n", "assertion failed: bad 1", (2, 5)),
    (K + "assert False\n", "assertion failed", (2, 5)),
    (K + "return 1 // 0\n", "division by zero", (2, 12)),
    (K + "return 5 % 0\n", "modulo by zero", (2, 12)),
    (K + "return (1, 2)[5]\n", "index 5 is out of range for a tuple of length 2", (2, 12)),
    (K + "xs = [1]\n    xs[3] = 0\n", "index 3 is out of range for a list of length 1", (3, 5)),
    (K + "return {'a': 1}['b']\n", "key 'b' is not in the dict", (2, 12)),
    (K + "return (1, 2)['x']\n", "tuple indices must be integers or slices, not str", (2, 12)),
    (K + "return 1 + 'a'\n", "unsupported operand types for +: 'int' and 'str'", (2, 12)),
    (K + "return 1 < 'a'\n", "'<' is not supported between 'int' and 'str'", (2, 12)),
    (K + "return -'a'\n", "bad operand type for unary -: 'str'", (2, 12)),
    (K + "return (1).foo\n", "'int' object has no attribute 'foo'", (2, 12)),
    (K + "t = (1,)\n    t.x = 2\n", "cannot set attribute 'x' of a 'tuple' value", (3, 5)),
    (K + "t = (1,)\n    t[0] = 2\n", "'tuple' object does not support item assignment", (3, 5)),
    (K + "a, b = (1, 2, 3)\n", "cannot unpack 3 values into 2 targets", (2, 5)),
    (K + "a, *b, c = (1,)\n", "cannot unpack 1 values into at least 2 targets", (2, 5)),
    (K + "x = y + 1\n    y = 2\n", "local variable 'y' is used before it is assigned", (2, 9)),
    (K + "for x in 5:\n        pass\n", "'int' object is not iterable", (2, 14)),
    (K + "return len(5)\n", "object of type 'int' has no len()", (2, 12)),
    (K + "return len()\n", "len() missing required argument 'x'", (2, 12)),
    (K + "return sorted([1], foo=2)\n", "sorted() got an unexpected keyword argument 'foo'", (2, 12)),
    (K + "return range(1.5)\n", "range() arguments must be integers, not 'float'", (2, 12)),
    (K + "return [].pop()\n", "list.pop(): pop from empty list", (2, 12)),
    ("import math\ndef kernel():\n    return math.ceil('a')\n",
     "math.ceil() argument 'x' must be int or float, not str", (3, 12)),
    ("import math\ndef kernel():\n    return math.nope\n", "module 'math' has no attribute 'nope'", (3, 12)),
    (K + "return {[1]: 2}\n", "unhashable type: 'list'", (2, 13)),
    (K + "return min([])\n", "min() of an empty sequence", (2, 12)),
    (K + "return print(*3)\n", "'int' object is not iterable", (2, 18)),
    (K + "return dict(**{1: 2})\n", "argument after ** must be a dict with string keys, not 'dict'",
     (2, 17)),
    (K + "with 3:\n        pass\n", "'int' object does not support the context manager protocol",
     (2, 10)),
    (K + "return 'abc'.nope()\n", "'str' object has no attribute 'nope'", (2, 12)),
    (K + "return ''.join([1])\n", "str.join(): sequence item 0: expected str instance, int found",
     (2, 12)),
])
def test_error_message_and_position(tmp_path: Path, source: str, message: str, at: tuple[int, int]) -> None:
    err = error_of(tmp_path, source, error=TraceError)
    assert err.message == message
    assert where(err) == at


def test_unknown_name(tmp_path: Path) -> None:
    # gather rejects unknown bare names, so build the AST directly
    from klr.pos import Pos
    from klr.python import ast as K
    from klr.tracer import run_python

    pos = Pos(2, 11, 2, 25, "k.py")
    body = (K.Stmt(K.Ret(K.Expr(K.Name("undefined_name"), pos)), Pos(2, 4, filename="k.py")),)
    fun = K.Fun("k.kernel", "k.py", 1, "def kernel():\n    return undefined_name\n", (), K.Args(), body)
    with pytest.raises(TraceError) as info:
        run_python(K.Kernel("k.kernel", (fun,)))
    assert info.value.message == "name 'undefined_name' is not defined"
    assert info.value.pos == pos
    assert info.value.source_line == "    return undefined_name"


def test_error_in_helper_notes_the_call_sites(tmp_path: Path) -> None:
    src = ("def inner(x):\n    return x.missing\n\n"
           "def middle(x):\n    return inner(x)\n\n"
           "def kernel():\n    y = 1\n    return middle(y)\n")
    err = error_of(tmp_path, src, error=TraceError)
    assert err.message == "'int' object has no attribute 'missing'"
    assert where(err) == (2, 12)
    assert [(msg, (p.line, p.column + 1)) for msg, p in err.notes] == [
        ("called from here", (5, 12)), ("called from here", (9, 12))]


def test_rendered_error_shows_the_source_line(tmp_path: Path) -> None:
    src = "def helper(x):\n    return x.missing\n\ndef kernel():\n    return helper(1)\n"
    err = error_of(tmp_path, src, error=TraceError)
    file = str(tmp_path / "kern.py")
    assert render_error(err) == (
        f"{file}:2:12: error: 'int' object has no attribute 'missing'\n"
        "    2 |     return x.missing\n"
        "      |            ^~~~~~~~~\n"
        f"{file}:5:12: note: called from here\n"
        "    5 |     return helper(1)\n"
        "      |            ^~~~~~~~~")


def test_error_in_lambda_called_by_builtin(tmp_path: Path) -> None:
    src = "def kernel():\n    return list(map(lambda v: v / 0, [1]))\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert err.message == "division by zero"
    assert where(err) == (2, 31)
    assert [(p.line, p.column + 1) for _, p in err.notes] == [(2, 17)]


def test_failed_global_is_an_error_only_when_used(tmp_path: Path) -> None:
    src = "BAD = 1 // 0\nGOOD = 2\n\ndef kernel(use):\n    return BAD if use else GOOD\n"
    from tests.tracer.util import run_src
    assert run_src(tmp_path, src, False) == 2
    err = error_of(tmp_path, src, True, error=TraceError)
    assert err.message == "global 'kern.BAD' could not be evaluated: division by zero"
    assert where(err) == (5, 12)
    assert [(m, p.line) for m, p in err.notes] == [("the global is defined here", 1)]


def test_bugs_in_builtins_are_not_dressed_up(tmp_path: Path) -> None:
    from klr.tracer.registry import builtin
    from tests.tracer.util import run_src

    @builtin("math._klr_test_buggy", dialect="python")
    def buggy(ctx: object) -> None:
        raise RuntimeError("internal bug")

    with pytest.raises(RuntimeError, match="internal bug"):
        run_src(tmp_path, "import math\ndef kernel():\n    return math._klr_test_buggy()\n")
