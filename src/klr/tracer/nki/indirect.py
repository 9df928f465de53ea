"""Tensor-indexed views: ``x[idx_tile, i_f]``, the indirect (gather/scatter) DMA form.

An index entry that is an on-chip integer tile replaces one axis's coordinate by the tile's
values at run time. The view is built as if that entry were the index tile ``0..n-1`` of the
tile's shape (so shapes broadcast as usual); the pair walking that axis then becomes the
``vectorOffset`` pair of the lowered ``BirAccessPattern``: its step is the axis's stride, its
count the number of indices, and element ``j`` along it is at ``idx[j] * step`` (the
interpreter's convention, ``klr.interp.memory``). Indices are only known at run time, so
bounds along that axis are checked by the interpreter, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.core import BirAccessPattern, ScalarReg, rules
from klr.tracer.nki.emit import ready
from klr.tracer.nki.index import Affine, IndexTile
from klr.tracer.nki.views import Box, View, checked, index_view
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


class IndirectView(View):
    """A View whose pair ``ipair`` takes its coordinates from the on-chip view ``index``."""

    __slots__ = ("index", "ipair", "limit")

    def __init__(self, base: View, ipair: int, index: View, limit: int) -> None:
        super().__init__(base.buf, base.offset, base.steps, base.nums, base.vis, base.par, base.checks)
        self.ipair = ipair
        self.index = index
        self.limit = limit      # size of the indexed axis

    def span(self) -> tuple[int, int]:
        lo = hi = self.offset
        for i, (s, n) in enumerate(zip(self.steps, self.nums, strict=True)):
            reach = s * ((self.limit if i == self.ipair else n) - 1)
            lo += min(0, reach)
            hi += max(0, reach)
        return lo, hi

    def lower(self, lead: int | None = None) -> BirAccessPattern:
        first = self.par if lead is None else lead
        got = self._low.get(first)
        if got is None:
            order = (first, *(i for i in range(len(self.nums)) if i != first))
            plain = super().lower(lead)
            got = BirAccessPattern(plain.tensor, plain.offset, plain.pattern, None, self.index.lower(),
                                   order.index(self.ipair))
            self._low[first] = got
        return got

    def box(self, box: Box) -> View:
        if all(a == 0 and b == n for (a, b), n in zip(box, self.shape, strict=True)):
            return self
        d = self.vis.index(self.ipair) if self.ipair in self.vis else None
        whole = tuple((0, n) if k == d else ab for k, (ab, n) in enumerate(zip(box, self.shape, strict=True)))
        base = View.box(self, whole)
        index = self.index
        if d is not None and box[d] != (0, self.shape[d]):
            a, b = box[d]
            nums = list(base.nums)
            nums[self.ipair] = b - a
            base = View(base.buf, base.offset, base.steps, tuple(nums), base.vis, base.par, base.checks)
            k = _varying(index)
            index = index.box(tuple((a, b) if j == k else (0, n) for j, n in enumerate(index.shape)))
        return IndirectView(base, self.ipair, index, self.limit)


def _varying(v: View) -> int:
    """The one dimension of an index tile with more than one element (0 when none has)."""
    return next((d for d, n in enumerate(v.shape) if n > 1), 0)


def indirect_view(ctx: Ctx, view: View, entries: list[Value], k: int, tensor: View) -> View:
    """``view[entries]`` where entry ``k`` is the on-chip integer tile ``tensor`` (the others
    are the usual indices)."""
    index = checked(ctx, tensor)
    if index.rank == 0:   # one element of a tile (``t[0, 0]``): a [1, 1] tile of one index
        index = index_view(ctx, index, (None, None))
    try:
        rules.in_memory(rules.Arg(f"the index tensor '{index.tensor.name}'", index.shape, index.dtype,
                                  index.buf.memory), *rules.ON_CHIP)
    except rules.RuleError as err:
        raise ctx.error(f"{err.message}; load it first") from None
    if not index.dtype.is_int:
        raise ctx.error(f"an index tensor must hold integers, not {index.dtype.name}")
    shape = index.shape
    if sum(1 for n in shape if n > 1) > 1:
        raise ctx.error(f"an index tensor must vary along one axis, not have shape {list(shape)}")
    d = _varying(index)
    consumed = sum(1 for e in entries[:k] if e is not None and e is not Ellipsis)
    if Ellipsis in entries[:k]:
        raise ctx.error("a tensor index cannot follow '...'")
    axis = view.vis[consumed] if consumed < len(view.vis) else None
    if axis is None:
        raise ctx.error(f"too many indices: the tensor has {view.rank} dimensions")
    limit = view.nums[axis]

    def place(coef: int) -> View:
        stand_in = IndexTile(Affine(shape, tuple(coef if j == d else 0 for j in range(len(shape))), 0))
        return index_view(ctx, view, tuple(stand_in if j == k else e for j, e in enumerate(entries)))

    base = place(1)
    if shape[d] > 1:
        doubled = place(2)
        moved = [i for i, (a, b) in enumerate(zip(base.steps, doubled.steps, strict=True)) if a != b]
        ipair = moved[0]
    else:
        # a single index: its pair is the (1-element) one walking the indexed axis
        found = next((i for i, (s, n) in enumerate(zip(base.steps, base.nums, strict=True))
                      if s == view.steps[axis] and n == 1), None)
        if found is None:   # the index took the axis away (the other indices' shape has none left)
            return _offset_by(ctx, base, index, view.buf.dims, view.steps[axis], consumed)
        ipair = found
    checks = tuple(c for c in base.checks if c.axis != consumed)
    base = View(base.buf, base.offset, base.steps, base.nums, base.vis, base.par, checks)
    ready(ctx, index.buf)
    return IndirectView(base, ipair, index, limit)


def _offset_by(ctx: Ctx, base: View, index: View, dims: tuple[int, ...], step: int, consumed: int) -> View:
    """``base`` displaced at run time by the one index ``index`` holds times ``step`` elements:
    an OffsetView along the tensor dimension whose rows are ``step`` elements long."""
    row = 1
    for d in range(len(dims) - 1, -1, -1):
        if row == step:
            checks = tuple(c for c in base.checks if c.axis != consumed)
            ready(ctx, index.buf)
            return OffsetView(View(base.buf, base.offset, base.steps, base.nums, base.vis, base.par, checks),
                              index, d)
        row *= dims[d]
    raise ctx.error("a tensor index must select along a dimension of the tensor itself, not of a "
                    "reshaped or strided view of it")


class OffsetView(View):
    """A View (from ``t.ap(scalar_offset=s)`` or ``t[i, ...]``) displaced at run time by the
    integer ``s`` holds (a one-element tensor, or a register named by a str) times the row size
    of the tensor's dimension ``dim`` (``klr.interp.machine``'s rule).
    Where it lands is only known at run time: the interpreter checks its bounds."""

    __slots__ = ("dim", "scalar")

    def __init__(self, base: View, scalar: View | str, dim: int) -> None:
        super().__init__(base.buf, base.offset, base.steps, base.nums, base.vis, base.par)
        self.scalar = scalar
        self.dim = dim
        self._ok = True

    def span(self) -> tuple[int, int]:
        return 0, self.buf.size - 1

    def lower(self, lead: int | None = None) -> BirAccessPattern:
        first = self.par if lead is None else lead
        got = self._low.get(first)
        if got is None:
            s = self.scalar
            offset = ScalarReg(s) if isinstance(s, str) else s.lower()
            from dataclasses import replace  # (imported here: at start-up it costs more than all of this)

            got = replace(super().lower(lead), scalarOffset=offset, indirectDim=self.dim)
            self._low[first] = got
        return got

    def box(self, box: Box) -> View:
        if all(a == 0 and b == n for (a, b), n in zip(box, self.shape, strict=True)):
            return self
        return OffsetView(View.box(self, box), self.scalar, self.dim)


def offset_index(ctx: Ctx, v: View, what: str) -> View:
    """``v`` checked as the index tensor of a dynamic access (integers, read at run time)."""
    index = checked(ctx, v)
    if not index.dtype.is_int:
        raise ctx.error(f"{what} must hold integers, not {index.dtype.name}")
    ready(ctx, index.buf)
    return index

