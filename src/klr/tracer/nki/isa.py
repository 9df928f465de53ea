"""``nki.isa`` builtins, each accepting both dialects.

The form is decided per call: a ``dst`` argument (by keyword, or as an extra leading tensor
beyond what the legacy form takes) selects the beta 2 destination-passing form, whose
parameters, order and defaults are the reference's (``KLR/Trace/ISA.lean``); otherwise the
call is the legacy value-returning form (``t = nisa.exp...``), which allocates its result.
Each builtin declares both signatures as Python stubs and binds the call to one of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from klr.core import AccumCmd, ActivationReduce, AluOp, DataPattern, Engine, ImmFloat, MatmulPerfMode, Memory
from klr.dtypes import Dtype
from klr.tracer.nki import isa_ops
from klr.tracer.nki.arith import Number, binary, promote, result
from klr.tracer.nki.compute import (
    _in_sbuf,
    check_transpose,
    matmul_checks,
    matmul_producer,
    pe_transpose,
    reduce,
)
from klr.tracer.nki.consts import (
    DGE_MODES,
    OOB_MODES,
    PERF_MODES,
    REDUCE_CMDS,
    activation_of,
    alu_of,
    dtype_of,
    engine_of,
    enum_of,
)
from klr.tracer.nki.emit import fresh_psum
from klr.tracer.nki.index import Affine, IndexTile, Predicate
from klr.tracer.nki.lang import parse_shape
from klr.tracer.nki.masks import as_mask, masked, region
from klr.tracer.nki.tensors import Tile
from klr.tracer.nki.views import Box, View
from klr.tracer.registry import Binder, Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

ISA = "nki.isa."


class _Unset:
    def __repr__(self) -> str:
        return "<required>"


UNSET: Any = _Unset()
"""Default of a parameter that one form requires (the binder checks it)."""

Args = dict[str, Value]


def _pick(args: tuple[Value, ...], kwargs: dict[str, Value], legacy_tensors: int | None) -> bool:
    """True for the destination-passing form."""
    if legacy_tensors is None or "dst" in kwargs:
        return True
    run = 0
    for a in args:
        if not isinstance(a, Tile):
            break
        run += 1
    return run > legacy_tensors


def dual(name: str, *, beta2: Callable[..., Any], legacy: Callable[..., Any] | None = None,
         legacy_tensors: int | None = None,
         emits: tuple[str, ...] = ()) -> Callable[[Callable[..., Value]], None]:
    """Register ``nki.isa.<name>``; ``impl(ctx, args, dps)`` gets the bound arguments."""
    full = ISA + name
    sigs = {True: inspect.signature(beta2), False: inspect.signature(legacy) if legacy else None}
    binders = {dps: Binder(sig) for dps, sig in sigs.items() if sig is not None}

    def wrap(impl: Callable[..., Value]) -> None:
        def entry(ctx: Ctx, *args: Value, **kwargs: Value) -> Value:
            dps = legacy is None or _pick(args, kwargs, legacy_tensors)
            got = binders[dps].bind(args, kwargs)
            if got is None:
                got = bind_or_raise(ctx, full, binders[dps].signature, args, kwargs)
            for k, v in got.items():
                if v is UNSET:
                    raise ctx.error(f"{full}() missing required argument '{k}'")
            return impl(ctx, got, dps)

        entry.__signature__ = _union(inspect.signature(beta2), sigs[False])  # type: ignore[attr-defined]
        forms = [f"``{name}{sigs[True]}`` (destination passing)"]
        if sigs[False] is not None:
            forms.append(f"``{name}{sigs[False]}`` (legacy, returns the result)")
        doc = (inspect.getdoc(impl) or "") + "\n\nForms: " + "; ".join(forms) + "."
        builtin(full, emits=emits, dialect=Dialect.both, doc=doc)(entry)
    return wrap


def bind_or_raise(ctx: Ctx, full: str, sig: inspect.Signature, args: tuple[Value, ...],
                  kwargs: dict[str, Value]) -> dict[str, Value]:
    """Bind with ``inspect`` (the slow path of ``Binder``): its complaint becomes a TraceError."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        why = str(e).replace("missing a required argument:", "missing required argument")
        raise ctx.error(f"{full}() {why}") from None
    bound.apply_defaults()
    return bound.arguments


def _union(b2: inspect.Signature, lg: inspect.Signature | None) -> inspect.Signature:
    """One signature accepting both forms (for argument checking and documentation)."""
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_ONLY)]
    seen = set()
    for p in b2.parameters.values():
        default = p.default if p.default is not inspect.Parameter.empty else UNSET
        params.append(inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default))
        seen.add(p.name)
    if lg is not None:
        for p in lg.parameters.values():
            if p.name not in seen:
                default = p.default if p.default is not inspect.Parameter.empty else UNSET
                params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=default))
    return inspect.Signature(params)


# --- argument conversion -------------------------------------------------------------------


def view_arg(ctx: Ctx, v: Value, what: str) -> View:
    if isinstance(v, Tile):
        return v.view
    raise ctx.error(f"{what} must be a tensor, not {type_name(v)}")


def on_chip(ctx: Ctx, v: View, what: str, fn: str) -> View:
    if v.buf.memory.is_hbm:
        raise ctx.error(f"{fn}: {what} '{v.tensor.name}' is in HBM; engines read and write SBUF or PSUM")
    return v


def same_size(ctx: Ctx, dst: View, src: View, what: str, fn: str) -> None:
    if dst.partitions != src.partitions or dst.free_size != src.free_size:
        raise ctx.error(f"{fn}: {what} of shape {list(src.shape)} does not match dst of shape "
                        f"{list(dst.shape)}")


def scalar_operand(ctx: Ctx, v: Value, data: View, what: str, fn: str) -> object:
    """An Immediate for a number, or the [P, 1] view of a per-partition column tile."""
    if isinstance(v, Number):
        return isa_ops.imm(v, data.dtype)
    if isinstance(v, Tile):
        col = on_chip(ctx, v.view, what, fn)
        if col.free_size != 1 or col.partitions != data.partitions:
            raise ctx.error(f"{fn}: {what} must be a number or a [{data.partitions}, 1] tile, "
                            f"not {list(col.shape)}")
        return col
    raise ctx.error(f"{fn}: {what} must be a number or a tile, not {type_name(v)}")


def no_mask(ctx: Ctx, args: Args, fn: str) -> None:
    if args.get("mask") not in (None, True):  # a Python True (a tile-level condition) masks nothing
        raise ctx.error(f"{fn}: the mask parameter is not supported")


def out_dtype(ctx: Ctx, args: Args, default: Dtype) -> Dtype:
    d = args.get("dtype")
    return dtype_of(ctx, d) if d is not None else default


def bool_arg(ctx: Ctx, v: Value, what: str) -> bool:
    if not isinstance(v, bool):
        raise ctx.error(f"{what} must be True or False, not {describe(v)}")
    return v


# --- nc_matmul ---------------------------------------------------------------------------------


def _mm_b2(dst, stationary, moving, is_stationary_onezero=False, is_moving_onezero=False,
           is_transpose=False, tile_position=(), tile_size=(), perf_mode=None, mask=None, name=None,
           psumAccumulateFlag=None): ...


def _mm_legacy(stationary, moving, is_stationary_onezero=False, is_moving_onezero=False,
               is_transpose=False, tile_position=(), tile_size=(), perf_mode=None, mask=None, dtype=None): ...


def _mm_flags(ctx: Ctx, a: Args) -> dict[str, Any]:
    tp, ts = a["tile_position"], a["tile_size"]
    for v, what in ((tp, "tile_position"), (ts, "tile_size")):
        if not isinstance(v, (tuple, list)) or not all(isinstance(x, int) and x >= 0 for x in v):
            raise ctx.error(f"nisa.nc_matmul: {what} must be a list of non-negative integers")
    perf = a["perf_mode"]
    mode = PERF_MODES["none"] if perf is None else \
        enum_of(ctx, perf, "matmul_perf_mode", PERF_MODES, "perf_mode")
    return {
        "stationary_onezero": bool_arg(ctx, a["is_stationary_onezero"], "is_stationary_onezero"),
        "moving_zero": bool_arg(ctx, a["is_moving_onezero"], "is_moving_onezero"),
        "transpose": bool_arg(ctx, a["is_transpose"], "is_transpose"),
        "tile_position": tuple(tp), "tile_size": tuple(ts),
        "perf_mode": mode,
    }


@dual("nc_matmul", beta2=_mm_b2, legacy=_mm_legacy, legacy_tensors=2, emits=("ncMatMul", "memSet"))
def nc_matmul(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Matrix multiply on the PE array: ``stationary.T @ moving`` accumulated into PSUM."""
    fn = "nisa.nc_matmul"
    no_mask(ctx, a, fn)
    st = view_arg(ctx, a["stationary"], "stationary")
    mv = view_arg(ctx, a["moving"], "moving")
    if not dps:  # legacy tile code feeds PSUM results (nc_transpose's) straight back in
        st, mv = _in_sbuf(ctx, st), _in_sbuf(ctx, mv)
    flags = _mm_flags(ctx, a)
    if flags["transpose"]:
        # NKI transposes the stationary tile against an identity moving tile; a Core transpose
        # matmul transposes its moving operand (the stationary one is the identity).
        st, mv = mv, st
        flags["stationary_onezero"], flags["moving_zero"] = flags["moving_zero"], flags["stationary_onezero"]
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        if dst.buf.memory is Memory.psum and not flags["transpose"] and fresh_psum(ctx, dst):
            isa_ops.memset(ctx, dst, ImmFloat(0.0))
        isa_ops.matmul(ctx, dst, st, mv, **flags)
        return None
    if flags["transpose"]:
        k, n = mv.shape if mv.rank == 2 else (0, 0)
        return result(ctx, (n, k), mv.dtype, lambda c, d, acc: isa_ops.matmul(c, d, st, mv, **flags),
                      inputs=[st, mv], memory=Memory.psum, memories=(Memory.psum,))
    if flags["perf_mode"] is MatmulPerfMode.None_:
        matmul_checks(ctx, (0, 0), st, mv, fn)
        shape = (st.shape[1], mv.shape[1])
    else:
        shape = _double_row_shape(ctx, st, mv, fn)
    return result(ctx, shape, Dtype.float32, matmul_producer(st, mv, **flags), inputs=[st, mv],
                  memory=Memory.psum, accumulates=True, memories=(Memory.psum,))


def _double_row_shape(ctx: Ctx, st: View, mv: View, fn: str) -> tuple[int, int]:
    """The [M, N] result of a double-row matmul of stationary [K, 2, M] and moving [K, 2, N]
    (the contraction runs over K and the pair axis: 2K rows)."""
    if st.rank != 3 or mv.rank != 3 or st.shape[1] != 2 or mv.shape[1] != 2:
        raise ctx.error(f"{fn}: a double-row matmul takes stationary [K, 2, M] and moving [K, 2, N], "
                        f"not {list(st.shape)} and {list(mv.shape)}")
    k, _, m = st.shape
    k2, _, n = mv.shape
    if k != k2:
        raise ctx.error(f"{fn}: the contraction sizes differ: stationary {list(st.shape)}, "
                        f"moving {list(mv.shape)}")
    for v, what in ((st, "stationary"), (mv, "moving")):
        if v.buf.memory is not Memory.sbuf:
            raise ctx.error(f"{fn}: the {what} operand must be in SBUF, not {v.buf.memory.name}")
    return m, n


# --- nc_transpose ------------------------------------------------------------------------------


def _tr_b2(dst, data, mask=None, engine=None, name=None): ...


def _tr_legacy(data, mask=None, dtype=None, engine=None): ...


@dual("nc_transpose", beta2=_tr_b2, legacy=_tr_legacy, legacy_tensors=1,
      emits=("transpose", "memSet", "ncAffineSelect", "ncMatMul"))
def nc_transpose(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Swap the partition and free axes of a 2-D tile, on the PE array (into PSUM, against an
    identity matrix) or on the vector engine (32x32 blocks)."""
    fn = "nisa.nc_transpose"
    no_mask(ctx, a, fn)
    src = view_arg(ctx, a["data"], "data")
    engine = engine_of(ctx, a["engine"])
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        if engine is Engine.pe:
            pe_transpose(ctx, dst, src)
        else:
            isa_ops.vector_transpose(ctx, dst, src, engine)
        return None
    p, f = check_transpose(ctx, src, fn)
    if engine is Engine.unassigned:
        engine = Engine.dve if p <= 32 and f <= 32 else Engine.pe
    dt = out_dtype(ctx, a, src.dtype)
    if engine is Engine.pe:
        return result(ctx, (f, p), dt, lambda c, d, acc: pe_transpose(c, d, src), inputs=[src],
                      memory=Memory.psum, memories=(Memory.psum,))
    return result(ctx, (f, p), dt, lambda c, d, acc: isa_ops.vector_transpose(c, d, src, engine),
                  inputs=[src])


# --- activation ------------------------------------------------------------------------------


def _act_b2(dst, op, data, bias=None, scale=1.0, reduce_op=None, reduce_res=None,
            reduce_cmd=None, mask=None, name=None): ...


def _act_legacy(op, data, bias=None, scale=1.0, mask=None, dtype=None, reduce_op=None,
                reduce_res=None, reduce_cmd=None): ...


def _act_operands(ctx: Ctx, a: Args, data: View,
                  fn: str) -> tuple[object, View | None, AluOp | None, View | None]:
    scale = a["scale"]
    if isinstance(scale, Number):
        sc: object = ImmFloat(float(scale))
    else:
        sc = scalar_operand(ctx, scale, data, "scale", fn)
    bias = None
    if a["bias"] is not None:
        bias = on_chip(ctx, view_arg(ctx, a["bias"], "bias"), "bias", fn)
        if bias.free_size != 1:
            raise ctx.error(f"{fn}: bias of shape {list(bias.shape)} must be a [P, 1] tile")
    rop = None if a.get("reduce_op") is None else alu_of(ctx, a["reduce_op"], "reduce_op")
    rres = None if a.get("reduce_res") is None else view_arg(ctx, a["reduce_res"], "reduce_res")
    return sc, bias, rop, rres


def _reduce_cmd(ctx: Ctx, v: Value, default: AccumCmd) -> AccumCmd:
    return default if v is None else enum_of(ctx, v, "reduce_cmd", REDUCE_CMDS, "reduce_cmd")


@dual("activation", beta2=_act_b2, legacy=_act_legacy, legacy_tensors=0, emits=("ncActivate",))
def activation(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``op(data * scale + bias)`` on the activation engine; optionally also reduces each
    partition's results into ``reduce_res``."""
    fn = "nisa.activation"
    func = activation_of(ctx, a["op"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    sc, bias, rop, rres = _act_operands(ctx, a, data, fn)
    cmd = _reduce_cmd(ctx, a["reduce_cmd"], AccumCmd.Idle)
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, data, "data", fn)
        isa_ops.activation(ctx, dst, data, func, scale=sc, bias=bias, reduce_op=rop, reduce_res=rres,
                           accumulate=cmd)
        return None
    pred = as_mask(ctx, a["mask"])
    if rres is not None:
        rows_only(ctx, pred, data, fn)

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            isa_ops.activation(c, d, data.box(box), func, scale=_boxed(sc, box),
                               bias=None if bias is None else _col(bias, box), reduce_op=rop,
                               reduce_res=None if rres is None else _col(rres, box), accumulate=cmd)
        masked(c, dst, pred, body)
    return result(ctx, data.shape, out_dtype(ctx, a, data.dtype), body_fn, inputs=[data],
                  par_axis=data.par_dim, elementwise=rres is None, mask=pred)


def rows_only(ctx: Ctx, pred: Predicate | None, data: View, fn: str) -> None:
    """A mask beside a per-partition reduction may only drop whole partitions: the reduction
    of a kept partition must see all of its elements."""
    if pred is None:
        return
    box, rest = region(ctx, pred, data.shape)
    par = data.par_dim
    sides = enumerate(zip(box or (), data.shape, strict=False))
    if rest or any(span != (0, n) for d, (span, n) in sides if d != par):
        raise ctx.error(f"{fn}: with reduce_res, a mask may only select partitions (such as i_p < n)")


def _col(v: View, box: Box) -> View:
    """A [P, 1] column restricted to the partitions of ``box``."""
    par = v.par_dim or 0
    start, stop = box[par] if par < len(box) else (0, v.partitions)
    nums = list(v.nums)
    nums[v.par] = stop - start
    return View(v.buf, v.offset + start * v.steps[v.par], v.steps, tuple(nums), v.vis, v.par)


def _boxed(s: object, box: Box) -> object:
    return _col(s, box) if isinstance(s, View) else s


def _actr_b2(dst, op, data, reduce_op=None, reduce_res=None, bias=None, scale=1.0,
             mask=None, name=None): ...


def _actr_legacy(op, data, reduce_op=None, reduce_res=None, bias=None, scale=1.0,
                 mask=None, dtype=None): ...


@dual("activation_reduce", beta2=_actr_b2, legacy=_actr_legacy, legacy_tensors=0, emits=("activationReduce",))
def activation_reduce(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``op(data * scale + bias)``, reducing each partition's results with ``reduce_op`` into
    ``reduce_res``."""
    fn = "nisa.activation_reduce"
    if dps:
        no_mask(ctx, a, fn)
    func = activation_of(ctx, a["op"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    if isinstance(a["scale"], Tile):
        raise ctx.error(f"{fn}: scale can't be specified as tensor")
    sc, bias, rop, rres = _act_operands(ctx, a, data, fn)
    pred = None if dps else as_mask(ctx, a["mask"])
    rows_only(ctx, pred, data, fn)

    def emit_into(c: Ctx, dst: View) -> None:
        def body(d: View, box: Box) -> None:
            isa_ops.activation(c, d, data.box(box), func, scale=sc,
                               bias=None if bias is None else _col(bias, box), reduce_op=rop,
                               reduce_res=None if rres is None else _col(rres, box),
                               accumulate=AccumCmd.ZeroAccumulate, reduce_kind=ActivationReduce)
        masked(c, dst, pred, body)
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, data, "data", fn)
        emit_into(ctx, dst)
        return None
    return result(ctx, data.shape, out_dtype(ctx, a, data.dtype), lambda c, d, acc: emit_into(c, d),
                  inputs=[data], par_axis=data.par_dim, mask=pred)


# --- tensor_tensor / tensor_scalar -------------------------------------------------------------


def _tt_b2(dst, data1, data2, op, mask=None, engine=None, name=None): ...


def _tt_legacy(data1, data2, op, dtype=None, mask=None, engine=None): ...


@dual("tensor_tensor", beta2=_tt_b2, legacy=_tt_legacy, legacy_tensors=2, emits=("tensorTensor",))
def tensor_tensor(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Element-wise ``data1 op data2`` on a compute engine."""
    fn = "nisa.tensor_tensor"
    op = alu_of(ctx, a["op"])
    engine = engine_of(ctx, a["engine"])
    x = on_chip(ctx, view_arg(ctx, a["data1"], "data1"), "data1", fn)
    y = on_chip(ctx, view_arg(ctx, a["data2"], "data2"), "data2", fn)
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, x, "data1", fn)
        same_size(ctx, dst, y, "data2", fn)
        isa_ops.tensor_tensor(ctx, dst, x, y, op, engine)
        return None
    return binary(ctx, op, a["data1"], a["data2"], dtype=a["dtype"], mask=a["mask"], name=fn, engine=engine)


def _ts_b2(dst, data, op0, operand0, reverse0=False, op1=None, operand1=None,
           reverse1=False, mask=None, engine=None, name=None): ...


def _ts_legacy(data, op0, operand0, reverse0=False, op1=None, operand1=None,
               reverse1=False, dtype=None, mask=None, engine=None): ...


@dual("tensor_scalar", beta2=_ts_b2, legacy=_ts_legacy, legacy_tensors=1, emits=("tensorScalar",))
def tensor_scalar(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``(data op0 operand0) op1 operand1``; operands are numbers or per-partition [P, 1] tiles."""
    fn = "nisa.tensor_scalar"
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    op0 = alu_of(ctx, a["op0"], "op0")
    s0 = scalar_operand(ctx, a["operand0"], data, "operand0", fn)
    op1 = None if a["op1"] is None else alu_of(ctx, a["op1"], "op1")
    s1 = None if op1 is None else scalar_operand(ctx, a["operand1"], data, "operand1", fn)
    r0 = bool_arg(ctx, a["reverse0"], "reverse0")
    r1 = bool_arg(ctx, a["reverse1"], "reverse1")
    engine = engine_of(ctx, a["engine"])
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, data, "data", fn)
        isa_ops.tensor_scalar(ctx, dst, data, op0, s0, r0, op1, s1, r1, engine)
        return None
    pred = as_mask(ctx, a["mask"])
    default = data.dtype
    for s, v in ((s0, a["operand0"]), (s1, a["operand1"])):
        if isinstance(v, float) and default.is_int:
            default = Dtype.float32
        if isinstance(s, View):
            default = promote(default, s.dtype)

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            isa_ops.tensor_scalar(c, d, data.box(box), op0, _boxed(s0, box), r0, op1, _boxed(s1, box), r1,
                                  engine)
        masked(c, dst, pred, body)
    inputs = [data] + [s for s in (s0, s1) if isinstance(s, View)]
    return result(ctx, data.shape, out_dtype(ctx, a, default), body_fn, inputs=inputs, par_axis=data.par_dim,
                  elementwise=True, mask=pred)


# --- copies, memset, reciprocal --------------------------------------------------------------


def _tc_b2(dst, src, mask=None, dtype=None, engine=None, name=None): ...


def _tc_legacy(src, mask=None, dtype=None, engine=None): ...


@dual("tensor_copy", beta2=_tc_b2, legacy=_tc_legacy, legacy_tensors=1, emits=("ncCopy",))
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
        isa_ops.tensor_copy(ctx, dst, src, dt, engine)
        return None
    pred = as_mask(ctx, a["mask"])

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: isa_ops.tensor_copy(c, d, src.box(box), d.dtype, engine))
    return result(ctx, src.shape, dt or src.dtype, body_fn, inputs=[src], par_axis=src.par_dim,
                  elementwise=True, mask=pred)


def _ms_b2(dst, value, mask=None, engine=None, name=None): ...


def _ms_legacy(shape, value, dtype, mask=None, engine=None): ...


@dual("memset", beta2=_ms_b2, legacy=_ms_legacy, legacy_tensors=0, emits=("memSet",))
def memset(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Fill a tile with a constant."""
    fn = "nisa.memset"
    value = a["value"]
    if not isinstance(value, Number):
        raise ctx.error(f"{fn}: value must be a number, not {type_name(value)}")
    engine = engine_of(ctx, a["engine"])
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        isa_ops.memset(ctx, dst, isa_ops.imm(value, dst.dtype), engine)
        return None
    dims, par = parse_shape(ctx, a["shape"])
    pred = as_mask(ctx, a["mask"])

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: isa_ops.memset(c, d, isa_ops.imm(value, d.dtype), engine))
    return result(ctx, dims, dtype_of(ctx, a["dtype"]), body_fn, par_axis=par, elementwise=True, mask=pred)


def _rc_b2(dst, data, mask=None, name=None): ...


def _rc_legacy(data, dtype=None, mask=None): ...


@dual("reciprocal", beta2=_rc_b2, legacy=_rc_legacy, legacy_tensors=1, emits=("reciprocal",))
def reciprocal(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Element-wise ``1 / data`` on the vector engine."""
    fn = "nisa.reciprocal"
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        same_size(ctx, dst, data, "data", fn)
        isa_ops.reciprocal(ctx, dst, data)
        return None
    pred = as_mask(ctx, a["mask"])

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: isa_ops.reciprocal(c, d, data.box(box)))
    return result(ctx, data.shape, out_dtype(ctx, a, data.dtype), body_fn, inputs=[data],
                  par_axis=data.par_dim, elementwise=True, mask=pred)


def _cp_b2(dst, src, predicate, mask=None, reverse_pred=False, name=None): ...


@dual("tensor_copy_predicated", beta2=_cp_b2, emits=("copyPredicated",))
def tensor_copy_predicated(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Copy ``src`` into ``dst`` where ``predicate`` is non-zero (zero with ``reverse_pred``)."""
    fn = "nisa.tensor_copy_predicated"
    no_mask(ctx, a, fn)
    dst = view_arg(ctx, a["dst"], "dst")
    src = view_arg(ctx, a["src"], "src")
    pred = view_arg(ctx, a["predicate"], "predicate")
    same_size(ctx, dst, src, "src", fn)
    same_size(ctx, dst, pred, "predicate", fn)
    isa_ops.copy_predicated(ctx, dst, src, pred, bool_arg(ctx, a["reverse_pred"], "reverse_pred"))
    return None


# --- reductions --------------------------------------------------------------------------------


def _tr_axes(ctx: Ctx, axis: Value, rank: int) -> tuple[int, ...]:
    """The reference's axis spellings (1, [4], [3, 4], [2, 3, 4], [1, 2, 3, 4]: the last 1..4
    free axes) and plain axes of the tile (the last k of them)."""
    ref = {1: 1, (4,): 1, (3, 4): 2, (2, 3, 4): 3, (1, 2, 3, 4): 4}
    key = tuple(axis) if isinstance(axis, (tuple, list)) else axis
    if key in ref and not (isinstance(key, tuple) and max(key) < rank):
        k = ref[key]
        return tuple(range(rank - k, rank))
    return key if isinstance(key, tuple) else (key,)


def _red_b2(dst, op, data, axis, mask=None, negate=False, keepdims=False, name=None): ...


def _red_legacy(op, data, axis, mask=None, dtype=None, negate=False, keepdims=False): ...


@dual("tensor_reduce", beta2=_red_b2, legacy=_red_legacy, legacy_tensors=0, emits=("tensorReduce",))
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
        from klr.tracer.nki.arith import assign
        assign(ctx, dst, tmp)
        return None
    return reduce(ctx, op, a["data"], a["axis"], dtype=a["dtype"], keepdims=keepdims, mask=a["mask"],
                  negate=negate, name=fn)


# --- iota and affine_select ----------------------------------------------------------------


def _iota_b2(dst, pattern, offset=0, channel_multiplier=0, name=None): ...


def _iota_legacy(expr, dtype, mask=None): ...


def _pairs(ctx: Ctx, pattern: Value, fn: str) -> list[tuple[int, int]]:
    ok = isinstance(pattern, (tuple, list)) and all(
        isinstance(p, (tuple, list)) and len(p) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                             for x in p) for p in pattern)
    if not ok:
        raise ctx.error(f"{fn}: pattern must be a list of [step, num] integer pairs")
    return [(p[0], p[1]) for p in pattern]


def _int(ctx: Ctx, v: Value, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ctx.error(f"{what} must be an integer, not {describe(v)}")
    return v


def _affine_pattern(a: Affine, box: Box, par: int | None) -> DataPattern:
    offset = a.const + sum(c * s for c, (s, _) in zip(a.coefs, box, strict=True))
    pairs = [(a.coefs[j], box[j][1] - box[j][0]) for j in range(len(box)) if j != par]
    return isa_ops.data_pattern(offset, 0 if par is None else a.coefs[par], pairs)


@dual("iota", beta2=_iota_b2, legacy=_iota_legacy, legacy_tensors=0, emits=("iota",))
def iota(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Fill a tile with an affine function of its indices: ``offset + channel_multiplier * p +
    sum(step_i * x_i)`` (legacy: the values of an index expression)."""
    fn = "nisa.iota"
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        pairs = _pairs(ctx, a["pattern"], fn)
        pattern = isa_ops.data_pattern(_int(ctx, a["offset"], "offset"),
                                       _int(ctx, a["channel_multiplier"], "channel_multiplier"), pairs)
        isa_ops.iota(ctx, dst, pattern)
        return None
    expr = a["expr"]
    if isinstance(expr, int) and not isinstance(expr, bool):
        expr = IndexTile(Affine((1, 1), (0, 0), expr))
    if not isinstance(expr, IndexTile):
        raise ctx.error(f"{fn}: expr must be an index expression such as nl.arange(8)[None, :], not "
                        f"{type_name(expr)}")
    aff = expr.affine if len(expr.shape) > 1 else expr.affine.aligned(2)
    pred = as_mask(ctx, a["mask"])

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: isa_ops.iota(c, d, _affine_pattern(aff, box, 0)))
    return result(ctx, aff.shape, dtype_of(ctx, a["dtype"]), body_fn, elementwise=True, mask=pred)


def _as_b2(dst, pattern, offset=0, channel_multiplier=0, on_true_tile=UNSET,
           on_false_value=UNSET, cmp_op=None, mask=None, name=None): ...


def _as_legacy(pred, on_true_tile, on_false_value, mask=None, dtype=None): ...


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


@dual("affine_select", beta2=_as_b2, legacy=_as_legacy, legacy_tensors=0, emits=("ncAffineSelect",))
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
        pattern = isa_ops.data_pattern(_int(ctx, a["offset"], "offset"),
                                       _int(ctx, a["channel_multiplier"], "channel_multiplier"),
                                       _pairs(ctx, a["pattern"], fn))
        cmp = AluOp.is_equal if a["cmp_op"] is None else alu_of(ctx, a["cmp_op"], "cmp_op")
        isa_ops.affine_select(ctx, dst, pattern, on_true, isa_ops.imm(value, dst.dtype), cmp)
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
            isa_ops.affine_select(c, d, _affine_pattern(aff, box, par), on_true.box(box),
                                  isa_ops.imm(value, d.dtype), cmp)
        masked(c, dst, pmask, body)
    return result(ctx, on_true.shape, out_dtype(ctx, a, on_true.dtype), body_fn, inputs=[on_true],
                  par_axis=par,
                  elementwise=True, mask=pmask)


# --- DMA -----------------------------------------------------------------------------------


def _dma_b2(dst, src, mask=None, dst_rmw_op=None, oob_mode=0, dge_mode=0,
            unique_indices=False, engine=None, priority=None, name=None): ...


@dual("dma_copy", beta2=_dma_b2, emits=("ncDmaCopy",))
def dma_copy(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Copy between any memories with the DMA engines; ``dst_rmw_op=nl.add`` adds into dst."""
    fn = "nisa.dma_copy"
    dst = view_arg(ctx, a["dst"], "dst")
    src = view_arg(ctx, a["src"], "src")
    rmw = a["dst_rmw_op"]
    if rmw is not None and alu_of(ctx, rmw, "dst_rmw_op") is not AluOp.add:
        raise ctx.error(f"{fn}: dst_rmw_op supports only nl.add")
    oob = enum_of(ctx, a["oob_mode"], "oob_mode", OOB_MODES, "oob_mode")
    if not isinstance(oob, int) or oob > 1:
        raise ctx.error(f"{fn}: unsupported oob mode {describe(oob)}")
    dge = enum_of(ctx, a["dge_mode"], "dge_mode", DGE_MODES, "dge_mode")
    prio = a["priority"]
    if prio is not None:
        prio = _int(ctx, prio, "priority")
    count_d = dst.partitions * dst.free_size
    count_s = src.partitions * src.free_size
    if count_d != count_s:
        raise ctx.error(f"{fn}: a {list(src.shape)} source ({count_s} elements) does not fit a "
                        f"{list(dst.shape)} destination ({count_d} elements)")
    flags = {"accumulate": rmw is not None, "oob_skip": oob == 1, "dge_mode": dge,
             "unique_indices": bool_arg(ctx, a["unique_indices"], "unique_indices"), "priority": prio,
             "engine": engine_of(ctx, a["engine"])}
    pred = as_mask(ctx, a["mask"])
    if pred is None:
        isa_ops.dma(ctx, dst, src, **flags)
        return None
    if dst.shape != src.shape:
        raise ctx.error(f"{fn}: a mask needs source and destination of the same shape")
    masked(ctx, dst, pred, lambda d, box: isa_ops.dma(ctx, d, src.box(box), **flags), dma=True)
    return None


@builtin(ISA + "get_nc_version", dialect=Dialect.both)
def get_nc_version(ctx: Ctx) -> Value:
    """The NeuronCore generation the kernel is traced for (``nisa.nc_version.genN``)."""
    return ctx.arch

