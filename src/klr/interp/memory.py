"""Memory: byte storage per address, typed tensor views, and never-written tracking.

Model (``docs/semantics.md`` has the full text):

* A ``Storage`` holds the bytes of one address (``Address.name``) in one memory space: HBM
  is one space shared by every logical core, SBUF/PSUM/registers are one space per core.
  Every TensorName that names the address sees the same bytes, row-major from byte 0, so
  ``reshape`` (a new TensorName on the same address) aliases its source as in NKI.
* An access (TensorName, AccessBasic, AccessPattern, BirAccessPattern) denotes a ``Layout``:
  element type, a start offset and [step, num] pairs, in elements of that type, row-major
  over the whole tensor; the first pair is the partition dimension. A ``View`` is a layout
  resolved against storage, after bounds checking, as a strided numpy view (or an index
  array when a pair's indices come from another tensor, ``vectorOffset``).
* Each storage knows an int32 *origin* code per granule (its smallest element size):
  ``CLEAN`` for a value computed only from written memory, ``UNWRITTEN`` for never-written
  memory, and k >= 1 for a value derived from never-written memory whose first reader was
  poison record k (see ``klr.interp.machine``). Codes combine with ``min``, so the earliest
  reader wins. While every code is CLEAN or UNWRITTEN the storage keeps only its written byte
  ranges; the array of codes is made when something else must be recorded.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np

from klr.core.tensor import (
    AccessBasic,
    AccessPattern,
    BirAccessPattern,
    Coord,
    Slice,
    TensorName,
)
from klr.dtypes import Dtype
from klr.errors import LimitError
from klr.limits import raise_hint

#: The most elements one access may denote: the interpreter materialises it, so a bigger
#: access fails fast instead of swapping. (The bytes of one tensor are bounded by
#: ``EvalLimits.max_tensor_bytes``, checked with the whole run's memory in ``klr.interp.budget``.)
MAX_ACCESS_ELEMENTS = 2**26

CLEAN = np.int32(np.iinfo(np.int32).max)
UNWRITTEN = np.int32(0)

#: Written byte ranges a storage follows before it materialises origin codes instead, and the
#: most ranges one access may add or check (a finer access materialises them).
MAX_RANGES = 4096

#: Bytes of dead storages' buffers a run keeps for reuse, and the smallest buffer kept (smaller
#: ones come from the allocator's own free lists without page faults).
SPARE_BYTES = 64 * 2**20
SPARE_MIN_BYTES = 2**16


def tensor_too_big(name: str, nbytes: int, limit: int) -> str:
    return (f"tensor '{name}' needs {nbytes} bytes, more than the limit of {limit} bytes per "
            f"tensor ({raise_hint('max_tensor_bytes')})")


class MemoryFault(Exception):
    """An access outside its tensor (turned into an EvalError by the caller, who knows the operator)."""

    def __init__(self, tensor: str, index: int, size: int) -> None:
        super().__init__(f"flat index {index}, size {size}")
        self.tensor = tensor
        self.index = index
        self.size = size


class CodeBudget:
    """The bytes of origin codes a run may still materialise: ``max_memory`` less the estimate."""

    def __init__(self, left: int) -> None:
        self.left = left

    def take(self, nbytes: int, name: str) -> None:
        if nbytes > self.left:
            raise LimitError(f"never-written tracking of tensor '{name}' needs {nbytes} more bytes, "
                             f"more than the eval memory limit leaves ({raise_hint('max_memory')})")
        self.left -= nbytes

    def give(self, nbytes: int) -> None:
        self.left += nbytes


class Storage:
    """The bytes of one address and what is known of their origin.

    Origin codes are materialised (``origin``, an int32 code per granule) only when a storage
    needs them: when a value derived from never-written memory is written to it, or when a
    write or a read is too irregular to follow cheaply. Until then ``written`` holds the byte
    ranges written so far, sorted and disjoint, all of them CLEAN; every other byte is
    UNWRITTEN. A tile written whole by its first statement thus costs one range, not an array.
    """

    def __init__(self, name: str, max_bytes: int, spare: Spare | None = None,
                 budget: CodeBudget | None = None) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.spare = spare
        self.budget = budget
        self.data = np.zeros(0, np.uint8)
        self.stale = False       # data is a recycled buffer: zeroed before anything but a whole write
        self.granule = 8
        self.origin: np.ndarray | None = None
        self.starts: list[int] = []     # written (clean) byte ranges [start, end) while origin is None
        self.ends: list[int] = []
        self.borrowed = False    # data is the caller's array: copied before the first write
        self.dirty = False       # origin is materialised and some code may differ from CLEAN
        self.recheck = False     # a clean write may have cleaned everything

    def reserve(self, nbytes: int, itemsize: int) -> None:
        """Make room for ``nbytes`` bytes accessed as elements of ``itemsize`` bytes."""
        if nbytes > self.max_bytes:  # the budget check before the run makes this a safety net
            raise LimitError(tensor_too_big(self.name, nbytes, self.max_bytes))
        if itemsize < self.granule:
            factor = self.granule // itemsize
            if self.origin is not None:
                self._set_origin(np.repeat(self.origin, factor))
            self.granule = itemsize
        if nbytes > self.data.size:
            recycled = self.spare.take(nbytes) if self.spare is not None and not self.data.size else None
            if recycled is not None:
                self.data = recycled
                self.stale = True
                return
            grown = np.zeros(nbytes, np.uint8)
            if not self.stale:
                grown[:self.data.size] = self.data
            self.stale = False
            self.data = grown
            self.borrowed = False
            if self.origin is not None:
                origin = np.full(nbytes // self.granule, UNWRITTEN, np.int32)
                origin[:self.origin.size] = self.origin
                self._set_origin(origin)
                self.dirty = True

    def borrow(self, array: np.ndarray) -> None:
        """Hold a C-contiguous array as the whole (fully written, clean) contents, without a copy."""
        self.data = array.reshape(-1).view(np.uint8)
        self.borrowed = True
        self.stale = False
        self.starts, self.ends = [0], [self.data.size]

    def writable(self) -> None:
        if self.borrowed:
            self.data = self.data.copy()
            self.borrowed = False

    def typed(self, dtype: np.dtype, count: int, whole: bool = False) -> np.ndarray:
        """The first ``count`` elements; ``whole``: the caller overwrites every byte of the
        storage before anyone reads it (a recycled buffer is not zeroed first)."""
        if self.stale:
            if not whole:
                self.data.fill(0)
            self.stale = False
        return self.data[:count * dtype.itemsize].view(dtype)

    def release(self) -> None:
        """The storage is dead: its buffer goes to the spare buffers of the run."""
        if self.spare is not None and not self.borrowed:
            self.spare.give(self.data)
        self.data = np.zeros(0, np.uint8)
        self._set_origin(None)

    def _set_origin(self, origin: np.ndarray | None) -> None:
        """Replace the origin codes, paid from the run's budget for them."""
        if self.budget is not None:
            new = 0 if origin is None else origin.nbytes
            old = 0 if self.origin is None else self.origin.nbytes
            if new > old:
                self.budget.take(new - old, self.name)
            else:
                self.budget.give(old - new)
        self.origin = origin


    def granules(self, itemsize: int, count: int) -> tuple[np.ndarray, int]:
        """The origin codes of the first ``count`` elements, as (flat codes, codes per element)."""
        assert self.origin is not None
        per = itemsize // self.granule
        return self.origin[:count * per], per

    def materialise(self) -> np.ndarray:
        """The origin codes, created from the written ranges on first use."""
        if self.origin is None:
            origin = np.full(self.data.size // self.granule, UNWRITTEN, np.int32)
            for start, end in zip(self.starts, self.ends, strict=True):
                origin[start // self.granule:end // self.granule] = CLEAN
            self._set_origin(origin)
            self.starts, self.ends = [], []
            self.dirty = True
            self.recheck = True
            return origin
        return self.origin

    def clean(self, lo: int, hi: int) -> bool:
        """Whether the bytes [lo, hi) are known CLEAN without materialising origin codes."""
        if self.origin is not None:
            return not self.is_dirty()
        i = bisect_right(self.starts, lo) - 1
        return i >= 0 and self.ends[i] >= hi

    def runs_clean(self, starts: np.ndarray, length: int) -> bool:
        """Whether every byte range [s, s + length) is inside one written range."""
        if self.origin is not None:
            return not self.is_dirty()
        if not self.starts:
            return False
        if starts.size == 1:
            return self.clean(int(starts[0]), int(starts[0]) + length)
        i = np.searchsorted(np.asarray(self.starts), starts, "right") - 1
        return bool((i >= 0).all() and (np.asarray(self.ends)[i] >= starts + length).all())

    def add_run(self, start: int, end: int) -> bool:
        """``add_runs`` of the one range [start, end)."""
        if not self.starts:
            self.starts, self.ends = [start], [end]
            return True
        if len(self.starts) == 1 and start <= self.ends[0] and end >= self.starts[0]:
            self.starts, self.ends = [min(start, self.starts[0])], [max(end, self.ends[0])]
            return True
        return self.add_runs(np.full(1, start, np.int64), end - start)

    def add_runs(self, starts: np.ndarray, length: int) -> bool:
        """Record clean writes of the byte ranges [s, s + length) (origin not materialised);
        False when that would make too many ranges (nothing recorded)."""
        if len(self.starts) + starts.size > MAX_RANGES:
            return False
        if starts.size == 1 and len(self.starts) <= 1:
            s, e = int(starts[0]), int(starts[0]) + length
            if not self.starts:
                self.starts, self.ends = [s], [e]
                return True
            if s <= self.ends[0] and e >= self.starts[0]:
                self.starts, self.ends = [min(s, self.starts[0])], [max(e, self.ends[0])]
                return True
        s_all = np.concatenate([np.asarray(self.starts, np.int64), starts.astype(np.int64)])
        e_all = np.concatenate([np.asarray(self.ends, np.int64), starts.astype(np.int64) + length])
        order = np.argsort(s_all, kind="stable")
        s_all, e_all = s_all[order], np.maximum.accumulate(e_all[order])
        gap = s_all[1:] > e_all[:-1]
        self.starts = s_all[np.concatenate([[True], gap])].tolist()
        self.ends = e_all[np.concatenate([gap, [True]])].tolist()
        return True

    def is_dirty(self) -> bool:
        """Whether some byte may not be CLEAN."""
        if self.origin is None:
            return not (len(self.starts) == 1 and self.starts[0] == 0 and self.ends[0] >= self.data.size)
        if self.dirty and self.recheck:
            self.dirty = bool((self.origin != CLEAN).any())
            self.recheck = False
            if not self.dirty:  # all clean again: drop the codes
                self._set_origin(None)
                self.starts, self.ends = [0], [self.data.size]
        return self.dirty


class Spare:
    """Buffers of dead storages, by size, for new storages of the same size: a fresh buffer costs
    a page fault per page on its first write, a recycled one nothing (the tiles of an unrolled
    loop come and go with the same sizes). Holds at most ``limit`` bytes."""

    def __init__(self, limit: int = SPARE_BYTES) -> None:
        self.limit = limit
        self.held = 0
        self.buffers: dict[int, list[np.ndarray]] = {}

    def give(self, data: np.ndarray) -> None:
        if data.base is not None or self.held + data.size > self.limit or data.size < SPARE_MIN_BYTES:
            return
        self.buffers.setdefault(data.size, []).append(data)
        self.held += data.size

    def take(self, nbytes: int) -> np.ndarray | None:
        found = self.buffers.get(nbytes)
        if not found:
            return None
        self.held -= nbytes
        return found.pop()


class Layout:
    """A static access: element type, start offset, and [step, num] pairs (elements).

    What depends only on the shape, steps and element size (extent, element count,
    distinctness, contiguous byte runs) is computed once per such geometry (``_geometry``):
    the tiles of an unrolled loop differ only in their tensor and offset."""

    __slots__ = (
        "_run",
        "_runs",
        "count",
        "distinct",
        "dtype",
        "hi",
        "lo",
        "np_dtype",
        "offset",
        "shape",
        "size",
        "steps",
        "tensor",
        "tensor_bytes",
    )

    def __init__(self, tensor: TensorName, dtype: Dtype, offset: int,
                 shape: tuple[int, ...], steps: tuple[int, ...]) -> None:
        self.tensor = tensor
        self.dtype = dtype
        self.offset = offset
        self.shape = shape
        self.steps = steps
        self.np_dtype = np_dtype = dtype.numpy()
        geometry = _geometry(shape, steps, np_dtype.itemsize)
        self.lo = offset + geometry[0]  # smallest and largest flat index (shape non-empty)
        self.hi = offset + geometry[1]
        self.count = geometry[2]
        self.distinct = geometry[3]     # no two elements are one element of the tensor
        self._runs = runs = geometry[4]
        # the common case, one contiguous run: (first byte relative to the offset, length)
        self._run = None if runs is None or runs[0].size != 1 else (int(runs[0][0]), runs[1])
        dims = tensor.shape
        self.tensor_bytes = nbytes = dims.parDim * dims.freeElements * _SIZES[tensor.dtype]
        self.size = nbytes // _SIZES[dtype]   # elements of the tensor in this element type

    def span(self, extra: int = 0) -> tuple[int, int]:
        """Smallest and largest flat index the layout touches (shape must be non-empty)."""
        return self.lo + extra, self.hi + extra

    def byte_run(self, offset: int) -> tuple[int, int] | None:
        """The bytes [start, end) of the layout at ``offset`` when they are one contiguous run."""
        if self._run is None:
            return None
        start = self._run[0] + offset * self.np_dtype.itemsize
        return start, start + self._run[1]

    def byte_runs(self, offset: int) -> tuple[np.ndarray, int] | None:
        """The bytes of the layout at ``offset`` as ranges [start, start + length): starts and
        length, or None when its elements are not distinct or need more than MAX_RANGES ranges."""
        if self._runs is None:
            return None
        starts, length = self._runs
        return starts + offset * self.np_dtype.itemsize, length


_Geometry = tuple[int, int, int, bool, tuple[np.ndarray, int] | None]
_geometries: dict[tuple[tuple[int, ...], tuple[int, ...], int], _Geometry] = {}


def _geometry(shape: tuple[int, ...], steps: tuple[int, ...], itemsize: int) -> _Geometry:
    """(lowest and highest flat index relative to the offset, element count, distinct, byte runs
    relative to the offset) of a layout, cached."""
    key = (shape, steps, itemsize)
    found = _geometries.get(key)
    if found is not None:
        return found
    lo = hi = reach = 0
    distinct = True
    # sorted by step, each step of a distinct layout exceeds the reach of all smaller ones
    for n, s in sorted(zip(shape, steps, strict=True), key=lambda ns: abs(ns[1])):
        extent = s * (n - 1)
        lo += min(0, extent)
        hi += max(0, extent)
        if n > 1:
            distinct = distinct and abs(s) > reach
            reach += abs(s) * (n - 1)
    count = math.prod(shape)
    runs = _byte_runs(shape, steps, itemsize) if distinct else None
    if runs is not None:
        runs[0].flags.writeable = False
    if len(_geometries) >= 4096:
        _geometries.clear()
    found = _geometries[key] = (lo, hi, count, distinct, runs)
    return found


def _byte_runs(shape: tuple[int, ...], steps: tuple[int, ...],
               itemsize: int) -> tuple[np.ndarray, int] | None:
    """The bytes of distinct elements at offset 0 as ranges: starts, length (None: too many)."""
    start = 0
    dims = []
    for n, s in zip(shape, steps, strict=True):
        if n > 1:
            if s < 0:
                start += s * (n - 1)
                s = -s
            dims.append((s, n))
    dims.sort()
    run = 1
    i = 0
    while i < len(dims) and dims[i][0] == run:
        run *= dims[i][1]
        i += 1
    outer = dims[i:]
    if math.prod(n for _, n in outer) > MAX_RANGES:
        return None
    starts = np.full(1, start, np.int64)
    for s, n in outer:
        starts = (starts[:, None] + np.arange(n, dtype=np.int64) * s).reshape(-1)
    return starts * itemsize, run * itemsize


_SIZES = {d: d.size for d in Dtype}


def _row_major(dims: tuple[int, ...]) -> tuple[int, ...]:
    steps = []
    acc = 1
    for d in reversed(dims):
        steps.append(acc)
        acc *= d
    return tuple(reversed(steps))


def layout_of(access: object) -> Layout:
    """The static layout of an Access value (ValueError with a sentence when malformed)."""
    match access:
        case TensorName():
            dims = access.shape.dims
            return Layout(access, access.dtype, 0,
                          dims, _row_major(dims))
        case AccessBasic(tensor=t, indexes=indexes):
            return _basic(t, indexes)
        case AccessPattern(tensor=t, pattern=pairs, fixedAxis=fixed):
            offset = sum(p.step * p.offset for p in pairs)
            for axis in fixed:
                if axis >= len(pairs) or pairs[axis].num != 1:
                    got = "is not an axis of its pattern" if axis >= len(pairs) else \
                        f"has {pairs[axis].num} elements, not 1"
                    raise ValueError(f"access pattern to '{t.name}': fixed axis {axis} {got}")
            kept = [p for i, p in enumerate(pairs) if i not in fixed]
            return Layout(t, t.dtype, offset,
                          tuple(p.num for p in kept), tuple(p.step for p in kept))
        case BirAccessPattern(tensor=t, offset=offset, pattern=pairs, dtypeOverride=override):
            dtype = override or t.dtype
            return Layout(t, dtype, offset,
                          tuple(p.num for p in pairs), tuple(p.step for p in pairs))
    raise TypeError(f"not an Access: {type(access).__name__}")


def _basic(t: TensorName, indexes: tuple[Coord | Slice, ...]) -> Layout:
    dims = t.shape.dims
    if len(indexes) != len(dims):
        raise ValueError(f"basic access to '{t.name}' has {len(indexes)} indexes for "
                         f"{len(dims)} dimensions")
    offset = 0
    shape: list[int] = []
    steps: list[int] = []
    for index, stride in zip(indexes, _row_major(dims), strict=True):
        if isinstance(index, Coord):
            offset += index.e * stride
            shape.append(1)
            steps.append(stride)
        else:
            if index.step == 0:
                raise ValueError(f"basic access to '{t.name}' has a slice with step 0")
            offset += index.l * stride
            shape.append(index.size)
            steps.append(index.step * stride)
    return Layout(t, t.dtype, offset, tuple(shape), tuple(steps))


class View:
    """A bounds-checked layout over storage: read and write element values and origin codes.

    An indirect view, or one that may skip elements, holds the flat ``index`` of every element;
    ``valid`` marks the elements inside the tensor (the others, only under DMA's skip mode,
    read as 0 and are never written). A static view whose elements are not all distinct (a
    zero step, overlapping pairs) reads through strides and writes through indices, in order."""

    def __init__(self, storage: Storage, layout: Layout, offset: int,
                 index: np.ndarray | None = None, valid: np.ndarray | None = None,
                 distinct: bool = True) -> None:
        self.storage = storage
        self.layout = layout
        self.offset = offset
        self.index = index          # flat element indices, shaped like the view
        self.valid = valid          # elements inside the tensor (None: all)
        self.distinct = distinct    # no two elements of the view are one element of the tensor
        self.np_dtype = layout.np_dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self.layout.shape

    @property
    def dtype(self) -> Dtype:
        return self.layout.dtype

    def _flat(self) -> np.ndarray:
        return self.storage.typed(self.np_dtype, self.layout.size)

    def _strided(self, base: np.ndarray, scale: int, inner: int) -> np.ndarray:
        """``base`` seen through the layout; each element is ``scale`` base items (``inner`` kept)."""
        shape, steps = self.layout.shape, self.layout.steps
        if 0 in shape:
            return np.zeros((*shape, inner) if inner > 1 else shape, base.dtype)
        item = base.itemsize
        strides = [s * scale * item for s in steps]
        full_shape: tuple[int, ...] = shape
        if inner > 1:
            full_shape = (*shape, inner)
            strides.append(item)
        # numpy checks that every element lies inside ``base`` (resolve checked the bounds)
        return np.ndarray(full_shape, base.dtype, buffer=base, offset=self.offset * scale * item,
                          strides=strides)

    def read(self, copy: bool = True) -> np.ndarray:
        """The element values, shaped like the view (skipped elements read as 0): a copy, or
        with ``copy=False`` a read-only view of the storage where one exists (it sees later
        writes, so it must not outlive the statement)."""
        flat = self._flat()
        if self.index is not None:
            picked: np.ndarray = flat[self.index]
            if self.valid is not None:
                picked[~self.valid] = np.zeros((), picked.dtype)
            return picked
        if copy:
            return self._strided(flat, 1, 1).copy()
        view = self._strided(flat, 1, 1)
        view.flags.writeable = False
        return view

    def _run(self) -> tuple[int, int] | None:
        """The bytes [start, end) of a static, distinct view that is one contiguous run."""
        if self.index is not None or not self.distinct:
            return None
        return self.layout.byte_run(self.offset)

    def byte_runs(self) -> tuple[np.ndarray, int] | None:
        """The bytes of a static, distinct view as ranges [start, start + length): starts and
        length, or None when the view is indexed or would need more than MAX_RANGES ranges."""
        if self.index is not None or not self.distinct:
            return None
        return self.layout.byte_runs(self.offset)

    def read_origin(self) -> np.ndarray | None:
        """The origin codes of the elements, or None when all are CLEAN."""
        storage = self.storage
        if not storage.is_dirty():
            return None
        if storage.origin is None:
            run = self._run()
            if run is not None:
                if storage.clean(*run):
                    return None
            else:
                runs = self.byte_runs()
                if runs is not None and storage.runs_clean(*runs):
                    return None
            storage.materialise()
            if not storage.is_dirty():
                return None
        codes, per = self.storage.granules(self.np_dtype.itemsize, self.layout.size)
        if self.index is not None:
            got = codes[(self.index * per)[..., None] + np.arange(per)]
        else:
            got = self._strided(codes, per, per)
        got = got.min(axis=-1) if per > 1 else got.copy()
        if self.valid is not None:
            got[~self.valid] = CLEAN
        if (got == CLEAN).all():
            return None
        return got

    def write(self, values: np.ndarray, origin: np.ndarray | None, where: np.ndarray | None = None) -> None:
        """Store ``values`` (already of the view's numpy type) and their origin codes, at the
        elements ``where`` (default: all) that are inside the tensor. When two elements of the
        view are one element of the tensor, the last in row-major order is the one written."""
        values = np.asarray(values).reshape(self.shape)
        self.storage.writable()
        mask = self.valid
        if where is not None:
            where = np.broadcast_to(np.asarray(where, bool).reshape(self.shape) if np.ndim(where)
                                    else where, self.shape)
            mask = where if mask is None else mask & where
        if self.index is None and mask is None and self.distinct:
            whole = self.storage.stale and self._covers_storage()
            flat = self.storage.typed(self.np_dtype, self.layout.size, whole)
            self._strided(flat, 1, 1)[...] = values
            self._write_origin(origin, None, None)
            return
        index = self.index if self.index is not None else self._indices()
        picked = np.ones(self.shape, bool) if mask is None else mask
        targets = _last_wins(index[picked])
        flat_index = index[picked][targets]
        self._flat()[flat_index] = values[picked][targets]
        self._write_origin(origin, picked, targets)

    def _covers_storage(self) -> bool:
        """Whether the view is every byte of its storage, each once."""
        run = self._run()
        return run is not None and run[0] == 0 and run[1] == self.storage.data.size

    def _indices(self) -> np.ndarray:
        return _static_index(self.layout, self.offset)

    def _write_origin(self, origin: np.ndarray | None, picked: np.ndarray | None,
                      targets: np.ndarray | None) -> None:
        storage = self.storage
        if origin is None:
            if storage.origin is None:
                run = self._run() if picked is None else None
                if run is not None:
                    if storage.add_run(*run):
                        return
                else:
                    runs = self.byte_runs() if picked is None else None
                    if runs is not None and storage.add_runs(*runs):
                        return
                if not storage.is_dirty():
                    return
                storage.materialise()
            if not storage.dirty:
                return
            storage.recheck = True
            code: np.ndarray = np.asarray(CLEAN)
        else:
            storage.materialise()
            storage.dirty = True
            storage.recheck = False
            code = np.asarray(origin, np.int32).reshape(self.shape)
        codes, per = storage.granules(self.np_dtype.itemsize, self.layout.size)
        if picked is not None and targets is not None:
            index = self.index if self.index is not None else self._indices()
            flat = index[picked][targets]
            where = (flat * per)[..., None] + np.arange(per)
            chosen = code[picked][targets] if code.ndim else code
            codes[where] = chosen[..., None] if np.ndim(chosen) else chosen
        else:
            target = self._strided(codes, per, per)
            target[...] = code[..., None] if (per > 1 and code.ndim) else code


def _last_wins(flat: np.ndarray) -> np.ndarray:
    """Positions in ``flat`` (row-major order) of the last occurrence of each distinct index."""
    if flat.size < 2:
        return np.arange(flat.size)
    _, first_from_end = np.unique(flat[::-1], return_index=True)
    return np.sort(flat.size - 1 - first_from_end)


def _static_index(layout: Layout, offset: int) -> np.ndarray:
    """The flat element index of every element of a static layout."""
    index = np.full(layout.shape, offset, np.int64)
    ndim = len(layout.shape)
    for i, (n, s) in enumerate(zip(layout.shape, layout.steps, strict=True)):
        index += (np.arange(n, dtype=np.int64) * s).reshape([n if j == i else 1 for j in range(ndim)])
    return index


def resolve(storage: Storage, layout: Layout, extra_offset: int = 0,
            indirect: tuple[int, np.ndarray] | None = None, skip: bool = False) -> View:
    """Bounds-check ``layout`` (shifted by ``extra_offset``) and make a View (or MemoryFault).

    ``indirect = (axis, values)`` replaces the coordinate along ``axis`` by ``values`` (one
    per position on that axis), the vectorOffset form of indirect DMA. With ``skip`` (DMA's
    ``oobMode = skip``) elements outside the tensor are marked invalid instead of faulting.
    """
    storage.reserve(layout.tensor_bytes, layout.dtype.size)
    offset = layout.offset + extra_offset
    count = layout.count
    if count > MAX_ACCESS_ELEMENTS:
        raise LimitError(f"an access to '{layout.tensor.name}' has {count} elements, more than the "
                         f"interpreter's limit of {MAX_ACCESS_ELEMENTS}")
    if count == 0:
        # numpy cannot make even an empty array whose other dimensions overflow
        if math.prod(n for n in layout.shape if n) > MAX_ACCESS_ELEMENTS:
            raise LimitError(f"an empty access to '{layout.tensor.name}' has dimensions "
                             f"{list(layout.shape)}, more than the interpreter's limit of "
                             f"{MAX_ACCESS_ELEMENTS} elements")
        return View(storage, layout, offset)
    if indirect is None:
        lo, hi = layout.span(extra_offset)
        if lo >= 0 and hi < layout.size:
            return View(storage, layout, offset, distinct=layout.distinct)
        if not skip:
            _check(layout, lo, hi)
        index = _static_index(layout, offset)
    else:
        index = _indirect_index(layout, offset, *indirect)
    valid = (index >= 0) & (index < layout.size)
    if valid.all():
        return View(storage, layout, offset, index)
    if not skip:
        _check(layout, int(index.min()), int(index.max()))
    return View(storage, layout, offset, np.where(valid, index, 0), valid)


def _check(layout: Layout, lo: int, hi: int) -> None:
    if lo < 0:
        raise MemoryFault(layout.tensor.name, lo, layout.size)
    if hi >= layout.size:
        raise MemoryFault(layout.tensor.name, hi, layout.size)


def _indirect_index(layout: Layout, offset: int, axis: int, values: np.ndarray) -> np.ndarray:
    ndim = len(layout.shape)
    index = np.full(layout.shape, offset, np.int64)
    for i, (n, s) in enumerate(zip(layout.shape, layout.steps, strict=True)):
        coords = values.astype(np.int64) if i == axis else np.arange(n, dtype=np.int64)
        index += (coords * s).reshape([n if j == i else 1 for j in range(ndim)])
    return index
