"""The klr command line: help, diagnostics rendering, exit codes and output files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from klr.cli import main as cli

SUBCOMMANDS = ("gather", "trace", "eval", "info", "list")

ADD = textwrap.dedent("""\
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl

    @nki.jit
    def add(a, b):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        ta = nl.load(a)
        tb = nl.load(b)
        nl.store(out, value=nl.add(ta, tb))
        return out
    """)


SRC = str(Path(cli.__file__).resolve().parents[2])  # works installed or from a checkout


def klr(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "klr", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False, env=env)


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("klr ")
    for sub in SUBCOMMANDS:
        with pytest.raises(SystemExit) as done:
            cli.main([sub, "--help"])
        assert done.value.code == 0
        assert f"usage: klr {sub}" in capsys.readouterr().out


def test_help_does_not_import_heavy_layers() -> None:
    code = ("import sys, klr.cli.main as m; m.build_parser(); "
            "print(sorted(n for n in ('numpy', 'klr.tracer', 'klr.interp', 'klr.core') if n in sys.modules))")
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


def test_pipeline_writes_outputs(tmp_path: Path) -> None:
    (tmp_path / "add.py").write_text(ADD)
    done = klr("gather", "add.py", "add", "--arg", "a=float32[128,64]", "--arg", "b=float32[128,64]",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "add.klr").exists()
    info = klr("info", "add.klr", cwd=tmp_path)
    assert "entry: add.add" in info.stdout and "functions (1): add.add" in info.stdout
    done = klr("trace", "add.klr", "-o", "add.core.klr", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    a = np.arange(128 * 64, dtype=np.float32).reshape(128, 64)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", 2 * a)
    done = klr("eval", "add.core.klr", "a.npy", "b=b.npy", "--output-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert np.array_equal(np.load(tmp_path / "out" / "out.npy"), 3 * a)
    pretty = klr("info", "add.core.klr", "--dump", "pretty", cwd=tmp_path).stdout
    assert "ncDmaCopy" in pretty and "tensorTensor" in pretty and "out[0:128, 0:64]:float32@hbm" in pretty
    dumped = json.loads(klr("info", "add.core.klr", "--dump", "json", cwd=tmp_path).stdout)
    assert dumped["name"] == "add" and dumped["inputs"][0]["name"] == "a"
    assert klr("info", "add.core.klr", "--dump", "sexp", cwd=tmp_path).stdout.startswith("(LncKernel")


def test_user_error_renders_position_and_caret(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def k(a):\n    return a +\n")
    done = klr("gather", "bad.py", "k", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("bad.py:2:")
    lines = done.stderr.splitlines()
    assert ": error: " in lines[0]
    assert lines[1].endswith("|     return a +") and "^" in lines[2]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "k.klr").exists()


def test_trace_error_leaves_no_partial_output(tmp_path: Path) -> None:
    src = ADD.replace("nl.store(out, value=nl.add(ta, tb))", "nl.store(out[0:64, :], value=nl.add(ta, tb))")
    (tmp_path / "add.py").write_text(src)
    assert klr("gather", "add.py", "add", "--arg", "a=float32[128,64]", "--arg", "b=float32[128,64]",
               cwd=tmp_path).returncode == 0
    done = klr("trace", "add.klr", "-o", "add.core.klr", cwd=tmp_path)
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first == "add.py:9:5: error: store of a [128, 64] tile into a [64, 64] region"
    assert not (tmp_path / "add.core.klr").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".add.core.klr")]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    done = klr("gather", "missing.py", "k", "--grid", "two", cwd=tmp_path)
    assert done.returncode == 2
    assert "--grid takes comma-separated positive integers" in done.stderr


def test_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "junk.klr").write_bytes(b"hello world")
    done = klr("info", "junk.klr", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == ("error: junk.klr: not a KLR file: it does not start with the KLR "
                                   "header (d9 d9 f7 83)")


def test_internal_error_exits_70(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(args: object) -> int:
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(cli._COMMANDS, "list", broken)
    assert cli.main(["list"]) == 70
    err = capsys.readouterr().err
    assert err.startswith("internal error: ZeroDivisionError: boom")
    assert "Traceback" not in err
    assert cli.main(["list", "--debug"]) == 70
    assert "Traceback" in capsys.readouterr().err


def test_running_out_of_memory_is_an_error(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    def hungry(args: object) -> int:
        raise MemoryError

    monkeypatch.setitem(cli._COMMANDS, "list", hungry)
    assert cli.main(["list"]) == 1
    assert capsys.readouterr().err == ("error: out of memory: the machine refused an allocation "
                                       "before klr's limits stopped it (lower them with --limit, see "
                                       "--limit help)\n")


def test_warnings_exit_0(tmp_path: Path) -> None:
    src = textwrap.dedent("""\
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl

        @nki.jit
        def k(a):
            out = nl.ndarray((128, 64), dtype=nl.float32, buffer=nl.shared_hbm)
            t = nl.ndarray((128, 64), dtype=nl.float32, buffer=nl.sbuf)
            nl.store(out, value=t)
            return out
        """)
    (tmp_path / "k.py").write_text(src)
    assert klr("gather", "k.py", "k", "--arg", "a=float32[128,64]", cwd=tmp_path).returncode == 0
    assert klr("trace", "k.klr", "-o", "k.core.klr", cwd=tmp_path).returncode == 0
    done = klr("eval", "k.core.klr", "--random", "0", "--output-dir", "out", cwd=tmp_path)
    assert done.returncode == 0
    assert ": warning: output 'out' " in done.stderr
    strict = klr("eval", "k.core.klr", "--random", "0", "--output-dir", "out2", "--strict", cwd=tmp_path)
    assert strict.returncode == 1 and ": error: " in strict.stderr
    assert not (tmp_path / "out2" / "out.npy").exists()


def test_list_prints_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "nki.isa.nc_matmul"]) == 0
    out = capsys.readouterr().out
    assert "nki.isa.nc_matmul(" in out and "ncMatMul" in out


def test_shared_constants_travel_as_npy_side_files(tmp_path: Path) -> None:
    src = textwrap.dedent("""\
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
    (tmp_path / "sc.py").write_text(src)
    assert klr("gather", "sc.py", "scale_rows", "--arg", "x=float32[128,8]", cwd=tmp_path).returncode == 0
    (tmp_path / "build").mkdir()
    done = klr("trace", "scale_rows.klr", "-o", "build/sc.klr", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    side = list((tmp_path / "build" / "shared_constants").glob("*.npy"))
    assert len(side) == 1
    assert np.array_equal(np.load(side[0]).ravel(), np.arange(128, dtype=np.float32))
    x = np.ones((128, 8), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    done = klr("eval", "build/sc.klr", "x.npy", "--output-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert np.array_equal(np.load(tmp_path / "out" / "out.npy"), np.arange(128.0)[:, None] * x)


@pytest.mark.parametrize("prefix", ["nisa.nc_matmul", "neuronxcc.nki.isa.nc_matmul", "nki.isa.nc_matmul"])
def test_list_accepts_the_kernel_spellings_of_a_prefix(prefix: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", prefix]) == 0
    out = capsys.readouterr().out
    # each dialect's own signature, and a line of meaning
    assert "nki.isa.nc_matmul(dst, stationary, moving" in out and "[beta2]" in out
    assert "nki.isa.nc_matmul(stationary, moving" in out and "[legacy]" in out
    assert "Matrix multiply on the PE array" in out


def test_list_nl_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "nl.load_transpose2d"]) == 0
    assert "nki.language.load_transpose2d(" in capsys.readouterr().out


def test_list_an_unknown_prefix_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "nq."]) == 2
    assert ("error: no builtin or constant name starts with 'nq.' (prefixes: nl., nisa., nki., "
            "neuronxcc.nki., numpy., math., builtins.)") in capsys.readouterr().err


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert cli.main(["list", "nisa.", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["nki.isa.tensor_copy"]["emits"] == ["ncCopy"]
    assert set(rows["nki.isa.tensor_copy"]["forms"]) == {"beta2", "legacy"}
    assert rows["nki.isa.topk"]["kind"] == "unsupported"
    assert rows["nki.isa.quantize_mx"]["emits"] == ["quantizeMX"]
