"""Scaling section of bench/run.py: trace throughput and memory from 10^2 to 10^6 Core statements.

The kernel is ``add_tiles`` of bench/speed_kernels.py (four statements per 128 x 512 tile), so
each size is exact. For each size, in process: trace, encode and write the .klr file (median of
``repeat`` runs; one run from 10^5 statements on), and one more run under tracemalloc for the
peak memory of trace, encode and write; as a whole process, ``klr trace`` of the gathered file (wall
time and peak RSS).

The marginal time per statement between two consecutive sizes is the difference of their
trace + encode + write times over the difference of their statement counts (the fixed cost of a
trace cancels out). Linearity is the marginal time per statement of the last step (10^5 to 10^6)
over that of the first (10^2 to 10^3); 1.0 is perfectly linear.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import cases
import numpy as np
from measure import (
    ProcessTiming,
    Timing,
    child_env,
    jsonable,
    klr_command,
    mib,
    ms,
    peak_memory,
    statements,
    table,
    time_process,
    timed,
)

SIZES = (100, 1_000, 10_000, 100_000, 1_000_000)
SINGLE_RUN_FROM = 100_000  # statements: from this size on, one run is enough (and all we can afford)
MAX_STEPS = 10**9  # add_tiles takes ~60 steps per statement: 10^6 statements exceed the default limit
LIMITS = {"max_steps": MAX_STEPS}


@dataclass
class Point:
    statements: int
    trace: Timing        # in process: trace only
    total: Timing        # in process: trace + encode + write the file
    peak: int            # tracemalloc peak of trace + encode, bytes
    file_bytes: int
    process: ProcessTiming | None   # klr trace as a whole process

    @property
    def rate(self) -> float:
        """Statements per second including encoding and writing the file."""
        return self.statements / self.total.median


@dataclass
class Scaling:
    points: list[Point]

    def marginal(self, i: int) -> float | None:
        """Seconds per statement from point i - 1 to point i (trace + encode + write)."""
        if i == 0:
            return None
        a, b = self.points[i - 1], self.points[i]
        return (b.total.median - a.total.median) / (b.statements - a.statements)

    @property
    def linearity(self) -> float:
        first, last = self.marginal(1), self.marginal(len(self.points) - 1)
        assert first is not None and last is not None
        return last / first

    @property
    def raw_linearity(self) -> float:
        first, last = self.points[0], self.points[-1]
        return (last.total.median / last.statements) / (first.total.median / first.statements)

    def summary(self) -> dict[str, object]:
        return {"points": [jsonable(p) for p in self.points],
                "marginal": [self.marginal(i) for i in range(len(self.points))],
                "linearity": self.linearity if len(self.points) > 2 else None}


def measure_scaling(sizes: tuple[int, ...], repeat: int, *, whole_process: bool = True) -> Scaling:
    with tempfile.TemporaryDirectory(prefix="klr-bench-") as tmp:
        _point(4, 1, Path(tmp), whole_process=False)  # warm up: imports and first-use caches
        work = Path(tmp)
        return Scaling([_point(n, 1 if n >= SINGLE_RUN_FROM else repeat, work, whole_process=whole_process)
                        for n in sizes])


def _point(size: int, runs: int, work: Path, *, whole_process: bool) -> Point:
    import klr

    ex = cases.add_tiles(max(1, size // 4))
    # gather records shapes only: zero-strided arrays stand in for inputs of any size
    py = cases.gather(ex, [np.broadcast_to(np.float32(0), shape) for _, _, shape in ex.inputs])
    out = work / "kernel.core.klr"

    def trace_and_write() -> int:
        klr.save(out, klr.trace(py, limits=LIMITS).kernel)  # encode, then write through a temporary file
        return out.stat().st_size

    total, file_bytes = timed(trace_and_write, runs)
    trace, traced = timed(lambda: klr.trace(py, limits=LIMITS), runs)
    n = statements(traced)
    del traced
    peak, _ = peak_memory(lambda: klr.save(out, klr.trace(py, limits=LIMITS).kernel))
    process = None
    if whole_process:
        py_file = work / "kernel.klr"
        klr.save(py_file, py)
        process = time_process([*klr_command(), "trace", str(py_file), "-o", str(out),
                                "--limit", f"max-steps={MAX_STEPS}"], runs, env=child_env())
    return Point(n, trace, total, peak, file_bytes, process)


def report(s: Scaling) -> str:
    rows = []
    for i, p in enumerate(s.points):
        proc = p.process
        marginal = s.marginal(i)
        rows.append([p.statements, ms(p.trace.median), ms(p.total.median), p.rate,
                     p.statements / p.total.cpu, marginal * 1e6 if marginal is not None else None,
                     p.peak / p.statements, p.file_bytes / p.statements,
                     ms(proc.wall) if proc else None, p.statements / proc.wall if proc else None,
                     p.statements / proc.cpu if proc else None, mib(proc.maxrss) if proc else None])
    return "\n".join([
        "Trace scaling (add_tiles): in process trace ms, trace+encode+write ms and statements/s (wall, CPU), "
        "marginal µs/statement, peak bytes/statement, file bytes/statement; klr trace as a process",
        table(["statements", "trace ms", "+write ms", "st/s", "cpu st/s", "µs/st", "peak B/st", "file B/st",
               "process ms", "process st/s", "cpu st/s", "RSS MiB"], rows),
        f"linearity (marginal µs/statement of the last step over the first): {s.linearity:.2f}; "
        f"µs/statement at {s.points[-1].statements:,} over at {s.points[0].statements:,}: "
        f"{s.raw_linearity:.2f}" if len(s.points) > 2 else "(linearity needs three sizes or more)"])
