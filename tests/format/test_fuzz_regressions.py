"""Regressions found by tests/fuzz: writing onto a directory and deeply nested values are
FormatErrors or work, never a Python exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from klr.errors import FileError, FormatError
from klr.format.file import read, to_bytes, write
from klr.format.text import to_json, to_sexp
from klr.python import ast as K


def _nested(depth: int) -> K.Kernel:
    e = K.Expr(K.ConstExpr(K.CInt(1)))
    for _ in range(depth):
        e = K.Expr(K.ListExpr((e,), K.Ctx.load))
    return K.Kernel("m.k", (), (), (e,), (), (), 2, 1, (), ())


def test_writing_onto_a_directory_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        write(tmp_path, _nested(1))
    assert info.value.message == f"cannot write {tmp_path}: it is a directory"
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left behind


def test_values_nested_hundreds_deep_round_trip(tmp_path: Path) -> None:
    kernel = _nested(400)
    write(tmp_path / "deep.klr", kernel)
    assert to_bytes(read(tmp_path / "deep.klr")) == to_bytes(kernel)  # == itself would recurse
    assert to_json(kernel, indent=None).count('{"list": ') == 400
    assert to_sexp(kernel).count("(list ") == 400


def test_values_nested_too_deeply_are_format_errors(tmp_path: Path) -> None:
    kernel = _nested(20_000)
    with pytest.raises(FormatError) as info:
        write(tmp_path / "deep.klr", kernel)
    assert info.value.message == "cannot encode a gathered Python AST (klr gather): it nests too deeply"
    with pytest.raises(FormatError) as info:
        to_json(kernel)
    assert info.value.message == "cannot print the value as JSON: it nests too deeply"
