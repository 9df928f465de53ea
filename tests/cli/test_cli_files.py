"""The command line against hostile files and file systems: output names that try to leave
--output-dir, planted symlinks, FIFOs, directories and huge files as inputs, outputs over
inputs, standard output, closed pipes, and the --limit option. No test touches a real device."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import klr as api
from klr.cli import main as cli
from tests.cli.test_cli import ADD, klr

ADD_ARGS = ("--arg", "a=float32[4,4]", "--arg", "b=float32[4,4]")
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

NAMED = textwrap.dedent("""\
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl

    @nki.jit
    def named(a):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm, name=NAME)
        nl.store(out, value=nl.load(a))
        return out
    """)

CONSTANT = textwrap.dedent("""\
    import numpy as np
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl

    @nki.jit
    def scale_rows(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        w = nl.shared_constant(np.arange(128).reshape(128, 1).astype(np.float32), dtype=nl.float32)
        nl.store(out, value=nl.multiply(nl.load(x), nl.load(w)))
        return out
    """)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def core_with_outputs(here: Path, *names: str) -> str:
    """A traced copy kernel whose output tensors are renamed to ``names`` (as a hostile file could)."""
    (here / "add.py").write_text(ADD)
    py = api.gather(here / "add.py", np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), name="add")
    kernel = api.trace(py).kernel
    (out,) = kernel.outputs
    renamed = tuple(dataclasses.replace(out, name=n) for n in names)
    api.save(here / "k.core.klr", dataclasses.replace(kernel, outputs=renamed))
    return "k.core.klr"


# --- output names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "file"), [
    ("../../../x", "%2E.%2F..%2F..%2Fx.npy"),
    ("/etc/passwd", "%2Fetc%2Fpasswd.npy"),
    ("..", "%2E..npy"),
    (".", "%2E.npy"),
    (".hidden", "%2Ehidden.npy"),
    ("a\nb\0c", "a%0Ab%00c.npy"),
    ("100%", "100%25.npy"),
    ("caf\u00e9 \u202e", "caf%C3%A9%20%E2%80%AE.npy"),
    ("out.2", "out.2.npy"),
    ("x" * 300, "x" * 200 + f"~{hashlib.sha256(b'x' * 300).hexdigest()[:16]}.npy"),
])
def test_output_names_never_leave_the_output_directory(here: Path, capsys: pytest.CaptureFixture[str],
                                                        name: str, file: str) -> None:
    from klr.cli.eval_files import output_file_name

    assert output_file_name(name) == file
    core = core_with_outputs(here, name)
    status, out, err = run(capsys, "eval", core, "--random", "0", "--output-dir", "out")
    assert status == 0, err
    assert [p.name for p in (here / "out").iterdir()] == [file]
    assert [p.name for p in here.iterdir() if p.name != "out"] == ["add.py", "k.core.klr"]
    assert out.endswith(f"-> {os.path.join('out', file)}\n")
    assert "\n" not in out[:-1] and "\x00" not in out and "\u202e" not in out


def test_long_names_keep_a_digest(here: Path) -> None:
    from klr.cli.eval_files import output_file_name

    a, b = output_file_name("x" * 300), output_file_name("x" * 301)
    assert a != b and len(a.encode()) <= 255 and len(output_file_name("\u00e9" * 200).encode()) <= 255


def test_names_differing_only_in_case_are_refused(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    core = core_with_outputs(here, "Out", "out")
    status, _, err = run(capsys, "eval", core, "--random", "0", "--output-dir", "out")
    assert status == 1
    assert err == ("error: outputs 'Out' and 'out' would be written to Out.npy and out.npy, which differ "
                   "only in case: a case-insensitive file system would write both to one file\n")
    assert not (here / "out").exists()


def test_two_outputs_of_one_name_and_an_empty_name(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "eval", core_with_outputs(here, "o", "o"), "--random", "0")
    assert (status, err) == (1, "error: the kernel has two outputs named 'o'\n")
    status, _, err = run(capsys, "eval", core_with_outputs(here, ""), "--random", "0")
    assert (status, err) == (1, "error: an output tensor has an empty name, which cannot name its .npy "
                                "file\n")


def test_a_tracer_chosen_name_reaches_the_file_system_escaped(here: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (here / "n.py").write_text(NAMED.replace("NAME", repr("../../escape")))
    assert run(capsys, "gather", "n.py", "named", "--arg", "a=float32[4,4]")[0] == 0
    assert run(capsys, "trace", "named.klr")[0] == 0
    status, _, err = run(capsys, "eval", "named.core.klr", "--random", "1", "--output-dir", "o")
    assert status == 0, err
    assert [p.name for p in (here / "o").iterdir()] == ["%2E.%2F..%2Fescape.npy"]


def test_a_planted_symlink_in_the_output_directory_is_replaced(here: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    core = core_with_outputs(here, "out")
    (here / "victim").write_bytes(b"precious")
    (here / "o").mkdir()
    (here / "o" / "out.npy").symlink_to(here / "victim")
    assert run(capsys, "eval", core, "--random", "0", "--output-dir", "o")[0] == 0
    assert (here / "victim").read_bytes() == b"precious"
    assert not (here / "o" / "out.npy").is_symlink() and np.load(here / "o" / "out.npy").shape == (4, 4)


def test_an_output_over_an_input_is_an_error(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    core = core_with_outputs(here, "a")
    np.save(here / "a.npy", np.ones((4, 4), np.float32))
    status, _, err = run(capsys, "eval", core, "a.npy", "b=a.npy", "--output-dir", ".")
    assert status == 1
    assert err == "error: cannot write ./a.npy: it is an input of this command; choose another output file\n"
    assert np.array_equal(np.load(here / "a.npy"), np.ones((4, 4)))


def test_output_directory_in_the_way(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    core = core_with_outputs(here, "out")
    (here / "file").write_bytes(b"")
    status, _, err = run(capsys, "eval", core, "--random", "0", "--output-dir", "file")
    assert (status, err) == (1, "error: cannot create the directory file: it exists and is not a directory\n")
    status, _, err = run(capsys, "eval", core, "--random", "0", "--output-dir", "file/sub")
    assert (status, err) == (1, "error: cannot create the directory file/sub: Not a directory\n")


# --- inputs that are not regular files ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["info", "trace", "eval"])
def test_fifos_directories_and_huge_files_are_refused(here: Path, capsys: pytest.CaptureFixture[str],
                                                      command: str) -> None:
    os.mkfifo("fifo.klr")
    os.mkdir("dir.klr")
    with open("big.klr", "wb") as f:
        f.truncate(5 * 2**30)
    for name, why in (("fifo.klr", "it is a FIFO, not a regular file"),
                      ("dir.klr", "it is a directory, not a regular file"),
                      ("big.klr", "it has 5368709120 bytes, more than the limit of 2147483648 "
                                  "(--limit max-file-bytes=N raises it)")):
        status, out, err = run(capsys, command, name)
        assert (status, out, err) == (1, "", f"error: cannot read {name}: {why}\n")


def test_npy_inputs_at_the_command_line(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    core = core_with_outputs(here, "out")
    np.save(here / "obj.npy", np.array([None], dtype=object), allow_pickle=True)
    (here / "empty.npy").write_bytes(b"")
    os.mkfifo("fifo.npy")
    for name, why in (("obj.npy", "obj.npy: holds Python objects (dtype object), which klr does not read: "
                                  "loading them would unpickle arbitrary data"),
                      ("empty.npy", "empty.npy: not a .npy file: it is empty"),
                      ("fifo.npy", "cannot read fifo.npy: it is a FIFO, not a regular file")):
        status, _, err = run(capsys, "eval", core, name, "--random", "0")
        assert (status, err) == (1, f"error: {why}\n")


def test_shared_constants_are_checked(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "sc.py").write_text(CONSTANT)
    assert run(capsys, "gather", "sc.py", "scale_rows", "--arg", "x=float32[128,8]")[0] == 0
    assert run(capsys, "trace", "scale_rows.klr", "-o", "sc.klr")[0] == 0
    kernel = api.load("sc.klr")
    (const,) = kernel.sharedConstants
    (here / "secret.npy").write_bytes((here / const.fileName).read_bytes())
    evil = dataclasses.replace(const, fileName="../secret.npy")
    api.save(here / "evil.klr", dataclasses.replace(kernel, sharedConstants=(evil,)))
    status, _, err = run(capsys, "eval", "evil.klr", "--random", "0")
    assert (status, err) == (1, "error: evil.klr: shared constant 'constant' has the file name "
                                "'../secret.npy'; it must be shared_constants/<64 lowercase hex "
                                "digits>.npy\n")
    values = np.load(here / const.fileName)
    values[5, 0] = -1
    np.save(here / const.fileName, values)
    status, _, err = run(capsys, "eval", "sc.klr", "--random", "0")
    assert (status, err) == (1, f"error: {const.fileName}: the contents of shared constant 'constant' do not "
                                "match the digest in its file name (the file was changed or replaced)\n")


# --- writing outputs -------------------------------------------------------------------------------


def test_trace_refuses_a_planted_shared_constants_symlink(here: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (here / "sc.py").write_text(CONSTANT)
    assert run(capsys, "gather", "sc.py", "scale_rows", "--arg", "x=float32[128,8]")[0] == 0
    (here / "b").mkdir()
    (here / "elsewhere").mkdir()
    (here / "b" / "shared_constants").symlink_to(here / "elsewhere")
    status, _, err = run(capsys, "trace", "scale_rows.klr", "-o", "b/sc.klr")
    assert status == 1
    assert err == ("error: cannot write into b/shared_constants: it is a symbolic link, and klr does not "
                   "follow symbolic links inside the directories it fills\n")
    assert list((here / "elsewhere").iterdir()) == [] and not (here / "b" / "sc.klr").exists()
    (here / "b" / "shared_constants").unlink()
    (here / "b" / "shared_constants").write_bytes(b"")
    status, _, err = run(capsys, "trace", "scale_rows.klr", "-o", "b/sc.klr")
    assert (status, err) == (1, "error: cannot write into b/shared_constants: it is a regular file, not a "
                                "directory\n")


@pytest.mark.skipif(AS_ROOT, reason="root writes into a read-only directory anyway")
def test_trace_into_a_read_only_directory(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "sc.py").write_text(CONSTANT)
    assert run(capsys, "gather", "sc.py", "scale_rows", "--arg", "x=float32[128,8]")[0] == 0
    (here / "ro").mkdir()
    (here / "ro").chmod(0o555)
    try:
        status, _, err = run(capsys, "trace", "scale_rows.klr", "-o", "ro/sc.klr")
    finally:
        (here / "ro").chmod(0o755)
    assert (status, err) == (1, "error: cannot create the directory ro/shared_constants: Permission denied\n")
    assert list((here / "ro").iterdir()) == []


def test_shared_constants_need_a_file_output(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "sc.py").write_text(CONSTANT)
    assert run(capsys, "gather", "sc.py", "scale_rows", "--arg", "x=float32[128,8]")[0] == 0
    os.mkfifo("pipe")
    status, _, err = run(capsys, "trace", "scale_rows.klr", "-o", "pipe")
    assert (status, err) == (2, "error: this kernel has shared constants, which are written beside the Core "
                                "file in shared_constants/, so -o must name a file, not pipe\n")


def test_an_output_over_the_input_or_the_source_is_an_error(here: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (here / "add.py").write_text(ADD)
    status, _, err = run(capsys, "gather", "add.py", "add", "-o", "add.py")
    assert (status, err) == (1, "error: cannot write add.py: it is an input of this command; choose another "
                                "output file\n")
    assert (here / "add.py").read_text() == ADD
    assert run(capsys, "gather", "add.py", "add", *ADD_ARGS)[0] == 0
    status, _, err = run(capsys, "trace", "add.klr", "-o", "add.klr")
    assert (status, err) == (1, "error: cannot write add.klr: it is an input of this command; choose another "
                                "output file\n")


def test_a_symlinked_output_is_written_at_its_target(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "add.py").write_text(ADD)
    (here / "build").mkdir()
    (here / "link.klr").symlink_to(here / "build" / "add.klr")
    assert run(capsys, "gather", "add.py", "add", "-o", "link.klr")[0] == 0
    assert (here / "link.klr").is_symlink() and api.load(here / "build" / "add.klr").entry == "add.add"


def test_outputs_get_the_umask_permissions(here: Path) -> None:
    (here / "add.py").write_text(ADD)
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[2])}
    done = subprocess.run(["sh", "-c", f"umask 007 && exec {sys.executable} -m klr gather add.py add"],
                          cwd=here, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((here / "add.klr").stat().st_mode) == 0o660


def test_a_fifo_output_is_written_in_place(here: Path) -> None:
    (here / "add.py").write_text(ADD)
    os.mkfifo(here / "pipe")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append((here / "pipe").read_bytes()))
    reader.start()
    done = klr("gather", "add.py", "add", "-o", "pipe", cwd=here)
    reader.join(timeout=120)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO((here / "pipe").lstat().st_mode)
    assert got and got[0].startswith(b"\xd9\xd9\xf7")


def test_dash_writes_to_standard_output(here: Path) -> None:
    (here / "add.py").write_text(ADD)
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "klr", "gather", "add.py", "add", "-o", "-"], cwd=here,
                          env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert klr("gather", "add.py", "add", cwd=here).returncode == 0
    assert done.stdout == (here / "add.klr").read_bytes()
    assert done.stderr.decode() == "gathered add.add: 1 functions, 0 classes, 0 globals -> -\n"


# --- closed pipes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("args,columns,code", [
    (["list"], "80", 141), (["info", "add.klr", "--dump", "json"], "80", 141),
    (["--help"], "80", 141),   # the stored help text (found by bench/fuzz.py: `klr --help | head -1`)
    # argparse prints these and ignores a failed write itself: quiet, and the exit it chose
    (["--help"], "100", 0), (["gather", "--help"], "80", 0),
])
def test_a_closed_pipe_ends_quietly(here: Path, args: list[str], columns: str, code: int) -> None:
    (here / "add.py").write_text(ADD)
    assert klr("gather", "add.py", "add", cwd=here).returncode == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head -1` once it has its line: every write fails with EPIPE
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[2]), "COLUMNS": columns}
    try:
        done = subprocess.run([sys.executable, "-m", "klr", *args], cwd=here, env=env, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (code, "")


def test_a_full_standard_output_is_an_error(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sys, "stdout", Full())
    assert cli.main(["list"]) == 1
    assert capsys.readouterr().err == "error: cannot write standard output: No space left on device\n"


# --- options ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("grid", ["two", "", "0", "1,,2", "-1", "1e3", "\u0661", "1" * 19, "(2,2", "2;2"])
def test_grid_garbage_is_a_usage_error(here: Path, capsys: pytest.CaptureFixture[str], grid: str) -> None:
    (here / "add.py").write_text(ADD)
    status, _, err = run(capsys, "gather", "add.py", "add", "--grid", grid)
    shown = repr(grid if len(grid) <= 40 else grid[:40] + "...")
    assert (status, err) == (2, f"error: --grid takes comma-separated positive integers, got {shown}\n")


def test_grids_in_every_accepted_spelling(here: Path) -> None:
    assert [cli._grid(g) for g in ("2", "2,3", "(2, 3)", "(4,)", " 2 , 2 ")] == [
        (2,), (2, 3), (2, 3), (4,), (2, 2)]


def test_limits_on_the_command_line(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "add.py").write_text(ADD)
    status, _, err = run(capsys, "gather", "add.py", "add", "--limit", "max-source-bytes=10")
    assert (status, err) == (1, f"error: cannot read add.py: it has {len(ADD)} bytes, more than the limit "
                                "of 10 (--limit max-source-bytes=N raises it)\n")
    status, _, err = run(capsys, "gather", "add.py", "add", "--limit", "max-stmts=1")
    assert (status, err) == (2, "error: unknown limit 'max-stmts' for klr gather; the limits are: "
                                "max-file-bytes, max-source-bytes\n")
    assert run(capsys, "gather", "add.py", "add", *ADD_ARGS)[0] == 0
    status, _, err = run(capsys, "trace", "add.klr", "--limit", "max-stmts=1")
    assert status == 1 and "the kernel emits more than 1 statements" in err
    status, out, _ = run(capsys, "trace", "add.klr", "--limit", "help")
    assert status == 0 and "max-stmts" in out and "max-file-bytes" in out
    status, out, _ = run(capsys, "eval", "whatever.klr", "--limit", "help")
    assert status == 0 and out.splitlines()[0].split()[:2] == ["max-memory", "4294967296"]
    assert run(capsys, "trace", "add.klr")[0] == 0
    status, _, err = run(capsys, "eval", "add.core.klr", "--random", "0", "--limit", "max-memory=100")
    assert status == 1 and err.startswith("error: running this kernel needs about 384 bytes")
    status, _, err = run(capsys, "info", "add.klr", "--limit", "max-file-bytes=1k",
                         "--limit", "max-file-bytes=5")
    assert status == 1 and "more than the limit of 5 " in err


def test_help_says_where_the_limits_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("gather", "trace", "eval", "info"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert "'--limit help' lists this command's limits" in " ".join(capsys.readouterr().out.split())


def test_four_huge_random_inputs_fail_fast(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "big.py").write_text(textwrap.dedent("""\
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl

        @nki.jit
        def big(a, b, c, d):
            out = nl.ndarray((128, 4), dtype=a.dtype, buffer=nl.shared_hbm)
            nl.store(out, value=nl.load(a[0:128, 0:4]))
            return out
        """))
    spec = [x for n in "abcd" for x in ("--arg", f"{n}=uint8[32768,32768]")]
    assert run(capsys, "gather", "big.py", "big", *spec)[0] == 0
    assert run(capsys, "trace", "big.klr")[0] == 0
    status, _, err = run(capsys, "eval", "big.core.klr", "--random", "0")
    assert status == 1
    first = err.splitlines()[0]
    assert first.startswith("error: running this kernel needs about 128849")
    assert first.endswith(" bytes (its tensors and the interpreter's bookkeeping), more than the eval "
                          "memory limit of 4294967296 (--limit max-memory=N raises it)")


# --- source lines under errors ---------------------------------------------------------------------


def test_eval_errors_show_source_lines_only_from_below_the_current_directory(here: Path) -> None:
    (here / "k.py").write_text(textwrap.dedent("""\
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl

        @nki.jit
        def k(a):
            out = nl.ndarray((128, 64), dtype=nl.float32, buffer=nl.shared_hbm)
            t = nl.ndarray((128, 64), dtype=nl.float32, buffer=nl.sbuf)
            nl.store(out, value=t)  # SOURCE LINE
            return out
        """))
    for source, shown in (("k.py", True), (str(here / "k.py"), False)):  # each in its own process
        assert klr("gather", source, "k", "--arg", "a=float32[128,64]", cwd=here).returncode == 0
        assert klr("trace", "k.klr", cwd=here).returncode == 0
        done = klr("eval", "k.core.klr", "--random", "0", "--strict", cwd=here)
        assert done.returncode == 1 and f"{source}:8:5: error: " in done.stderr
        assert ("SOURCE LINE" in done.stderr) is shown


def test_constants_of_a_symlinked_core_file_are_beside_its_target(
        here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "sc.py").write_text(CONSTANT)
    assert run(capsys, "gather", "sc.py", "scale_rows", "--arg", "x=float32[128,8]")[0] == 0
    (here / "build").mkdir()
    (here / "sc.klr").symlink_to(here / "build" / "sc.klr")
    assert run(capsys, "trace", "scale_rows.klr", "-o", "sc.klr")[0] == 0
    assert len(list((here / "build" / "shared_constants").iterdir())) == 1
    assert not (here / "shared_constants").exists()
    status, _, err = run(capsys, "eval", "sc.klr", "--random", "0", "--output-dir", "o")
    assert status == 0, err
