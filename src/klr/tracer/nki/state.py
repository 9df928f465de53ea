"""The NKI layer's state of one traced body (``ctx.state``, made by ``NkiLibrary.new_state``).

A body is one logical core's program; its SPMD instances share the state, so what one instance
allocated in HBM the next finds again. ``state(ctx)`` is how the layer reads it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

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


def state(ctx: Ctx) -> State:
    """The NKI state of the body ``ctx`` traces."""
    # NkiLibrary.new_state made it; not cast(), which is a call on the hottest path of the layer
    return ctx.state  # type: ignore[return-value]
