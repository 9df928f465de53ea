"""Reading the user's source files: regular files below a size limit, in a text encoding, parsed
without running out of stack; every bad file is a positioned GatherError, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from klr.errors import FileError, GatherError, LimitError, UsageError
from klr.pos import Pos
from klr.python.args import parse_arg_json
from klr.python.gather import gather_file

KERNEL = "def kernel(a):\n    return a\n"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("declared", "message"), [
    ("rot13", "its coding declaration names 'rot13', which is not a text encoding"),
    ("hex", "its coding declaration names 'hex', which is not a text encoding"),
    ("uu", "its coding declaration names 'uu', which is not a text encoding"),
    ("zlib_codec", "its coding declaration names 'zlib_codec', which is not a text encoding"),
    ("utf-16", "its coding declaration names 'utf-16', which does not encode ASCII as ASCII, as Python "
               "source files must"),
    ("bogus", "its coding declaration names an unknown encoding, 'bogus'"),
])
def test_coding_declarations(here: Path, declared: str, message: str) -> None:
    (here / "kern.py").write_text(f"# coding: {declared}\n{KERNEL}")
    with pytest.raises(GatherError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message == f"cannot read kern.py: {message}"


def test_a_text_encoding_is_read(here: Path) -> None:
    (here / "kern.py").write_bytes(b"# -*- coding: latin-1 -*-\nS = '\xe9'\ndef kernel(a):\n    return S\n")
    kernel = gather_file("kern.py", "kernel")
    assert kernel.globals[0].value.expr.value.value == "\u00e9"  # type: ignore[union-attr]


def test_a_utf16_file_without_bom_is_a_syntax_error(here: Path) -> None:
    (here / "kern.py").write_bytes(KERNEL.encode("utf-16-le"))  # valid UTF-8, full of NULs
    with pytest.raises(GatherError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message == "syntax error: source code string cannot contain null bytes"


def test_an_imported_module_with_a_bad_encoding_is_positioned_at_the_import(here: Path) -> None:
    (here / "kern.py").write_text("from helpers import f\ndef kernel(a):\n    return f(a)\n")
    (here / "helpers.py").write_bytes(b"# coding: rot13\ndef f(a):\n    return a\n")
    with pytest.raises(GatherError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message == "cannot read helpers.py: its coding declaration names 'rot13', which is " \
                                 "not a text encoding"
    assert info.value.pos == Pos(1, 0, 1, 21, "kern.py")


def test_a_negated_number_100000_deep(here: Path) -> None:
    (here / "kern.py").write_text("-" * 100000 + "1\n")
    with pytest.raises(LimitError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message == "kern.py is nested too deeply to parse"


@pytest.mark.parametrize("body", [
    "return " + "+".join(["1"] * 100000),
    "return a" + ".b" * 100000,
    "return a" + "()" * 100000,
    "return a" + "[0]" * 100000,
    "return " + "not " * 100000 + "a",
    "return " + "lambda: " * 3000 + "1",
])
def test_deep_expressions_are_limit_errors(here: Path, body: str) -> None:
    (here / "kern.py").write_text(f"def kernel(a):\n    {body}\n")
    with pytest.raises(LimitError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message in ("kern.py is nested too deeply to parse",
                                  "the source of 'kernel' is nested too deeply to gather")


def test_a_deep_constant_is_a_limit_error(here: Path) -> None:
    (here / "kern.py").write_text("X = " + "+".join(["1"] * 2000) + "\ndef kernel(a):\n    return X\n")
    with pytest.raises(LimitError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message == "the source of 'kernel' is nested too deeply to gather"


def test_a_fifo_or_directory_kernel_file_is_refused(here: Path) -> None:
    os.mkfifo("kern.py")
    with pytest.raises(GatherError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message == "cannot read kern.py: it is a FIFO, not a regular file"
    os.mkdir("pkg.py")
    with pytest.raises(GatherError) as info:
        gather_file("pkg.py", "kernel")
    assert info.value.message == "cannot read pkg.py: it is a directory, not a regular file"


def test_an_imported_module_that_is_a_fifo_is_not_a_module(here: Path) -> None:
    (here / "kern.py").write_text("from helpers import f\ndef kernel(a):\n    return f(a)\n")
    os.mkfifo("helpers.py")
    with pytest.raises(GatherError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message == "cannot find module 'helpers'"


def test_a_huge_source_is_refused_before_reading(here: Path) -> None:
    with open("kern.py", "wb") as f:
        f.truncate(2**34)  # sparse: 16 GiB of nothing
    with pytest.raises(GatherError) as info:
        gather_file("kern.py", "kernel")
    assert info.value.message == ("cannot read kern.py: it has 17179869184 bytes, more than the limit of "
                                  "16777216 (--limit max-source-bytes=N raises it)")
    (here / "small.py").write_text(KERNEL)
    with pytest.raises(GatherError, match="more than the limit of 10 "):
        gather_file("small.py", "kernel", max_source_bytes=10)


def test_a_missing_kernel_file_and_a_nul_in_its_name(here: Path) -> None:
    # a kernel file that cannot be read is an error in the input (exit 1), as every other input
    with pytest.raises(GatherError) as info:
        gather_file("nope.py", "kernel")
    assert info.value.message == "cannot read nope.py: No such file or directory"
    with pytest.raises(GatherError) as info:
        gather_file("a\0b.py", "kernel")
    assert info.value.message == "cannot read 'a\\x00b.py': a file name cannot contain a NUL character"


def test_args_json_with_a_100000_digit_number(here: Path) -> None:
    (here / "args.json").write_text("[" + "1" * 100000 + "]")
    with pytest.raises(UsageError) as info:
        parse_arg_json("args.json")
    assert info.value.message == ("args.json: the JSON number 11111111111111111111... has 100000 digits; "
                                  "integer arguments must fit in 64 bits")


def test_args_json_must_be_a_small_regular_file(here: Path) -> None:
    os.mkfifo("args.json")
    with pytest.raises(FileError) as info:
        parse_arg_json("args.json")
    assert info.value.message == "cannot read args.json: it is a FIFO, not a regular file"
    (here / "big.json").write_text("[1, 2, 3]")
    with pytest.raises(FileError) as info:
        parse_arg_json("big.json", max_bytes=4)
    assert info.value.message == ("cannot read big.json: it has 9 bytes, more than the limit of 4 "
                                  "(--limit max-source-bytes=N raises it)")
