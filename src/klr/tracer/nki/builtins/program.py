"""The program around the computation: SPMD instance ids (``nl.program_id``, ``nl.num_programs``,
``nl.program_ndim``), loop ranges (``nl.affine_range``...) and ``nl.device_print``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import (
    PrintOutputBuffer,
)
from klr.tracer.nki import operators
from klr.tracer.nki.registers import Register, dynamic_bounds
from klr.tracer.nki.tensors import tile_view
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


NL = "nki.language."


@builtin(NL + "program_id", dialect=Dialect.both)
def program_id(ctx: Ctx, axis: Value = 0) -> Value:
    """This SPMD instance's index along ``axis`` of the launch grid (0 without a grid)."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ctx.error(f"program_id axis must be an integer, not {type_name(axis)}")
    if not ctx.grid:
        if axis != 0:
            raise ctx.error(f"invalid program axis {describe(axis)}: the kernel has no launch grid")
        return 0
    if not 0 <= axis < len(ctx.grid):
        raise ctx.error(f"invalid program axis {describe(axis)}: the launch grid has {len(ctx.grid)} "
                        "dimensions")
    return ctx.program_id[axis]


@builtin(NL + "num_programs", dialect=Dialect.both)
def num_programs(ctx: Ctx, axes: Value = None) -> Value:
    """The number of SPMD instances along ``axes`` (all of them when None)."""
    grid = ctx.grid or (1,)
    if axes is None:
        out = 1
        for g in grid:
            out *= g
        return out
    picked = axes if isinstance(axes, (tuple, list)) else (axes,)
    out = 1
    for a in picked:
        if isinstance(a, bool) or not isinstance(a, int) or not 0 <= a < len(grid):
            raise ctx.error(f"invalid program axis {describe(a)}: the launch grid has {len(grid)} dimensions")
        out *= grid[a]
    return out


@builtin(NL + "program_ndim", dialect=Dialect.both)
def program_ndim(ctx: Ctx) -> Value:
    """The number of dimensions of the launch grid."""
    return len(ctx.grid)


def _range(ctx: Ctx, name: str, start: Value, stop: Value, step: Value) -> Value:
    if any(isinstance(v, Register) for v in (start, stop, step)):
        return dynamic_bounds(ctx, name, start, stop, step)   # a bound known at run time only
    if stop is None:
        start, stop = 0, start
    for v in (start, stop, step):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ctx.error(f"{name} bounds must be integers, not {type_name(v)}")
    if step == 0:
        raise ctx.error(f"{name} step must not be zero")
    return range(start, stop, step)


def _loop(name: str, doc: str) -> Callable[..., Value]:
    def impl(ctx: Ctx, start: Value, stop: Value = None, step: Value = 1, **kwargs: Value) -> Value:
        return _range(ctx, f"nl.{name}", start, stop, step)
    impl.__doc__ = doc
    impl.__name__ = name
    return builtin(NL + name, dialect=Dialect.both)(impl)


RANGES = {name: _loop(name, doc) for name, doc in (
    ("affine_range", "A loop over independent iterations (unrolled at trace time; run by the "
                     "device when a bound is a register)."),
    ("sequential_range", "A loop whose iterations depend on each other (unrolled; run by the "
                         "device when a bound is a register)."),
    ("static_range", "A loop unrolled at trace time."))}
"""The loop ranges by name (``RANGES["affine_range"]`` is ``nl.affine_range``)."""


@builtin(NL + "device_print", emits=("devicePrint",), dialect=Dialect.both)
def device_print(ctx: Ctx, print_prefix: Value, tensor: Value, output_buffer: Value = None,
                 mask: Value = None) -> Value:
    """Print a tensor from the device, after ``print_prefix``."""
    if mask is not None:
        raise ctx.error("mask parameter is not supported")
    if not isinstance(print_prefix, str):
        raise ctx.error(f"print_prefix must be a string, not {type_name(print_prefix)}")
    view = tile_view(ctx, tensor, "the printed value")
    buffer = PrintOutputBuffer.stderr if getattr(output_buffer, "name", output_buffer) == "stderr" \
        else PrintOutputBuffer.stdout
    operators.device_print(ctx, view, print_prefix, buffer)
    return None


@builtin(NL + "all_reduce", dialect=Dialect.both)
def all_reduce(ctx: Ctx, x: Value, op: Value, program_axes: Value, *, dtype: Value = None, mask: Value = None,
               parallel_reduce: Value = True, asynchronous: Value = False) -> Value:
    """Reduce ``x`` across the programs of an SPMD grid: not supported (klr traces the programs
    one after another, so none can wait for the others' values); a known name, so that the
    error says so."""
    raise ctx.error("nl.all_reduce is not supported: klr traces the programs of an SPMD grid one "
                    "after another, so a program cannot wait for the values of the others")
