"""Tensor views: what a tensor value denotes, and how it lowers to a Core access pattern.

A ``View`` is an element offset plus ``(step, num)`` pairs into the flat, row-major storage of
one tensor (a ``Buf``): element ``(x_0, ..., x_k)`` of the view is at flat index
``offset + sum(x_i * step_i)``. This is exactly a ``BirAccessPattern``, so lowering is a
reordering: the partition pair goes first, the others keep their order. Some pairs are
*hidden*: an axis indexed with an integer stays as a ``(step, 1)`` pair, as the reference keeps
it, but is not part of the view's shape. ``par`` is the pair holding the partition axis.

Indexing follows numpy: integers drop an axis, slices (any step) keep it, ``None`` adds a
size-1 axis, ``...`` expands, missing trailing indices select everything. Legacy index tiles
(``klr.tracer.nki.index``) are numpy's advanced indices: each indexed axis takes the affine
value of its index tile, and the view's dimensions are the broadcast shape of the tiles. Bounds
of slices and index tiles are checked when the view is used (``check``), after a mask has
clipped it, because masked-out elements may lie outside the tensor.

Storage of a tensor is partition-major: a tensor declared ``(B, par_dim(N), M)`` is stored as
the Core TensorName ``[N, B, M]`` and its root view has steps ``(M, B*M, 1)``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from klr.core import APPair, BirAccessPattern, Memory, TensorName
from klr.dtypes import Dtype
from klr.tracer.affine import Sym
from klr.tracer.nki.index import IndexTile, MgridResult, broadcast_shapes
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from klr.tracer.context import Ctx

Box = tuple[tuple[int, int], ...]
"""A rectangular region of a view: (start, stop) per dimension."""


class Buf:
    """One tensor: its Core TensorName, its declared dimensions and partition axis.

    ``rescue`` is set when the tensor's contents are owed (see ``klr.tracer.nki.emit``): it runs
    before any later read or write of the tensor.
    """

    __slots__ = ("__weakref__", "dims", "dtype", "layout", "lowered", "memory", "on_chip", "par_axis",
                 "rescue", "size", "tensor")

    def __init__(self, tensor: TensorName, dims: tuple[int, ...], par_axis: int | None) -> None:
        self.tensor = tensor
        self.dtype = tensor.dtype   # differs from the tensor's in a reinterpreting view (``retyped``)
        self.dims = dims
        self.par_axis = par_axis
        self.rescue: Callable[[Ctx, Buf], None] | None = None
        # access patterns by (offset, steps, nums, leading pair): see View.lower
        self.lowered: dict[tuple[int, tuple[int, ...], tuple[int, ...], int], BirAccessPattern] = {}
        self.memory: Memory = tensor.address.memory
        self.on_chip = not self.memory.is_hbm
        self.size = tensor.shape.parDim * tensor.freeElements
        # the root view's (steps, nums, visible pairs, partition pair); a View here would
        # make a reference cycle and keep dead tensors alive for the weak watches of emit.py
        self.layout = _layout(dims, par_axis, self.size)


class Check:
    """A deferred bounds check: ``const + sum(coefs[d] * x_d)`` must lie in ``[0, size)``
    for every coordinate of the view (``coefs`` per visible dimension)."""

    __slots__ = ("axis", "coefs", "const", "size")

    def __init__(self, axis: int, size: int, const: int, coefs: tuple[int, ...]) -> None:
        self.axis = axis
        self.size = size
        self.const = const
        self.coefs = coefs


class View:
    """An immutable strided view of a Buf (see the module docstring)."""

    __slots__ = ("_low", "_ok", "buf", "checks", "nums", "offset", "par", "par_dim", "shape", "steps", "vis")

    def __init__(self, buf: Buf, offset: int, steps: tuple[int, ...], nums: tuple[int, ...],
                 vis: tuple[int, ...], par: int, checks: tuple[Check, ...] = ()) -> None:
        self.buf = buf
        self.offset = offset
        self.steps = steps
        self.nums = nums
        self.vis = vis
        self.par = par
        self.checks = checks
        self.shape = tuple(map(nums.__getitem__, vis))
        # the visible dimension holding the partition axis (None when it is indexed away);
        # an attribute, not a property, because operand lowering asks for it constantly
        self.par_dim = vis.index(par) if par in vis else None
        self._low: dict[int, BirAccessPattern] = {}
        self._ok = False        # bounds checked

    @property
    def tensor(self) -> TensorName:
        return self.buf.tensor

    @property
    def dtype(self) -> Dtype:
        return self.buf.dtype

    @property
    def rank(self) -> int:
        return len(self.vis)

    @property
    def partitions(self) -> int:
        return self.nums[self.par]

    @property
    def free_size(self) -> int:
        out = 1
        for i, n in enumerate(self.nums):
            if i != self.par:
                out *= n
        return out

    def same(self, other: View) -> bool:
        return (self.buf is other.buf and self.offset == other.offset and self.steps == other.steps
                and self.nums == other.nums)

    def is_whole(self) -> bool:
        steps, nums, vis, _ = self.buf.layout
        return self.offset == 0 and self.steps == steps and self.nums == nums and self.vis == vis

    def span(self) -> tuple[int, int]:
        lo = hi = self.offset
        # (no strict=True in the zips of hot paths: it costs more than the loop; the lengths
        # are equal by construction)
        for s, n in zip(self.steps, self.nums):
            if s > 0:
                hi += s * (n - 1)
            else:
                lo += s * (n - 1)
        return lo, hi

    def lower(self, lead: int | None = None) -> BirAccessPattern:
        """The Core access pattern; pair ``lead`` (default: the partition pair) goes first."""
        first = self.par if lead is None else lead
        got = self._low.get(first)
        if got is None:
            # kernels access the same regions again and again (a tile loaded in every
            # iteration of an outer loop), and building IR nodes is slow: share them per tensor
            buf = self.buf
            key = (self.offset, self.steps, self.nums, first)
            symbolic = not isinstance(self.offset, int)   # a loop template's Sym: unhashable, not cached
            got = None if symbolic else buf.lowered.get(key)
            if got is None:
                tensor = buf.tensor
                override = buf.dtype if buf.dtype != tensor.dtype else None
                got = BirAccessPattern(tensor, self.offset, _pairs(self.steps, self.nums, first),
                                       dtypeOverride=override)
                if not symbolic:
                    buf.lowered[key] = got
            self._low[first] = got
        return got

    def box(self, box: Box) -> View:
        """The sub-view of a region given per visible dimension (of this view's shape)."""
        if box == full_box(self.shape):
            return self
        if len(box) != len(self.vis):
            raise AssertionError(f"a {len(box)}-dimensional box of a {list(self.shape)} view")
        steps, nums = list(self.steps), list(self.nums)
        offset = self.offset
        for d, (start, stop) in enumerate(box):
            i = self.vis[d]
            offset += start * steps[i]
            nums[i] = stop - start
        checks = tuple(Check(c.axis, c.size, _shifted(c, box), c.coefs) for c in self.checks)
        return View(self.buf, offset, self.steps, tuple(nums), self.vis, self.par, checks)

    def __repr__(self) -> str:
        return f"View({self.tensor.name}, {self.offset}, {list(zip(self.steps, self.nums, strict=True))})"


@functools.lru_cache(maxsize=4096)
def full_box(shape: tuple[int, ...]) -> Box:
    """The region covering all of ``shape`` (memoised: masks and boxes ask for it per operation)."""
    return tuple((0, n) for n in shape)


@functools.lru_cache(maxsize=4096)
def _pairs(steps: tuple[int, ...], nums: tuple[int, ...], first: int) -> tuple[APPair, ...]:
    """The APPairs of a view with pair ``first`` moved to the front (memoised: few distinct
    shapes recur across a kernel, and IR nodes are slow to build)."""
    order = (first, *(i for i in range(len(nums)) if i != first))
    return tuple(APPair(steps[i], nums[i], 0) for i in order)


def _shifted(c: Check, box: Box) -> int:
    return c.const + sum(k * b[0] for k, b in zip(c.coefs, box))


def retyped(buf: Buf, dtype: Dtype, dims: tuple[int, ...]) -> Buf:
    """The same storage seen as elements of ``dtype`` with declared dimensions ``dims`` (the
    caller keeps the byte size): a Buf over the same TensorName whose views lower with a
    ``dtypeOverride`` and count offsets and steps in ``dtype`` elements."""
    alias = Buf(buf.tensor, dims, buf.par_axis)
    alias.dtype = dtype
    alias.size = buf.size * buf.dtype.size // dtype.size
    alias.layout = _layout(dims, buf.par_axis, alias.size)
    return alias


def root_view(buf: Buf) -> View:
    """The whole tensor in its declared dimension order (behind a hidden partition pair when
    the tensor has a single partition outside its dimensions)."""
    steps, nums, vis, par = buf.layout
    view = View(buf, 0, steps, nums, vis, par)
    view._ok = True   # exactly the tensor's elements: nothing to check
    return view


Layout = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int]


@functools.lru_cache(maxsize=4096)  # pure, and asked for every new tile of a recurring shape
def _layout(dims: tuple[int, ...], k: int | None, size: int) -> Layout:
    if k is None:
        inner = [1] * len(dims)
        for i in range(len(dims) - 2, -1, -1):
            inner[i] = inner[i + 1] * dims[i + 1]
        return (size, *inner), (1, *dims), tuple(range(1, len(dims) + 1)), 0
    storage = (dims[k], *dims[:k], *dims[k + 1:])
    strides = [1] * len(storage)
    for i in range(len(storage) - 2, -1, -1):
        strides[i] = strides[i + 1] * storage[i + 1]
    # storage position of declared axis a: the partition axis is first, the others keep order
    pos = [(0 if a == k else a + 1 if a < k else a) for a in range(len(dims))]
    return tuple(strides[p] for p in pos), dims, tuple(range(len(dims))), k


# --- checks --------------------------------------------------------------------------------


def check(ctx: Ctx, view: View) -> None:
    """Raise for an index outside its axis (deferred checks) or outside the tensor."""
    if view._ok:
        return
    shape = view.shape
    for c in view.checks:
        lo = hi = c.const
        for k, n in zip(c.coefs, shape):
            if k > 0:
                hi += k * (n - 1)
            else:
                lo += k * (n - 1)
        if lo < 0:
            raise ctx.error(f"index {lo} is out of bounds for axis {c.axis} with size {c.size}")
        if hi >= c.size:
            raise ctx.error(f"index {hi} is out of bounds for axis {c.axis} with size {c.size}")
    lo, hi = view.span()
    if lo < 0 or hi >= view.buf.size:
        raise ctx.error(f"the access reaches element {lo if lo < 0 else hi} of tensor "
                        f"'{view.tensor.name}', which has {view.buf.size} elements")
    view._ok = True


def checked(ctx: Ctx, view: View) -> View:
    if not view.checks:
        return view
    check(ctx, view)
    return View(view.buf, view.offset, view.steps, view.nums, view.vis, view.par)


# --- indexing ------------------------------------------------------------------------------


def _entries(ctx: Ctx, view: View, key: Value) -> list[Value]:
    if isinstance(key, MgridResult):      # x[nl.mgrid[0:128, 0:512]]
        key = key.tiles
    entries = list(key) if isinstance(key, tuple) else [key]
    ellipses = sum(1 for e in entries if e is Ellipsis)
    if ellipses > 1:
        raise ctx.error("an index can only have a single ellipsis ('...')")
    for e in entries:
        if e is None or e is Ellipsis or isinstance(e, (slice, IndexTile, Sym)):
            continue
        if isinstance(e, bool) or not isinstance(e, int):
            raise ctx.error(f"tensor indices must be integers, slices, None, '...' or index tiles, "
                            f"not {type_name(e)}")
    used = sum(1 for e in entries if e is not None and e is not Ellipsis)
    if used > view.rank:
        raise ctx.error(f"too many indices: the tensor has {view.rank} dimensions but {used} were given")
    fill = [slice(None)] * (view.rank - used)
    if ellipses:
        i = entries.index(Ellipsis)
        return entries[:i] + fill + entries[i + 1:]
    return entries + fill


def _slice(ctx: Ctx, s: slice, n: int, axis: int) -> tuple[int, int, int]:
    """(start, length, step) of a slice over an axis of size n, without clamping."""
    for v in (s.start, s.stop, s.step):
        symbolic = type(v) is Sym and v is not s.step   # a loop template's bound (not a step)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)) and not symbolic:
            raise ctx.error(f"slice bounds must be integers, not {type_name(v)}")
    step = 1 if s.step is None else s.step
    if step == 0:
        raise ctx.error("slice step cannot be zero")
    if step > 0:
        start = 0 if s.start is None else s.start + n if s.start < 0 else s.start
        stop = n if s.stop is None else s.stop + n if s.stop < 0 else s.stop
        length = max(0, -(-(stop - start) // step))
    else:
        start = n - 1 if s.start is None else s.start + n if s.start < 0 else s.start
        stop = -1 if s.stop is None else s.stop + n if s.stop < 0 else s.stop
        length = max(0, -(-(start - stop) // -step))
    if length == 0:
        shown = ":".join("" if v is None else describe(v) for v in (s.start, s.stop, s.step))
        raise ctx.error(f"slice {shown.rstrip(':') or ':'} selects no elements of axis {axis} with size {n}")
    return start, length, step


def _coord(ctx: Ctx, i: int, n: int, axis: int) -> int:
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise ctx.error(f"index {describe(i)} is out of bounds for axis {axis} with size {n}")
    return j


def index_view(ctx: Ctx, view: View, key: Value) -> View:
    """``view[key]`` with numpy semantics (see the module docstring)."""
    view = _with_free_singles(checked(ctx, view), key)
    entries = _entries(ctx, view, key)
    if any(isinstance(e, IndexTile) for e in entries):
        return _advanced(ctx, view, entries)
    return _basic(ctx, view, entries)


def _with_free_singles(view: View, key: Value) -> View:
    """An on-chip tile indexed with an integer on a free axis keeps that axis as a size-1 one
    in NKI tile code (``l_buf[:, i]`` is a ``[128, 1]`` tile and takes ``[:, 0]``): when a key
    has more indices than ``view`` has dimensions, the hidden free pairs become visible again;
    a ``[P]`` tile computed from one takes two indices as the column ``[P, 1]``."""
    if not view.buf.on_chip or view.par_dim is None:
        return view
    entries = key.tiles if isinstance(key, MgridResult) else key
    used = sum(1 for e in (entries if isinstance(entries, tuple) else (entries,))
               if e is not None and e is not Ellipsis)
    singles = [i for i in range(view.par + 1, len(view.nums)) if i not in view.vis and view.nums[i] == 1]
    if used == 2 and view.rank == 1 and not singles:   # a [P] tile is the column [P, 1]
        return expand_view(view, (view.shape[0], 1), left=True)
    if used <= view.rank or used > view.rank + len(singles):
        return view
    vis = tuple(sorted((*view.vis, *singles[:used - view.rank])))
    return View(view.buf, view.offset, view.steps, view.nums, vis, view.par)


class _Out:
    """The pairs of a view under construction."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.nums: list[int] = []
        self.vis: list[int] = []
        self.par = -1
        self.checks: list[tuple[int, int, int, dict[int, int]]] = []

    def add(self, step: int, num: int, visible: bool) -> int:
        self.steps.append(step)
        self.nums.append(num)
        if visible:
            self.vis.append(len(self.steps) - 1)
        return len(self.steps) - 1

    def view(self, buf: Buf, offset: int) -> View:
        if not self.checks:
            return View(buf, offset, tuple(self.steps), tuple(self.nums), tuple(self.vis), self.par)
        pos = {p: d for d, p in enumerate(self.vis)}
        checks = []
        for axis, size, const, coefs in self.checks:
            row = [0] * len(self.vis)
            for pair, k in coefs.items():
                row[pos[pair]] += k
            checks.append(Check(axis, size, const, tuple(row)))
        return View(buf, offset, tuple(self.steps), tuple(self.nums), tuple(self.vis), self.par,
                    tuple(checks))


def _basic(ctx: Ctx, view: View, entries: list[Value]) -> View:
    out = _Out()
    offset = view.offset
    e = 0
    visible = set(view.vis)
    for i, (s, n) in enumerate(zip(view.steps, view.nums)):
        if i not in visible:
            j = out.add(s, n, False)
        else:
            while entries[e] is None:
                out.add(0, 1, True)
                e += 1
            ent = entries[e]
            axis = view.vis.index(i)
            e += 1
            if type(ent) is not slice:   # an int, or a loop template's Sym
                offset += _coord(ctx, ent, n, axis) * s
                j = out.add(s, 1, False)
            else:
                start, length, step = _slice(ctx, ent, n, axis)
                offset += start * s
                j = out.add(s * step, length, True)
                # a slice within its axis stays within it however the view is clipped or
                # broadcast later: only one reaching outside needs its deferred check
                if not (0 <= start < n and 0 <= start + step * (length - 1) < n):
                    out.checks.append((axis, n, start, {j: step}))
        if i == view.par:
            out.par = j
    for _ in entries[e:]:
        out.add(0, 1, True)
    return out.view(view.buf, offset)


def _advanced(ctx: Ctx, view: View, entries: list[Value]) -> View:
    """Index tiles (and integers beside them) broadcast into one block of dimensions."""
    consumed = [e for e in entries if e is not None]
    adv = [k for k, e in enumerate(consumed) if isinstance(e, (IndexTile, int))]
    shape: tuple[int, ...] = ()
    for e in consumed:
        if isinstance(e, IndexTile):
            shape = broadcast_shapes(ctx, shape, e.shape)
    rank = len(shape)
    together = adv == list(range(adv[0], adv[-1] + 1)) and \
        all(e is not None for e in entries[_entry_of(entries, adv[0]):_entry_of(entries, adv[-1]) + 1])
    # per-dimension contributions of the broadcast block: steps, and checks per consumed axis
    block_steps = [0] * rank
    offset = view.offset
    block_checks: list[tuple[int, int, int, tuple[int, ...]]] = []
    vis_pairs = view.vis
    par_axes: tuple[int, ...] | None = None
    for k in adv:
        i = vis_pairs[k]
        s, n = view.steps[i], view.nums[i]
        e = consumed[k]
        if isinstance(e, int):
            offset += _coord(ctx, e, n, k) * s
            if i == view.par:
                par_axes = ()
            continue
        a = e.affine.aligned(rank)
        offset += a.const * s
        for j, c in enumerate(a.coefs):
            block_steps[j] += c * s
        block_checks.append((k, n, a.const, a.coefs))
        if i == view.par:
            par_axes = tuple(j for j, c in enumerate(a.coefs) if c)
    if par_axes is not None and len(par_axes) > 1 and view.buf.on_chip:
        raise ctx.error("the partition index of an on-chip tensor must vary along a single axis")

    out = _Out()
    block_pairs: list[int] = []

    def emit_block() -> None:
        for j in range(rank):
            block_pairs.append(out.add(block_steps[j], shape[j], True))

    if not together:
        emit_block()
    e = 0
    k = 0          # index into consumed
    visible = set(vis_pairs)
    for i, (s, n) in enumerate(zip(view.steps, view.nums, strict=True)):
        if i not in visible:
            j = out.add(s, n, False)
            if i == view.par:
                out.par = j
            continue
        while entries[e] is None:
            out.add(0, 1, True)
            e += 1
        ent = entries[e]
        e += 1
        if k in adv:
            if together and k == adv[0]:
                emit_block()
        else:
            start, length, step = _slice(ctx, ent, n, k)
            offset += start * s
            j = out.add(s * step, length, True)
            out.checks.append((k, n, start, {j: step}))
            if i == view.par:
                out.par = j
        k += 1
    for _ in entries[e:]:
        out.add(0, 1, True)
    for axis, n, const, coefs in block_checks:
        out.checks.append((axis, n, const, {block_pairs[j]: c for j, c in enumerate(coefs) if c}))
    if par_axes is not None:
        if len(par_axes) >= 1:
            out.par = block_pairs[par_axes[0]]
        elif not view.buf.on_chip:
            out.par = out.vis[0] if out.vis else 0
        else:
            # the partition axis is fixed: keep it as a hidden (step, 1) pair in front
            out.steps.insert(0, view.steps[view.par])
            out.nums.insert(0, 1)
            out.vis = [v + 1 for v in out.vis]
            out.checks = [(a, n, c, {p + 1: x for p, x in co.items()}) for a, n, c, co in out.checks]
            out.par = 0
    return out.view(view.buf, offset)


def _entry_of(entries: list[Value], k: int) -> int:
    """The position in ``entries`` of the k-th consumed (non-None) entry."""
    seen = -1
    for i, e in enumerate(entries):
        if e is not None:
            seen += 1
            if seen == k:
                return i
    return len(entries)


# --- reshaping and broadcasting -------------------------------------------------------------


def is_contiguous(view: View) -> bool:
    """Whether the visible elements are one row-major run of storage."""
    expect = 1
    for i in reversed(range(len(view.nums))):
        if view.nums[i] == 1:
            continue
        if view.steps[i] != expect:
            return False
        expect *= view.nums[i]
    return True


def reshape_view(ctx: Ctx, view: View, dims: tuple[int, ...]) -> View:
    view = checked(ctx, view)
    total = 1
    for n in view.shape:
        total *= n
    if dims.count(-1) > 1:
        raise ctx.error("only one dimension of a reshape can be -1")
    if -1 in dims:
        known = 1
        for d in dims:
            if d != -1:
                known *= d
        if known == 0 or total % known:
            raise ctx.error(f"cannot reshape a {list(view.shape)} tensor into {describe(list(dims))}")
        dims = tuple(total // known if d == -1 else d for d in dims)
    size = 1
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d <= 0:
            raise ctx.error(f"reshape dimensions must be positive integers, not {describe(d)}")
        size *= d
    if size != total:
        raise ctx.error(f"cannot reshape a {list(view.shape)} tensor ({total} elements) into "
                        f"{list(dims)} ({size} elements)")
    if not is_contiguous(view):
        raise ctx.error(f"cannot reshape a non-contiguous view of shape {list(view.shape)}")
    if view.buf.on_chip and (view.par_dim != 0 or dims[0] != view.partitions):
        raise ctx.error(f"a reshape of an on-chip tensor must keep its partition dimension "
                        f"{view.partitions} first, not {list(dims)}")
    steps = [1] * len(dims)
    for i in range(len(dims) - 2, -1, -1):
        steps[i] = steps[i + 1] * dims[i + 1]
    return View(view.buf, view.offset, tuple(steps), dims, tuple(range(len(dims))), 0)


def permute_view(view: View, order: tuple[int, ...]) -> View:
    """The view with its visible dimensions reordered (hidden pairs go in front)."""
    hidden = [i for i in range(len(view.nums)) if i not in view.vis]
    pairs = hidden + [view.vis[d] for d in order]
    steps = tuple(view.steps[i] for i in pairs)
    nums = tuple(view.nums[i] for i in pairs)
    vis = tuple(range(len(hidden), len(pairs)))
    checks = tuple(Check(c.axis, c.size, c.const, tuple(c.coefs[d] for d in order)) for c in view.checks)
    par = pairs.index(view.par)
    return View(view.buf, view.offset, steps, nums, vis, par, checks)


def expand_view(view: View, shape: tuple[int, ...], left: bool = False) -> View:
    """The view broadcast to ``shape``: new and size-1 dimensions get step 0.

    New dimensions go in front (numpy), or at the end when ``left`` (a [P] tile used as a
    per-partition column of a [P, F] tile).
    """
    extra = len(shape) - view.rank
    steps, nums = list(view.steps), list(view.nums)
    vis = list(view.vis)
    par = view.par
    checks = list(view.checks)
    if extra > 0:
        if left:
            for _ in range(extra):
                steps.append(0)
                nums.append(1)
                vis.append(len(steps) - 1)
            checks = [Check(c.axis, c.size, c.const, c.coefs + (0,) * extra) for c in checks]
        else:
            steps = [0] * extra + steps
            nums = [1] * extra + nums
            vis = list(range(extra)) + [v + extra for v in vis]
            par += extra
            checks = [Check(c.axis, c.size, c.const, (0,) * extra + c.coefs) for c in checks]
    stretched = []
    for d, n in enumerate(shape):
        i = vis[d]
        if nums[i] != n:
            steps[i] = 0
            nums[i] = n
            stretched.append(d)
    if stretched and checks:  # a stretched dimension reads its one index whatever the coordinate
        checks = [Check(c.axis, c.size, c.const,
                        tuple(0 if d in stretched else k for d, k in enumerate(c.coefs))) for c in checks]
    return View(view.buf, view.offset, tuple(steps), tuple(nums), tuple(vis), par, tuple(checks))
