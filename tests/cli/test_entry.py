"""The entry point prints the top-level help from klr.cli.helptext: exactly argparse's text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from klr.cli import entry, helptext, terminal
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
        assert terminal.columns() == shutil.get_terminal_size().columns


def test_other_commands_go_to_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        entry.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("klr ")
    assert entry.main(["list", "nl.load"]) == 0
    assert "nki.language.load" in capsys.readouterr().out


COMMAND_LINES = [
    ["gather", "k.py", "f", "--arg", "float32[4,8]", "-o", "x.klr", "-I", "d", "--limit", "a=1", "--debug"],
    ["trace", "x.klr", "--stats", "--grid", "2", "--arg", "n=3", "--lnc", "2"],
    ["eval", "x.core.klr", "a=a.npy", "--output-dir", "out", "--random", "7"],
    ["check", "x.core.klr"], ["run", "-m", "pytest"], ["cache", "clear"],
    ["info", "x.klr", "--dump", "sexp"], ["list", "nl.", "--json"],
]


def test_a_parser_for_one_command_parses_as_the_whole_one() -> None:
    from klr.cli.parser import _SUBCOMMANDS

    assert sorted(_SUBCOMMANDS) == sorted(argv[0] for argv in COMMAND_LINES)
    for argv in COMMAND_LINES:
        assert build_parser(argv[0]).parse_args(argv) == build_parser().parse_args(argv)
        whole = build_parser()._subparsers._group_actions[0].choices[argv[0]]  # type: ignore[union-attr]
        one = build_parser(argv[0])._subparsers._group_actions[0].choices[argv[0]]  # type: ignore[union-attr]
        assert one.format_help() == whole.format_help()


def test_a_bad_subcommand_line_reads_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    from klr.cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["trace", "x.klr", "--no-such-option"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["trace", "x.klr", "--no-such-option"])
    assert capsys.readouterr().err == err and "unrecognized arguments: --no-such-option" in err
