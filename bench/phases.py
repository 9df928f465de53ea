"""Per-case section of bench/run.py: every phase of klr on one kernel, in process and as the
commands a user runs.

In process (``in_process``): parse (reading and parsing the kernel file), gather, trace,
encode (Core to .klr bytes), decode and eval (the interpreter), each the median of ``repeat``
runs, then one more run of gather, trace and eval under tracemalloc for their peak memory.
Whole process (``whole_process``): ``klr gather``, ``klr trace`` and ``klr eval`` on .npy
inputs, median wall time and the peak RSS of the child.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cases
import numpy as np
from cases import refs
from measure import (
    ProcessTiming,
    Timing,
    child_env,
    klr_command,
    mib,
    ms,
    peak_memory,
    profiled,
    statements,
    table,
    time_process,
    timed,
)

PHASES = ("parse", "gather", "trace", "encode", "decode", "eval")
MEMORY_PHASES = ("gather", "trace", "eval")


@dataclass
class InProcess:
    name: str
    statements: int = 0
    encoded: int = 0  # bytes of the .klr file
    times: dict[str, Timing] = field(default_factory=dict)
    peaks: dict[str, int] = field(default_factory=dict)
    matches: bool | None = None
    round_trip: bool = True  # decode(encode(core)) == core


def in_process(ex: refs.Example, repeat: int, *, budget: float = 20.0, memory: bool = True,
               run_eval: bool = True, profile: str | None = None) -> InProcess:
    """Time each phase of ``ex`` in this process (``profile``: print a cProfile of that phase
    instead of timing it)."""
    import klr
    from klr.format.file import from_bytes, to_bytes
    from klr.python.modules import Resolver

    warm_up()
    inputs = ex.make_inputs(seed=0)
    result = InProcess(ex.name)

    def phase(label: str, fn: Callable[[], Any]) -> Any:
        if profile == label:
            fn()  # warm up: imports and first-use caches are not what we want to see
            return profiled(fn)
        result.times[label], value = timed(fn, repeat, budget)
        if memory and label in MEMORY_PHASES:
            result.peaks[label], _ = peak_memory(fn)
        return value

    phase("parse", lambda: Resolver(()).load_top(str(ex.path)))
    py = phase("gather", lambda: cases.gather(ex, inputs))
    traced = phase("trace", lambda: klr.trace(py))
    core = traced.kernel
    data = phase("encode", lambda: to_bytes(core))
    result.round_trip = phase("decode", lambda: from_bytes(data, expect="lnc")) == core
    result.statements, result.encoded = statements(core), len(data)
    if run_eval:
        outputs = phase("eval", lambda: klr.eval(traced, *inputs)).outputs
        result.matches = cases.matches(ex, inputs, outputs)
    return result


_warm: list[bool] = []


def warm_up() -> None:
    """Import every layer and fill first-use caches once, so the first case measured pays nothing
    extra."""
    if not _warm:
        _warm.append(True)
        ex = refs.load("transpose2d")
        in_process(ex, 1, memory=False)


@dataclass
class WholeProcess:
    name: str
    gather: ProcessTiming
    trace: ProcessTiming
    eval: ProcessTiming | None


def whole_process(ex: refs.Example, repeat: int, *, budget: float = 20.0,
                  run_eval: bool = True) -> WholeProcess:
    """Run ``klr gather``, ``klr trace`` and ``klr eval`` on ``ex`` as child processes."""
    klr = klr_command()
    env = child_env()
    with tempfile.TemporaryDirectory(prefix="klr-bench-") as tmp:
        work = Path(tmp)
        py_file, core_file = str(work / "kernel.klr"), str(work / "kernel.core.klr")
        gather = time_process([*klr, "gather", str(ex.path), ex.kernel, *cases.arg_flags(ex), "-o", py_file],
                              repeat, budget=budget, env=env)
        trace = time_process([*klr, "trace", py_file, "-o", core_file], repeat, budget=budget, env=env)
        evaluated = None
        if run_eval:
            files = []
            for (name, _, _), array in zip(ex.inputs, ex.make_inputs(seed=0)):
                np.save(work / f"{name}.npy", array)
                files.append(f"{name}={work / name}.npy")
            evaluated = time_process([*klr, "eval", core_file, *files, "--output-dir", str(work / "out")],
                                     repeat, budget=budget, env=env)
    return WholeProcess(ex.name, gather, trace, evaluated)


def report(whole: list[WholeProcess], inner: list[InProcess]) -> str:
    return whole_table(whole) + "\n\n" + inner_table(inner)


def whole_table(whole: list[WholeProcess]) -> str:
    rows = []
    for w in whole:
        rows.append([w.name, ms(w.gather.wall), ms(w.trace.wall), ms(w.eval.wall) if w.eval else None,
                     mib(w.gather.maxrss), mib(w.trace.maxrss), mib(w.eval.maxrss) if w.eval else None])
    headers = ["case", "gather", "trace", "eval", "gather RSS", "trace RSS", "eval RSS"]
    title = "Whole process: median wall ms and peak RSS MiB of klr gather, trace, eval"
    return title + "\n" + table(headers, rows)


def inner_table(inner: list[InProcess]) -> str:
    rows = []
    for r in inner:
        t = {k: v.median for k, v in r.times.items()}
        rows.append([r.name, r.statements, *(ms(t.get(p)) for p in PHASES),
                     r.statements / t["trace"] if t.get("trace") else None,
                     *(mib(r.peaks.get(p)) for p in MEMORY_PHASES),
                     {None: "-", True: "yes", False: "NO"}[r.matches], "yes" if r.round_trip else "NO"])
    lines = ["In process: median ms per phase, trace statements/s, tracemalloc peak MiB, eval matches numpy, "
              "decode(encode(core)) == core",
              table(["case", "stmts", *PHASES, "trace st/s", *(f"{p} MiB" for p in MEMORY_PHASES), "match",
                     "round trip"],
                    rows)]
    return "\n".join(lines)
