"""Selection, search and gathers: ``nl.where``, ``nisa.tensor_copy_predicated``,
``nisa.affine_select``, ``nisa.range_select``, ``nisa.select_reduce``, the find/replace-8
family, ``nisa.nc_stream_shuffle``, ``nisa.sequence_bounds``, ``nisa.local_gather`` and
``nl.gather_flattened``.

Where a legacy positional call could be mistaken for a destination-passing one
(``nc_stream_shuffle`` takes ``src, dst`` in the legacy API and ``dst, src`` in beta 2), the
kernel's dialect decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.core import (
    AccumCmd,
    AluOp,
    ImmFloat,
    Memory,
    numerics,
    rules,
)
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.args import (
    Args,
    arg,
    bool_arg,
    column_arg,
    float_operand,
    int_arg,
    no_mask,
    on_chip,
    out_dtype,
    pairs_arg,
    reduce_cmd,
    rule,
    same_size,
    view_arg,
)
from klr.tracer.nki.consts import alu_of, dtype_of
from klr.tracer.nki.dialects import UNSET, form, into, isa
from klr.tracer.nki.emit import tile
from klr.tracer.nki.index import Affine, Predicate
from klr.tracer.nki.masks import as_mask, box_column, box_mask, boxed, masked, region, rows_only
from klr.tracer.nki.promotion import promote
from klr.tracer.nki.tensors import Number, TensorValue, result, tile_view
from klr.tracer.nki.views import Box, View
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


ISA = "nki.isa."


NL = "nki.language."


NP = "numpy."


_PREDICATE_DTYPES = (Dtype.uint8, Dtype.uint16, Dtype.uint32)


@builtin(NL + "where", NP + "where", emits=("ncCopy", "memSet", "tensorScalar", "copyPredicated"),
         dialect=Dialect.both)
def where(ctx: Ctx, condition: Value, x: Value, y: Value, *, dtype: Value = None,
          mask: Value = None) -> Value:
    """Element-wise ``x`` where ``condition`` is non-zero, else ``y`` (tiles or numbers)."""
    cond = tile_view(ctx, condition, "the condition of nl.where")
    shape = cond.shape
    for v in (x, y):
        if isinstance(v, TensorValue) and v.shape != shape:
            raise ctx.error(f"nl.where operands must have the condition's shape {list(shape)}, "
                            f"not {list(v.shape)}")
        if not isinstance(v, (TensorValue, *Number)):
            raise ctx.error(f"nl.where takes tiles or numbers, not {type_name(v)}")
    if dtype is not None:
        out_dt = dtype_of(ctx, dtype)
    else:
        dts = [v.dtype if isinstance(v, TensorValue) else numerics.scalar_dtype(v) for v in (x, y)]
        out_dt = promote(ctx, dts[0], dts[1])
    pred = as_mask(ctx, mask)

    def put(c: Ctx, d: View, v: Value, box: Box) -> View:
        if isinstance(v, TensorValue):
            return v.view.box(box)
        t = tile(c, d.shape, d.dtype, Memory.sbuf, par_axis=d.par_dim)
        operators.memset(c, t, operators.imm(v, d.dtype))
        return t

    def predicate(c: Ctx, box: Box) -> View:
        """The condition as copyPredicated reads it: an unsigned integer (cond != 0 in uint8)."""
        p = cond.box(box)
        if p.dtype in _PREDICATE_DTYPES:
            return p
        t = tile(c, p.shape, Dtype.uint8, Memory.sbuf, par_axis=p.par_dim)
        operators.tensor_scalar(c, t, p, AluOp.not_equal, operators.imm(0, p.dtype))
        return t

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            if isinstance(y, TensorValue):
                operators.tensor_copy(c, d, y.view.box(box), d.dtype)
            else:
                operators.memset(c, d, operators.imm(y, d.dtype))
            operators.copy_predicated(c, d, put(c, d, x, box), predicate(c, box))
        masked(c, dst, pred, body)
    inputs = [cond] + [v.view for v in (x, y) if isinstance(v, TensorValue)]
    return result(ctx, shape, out_dt, fn, inputs=inputs, par_axis=cond.par_dim, elementwise=True, mask=pred)


@isa("tensor_copy_predicated",
     beta2=form("dst", "src", "predicate", mask=None, reverse_pred=False, name=None),
     emits=("copyPredicated", "memSet"))
def tensor_copy_predicated(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Copy ``src`` (a tile, or a number) into ``dst`` where ``predicate`` is non-zero (zero with
    ``reverse_pred``)."""
    fn = "nisa.tensor_copy_predicated"
    no_mask(ctx, a, fn)
    dst = view_arg(ctx, a["dst"], "dst")
    if isinstance(a["src"], Number):  # a tile of the number, copied where the predicate holds
        src = tile(ctx, dst.shape, dst.dtype, par_axis=dst.par_dim, hint="value")
        operators.memset(ctx, src, operators.imm(a["src"], dst.dtype))
    else:
        src = view_arg(ctx, a["src"], "src")
    pred = view_arg(ctx, a["predicate"], "predicate")
    same_size(ctx, dst, src, "src", fn)
    same_size(ctx, dst, pred, "predicate", fn)
    operators.copy_predicated(ctx, dst, src, pred, bool_arg(ctx, a["reverse_pred"], "reverse_pred"))
    return None


def _predicate_expr(ctx: Ctx, pred: Value, fn: str) -> tuple[Affine, AluOp]:
    if not isinstance(pred, Predicate) or pred.never or not pred.atoms:
        raise ctx.error(f"{fn}: pred must be one affine comparison of index tiles, such as (i_p >= i_f)")
    atoms = pred.atoms
    first = atoms[0]
    if len(atoms) == 2 and all(-x == y for x, y in zip(first.coefs, atoms[1].coefs, strict=True)) \
            and first.const == -atoms[1].const:
        op = AluOp.is_equal
    elif len(atoms) == 1:
        op = AluOp.is_ge
    else:
        raise ctx.error(f"{fn}: pred must be a single comparison, not a conjunction")
    return Affine(pred.shape, first.coefs, first.const), op


@isa("affine_select",
     beta2=form("dst", "pattern", channel_multiplier=0, on_true_tile=UNSET, on_false_value=UNSET, cmp_op=None,
                offset=0, mask=None, name=None),  # NKI's order (offset last)
     legacy=form("pred", "on_true_tile", "on_false_value", mask=None, dtype=None),
     legacy_tensors=0, emits=("ncAffineSelect",))
def affine_select(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``on_true_tile`` where an affine function of the indices compares true with 0, else
    ``on_false_value``."""
    fn = "nisa.affine_select"
    no_mask(ctx, a, fn) if dps else None
    value = a["on_false_value"]
    if not isinstance(value, Number):
        raise ctx.error(f"{fn}: on_false_value must be a number, not {type_name(value)}")
    on_true = on_chip(ctx, view_arg(ctx, a["on_true_tile"], "on_true_tile"), "on_true_tile", fn)
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, on_true, "on_true_tile", fn)
        pattern = operators.data_pattern(int_arg(ctx, a["offset"], "offset"),
                                       int_arg(ctx, a["channel_multiplier"], "channel_multiplier"),
                                       pairs_arg(ctx, a["pattern"], fn))
        cmp = AluOp.is_equal if a["cmp_op"] is None else alu_of(ctx, a["cmp_op"], "cmp_op")
        operators.affine_select(ctx, dst, pattern, on_true, operators.imm(value, dst.dtype), cmp)
        return None
    aff, cmp = _predicate_expr(ctx, a["pred"], fn)
    rank = on_true.rank
    if len(aff.shape) > rank:
        raise ctx.error(f"{fn}: pred of shape {list(aff.shape)} does not fit a {list(on_true.shape)} tile")
    aff = aff.aligned(rank)
    pmask = as_mask(ctx, a["mask"])
    par = on_true.par_dim

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            operators.affine_select(c, d, operators.affine_pattern(aff, box, par), on_true.box(box),
                                  operators.imm(value, d.dtype), cmp)
        masked(c, dst, pmask, body)
    return result(ctx, on_true.shape, out_dtype(ctx, a, on_true.dtype), body_fn, inputs=[on_true],
                  par_axis=par,
                  elementwise=True, mask=pmask)


def _eight(ctx: Ctx, v: Value, data: View, what: str, fn: str) -> View:
    vals = on_chip(ctx, view_arg(ctx, v, what), what, fn)
    _eight_of(ctx, vals, data, what, fn)
    return vals


def _eight_of(ctx: Ctx, vals: View, data: View, what: str, fn: str) -> None:
    """``vals`` holds eight values per partition of ``data``."""
    with rule(ctx, fn):
        rules.same_partitions(arg(data, "data"), arg(vals, what))
        rules.free_size(arg(vals, what), 8)


def _rows(v: View, box: Box | None, data: View) -> View:
    """``v`` restricted to the partitions a mask box keeps of ``data``."""
    if box is None or data.par_dim is None or v.par_dim != 0:
        return v
    rows = box[data.par_dim]
    return v.box((rows, *((0, n) for n in v.shape[1:])))


@isa("nc_find_index8",
     beta2=form("dst", "data", "vals", mask=None, name=None),
     legacy=form("data", "vals", mask=None, dtype=None),
     legacy_tensors=2, emits=("findIndex8",))
def nc_find_index8(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Per partition, the index of the first element of ``data`` equal to each of the 8
    values in ``vals`` (a [P, 8] tile, e.g. from max8); uint32 by default."""
    fn = "nisa.nc_find_index8"
    if dps:
        no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    vals = _eight(ctx, a["vals"], data, "vals", fn)
    # a legacy mask restricts data; an index counts from a partition's first element
    pred = None if dps else as_mask(ctx, a["mask"])
    rows_only(ctx, pred, data, fn, "as an index counts each partition's elements from its first")
    box = region(ctx, pred, data.shape)[0]
    shape = (data.partitions, 8)
    kept = None if box is None else (box[data.par_dim or 0], (0, 8))

    def write(c: Ctx, dst: View) -> None:
        _eight_of(c, dst, data, "dst", fn)
        if box is not None and kept is not None:
            rows = dst if pred is None else dst.box(kept)
            v = vals if pred is None else _rows(vals, box, data)
            operators.find_index8(c, rows, data if pred is None else data.box(box), v)
    out = None if pred is None or kept is None else box_mask(shape, kept)
    return into(ctx, a, dps, shape, Dtype.uint32, [data, vals], write, mask=out)


@isa("nc_match_replace8",
     beta2=form("dst", "data", "vals", "imm", dst_idx=None, mask=None, name=None),
     legacy=form("data", "vals", "imm", dst_idx=None, mask=None, dtype=None),
     legacy_tensors=2, emits=("matchReplace8",))
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
        operators.match_replace8(c, rows, src, v, operators.imm(imm, Dtype.float32), i)
    return into(ctx, a, dps, data.shape, data.dtype, [data, vals], write, par_axis=data.par_dim, mask=pred)


def _shuffle(ctx: Ctx, dst_v: Value, src_v: Value, shuffle_mask: Value) -> Value:
    fn = "nisa.nc_stream_shuffle"
    src = on_chip(ctx, view_arg(ctx, src_v, "src"), "src", fn)
    dst = on_chip(ctx, view_arg(ctx, dst_v, "dst"), "dst", fn)
    entries = list(shuffle_mask) if isinstance(shuffle_mask, (tuple, list)) else None
    if entries is None or not 0 < len(entries) <= 32 or not all(
            isinstance(m, int) and not isinstance(m, bool) and (0 <= m < 32 or m == 255) for m in entries):
        raise ctx.error(f"{fn}: shuffle_mask must be a list of at most 32 partition numbers (0..31, "
                        f"or 255 to leave a partition alone)")
    with rule(ctx, fn):
        rules.free_size(arg(src, "src"), dst.free_size)
    operators.shuffle(ctx, dst, src, tuple(entries))
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


@isa("range_select",
     beta2=form("dst", "on_true_tile", "comp_op0", "comp_op1", "bound0", "bound1", reduce_cmd=None,
                reduce_res=None, reduce_op="max", range_start=0.0, on_false_value=float("-inf"), mask=None,
                name=None),
     legacy=form(on_true_tile=UNSET, comp_op0=UNSET, comp_op1=UNSET, bound0=UNSET, bound1=UNSET,
                 reduce_cmd=None, reduce_res=None, reduce_op="max", range_start=0.0,
                 on_false_value=float("-inf"), mask=None, dtype=None),
     emits=("ncRangeSelect",))
def range_select(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Keep ``on_true_tile[p, i]`` where ``range_start + i`` satisfies both
    ``comp_op0 bound0[p]`` and ``comp_op1 bound1[p]``, else ``on_false_value``; optionally
    reduce each partition's results into ``reduce_res`` (and the vector accumulator)."""
    fn = "nisa.range_select"
    if dps:
        no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["on_true_tile"], "on_true_tile"), "on_true_tile", fn)
    pmask = None if dps else as_mask(ctx, a["mask"])
    rows_only(ctx, pmask, data, fn, "as the range counts each partition's elements from range_start")
    op0, op1 = alu_of(ctx, a["comp_op0"], "comp_op0"), alu_of(ctx, a["comp_op1"], "comp_op1")
    b0 = column_arg(ctx, a["bound0"], data, "bound0", fn)
    b1 = column_arg(ctx, a["bound1"], data, "bound1", fn)
    cmd = reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.Idle)
    rres = None if a["reduce_res"] is None else column_arg(ctx, a["reduce_res"], data, "reduce_res", fn)
    rop = None if a["reduce_op"] is None else alu_of(ctx, a["reduce_op"], "reduce_op")
    for what in ("range_start", "on_false_value"):
        if not isinstance(a[what], Number):
            raise ctx.error(f"{fn}: {what} must be a number, not {type_name(a[what])}")
    start, fill = ImmFloat(float(a["range_start"])), ImmFloat(float(a["on_false_value"]))

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, data, "on_true_tile", fn)

        def body(d: View, box: Box) -> None:
            bounds = (box_column(b0, box), box_column(b1, box))
            operators.range_select(c, d, data.box(box), (op0, op1), bounds, start, fill, cmd, rop,
                                   None if rres is None else box_column(rres, box))
        masked(c, dst, pmask, body)
    return into(ctx, a, dps, data.shape, data.dtype, [data, b0, b1], write, par_axis=data.par_dim,
                mask=pmask)


@isa("select_reduce",
     beta2=form("dst", "predicate", "on_true", "on_false", reduce_res=None, reduce_cmd=None, reduce_op="max",
                reverse_pred=False, mask=None, name=None),
     legacy=form("predicate", "on_true", "on_false", reduce_res=None, reduce_cmd=None, reduce_op="max",
                 reverse_pred=False, mask=None, dtype=None),
     emits=("selectReduce",))
def select_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``on_true`` where ``predicate`` is non-zero (zero with ``reverse_pred``), else
    ``on_false`` (a number or a [P, 1] tile); optionally reduce each partition into ``reduce_res``."""
    fn = "nisa.select_reduce"
    if dps:
        no_mask(ctx, a, fn)
    pred = on_chip(ctx, view_arg(ctx, a["predicate"], "predicate"), "predicate", fn)
    on_true = on_chip(ctx, view_arg(ctx, a["on_true"], "on_true"), "on_true", fn)
    same_size(ctx, on_true, pred, "predicate", fn)
    on_false = float_operand(ctx, a["on_false"], on_true, "on_false", fn)
    rres = None if a["reduce_res"] is None else column_arg(ctx, a["reduce_res"], on_true, "reduce_res", fn)
    cmd = reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.Idle)
    rop = alu_of(ctx, a["reduce_op"], "reduce_op")
    rev = bool_arg(ctx, a["reverse_pred"], "reverse_pred")
    pmask = None if dps else as_mask(ctx, a["mask"])
    if rres is not None:
        rows_only(ctx, pmask, on_true, fn, "with reduce_res")

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, on_true, "on_true", fn)

        def body(d: View, box: Box) -> None:
            operators.select_reduce(c, d, pred.box(box), on_true.box(box), boxed(on_false, box),
                                    None if rres is None else box_column(rres, box), cmd, rop, rev)
        masked(c, dst, pmask, body)
    return into(ctx, a, dps, on_true.shape, on_true.dtype, [pred, on_true], write, par_axis=on_true.par_dim,
                mask=pmask)


@isa("sequence_bounds",
     beta2=form("dst", "segment_ids", dtype=None, name=None),
     legacy=form("segment_ids", dtype=None),
     emits=("sequenceBounds",))
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
        operators.sequence_bounds(c, dst, ids, dtype)
    shape = (ids.partitions, 2, ids.free_size)
    return into(ctx, a, dps, shape, dtype or ids.dtype, [ids], write)


@isa("local_gather",
     beta2=form("dst", "src_buffer", "index", num_elem_per_idx=1, num_valid_indices=None, mask=None,
                name=None),
     legacy=form("src_buffer", "index", num_elem_per_idx=1, num_valid_indices=None, mask=None, dtype=None),
     emits=("ncLocalGather",))
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
        operators.local_gather(c, dst, src, index, per, valid)
    return into(ctx, a, dps, (src.partitions, count), src.dtype, [src, index], write)


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
    with rule(ctx, fn):
        rules.same_partitions(arg(src, "data"), arg(idx, "indices"))

    def fn_(c: Ctx, dst: View, acc: bool) -> None:
        operators.gather(c, dst, src, idx)
    dt = src.dtype if dtype is None else dtype_of(ctx, dtype)
    return result(ctx, idx.shape, dt, fn_, inputs=[src, idx], par_axis=idx.par_dim)


@isa("nonzero_with_count", beta2=form("dst", "src", index_offset=0, padding_val=-1, name=None),
     emits=("nonzeroWithCount",))
def nonzero_with_count(ctx: Ctx, a: Args, dps: bool) -> Value:
    """For partitions 0, 16, ..., 112 of src [P, n] (one per GpSimd core): the indices of its
    non-zero elements plus index_offset, padding_val up to n, then their count, into dst
    [P, n + 1]; dst's other partitions keep their values."""
    fn = "nisa.nonzero_with_count"
    src = on_chip(ctx, view_arg(ctx, a["src"], "src"), "src", fn)
    dst = on_chip(ctx, view_arg(ctx, a["dst"], "dst"), "dst", fn)
    offset, pad = a["index_offset"], a["padding_val"]
    for v, what in ((offset, "index_offset"), (pad, "padding_val")):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ctx.error(f"{fn}: {what} must be an integer, not {type_name(v)}")
    if dst.partitions != src.partitions or dst.free_size != src.free_size + 1:
        raise ctx.error(f"{fn}: dst of shape {list(dst.shape)} must be [{src.partitions}, "
                        f"{src.free_size + 1}] for src of shape {list(src.shape)}")
    operators.nonzero_with_count(ctx, dst, src, offset, pad)
    return None


@isa("nc_n_gather", beta2=form("dst", "data", "indices", name=None), emits=("ncNGather",))
def nc_n_gather(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Per partition, element ``indices[p, j]`` of ``data``'s flattened free elements into
    ``dst[p, j]`` (GpSimd); ``dst`` has the shape of ``indices`` and the dtype of ``data``,
    ``indices`` is uint32."""
    fn = "nisa.nc_n_gather"
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    idx = on_chip(ctx, view_arg(ctx, a["indices"], "indices"), "indices", fn)
    dst = on_chip(ctx, view_arg(ctx, a["dst"], "dst"), "dst", fn)
    with rule(ctx, fn):
        d = arg(dst, "dst")
        for view, what in ((data, "data"), (idx, "indices"), (dst, "dst")):
            rules.in_memory(arg(view, what), Memory.sbuf)
        rules.same_partitions(arg(data, "data"), arg(idx, "indices"), d)
        rules.same_shape(arg(idx, "indices"), d)
        rules.dtype_in(arg(idx, "indices"), (Dtype.uint32,))
        if dst.dtype is not data.dtype:
            rules.dtype_in(d, (data.dtype,))
    operators.gather(ctx, dst, data, idx)
    return None
