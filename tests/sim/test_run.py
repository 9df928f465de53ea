"""klr run: a user's program or test suite with klr's NKI, as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from klr.cli import main as cli
from klr.cli.run import split

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

KERNEL = """
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl


    @nki.jit
    def add_one(a):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.add(nl.load(a), 1.0))
        return out
"""


def klr_run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "klr", "run", *argv], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


def write(where: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (where / name).write_text(textwrap.dedent(text))


def test_the_example_kernels_own_tests_pass_under_klr_run_pytest() -> None:
    done = klr_run("--stats", "-m", "pytest", "-p", "no:cacheprovider", "examples/tests", cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "13 passed" in done.stdout
    assert done.stderr.splitlines()[-1].startswith("klr: 13 kernel calls simulated: gather ")


def test_the_pytest_plugin(tmp_path: Path) -> None:
    write(tmp_path, {"kern.py": KERNEL, "test_kern.py": """
        import numpy as np
        from kern import add_one


        def test_add_one():
            a = np.zeros((128, 4), np.float32)
            assert np.allclose(add_one(a), a + 1)
    """})
    argv = [sys.executable, "-m", "pytest", "-p", "klr.pytest_plugin", "-p", "no:cacheprovider",
            "test_kern.py"]
    done = subprocess.run(argv, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "klr: 1 kernel call simulated: gather " in done.stdout


def test_a_script_with_its_arguments_and_exit_status(tmp_path: Path) -> None:
    write(tmp_path, {"kern.py": KERNEL, "prog.py": """
        import sys
        import numpy as np
        from kern import add_one

        print(sys.argv[1:], __name__)
        print(add_one(np.zeros((128, 2), np.float32)).sum())
        sys.exit(int(sys.argv[1]))
    """})
    done = klr_run("prog.py", "3", "--help", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (3, "['3', '--help'] __main__\n256.0\n", "")


def test_a_failing_program_shows_its_traceback_without_klr_frames(tmp_path: Path) -> None:
    write(tmp_path, {"kern.py": KERNEL, "prog.py": """
        import numpy as np
        from kern import add_one

        add_one(np.zeros((256, 2), np.float32))
    """})
    done = klr_run("prog.py", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == textwrap.dedent("""\
        Traceback (most recent call last):
          File "prog.py", line 5, in <module>
            add_one(np.zeros((256, 2), np.float32))
        klr.KernelError: kern.py:9:32: error: tensor 'tensor0' has 256 partitions; SBUF has 128
            9 |     nl.store(out, value=nl.add(nl.load(a), 1.0))
              |                                ^~~~~~~~~~
        """)
    debug = klr_run("--debug", "prog.py", cwd=tmp_path)
    assert "klr/sim/simulate.py" in debug.stderr


def test_a_module(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": "import sys\nprint(sys.argv)\n"})
    done = klr_run("-m", "mod", "x", "-y", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"[{str(tmp_path / 'mod.py')!r}, 'x', '-y']\n")


def test_a_missing_script_or_module_is_an_input_error(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "nope.py"]) == 1
    assert capsys.readouterr().err == "error: cannot read nope.py: No such file or directory\n"
    assert cli.main(["run", "."]) == 1
    assert capsys.readouterr().err == "error: cannot read .: it is a directory, not a Python script\n"
    done = klr_run("-m", "no_such_module", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1, "error: cannot run module 'no_such_module': no module of that name on the path\n")


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run"]) == 2
    assert capsys.readouterr().err == ("error: klr run needs a script or -m MODULE (klr run kern_test.py, "
                                       "klr run -m pytest)\n")
    assert cli.main(["run", "-m"]) == 2
    assert capsys.readouterr().err == "error: klr run -m needs a module name (klr run -m pytest tests/)\n"


def test_split_keeps_the_programs_arguments() -> None:
    assert split(["--stats", "-m", "pytest", "-x", "--stats"]) == (
        ["--stats"], None, "pytest", ["-x", "--stats"])
    assert split(["s.py", "-m", "x"]) == ([], "s.py", None, ["-m", "x"])
    assert split(["--debug"]) == (["--debug"], None, None, [])


def test_limits_apply_to_every_kernel_the_program_runs(tmp_path: Path) -> None:
    write(tmp_path, {"kern.py": KERNEL, "prog.py": """
        import numpy as np
        from kern import add_one

        add_one(np.zeros((128, 2), np.float32))
    """})
    done = klr_run("--limit", "max-stmts=2", "prog.py", cwd=tmp_path)
    assert done.returncode == 1
    assert "klr.KernelError: kern.py:9:5: error: the kernel emits more than 2 statements" in done.stderr
    done = klr_run("--limit", "nope=1", "prog.py", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown limit 'nope' for klr run; the limits are: max-depth, ")
