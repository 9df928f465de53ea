"""Per-phase timings of every example kernel: gather, trace, encode, decode, eval.

    python bench/example_timings.py [--repeat N]

Each phase is run N times (default 3) and the best time is reported, with the number of Core
statements the trace emits and whether eval matches the example's numpy reference.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from examples import refs  # noqa: E402

import klr  # noqa: E402
from klr.format.file import from_bytes, to_bytes  # noqa: E402


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def matches(ex: refs.Example, inputs: list[np.ndarray], outputs: dict[str, np.ndarray]) -> bool:
    expected = ex.expected(inputs)
    return len(outputs) == len(expected) and all(
        ex.agrees(got, want) for got, want in zip(outputs.values(), expected))


def row(ex: refs.Example, repeat: int) -> str:
    inputs = ex.make_inputs(seed=0)
    t_gather, py = best_of(repeat, lambda: klr.gather(str(ex.path), *inputs, name=ex.kernel,
                                                       grid=ex.grid, **ex.kwargs))
    t_trace, traced = best_of(repeat, lambda: klr.trace(py))
    core = traced.kernel
    t_enc, data = best_of(repeat, lambda: to_bytes(core))
    t_dec, _ = best_of(repeat, lambda: from_bytes(data))
    t_eval, result = best_of(repeat, lambda: klr.eval(traced, *inputs))
    n = sum(len(b.body) for body in core.bodies for b in body)
    ok = matches(ex, inputs, result.outputs)
    return (f"{ex.name:14}{n:7}{t_gather * 1e3:11.1f}{t_trace * 1e3:10.1f}{t_enc * 1e3:11.2f}"
            f"{t_dec * 1e3:11.2f}{t_eval * 1e3:9.1f}  {'yes' if ok else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'example':14}{'stmts':>7}{'gather ms':>11}{'trace ms':>10}{'encode ms':>11}"
          f"{'decode ms':>11}{'eval ms':>9}  match")
    for ex in refs.load_all():
        print(row(ex, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
