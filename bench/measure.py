"""Shared measuring helpers for the benchmarks in bench/: repeated timing, peak memory, child
processes with their own resource usage, statement counts and the byte size of a kernel's
tensors.

Import it from a script in bench/ (``import measure``); it puts the repository's ``src`` and
root on ``sys.path`` so that ``klr`` and ``examples.refs`` import from this checkout.
"""
from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "src"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


@dataclass(frozen=True)
class Timing:
    """Wall and CPU seconds of each run of one measurement; tables report the medians."""

    runs: tuple[float, ...]
    cpu_runs: tuple[float, ...] = ()

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_runs)

    def summary(self) -> dict[str, Any]:
        return {"median": self.median, "best": self.best, "cpu": self.cpu, "runs": list(self.runs)}


def timed(fn: Callable[[], Any], repeat: int, budget: float = float("inf")) -> tuple[Timing, Any]:
    """Run ``fn`` ``repeat`` times (at least once, fewer once ``budget`` seconds are spent)."""
    runs: list[float] = []
    cpu: list[float] = []
    value = None
    while len(runs) < max(1, repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = fn()
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if sum(runs) >= budget:
            break
    return Timing(tuple(runs), tuple(cpu)), value


def peak_memory(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes allocated at the peak of one run of ``fn`` beyond what was allocated before it
    (tracemalloc: Python objects and numpy buffers), and its value."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        value = fn()
        return tracemalloc.get_traced_memory()[1] - base, value
    finally:
        if started:
            tracemalloc.stop()


def profiled(fn: Callable[[], Any], lines: int = 30) -> Any:
    """Run ``fn`` under cProfile and print the top ``lines`` entries by own time."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    value = prof.runcall(fn)
    pstats.Stats(prof).sort_stats("tottime").print_stats(lines)
    return value


# --- child processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRun:
    """One finished child process: wall and CPU seconds, peak resident memory, exit code, output."""

    wall: float
    cpu: float
    maxrss: int  # bytes
    returncode: int
    stdout: str
    stderr: str


# A child's peak RSS (ru_maxrss) includes the memory of the process it was forked from, which
# exec does not reset; so children are started by this small spawner, not by the benchmark.
_SPAWNER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as f:
    f.write(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_process(cmd: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
                timeout: float | None = None) -> ProcessRun:
    """Run ``cmd`` to completion; its resource usage is its own, measured by the spawner."""
    import signal

    with tempfile.TemporaryDirectory(prefix="klr-bench-run-") as tmp:
        usage, out, err = (Path(tmp) / name for name in ("usage", "stdout", "stderr"))
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen([sys.executable, "-S", "-c", _SPAWNER, str(usage), *cmd], cwd=cwd,
                                    env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                    start_new_session=True)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        fields = usage.read_text().split() if usage.is_file() else []
        if len(fields) != 4:  # the spawner itself was killed (timeout) or failed
            fields = ["nan", "nan", "0", str(proc.returncode or -9)]
        return ProcessRun(float(fields[0]), float(fields[1]), int(fields[2]) * 1024, int(fields[3]),
                          out.read_text(errors="replace"), err.read_text(errors="replace"))


@dataclass(frozen=True)
class ProcessTiming:
    """Repeated runs of one command: wall and CPU medians, the largest peak RSS."""

    runs: tuple[ProcessRun, ...]

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def maxrss(self) -> int:
        return max(r.maxrss for r in self.runs)

    @property
    def last(self) -> ProcessRun:
        return self.runs[-1]

    def summary(self) -> dict[str, Any]:
        return {"wall": self.wall, "cpu": self.cpu, "maxrss": self.maxrss, "runs": len(self.runs)}


class ProcessFailed(Exception):
    """A benchmarked command exited with an error."""

    def __init__(self, cmd: Sequence[str], run: ProcessRun) -> None:
        tail = (run.stderr.strip() or run.stdout.strip()).splitlines()[-3:]
        super().__init__(f"{' '.join(cmd)} exited with {run.returncode}: {' / '.join(tail)}")
        self.run = run


def time_process(cmd: Sequence[str], repeat: int, *, budget: float = float("inf"), check: bool = True,
                 **kwargs: Any) -> ProcessTiming:
    """Run ``cmd`` ``repeat`` times (fewer once ``budget`` seconds are spent)."""
    runs: list[ProcessRun] = []
    while len(runs) < max(1, repeat):
        run = run_process(cmd, **kwargs)
        if check and run.returncode != 0:
            raise ProcessFailed(cmd, run)
        runs.append(run)
        if sum(r.wall for r in runs) >= budget:
            break
    return ProcessTiming(tuple(runs))


PYCACHE = Path(tempfile.gettempdir()) / "klr-bench-pycache"


def child_env() -> dict[str, str]:
    """The environment for klr child processes: this checkout's ``src`` first on the path, and a
    bytecode cache (outside the tree) filled before the first child runs, as an installed klr
    has one; without it (PYTHONDONTWRITEBYTECODE) every process would compile klr again."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if not _compiled:
        compile_all = [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "klr")]
        subprocess.run(compile_all, env=env, check=True)
        _compiled.append(True)
    return env


_compiled: list[bool] = []


def klr_command() -> list[str]:
    """How a user starts klr: the ``klr`` script next to this Python, else ``python -m klr``."""
    script = Path(sys.executable).with_name("klr")
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "klr"]


# --- kernels -----------------------------------------------------------------------------------


def statements(kernel: Any) -> int:
    """Core statements of a traced kernel (LncKernel or TraceResult), summed over its bodies."""
    kernel = getattr(kernel, "kernel", kernel)
    return sum(len(block.body) for body in kernel.bodies for block in body)


def tensor_bytes(kernel: Any) -> dict[str, int]:
    """Bytes of a traced kernel's own tensors: ``inputs``, ``outputs`` and ``on_chip`` (every
    distinct SBUF and PSUM tensor its statements name)."""
    from klr.core import Memory, TensorName

    kernel = getattr(kernel, "kernel", kernel)
    seen: set[int] = set()
    on_chip: dict[str, int] = {}
    stack: list[Any] = [s for body in kernel.bodies for block in body for s in block.body]
    while stack:
        node = stack.pop()
        if id(node) in seen or isinstance(node, (str, int, float, bool, type(None))):
            continue
        seen.add(id(node))
        if isinstance(node, TensorName):
            if node.memory in (Memory.sbuf, Memory.psum):
                on_chip[node.name] = _nbytes(node)
        elif isinstance(node, tuple):
            stack.extend(node)
        elif dataclasses.is_dataclass(node):
            stack.extend(getattr(node, f.name) for f in dataclasses.fields(node))
    return {"inputs": sum(_nbytes(t) for t in kernel.inputs),
            "outputs": sum(_nbytes(t) for t in kernel.outputs),
            "on_chip": sum(on_chip.values())}


def _nbytes(t: Any) -> int:
    return int(t.shape.parDim * t.shape.freeElements * t.dtype.size)


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: dataclasses as dicts (or their ``summary()``), tuples as lists."""
    if hasattr(value, "summary"):
        return value.summary()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


# --- printing ----------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e3


def mib(nbytes: float | None) -> float | None:
    return None if nbytes is None else nbytes / 2**20
