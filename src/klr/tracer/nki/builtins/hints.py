"""``nki.compiler``: direct-allocation buffers, scheduling directives and kernel decorators.

Direct allocation (``ncc.sbuf.mod_alloc(base_addr=...)``, ``ncc.psum.mod_alloc(base_bank=...)``,
``ncc.sbuf.alloc(func)``) tells the compiler where each logical tile of a tensor lives, and
with ``num_*_tiles`` lets several logical tiles share one physical tile. A kernel using it is
written so that tiles sharing storage are never live at the same time; klr gives every
logical tile its own storage (the tracer's own layout), which computes the same values for
such a kernel, so these buffers only select the memory. Directives (``ncc.no_reorder()``) do not
change what a kernel computes either (the tracer ignores function decorators such as
``@ncc.skip_middle_end_transformations`` altogether).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.core import Memory
from klr.tracer.nki.consts import BufferValue
from klr.tracer.nki.state import state
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

NCC = "nki.compiler."


def _tiles(ctx: Ctx, v: Value, what: str) -> tuple[int, ...]:
    if not isinstance(v, (tuple, list)) or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0
                                                   for x in v):
        raise ctx.error(f"{what} must be a tuple of positive integers, not {describe(v)}")
    return tuple(v)


def _offset(ctx: Ctx, v: Value, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ctx.error(f"{what} must be a non-negative integer, not {describe(v)}")
    n: int = v
    return n


@builtin(NCC + "sbuf.mod_alloc", dialect=Dialect.legacy)
def sbuf_mod_alloc(ctx: Ctx, *, base_addr: Value, base_partition: Value = 0, num_par_tiles: Value = (),
                   num_free_tiles: Value = ()) -> Value:
    """An SBUF buffer placing logical tiles modulo ``num_free_tiles`` from ``base_addr``
    (klr keeps every logical tile apart; the values computed are the same)."""
    _offset(ctx, base_addr, "base_addr")
    _offset(ctx, base_partition, "base_partition")
    _tiles(ctx, num_par_tiles, "num_par_tiles")
    _tiles(ctx, num_free_tiles, "num_free_tiles")
    return BufferValue(f"sbuf.mod_alloc(base_addr={base_addr})", Memory.sbuf)


@builtin(NCC + "psum.mod_alloc", dialect=Dialect.legacy)
def psum_mod_alloc(ctx: Ctx, *, base_bank: Value, base_addr: Value = 0, base_partition: Value = 0,
                   num_bank_tiles: Value = (), num_par_tiles: Value = (),
                   num_free_tiles: Value = ()) -> Value:
    """A PSUM buffer placing logical tiles modulo ``num_bank_tiles`` from bank ``base_bank``
    (klr keeps every logical tile apart; the values computed are the same)."""
    for v, what in ((base_bank, "base_bank"), (base_addr, "base_addr"), (base_partition, "base_partition")):
        _offset(ctx, v, what)
    for v, what in ((num_bank_tiles, "num_bank_tiles"), (num_par_tiles, "num_par_tiles"),
                    (num_free_tiles, "num_free_tiles")):
        _tiles(ctx, v, what)
    return BufferValue(f"psum.mod_alloc(base_bank={base_bank})", Memory.psum)


def _custom(memory: Memory) -> None:
    def impl(ctx: Ctx, func: Value) -> Value:
        if isinstance(func, BufferValue) and func.memory is memory:
            return func  # ``ncc.psum.alloc(mod_alloc(...))`` wraps an allocation already made
        if not isinstance(func, TraceObject):
            raise ctx.error(f"{memory.name}.alloc takes an allocation function, not {type_name(func)}")
        return BufferValue(f"{memory.name}.alloc", memory)
    impl.__doc__ = (f"A {memory.name.upper()} buffer whose logical tiles ``func`` places (klr keeps every "
                    "logical tile apart; the values computed are the same).")
    builtin(f"{NCC}{memory.name}.alloc", dialect=Dialect.legacy)(impl)

    def auto(ctx: Ctx) -> Value:
        return BufferValue(memory.name, memory)
    auto.__doc__ = f"A {memory.name.upper()} buffer the compiler allocates."
    builtin(f"{NCC}{memory.name}.auto_alloc", dialect=Dialect.legacy)(auto)


for _memory in (Memory.sbuf, Memory.psum):
    _custom(_memory)


class Directive(TraceObject):
    """A scheduling directive (``ncc.no_reorder()``) handed to a loop's ``directives=``."""

    __slots__ = ("name",)
    type_name = "directive"

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{self.name}()"


@builtin(NCC + "no_reorder", dialect=Dialect.legacy)
def no_reorder(ctx: Ctx) -> Value:
    """A loop directive keeping the iterations' instructions in program order."""
    return Directive("no_reorder")


class NoReorder(TraceObject):
    """``with nl.no_reorder():``, whose statements form a block kept in program order. A nested
    one stays in the outer block; control flow decided at run time cannot be inside one
    (``klr.tracer.nki.registers``), as it would split the block."""

    __slots__ = ()
    type_name = "no_reorder"

    def enter(self, ctx: Ctx) -> Value:
        st = state(ctx)
        if not st.no_reorder:
            ctx.begin_block(ctx.fresh_label("noreorder"), no_reorder=True)
        st.no_reorder += 1
        return None

    def exit(self, ctx: Ctx) -> None:
        st = state(ctx)
        st.no_reorder -= 1
        if not st.no_reorder:
            ctx.begin_block(ctx.fresh_label("after"))


@builtin("nki.language.no_reorder", dialect=Dialect.beta2)
def nl_no_reorder(ctx: Ctx) -> Value:
    """``with nl.no_reorder():`` keeps the block's instructions in program order (a Core block
    with ``noReorder``); a nested one joins it; an if, while or loop decided at run time cannot
    be inside it."""
    return NoReorder()


@builtin(NCC + "multi_buffer", dialect=Dialect.legacy)
def multi_buffer(ctx: Ctx, factor: Value) -> Value:
    """A loop directive letting ``factor`` iterations' buffers be in flight at once (a
    scheduling hint: the values computed are the same)."""
    if isinstance(factor, bool) or not isinstance(factor, int) or factor <= 0:
        raise ctx.error(f"multi_buffer takes a positive integer, not {describe(factor)}")
    return Directive(f"multi_buffer({factor})")
