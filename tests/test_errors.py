"""Rendering diagnostics: positions come from data, so the source line under a message is only
taken from files klr read as sources or from .py files below the current directory, and what
is printed cannot carry terminal control sequences."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from klr.diagnostics import remember_source, render
from klr.pos import Pos


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_relative_python_file_below_the_current_directory_is_shown(in_tmp: Path) -> None:
    (in_tmp / "sub").mkdir()
    (in_tmp / "sub" / "kern.py").write_text("a = 1\nb = oops\n")
    assert render("error", "m", Pos(2, 4, 2, 8, "sub/kern.py")) == (
        "sub/kern.py:2:5: error: m\n    2 | b = oops\n      |     ^~~~")


@pytest.mark.parametrize("name", ["secret.txt", "../outside.py", "sub/../../outside.py", "ABS", "link.py",
                                  "fifo.py", "nul\0.py"])
def test_no_other_file_is_ever_read(in_tmp: Path, name: str) -> None:
    outside = in_tmp.parent / "outside.py"
    outside.write_text("SECRET = 1\n")
    (in_tmp / "secret.txt").write_text("SECRET = 1\n")
    (in_tmp / "sub").mkdir()
    (in_tmp / "link.py").symlink_to(outside)
    os.mkfifo(in_tmp / "fifo.py")  # reading it would block
    filename = str(outside) if name == "ABS" else name
    shown = render("error", "m", Pos(1, 0, None, None, filename))
    assert "SECRET" not in shown and shown.count("\n") == 0


def test_a_source_klr_read_is_shown_wherever_it_is(tmp_path: Path) -> None:
    remember_source(str(tmp_path / "elsewhere.py"), ["x = 1", "y = 2"])
    assert render("error", "m", Pos(2, 0, None, None, str(tmp_path / "elsewhere.py"))).endswith(
        "    2 | y = 2\n      | ^~~~~")


def test_control_characters_and_bidi_overrides_are_escaped() -> None:
    shown = render("error", "name 'a\x1b[31m\n' \u202e", Pos(1, 0, None, None, "k\x07.py"),
                   source_line="x = '\x1b]0;t\x07'")
    assert shown == ("k\\x07.py:1:1: error: name 'a\\x1b[31m\\n' \\u202e\n"
                     "    1 | x = '\\x1b]0;t\\x07'\n      | ^~~~~~~~~~~~")  # the span of the raw text


def test_a_long_line_is_cut_around_the_span() -> None:
    line = "x = " + "a" * 300 + " + b"
    shown = render("error", "m", Pos(1, 305, 1, 306, "k.py"), source_line=line).splitlines()
    assert shown[1] == "    1 | ..." + line[148:]  # the last 160 characters
    assert shown[2] == "      | " + " " * (305 - 148 + 3) + "^"
    shown = render("error", "m", Pos(1, 0, 1, 1, "k.py"), source_line=line).splitlines()
    assert shown[1] == "    1 | " + line[:160] + "..."
