"""Per-phase timings of every example kernel: parse, gather, trace, encode, decode, eval.

    python bench/example_timings.py [--repeat N]

Each phase is run N times (default 3), in this process, and the median is reported with the
number of Core statements the trace emits and whether eval matches the example's numpy
reference. ``python bench/run.py --only phases`` adds the synthetic kernels, whole-process
timings and peak memory.
"""

from __future__ import annotations

import argparse

import cases
import phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(phases.inner_table([phases.in_process(ex, args.repeat, memory=False) for ex in cases.examples()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
