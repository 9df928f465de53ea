"""The entry point prints the top-level help from klr.cli.helptext: exactly argparse's text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from klr.cli import entry, helptext
from klr.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
SRC = str(ROOT / "src")


def test_stored_help_is_argparse_help(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", str(helptext.COLUMNS))
    if sys.version_info[:2] == helptext.PYTHON:
        assert build_parser().format_help() == helptext.TEXT, "regenerate: python scripts/help_text.py"
    else:  # another Python's argparse may format differently: the entry point asks it
        with pytest.raises(SystemExit):
            entry.main(["--help"])
        assert capsys.readouterr().out == build_parser().format_help()


def test_help_script_check_agrees() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "help_text.py"), "--check"],
                          env={**os.environ, "PYTHONPATH": SRC})
    assert done.returncode == 0


@pytest.mark.parametrize("argv", [[], ["-h"], ["--help"]])
def test_help_without_argparse(argv: list[str]) -> None:
    code = ("import sys; from klr.cli.entry import main; status = main(sys.argv[1:]); "
            "print(sorted(m for m in ('argparse', 'typing', 'klr.cli.main') if m in sys.modules), "
            "status, file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": str(helptext.COLUMNS)}
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env,
                          check=True)
    assert done.stdout == helptext.TEXT
    assert done.stderr.strip() == "[] 0"


@pytest.mark.parametrize("width", ["60", "120"])
def test_other_widths_go_to_argparse(width: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", width)
    with pytest.raises(SystemExit) as done:
        entry.main(["--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out == build_parser().format_help() != helptext.TEXT


def test_columns_as_shutil_says(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    for value in ("97", "0", "-3", "x", None):
        if value is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", value)
        assert entry.columns() == shutil.get_terminal_size().columns


def test_other_commands_go_to_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        entry.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("klr ")
    assert entry.main(["list", "nl.load"]) == 0
    assert "nki.language.load" in capsys.readouterr().out
