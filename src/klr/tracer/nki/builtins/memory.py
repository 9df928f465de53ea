"""Moving data: HBM transfers (``nl.load``, ``nl.store``, ``nl.load_transpose2d``,
``nisa.dma_copy``, ``nisa.dma_transpose``) and copies on the engines (``nl.copy``,
``nl.static_cast``, ``nisa.tensor_copy``).

Legacy transfers are DMAs (``ncDmaCopy``); their ``mask=`` clips the transfer, or splits it into
boxes for a non-rectangular mask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import (
    AluOp,
    Memory,
    TransposeOps,
    rules,
)
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.args import (
    Args,
    arg,
    bool_arg,
    int_arg,
    no_mask,
    on_chip,
    out_dtype,
    rule,
    same_size,
    view_arg,
)
from klr.tracer.nki.consts import DGE_MODES, OOB_MODES, alu_of, dtype_of, engine_of, mode_of
from klr.tracer.nki.dialects import form, isa
from klr.tracer.nki.emit import tile
from klr.tracer.nki.masks import as_mask, masked
from klr.tracer.nki.tensors import TensorValue, result, stretches_to, tile_view
from klr.tracer.nki.views import Box, View, expand_view, index_view, permute_view
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


NL = "nki.language."


def _hbm_source(ctx: Ctx, src: Value, fn: str) -> View:
    view = tile_view(ctx, src, f"the source of {fn}")
    if not view.buf.memory.is_hbm:
        raise ctx.error(f"{fn} reads from HBM, but '{view.tensor.name}' is in {view.buf.memory.name}")
    return view


def _oob_skip(ctx: Ctx, mode: Value) -> bool:
    """``mode=oob_mode.skip``: a DMA skips the elements an index tile puts out of bounds."""
    return mode is not None and mode_of(ctx, mode, "oob_mode", OOB_MODES) == OOB_MODES["skip"]


def _load_into(ctx: Ctx, view: View, mask: Value, dtype: Value, mode: Value = None) -> Value:
    if view.rank == 0:  # one element (``x[b, h]`` of a 2-D tensor) loads as a [1, 1] tile
        view = index_view(ctx, view, (None, None))
    pred = as_mask(ctx, mask)
    out_dt = dtype_of(ctx, dtype) if dtype is not None else view.dtype
    skip = _oob_skip(ctx, mode)

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: operators.dma(c, d, view.box(box), oob_skip=skip), dma=True)
    return result(ctx, view.shape, out_dt, fn, inputs=[view], memories=(Memory.sbuf,), mask=pred)


@builtin(NL + "load", emits=("ncDmaCopy",), dialect=Dialect.legacy)
def load(ctx: Ctx, src: Value, *, mask: Value = None, dtype: Value = None, mode: Value = None) -> Value:
    """A new SBUF tile holding ``src`` (an HBM tensor or view of one); ``mode=oob_mode.skip``
    skips the rows an index tile puts out of bounds (they keep what the tile held)."""
    return _load_into(ctx, _hbm_source(ctx, src, "nl.load"), mask, dtype, mode)


@builtin(NL + "load_transpose2d", emits=("ncDmaCopy",), dialect=Dialect.legacy)
def load_transpose2d(ctx: Ctx, src: Value, *, mask: Value = None, dtype: Value = None) -> Value:
    """A new SBUF tile holding the 2-D HBM view ``src`` transposed."""
    view = _hbm_source(ctx, src, "nl.load_transpose2d")
    if view.rank != 2:
        raise ctx.error(f"nl.load_transpose2d needs a 2-D source, not {list(view.shape)}")
    return _load_into(ctx, permute_view(view, (1, 0)), mask, dtype)


@builtin(NL + "store", emits=("ncDmaCopy", "memSet"), dialect=Dialect.legacy)
def store(ctx: Ctx, dst: Value, value: Value, *, mask: Value = None, mode: Value = None) -> Value:
    """Write ``value`` (a tile or a number) into the HBM region ``dst``; ``mode=oob_mode.skip``
    skips the rows an index tile puts out of bounds."""
    target = tile_view(ctx, dst, "the destination of nl.store")
    skip = _oob_skip(ctx, mode)
    if not target.buf.memory.is_hbm:
        raise ctx.error(f"nl.store writes to HBM, but '{target.tensor.name}' is in {target.buf.memory.name}")
    pred = as_mask(ctx, mask)
    if isinstance(value, (int, float, bool)):
        src = _constant_tile(ctx, target.shape, target.dtype, value)
    elif isinstance(value, TensorValue):
        src = value.view
        if pred is None and src.shape == target.shape:
            pred = value.mask
        if src.shape != target.shape:
            if stretches_to(src.shape, target.shape):
                src = expand_view(src, target.shape,
                                  left=src.rank == 1 and target.rank > 1 and src.shape[0] == target.shape[0])
            elif pred is not None or src.partitions != target.partitions or src.free_size != target.free_size:
                raise ctx.error(f"store of a {list(src.shape)} tile into a {list(target.shape)} region")
    else:
        raise ctx.error(f"nl.store stores a tensor or a number, not {type_name(value)}")
    if src.shape != target.shape:
        operators.dma(ctx, target, src, oob_skip=skip)
        return None

    def body(d: View, box: Box) -> None:
        operators.dma(ctx, d, src.box(box), oob_skip=skip)
    masked(ctx, target, pred, body, dma=True)
    return None


@builtin(NL + "atomic_rmw", emits=("ncDmaCopy", "memSet"), dialect=Dialect.both)
def atomic_rmw(ctx: Ctx, dst: Value, value: Value, op: Value, *, mask: Value = None) -> Value:
    """``dst = op(dst, value)`` on an HBM region (usually indexed by a tile of indices), by an
    accumulating DMA; NKI supports only ``op=np.add``."""
    fn = "nl.atomic_rmw"
    target = tile_view(ctx, dst, f"the destination of {fn}")
    if not target.buf.memory.is_hbm:
        raise ctx.error(f"{fn} updates HBM, but '{target.tensor.name}' is in {target.buf.memory.name}")
    if alu_of(ctx, op) is not AluOp.add:
        raise ctx.error(f"{fn} supports only op=np.add")
    if isinstance(value, (int, float, bool)):
        src = _constant_tile(ctx, target.shape, target.dtype, value)
    elif isinstance(value, TensorValue):
        src = on_chip(ctx, value.view, "value", fn)
        same_size(ctx, target, src, "value", fn)
    else:
        raise ctx.error(f"{fn} takes a tile or a number as value, not {type_name(value)}")
    pred = as_mask(ctx, mask)
    if src.shape != target.shape:
        operators.dma(ctx, target, src, accumulate=True)
        return None
    masked(ctx, target, pred, lambda d, box: operators.dma(ctx, d, src.box(box), accumulate=True), dma=True)
    return None


def _constant_tile(ctx: Ctx, shape: tuple[int, ...], dtype: Dtype, value: float | int) -> View:
    with rule(ctx, "nl.store of a number"):
        rules.at_most_partitions(rules.Arg("the region", shape, dtype, Memory.sbuf))
    t = tile(ctx, shape, dtype, Memory.sbuf)
    operators.memset(ctx, t, operators.imm(value, dtype))
    return t


@isa("dma_copy",
     # NKI's positional order, then what older NKI releases and the legacy form also take
     beta2=form("dst", "src", priority=None, oob_mode=0, dge_mode=0, engine=None, name=None, dst_rmw_op=None,
                unique_indices=False, mask=None),
     emits=("ncDmaCopy",))
def dma_copy(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Copy between any memories with the DMA engines; ``dst_rmw_op=nl.add`` adds into dst."""
    fn = "nisa.dma_copy"
    dst = view_arg(ctx, a["dst"], "dst")
    src = view_arg(ctx, a["src"], "src")
    rmw = a["dst_rmw_op"]
    if rmw is not None and alu_of(ctx, rmw, "dst_rmw_op") is not AluOp.add:
        raise ctx.error(f"{fn}: dst_rmw_op supports only nl.add")
    oob = mode_of(ctx, a["oob_mode"], "oob_mode", OOB_MODES)
    if not isinstance(oob, int) or oob > 1:
        raise ctx.error(f"{fn}: unsupported oob mode {describe(oob)}")
    dge = mode_of(ctx, a["dge_mode"], "dge_mode", DGE_MODES)
    prio = a["priority"]
    if prio is not None:
        prio = int_arg(ctx, prio, "priority")
    with rule(ctx, fn):
        rules.same_count(arg(dst, "dst"), arg(src, "src"))
    flags = {"accumulate": rmw is not None, "oob_skip": oob == 1, "dge_mode": dge,
             "unique_indices": bool_arg(ctx, a["unique_indices"], "unique_indices"), "priority": prio,
             "engine": engine_of(ctx, a["engine"])}
    pred = as_mask(ctx, a["mask"])
    if pred is None:
        operators.dma(ctx, dst, src, **flags)
        return None
    if dst.shape != src.shape:
        raise ctx.error(f"{fn}: a mask needs source and destination of the same shape")
    masked(ctx, dst, pred, lambda d, box: operators.dma(ctx, d, src.box(box), **flags), dma=True)
    return None


@isa("dma_compute",
     beta2=form("dst", "srcs", "reduce_op", scales=None, unique_indices=True, oob_mode=0, name=None),
     emits=("dmaCompute",))
def dma_compute(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``dst = reduce_op(srcs[0] * scales[0], srcs[1] * scales[1], ...)`` element by element in
    float32 on the DMA engines (HBM or SBUF operands of dst's element count; ``scales``
    default 1.0). The device runs only ``nl.add`` of unscaled sources (``klr check`` says so).
    NKI 0.2's order ``(dst, srcs, scales, reduce_op)`` is recognised by its list of scales."""
    fn = "nisa.dma_compute"
    dst = view_arg(ctx, a["dst"], "dst")
    given = a["srcs"]
    if not isinstance(given, (list, tuple)) or not given or any(not isinstance(v, TensorValue)
                                                                 for v in given):
        raise ctx.error(f"{fn}: srcs must be a non-empty list of tensors, not {describe(given)}")
    srcs = [view_arg(ctx, v, f"srcs[{i}]") for i, v in enumerate(given)]
    scales, rop = a["scales"], a["reduce_op"]
    if isinstance(rop, (list, tuple)):   # NKI 0.2's order (and the reference's): dst, srcs, scales, reduce_op
        scales, rop = rop, scales
    op = alu_of(ctx, rop, "reduce_op")
    if scales is None:
        scales = [1.0] * len(srcs)
    if (not isinstance(scales, (list, tuple)) or len(scales) != len(srcs)
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in scales)):
        raise ctx.error(f"{fn}: scales must be a list of {len(srcs)} numbers, one per source, not "
                        f"{describe(scales)}")
    bool_arg(ctx, a["unique_indices"], "unique_indices")
    if mode_of(ctx, a["oob_mode"], "oob_mode", OOB_MODES) != 0:
        raise ctx.error(f"{fn}: only oob_mode error is supported (Core's dmaCompute has no "
                        f"out-of-bounds mode)")
    with rule(ctx, fn):
        d = arg(dst, "dst")
        rules.in_memory(d, *rules.DMA)
        for i, src in enumerate(srcs):
            rules.in_memory(arg(src, f"srcs[{i}]"), *rules.DMA)
            rules.same_count(d, arg(src, f"srcs[{i}]"))
    operators.dma_compute(ctx, dst, srcs, [float(x) for x in scales], op)
    return None


_TRANSPOSE_OPS: dict[tuple[int, ...], TransposeOps] = {
    (0, 1, 2, 3): TransposeOps.None_, (0, 1, 3, 2): TransposeOps.WZXY, (0, 3, 1, 2): TransposeOps.WXZY,
    (0, 2, 3, 1): TransposeOps.WYXZ, (1, 0, 2, 3): TransposeOps.ZWYX, (1, 2, 0, 3): TransposeOps.ZYWX,
    (1, 2, 3, 0): TransposeOps.ZYXW, (2, 3, 0, 1): TransposeOps.YXWZ, (2, 3, 1, 0): TransposeOps.YXZW,
    (2, 0, 1, 3): TransposeOps.YWZX, (3, 0, 1, 2): TransposeOps.XWZY, (3, 1, 2, 0): TransposeOps.XZYW,
    (3, 2, 1, 0): TransposeOps.XYZW, (3, 2, 0, 1): TransposeOps.XYWZ,
}
"""The reference's axis permutations of a 4-D DMA transpose (``getTransposeOps``)."""


@isa("dma_transpose",
     beta2=form("dst", "src", axes=None, priority=None, dge_mode=0, oob_mode=0, name=None, mask=None),
     legacy=form("src", axes=None, mask=None, dtype=None, dge_mode=0),
     legacy_tensors=1, emits=("dmaTranspose", "ncDmaCopy"))
def dma_transpose(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Transpose while moving by DMA: NKI's default permutations (2-D: (1, 0), 3-D: (2, 1, 0),
    4-D: (3, 1, 2, 0)) or, destination passing, a permutation of a 4-D source."""
    fn = "nisa.dma_transpose"
    if dps:
        no_mask(ctx, a, fn)
    src = view_arg(ctx, a["src"], "src")
    dge = mode_of(ctx, a["dge_mode"], "dge_mode", DGE_MODES)
    if not dps:
        if src.rank != 2 or a["axes"] not in (None, (1, 0), [1, 0]):
            raise ctx.error(f"{fn} returns the 2-D transpose of a 2-D tile; use dst= for other axes")
        pred = as_mask(ctx, a["mask"])   # over the transposed result
        if not src.buf.on_chip:  # a DMA walking the HBM source transposed
            flipped = permute_view(src, (1, 0))

            def move(c: Ctx, d: View, acc: bool) -> None:
                masked(c, d, pred, lambda dv, box: operators.dma(c, dv, flipped.box(box), dge_mode=dge),
                       dma=True)
            return result(ctx, flipped.shape, out_dtype(ctx, a, src.dtype), move, inputs=[src],
                          memories=(Memory.sbuf,), mask=pred)
        shape = (src.shape[1], src.shape[0])

        def body(c: Ctx, d: View, acc: bool) -> None:
            if d.dtype == src.dtype:  # result box (rows, cols) is source box (cols, rows)
                masked(c, d, pred, lambda dv, box: _reverse_axes(c, dv, src.box((box[1], box[0])), fn, dge),
                       dma=True)
                return
            t = tile(c, shape, src.dtype)  # the transpose keeps the dtype; a DMA converts
            _reverse_axes(c, t, src, fn, dge)
            masked(c, d, pred, lambda dv, box: operators.dma(c, dv, t.box(box)), dma=True)
        return result(ctx, shape, out_dtype(ctx, a, src.dtype), body, inputs=[src], memories=(Memory.sbuf,),
                      mask=pred)
    dst = view_arg(ctx, a["dst"], "dst")
    axes = a["axes"]
    key = None if axes is None else tuple(axes) if isinstance(axes, (tuple, list)) else None
    reverse = tuple(range(src.rank - 1, -1, -1))
    ops = None
    if src.rank == 4:
        perm = (3, 1, 2, 0) if axes is None else key or ()
        if perm not in _TRANSPOSE_OPS:
            raise ctx.error(f"{fn}: unsupported axes {describe(axes)}; give a permutation of (0, 1, 2, 3)")
        if dst.rank != 4 or dst.shape != tuple(src.shape[i] for i in perm):
            raise ctx.error(f"{fn}: dst of shape {list(dst.shape)} does not hold src {list(src.shape)} "
                            f"transposed by {describe(perm)}")
        core_dst, core_src, core_perm = _in_core_order(ctx, dst, src, perm, fn)
        ops = _TRANSPOSE_OPS.get(core_perm)
        if ops is None:   # Core has no such permutation: transpose between HBM copies in order
            staged = tile(ctx, dst.shape, dst.dtype, Memory.private_hbm, par_axis=None, hint="transposed")
            operators.dma_transpose(ctx, _logical(ctx, staged, "dst", fn), _staged(ctx, src, fn),
                                    _TRANSPOSE_OPS[perm], dge_mode=dge)
            operators.dma(ctx, dst, staged)
            return None
        dst, src = core_dst, core_src
    elif axes is not None and key != reverse:
        raise ctx.error(f"{fn}: a {src.rank}-D src is transposed with axes {describe(reverse)}, "
                        f"not {describe(axes)}")
    oob = mode_of(ctx, a["oob_mode"], "oob_mode", OOB_MODES)
    prio = a["priority"]
    if prio is not None and (isinstance(prio, bool) or not isinstance(prio, int)):
        raise ctx.error(f"{fn}: priority must be an integer, not {describe(prio)}")
    if ops is None:
        _reverse_axes(ctx, dst, src, fn, dge, oob == 1, prio)
    else:
        operators.dma_transpose(ctx, dst, src, ops, dge_mode=dge, oob_skip=oob == 1, priority=prio)
    return None


def _logical(ctx: Ctx, v: View, name: str, fn: str) -> View:
    """``v`` with one access pair per dimension, in the order of its dimensions."""
    if v.buf.on_chip and v.par_dim is None:
        raise ctx.error(f"{fn}: {name} must keep its partition axis as a dimension")
    par = v.vis[v.par_dim] if v.par_dim is not None else v.vis[0]
    return View(v.buf, v.offset, tuple(v.steps[i] for i in v.vis), tuple(v.nums[i] for i in v.vis),
                tuple(range(v.rank)), v.vis.index(par), v.checks)


def _staged(ctx: Ctx, v: View, fn: str) -> View:
    """``v`` itself, or for an on-chip tile, a private HBM copy with the same dimensions."""
    if not v.buf.on_chip:
        return _logical(ctx, v, "src", fn)
    copied = tile(ctx, v.shape, v.dtype, Memory.private_hbm, par_axis=None, hint="staged")
    operators.dma(ctx, copied, v)
    return _logical(ctx, copied, "src", fn)


def _in_core_order(ctx: Ctx, dst: View, src: View, perm: tuple[int, ...],
                   fn: str) -> tuple[View, View, tuple[int, ...]]:
    """The 4-D views as Core walks them (``emit.refs``: an on-chip tile leads with its
    partition axis, an HBM tensor beside one whose partition axis is not first leads with that
    dimension) and the permutation ``perm`` of their dimensions expressed in that order."""
    dst, src = _logical(ctx, dst, "dst", fn), _logical(ctx, src, "src", fn)
    anchor = next((v.par_dim for v in (dst, src) if v.buf.on_chip and v.par_dim is not None), 0)

    def order(v: View) -> list[int]:
        first = anchor if not v.buf.on_chip or v.par_dim is None else v.par_dim
        return [first, *(i for i in range(4) if i != first)]
    ps, pd = order(src), order(dst)
    return dst, src, tuple(ps.index(perm[pd[i]]) for i in range(4))


def _reverse_axes(ctx: Ctx, dst: View, src: View, fn: str, dge: int, oob_skip: bool = False,
                  priority: int | None = None) -> None:
    """``dst = src`` with its axes reversed: Core's dmaTranspose of a src that is not 4-D.

    Core accesses of on-chip tiles lead with their partition axis, so the tiles must have it
    first; a 2-D tile with it last is already walked transposed by a plain DMA.
    """
    if src.buf.on_chip and src.rank == 2 and src.par_dim == 1:
        operators.dma(ctx, dst, src, dge_mode=dge, oob_skip=oob_skip, priority=priority)
        return
    for v, name in ((dst, "dst"), (src, "src")):
        if v.buf.on_chip and v.par_dim not in (0, None):
            raise ctx.error(f"{fn}: the partition axis of {name} must be its first dimension, "
                            f"not dimension {v.par_dim}")
    # indexed-away axes (and an HBM tensor's partition pair) stay as pairs of one element:
    # dropped, so that the access has the view's dimensions (it must not look 4-D)
    keep = [i for i in range(len(src.nums)) if i in src.vis] or [src.par]
    par = src.par if src.par in keep else keep[0]
    plain = View(src.buf, src.offset, tuple(src.steps[i] for i in keep), tuple(src.nums[i] for i in keep),
                 tuple(keep.index(i) for i in src.vis), keep.index(par), src.checks)
    operators.dma_transpose(ctx, dst, plain, TransposeOps.None_, dge_mode=dge, oob_skip=oob_skip,
                            priority=priority)


def _copy(ctx: Ctx, x: Value, dtype: Value, mask: Value, name: str) -> Value:
    src = tile_view(ctx, x, f"the operand of {name}")
    if src.buf.memory.is_hbm:
        raise ctx.error(f"{name} cannot read the HBM tensor '{src.tensor.name}'; use nl.load")
    out_dt = dtype_of(ctx, dtype) if dtype is not None else src.dtype
    pred = as_mask(ctx, mask)

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: operators.tensor_copy(c, d, src.box(box), d.dtype))
    return result(ctx, src.shape, out_dt, fn, inputs=[src], par_axis=src.par_dim, elementwise=True, mask=pred)


@builtin(NL + "copy", emits=("ncCopy",), dialect=Dialect.both)
def copy(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """A copy of a tile in SBUF (cast to ``dtype`` when given)."""
    return _copy(ctx, x, dtype, mask, "nl.copy")


@builtin(NL + "static_cast", emits=("ncCopy",), dialect=Dialect.legacy)
def static_cast(ctx: Ctx, x: Value, dtype: Value, *, mask: Value = None) -> Value:
    """A copy of a tile converted to ``dtype``."""
    return _copy(ctx, x, dtype, mask, "nl.static_cast")


@isa("tensor_copy",
     beta2=form("dst", "src", mask=None, dtype=None, engine=None, name=None),
     legacy=form("src", mask=None, dtype=None, engine=None),
     legacy_tensors=1, emits=("ncCopy",))
def tensor_copy(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Copy a tile on a compute engine (converting to the destination's dtype)."""
    fn = "nisa.tensor_copy"
    src = on_chip(ctx, view_arg(ctx, a["src"], "src"), "src", fn)
    engine = engine_of(ctx, a["engine"])
    dt = None if a["dtype"] is None else dtype_of(ctx, a["dtype"])
    if dps:
        no_mask(ctx, a, fn)
        dst = on_chip(ctx, view_arg(ctx, a["dst"], "dst"), "dst", fn)
        same_size(ctx, dst, src, "src", fn)
        operators.tensor_copy(ctx, dst, src, dt, engine)
        return None
    pred = as_mask(ctx, a["mask"])

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: operators.tensor_copy(c, d, src.box(box), d.dtype, engine))
    return result(ctx, src.shape, dt or src.dtype, body_fn, inputs=[src], par_axis=src.par_dim,
                  elementwise=True, mask=pred)


def _dynamic_copy(ctx: Ctx, a: Args, dps: bool, fn: str) -> Value:
    src = on_chip(ctx, view_arg(ctx, a["src"], "src"), "src", fn)
    engine = engine_of(ctx, a["engine"])
    if dps:
        no_mask(ctx, a, fn)
        dst = on_chip(ctx, view_arg(ctx, a["dst"], "dst"), "dst", fn)
        same_size(ctx, dst, src, "src", fn)
        operators.tensor_copy(ctx, dst, src, dst.dtype, engine)
        return None
    dt = out_dtype(ctx, a, src.dtype)
    pred = as_mask(ctx, a["mask"])
    return result(ctx, src.shape, dt, lambda c, d, acc: masked(
        c, d, pred, lambda dd, box: operators.tensor_copy(c, dd, src.box(box), dd.dtype, engine)),
        inputs=[src], par_axis=src.par_dim, mask=pred)


@isa("tensor_copy_dynamic_src",
     beta2=form("dst", "src", mask=None, engine=None, name=None),
     legacy=form("src", mask=None, dtype=None, engine=None),
     legacy_tensors=1, emits=("ncCopy",))
def tensor_copy_dynamic_src(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Copy a tile whose source is indexed at a run-time offset (a tile of indices) within each
    partition; a tensor copy whose source access is dynamic."""
    return _dynamic_copy(ctx, a, dps, "nisa.tensor_copy_dynamic_src")


@isa("tensor_copy_dynamic_dst",
     beta2=form("dst", "src", mask=None, dtype=None, engine=None, name=None), emits=("ncCopy",))
def tensor_copy_dynamic_dst(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Copy a tile to a destination indexed at a run-time offset (a tile of indices) within each
    partition; a tensor copy whose destination access is dynamic."""
    return _dynamic_copy(ctx, a, dps, "nisa.tensor_copy_dynamic_dst")


def _memory_test(name: str, doc: str, holds: Callable[[Memory], bool]) -> None:
    def impl(ctx: Ctx, buffer: Value) -> Value:  # (NKI's name for the tensor)
        if not isinstance(buffer, TensorValue):
            raise ctx.error(f"nl.{name} takes a tensor, not {type_name(buffer)}")
        return holds(buffer.memory)
    impl.__doc__ = doc
    builtin(NL + name, dialect=Dialect.both)(impl)


_memory_test("is_hbm", "Whether the tensor lives in device memory (HBM).", lambda m: m.is_hbm)
_memory_test("is_sbuf", "Whether the tensor lives in SBUF.", lambda m: m is Memory.sbuf)
_memory_test("is_psum", "Whether the tensor lives in PSUM.", lambda m: m is Memory.psum)
_memory_test("is_on_chip", "Whether the tensor lives on chip (SBUF or PSUM).", lambda m: not m.is_hbm)
