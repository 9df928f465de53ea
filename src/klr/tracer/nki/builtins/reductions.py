"""Reductions, statistics and scans: ``nl.sum``/``max``/``min``/``prod``/``mean``/``all``,
``nl.loop_reduce``, ``nisa.tensor_reduce``, ``nisa.tensor_partition_reduce``,
``nisa.tensor_scalar_reduce``, ``nisa.bn_stats``, ``nisa.bn_aggr``, ``nisa.max8``,
``nisa.tensor_tensor_scan`` and ``nisa.tensor_scalar_cumulative``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import (
    AccumCmd,
    ActivationFunc,
    AluOp,
    Immediate,
    ImmFloat,
    numerics,
    rules,
)
from klr.core.operators import ctor_name
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.args import (
    Args,
    arg,
    bool_arg,
    no_mask,
    on_chip,
    reduce_cmd,
    rule,
    same_size,
    scalar_operand,
    view_arg,
)
from klr.tracer.nki.consts import DTYPES, alu_of, dtype_of
from klr.tracer.nki.dialects import form, into, isa
from klr.tracer.nki.masks import as_mask, box_column, box_mask, boxed, masked, region, rows_only
from klr.tracer.nki.tensors import LoopReduced, Number, assign, binary, result, tile_view, unary_activation
from klr.tracer.nki.views import Box, View, index_view, permute_view
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.core import Immediate
    from klr.tracer.context import Ctx


NL = "nki.language."


NP = "numpy."


def _axes(ctx: Ctx, axis: Value, rank: int, name: str) -> tuple[int, ...]:
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int) or not -rank <= a < rank:
            raise ctx.error(f"{name} axis {describe(a)} is out of range for a tile of rank {rank}")
        out.append(a % rank)
    return tuple(sorted(set(out)))


def reduce(ctx: Ctx, op: AluOp, x: Value, axis: Value, *, dtype: Value = None, keepdims: bool = False,
           mask: Value = None, negate: bool = False, scale: float | None = None, name: str) -> Value:
    """Reduce the free axes ``axis`` of a tile with ``op``."""
    src = tile_view(ctx, x, f"the operand of {name}")
    axes = _axes(ctx, axis, src.rank, name)
    par = src.par_dim
    if par is not None and par in axes:
        raise ctx.error(f"{name} cannot reduce axis {par}, the partition axis; reduce the free axes")
    if len(axes) > 4:
        raise ctx.error(f"{name} can reduce at most 4 axes, not axis={describe(axis)}")
    # the engine reduces the innermost axes of its access pattern: walk the reduced axes last
    order = tuple(i for i in range(src.rank) if i not in axes) + axes
    kept = tuple(1 if i in axes else n for i, n in enumerate(src.shape)) if keepdims \
        else tuple(n for i, n in enumerate(src.shape) if i not in axes)
    # the mean of integers is float32 (numerics.reduce_dtype): its sum is scaled in place
    out_dt = dtype_of(ctx, dtype) if dtype is not None else \
        numerics.reduce_dtype(AluOp.average if scale is not None else op, src.dtype)
    pred = as_mask(ctx, mask)
    box, rest = region(ctx, pred, src.shape)
    if rest or (box is not None and any(box[i] != (0, src.shape[i]) for i in axes)):
        raise ctx.error(f"a mask of {name} can only restrict the axes that are not reduced")

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        if box is None:
            return
        if keepdims:
            kept_box = tuple((0, 1) if i in axes else b for i, b in enumerate(box))
        else:
            kept_box = tuple(b for i, b in enumerate(box) if i not in axes) or ((0, 1),)
        d = dst.box(kept_box)
        part = src.box(box)
        if order != tuple(range(src.rank)):
            part = permute_view(part, order)
        operators.tensor_reduce(c, d, part, op, len(axes), negate=negate, keepdims=keepdims)
        if scale is not None:
            operators.tensor_scalar(c, d, d, AluOp.mult, ImmFloat(scale))
    return result(ctx, kept or (1,), out_dt, fn, inputs=[src], par_axis=par)


def _reduction_builtin(name: str, op: AluOp, numpy: bool, *, mean: bool = False,
                       py: Callable[[Value], Value] | None = None) -> Callable[..., Value]:
    def impl(ctx: Ctx, x: Value, axis: Value = None, *, dtype: Value = None, keepdims: bool = False,
             mask: Value = None) -> Value:
        if isinstance(x, (tuple, list)) and py is not None and axis is None:
            return py(x)
        if axis is None:
            raise ctx.error(f"nl.{name} needs axis= (the free axes to reduce)")
        scale = None
        if mean:
            scale = 1.0 / _count(ctx, tile_view(ctx, x, f"the operand of nl.{name}"), axis, f"nl.{name}")
        return reduce(ctx, op, x, axis, dtype=dtype, keepdims=keepdims, mask=mask, scale=scale,
                      name=f"nl.{name}")
    impl.__doc__ = f"``{name}`` over the free axes ``axis`` of a tile (tensorReduce)."
    aliases = (NP + name,) if numpy else ()
    impl.__name__ = name
    return builtin(NL + name, *aliases, emits=("tensorReduce",) + (("tensorScalar",) if mean else ()),
            dialect=Dialect.both)(impl)


REDUCTIONS = {
    "sum": _reduction_builtin("sum", AluOp.add, True, py=sum),
    "max": _reduction_builtin("max", AluOp.max, True, py=max),
    "min": _reduction_builtin("min", AluOp.min, True, py=min),
    "prod": _reduction_builtin("prod", AluOp.mult, True, py=math.prod),
    "mean": _reduction_builtin("mean", AluOp.add, True, mean=True, py=lambda xs: sum(xs) / len(xs)),
    "all": _reduction_builtin("all", AluOp.logical_and, False),
}
"""The ``nl`` reductions by name (``REDUCTIONS["sum"]`` is ``nl.sum``)."""


def _count(ctx: Ctx, src: View, axis: Value, name: str) -> int:
    count = 1
    for a in _axes(ctx, axis, src.rank, name):
        count *= src.shape[a]
    return count


_F32 = DTYPES[Dtype.float32]


@builtin(NL + "softmax", emits=("tensorReduce", "tensorScalar", "ncActivate"), dialect=Dialect.both)
def softmax(ctx: Ctx, x: Value, axis: Value = -1, *, dtype: Value = None, compute_dtype: Value = None,
            mask: Value = None) -> Value:
    """``exp(x - max) / sum(exp(x - max))`` over the free axes ``axis``, computed in float32
    (``dtype`` or ``compute_dtype`` is the result's dtype; default: x's)."""
    name = "nl.softmax"
    src = tile_view(ctx, x, f"the operand of {name}")
    out = dtype if dtype is not None else compute_dtype if compute_dtype is not None else DTYPES[src.dtype]
    top = reduce(ctx, AluOp.max, x, axis, dtype=_F32, keepdims=True, mask=mask, name=name)
    shifted = binary(ctx, AluOp.subtract, x, top, dtype=_F32, mask=mask, name=name)
    e = unary_activation(ctx, ActivationFunc.exp, shifted, dtype=_F32, mask=mask, name=name)
    total = reduce(ctx, AluOp.add, e, axis, dtype=_F32, keepdims=True, mask=mask, name=name)
    return binary(ctx, AluOp.divide, e, total, dtype=out, mask=mask, name=name)


@builtin(NL + "var", NP + "var", emits=("tensorReduce", "tensorScalar", "tensorTensor"), dialect=Dialect.both)
def var(ctx: Ctx, x: Value, axis: Value, *, dtype: Value = None, keepdims: Value = False,
        mask: Value = None) -> Value:
    """The population variance ``mean((x - mean(x))**2)`` over the free axes ``axis``, computed
    in float32; the default dtype is nl.mean's (float32 for integers). The reduced axes are
    removed (legacy) or kept with size 1 (beta 2, whatever ``keepdims`` says, as NKI documents)."""
    name = "nl.var"
    keep = bool_arg(ctx, keepdims, "keepdims") or ctx.dialect is Dialect.beta2
    src = tile_view(ctx, x, f"the operand of {name}")
    scale = 1.0 / _count(ctx, src, axis, name)
    out = dtype if dtype is not None else DTYPES[numerics.reduce_dtype(AluOp.average, src.dtype)]
    mean = reduce(ctx, AluOp.add, x, axis, dtype=_F32, keepdims=True, mask=mask, scale=scale, name=name)
    d = binary(ctx, AluOp.subtract, x, mean, dtype=_F32, mask=mask, name=name)
    sq = binary(ctx, AluOp.mult, d, d, dtype=_F32, mask=mask, name=name)
    return reduce(ctx, AluOp.add, sq, axis, dtype=out, keepdims=keep, mask=mask, scale=scale, name=name)


@builtin(NL + "rms_norm", emits=("tensorReduce", "tensorScalar", "tensorTensor", "ncActivate"),
         dialect=Dialect.both)
def rms_norm(ctx: Ctx, x: Value, w: Value, axis: Value, n: Value, epsilon: Value = 1e-6, *,
             dtype: Value = None, compute_dtype: Value = None, mask: Value = None) -> Value:
    """``x / sqrt(sum(x**2 over axis) / n + epsilon) * w``, computed in float32."""
    name = "nl.rms_norm"
    src = tile_view(ctx, x, f"the operand of {name}")
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ctx.error(f"{name}: n must be a positive integer, not {describe(n)}")
    if isinstance(epsilon, bool) or not isinstance(epsilon, Number):
        raise ctx.error(f"{name}: epsilon must be a number, not {describe(epsilon)}")
    out = dtype if dtype is not None else compute_dtype if compute_dtype is not None else DTYPES[src.dtype]
    sq = binary(ctx, AluOp.mult, x, x, dtype=_F32, mask=mask, name=name)
    ms = reduce(ctx, AluOp.add, sq, axis, dtype=_F32, keepdims=True, mask=mask, scale=1.0 / n, name=name)
    inv = unary_activation(ctx, ActivationFunc.rsqrt,
                           binary(ctx, AluOp.add, ms, float(epsilon), dtype=_F32, mask=mask, name=name),
                           dtype=_F32, mask=mask, name=name)
    normed = binary(ctx, AluOp.mult, x, inv, dtype=_F32, mask=mask, name=name)
    return binary(ctx, AluOp.mult, normed, w, dtype=out, mask=mask, name=name)


@builtin(NL + "loop_reduce", emits=("tensorTensor",), dialect=Dialect.legacy)
def loop_reduce(ctx: Ctx, x: Value, op: Value, loop_indices: Value, *, dtype: Value = None,
                mask: Value = None) -> Value:
    """``x`` combined into the tile it is assigned to: ``acc[...] = nl.loop_reduce(x, op=np.add,
    loop_indices=(i,))`` is ``acc = acc op x`` (each iteration of the loops named adds one term)."""
    src = tile_view(ctx, x, "the operand of nl.loop_reduce")
    if as_mask(ctx, mask) is not None:
        raise ctx.error("nl.loop_reduce does not take an index mask")
    if dtype is not None:
        dtype_of(ctx, dtype)  # the destination's dtype decides the result's
    return LoopReduced(src, alu_of(ctx, op))


def _tr_axes(ctx: Ctx, axis: Value, rank: int) -> tuple[int, ...]:
    """The reference's axis spellings (1, [4], [3, 4], [2, 3, 4], [1, 2, 3, 4]: the last 1..4
    free axes) and plain axes of the tile (the last k of them)."""
    ref = {1: 1, (4,): 1, (3, 4): 2, (2, 3, 4): 3, (1, 2, 3, 4): 4}
    key = tuple(axis) if isinstance(axis, (tuple, list)) else axis
    if key in ref and not (isinstance(key, tuple) and max(key) < rank):
        k = ref[key]
        return tuple(range(rank - k, rank))
    return key if isinstance(key, tuple) else (key,)


@isa("tensor_reduce",
     beta2=form("dst", "op", "data", "axis", mask=None, negate=False, keepdims=False, name=None),
     legacy=form("op", "data", "axis", mask=None, dtype=None, negate=False, keepdims=False),
     legacy_tensors=0, emits=("tensorReduce",))
def tensor_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Reduce the free axes ``axis`` of a tile with ``op``, optionally negated."""
    fn = "nisa.tensor_reduce"
    op = alu_of(ctx, a["op"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    negate = bool_arg(ctx, a["negate"], "negate")
    keepdims = bool_arg(ctx, a["keepdims"], "keepdims")
    if dps:
        no_mask(ctx, a, fn)
        axes = _tr_axes(ctx, a["axis"], data.rank)
        dst = view_arg(ctx, a["dst"], "dst")
        tmp = reduce(ctx, op, a["data"], axes, keepdims=keepdims, negate=negate, name=fn)
        assign(ctx, dst, tmp)
        return None
    return reduce(ctx, op, a["data"], a["axis"], dtype=a["dtype"], keepdims=keepdims, mask=a["mask"],
                  negate=negate, name=fn)


@isa("tensor_partition_reduce",
     beta2=form("dst", "op", "data", mask=None, name=None),
     legacy=form("op", "data", mask=None, dtype=None),
     legacy_tensors=0, emits=("tensorPartitionReduce",))
def tensor_partition_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Reduce a [P, f1, ...] tile across its partitions with ``op`` into a [1, f1, ...] tile."""
    fn = "nisa.tensor_partition_reduce"
    if dps:
        no_mask(ctx, a, fn)
    op = alu_of(ctx, a["op"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    if data.rank == 1 and data.par_dim == 0:  # a [P] tile is a per-partition column
        data = index_view(ctx, data, (slice(None), None))
    if data.rank < 2 or data.par_dim != 0:
        raise ctx.error(f"{fn} needs a [partition, free...] tile, not {list(data.shape)}")
    # every partition feeds each result: a mask may only pick the columns reduced
    box, rest = region(ctx, None if dps else as_mask(ctx, a["mask"]), data.shape)
    if rest or (box is not None and box[0] != (0, data.shape[0])):
        raise ctx.error(f"{fn}: a mask may only select free elements (such as i_f < n), "
                        "as every partition is reduced")
    cols = None if box is None else ((0, 1), *box[1:])

    def write(c: Ctx, dst: View) -> None:
        if dst.partitions != 1 or dst.free_size != data.free_size:
            raise c.error(f"{fn}: dst of shape {list(dst.shape)} must be [1, {data.free_size}]")
        if box is not None and cols is not None:
            operators.partition_reduce(c, dst.box(cols), data.box(box), op)
    shape = (1, *data.shape[1:])
    out = None if dps or a["mask"] in (None, True) or cols is None else box_mask(shape, cols)
    return into(ctx, a, dps, shape, data.dtype, [data], write, mask=out)


@isa("tensor_scalar_reduce",
     beta2=form("dst", "data", "op0", "operand0", "reduce_op", "reduce_res", reverse0=False, reduce_cmd=None,
                reduce_init=None, reduce_res_negate=False, mask=None, name=None),
     legacy=form("data", "op0", "operand0", "reduce_op", "reduce_res", reverse0=False, dtype=None, mask=None),
     legacy_tensors=1, emits=("tensorScalarReduce", "tensorScalar"))
def tensor_scalar_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``data op0 operand0``, also reducing each partition's results with ``reduce_op`` into
    ``reduce_res`` (negated with ``reduce_res_negate``; the accumulator keeps the reduction)."""
    fn = "nisa.tensor_scalar_reduce"
    if dps:
        no_mask(ctx, a, fn)
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    pred = None if dps else as_mask(ctx, a["mask"])
    rows_only(ctx, pred, data, fn, "with reduce_res")
    op0 = alu_of(ctx, a["op0"], "op0")
    s0 = scalar_operand(ctx, a["operand0"], data, "operand0", fn)
    rop = alu_of(ctx, a["reduce_op"], "reduce_op")
    rres = on_chip(ctx, view_arg(ctx, a["reduce_res"], "reduce_res"), "reduce_res", fn)
    rev = bool_arg(ctx, a["reverse0"], "reverse0")
    cmd = reduce_cmd(ctx, a.get("reduce_cmd"), AccumCmd.ZeroAccumulate)
    init = a.get("reduce_init")
    init_imm: Immediate | None = None
    if init is not None:
        if not isinstance(init, Number):
            raise ctx.error(f"{fn}: reduce_init must be a number, not {type_name(init)}")
        init_imm = operators.imm(init, data.dtype)
    negate = dps and bool_arg(ctx, a["reduce_res_negate"], "reduce_res_negate")

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, data, "data", fn)

        def body(d: View, box: Box) -> None:
            col = box_column(rres, box)
            operators.tensor_scalar_reduce(c, d, data.box(box), op0, boxed(s0, box), rev, rop, col, cmd,
                                           init_imm)
            if negate:
                operators.tensor_scalar(c, col, col, AluOp.mult, operators.imm(-1, rres.dtype))
        masked(c, dst, pred, body)
    return into(ctx, a, dps, data.shape, data.dtype, [data], write, par_axis=data.par_dim, mask=pred)


_FORMS = {param: (form("dst", param, mask=None, name=None), form(param, mask=None, dtype=None))
          for param in ("data", "src")}
"""The two forms of a statistics builtin, by the name of its input."""


def _stats_builtin(name: str, width: int | None, doc: str, param: str = "data") -> Callable[..., Value]:
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
            with rule(c, fn):
                rules.same_partitions(arg(data, "data"), arg(dst, "dst"))
            rows = (box[0], *((0, n) for n in dst.shape[1:])) if dst.par_dim == 0 else None
            operators.statistics(c, name, dst if rows is None else dst.box(rows), data.box(box), written=dst)
        # bn_stats/bn_aggr give float32 statistics; max8 keeps its input's dtype
        dtype = Dtype.float32 if width is not None and name != "max8" else data.dtype
        return into(ctx, a, dps, shape, dtype, [data], write)
    impl.__doc__ = doc
    impl.__name__ = name
    b2, legacy = _FORMS[param]
    emits = (ctor_name(operators.STATISTICS[name]),)
    return isa(name, beta2=b2, legacy=legacy, legacy_tensors=1, emits=emits)(impl)


bn_stats = _stats_builtin("bn_stats", 6, "Per-partition mean and variance statistics of a "
                          "tile (count, mean, variance*count for its even and odd elements).")


bn_aggr = _stats_builtin("bn_aggr", 2, "Combine bn_stats results into each partition's "
                         "mean and variance.")


max8 = _stats_builtin("max8", 8, "The 8 largest values of each partition, in descending order.",
                      "src")


@isa("tensor_tensor_scan",
     beta2=form("dst", "data0", "data1", "initial", "op0", "op1", reverse0=False, reverse1=False, mask=None,
                name=None),
     legacy=form("data0", "data1", "initial", "op0", "op1", reverse0=False, reverse1=False, dtype=None,
                 mask=None),
     legacy_tensors=2, emits=("tensorTensorScan",))
def tensor_tensor_scan(ctx: Ctx, a: Args, dps: bool) -> Value:
    """A scan along the free axis: ``acc = (acc op0 data0) op1 data1`` from ``initial``."""
    fn = "nisa.tensor_tensor_scan"
    if dps:
        no_mask(ctx, a, fn)
    x = on_chip(ctx, view_arg(ctx, a["data0"], "data0"), "data0", fn)
    pred = None if dps else as_mask(ctx, a["mask"])
    rows_only(ctx, pred, x, fn, "as the scan runs along whole partitions")
    y = on_chip(ctx, view_arg(ctx, a["data1"], "data1"), "data1", fn)
    same_size(ctx, x, y, "data1", fn)
    init = scalar_operand(ctx, a["initial"], x, "initial", fn)
    op0 = alu_of(ctx, a["op0"], "op0")
    op1 = alu_of(ctx, a["op1"], "op1")
    rev = operators.reverse_ops(bool_arg(ctx, a["reverse0"], "reverse0"),
                              bool_arg(ctx, a["reverse1"], "reverse1"))

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, x, "data0", fn)

        def body(d: View, box: Box) -> None:
            operators.tensor_tensor_scan(c, d, x.box(box), y.box(box), op0, op1, boxed(init, box), rev)
        masked(c, dst, pred, body)
    return into(ctx, a, dps, x.shape, x.dtype, [x, y], write, par_axis=x.par_dim, mask=pred)


@isa("tensor_scalar_cumulative",
     beta2=form("dst", "src", "op0", "op1", "imm0", imm1=None, reduce_cmd=None, mask=None, name=None),
     legacy=form("src", "op0", "op1", "imm0", imm1=None, reduce_cmd=None, mask=None, dtype=None),
     emits=("tensorScalarCumulative",))
def tensor_scalar_cumulative(ctx: Ctx, a: Args, dps: bool) -> Value:
    """A running ``reg = (src[i] op0 imm0) op1 reg`` along each partition, from 0/1/-inf/+inf
    (reset_reduce), the accumulator (reduce) or ``imm1`` (load_reduce)."""
    fn = "nisa.tensor_scalar_cumulative"
    if dps:
        no_mask(ctx, a, fn)
    src = on_chip(ctx, view_arg(ctx, a["src"], "src"), "src", fn)
    pred = None if dps else as_mask(ctx, a["mask"])
    rows_only(ctx, pred, src, fn, "as the running value runs along whole partitions")
    op0, op1 = alu_of(ctx, a["op0"], "op0"), alu_of(ctx, a["op1"], "op1")
    s0 = scalar_operand(ctx, a["imm0"], src, "imm0", fn)
    s1 = None if a["imm1"] is None else scalar_operand(ctx, a["imm1"], src, "imm1", fn)
    cmd = reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.ZeroAccumulate)
    if cmd is AccumCmd.LoadAccumulate and s1 is None:
        raise ctx.error(f"{fn}: reduce_cmd load_reduce needs imm1, the starting value")

    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, src, "src", fn)

        def body(d: View, box: Box) -> None:
            operators.tensor_scalar_cumulative(c, d, src.box(box), op0, op1, boxed(s0, box),
                                               None if s1 is None else boxed(s1, box), cmd)
        masked(c, dst, pred, body)
    return into(ctx, a, dps, src.shape, src.dtype, [src], write, par_axis=src.par_dim, mask=pred)
