"""Masks: which elements of a tile an operation writes (``mask=`` of the legacy API).

A mask (``index.Predicate``) is a conjunction of affine inequalities over the coordinates of
the tile. Inequalities on one axis (``i_p < n``, ``i_f >= 8``) clip the operation to a box:
it simply runs on the sub-views of that box. Inequalities mixing axes (``i_f <= i_p``) are
non-rectangular; elements outside them must stay unchanged:

* transfers (DMA) are split into boxes, one per value of the outer axes (for a 2-D tile, one
  per partition row, with consecutive rows of equal extent merged);
* computations run on the bounding box into a scratch tile, and a predicate tile built with
  ``iota`` (the affine value at each element) compared with 0 selects the elements that a
  ``copyPredicated`` moves into the destination.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import AluOp, Memory
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.emit import tile
from klr.tracer.nki.index import Atom, Predicate
from klr.tracer.nki.operators import Scalar
from klr.tracer.nki.views import Box, View, full_box
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

MAX_PIECES = 4096
"""Most boxes a non-rectangular mask may split one transfer into."""

Body = Callable[[View, Box], None]
"""Emits an operation restricted to a box of its iteration space, writing the given view."""


def as_mask(ctx: Ctx, mask: Value) -> Predicate | None:
    if mask is None or mask is True:
        return None
    if mask is False:  # a condition decided at trace time, e.g. ``mask=(i * 128 < n)``
        return Predicate((), (), never=True)
    if isinstance(mask, Predicate):
        return mask
    raise ctx.error(f"mask must be a comparison of index tiles, such as (i_p < n), not {type_name(mask)}")


def _fit(ctx: Ctx, mask: Predicate, shape: tuple[int, ...]) -> list[Atom]:
    """The mask's atoms over the axes of ``shape`` (masks broadcast like index tiles)."""
    extra = len(mask.shape) - len(shape)
    if extra > 0 and any(n != 1 for n in mask.shape[:extra]):
        raise ctx.error(f"a mask of shape {list(mask.shape)} does not fit a {list(shape)} tile")
    mshape = mask.shape[extra:] if extra > 0 else (1,) * -extra + mask.shape
    for m, n in zip(mshape, shape, strict=True):
        if m != 1 and m != n:
            raise ctx.error(f"a mask of shape {list(mask.shape)} does not fit a {list(shape)} tile")
    rank = len(shape)
    return [Atom(a.coefs[extra:], a.const) if extra > 0 else a.aligned(rank) for a in mask.atoms]


def _clip(box: list[list[int]], atom: Atom, axis: int) -> None:
    a = atom.coefs[axis]
    if a > 0:      # a*x + c >= 0  <=>  x >= ceil(-c / a)
        box[axis][0] = max(box[axis][0], -(atom.const // a))
    else:          # x <= floor(c / -a)
        box[axis][1] = min(box[axis][1], atom.const // -a + 1)


def region(ctx: Ctx, mask: Predicate | None, shape: tuple[int, ...]) -> tuple[Box | None, list[Atom]]:
    """The box a mask clips ``shape`` to (None: empty) and its non-rectangular atoms."""
    if mask is None:
        return full_box(shape), []
    # a mask is usually applied to every operation on a tile: remember the answer per shape
    # (the mask is immutable; the caller only reads the atoms list)
    got = mask.regions.get(shape)
    if got is None:
        got = mask.regions[shape] = _region(ctx, mask, shape)
    return got


def _region(ctx: Ctx, mask: Predicate, shape: tuple[int, ...]) -> tuple[Box | None, list[Atom]]:
    full = [[0, n] for n in shape]
    if mask.never:
        return None, []
    rest = []
    for atom in _fit(ctx, mask, shape):
        axes = atom.axes()
        if len(axes) == 1:
            _clip(full, atom, axes[0])
        else:
            rest.append(atom)
    if any(a >= b for a, b in full):
        return None, []
    return tuple((a, b) for a, b in full), rest


def masked(ctx: Ctx, dst: View, mask: Predicate | None, body: Body, *, dma: bool = False) -> None:
    """Run ``body`` over the elements of ``dst`` the mask selects, leaving the others alone."""
    box, rest = region(ctx, mask, dst.shape)
    if box is None:
        return
    if not rest:
        body(dst if mask is None else dst.box(box), box)
    elif dma:
        for piece in _pieces(ctx, box, rest):
            body(dst.box(piece), piece)
    else:
        _predicated(ctx, dst, box, rest, body)


def box_mask(shape: tuple[int, ...], box: Box) -> Predicate:
    """The mask selecting exactly ``box`` of a ``shape`` tile."""
    atoms = []
    for j, (lo, hi) in enumerate(box):
        unit = tuple(int(i == j) for i in range(len(shape)))
        atoms += [Atom(unit, -lo), Atom(tuple(-c for c in unit), hi - 1)]
    return Predicate(shape, tuple(atoms))


def rows_only(ctx: Ctx, pred: Predicate | None, data: View, fn: str, why: str) -> None:
    """A mask of an operation working along whole partitions (a per-partition reduction, a
    scan) may only drop whole partitions: a kept partition must see all of its elements."""
    if pred is None:
        return
    box, rest = region(ctx, pred, data.shape)
    par = data.par_dim
    sides = enumerate(zip(box or (), data.shape, strict=False))
    if rest or any(span != (0, n) for d, (span, n) in sides if d != par):
        raise ctx.error(f"{fn}: {why}, a mask may only select partitions (such as i_p < n)")


def _pieces(ctx: Ctx, box: Box, atoms: list[Atom]) -> list[Box]:
    """Boxes covering exactly the points of ``box`` where every atom holds."""
    axes = sorted({j for a in atoms for j in a.axes()})
    inner, outer = axes[-1], axes[:-1]
    count = 1
    for j in outer:
        count *= box[j][1] - box[j][0]
    if count > MAX_PIECES:
        raise ctx.error(f"this mask would split the transfer into {count} pieces, more than {MAX_PIECES}")
    out: list[Box] = []
    last: tuple[tuple[int, ...], int, int] | None = None
    for point in itertools.product(*(range(*box[j]) for j in outer)):
        lo, hi = box[inner]
        for a in atoms:
            rest = a.const + sum(a.coefs[j] * x for j, x in zip(outer, point, strict=True))
            c = a.coefs[inner]
            if c > 0:
                lo = max(lo, -(rest // c))
            elif c < 0:
                hi = min(hi, rest // -c + 1)
            elif rest < 0:
                hi = lo
        if lo >= hi:
            last = None
            continue
        piece = [list(b) for b in box]
        for j, x in zip(outer, point, strict=True):
            piece[j] = [x, x + 1]
        piece[inner] = [lo, hi]
        # merge with the previous piece when only the last outer axis advanced by one
        if last is not None and len(outer) >= 1 and last[1:] == (lo, hi) and \
                last[0][:-1] == point[:-1] and last[0][-1] + 1 == point[-1]:
            prev = [list(b) for b in out[-1]]
            prev[outer[-1]][1] = point[-1] + 1
            out[-1] = tuple((a, b) for a, b in prev)
        else:
            out.append(tuple((a, b) for a, b in piece))
        last = (point, lo, hi)
    return out


def _predicated(ctx: Ctx, dst: View, box: Box, atoms: list[Atom], body: Body) -> None:
    """Compute the bounding box into scratch, then copy the selected elements into dst."""
    shape = tuple(b - a for a, b in box)
    par = dst.par_dim
    scratch = tile(ctx, shape, dst.dtype, Memory.sbuf, par_axis=par)
    body(scratch, box)
    pred = predicate_tile(ctx, shape, box, atoms, par)
    operators.copy_predicated(ctx, dst.box(box), scratch, pred)


def predicate_tile(ctx: Ctx, shape: tuple[int, ...], box: Box, atoms: list[Atom], par: int | None) -> View:
    """A uint8 tile holding 1 where every atom holds over ``box`` (0 elsewhere)."""
    pred: View | None = None
    for atom in atoms:
        values = tile(ctx, shape, Dtype.int32, Memory.sbuf, par_axis=par)
        offset = atom.value_at(tuple(a for a, _ in box))
        pairs = [(atom.coefs[j], shape[j]) for j in range(len(shape)) if j != par]
        channel = 0 if par is None else atom.coefs[par]
        operators.iota(ctx, values, operators.data_pattern(offset, channel, pairs))
        holds = tile(ctx, shape, Dtype.uint8, Memory.sbuf, par_axis=par)
        operators.tensor_scalar(ctx, holds, values, AluOp.is_ge, operators.imm(0))
        if pred is not None:
            operators.tensor_tensor(ctx, holds, holds, pred, AluOp.mult)
        pred = holds
    assert pred is not None
    return pred


def box_column(v: View, box: Box) -> View:
    """A [P, 1] column restricted to the partitions of ``box``."""
    par = v.par_dim or 0
    start, stop = box[par] if par < len(box) else (0, v.partitions)
    nums = list(v.nums)
    nums[v.par] = stop - start
    return View(v.buf, v.offset + start * v.steps[v.par], v.steps, tuple(nums), v.vis, v.par)


def boxed(s: Scalar, box: Box) -> Scalar:
    return box_column(s, box) if isinstance(s, View) else s
