"""klr.cli.quickparse reads a command line as argparse does, or leaves it to argparse."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klr.cli import quickparse
from klr.cli.main import build_parser
from klr.cli.quickparse import APPEND, INT, SPECS, STORE, TRUE, parse

ROOT = Path(__file__).resolve().parents[2]


def _subparser(command: str) -> argparse.ArgumentParser:
    sub = build_parser(command)._subparsers._group_actions[0]  # type: ignore[union-attr]
    return sub.choices[command]  # type: ignore[attr-defined,no-any-return]


def _kind(action: argparse.Action) -> Any:
    if isinstance(action, argparse._StoreTrueAction):
        assert action.default is False
        return TRUE
    assert action.nargs is None and action.const is None and action.required == (not action.option_strings)
    if isinstance(action, argparse._AppendAction):
        assert action.default == [] and action.type is None and action.choices is None
        return APPEND
    assert type(action) is argparse._StoreAction and action.default is None, action
    if action.choices is not None:
        assert action.type is None
        return tuple(action.choices)
    return INT if action.type is int else STORE if action.type is None else action.type


@pytest.mark.parametrize("command", sorted(SPECS))
def test_specs_are_the_parsers(command: str) -> None:
    actions = [a for a in _subparser(command)._actions if not isinstance(a, argparse._HelpAction)]
    assert tuple((a.dest, tuple(a.option_strings), _kind(a)) for a in actions) == SPECS[command]


def _argparse(argv: list[str]) -> Any:
    try:
        return build_parser(argv[0]).parse_args(argv)
    except SystemExit:
        return None


def _agree(argv: list[str]) -> Any:
    quick = parse(argv)
    if quick is not None:
        expected = _argparse(argv)
        assert expected is not None, argv
        assert list(vars(quick).items()) == list(vars(expected).items()), argv
    return quick


QUICK = [
    ["trace", "k.klr"], ["trace", "k.klr", "-o", "k.core.klr"], ["trace", "-o", "-", "k.klr", "--stats"],
    ["trace", "k.klr", "--arg", "float32[10,10]", "--arg", "b=3", "--lnc", "2", "--arch", "3",
     "--grid", "2,2", "--args-json", "a.json", "--limit", "steps=10", "--limit", "help", "--debug"],
    ["gather", "k.py", "f"], ["gather", "k.py", "-o", "f.klr", "f", "-I", "lib", "-I", "more"],
    ["gather", "k.py", "f", "--arg", "float32[10,10]", "--arg", "float32[10,10]", "-o", "f.klr"],
    ["gather", "", "-", "--output", "x", "--output", "y"], ["gather", "k.py", "f", "--lnc", " 07 "],
    ["info", "f.klr"], ["info", "f.klr", "--dump", "json"], ["info", "--dump", "sexp", "f.klr", "--debug"],
    ["info", "a b", "--limit", "file_bytes=1k"],
]
TO_ARGPARSE = [
    [], ["--help"], ["list"], ["eval", "f.klr"], ["run", "x.py"], ["trace"], ["trace", "a", "b"],
    ["trace", "k.klr", "--help"], ["trace", "-h"], ["trace", "k.klr", "--output=x"],
    ["trace", "k.klr", "--out", "x"], ["trace", "k.klr", "-ox"], ["trace", "--", "k.klr"],
    ["trace", "k.klr", "-o"], ["trace", "k.klr", "-o", "--stats"], ["trace", "k.klr", "--lnc", "two"],
    ["trace", "k.klr", "--lnc", "-1"], ["trace", "-1"], ["info", "f", "--dump", "yaml"], ["gather", "k.py"],
    ["gather", "k.py", "f", "--stats"], ["info", "f", "--arg", "x"], ["trace", "- x"],
    ["trace", "k.klr", "--version"], ["--debug", "trace", "k.klr"],
]


@pytest.mark.parametrize("argv", QUICK)
def test_read_as_argparse_reads_it(argv: list[str]) -> None:
    assert _agree(argv) is not None


@pytest.mark.parametrize("argv", TO_ARGPARSE)
def test_left_to_argparse(argv: list[str]) -> None:
    assert parse(argv) is None


TOKENS = ["k.klr", "f", "-", "", "-o", "--output", "--stats", "--arg", "--args-json", "--grid", "--lnc",
          "--arch", "--limit", "--debug", "-I", "--dump", "json", "yaml", "3", "-3", "x y", "--", "-h",
          "--output=x", "--out", "--ar", "=", "-oo", "--help"]


@settings(max_examples=400)
@given(st.sampled_from(sorted(SPECS)), st.lists(st.sampled_from(TOKENS), max_size=8))
def test_agrees_with_argparse(command: str, rest: list[str]) -> None:
    _agree([command, *rest])


def test_no_argparse_on_the_common_command_lines(tmp_path: Path) -> None:
    code = ("import sys; from klr.cli.main import main; main(['info', sys.argv[1]]); "
            "print(sorted(m for m in ('argparse', 'gettext') if m in sys.modules), file=sys.stderr)")
    kernel = tmp_path / "k.klr"
    kernel.write_bytes(b"")
    done = subprocess.run([sys.executable, "-c", code, str(kernel)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "src")})
    assert done.stderr.splitlines()[-1] == "[]"
    assert quickparse.parse(["info", str(kernel)]) is not None
