"""Every gather error: exact message and exact position."""

from __future__ import annotations

import pytest

from conftest import Writer
from klr.diagnostics import render_error
from klr.errors import GatherError, LimitError
from klr.pos import Pos


def error_of(kernel_of: Writer, body: str, **files: str) -> GatherError:
    source = "def kernel(a):\n" + "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": source, **files})
    return err.value


@pytest.mark.parametrize(("body", "message", "pos"), [
    ("return foo(a)", "name 'foo' is not defined", (2, 11, 2, 14)),
    ("try:\n    x = 1\nexcept* ValueError:\n    pass", "except* clauses are not supported in kernels",
     (2, 4, 5, 12)),
    ("def f():\n    nonlocal b", "no binding for nonlocal 'b' found", (3, 8, 3, 18)),
    ("del a", "del statements are not supported in kernels", (2, 4, 2, 9)),
    ("match a:\n    case 1:\n        pass", "match statements are not supported in kernels", (2, 4, 4, 16)),
    ("async def f():\n    pass", "async functions are not supported in kernels", (2, 4, 3, 12)),
    ("class C:\n    pass", "class definitions inside functions are not supported in kernels", (2, 4, 3, 12)),
    ("return {a, 1}", "set displays are not supported in kernels", (2, 11, 2, 17)),
    ("return {x for x in a}", "set comprehensions are not supported in kernels", (2, 11, 2, 25)),
    ("if (n := a):\n    pass", "assignment expressions (:=) are not supported in kernels", (2, 8, 2, 14)),
    ("yield a", "yield expressions are not supported in kernels", (2, 4, 2, 11)),
    ("return b'x'", "bytes literals are not supported in kernels", (2, 11, 2, 15)),
    ("return 2j", "complex literals are not supported in kernels", (2, 11, 2, 13)),
    ("return 2**70 + 1180591620717411303424",
     "integer literal 1180591620717411303424 does not fit in 64 bits", (2, 19, 2, 41)),
    ("return {**a}", "dict unpacking (**) is not supported in kernels", (2, 14, 2, 15)),
])
def test_unsupported_constructs(kernel_of: Writer, body: str, message: str, pos: tuple[int, ...]) -> None:
    err = error_of(kernel_of, body)
    assert err.message == message
    assert err.pos == Pos(*pos, "kern.py")


def test_await_is_named(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": "async def kernel(a):\n    await a\n"})
    assert err.value.message == "async functions are not supported in kernels"
    assert err.value.pos == Pos(1, 0, 2, 11, "kern.py")


def test_undefined_name_in_a_helper_module(kernel_of: Writer) -> None:
    helpers = "def f(x):\n    return x + y\n"
    err = error_of(kernel_of, "import helpers\nreturn helpers.f(a)", **{"helpers.py": helpers})
    assert err.message == "name 'y' is not defined"
    assert err.pos == Pos(2, 15, 2, 16, "helpers.py")


def test_undefined_name_in_a_global(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": "X = Y + 1\ndef kernel(a):\n    return X\n"})
    assert err.value.message == "name 'Y' is not defined"
    assert err.value.pos == Pos(1, 4, 1, 5, "kern.py")


def test_syntax_error(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": "def kernel(a):\n    return (a +\n\nx = 1\n"})
    assert err.value.message == "syntax error: '(' was never closed"
    assert err.value.pos == Pos(2, 11, None, None, "kern.py")


def test_missing_function(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": "X = 1\ndef helper(a):\n    return a\ndef other(a):\n    return a\n"}, "kernal")
    assert err.value.message == "no function 'kernal' in kern.py"
    assert err.value.pos is None
    assert err.value.notes == (("functions defined there: helper, other", None),)


def test_a_constant_is_not_a_function(kernel_of: Writer) -> None:
    with pytest.raises(GatherError, match=r"no function 'X' in kern\.py"):
        kernel_of({"kern.py": "X = 1\n"}, "X")


def test_missing_kernel_file(kernel_of: Writer) -> None:
    from klr.python.gather import gather_file

    with pytest.raises(GatherError) as err:
        gather_file("nope.py", "kernel")
    assert err.value.message == "cannot read nope.py: No such file or directory"


def test_missing_module(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": "import numpy\nfrom mylib.ops import f\ndef kernel(a):\n    return f(a)\n"})
    assert err.value.message == "cannot find module 'mylib.ops'"
    assert err.value.pos == Pos(2, 0, 2, 23, "kern.py")


def test_circular_import(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": "from a import f\ndef kernel(x):\n    return f(x)\n",
                   "a.py": "from b import f\n", "b.py": "from a import f\n"})
    assert err.value.message == "circular import of 'f' in module 'a'"


@pytest.mark.parametrize(("cls", "message", "pos"), [
    ("class C(metaclass=M):\n    pass", "class keywords are not supported in kernels", (1, 8, 1, 19)),
    ("class C:\n    a = b = 1", "only assignments to a single name are supported in class bodies",
     (2, 4, 2, 13)),
    ("class C:\n    if a:\n        x = 1", "if statements are not supported in class bodies", (2, 4, 3, 13)),
    ("class C:\n    print(1)", "expression statements are not supported in class bodies", (2, 4, 2, 12)),
])
def test_class_body_errors(kernel_of: Writer, cls: str, message: str, pos: tuple[int, ...]) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": f"{cls}\ndef kernel(x):\n    return C()\n"})
    assert err.value.message == message
    assert err.value.pos == Pos(*pos, "kern.py")


def test_rendered_error(kernel_of: Writer) -> None:
    err = error_of(kernel_of, "x = 1\nreturn nl.exp(x)")
    assert render_error(err) == (
        "kern.py:3:12: error: name 'nl' is not defined\n"
        "    3 |     return nl.exp(x)\n"
        "      |            ^~"
    )


def test_null_byte(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": "def kernel(a):\n    return a\0\n"})
    assert err.value.message == "syntax error: source code string cannot contain null bytes"
    assert err.value.pos == Pos(1, 0, None, None, "kern.py")


@pytest.mark.parametrize(("depth", "message", "pos"), [
    (1500, "the source of 'kernel' is nested too deeply to gather", Pos(1, 0, 2, 3012, "kern.py")),
    (20000, "kern.py is nested too deeply to parse", Pos(1, 0, None, None, "kern.py")),
])
def test_nesting_limits(kernel_of: Writer, depth: int, message: str, pos: Pos) -> None:
    with pytest.raises(LimitError) as err:
        kernel_of({"kern.py": "def kernel(a):\n    return " + "a+" * depth + "a\n"})
    assert err.value.message == message
    assert err.value.pos == pos
