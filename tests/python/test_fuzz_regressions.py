"""Regressions found by tests/fuzz: argument files that are not UTF-8 or nest too deeply, and
printing deeply nested gathered expressions, are clear errors or work."""

from __future__ import annotations

from pathlib import Path

import pytest

from klr.errors import KlrError, UsageError
from klr.python import ast as K
from klr.python.args import parse_arg_json
from klr.python.pretty import pretty


def test_an_argument_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "args.json"
    path.write_bytes(b"[1, \xd9]")
    with pytest.raises(UsageError) as info:
        parse_arg_json(str(path))
    assert info.value.message == f"cannot read {path}: byte 4 is not UTF-8 (JSON is text)"


@pytest.mark.parametrize("depth", [900, 100_000])
def test_an_argument_file_nested_too_deeply(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "args.json"
    path.write_text("[" * depth + "]" * depth)
    with pytest.raises(UsageError) as info:
        parse_arg_json(str(path))
    assert info.value.message == f"{path}: the JSON arguments are nested too deeply"


def _nested(depth: int) -> K.Kernel:
    e = K.Expr(K.ConstExpr(K.CInt(1)))
    for _ in range(depth):
        e = K.Expr(K.ListExpr((e,), K.Ctx.load))
    return K.Kernel("m.k", (), (), (e,), (), (), 2, 1, (), ())


def test_pretty_prints_expressions_nested_hundreds_deep() -> None:
    assert "[" * 400 + "1" + "]" * 400 in pretty(_nested(400))


def test_pretty_of_an_expression_nested_too_deeply_is_an_error() -> None:
    with pytest.raises(KlrError) as info:
        pretty(_nested(30_000))
    assert info.value.message == "cannot print the kernel: an expression in it nests too deeply"
