"""Throughput of each klr phase on one large, fully unrolled kernel.

    python bench/trace_speed.py [--kernel matmul|beta2|elementwise|add] [--m 1024] [--k 1024]
                                [--n 2048] [--repeat 3] [--no-eval] [--profile PHASE]

``matmul`` (the default) is examples/tiled_matmul.py (bf16 operands, fp32 PSUM
accumulation). Its loops unroll into (m/128)*(n/512)*(k/128) matmuls plus their loads, so the
default size traces to roughly nine hundred Core statements. ``beta2`` is the same algorithm in
the beta 2 dialect, ``elementwise`` a masked chain of element-wise operations over an m x n
fp32 input (``--k`` unused) and ``add`` the tiled add over (m/128)*(n/512) tiles of 128 x 512
(``--k`` unused), all from bench/speed_kernels.py (see bench/cases.py).

For each phase (parse, gather, trace, encode, decode and eval) it reports the median and best
time over ``--repeat`` runs and Core statements per second (the statement count of the traced
kernel divided by the phase's median, so the phases are comparable). ``--profile trace`` (or
another phase) prints the top of a cProfile of that phase instead of timing it. bench/run.py
runs the same phases over every example and several sizes.
"""
from __future__ import annotations

import argparse

import cases
import phases
from measure import table


def kernel_case(kernel: str, m: int, k: int, n: int) -> cases.refs.Example:
    if kernel == "elementwise":
        return cases.elementwise(m, n)
    if kernel == "add":
        return cases.add_tiles((m // cases.TILE[0]) * (n // cases.TILE[1]))
    return cases.matmul(m, k, n, beta2=kernel == "beta2")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel", choices=("matmul", "beta2", "elementwise", "add"), default="matmul",
                        help="which kernel to run")
    parser.add_argument("--m", type=int, default=1024, help="rows of the result (multiple of 128)")
    parser.add_argument("--k", type=int, default=1024, help="contraction size (multiple of 128)")
    parser.add_argument("--n", type=int, default=2048, help="columns of the result (multiple of 512)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase")
    parser.add_argument("--no-eval", action="store_true", help="skip the interpreter")
    parser.add_argument("--profile", choices=phases.PHASES, help="profile one phase instead of timing it")
    args = parser.parse_args(argv)

    ex = kernel_case(args.kernel, args.m, args.k, args.n)
    result = phases.in_process(ex, args.repeat, memory=False, run_eval=not args.no_eval, profile=args.profile)
    if result.matches is False:
        raise SystemExit(f"{ex.name}: eval result differs from numpy")
    print(f"{ex.name}: {result.statements} Core statements, {result.encoded} bytes encoded")
    n = result.statements
    print(table(["phase", "median s", "best s", "statements/s"],
                [[label, t.median, t.best, f"{n / t.median:,.0f}"] for label, t in result.times.items()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
