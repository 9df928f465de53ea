"""Further ``nki.isa`` and ``nki.language`` builtins: random numbers and dropout, the
find/replace-8 family, partition shuffles, range and predicate selection, sequence bounds,
cumulative tensor-scalar scans and gathers.

The ISA builtins accept both dialects like those of ``klr.tracer.nki.isa``. Where a legacy
positional call could be mistaken for a destination-passing one (``nc_stream_shuffle`` takes
``src, dst`` in the legacy API and ``dst, src`` in beta 2), the kernel's dialect decides.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from klr.core import (
    AccumCmd,
    Dropout,
    DropoutThresholdType,
    FindIndex8,
    ImmFloat,
    ImmInt,
    MatchReplace8,
    NcLocalGather,
    NcNGather,
    NcRangeSelect,
    Rand2,
    SelectReduce,
    SequenceBounds,
    SetRngSeed,
    Shuffle,
    TensorScalarCumulative,
    TensorScalarReverseOps,
)
from klr.dtypes import Dtype
from klr.tracer.nki import isa_ops
from klr.tracer.nki.arith import Number, result
from klr.tracer.nki.consts import REDUCE_CMDS, alu_of, dtype_of, enum_of
from klr.tracer.nki.emit import emit, ref, refs
from klr.tracer.nki.isa import (
    UNSET,
    Args,
    bind_or_raise,
    bool_arg,
    dual,
    no_mask,
    on_chip,
    out_dtype,
    same_size,
    scalar_operand,
    view_arg,
)
from klr.tracer.nki.lang import parse_shape
from klr.tracer.nki.masks import as_mask, region
from klr.tracer.nki.views import Box, View
from klr.tracer.registry import Binder, Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

ISA = "nki.isa."
NL = "nki.language."
Write = Callable[["Ctx", View], None]


def _into(ctx: Ctx, a: Args, dps: bool, shape: tuple[int, ...], dtype: Dtype, inputs: list[View],
          write: Write, *, par_axis: int | None = 0, mask: Any = None) -> Value:
    """Write into ``dst`` (destination passing) or into a new SBUF tile of ``shape``."""
    if dps:
        write(ctx, view_arg(ctx, a["dst"], "dst"))
        return None
    return result(ctx, shape, out_dtype(ctx, a, dtype), lambda c, d, acc: write(c, d), inputs=inputs,
                  par_axis=par_axis, mask=mask)


def _float_operand(ctx: Ctx, v: Value, data: View, what: str, fn: str) -> object:
    """A float Immediate for a number, else a [P, 1] tile (as ``scalar_operand``)."""
    if isinstance(v, Number):
        return ImmFloat(float(v))
    return scalar_operand(ctx, v, data, what, fn)


def _col(ctx: Ctx, v: Value, data: View, what: str, fn: str) -> View:
    """A [P, 1] on-chip tile with one value per partition of ``data``."""
    col = on_chip(ctx, view_arg(ctx, v, what), what, fn)
    if col.free_size != 1 or col.partitions != data.partitions:
        raise ctx.error(f"{fn}: {what} must be a [{data.partitions}, 1] tile, not {list(col.shape)}")
    return col


def _reduce_cmd(ctx: Ctx, v: Value, default: AccumCmd) -> AccumCmd:
    return default if v is None else enum_of(ctx, v, "reduce_cmd", REDUCE_CMDS, "reduce_cmd")


def _by_dialect(name: str, *, beta2: Callable[..., Any], legacy: Callable[..., Any],
                emits: tuple[str, ...]) -> Callable[[Callable[..., Value]], None]:
    """Register ``nki.isa.<name>`` choosing the form by ``dst=`` or else the kernel's dialect."""
    sigs = {True: inspect.signature(beta2), False: inspect.signature(legacy)}
    binders = {dps: Binder(sig) for dps, sig in sigs.items()}
    full = ISA + name

    def wrap(impl: Callable[..., Value]) -> None:
        def entry(ctx: Ctx, *args: Value, **kwargs: Value) -> Value:
            dps = "dst" in kwargs or ctx.dialect is Dialect.beta2
            got = binders[dps].bind(args, kwargs)
            if got is None:
                got = bind_or_raise(ctx, full, sigs[dps], args, kwargs)
            for k, v in got.items():
                if v is UNSET:
                    raise ctx.error(f"{full}() missing required argument '{k}'")
            return impl(ctx, got, dps)

        params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_ONLY),
                  inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
                  inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)]
        entry.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        doc = (inspect.getdoc(impl) or "") + (f"\n\nForms: ``{name}{sigs[True]}`` (destination passing); "
                                              f"``{name}{sigs[False]}`` (legacy).")
        builtin(full, emits=emits, dialect=Dialect.both, doc=doc)(entry)
    return wrap


# --- random numbers and dropout ------------------------------------------------------------


@builtin(NL + "rand", emits=("rand2",), dialect=Dialect.legacy)
def rand(ctx: Ctx, shape: Value, dtype: Value = None, **kwargs: Value) -> Value:
    """A new SBUF tile of uniform random values in [0, 1)."""
    dims, par = parse_shape(ctx, shape)
    dt = Dtype.float32 if dtype is None else dtype_of(ctx, dtype)

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        d, _ = refs(c, dst, [])
        emit(c, Rand2(d, ImmFloat(0.0), ImmFloat(1.0)), [dst])
    return result(ctx, dims, dt, fn, par_axis=par)


@builtin(NL + "random_seed", emits=("setRngSeed",), dialect=Dialect.legacy)
def random_seed(ctx: Ctx, seed: Value, *, mask: Value = None) -> Value:
    """Seed the random generator from the first element of the on-chip tile ``seed``."""
    fn = "nl.random_seed"
    no_mask(ctx, {"mask": mask}, fn)
    src = on_chip(ctx, view_arg(ctx, seed, "seed"), "seed", fn)
    emit(ctx, SetRngSeed(ref(ctx, src)))
    return None


def _dropout(ctx: Ctx, data: View, prob: object, fn: str) -> Write:
    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, data, "data", fn)
        th = isa_ops.operand(c, prob)
        d, (s,) = refs(c, dst, [data])
        emit(c, Dropout(d, s, DropoutThresholdType.DropRate, th, dst.dtype), [dst])  # type: ignore[arg-type]
    return write


@builtin(NL + "dropout", emits=("dropout",), dialect=Dialect.legacy)
def nl_dropout(ctx: Ctx, x: Value, rate: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """``x`` with each element replaced by 0 with probability ``rate`` (a number or a [P, 1]
    tile); kept elements are not rescaled."""
    fn = "nl.dropout"
    no_mask(ctx, {"mask": mask}, fn)
    data = on_chip(ctx, view_arg(ctx, x, "x"), "x", fn)
    prob = _float_operand(ctx, rate, data, "rate", fn)
    return _into(ctx, {"dtype": dtype}, False, data.shape, data.dtype, [data], _dropout(ctx, data, prob, fn),
                 par_axis=data.par_dim)


def _drop_b2(dst, data, prob, mask=None, name=None): ...


def _drop_legacy(data, prob, mask=None, dtype=None): ...


@dual("dropout", beta2=_drop_b2, legacy=_drop_legacy, legacy_tensors=1, emits=("dropout",))
def dropout(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Replace each element of ``data`` by 0 with the drop probability ``prob`` (a number or a
    [P, 1] tile, per partition)."""
    fn = "nisa.dropout"
    no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    prob = _float_operand(ctx, a["prob"], data, "prob", fn)
    return _into(ctx, a, dps, data.shape, data.dtype, [data], _dropout(ctx, data, prob, fn),
                 par_axis=data.par_dim)


# --- find and replace the 8 values -----------------------------------------------------------


def _eight(ctx: Ctx, v: Value, data: View, what: str, fn: str) -> View:
    vals = on_chip(ctx, view_arg(ctx, v, what), what, fn)
    if vals.partitions != data.partitions or vals.free_size != 8:
        raise ctx.error(f"{fn}: {what} must be a [{data.partitions}, 8] tile, not {list(vals.shape)}")
    return vals


def _rows(v: View, box: Box | None, data: View) -> View:
    """``v`` restricted to the partitions a mask box keeps of ``data``."""
    if box is None or data.par_dim is None or v.par_dim != 0:
        return v
    rows = box[data.par_dim]
    return v.box((rows, *((0, n) for n in v.shape[1:])))


def _fi_b2(dst, data, vals, mask=None, name=None): ...


def _fi_legacy(data, vals, mask=None, dtype=None): ...


@dual("nc_find_index8", beta2=_fi_b2, legacy=_fi_legacy, legacy_tensors=2, emits=("findIndex8",))
def nc_find_index8(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Per partition, the index of the first element of ``data`` equal to each of the 8
    values in ``vals`` (a [P, 8] tile, e.g. from max8); uint32 by default."""
    fn = "nisa.nc_find_index8"
    no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    vals = _eight(ctx, a["vals"], data, "vals", fn)

    def write(c: Ctx, dst: View) -> None:
        if dst.partitions != data.partitions or dst.free_size != 8:
            raise c.error(f"{fn}: dst of shape {list(dst.shape)} must be [{data.partitions}, 8]")
        d, (s, v) = refs(c, dst, [data, vals])
        emit(c, FindIndex8(d, s, v, dst.dtype), [dst])
    return _into(ctx, a, dps, (data.partitions, 8), Dtype.uint32, [data, vals], write)


def _mr_b2(dst, data, vals, imm, dst_idx=None, mask=None, name=None): ...


def _mr_legacy(data, vals, imm, dst_idx=None, mask=None, dtype=None): ...


@dual("nc_match_replace8", beta2=_mr_b2, legacy=_mr_legacy, legacy_tensors=2, emits=("matchReplace8",))
def nc_match_replace8(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``data`` with the first match of each of the 8 values of ``vals`` replaced by ``imm``;
    the matches' indices go to ``dst_idx`` when given. A legacy mask restricts ``data``."""
    fn = "nisa.nc_match_replace8"
    if dps:
        no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    vals = _eight(ctx, a["vals"], data, "vals", fn)
    imm = a["imm"]
    if not isinstance(imm, Number):
        raise ctx.error(f"{fn}: imm must be a number, not {type_name(imm)}")
    idx = None if a["dst_idx"] is None else _eight(ctx, a["dst_idx"], data, "dst_idx", fn)
    pred = as_mask(ctx, a.get("mask"))
    box, rest = region(ctx, pred, data.shape)
    if rest:
        raise ctx.error(f"{fn}: a mask must be rectangular here")

    def write(c: Ctx, dst: View) -> None:
        if box is None:
            return
        same_size(c, dst, data, "data", fn)
        rows = dst if pred is None else dst.box(box)
        src = data if pred is None else data.box(box)
        v = vals if pred is None else _rows(vals, box, data)
        i = None if idx is None else idx if pred is None else _rows(idx, box, data)
        ir = None if i is None else ref(c, i, write=True)
        d, (s, vv) = refs(c, rows, [src, v])
        emit(c, MatchReplace8(d, s, vv, isa_ops.imm(imm, Dtype.float32), ir, dst.dtype),
             [rows] + ([i] if i is not None else []))
    return _into(ctx, a, dps, data.shape, data.dtype, [data, vals], write, par_axis=data.par_dim, mask=pred)


# --- partition shuffle -----------------------------------------------------------------------


def _shuffle(ctx: Ctx, dst_v: Value, src_v: Value, shuffle_mask: Value) -> Value:
    fn = "nisa.nc_stream_shuffle"
    src = on_chip(ctx, view_arg(ctx, src_v, "src"), "src", fn)
    dst = on_chip(ctx, view_arg(ctx, dst_v, "dst"), "dst", fn)
    entries = list(shuffle_mask) if isinstance(shuffle_mask, (tuple, list)) else None
    if entries is None or not 0 < len(entries) <= 32 or not all(
            isinstance(m, int) and not isinstance(m, bool) and (0 <= m < 32 or m == 255) for m in entries):
        raise ctx.error(f"{fn}: shuffle_mask must be a list of at most 32 partition numbers (0..31, "
                        f"or 255 to leave a partition alone)")
    if src.free_size != dst.free_size:
        raise ctx.error(f"{fn}: src of shape {list(src.shape)} and dst of shape {list(dst.shape)} "
                        f"differ in elements per partition")
    d, (s,) = refs(ctx, dst, [src])
    emit(ctx, Shuffle(d, s, tuple(ImmInt(m) for m in entries), dst.dtype), [dst])
    return None


@builtin(ISA + "nc_stream_shuffle", emits=("shuffle",), dialect=Dialect.legacy)
def nc_stream_shuffle(ctx: Ctx, src: Value, dst: Value, shuffle_mask: Value, *, dtype: Value = None,
                      mask: Value = None) -> Value:
    """Within each group of 32 partitions, partition i of ``dst`` receives partition
    ``shuffle_mask[i]`` of ``src`` (255 leaves it unchanged); ``src`` may have fewer partitions."""
    no_mask(ctx, {"mask": mask}, "nisa.nc_stream_shuffle")
    return _shuffle(ctx, dst, src, shuffle_mask)


@builtin(ISA + "nc_stream_shuffle", emits=("shuffle",), dialect=Dialect.beta2)
def nc_stream_shuffle_b2(ctx: Ctx, dst: Value, src: Value, shuffle_mask: Value, mask: Value = None,
                         name: Value = None) -> Value:
    """Within each group of 32 partitions, partition i of ``dst`` receives partition
    ``shuffle_mask[i]`` of ``src`` (255 leaves it unchanged); ``src`` may have fewer partitions."""
    no_mask(ctx, {"mask": mask}, "nisa.nc_stream_shuffle")
    return _shuffle(ctx, dst, src, shuffle_mask)


# --- range_select and select_reduce --------------------------------------------------------


def _rs_b2(dst, on_true_tile, comp_op0, comp_op1, bound0, bound1, reduce_cmd=None, reduce_res=None,
           reduce_op="max", range_start=0.0, on_false_value=float("-inf"), mask=None, name=None): ...


def _rs_legacy(on_true_tile=UNSET, comp_op0=UNSET, comp_op1=UNSET, bound0=UNSET, bound1=UNSET,
               reduce_cmd=None, reduce_res=None, reduce_op="max", range_start=0.0,
               on_false_value=float("-inf"), mask=None, dtype=None): ...


@_by_dialect("range_select", beta2=_rs_b2, legacy=_rs_legacy, emits=("ncRangeSelect",))
def range_select(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Keep ``on_true_tile[p, i]`` where ``range_start + i`` satisfies both
    ``comp_op0 bound0[p]`` and ``comp_op1 bound1[p]``, else ``on_false_value``; optionally
    reduce each partition's results into ``reduce_res`` (and the vector accumulator)."""
    fn = "nisa.range_select"
    no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["on_true_tile"], "on_true_tile"), "on_true_tile", fn)
    op0, op1 = alu_of(ctx, a["comp_op0"], "comp_op0"), alu_of(ctx, a["comp_op1"], "comp_op1")
    b0, b1 = _col(ctx, a["bound0"], data, "bound0", fn), _col(ctx, a["bound1"], data, "bound1", fn)
    cmd = _reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.Idle)
    rres = None if a["reduce_res"] is None else _col(ctx, a["reduce_res"], data, "reduce_res", fn)
    rop = None if a["reduce_op"] is None else alu_of(ctx, a["reduce_op"], "reduce_op")
    for what in ("range_start", "on_false_value"):
        if not isinstance(a[what], Number):
            raise ctx.error(f"{fn}: {what} must be a number, not {type_name(a[what])}")
    start, fill = ImmFloat(float(a["range_start"])), ImmFloat(float(a["on_false_value"]))

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, data, "on_true_tile", fn)
        r = None if rres is None else ref(c, rres, write=True)
        d, (t, x0, x1) = refs(c, dst, [data, b0, b1])
        emit(c, NcRangeSelect(d, cmd, r, rop, op0, op1, x0, x1, start, t, fill, dst.dtype),
             [dst] + ([rres] if rres is not None else []))
    return _into(ctx, a, dps, data.shape, data.dtype, [data, b0, b1], write, par_axis=data.par_dim)


def _sr_b2(dst, predicate, on_true, on_false, reduce_res=None, reduce_cmd=None, reduce_op="max",
           reverse_pred=False, mask=None, name=None): ...


def _sr_legacy(predicate, on_true, on_false, reduce_res=None, reduce_cmd=None, reduce_op="max",
               reverse_pred=False, mask=None, dtype=None): ...


@_by_dialect("select_reduce", beta2=_sr_b2, legacy=_sr_legacy, emits=("selectReduce",))
def select_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``on_true`` where ``predicate`` is non-zero (zero with ``reverse_pred``), else
    ``on_false`` (a number or a [P, 1] tile); optionally reduce each partition into ``reduce_res``."""
    fn = "nisa.select_reduce"
    no_mask(ctx, a, fn)
    pred = on_chip(ctx, view_arg(ctx, a["predicate"], "predicate"), "predicate", fn)
    on_true = on_chip(ctx, view_arg(ctx, a["on_true"], "on_true"), "on_true", fn)
    same_size(ctx, on_true, pred, "predicate", fn)
    on_false = _float_operand(ctx, a["on_false"], on_true, "on_false", fn)
    rres = None if a["reduce_res"] is None else _col(ctx, a["reduce_res"], on_true, "reduce_res", fn)
    cmd = _reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.Idle)
    rop = alu_of(ctx, a["reduce_op"], "reduce_op")
    rev = bool_arg(ctx, a["reverse_pred"], "reverse_pred")

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, on_true, "on_true", fn)
        f = isa_ops.operand(c, on_false)
        r = None if rres is None else ref(c, rres, write=True)
        d, (p, t) = refs(c, dst, [pred, on_true])
        emit(c, SelectReduce(d, p, t, f, r, cmd, rop, rev, dst.dtype),  # type: ignore[arg-type]
             [dst] + ([rres] if rres is not None else []))
    return _into(ctx, a, dps, on_true.shape, on_true.dtype, [pred, on_true], write, par_axis=on_true.par_dim)


# --- sequence bounds -------------------------------------------------------------------------


def _sb_b2(dst, segment_ids, dtype=None, name=None): ...


def _sb_legacy(segment_ids, dtype=None): ...


@_by_dialect("sequence_bounds", beta2=_sb_b2, legacy=_sb_legacy, emits=("sequenceBounds",))
def sequence_bounds(ctx: Ctx, a: Args, dps: bool) -> Value:
    """For segment ids [P, n], the [P, 2, n] start and end (exclusive) of the segment each
    element belongs to; id 0 is padding (start n, end -1)."""
    fn = "nisa.sequence_bounds"
    ids = on_chip(ctx, view_arg(ctx, a["segment_ids"], "segment_ids"), "segment_ids", fn)
    dtype = None if a["dtype"] is None else dtype_of(ctx, a["dtype"])

    def write(c: Ctx, dst: View) -> None:
        if dst.partitions != ids.partitions or dst.free_size != 2 * ids.free_size:
            raise c.error(f"{fn}: dst of shape {list(dst.shape)} must hold [{ids.partitions}, 2, "
                          f"{ids.free_size}] elements")
        d, (s,) = refs(c, dst, [ids])
        emit(c, SequenceBounds(d, s, dtype or dst.dtype), [dst])
    shape = (ids.partitions, 2, ids.free_size)
    return _into(ctx, a, dps, shape, dtype or ids.dtype, [ids], write)


# --- tensor_scalar_cumulative ------------------------------------------------------------------


def _tsc_b2(dst, src, op0, op1, imm0, imm1=None, reduce_cmd=None, mask=None, name=None): ...


def _tsc_legacy(src, op0, op1, imm0, imm1=None, reduce_cmd=None, mask=None, dtype=None): ...


@_by_dialect("tensor_scalar_cumulative", beta2=_tsc_b2, legacy=_tsc_legacy,
             emits=("tensorScalarCumulative",))
def tensor_scalar_cumulative(ctx: Ctx, a: Args, dps: bool) -> Value:
    """A running ``reg = (src[i] op0 imm0) op1 reg`` along each partition, from 0/1/-inf/+inf
    (reset_reduce), the accumulator (reduce) or ``imm1`` (load_reduce)."""
    fn = "nisa.tensor_scalar_cumulative"
    no_mask(ctx, a, fn)
    src = on_chip(ctx, view_arg(ctx, a["src"], "src"), "src", fn)
    op0, op1 = alu_of(ctx, a["op0"], "op0"), alu_of(ctx, a["op1"], "op1")
    s0 = scalar_operand(ctx, a["imm0"], src, "imm0", fn)
    s1 = None if a["imm1"] is None else scalar_operand(ctx, a["imm1"], src, "imm1", fn)
    cmd = _reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.ZeroAccumulate)
    if cmd is AccumCmd.LoadAccumulate and s1 is None:
        raise ctx.error(f"{fn}: reduce_cmd load_reduce needs imm1, the starting value")

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, src, "src", fn)
        o0 = isa_ops.operand(c, s0)
        o1 = None if s1 is None else isa_ops.operand(c, s1)
        d, (x,) = refs(c, dst, [src])
        emit(c, TensorScalarCumulative(d, x, op0, op1, o0, o1, cmd, TensorScalarReverseOps.none,  # type: ignore[arg-type]
                                       dst.dtype), [dst])
    return _into(ctx, a, dps, src.shape, src.dtype, [src], write, par_axis=src.par_dim)


# --- gathers ---------------------------------------------------------------------------------


def _lg_b2(dst, src_buffer, index, num_elem_per_idx=1, num_valid_indices=None, mask=None, name=None): ...


def _lg_legacy(src_buffer, index, num_elem_per_idx=1, num_valid_indices=None, mask=None, dtype=None): ...


@_by_dialect("local_gather", beta2=_lg_b2, legacy=_lg_legacy, emits=("ncLocalGather",))
def local_gather(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Within each group of 16 partitions, gather ``num_elem_per_idx`` elements of every
    partition at each of the group's indices (read partition by partition, column by column)."""
    fn = "nisa.local_gather"
    no_mask(ctx, a, fn)
    src = on_chip(ctx, view_arg(ctx, a["src_buffer"], "src_buffer"), "src_buffer", fn)
    index = on_chip(ctx, view_arg(ctx, a["index"], "index"), "index", fn)
    per, valid = a["num_elem_per_idx"], a["num_valid_indices"]
    for v, what in ((per, "num_elem_per_idx"), (valid, "num_valid_indices")):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
            raise ctx.error(f"{fn}: {what} must be a positive integer, not {describe(v)}")
    count = (16 * index.free_size if valid is None else valid) * per

    def write(c: Ctx, dst: View) -> None:
        d, (s, i) = refs(c, dst, [src, index])
        emit(c, NcLocalGather(d, s, i, ImmInt(per), None if valid is None else ImmInt(valid)), [dst])
    return _into(ctx, a, dps, (src.partitions, count), src.dtype, [src, index], write)


@builtin(NL + "gather_flattened", emits=("ncNGather",), dialect=Dialect.legacy)
def gather_flattened(ctx: Ctx, data: Value, indices: Value, *, axis: Value = -1, dtype: Value = None,
                     mask: Value = None) -> Value:
    """``np.take_along_axis`` over each partition's flattened free elements: element
    ``indices[p, j]`` of partition p of ``data``, shaped like ``indices``."""
    fn = "nl.gather_flattened"
    no_mask(ctx, {"mask": mask}, fn)
    if axis not in (-1, 1):
        raise ctx.error(f"{fn} gathers along the free axis; axis must be -1, not {describe(axis)}")
    src = on_chip(ctx, view_arg(ctx, data, "data"), "data", fn)
    idx = on_chip(ctx, view_arg(ctx, indices, "indices"), "indices", fn)
    if idx.partitions != src.partitions:
        raise ctx.error(f"{fn}: indices of shape {list(idx.shape)} must have the {src.partitions} "
                        f"partitions of data")

    def fn_(c: Ctx, dst: View, acc: bool) -> None:
        d, (s, i) = refs(c, dst, [src, idx])
        emit(c, NcNGather(d, s, i, dst.dtype), [dst])
    dt = src.dtype if dtype is None else dtype_of(ctx, dtype)
    return result(ctx, idx.shape, dt, fn_, inputs=[src, idx], par_axis=idx.par_dim)
