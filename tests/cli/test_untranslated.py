"""The command line parsed without gettext's look-ups words every message as gettext would."""

from __future__ import annotations

import argparse
import gettext
from pathlib import Path

import pytest

from klr.cli import main as cli

COMMAND_LINES = [
    ["trace"], ["trace", "--bogus", "x.klr"], ["gather", "f.py"], ["gather", "--lnc", "two", "f.py", "k"],
    ["info", "x.klr", "--dump", "yaml"], ["info", "--help"], ["trace", "--help"], ["gather", "-h"],
    ["list", "--json", "a", "b"], ["frobnicate"], ["--version"], ["trace", "a", "b", "c"],
]


def _words(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    try:
        status: object = cli.main(argv)
    except SystemExit as exc:
        status = exc.code
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize("argv", COMMAND_LINES)
def test_same_words_as_gettext(argv: list[str], capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    fast = _words(argv, capsys)
    with monkeypatch.context() as m:  # no bypass: gettext's own look-ups
        m.setattr(cli, "_untranslated", _gettext_itself)
        slow = _words(argv, capsys)
    assert fast == slow
    assert argparse._ is gettext.gettext  # type: ignore[attr-defined]  # restored
    assert argparse.ngettext is gettext.ngettext  # type: ignore[attr-defined]


def _gettext_itself() -> object:
    import contextlib

    return contextlib.nullcontext()


def test_plural_forms() -> None:
    for n in (0, 1, 2):
        assert cli._same_plural("one", "many", n) == gettext.ngettext("one", "many", n)
    assert cli._same("expected one argument") == gettext.gettext("expected one argument")


def test_bypassed_only_without_a_catalogue_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    with cli._untranslated():
        seen.append(argparse._)  # type: ignore[attr-defined]
    monkeypatch.setattr(gettext, "_default_localedir", str(tmp_path))  # a directory that exists
    with cli._untranslated():
        seen.append(argparse._)  # type: ignore[attr-defined]
    assert seen == [cli._same, gettext.gettext]
