"""Start-up section of bench/run.py: what a short klr process costs before it does any work.

Whole processes, median of ``repeat`` runs each: a bare ``python -c pass``, ``klr --help``,
``klr info`` of a small traced file, ``klr gather`` and ``klr trace`` of a 3-statement kernel
(``scale`` of bench/reference_kernels.py); the cumulative import time (``python -X
importtime``) of ``klr``, ``klr.format.file`` and ``klr.tracer`` with their costliest klr
submodules; and whether gather, info and trace import numpy.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measure import ROOT, ProcessTiming, child_env, klr_command, ms, table, time_process

SMALL_KERNEL = (ROOT / "bench" / "reference_kernels.py", "scale")
SMALL_ARGS = ("--arg", "float32[10,10]", "--arg", "float32[10,10]")
IMPORTS = ("klr", "klr.format.file", "klr.tracer")
MARK = "--klr-bench-imports--"


@dataclass
class Startup:
    python: ProcessTiming
    help: ProcessTiming
    info: ProcessTiming
    gather: ProcessTiming
    trace: ProcessTiming
    imports: dict[str, float] = field(default_factory=dict)   # module -> median seconds
    heaviest: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    numpy: dict[str, bool] = field(default_factory=dict)      # command -> imports numpy


def measure_startup(repeat: int) -> Startup:
    klr = klr_command()
    env = child_env()
    path, func = SMALL_KERNEL
    with tempfile.TemporaryDirectory(prefix="klr-bench-") as tmp:
        py_file, core_file = str(Path(tmp) / "small.klr"), str(Path(tmp) / "small.core.klr")
        gather_cmd = [*klr, "gather", str(path), func, *SMALL_ARGS, "-o", py_file]
        trace_cmd = [*klr, "trace", py_file, "-o", core_file]
        info_cmd = [*klr, "info", core_file]

        def timing(cmd: list[str]) -> ProcessTiming:
            return time_process(cmd, repeat, env=env)

        result = Startup(python=timing([sys.executable, "-c", "pass"]), help=timing([*klr, "--help"]),
                         gather=timing(gather_cmd), trace=timing(trace_cmd), info=timing(info_cmd))
        for module in IMPORTS:
            runs = [_import_times(module, env) for _ in range(max(1, repeat))]
            result.imports[module] = statistics.median(total for total, _ in runs)
            result.heaviest[module] = runs[len(runs) // 2][1][:3]
        for name, cmd in (("gather", gather_cmd), ("info", info_cmd), ("trace", trace_cmd)):
            run = time_process([cmd[0], "-X", "importtime", *cmd[1:]], 1, env=env).last
            result.numpy[name] = any(_module(line) == "numpy" for line in run.stderr.splitlines())
    return result


def _import_times(module: str, env: dict[str, str]) -> tuple[float, list[tuple[str, float]]]:
    """Seconds ``import module`` takes in a fresh interpreter, and its costliest klr submodules."""
    code = f"import sys; print({MARK!r}, file=sys.stderr, flush=True); import {module}"
    run = time_process([sys.executable, "-X", "importtime", "-c", code], 1, env=env).last
    lines = run.stderr.splitlines()
    lines = lines[lines.index(MARK) + 1:] if MARK in lines else lines
    total = 0.0
    nested: list[tuple[str, float]] = []
    for line in lines:
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        seconds = int(parts[1]) / 1e6
        name = parts[2].rstrip()
        if not name.startswith("  "):
            total += seconds  # a top-level import of the command (its cumulative time)
        elif name.strip().startswith("klr."):
            nested.append((name.strip(), seconds))
    nested.sort(key=lambda item: -item[1])
    return total, nested


def _module(line: str) -> str:
    parts = line.split("|")
    return parts[2].strip() if len(parts) == 3 else ""


def report(s: Startup) -> str:
    def row(label: str, t: ProcessTiming) -> list[Any]:
        return [label, ms(t.wall), ms(t.cpu), t.maxrss // 2**20, f"{t.wall / s.python.wall:.2f}x"]

    lines = ["Start-up: whole processes (median wall and CPU ms, peak RSS MiB, wall vs python -c pass)",
             table(["command", "wall ms", "cpu ms", "RSS MiB", "vs python"],
                   [row("python -c pass", s.python), row("klr --help", s.help),
                    row("klr info small.core.klr", s.info), row("klr gather (3 statements)", s.gather),
                    row("klr trace (3 statements)", s.trace)]),
             "", "Import time (python -X importtime, cumulative, median ms) and the costliest klr submodules",
             table(["import", "ms", "costliest klr submodules (cumulative ms)"],
                   [[m, ms(s.imports[m]), ", ".join(f"{n} {t * 1e3:.0f}" for n, t in s.heaviest[m])]
                    for m in s.imports]),
             "", "numpy imported by: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in s.numpy.items())]
    return "\n".join(lines)
