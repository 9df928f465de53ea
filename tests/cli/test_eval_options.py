"""klr eval's comparison, saved inputs, output formats, notes and statistics; klr trace's print
output, output warnings and statistics; klr info's parameters; one exit status for a missing file."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from klr.cli import main as cli

KERNELS = textwrap.dedent("""\
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl

    @nki.jit
    def two(a, b):
        s = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        h = nl.ndarray(a.shape, dtype=nl.bfloat16, buffer=nl.shared_hbm)
        t = nl.add(nl.load(a), nl.load(b))
        nl.store(s, value=t)
        nl.store(h, value=nl.copy(t, dtype=nl.bfloat16))
        return s, h

    @nki.jit
    def lost(a):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        spare = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        scratch = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.hbm)
        print("tracing lost for", a.shape)
        t = nl.load(a)
        nl.store(scratch, value=t)
        nl.store(spare, value=t)
        nl.store(out, value=nl.load(scratch))
        return out

    @nki.jit
    def nothing(a):
        t = nl.load(a)

    @nki.jit
    def broken(a):
        print("shape", a.shape)
        print("second line")
        return nl.load(a[:, 99])
    """)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """kern.py with ``two`` gathered and traced to two.core.klr; a.npy and b.npy."""
    monkeypatch.chdir(tmp_path)
    Path("kern.py").write_text(KERNELS)
    assert cli.main(["gather", "kern.py", "two", "--arg", "float32[4,8]", "--arg", "float32[4,8]"]) == 0
    assert cli.main(["trace", "two.klr"]) == 0
    np.save("a.npy", np.full((4, 8), 1.25, np.float32))
    np.save("b.npy", np.full((4, 8), 2.0, np.float32))
    capsys.readouterr()
    return tmp_path


def _eval(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> tuple[str, str]:
    assert cli.main(["eval", "two.core.klr", *argv]) == status
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_expect_reports_each_output(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save("s.npy", np.full((4, 8), 3.25, np.float32))
    np.save("h.npy", np.full((4, 8), 3.25, ml_dtypes.bfloat16))  # stored as raw |V2, read as bf16
    out, _ = _eval(capsys, "a.npy", "b.npy", "--output-dir", "o", "--expect", "s=s.npy",
                   "--expect", "h=h.npy")
    assert out.splitlines()[-2:] == [
        "s: matches s.npy: max abs error 0, max rel error 0 (rtol 1e-05, atol 1e-05)",
        "h: matches h.npy: max abs error 0, max rel error 0 (rtol 0.01, atol 0.01)"]


def test_expect_mismatch_names_the_first_index_and_exits_1(work: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    want = np.full((4, 8), 3.25, np.float32)
    want[2, 5] = 3.5
    want[3, 0] = 3.2501
    np.save("s.npy", want)
    out, err = _eval(capsys, "a.npy", "b.npy", "--output-dir", "o", "--expect", "s=s.npy", status=1)
    assert out.splitlines()[-1] == (
        "s: DIFFERS from s.npy in 2 of 32 elements; first at [2, 5]: got 3.25, expected 3.5; "
        "max abs error 0.25, max rel error 0.0714 (rtol 1e-05, atol 1e-05)")
    assert err.splitlines()[-1] == "error: 1 of 1 compared output differs from the expected values: 's'"
    assert (work / "o" / "s.npy").exists()  # the outputs are written all the same
    out, _ = _eval(capsys, "a.npy", "b.npy", "--output-dir", "o", "--expect", "s=s.npy", "--rtol", "0.1")
    assert out.splitlines()[-1] == ("s: matches s.npy: max abs error 0.25, max rel error 0.0714 "
                                    "(rtol 0.1, atol 0.1)")
    _, err = _eval(capsys, "a.npy", "b.npy", "--output-dir", "o", "--expect", "s=s.npy",
                   "--expect", "h=s.npy",
                   "--atol", "0.2", "--rtol", "0", status=1)
    assert err.splitlines()[-1] == "error: 2 of 2 compared outputs differ from the expected values: 's', 'h'"


def test_expect_usage(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save("s.npy", np.zeros((4, 8), np.float32))
    _, err = _eval(capsys, "a.npy", "b.npy", "--expect", "s.npy", status=2)
    assert err == ("error: --expect s.npy: name the output (--expect NAME=FILE.npy); the kernel's outputs "
                   "are s, h\n")
    _, err = _eval(capsys, "a.npy", "b.npy", "--expect", "x=s.npy", status=2)
    assert err == "error: --expect x=s.npy: the kernel has no output named 'x' (outputs: s, h)\n"
    np.save("small.npy", np.zeros((4, 4), np.float32))
    _, err = _eval(capsys, "a.npy", "b.npy", "--expect", "s=small.npy", status=1)
    assert err == "error: small.npy: holds an array of shape (4, 4), but output 's' has shape (4, 8)\n"


def test_expect_without_a_name_for_one_output(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gather", "kern.py", "lost", "--arg", "float32[4,8]"]) == 0
    assert cli.main(["trace", "lost.klr"]) == 0
    np.save("want.npy", np.full((4, 8), 1.25, np.float32))
    capsys.readouterr()
    assert cli.main(["eval", "lost.core.klr", "a.npy", "--output-dir", "o", "--expect", "want.npy"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("out: matches want.npy: max abs error 0,")


def test_save_inputs_keeps_the_random_ones(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _eval(capsys, "a.npy", "--random", "7", "--save-inputs", "drawn", "--output-dir", "o")
    assert out.splitlines()[0] == "saved the random inputs to drawn (to run them again: b=drawn/b.npy)"
    assert sorted(p.name for p in (work / "drawn").iterdir()) == ["b.npy"]
    first = np.load(work / "o" / "s.npy")
    _eval(capsys, "a.npy", "b=drawn/b.npy", "--output-dir", "again")
    np.testing.assert_array_equal(np.load(work / "again" / "s.npy"), first)
    _, err = _eval(capsys, "a.npy", "b.npy", "--save-inputs", "none", "--output-dir", "o")
    assert "note: --save-inputs: no input was drawn at random, so nothing was written to none\n" in err
    assert not (work / "none").exists()


def test_random_help_says_what_it_draws(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ("draw every missing input from a generator seeded with SEED: floats standard normal, signed "
            "integers uniform in [-8, 15], unsigned integers in [0, 15], packed fp8/fp4 types uniform "
            "raw bits") in text


def test_bf16_outputs_raw_with_a_note_or_as_float32(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, err = _eval(capsys, "a.npy", "b.npy", "--output-dir", "o")
    assert out.splitlines()[1] == ("h: shape (4, 8) bfloat16  min 3.25  max 3.25  mean 3.25  -> o/h.npy")
    assert err == ("note: .npy has no bfloat16 type, so those outputs are stored as raw bytes: read them "
                   "with np.load(f).view(ml_dtypes.bfloat16), or pass --as-float32\n")
    assert np.load(work / "o" / "h.npy").dtype == np.dtype("V2")
    out, err = _eval(capsys, "a.npy", "b.npy", "--output-dir", "f", "--as-float32")
    assert out.splitlines()[1] == ("h: shape (4, 8) bfloat16 (written as float32)  min 3.25  max 3.25  "
                                   "mean 3.25  -> f/h.npy")
    assert err == ""
    np.testing.assert_array_equal(np.load(work / "f" / "h.npy"), np.full((4, 8), 3.25, np.float32))


def test_where_outputs_went_and_dtype_conversions(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save("a64.npy", np.full((4, 8), 1.25, np.float64))
    out, err = _eval(capsys, "a64.npy", "b.npy")
    assert out.splitlines()[0].endswith("-> ./s.npy")
    assert err.splitlines() == [
        "note: input 'a' is float64; it was converted to the kernel's float32",
        "note: .npy has no bfloat16 type, so those outputs are stored as raw bytes: read them with "
        "np.load(f).view(ml_dtypes.bfloat16), or pass --as-float32",
        "note: outputs were written to the current directory; --output-dir DIR puts them elsewhere"]


def test_eval_stats(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _eval(capsys, "a.npy", "b.npy", "--output-dir", "o", "--stats")
    stats = [line for line in out.splitlines() if line.startswith("stats:")]
    assert len(stats) == 3
    assert re.fullmatch(r"stats: time: read [0-9.]+ ms, inputs [0-9.]+ ms, run [0-9.]+ ms, write [0-9.]+ ms",
                        stats[0])
    assert stats[1] == "stats: 6 instructions run (0 branches taken): ncDmaCopy 4, ncCopy 1, tensorTensor 1"
    assert re.fullmatch(r"stats: peak memory [0-9.]+ MiB \(the whole process\); the kernel's tensors need "
                        r"about [0-9.]+ MiB", stats[2])


def test_trace_shows_prints_warnings_and_stats(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gather", "kern.py", "lost", "--arg", "float32[128,8]"]) == 0
    capsys.readouterr()
    assert cli.main(["trace", "lost.klr", "--stats"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "tracing lost for (128, 8)"
    assert re.fullmatch(r"stats: time [0-9.]+ ms, [0-9]+ steps, peak memory of the trace's values "
                        r"[0-9.]+ MiB",
                        out.splitlines()[2])
    assert out.splitlines()[3] == "stats: Core statements by operator: ncDmaCopy 5"
    assert err == (
        "kern.py:21:5: warning: the kernel writes the HBM tensor 'spare' but neither returns nor reads it, "
        "so what it writes is lost (return it to make it an output)\n"
        "   21 |     nl.store(spare, value=t)\n"
        "      |     ^~~~~~~~~~~~~~~~~~~~~~~~\n")


def test_trace_warns_about_a_kernel_without_outputs(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gather", "kern.py", "nothing", "--arg", "float32[128,8]"]) == 0
    capsys.readouterr()
    assert cli.main(["trace", "nothing.klr"]) == 0
    assert capsys.readouterr().err == (
        "kern.py:25:1: warning: the kernel returns no tensor and writes none of its inputs, so it has no "
        "outputs\n"
        "   25 | @nki.jit\n"
        "      | ^~~~~~~~\n")


def test_print_output_comes_before_a_trace_error(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gather", "kern.py", "broken", "--arg", "float32[128,8]"]) == 0
    capsys.readouterr()
    assert cli.main(["trace", "broken.klr"]) == 1
    out, err = capsys.readouterr()
    assert out == "shape (128, 8)\nsecond line\n"
    assert err.startswith("kern.py:33:20: error: ")


def test_info_lists_parameters_and_recorded_arguments(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gather", "kern.py", "two", "--arg", "float32[4,8]", "--arg", "b=bfloat16[4,8]",
                     "--grid", "2", "-o", "g.klr"]) == 0
    capsys.readouterr()
    assert cli.main(["info", "g.klr"]) == 0
    assert capsys.readouterr().out.splitlines()[-3:] == [
        "parameters: a, b",
        "recorded arguments: a=tensor[4, 8]:float32, b=tensor[4, 8]:bfloat16",
        "flag: ('spmd_grid', (2,))"]
    assert cli.main(["gather", "kern.py", "two", "-o", "bare.klr"]) == 0
    capsys.readouterr()
    assert cli.main(["info", "bare.klr"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "recorded arguments: none (give them to klr trace)"


@pytest.mark.parametrize("argv", [
    ["gather", "missing.py", "f"],
    ["gather", "kern.py", "two", "--args-json", "missing.json"],
    ["trace", "missing.klr"],
    ["eval", "missing.klr"],
    ["eval", "two.core.klr", "missing.npy", "b.npy"],
    ["eval", "two.core.klr", "a.npy", "b.npy", "--expect", "s=missing.npy"],
    ["check", "missing.klr"],
    ["info", "missing.klr"],
    ["run", "missing.py"],
])
def test_a_missing_input_file_is_exit_1_everywhere(work: Path, capsys: pytest.CaptureFixture[str],
                                                   argv: list[str]) -> None:
    assert cli.main(argv) == 1
    name = next(a.partition("=")[2] or a for a in argv if "missing" in a)
    assert capsys.readouterr().err == f"error: cannot read {name}: No such file or directory\n"


def test_progress_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from klr.cli import evaluate

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    clock = iter([0.0, 0.5, 2.0, 3.0])
    monkeypatch.setattr(evaluate.time, "perf_counter", lambda: next(clock))
    with evaluate._Progress() as progress:
        assert progress.active
        progress.show(10, 100)  # under a second: nothing shown
        progress.show(50, 100)
        progress.show(150, 100)
    assert screen.getvalue() == ("\reval: 50% (50 of 100 statements, 2.0 s)"
                                 "\reval: 150 statements (100 in the kernel, loops repeat some, 3.0 s)"
                                 "\r\x1b[K")
