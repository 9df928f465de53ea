"""The command line with random argument strings (tests/fuzz/cli_gen.py): any exit status but
70 (internal error), and never a hang. Runs ``klr.cli.main.main`` in-process on prepared files."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klr.cli.main import EXIT_INTERNAL, main
from tests.fuzz.cli_gen import command_lines, make_workdir
from tests.fuzz.support import deadline


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workdir(tmp_path_factory.mktemp("cli"))


def run_cli(argv: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), deadline():
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse rejects the command line
            code = exit_.code if isinstance(exit_.code, int) else 2
    assert code != EXIT_INTERNAL, f"klr {' '.join(argv)} crashed:\n{err.getvalue()}"
    return code


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])
@given(data=st.data())
def test_random_command_lines_never_crash(workdir: Path, data: st.DataObject,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    run_cli(data.draw(command_lines(workdir)))
