"""Resource limits of a trace and the budget that enforces them.

Every limit is a field of ``Limits``; exceeding one is a ``LimitError`` at the line at fault
whose message names the limit and how to raise it. ``Budget`` holds what a trace may still
spend and is shared by all logical cores of the trace:

* **steps** ("fuel"): every statement run, user call, comprehension iteration and emitted Core
  statement costs steps, and so does host work by its size (big-integer arithmetic by the
  product of the operand sizes, building a string or list by its length). One step is roughly
  a microsecond of tracing.
* **memory**: every large string, sequence, integer or host array is charged, in bytes, before
  it is built. When the charges exceed the limit, the real growth of the process since the
  trace began is measured: values that were freed in the meantime are refunded, and the trace
  stops only if charges still exceed the limit. The same measurement runs every
  ``CHECK_EVERY`` steps, which catches memory that grows by many small pieces.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from klr.errors import UsageError
from klr.limits import LimitSet, fields_of, flag_name, raise_hint

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["Budget", "Limits", "CHECK_EVERY", "STEPS_PER_BUILTIN", "STEPS_PER_CALL", "STEPS_PER_STMT",
           "process_memory"]

CHECK_EVERY = 1 << 16
"""Steps between two measurements of the process's memory."""
STEPS_PER_CALL = 4
"""Steps charged for each call of a user function, beyond its statements (binding the
arguments and the frame cost about as much as four plain statements)."""
STEPS_PER_BUILTIN = 5
"""Steps charged for each call of a builtin (argument checking and the NKI layer's work on
tiles and views, which do not emit a statement, take several microseconds)."""
STEPS_PER_STMT = 50
"""Steps charged for each emitted Core statement (an NKI builtin is that much slower than a
line of plain Python)."""
BYTES_PER_STEP = 4096
"""Writing this many bytes of a new value costs one step."""


class Limits(LimitSet):
    """Resource limits of one trace: ``Limits(max_steps=10**9)``.

    The CLI sets them by name (``klr trace --limit max-steps=1000000000``). ``fields()`` lists
    every limit with its default and meaning.
    """

    __slots__ = ("max_depth", "max_grid", "max_iterations", "max_memory", "max_nesting", "max_steps",
                 "max_stmts", "max_total_iterations")
    DOCS: ClassVar[dict[str, str]] = {
        "max_steps": "steps of tracing work: statements run, calls, loop iterations, emitted Core "
                     "statements, and host work by its size",
        "max_memory": "bytes the trace may allocate for the values it builds (strings, lists, "
                      "integers, host arrays), measured against the process's real growth",
        "max_stmts": "Core statements per body (unrolled loops included)",
        "max_iterations": "iterations of one for or while loop, or one comprehension",
        "max_total_iterations": "iterations of all loops and comprehensions of a body together",
        "max_depth": "nested calls of user functions",
        "max_nesting": "depth of nested lists, tuples, dicts and sets that the tracer walks "
                       "(printing, comparing, hashing, returning them)",
        "max_grid": "kernel instances traced: the product of the SPMD launch grid, times the "
                    "number of logical cores",
    }

    def __init__(self, *, max_steps: int = 30_000_000, max_memory: int = 2 << 30,
                 max_stmts: int = 2_000_000, max_iterations: int = 1_000_000,
                 max_total_iterations: int = 2_000_000, max_depth: int = 200, max_nesting: int = 1000,
                 max_grid: int = 65536) -> None:
        self.max_steps = max_steps
        self.max_memory = max_memory
        self.max_stmts = max_stmts
        self.max_iterations = max_iterations
        self.max_total_iterations = max_total_iterations
        self.max_depth = max_depth
        self.max_nesting = max_nesting
        self.max_grid = max_grid
        for name in self.DOCS:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise UsageError(f"limit {flag_name(name)} must be a positive integer, not {v!r}")

    @classmethod
    def fields(cls) -> tuple[tuple[str, int, str], ...]:
        """Every limit as (name, default, description), in declaration order."""
        return tuple((name, default, cls.DOCS[name]) for name, default in fields_of(cls).items())


def limit_note(name: str) -> str:
    """The clause every LimitError ends with: which limit, and how to raise it."""
    return raise_hint(name)


def process_memory() -> int | None:
    """The resident memory of this process in bytes (its peak where only that is known), or
    None where the platform does not tell."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


_freezing = False


@contextlib.contextmanager
def frozen_survivors() -> Iterator[None]:
    """Let ``Budget.tick`` freeze the survivors of its full collections (``gc.freeze``) for the
    duration, and give them back to the collector after. Not when something else in the
    process has frozen objects already: giving them back would undo its freeze."""
    global _freezing
    if _freezing or gc.get_freeze_count():
        yield
        return
    _freezing = True
    try:
        yield
    finally:
        _freezing = False
        gc.unfreeze()


class Budget:
    """The steps and memory a trace may still spend (see the module docstring)."""

    __slots__ = ("base", "charged", "limits", "mark", "peak", "steps", "ticks")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = limits.max_steps
        """Steps left; the hot paths decrement it and call ``tick`` when it drops below ``mark``."""
        self.mark = self.steps - CHECK_EVERY
        self.charged = 0
        """Bytes charged since the last measurement, plus the growth measured then."""
        self.base = process_memory()
        self.peak = 0
        """The most bytes charged or measured at any check."""
        self.ticks = 0

    def tick(self, ctx: Ctx) -> None:
        """Every CHECK_EVERY steps: stop when out of steps, collect garbage, measure the memory."""
        if self.steps < 0:
            raise ctx.limit(f"the trace takes more than {self.limits.max_steps} steps", "max_steps")
        self.mark = self.steps - CHECK_EVERY
        self.ticks += 1
        # Python's collector is off during a trace (kernel.host_settings): collecting here, at
        # points that depend only on the kernel, keeps what is alive, and so the Core that
        # depends on it (tiles whose contents are owed, nki/emit.py), the same on every run
        if self.ticks % 4 == 0:
            # Every fourth tick: what survives its collection moves out of the collector's sight
            # (``gc.freeze``): mostly the emitted Core, which lives to the end of the trace, so
            # each object is scanned about once instead of at every generation it passes (which
            # made collecting cost as much as tracing a stamped loop) or at every full
            # collection (which made a trace quadratic in its length). Cyclic garbage among
            # frozen objects waits for the end of the trace (``frozen_survivors``).
            gc.collect(2 if self.ticks % 64 == 0 else 1)
            if _freezing:
                gc.freeze()
        self.measure(ctx, 0)

    def measure(self, ctx: Ctx, wanted: int) -> None:
        """Refund freed charges from the process's real growth; stop if ``wanted`` more bytes
        would exceed the memory limit."""
        self.measure_now()
        if self.charged + wanted > self.limits.max_memory:
            raise ctx.limit(f"the trace needs more than {self.limits.max_memory} bytes of memory",
                            "max_memory")
        self.charged += wanted

    def measure_now(self) -> None:
        """Replace the charges by the process's real growth since the trace began."""
        self.peak = max(self.peak, self.charged)
        now = process_memory()
        if now is not None and self.base is not None:
            self.charged = max(0, now - self.base)
            self.peak = max(self.peak, self.charged)

    def prepay(self, cost: int) -> int:
        """How many more iterations of ``cost`` steps a loop may run before it must ``settle``:
        loops pay for their iterations in bulk, so an iteration costs one comparison."""
        return max(0, min(self.steps, self.steps - self.mark)) // max(cost, 1)

    def settle(self, ctx: Ctx, steps: int) -> None:
        """Pay ``steps`` steps a loop ran on credit; stop if the budget is spent."""
        self.steps -= steps
        if self.steps < self.mark:
            self.tick(ctx)

    def alloc(self, ctx: Ctx, nbytes: int) -> None:
        """Charge a value of ``nbytes`` bytes, before it is built."""
        self.steps -= nbytes // BYTES_PER_STEP
        if self.charged + nbytes > self.limits.max_memory:
            self.measure(ctx, nbytes)
        else:
            self.charged += nbytes
        if self.steps < self.mark:
            self.tick(ctx)

    def spend(self, ctx: Ctx, steps: int) -> None:
        """Charge ``steps`` steps of host work, before it is done."""
        self.steps -= steps
        if self.steps < self.mark:
            self.tick(ctx)
