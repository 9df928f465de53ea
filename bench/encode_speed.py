"""Encoding and writing a traced kernel: CPU time, peak memory, and how often sub-nodes recur.

    python bench/encode_speed.py [--kernel add|matmul|beta2 ...] [--m --k --n] [--repeat 5]
                                 [--template P] [--shares]

Each kernel (sizes as in bench/trace_speed.py) is traced once; then, in process:

* *encode*: ``klr.format.file.to_buffer`` (the whole file in memory), CPU µs per statement,
  the minimum over ``--repeat`` runs;
* *save*: ``klr.save`` to a file (encode and write through the temporary file), CPU µs per
  statement, minimum over the runs;
* *peak*: the tracemalloc peak of one ``klr.save`` beyond what existed before it (the kernel is
  already in memory), in bytes per statement and in MiB;
* with ``--template P``: the same for the kernel with its operator objects shared between
  statements i and i + P (``templated``), what an encoder caching by identity gains when a
  tracer shares whole operators between loop iterations;
* with ``--shares``: per node class, how many times a node occurs in the kernel and how many
  distinct objects those are (shared by identity), the nodes an encoder can cache by identity.

CPU time, not wall time: the numbers are meant to be compared across changes on a loaded
machine. The encoder's caches are emptied before every run, as in a fresh process.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from typing import Any

import cases
from measure import peak_memory, statements, table
from trace_speed import kernel_case


def cpu_best(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        reset_caches()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def reset_caches() -> None:
    try:
        from klr.format.reuse import forget
    except ImportError:  # before klr.format.reuse: one cache, in klr.format.cbor
        from klr.format import cbor

        cbor._ENC_MEMO.clear()  # type: ignore[attr-defined]
    else:
        forget()


def shares(kernel: Any) -> list[list[Any]]:
    """Per class of node: occurrences in the tree (a shared node's children counted at each of
    its occurrences), distinct objects, occurrences per object."""
    from klr.schema import field_names

    seen: Counter[str] = Counter()
    ids: dict[str, set[int]] = {}
    stack = [kernel]
    while stack:
        v = stack.pop()
        if isinstance(v, (tuple, list)):
            stack.extend(v)
            continue
        names = field_names(type(v)) if hasattr(type(v), "__klr__") else None
        if not names:
            continue
        cls = type(v).__name__
        seen[cls] += 1
        ids.setdefault(cls, set()).add(id(v))
        stack.extend(getattr(v, n) for n in names)
    rows = [[cls, n, len(ids[cls]), f"{n / len(ids[cls]):.1f}"] for cls, n in seen.most_common()]
    return rows


def measure(core: Any, repeat: int) -> list[Any]:
    """Statements, encode and save CPU µs per statement, save's peak B/statement and MiB, file
    bytes per statement."""
    import klr
    from klr.format.file import to_buffer

    n = statements(core)
    to_buffer(core)  # the encoders of the classes it holds are compiled on first use
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.klr")
        encode = cpu_best(lambda: to_buffer(core), repeat)
        save = cpu_best(lambda: klr.save(path, core), repeat)
        reset_caches()
        peak, _ = peak_memory(lambda: klr.save(path, core))
        size = os.path.getsize(path)
    return [n, f"{encode / n * 1e6:.2f}", f"{save / n * 1e6:.2f}", f"{peak / n:,.0f}", f"{peak / 2**20:.1f}",
            f"{size / n:.1f}"]


def templated(kernel: Any, period: int) -> Any:
    """``kernel`` as a tracer stamping loop iterations out of a template might emit it at best:
    statement i names the operator object of statement i mod ``period`` (each statement keeps
    its own name and position), so operator payloads are shared by identity."""
    from klr.core import Block, LncKernel, Stmt

    def block(b: Any) -> Any:
        return Block(b.label, b.noReorder, tuple(Stmt(b.body[i % period].op, s.name, s.pos)
                                                 for i, s in enumerate(b.body)))

    return LncKernel(kernel.name, kernel.inputs, kernel.outputs,
                     tuple(tuple(block(b) for b in body) for body in kernel.bodies),
                     kernel.sharedConstants, kernel.sharedBuffers, kernel.edges)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel", nargs="+", choices=("matmul", "beta2", "elementwise", "add"),
                        default=["add", "matmul", "beta2"], help="which kernels to run")
    parser.add_argument("--m", type=int, default=None, help="rows of the result (multiple of 128)")
    parser.add_argument("--k", type=int, default=2048, help="contraction size (multiple of 128)")
    parser.add_argument("--n", type=int, default=2048, help="columns of the result (multiple of 512)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement")
    parser.add_argument("--shares", action="store_true", help="count how often nodes recur")
    parser.add_argument("--template", type=int, default=0, metavar="PERIOD",
                        help="also measure each kernel with its operators shared with period PERIOD")
    args = parser.parse_args(argv)

    import klr

    rows = []
    for kernel in args.kernel:
        ex = kernel_case(kernel, args.m or (51200 if kernel == "add" else 2048), args.k, args.n)
        core = klr.trace(cases.gather(ex, ex.make_inputs(seed=0))).kernel
        rows.append([ex.name, *measure(core, args.repeat)])
        if args.template:
            rows.append([f"{ex.name} ops shared /{args.template}",
                         *measure(templated(core, args.template), args.repeat)])
        if args.shares:
            print(f"{ex.name}: nodes by class (occurrences, distinct objects)")
            print(table(["class", "occurrences", "objects", "per object"], shares(core)))
    print(table(["kernel", "statements", "encode cpu µs/st", "save cpu µs/st", "save peak B/st",
                 "save peak MiB", "file B/st"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
