"""Emitting Core operators over views: allocation, operands and statements.

* ``alloc`` makes a tensor (a ``Buf``) with a fresh or user-given name and checks the on-chip
  limits (128 partitions, SBUF and PSUM bytes per partition); ``hbm_tensor`` allocates in
  HBM, shared by the SPMD instances of a body; ``tile`` is the root view of a fresh tensor.
* ``refs`` lowers the views an operator touches to ``BirAccessPattern``s, putting the same
  dimension first in every operand (the partition dimension of the on-chip anchor).
* ``emit`` appends the statement and records HBM and PSUM writes (``State``).

A tensor whose contents are owed (``klr.tracer.nki.results``) is settled by ``ready`` before
anything reads or writes it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from klr.core import (
    Address,
    BirAccessPattern,
    Memory,
    Operator,
    Shape,
    Stmt,
    TensorName,
    rules,
)
from klr.dtypes import Dtype
from klr.tracer.affine import NotAffine
from klr.tracer.nki.state import Region, State, state
from klr.tracer.nki.views import Buf, View, check, root_view
from klr.tracer.show import describe

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


MAX_TENSOR_BYTES = (1 << 63) - 1
"""The largest tensor (in bytes) Core describes: its sizes and offsets stay 64-bit integers."""


def taint(ctx: Ctx) -> None:
    """Mark the statements being recorded as not retractable."""
    for r in state(ctx).recorders:
        r.clean = False


def alloc(ctx: Ctx, dims: Sequence[int], dtype: Dtype, memory: Memory, *, par_axis: int | None = 0,
          name: str | None = None, hint: str | None = None) -> Buf:
    """A new tensor of ``dims`` in ``memory``; its partition axis is ``dims[par_axis]``, or a
    single partition outside ``dims`` when ``par_axis`` is None."""
    dims = tuple(dims) or (1,)
    check_dims(ctx, dims, dtype, "tensor dimensions")
    fits, shape, free = _storage(dims, dtype, memory, par_axis)
    tname = ctx.claim_name(name) if name else ctx.fresh_name(hint)
    loops = state(ctx).loop_allocs
    if loops:
        loops[-1].add(tname)
    if not fits:
        try:
            rules.check_tensor(_one_tile(tname, dims, dtype, memory, par_axis))
        except rules.RuleError as err:
            raise ctx.error(err.message) from None
    address = Address(tname, memory, shape.parDim, free * dtype.size)
    return Buf(TensorName(tname, dtype, shape, address, free, False), dims, par_axis)


def check_dims(ctx: Ctx, dims: tuple[int, ...], dtype: Dtype, what: str) -> None:
    """Tensor dimensions must be positive integers, of at most MAX_TENSOR_BYTES in all."""
    size = dtype.size
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d <= 0:
            raise ctx.error(f"{what} must be positive integers, not {describe(list(dims))}")
        size *= d
        if size > MAX_TENSOR_BYTES:
            raise ctx.error(f"a tensor of dimensions {describe(list(dims))} has more than 2**63 bytes")


@functools.lru_cache(maxsize=4096)
def _storage(dims: tuple[int, ...], dtype: Dtype, memory: Memory,
             par_axis: int | None) -> tuple[bool, Shape, int]:
    """Whether such a tensor fits its memory (``rules.check_tensor``), the Shape of its storage
    and its free element count (memoised: a kernel allocates many tiles of few shapes, and IR
    nodes are slow to build)."""
    fits = True
    if memory in rules.ON_CHIP:
        try:
            rules.check_tensor(_one_tile("tile", dims, dtype, memory, par_axis))
        except rules.RuleError:
            fits = False
    # storage is partition-major (a single partition when the tile has no partition axis)
    storage = (1, *dims) if par_axis is None else (dims[par_axis], *dims[:par_axis], *dims[par_axis + 1:])
    shape = Shape.of(storage)
    return fits, shape, shape.freeElements


def _one_tile(name: str, dims: tuple[int, ...], dtype: Dtype, memory: Memory,
              par_axis: int | None) -> TensorName:
    """The tile of a tensor that must fit its memory: the partition axis and the dimensions
    after it (block dimensions in front of a par_dim are separate tiles, which the compiler
    need not keep live together)."""
    tile_dims = (1, *dims) if par_axis is None else dims[par_axis:]
    return TensorName.make(name, dtype, tile_dims, memory)


def hbm_tensor(ctx: Ctx, dims: tuple[int, ...], par: int, dtype: Dtype, memory: Memory,
               name: str | None, hint: str | None = None) -> Buf:
    """An HBM tensor; SPMD instances of a body share their HBM allocations: the n-th HBM tensor
    an instance allocates is the n-th one the first instance allocated."""
    st = state(ctx)
    if st.spmd_first is None:
        st.spmd_first = ctx.program_id
    count = st.hbm_counts.get(ctx.program_id, 0)
    st.hbm_counts[ctx.program_id] = count + 1
    if ctx.program_id != st.spmd_first:
        got = st.spmd.get(count)
        if got is not None and got.dims == dims and got.tensor.dtype == dtype:
            return got
    # HBM tensors are plain row-major arrays: a par_dim mark only matters on chip
    buf = alloc(ctx, dims, dtype, memory, name=name, hint=hint)
    st.spmd[count] = buf
    if memory is Memory.hbm:     # as the reference: hbm and shared_hbm, not private_hbm
        st.shared_buffers.append(buf.tensor)
    return buf


def tile(ctx: Ctx, dims: Sequence[int], dtype: Dtype, memory: Memory = Memory.sbuf, *,
         par_axis: int | None = 0, hint: str | None = None) -> View:
    """The root view of a fresh tensor."""
    return root_view(alloc(ctx, dims, dtype, memory, par_axis=par_axis, hint=hint))


def ready(ctx: Ctx, buf: Buf) -> None:
    """Settle what a tensor is owed before it is read or written."""
    if buf.rescue is not None:
        if ctx.template is not None and buf.tensor.name not in ctx.template.fresh:
            raise NotAffine("a tile from before the loop settled")
        rescue, buf.rescue = buf.rescue, None
        taint(ctx)
        rescue(ctx, buf)


def _before_write(ctx: Ctx, buf: Buf) -> None:
    watch = state(ctx).watch
    if ctx.template is not None and buf.tensor.name in watch and buf.tensor.name not in ctx.template.fresh:
        raise NotAffine("a watched tensor from before the loop written")
    watchers = watch.pop(buf.tensor.name, None)
    if watchers:
        for ref in watchers:
            owed = ref()
            if owed is not None:
                ready(ctx, owed)


def ref(ctx: Ctx, view: View, lead: int | None = None, *, write: bool = False) -> BirAccessPattern:
    """The Core operand for ``view``: bounds checked, contents settled, lowered."""
    if not view._ok:   # (the tests are inlined: this runs for every operand)
        check(ctx, view)
    if view.buf.rescue is not None:
        ready(ctx, view.buf)
    if write:
        _before_write(ctx, view.buf)
    return view.lower(lead)


def refs(ctx: Ctx, dst: View, srcs: Sequence[View]) -> tuple[BirAccessPattern, list[BirAccessPattern]]:
    """Lower a destination and sources so that they walk their elements in the same order.

    On-chip operands lead with their partition pair. HBM operands keep their dimension order,
    except next to an on-chip anchor whose partition axis is not its first dimension: then
    they lead with that dimension too, so that a transfer between a ``(B, par_dim(N), M)``
    tile and a ``(B, N, M)`` HBM region walks both as (N, B, M).
    """
    shift, rank = 0, 0
    for v in (dst, *srcs):
        if v.buf.on_chip and v.par_dim is not None:
            shift, rank = v.par_dim, v.rank
            break

    def lead(v: View) -> int | None:
        if v.buf.on_chip:
            return None
        if shift and v.rank == rank:
            return v.vis[shift]
        return 0

    src_refs = [ref(ctx, v, lead(v)) for v in srcs]
    dst_ref = ref(ctx, dst, lead(dst), write=True)
    return dst_ref, src_refs


def emit(ctx: Ctx, op: Operator, dsts: Iterable[View] = ()) -> Stmt:
    """Append ``op``; ``dsts`` are the views it writes."""
    stmt = ctx.emit(op)
    st = state(ctx)
    for r in st.recorders:
        r.stmts.append(stmt)
    for v in dsts:
        buf = v.buf
        if buf.memory is Memory.sbuf:
            continue
        if not buf.on_chip:
            st.hbm_written.add(v.tensor.name)
        elif buf.memory is Memory.psum:
            if ctx.template is not None and v.tensor.name not in ctx.template.fresh and _marks(st, v):
                raise NotAffine("a first write into a PSUM region from before the loop")
            _mark(st, v)
    return stmt


def _key(v: View) -> Region:
    return (v.offset, v.steps, v.nums)


def _marks(st: State, v: View) -> bool:
    """Whether ``_mark`` would change what ``st`` records of the PSUM tensor of ``v``."""
    regions = st.psum_written.get(v.tensor.name, set())
    if regions is None:
        return False
    if v.is_whole() or v.partitions * v.free_size == v.buf.size:
        return True
    return _key(v) not in regions


def _mark(st: State, v: View) -> None:
    name = v.tensor.name
    if v.is_whole() or v.partitions * v.free_size == v.buf.size:
        st.psum_written[name] = None
        return
    regions = st.psum_written.setdefault(name, set())
    if regions is not None:
        regions.add(_key(v))


def fresh_psum(ctx: Ctx, v: View) -> bool:
    """Whether nothing has written the PSUM region ``v`` yet (a matmul into it must not add
    to whatever the memory held). In a dynamic loop, only a tensor of its body can be: one
    from before the loop holds what the previous iteration left."""
    st = state(ctx)
    if st.loop_allocs and v.tensor.name not in st.loop_allocs[-1]:
        return False
    regions = st.psum_written.get(v.tensor.name, set())
    return regions is not None and _key(v) not in regions
