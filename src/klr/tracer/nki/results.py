"""Value results: what a value-returning operation computed, and redoing it elsewhere.

Value-returning operations (``nl.exp(t)``, ``nisa.nc_matmul(a, b)``) are *producers*: a
function that writes the result into any destination view. ``produce`` runs it once into a
fresh tile, eagerly, and remembers the statements it emitted. When the very next thing the
kernel does is store that tile somewhere (``t[...] = nl.exp(x)``) or accumulate it into PSUM
(``acc += nisa.nc_matmul(a, b)``), ``retarget`` takes those statements back and runs the
producer again with the real destination, so no copy or extra add is emitted.

The fresh tile then holds nothing, so its contents are *owed*: its ``Buf.rescue`` recomputes
them (a copy back from the destination, or re-running the producer) and runs before anything
reads or writes the tile. The destination, or the producer's inputs, may change first; a
``watch`` on those tensors runs the rescue before they are written. Watches hold their tiles
weakly: a temporary that is gone needs no rescue, which is the usual case.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from klr.core import (
    Memory,
    Stmt,
)
from klr.tracer.affine import NotAffine
from klr.tracer.nki.emit import fresh_psum
from klr.tracer.nki.operators import copy
from klr.tracer.nki.state import Recorder, state
from klr.tracer.nki.views import View, root_view

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


Producer = Callable[["Ctx", View, bool], None]
"""Writes a value into a destination view; the flag asks to accumulate into it (matmul)."""


class Origin:
    """How a value tile was computed: its producer, what it reads, and the statements it ran."""

    __slots__ = ("accumulates", "elementwise", "inputs", "label", "memories", "produce", "stmts")

    def __init__(self, produce: Producer, stmts: list[Stmt], label: str | None, inputs: tuple[View, ...], *,
                 accumulates: bool, elementwise: bool, memories: tuple[Memory, ...]) -> None:
        self.produce = produce
        self.stmts = stmts
        self.label = label
        self.inputs = inputs
        self.accumulates = accumulates
        self.elementwise = elementwise
        self.memories = memories


def record(ctx: Ctx, run: Callable[[], None]) -> Recorder:
    st = state(ctx)
    rec = Recorder()
    st.recorders.append(rec)
    try:
        run()
    finally:
        st.recorders.remove(rec)
    return rec


def produce(ctx: Ctx, dst: View, fn: Producer, *, inputs: Sequence[View] = (), accumulates: bool = False,
            elementwise: bool = False,
            memories: tuple[Memory, ...] = (Memory.sbuf, Memory.psum)) -> Origin | None:
    """Run ``fn`` into the fresh tile ``dst`` and return how to redo it elsewhere.

    ``inputs`` are the views ``fn`` reads; ``accumulates`` says that ``fn(ctx, view, True)``
    adds into the view (a matmul into PSUM); ``elementwise`` that each element written depends
    only on the elements at the same position of the inputs (so it may write over an input);
    ``memories`` are where ``fn`` may write.
    """
    rec = record(ctx, lambda: fn(ctx, dst, False))
    if not rec.clean or not rec.stmts:
        return None
    return Origin(fn, rec.stmts, ctx.label, tuple(inputs), accumulates=accumulates, elementwise=elementwise,
                  memories=memories)


def _trailing(ctx: Ctx, stmts: list[Stmt]) -> bool:
    body: list[Stmt] = ctx._stmts  # the open block (the Ctx has no public view of it)
    n = len(stmts)
    return n <= len(body) and all(a is b for a, b in zip(body[-n:], stmts))


def _retract(ctx: Ctx, stmts: list[Stmt]) -> None:
    if ctx.template is not None and len(ctx._stmts) - len(stmts) < ctx.template.start:
        raise NotAffine("statements from before the loop taken back")
    del ctx._stmts[-len(stmts):]


def _overwrites_input(origin: Origin, dst: View) -> bool:
    """Whether writing ``dst`` while the producer runs could change what it reads: an input
    in the same tensor that is not exactly ``dst`` read element for element."""
    return any(v.buf is dst.buf and not (origin.elementwise and v.same(dst)) for v in origin.inputs)


def retarget(ctx: Ctx, src: View, origin: Origin | None, dst: View, *, accumulate: bool) -> bool:
    """Redo the producer of the fresh tile ``src`` into ``dst`` instead, when nothing has
    happened since it ran; True when done (the caller then emits nothing more)."""
    if origin is None or ctx.label != origin.label or not _trailing(ctx, origin.stmts):
        return False
    if accumulate and not origin.accumulates:
        return False
    if dst.buf.memory not in origin.memories or dst.dtype != src.dtype or dst.shape != src.shape:
        return False
    if dst.par_dim != src.par_dim or dst.buf is src.buf or _overwrites_input(origin, dst):
        return False
    if ctx.template is not None:   # a loop template's probe: watches only on its own tensors
        fresh = ctx.template.fresh
        watched_names = [v.buf.tensor.name for v in origin.inputs] if accumulate else [dst.buf.tensor.name]
        if any(n not in fresh for n in watched_names) or src.buf.tensor.name not in fresh:
            raise NotAffine("a watch on a tensor from before the loop")
    _retract(ctx, origin.stmts)
    origin.produce(ctx, dst, accumulate and not (dst.buf.memory is Memory.psum and fresh_psum(ctx, dst)))
    owed = src.buf
    st = state(ctx)
    # the rescues take the tile as an argument: a closure over it would keep it alive
    if accumulate:
        # the tile's value is the product itself: recompute it if it is ever needed
        owed.rescue = lambda c, b: origin.produce(c, root_view(b), False)
        watched = tuple(v.buf for v in origin.inputs)
    else:
        owed.rescue = lambda c, b: copy(c, root_view(b), dst)
        watched = (dst.buf,)
    for b in watched:
        st.watch.setdefault(b.tensor.name, []).append(weakref.ref(owed))
    origin.stmts = []
    return True
