"""What bench/fuzz.py found (issue 8), one regression test per failure class.

Every one of these failed when the fuzzer found it (a crash, a hang, an escape from the tracer
sandbox, a write outside the output directory, a result depending on the hash seed); each test
states the behaviour we want. A new finding arrives here marked ``xfail(strict=True)`` with what
fails, so the suite stays green until the fix lands and strict xfail then forces the mark off.

Cases that would hang or exhaust memory run as ``klr`` subprocesses under a 768 MiB
address-space limit, 6 s of CPU and 45 s of wall time, up to eight at a time, started when this
module starts (``background``), with the trace budgets lowered below those limits: a budget, not
the operating system, must stop them. The limits never measure speed.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import klr
from klr.cli.main import main
from klr.errors import GatherError, KlrError, TraceError
from klr.format.file import to_bytes
from klr.python.gather import gather_file
from tests.fuzz.attacks import BIG_INPUTS, CANARY_ENV, HOST_MARKERS, NAMED_OUTPUT, blowup, kernel_source
from tests.fuzz.hostile import SPARSE_SIZE, npy
from tests.fuzz.support import outcome


def gather_text(tmp_path: Path, source: str | bytes) -> object:
    path = tmp_path / "k.py"
    path.write_bytes(source if isinstance(source, bytes) else source.encode())
    return gather_file(str(path), "kernel")


def trace_text(tmp_path: Path, source: str) -> Any:
    path = tmp_path / "k.py"
    path.write_text(source)
    return klr.trace(klr.gather(str(path), name="kernel"))


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_clean(code: int | None, err: str) -> None:
    """What every bad input must give: exit 1 or 2, one ``error:`` and no traceback."""
    assert code is not None, "no answer within the guard: a hang"
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    assert code in (1, 2) and "error: " in err, (code, err[-2000:])


# ---- gather ----------------------------------------------------------------------------------

def test_a_hex_literal_too_long_to_print_is_a_gather_error(tmp_path: Path) -> None:
    with pytest.raises(GatherError) as info:
        gather_text(tmp_path, "def kernel(a=1):\n    return 0x" + "f" * 4300 + "\n")
    assert info.value.pos is not None and info.value.pos.line == 2


@pytest.mark.parametrize("codec", ["uu", "rot13", "zlib_codec"])
def test_a_coding_cookie_of_a_non_text_codec_is_an_error(tmp_path: Path, codec: str) -> None:
    with pytest.raises(KlrError):
        gather_text(tmp_path, f"# -*- coding: {codec} -*-\ndef kernel(a=1):\n    return a\n")


@pytest.mark.parametrize("codec", ["undefined", "punycode"])
def test_a_source_its_coding_cookie_cannot_decode_is_an_error(tmp_path: Path, codec: str) -> None:
    with pytest.raises(KlrError):
        gather_text(tmp_path, f"# -*- coding: {codec} -*-\ndef kernel(a=1):\n    return a\n")


@pytest.mark.parametrize("expr", ["-" * 100_000 + "1", "lambda: " * 100_000 + "0"], ids=["minus", "lambda"])
def test_an_expression_nested_beyond_the_parser_is_an_error(tmp_path: Path, expr: str) -> None:
    with pytest.raises(KlrError):
        gather_text(tmp_path, f"def kernel(a=1):\n    return {expr}\n")


def test_a_lone_surrogate_in_a_string_literal_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KlrError):
        to_bytes(gather_text(tmp_path, "def kernel(a=1):\n    return '\\udcff'\n"))


# ---- trace -----------------------------------------------------------------------------------

def test_a_format_field_naming_a_missing_attribute_is_a_trace_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError) as info:
        trace_text(tmp_path, kernel_source(["print('{0.nothing}'.format(1))"]))
    assert info.value.pos is not None and info.value.pos.line == 18


@pytest.mark.parametrize("expr", ["'{0.__init__.__globals__}'.format(print)",
                                  "'{.__init__.__globals__}'.format(print)",
                                  "'{x.__init__.__globals__}'.format(x=print)",
                                  "'{0:{1.__init__.__globals__}}'.format(1, print)",
                                  "'{0.__init__.__globals__[inspect].sys.modules[ctypes].cdll}'.format(print)",
                                  "'{.__class__}'.format(Box)"])
def test_format_fields_never_reach_host_objects(tmp_path: Path, expr: str) -> None:
    got = outcome(lambda: trace_text(tmp_path, kernel_source(["np.zeros((1,))", f"print({expr})"])))
    text = str(got) if isinstance(got, KlrError) else " ".join(m.message for m in got.messages)
    assert not HOST_MARKERS.search(text), text[:300]


def test_format_fields_never_read_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CANARY_ENV, "planted-secret")
    field = f"{{0.__init__.__globals__[inspect].os.environ[{CANARY_ENV}]}}"
    got = outcome(lambda: trace_text(tmp_path, kernel_source([
        "np.zeros((1,))", f"t = nl.ndarray((1, 1), dtype=nl.float32, buffer=nl.shared_hbm, "
                          f"name='{field}'.format(print))"])))
    text = str(got) if isinstance(got, KlrError) else to_bytes(got.kernel).decode("latin-1")
    assert "planted-secret" not in text


def test_str_of_a_huge_integer_is_a_value_or_an_error(tmp_path: Path) -> None:
    outcome(lambda: trace_text(tmp_path, kernel_source(["print(str(10 ** 100000))"])))


def test_printing_a_set_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    words = "set(['alpha', 'beta', 'c', 'w1', 'tile', 'acc'])"
    (tmp_path / "k.py").write_text(kernel_source([f"print(list({words}))"]))
    assert run_cli(["gather", str(tmp_path / "k.py"), "kernel", "-o", str(tmp_path / "k.klr")])[0] == 0
    printed = []
    for seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-m", "klr", "trace", "k.klr", "-o", f"k{seed}.core.klr"],
                              cwd=tmp_path, capture_output=True, text=True, check=False,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        printed.append(done.stdout.splitlines()[0])
    assert printed[0] == printed[1] == printed[2]


# ---- eval and the command line ---------------------------------------------------------------

@pytest.fixture(scope="module")
def softmax(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A traced example and a good input for it."""
    d = tmp_path_factory.mktemp("softmax")
    x = np.zeros((256, 160), np.float32)
    py = klr.gather(str(Path(__file__).resolve().parents[2] / "examples" / "softmax.py"), x,
                    name="softmax_kernel")
    klr.save(d / "k.core.klr", klr.trace(py))
    klr.save(d / "k.klr", py)
    return d


GOOD = "{'descr': '<f4', 'fortran_order': False, 'shape': (256, 160), }"


def _zip() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, x=np.zeros((256, 160), np.float32))
    return buf.getvalue()


@pytest.mark.parametrize("data", [npy("{"), _zip(), b"PK\x03\x04" + bytes(60), b""],
                         ids=["unclosed-header", "npz", "zip-magic", "empty"])
def test_a_bad_npy_input_is_an_error(softmax: Path, tmp_path: Path, data: bytes) -> None:
    (tmp_path / "x.npy").write_bytes(data)
    code, _out, err = run_cli(["eval", str(softmax / "k.core.klr"), f"x={tmp_path / 'x.npy'}",
                               "--output-dir", str(tmp_path / "out")])
    assert_clean(code, err)


def test_an_npy_error_shows_no_host_object(softmax: Path, tmp_path: Path) -> None:
    (tmp_path / "x.npy").write_bytes(npy(GOOD.replace("(256, 160)", "(2**62,)"), bytes(64)))
    code, _out, err = run_cli(["eval", str(softmax / "k.core.klr"), f"x={tmp_path / 'x.npy'}",
                               "--output-dir", str(tmp_path / "out")])
    assert_clean(code, err)
    assert " at 0x" not in err, err


@pytest.mark.parametrize("name", ["../escaped", "ABSOLUTE", "a\x00b"], ids=["parent", "absolute", "nul"])
def test_outputs_never_leave_the_output_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            name: str) -> None:
    monkeypatch.chdir(tmp_path)
    name = str(tmp_path / "absolute") if name == "ABSOLUTE" else name
    Path("k.py").write_text(NAMED_OUTPUT.format(name=name))
    for argv in (["gather", "k.py", "kernel", "--arg", "x=float32[4,8]", "-o", "k.klr"],
                 ["trace", "k.klr", "-o", "k.core.klr"],
                 ["eval", "k.core.klr", "--random", "0", "--output-dir", "out/deeper"]):
        code, _out, err = run_cli(argv)
        assert code in (0, 1, 2) and "internal error" not in err, err
        if code:
            break
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.npy")}
    assert all(p.startswith("out/deeper/") for p in written), written


@pytest.mark.parametrize("argv", [["list"], ["info", "k.core.klr", "--dump", "json"]], ids=["list", "info"])
def test_a_closed_pipe_ends_quietly(softmax: Path, argv: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)   # the reader is gone before klr writes (``| head -1``, without the race)
    done = subprocess.run([sys.executable, "-m", "klr", *argv], cwd=softmax, stdout=write,
                          capture_output=False, stderr=subprocess.PIPE, text=True, check=False)
    os.close(write)
    assert done.returncode != 70, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


def test_an_access_with_no_dimensions_is_one_element() -> None:
    """A pattern of no partitions and no pairs names one element: reading a 0-d numpy view with
    ``view[()]`` gave a scalar, which the interpreter then could not write to."""
    from klr import core as C
    from klr.pos import Pos

    def tensor(name: str) -> C.TensorName:
        address = C.Address(name, C.Memory.sbuf, 4, 24, None, None, False)
        return C.TensorName(name, C.Dtype.float32, C.Shape(4, (6,)), address, 6, False)

    a, b = tensor("a"), tensor("b")
    shuffle = C.Shuffle(dst=C.AccessPattern(b, 0, (), 0, 0, ()), src=C.AccessPattern(a, 0, (), 0, 0, ()),
                        shuffleMask=(), dtype=None)
    block = C.Block("main", False, (C.Stmt(shuffle, "inst.1", Pos(3, 4)),))
    kernel = C.LncKernel("zero_d", (), (a, b), ((block,),), (), (), ())
    out = klr.eval(kernel).outputs
    assert out["b"].shape == (4, 6) and not out["b"].any()


# ---- budgets: cases that hang or blow up today, run in the background ------------------------

@dataclass
class Job:
    argv: list[str]
    cwd: Path
    process: subprocess.Popen[bytes] | None = None
    start: float = 0.0
    code: int | None = None
    finished: bool = False


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (6, 8))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Background:
    """``klr`` command lines under the limits of ``_limits``, at most ``slots`` at a time."""

    # The CPU limit stops a runaway child; the wall guard only catches one blocked without using
    # CPU (a FIFO), so it is generous: a loaded machine may run eight children at a fraction of a core.
    WALL = 180.0

    def __init__(self, slots: int = 8) -> None:
        self.jobs: dict[str, Job] = {}
        self.slots = slots

    def add(self, key: str, argv: list[str], cwd: Path) -> None:
        self.jobs[key] = Job(argv, cwd)

    def result(self, key: str) -> tuple[int | None, str]:
        """Exit status (None after a hang) and stderr of job ``key``."""
        job = self.jobs[key]
        while not job.finished:
            self.pump()
            time.sleep(0.05)
        return job.code, (job.cwd / f"{key}.err").read_text(errors="replace")

    def pump(self) -> None:
        running = [j for j in self.jobs.values() if j.process is not None and not j.finished]
        for key, job in self.jobs.items():
            if job.process is None and len(running) < self.slots:
                with open(job.cwd / f"{key}.out", "wb") as out, open(job.cwd / f"{key}.err", "wb") as err:
                    job.process = subprocess.Popen(
                        [sys.executable, "-m", "klr", *job.argv], cwd=job.cwd, stdin=subprocess.DEVNULL,
                        stdout=out, stderr=err, preexec_fn=_limits,
                        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
                job.start = time.monotonic()
                running.append(job)
        for job in running:
            assert job.process is not None
            code = job.process.poll()
            if code is None and time.monotonic() - job.start > self.WALL:
                job.process.kill()
                code = job.process.wait()
            if code is not None:
                job.code = None if code < 0 else code   # killed: by the CPU limit or by us
                job.finished = True

    def close(self) -> None:
        for job in self.jobs.values():
            if job.process is not None and job.process.poll() is None:
                job.process.kill()
                job.process.wait()


BUDGETS = {  # key -> a blow-up of tests/fuzz/attacks.py, its size and count
    "concat": ("concat", 0, 40), "zfill": ("zfill", 10**11, 0), "rjust": ("rjust", 10**9, 0),
    "to-bytes": ("to-bytes", 10**11, 0), "format-width": ("format-width", 10**11, 0),
    "fstring-width": ("fstring-width", 10**11, 0), "percent-width": ("percent-width", 10**11, 0),
    "replace": ("replace", 0, 40),
    "grid-list": ("grid-list", 0, 0), "lcm": ("lcm", 10**7, 0), "identity": ("identity", 10**6, 0),
    "identity-dims": ("identity", 10**11, 0), "deep-tuple": ("deep-tuple", 10**5, 0),
    "factorial": ("factorial", 10**9, 0), "square": ("square", 0, 30),
    "recursion-wide": ("recursion-wide", 0, 0),
    "sum-lists": ("sum-lists", 0, 0), "affine-range": ("affine-range", 10**9, 0),
}
HANGS = ("fifo", "grid", "factorial", "square", "recursion-wide", "sum-lists", "affine-range")


@pytest.fixture(scope="module", autouse=True)
def background(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Background]:
    """Every background job, started with the module so they overlap the in-process tests; the
    ones that hang today first, as they take longest."""
    d = tmp_path_factory.mktemp("budgets")
    os.mkfifo(d / "fifo.klr")
    (d / "hlen.npy").write_bytes(npy(GOOD, bytes(16), version=(2, 0), hlen=0xFFFFFFF0))
    for name in ("huge.klr", "huge.npy", "huge.json", "huge.py"):
        with open(d / name, "wb") as f:
            f.truncate(SPARSE_SIZE)
    (d / "big.py").write_text(BIG_INPUTS)
    args = [x for n in "abcd" for x in ("--arg", f"{n}=uint8[32768,32768]")]
    assert run_cli(["gather", str(d / "big.py"), "kernel", *args, "-o", str(d / "big.klr")])[0] == 0
    assert run_cli(["trace", str(d / "big.klr"), "-o", str(d / "big.core.klr")])[0] == 0
    kernels = {key: blowup(name, n, k) for key, (name, n, k) in BUDGETS.items()}
    kernels["grid"] = ["t = nl.ndarray((1, 1), dtype=nl.float32, buffer=nl.sbuf)"]
    for key, lines in kernels.items():
        (d / f"{key}.py").write_text(kernel_source(lines))
        assert run_cli(["gather", str(d / f"{key}.py"), "kernel", "-o", str(d / f"{key}.klr")])[0] == 0
    # the children's rlimits (768 MiB, 6 s of CPU) are below the default budgets, so the budgets
    # are lowered to fit: what is tested is that a budget, not the operating system, stops them
    budgets = ["--limit", "max-memory=256Mi", "--limit", "max-steps=1M"]
    jobs = {key: ["trace", f"{key}.klr", "-o", f"{key}.core.klr", *budgets] for key in BUDGETS}
    jobs |= {"grid": ["trace", "grid.klr", "--grid", "100000,100000", "-o", "grid.core.klr", *budgets],
             "random-inputs": ["eval", "big.core.klr", "--random", "0", "--output-dir", "out"],
             "huge-info": ["info", "huge.klr"], "huge-trace": ["trace", "huge.npy"],
             "huge-args-json": ["gather", "grid.py", "kernel", "--args-json", "huge.json"],
             "huge-gather": ["gather", "huge.py", "kernel"],
             "npy-header-length": ["eval", "big.core.klr", "a=hlen.npy", "--output-dir", "out"],
             "fifo": ["info", "fifo.klr"]}
    bg = Background()
    for key in sorted(jobs, key=lambda k: k not in HANGS):
        bg.add(key, jobs[key], d)
    bg.pump()
    yield bg
    bg.close()


@pytest.mark.parametrize("attack", sorted(BUDGETS))
def test_a_trace_budget_stops_the_attack(background: Background, attack: str) -> None:
    assert_clean(*background.result(attack))


def test_a_huge_launch_grid_is_an_error(background: Background) -> None:
    assert_clean(*background.result("grid"))


def test_random_inputs_beyond_the_eval_budget_are_an_error(background: Background) -> None:
    assert_clean(*background.result("random-inputs"))


@pytest.mark.parametrize("key", ["huge-info", "huge-trace", "huge-args-json", "huge-gather"])
def test_a_huge_input_file_is_an_error(background: Background, key: str) -> None:
    assert_clean(*background.result(key))


def test_an_npy_header_length_beyond_the_file_is_an_error(background: Background) -> None:
    assert_clean(*background.result("npy-header-length"))


def test_a_fifo_input_is_an_error(background: Background) -> None:
    assert_clean(*background.result("fifo"))
