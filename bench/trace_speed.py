"""Throughput of each klr phase on a large, fully unrolled kernel.

    python bench/trace_speed.py [--m 1024] [--k 1024] [--n 2048] [--repeat 3] [--no-eval]

The kernel is examples/tiled_matmul.py (bf16 operands, fp32 PSUM accumulation). Its loops
unroll into (m/128)*(n/512)*(k/128) matmuls plus their loads, so the default size traces to
roughly nine hundred Core statements. For each phase — gather, trace, encode (Core to .klr
bytes), decode (bytes to Core) and eval (the numpy interpreter) — it reports the best time
over ``--repeat`` runs and Core statements per second (the statement count of the traced
kernel divided by the phase's time, so the phases are comparable).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import klr  # noqa: E402
from klr.format.file import from_bytes, to_bytes  # noqa: E402

KERNEL_FILE = ROOT / "examples" / "tiled_matmul.py"
KERNEL = "tiled_matmul_kernel"


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--m", type=int, default=1024, help="rows of the result (multiple of 128)")
    parser.add_argument("--k", type=int, default=1024, help="contraction size (multiple of 128)")
    parser.add_argument("--n", type=int, default=2048, help="columns of the result (multiple of 512)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase; the best is reported")
    parser.add_argument("--no-eval", action="store_true", help="skip the interpreter")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    lhsT = rng.uniform(-1, 1, (args.k, args.m)).astype(ml_dtypes.bfloat16)
    rhs = rng.uniform(-1, 1, (args.k, args.n)).astype(ml_dtypes.bfloat16)

    times: dict[str, float] = {}
    times["gather"], py = best_of(args.repeat, lambda: klr.gather(str(KERNEL_FILE), lhsT, rhs, name=KERNEL))
    times["trace"], traced = best_of(args.repeat, lambda: klr.trace(py))
    core = traced.kernel
    times["encode"], data = best_of(args.repeat, lambda: to_bytes(core))
    times["decode"], decoded = best_of(args.repeat, lambda: from_bytes(data, expect="lnc"))
    assert decoded == core, "decode(encode(core)) differs from core"
    if not args.no_eval:
        times["eval"], result = best_of(args.repeat, lambda: klr.eval(core, lhsT, rhs))
        want = lhsT.astype(np.float32).T @ rhs.astype(np.float32)
        got = next(iter(result.outputs.values())).astype(np.float32)
        assert np.allclose(got, want, rtol=1e-2, atol=1e-2), "eval result differs from numpy"

    statements = sum(len(b.body) for body in core.bodies for b in body)
    print(f"tiled matmul M={args.m} K={args.k} N={args.n}: {statements} Core statements, "
          f"{len(data)} bytes encoded")
    print(f"{'phase':8}{'seconds':>10}{'statements/s':>16}")
    for phase, seconds in times.items():
        print(f"{phase:8}{seconds:10.4f}{statements / seconds:16,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
