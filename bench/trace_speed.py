"""Throughput of each klr phase on a large, fully unrolled kernel.

    python bench/trace_speed.py [--kernel matmul|beta2|elementwise] [--m 1024] [--k 1024]
                                [--n 2048] [--repeat 3] [--no-eval] [--profile PHASE]

``matmul`` (the default) is examples/tiled_matmul.py (bf16 operands, fp32 PSUM
accumulation). Its loops unroll into (m/128)*(n/512)*(k/128) matmuls plus their loads, so the
default size traces to roughly nine hundred Core statements. ``beta2`` is the same algorithm in
the beta 2 dialect and ``elementwise`` a masked chain of element-wise operations over an m x n
fp32 input (``--k`` unused), both from bench/speed_kernels.py.

For each phase — gather, trace, encode (Core to .klr bytes), decode (bytes to Core) and eval
(the numpy interpreter) — it reports the best time over ``--repeat`` runs and Core statements
per second (the statement count of the traced kernel divided by the phase's time, so the
phases are comparable). ``--profile trace`` (or another phase) prints the top of a cProfile of
that phase instead of timing it.
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

KERNELS = {  # --kernel: (file, function)
    "matmul": (ROOT / "examples" / "tiled_matmul.py", "tiled_matmul_kernel"),
    "beta2": (ROOT / "bench" / "speed_kernels.py", "beta2_tiled_matmul"),
    "elementwise": (ROOT / "bench" / "speed_kernels.py", "elementwise_chain"),
}
PHASES = ("gather", "trace", "encode", "decode", "eval")


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def profiled(fn: Callable[[], Any]) -> Any:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    value = prof.runcall(fn)
    pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel", choices=sorted(KERNELS), default="matmul", help="which kernel to run")
    parser.add_argument("--m", type=int, default=1024, help="rows of the result (multiple of 128)")
    parser.add_argument("--k", type=int, default=1024, help="contraction size (multiple of 128)")
    parser.add_argument("--n", type=int, default=2048, help="columns of the result (multiple of 512)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase; the best is reported")
    parser.add_argument("--no-eval", action="store_true", help="skip the interpreter")
    parser.add_argument("--profile", choices=PHASES, help="profile one phase instead of timing it")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    if args.kernel == "elementwise":
        inputs = [rng.uniform(-1, 1, (args.m, args.n)).astype(np.float32)]
    else:
        inputs = [rng.uniform(-1, 1, (args.k, args.m)).astype(ml_dtypes.bfloat16),
                  rng.uniform(-1, 1, (args.k, args.n)).astype(ml_dtypes.bfloat16)]
    path, name = KERNELS[args.kernel]

    times: dict[str, float] = {}

    def phase(label: str, fn: Callable[[], Any]) -> Any:
        if args.profile == label:
            fn()  # warm up: imports and first-use caches are not what we want to see
            return profiled(fn)
        times[label], value = best_of(args.repeat, fn)
        return value

    py = phase("gather", lambda: klr.gather(str(path), *inputs, name=name))
    core = phase("trace", lambda: klr.trace(py)).kernel
    data = phase("encode", lambda: to_bytes(core))
    decoded = phase("decode", lambda: from_bytes(data, expect="lnc"))
    assert decoded == core, "decode(encode(core)) differs from core"
    if not args.no_eval:
        result = phase("eval", lambda: klr.eval(core, *inputs))
        got = next(iter(result.outputs.values())).astype(np.float32)
        assert np.allclose(got, expected(args.kernel, inputs), rtol=1e-2, atol=1e-2), \
            "eval result differs from numpy"

    statements = sum(len(b.body) for body in core.bodies for b in body)
    print(f"{args.kernel} M={args.m} K={args.k} N={args.n}: {statements} Core statements, "
          f"{len(data)} bytes encoded")
    print(f"{'phase':8}{'seconds':>10}{'statements/s':>16}")
    for phase, seconds in times.items():
        print(f"{phase:8}{seconds:10.4f}{statements / seconds:16,.0f}")
    return 0


def expected(kernel: str, inputs: list[np.ndarray]) -> np.ndarray:
    """numpy's result for the kernel."""
    if kernel != "elementwise":
        lhsT, rhs = (a.astype(np.float32) for a in inputs)
        return lhsT.T @ rhs
    x = inputs[0].astype(np.float32)
    out = np.empty_like(x)
    for c in range(0, x.shape[1], 512):
        t = x[:, c:c + 512]
        gated = np.maximum(np.exp(t - t.max(axis=1, keepdims=True)) * 0.5, np.tanh(t * 2.0))
        out[:, c:c + 512] = gated / gated.sum(axis=1, keepdims=True) + t
    return out


if __name__ == "__main__":
    raise SystemExit(main())
