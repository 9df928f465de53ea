"""Definitions named only by the kernel's arguments (a config object built by the caller)."""

from __future__ import annotations

from conftest import Writer
from klr.python import ast as K


def _call(cls: str, **fields: int) -> K.Expr:
    keywords = tuple(K.Keyword(k, K.Expr(K.ConstExpr(K.CInt(v)))) for k, v in fields.items())
    return K.Expr(K.Call(K.Expr(K.Name(cls)), (), keywords))


SOURCE = {"kern.py": """
    from dataclasses import dataclass
    from util import Mode

    @dataclass(frozen=True)
    class Args:
        size: int
        mode: Mode = Mode.FAST

    class Unused:
        pass

    def kernel(a, cfg: Args):
        return a
""", "util.py": """
    from enum import Enum

    class Mode(Enum):
        FAST = 1
"""}


def test_a_class_an_argument_builds_is_gathered(kernel_of: Writer) -> None:
    k = kernel_of(SOURCE, args=(1, _call("kern.Args", size=3)))
    assert [c.name for c in k.classes] == ["kern.Args"]
    assert [f.id for f in k.classes[0].fields] == ["size", "mode"]


def test_without_such_an_argument_the_class_is_not_gathered(kernel_of: Writer) -> None:
    k = kernel_of(SOURCE, args=(1, 2))
    assert [c.name for c in k.classes] == []


def test_names_of_other_modules_or_unknown_names_are_left_alone(kernel_of: Writer) -> None:
    k = kernel_of(SOURCE, kwargs={"a": _call("util.Mode"), "cfg": _call("kern.Missing")})
    assert [c.name for c in k.classes] == []

