"""More ``nki.isa`` builtins, in both dialects (see ``klr.tracer.nki.isa`` for the forms):
statistics, scans, fused scalar/tensor operations and partition reductions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import (
    AccumCmd,
    BatchNormAggregate,
    BatchNormStats,
    DmaError,
    DmaSkip,
    DmaTranspose,
    Max8,
    Memory,
    NcScalarTensorTensor,
    TensorPartitionReduce,
    TensorScalarReduce,
    TensorTensorScan,
    TransposeOps,
)
from klr.dtypes import Dtype
from klr.tracer.nki import isa_ops
from klr.tracer.nki.arith import Number, result
from klr.tracer.nki.consts import DGE_MODES, OOB_MODES, REDUCE_CMDS, alu_of, enum_of
from klr.tracer.nki.emit import emit, ref, refs
from klr.tracer.nki.isa import (
    bool_arg,
    dual,
    no_mask,
    on_chip,
    out_dtype,
    same_size,
    scalar_operand,
    view_arg,
)
from klr.tracer.nki.masks import as_mask, region
from klr.tracer.nki.views import View, index_view, permute_view
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.core import Immediate
    from klr.tracer.context import Ctx
    from klr.tracer.nki.isa import Args


def _dps_or_result(ctx: Ctx, a: Args, dps: bool, shape: tuple[int, ...], dtype: Dtype, inputs: list[View],
                   write: Callable[[Ctx, View], None]) -> Value:
    """Write into ``dst`` (destination passing) or into a new SBUF tile of ``shape``."""
    if dps:
        write(ctx, view_arg(ctx, a["dst"], "dst"))
        return None
    return result(ctx, shape, out_dtype(ctx, a, dtype), lambda c, d, acc: write(c, d), inputs=inputs)


# --- tensor_scalar_reduce ------------------------------------------------------------------


def _tsr_b2(dst, data, op0, operand0, reduce_op, reduce_res, reverse0=False, reduce_cmd=None,
            reduce_init=None, mask=None, name=None): ...


def _tsr_legacy(data, op0, operand0, reduce_op, reduce_res, reverse0=False, dtype=None, mask=None): ...


@dual("tensor_scalar_reduce", beta2=_tsr_b2, legacy=_tsr_legacy, legacy_tensors=1,
      emits=("tensorScalarReduce",))
def tensor_scalar_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``data op0 operand0``, also reducing each partition's results with ``reduce_op`` into
    ``reduce_res``."""
    fn = "nisa.tensor_scalar_reduce"
    no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    op0 = alu_of(ctx, a["op0"], "op0")
    s0 = scalar_operand(ctx, a["operand0"], data, "operand0", fn)
    rop = alu_of(ctx, a["reduce_op"], "reduce_op")
    rres = on_chip(ctx, view_arg(ctx, a["reduce_res"], "reduce_res"), "reduce_res", fn)
    rev = bool_arg(ctx, a["reverse0"], "reverse0")
    cmd = AccumCmd.ZeroAccumulate if a.get("reduce_cmd") is None else \
        enum_of(ctx, a["reduce_cmd"], "reduce_cmd", REDUCE_CMDS, "reduce_cmd")
    init = a.get("reduce_init")
    init_imm: Immediate | None = None
    if init is not None:
        if not isinstance(init, Number):
            raise ctx.error(f"{fn}: reduce_init must be a number, not {type_name(init)}")
        init_imm = isa_ops.imm(init, data.dtype)

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, data, "data", fn)
        o0 = isa_ops.operand(c, s0)
        r = ref(c, rres, write=True)
        d, (x,) = refs(c, dst, [data])
        emit(c, TensorScalarReduce(d, x, o0, op0, rev, dst.dtype, rop, r, cmd, init_imm), [dst, rres])  # type: ignore[arg-type]
    return _dps_or_result(ctx, a, dps, data.shape, data.dtype, [data], write)


# --- scalar_tensor_tensor ------------------------------------------------------------------


def _stt_b2(dst, data, op0, operand0, op1, operand1, reverse0=False, reverse1=False, mask=None,
            name=None): ...


def _stt_legacy(data, op0, operand0, op1, operand1, reverse0=False, reverse1=False, dtype=None,
                mask=None): ...


@dual("scalar_tensor_tensor", beta2=_stt_b2, legacy=_stt_legacy, legacy_tensors=1,
      emits=("ncScalarTensorTensor",))
def scalar_tensor_tensor(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``(data op0 operand0) op1 operand1``: operand0 a number or [P, 1] tile, operand1 a tile
    of data's shape."""
    fn = "nisa.scalar_tensor_tensor"
    no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    op0 = alu_of(ctx, a["op0"], "op0")
    op1 = alu_of(ctx, a["op1"], "op1")
    s0 = scalar_operand(ctx, a["operand0"], data, "operand0", fn)
    t1 = on_chip(ctx, view_arg(ctx, a["operand1"], "operand1"), "operand1", fn)
    same_size(ctx, data, t1, "operand1", fn)
    rev = isa_ops.reverse_ops(bool_arg(ctx, a["reverse0"], "reverse0"),
                              bool_arg(ctx, a["reverse1"], "reverse1"))

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, data, "data", fn)
        o0 = isa_ops.operand(c, s0)
        d, (x, y) = refs(c, dst, [data, t1])
        emit(c, NcScalarTensorTensor(d, x, o0, y, op0, op1, rev, dst.dtype), [dst])  # type: ignore[arg-type]
    return _dps_or_result(ctx, a, dps, data.shape, data.dtype, [data, t1], write)


# --- tensor_tensor_scan --------------------------------------------------------------------


def _scan_b2(dst, data0, data1, initial, op0, op1, reverse0=False, reverse1=False, mask=None,
             name=None): ...


def _scan_legacy(data0, data1, initial, op0, op1, reverse0=False, reverse1=False, dtype=None,
                 mask=None): ...


@dual("tensor_tensor_scan", beta2=_scan_b2, legacy=_scan_legacy, legacy_tensors=2,
      emits=("tensorTensorScan",))
def tensor_tensor_scan(ctx: Ctx, a: Args, dps: bool) -> Value:
    """A scan along the free axis: ``acc = (acc op0 data0) op1 data1`` from ``initial``."""
    fn = "nisa.tensor_tensor_scan"
    no_mask(ctx, a, fn)
    x = on_chip(ctx, view_arg(ctx, a["data0"], "data0"), "data0", fn)
    y = on_chip(ctx, view_arg(ctx, a["data1"], "data1"), "data1", fn)
    same_size(ctx, x, y, "data1", fn)
    init = scalar_operand(ctx, a["initial"], x, "initial", fn)
    op0 = alu_of(ctx, a["op0"], "op0")
    op1 = alu_of(ctx, a["op1"], "op1")
    rev = isa_ops.reverse_ops(bool_arg(ctx, a["reverse0"], "reverse0"),
                              bool_arg(ctx, a["reverse1"], "reverse1"))

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, x, "data0", fn)
        i0 = isa_ops.operand(c, init)
        d, (s0, s1) = refs(c, dst, [x, y])
        emit(c, TensorTensorScan(d, s0, s1, op0, op1, rev, i0, AccumCmd.Idle, dst.dtype), [dst])  # type: ignore[arg-type]
    return _dps_or_result(ctx, a, dps, x.shape, x.dtype, [x, y], write)


# --- per-partition statistics and partition reduction -----------------------------------------


def _data_b2(dst, data, mask=None, name=None): ...


def _data_legacy(data, mask=None, dtype=None): ...


def _src_b2(dst, src, mask=None, name=None): ...


def _src_legacy(src, mask=None, dtype=None): ...


def _stats_builtin(name: str, cls: type, width: int | None, doc: str, param: str = "data") -> None:
    def impl(ctx: Ctx, a: Args, dps: bool) -> Value:
        fn = f"nisa.{name}"
        if dps:
            no_mask(ctx, a, fn)
        data = on_chip(ctx, view_arg(ctx, a[param], param), param, fn)
        if data.par_dim != 0:
            raise ctx.error(f"{fn} needs a [partition, free...] tile, not {list(data.shape)}")
        shape = (data.shape[0], width) if width is not None else data.shape
        # a legacy mask restricts the input: its partitions, and the free elements read
        box, rest = region(ctx, as_mask(ctx, a["mask"]), data.shape)
        if rest:
            raise ctx.error(f"{fn}: a mask must be rectangular here")

        def write(c: Ctx, dst: View) -> None:
            if box is None:
                return
            if dst.partitions != data.partitions:
                raise c.error(f"{fn}: dst of shape {list(dst.shape)} does not have the "
                              f"{data.partitions} partitions of data")
            rows = (box[0], *((0, n) for n in dst.shape[1:])) if dst.par_dim == 0 else None
            d, (s,) = refs(c, dst if rows is None else dst.box(rows), [data.box(box)])
            emit(c, cls(d, s, dst.dtype), [dst])
        dtype = Dtype.float32 if width is not None else data.dtype
        return _dps_or_result(ctx, a, dps, shape, dtype, [data], write)
    impl.__doc__ = doc
    b2, legacy = (_data_b2, _data_legacy) if param == "data" else (_src_b2, _src_legacy)
    emits = (cls.__name__[0].lower() + cls.__name__[1:],)
    dual(name, beta2=b2, legacy=legacy, legacy_tensors=1, emits=emits)(impl)


_stats_builtin("bn_stats", BatchNormStats, 6, "Per-partition mean and variance statistics of a tile "
               "(count, mean, variance*count for its even and odd elements).")
_stats_builtin("bn_aggr", BatchNormAggregate, 2, "Combine bn_stats results into each partition's mean "
               "and variance.")
_stats_builtin("max8", Max8, 8, "The 8 largest values of each partition, in descending order.", "src")


def _pr_b2(dst, op, data, mask=None, name=None): ...


def _pr_legacy(op, data, mask=None, dtype=None): ...


@dual("tensor_partition_reduce", beta2=_pr_b2, legacy=_pr_legacy, legacy_tensors=0,
      emits=("tensorPartitionReduce",))
def tensor_partition_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Reduce a [P, F] tile across its partitions with ``op`` into a [1, F] tile."""
    fn = "nisa.tensor_partition_reduce"
    no_mask(ctx, a, fn)
    op = alu_of(ctx, a["op"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    if data.rank == 1 and data.par_dim == 0:  # a [P] tile is a per-partition column
        data = index_view(ctx, data, (slice(None), None))
    if data.rank != 2 or data.par_dim != 0:
        raise ctx.error(f"{fn} needs a 2-D [partition, free] tile, not {list(data.shape)}")

    def write(c: Ctx, dst: View) -> None:
        if dst.partitions != 1 or dst.free_size != data.free_size:
            raise c.error(f"{fn}: dst of shape {list(dst.shape)} must be [1, {data.free_size}]")
        d, (s,) = refs(c, dst, [data])
        emit(c, TensorPartitionReduce(d, op, s, dst.dtype), [dst])
    return _dps_or_result(ctx, a, dps, (1, data.shape[1]), data.dtype, [data], write)


# --- dma_transpose ---------------------------------------------------------------------------

_TRANSPOSE_OPS = {
    (0, 1, 2, 3): TransposeOps.None_, (0, 1, 3, 2): TransposeOps.WZXY, (0, 3, 1, 2): TransposeOps.WXZY,
    (0, 2, 3, 1): TransposeOps.WYXZ, (1, 0, 2, 3): TransposeOps.ZWYX, (1, 2, 0, 3): TransposeOps.ZYWX,
    (1, 2, 3, 0): TransposeOps.ZYXW, (2, 3, 0, 1): TransposeOps.YXWZ, (2, 3, 1, 0): TransposeOps.YXZW,
    (2, 0, 1, 3): TransposeOps.YWZX, (3, 0, 1, 2): TransposeOps.XWZY, (3, 1, 2, 0): TransposeOps.XZYW,
    (3, 2, 1, 0): TransposeOps.XYZW, (3, 2, 0, 1): TransposeOps.XYWZ,
}
"""The reference's axis permutations of a 4-D DMA transpose (``getTransposeOps``)."""


def _dt_b2(dst, src, axes=None, mask=None, dge_mode=0, oob_mode=0, priority=None, name=None): ...


def _dt_legacy(src, axes=None, mask=None, dtype=None, dge_mode=0): ...


@dual("dma_transpose", beta2=_dt_b2, legacy=_dt_legacy, legacy_tensors=1, emits=("dmaTranspose", "ncDmaCopy"))
def dma_transpose(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Transpose while moving by DMA: 4-D permutations (destination passing), or the 2-D
    transpose of a tile (legacy, a DMA walking the source transposed)."""
    fn = "nisa.dma_transpose"
    no_mask(ctx, a, fn)
    src = view_arg(ctx, a["src"], "src")
    dge = enum_of(ctx, a["dge_mode"], "dge_mode", DGE_MODES, "dge_mode")
    if not dps:
        if src.rank != 2 or a["axes"] not in (None, (1, 0), [1, 0]):
            raise ctx.error(f"{fn} returns the 2-D transpose of a 2-D tile; use dst= for other axes")
        flipped = permute_view(src, (1, 0))
        return result(ctx, flipped.shape, out_dtype(ctx, a, src.dtype),
                      lambda c, d, acc: isa_ops.dma(c, d, flipped, dge_mode=dge), inputs=[src],
                      memories=(Memory.sbuf,))
    dst = view_arg(ctx, a["dst"], "dst")
    axes = a["axes"]
    key = None if axes is None else tuple(axes) if isinstance(axes, (tuple, list)) else None
    if axes is not None and key not in _TRANSPOSE_OPS:
        raise ctx.error(f"{fn}: unsupported axes {describe(axes)}; give a permutation of (0, 1, 2, 3)")
    ops = TransposeOps.None_ if key is None else _TRANSPOSE_OPS[key]
    oob = enum_of(ctx, a["oob_mode"], "oob_mode", OOB_MODES, "oob_mode")
    prio = a["priority"]
    if prio is not None and (isinstance(prio, bool) or not isinstance(prio, int)):
        raise ctx.error(f"{fn}: priority must be an integer, not {describe(prio)}")
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, DmaTranspose(d, s, ops, dst.dtype, dge, DmaSkip() if oob == 1 else DmaError(), prio), [dst])
    return None
