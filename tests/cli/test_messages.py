"""One test per message of the command line: the whole of stderr and the exit code (2 for usage)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from klr.cli import main as cli

SCALE = textwrap.dedent("""\
    import numpy as np
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl

    @nki.jit
    def scale(a, b):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        w = nl.shared_constant(np.ones((4, 1), dtype=np.float32), dtype=nl.float32)
        nl.store(out, value=nl.multiply(nl.add(nl.load(a), nl.load(b)), nl.load(w)))
        return out
    """)


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """kern.py, gathered to scale.klr and traced to scale.core.klr (with its shared constant), and
    a.npy, in the current directory."""
    monkeypatch.chdir(tmp_path)
    Path("kern.py").write_text(SCALE)
    assert cli.main(["gather", "kern.py", "scale", "--arg", "a=float32[4,8]", "--arg", "b=float32[4,8]"]) == 0
    assert cli.main(["trace", "scale.klr"]) == 0
    np.save("a.npy", np.ones((4, 8), np.float32))
    capsys.readouterr()
    return tmp_path


def _usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """stderr of a command that fails with a usage error."""
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_a_grid_that_is_not_numbers(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage(["trace", "scale.klr", "--grid", "2,x"], capsys)
    assert err == "error: --grid takes comma-separated positive integers, got '2,x'\n"


def test_a_grid_of_zero(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage(["trace", "scale.klr", "--grid", "0"], capsys)
    assert err == "error: --grid takes comma-separated positive integers, got '0'\n"


def test_eval_without_inputs(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage(["eval", "scale.core.klr"], capsys)
    assert err == "error: missing inputs 'a', 'b'; pass .npy files or --random SEED\n"


def test_eval_without_one_input(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage(["eval", "scale.core.klr", "a.npy"], capsys)
    assert err == "error: missing input 'b'; pass .npy files or --random SEED\n"


def test_eval_with_too_many_inputs(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage(["eval", "scale.core.klr", "a.npy", "a.npy", "a.npy"], capsys)
    assert err == "error: too many inputs: the kernel takes 2 (a, b)\n"


def test_eval_with_an_unknown_input_name(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage(["eval", "scale.core.klr", "c=a.npy"], capsys)
    assert err == "error: the kernel has no input named 'c' (inputs: a, b)\n"


def test_eval_with_a_missing_input_file(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["eval", "scale.core.klr", "missing.npy", "a.npy"]) == 1
    assert capsys.readouterr().err == "error: cannot read missing.npy: No such file or directory\n"


def test_eval_without_the_shared_constant_file(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (side,) = Path("shared_constants").iterdir()
    side.unlink()
    assert cli.main(["eval", "scale.core.klr", "a.npy", "a.npy"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: cannot read shared_constants/{side.name}: No such file or directory\n"


ARGS_JSON = [
    ("5", "error: args.json must hold a JSON list or object of arguments\n"),
    ("{", "error: args.json:1:2: invalid JSON: Expecting property name enclosed in double quotes\n"),
    ('[{"shape": [-1, 8], "dtype": "float32"}]',
     "error: tensor dimensions must be non-negative integers, got [-1, 8]\n"),
]


@pytest.mark.parametrize(("text", "stderr"), ARGS_JSON, ids=[c[0] for c in ARGS_JSON])
def test_args_json(built: Path, capsys: pytest.CaptureFixture[str], text: str, stderr: str) -> None:
    Path("args.json").write_text(text)
    assert _usage(["gather", "kern.py", "scale", "--args-json", "args.json"], capsys) == stderr


# Files that cannot be read: each reader names the file and the reason.

def test_an_args_json_file_that_is_missing(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a file that cannot be read is an error in the input (exit 1), as in every subcommand
    assert cli.main(["gather", "kern.py", "scale", "--args-json", "missing.json"]) == 1
    assert capsys.readouterr().err == "error: cannot read missing.json: No such file or directory\n"


def test_a_klr_file_that_is_missing(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["info", "missing.klr"]) == 1
    assert capsys.readouterr().err == "error: cannot read missing.klr: No such file or directory\n"


def test_a_source_file_that_is_not_utf8(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("bad.py").write_bytes(b"def k():\n    return '\xff'\n")
    assert cli.main(["gather", "bad.py", "k"]) == 1
    assert capsys.readouterr().err == ("error: cannot read bad.py: the bytes at offset 21 are not valid "
                                       "utf-8 (invalid start byte)\n")
