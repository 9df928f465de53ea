"""The NKI layer's state of one traced body (``ctx.state``, made by ``NkiLibrary.new_state``).

A body is one logical core's program; its SPMD instances share the state, so what one instance
allocated in HBM the next finds again. ``state(ctx)`` is how the layer reads it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from klr.core import Stmt, TensorName
from klr.dtypes import Dtype
from klr.tracer.nki.views import Buf, View

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from klr.tracer.context import Ctx

__all__ = ["Recorder", "State", "state"]


Region = tuple[int, tuple[int, ...], tuple[int, ...]]
"""A region of a tensor as a view reaches it: offset, steps and counts."""


class Recorder:
    """The statements emitted while a producer runs (``klr.tracer.nki.results``); ``clean`` is
    false when something else (a rescue, a cached helper) was emitted in between and must not
    be taken back."""

    __slots__ = ("clean", "stmts")

    def __init__(self) -> None:
        self.stmts: list[Stmt] = []
        self.clean = True


class State:
    """What the NKI layer remembers across the statements of one body."""

    __slots__ = ("constants", "hbm_counts", "hbm_written", "identities", "loop_allocs", "no_reorder",
                 "psum_written", "recorders", "registers", "shared_buffers", "shared_identities", "spmd",
                 "spmd_first", "watch")

    def __init__(self) -> None:
        self.recorders: list[Recorder] = []
        self.psum_written: dict[str, set[Region] | None] = {}
        """PSUM regions written, by tensor (None: all of it), so a matmul knows to zero them."""
        self.watch: dict[str, list[weakref.ref[Buf]]] = {}
        """Tiles owed their contents, by the tensor whose next write must settle them first."""
        self.hbm_written: set[str] = set()
        """HBM tensors the body writes (written inputs are outputs too)."""
        self.spmd_first: tuple[int, ...] | None = None
        """The program id of the first SPMD instance of the body."""
        self.hbm_counts: dict[tuple[int, ...], int] = {}
        """HBM tensors each SPMD instance has allocated so far."""
        self.spmd: dict[int, Buf] = {}
        """The first instance's HBM tensors by allocation number: the later instances share them."""
        self.shared_buffers: list[TensorName] = []
        """HBM tensors shared by the cores (``LncKernel.sharedBuffers``)."""
        self.constants: dict[str, NDArray[np.generic]] = {}
        """Shared constant tensors' contents (numpy arrays) by tensor name."""
        self.shared_identities: dict[tuple[int, Dtype], Buf] = {}
        """``nl.shared_identity_matrix`` constants by size and dtype."""
        self.identities: dict[tuple[str | None, Dtype], View] = {}
        """128 x 128 identity tiles in SBUF (for PE transposes) by block label and dtype."""
        self.registers: set[str] = set()
        """The names of the registers the body uses."""
        self.loop_allocs: list[set[str]] = []
        """Per open dynamic loop, innermost last: the tensors allocated in its body."""
        self.no_reorder = 0
        """How many ``with nl.no_reorder():`` blocks are open (nested ones share the outermost's
        Core block)."""

    # --- loop templates (klr.tracer.templates): what a probe may change ----------------------

    def template_ready(self) -> bool:
        """Whether a loop may be templated here: not while a producer records its statements."""
        return not self.recorders and not self.loop_allocs

    def template_snapshot(self) -> tuple[Any, ...]:
        """A copy of the small fields, to compare and restore. ``psum_written`` and ``watch``
        grow with the kernel and are not copied: the probe may only add entries for its own
        tensors (``emit.emit``, ``emit._before_write`` and ``results.retarget`` refuse the
        rest before changing anything), which ``template_restore`` removes."""
        return (set(self.hbm_written), self.spmd_first, dict(self.hbm_counts), dict(self.spmd),
                list(self.shared_buffers), dict(self.constants), dict(self.shared_identities),
                dict(self.identities), set(self.registers), [set(a) for a in self.loop_allocs],
                self.no_reorder, list(self.recorders))

    def template_changes(self, snap: tuple[Any, ...], fresh: set[str]) -> str | None:
        """What a probe changed that it may not, or None (``hbm_written`` gaining a name it
        holds already is no change)."""
        now = (self.hbm_written, self.spmd_first, self.hbm_counts, self.spmd, self.shared_buffers,
               self.constants, self.shared_identities, self.identities, self.registers,
               self.loop_allocs, self.no_reorder, self.recorders)
        for old, new in zip(snap, now):
            if old is not new and not _same(old, new):
                return "the NKI state changed"
        return None

    def template_restore(self, snap: tuple[Any, ...], fresh: set[str]) -> None:
        """Put the fields back as ``template_snapshot`` found them and drop the entries of the
        probe's tensors."""
        (self.hbm_written, self.spmd_first, self.hbm_counts, self.spmd, self.shared_buffers,
         self.constants, self.shared_identities, self.identities, self.registers,
         self.loop_allocs, self.no_reorder, self.recorders) = snap
        for name in fresh:
            self.psum_written.pop(name, None)
            self.watch.pop(name, None)


def _same(a: object, b: object) -> bool:
    """Equal containers of the same things (identity for the values: Bufs, views, tensors)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(a[k] is b[k] for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b))
    return a == b


def state(ctx: Ctx) -> State:
    """The NKI state of the body ``ctx`` traces."""
    # NkiLibrary.new_state made it; not cast(), which is a call on the hottest path of the layer
    return ctx.state  # type: ignore[return-value]
