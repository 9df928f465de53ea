"""Arithmetic operators: element-wise ALU and activation, reductions, scans and matmul.

Every implementation reads its operands as tiles, computes in the instruction's compute
type (``kind_of``: float32, or int64 for all-integer instructions), and stores through
``ctx.store``, which casts to the destination dtype (keeping the low bits of the words a
bitwise operator made). Per-partition scalars are [P, 1] arrays (or [1, 1] for immediates)
and broadcast along the free axis.
"""

from __future__ import annotations

import numpy as np

from klr.core.mathops import (
    Activate,
    Activate2,
    ActivationReduce,
    Exponential,
    LoadStationary,
    MatMul,
    NcActivate,
    NcMatMul,
    NcRangeSelect,
    NcScalarTensorTensor,
    RangeSelect,
    Reciprocal,
    ScalarTensorTensor,
    SelectReduce,
    TensorPartitionReduce,
    TensorReduce,
    TensorScalar,
    TensorScalarCumulative,
    TensorScalarReduce,
    TensorTensor,
    TensorTensorScan,
)
from klr.core.numerics import BITVEC
from klr.core.optypes import (
    AccumCmd,
    ActivationFunc,
    AluOp,
    Engine,
    TensorScalarReverseOps,
)
from klr.core.rules import DOUBLE_ROW
from klr.dtypes import Dtype
from klr.interp import alu
from klr.interp.activation import activate
from klr.interp.machine import F32, Accumulator, Core, Tile, bits_of, kept, kind_of, merge, select_origin
from klr.interp.registry import impl

_FIRST = (TensorScalarReverseOps.first, TensorScalarReverseOps.both)
_SECOND = (TensorScalarReverseOps.second, TensorScalarReverseOps.both)


def _dst_dtype(ctx: Core, ref: object) -> Dtype:
    return ctx.view(ref).dtype


def _reduced_origin(origin: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """Origin of a free-axis reduction of [P, F] values whose origin broadcasts to ``shape``."""
    if origin is None:
        return None
    reduced: np.ndarray = np.broadcast_to(origin, shape).min(axis=1)
    return reduced


# --- accumulators ------------------------------------------------------------------------------


def accumulate(ctx: Core, engine: Engine, cmd: AccumCmd, op: AluOp, values: np.ndarray,
               origin: np.ndarray | None, res: object | None, init: Tile | None = None) -> None:
    """Reduce [P, F] ``values`` along the free axis under ``cmd`` (``docs/semantics.md`` §3.3)
    and write ``res`` [P, 1] when given.

    Idle: reduce this instruction's values alone; the act accumulator is left alone and the
    dve one becomes undefined. Zero: reset the accumulator to the identity of ``op`` and
    accumulate nothing. ZeroAccumulate: reset, then accumulate. Accumulate: continue from the
    accumulator. LoadAccumulate: start from ``init``.
    """
    p = values.shape[0]
    part_origin = _reduced_origin(origin, values.shape)
    start: np.ndarray | None = None
    start_origin: np.ndarray | None = None
    match cmd:
        case AccumCmd.Idle:
            pass
        case AccumCmd.Zero | AccumCmd.ZeroAccumulate:
            ident = alu.identity(op, values)
            start = None if ident is None else np.broadcast_to(ident, (p,))
        case AccumCmd.Accumulate:
            prev = ctx.accumulator(engine, p)
            start, start_origin = prev.values, prev.origin
        case AccumCmd.LoadAccumulate:
            if init is None:
                ctx.fail("LoadAccumulate needs an initial value")
            start = np.broadcast_to(init.num(values.dtype.type).reshape(-1), (p,))
            start_origin = _reduced_origin(init.origin, (p, 1))
    if cmd is AccumCmd.Zero:
        result = np.zeros(p, values.dtype) if start is None else np.array(start)
        result_origin = None
    else:
        result = alu.reduce_from(op, start, values)
        result_origin = merge(start_origin, part_origin)
    if cmd is not AccumCmd.Idle:
        ctx.accumulators[engine] = Accumulator(result, result_origin)
    elif engine is Engine.dve:
        ctx.spoil(engine)
    if res is not None:
        ctx.store(res, result.reshape(p, 1), None if result_origin is None else result_origin[:, None],
                  wrap=op in BITVEC)


# --- element-wise ------------------------------------------------------------------------------


@impl(TensorTensor)
def tensor_tensor(ctx: Core, op: TensorTensor) -> None:
    a, b = ctx.load(op.src0), ctx.load(op.src1)
    dt = _dst_dtype(ctx, op.dst)
    kind = kind_of(dt, a, b)
    out = alu.apply(op.op, a.num(kind), b.num(kind), bits_of(dt, a, b))
    ctx.store(op.dst, out, merge(a.origin, b.origin), wrap=op.op in BITVEC)


@impl(TensorScalar)
def tensor_scalar(ctx: Core, op: TensorScalar) -> None:
    src = ctx.load(op.src)
    s0 = ctx.operand(op.imm0)
    s1 = None if op.imm1 is None else ctx.operand(op.imm1)
    dt = _dst_dtype(ctx, op.dst)
    kind, bits = kind_of(dt, src, s0, s1), bits_of(dt, src, s0, s1)
    out = alu.apply_rev(op.op0, src.num(kind), s0.num(kind), op.reverse in _FIRST, bits)
    last = op.op0
    if op.op1 is not None and s1 is not None:
        out = alu.apply_rev(op.op1, out, s1.num(kind), op.reverse in _SECOND, bits)
        last = op.op1
    ctx.store(op.dst, out, merge(src.origin, s0.origin, None if s1 is None else s1.origin),
              wrap=last in BITVEC)


@impl(Reciprocal)
def reciprocal(ctx: Core, op: Reciprocal) -> None:
    src = ctx.load(op.src)
    with np.errstate(all="ignore"):
        ctx.store(op.dst, np.float32(1.0) / src.num(F32), src.origin)


@impl(NcScalarTensorTensor)
def scalar_tensor_tensor(ctx: Core, op: NcScalarTensorTensor) -> None:
    data = ctx.load(op.data)
    s0, s1 = ctx.operand(op.src0), ctx.operand(op.src1)
    dt = _dst_dtype(ctx, op.dst)
    kind, bits = kind_of(dt, data, s0, s1), bits_of(dt, data, s0, s1)
    t = alu.apply_rev(op.op0, data.num(kind), s0.num(kind), op.reverseOperands in _FIRST, bits)
    out = alu.apply_rev(op.op1, t, s1.num(kind), op.reverseOperands in _SECOND, bits)
    ctx.store(op.dst, out, merge(data.origin, s0.origin, s1.origin), wrap=op.op1 in BITVEC)


@impl(ScalarTensorTensor)
def legacy_scalar_tensor_tensor(ctx: Core, op: ScalarTensorTensor) -> None:
    a, b = ctx.load(op.src0), ctx.load(op.src1)
    s = ctx.operand(op.imm0)
    dt = _dst_dtype(ctx, op.dst)
    kind, bits = kind_of(dt, a, b, s), bits_of(dt, a, b, s)
    t = alu.apply_rev(op.op0, a.num(kind), s.num(kind), op.reverseOperands in _FIRST, bits)
    out = alu.apply_rev(op.op1, t, b.num(kind), op.reverseOperands in _SECOND, bits)
    ctx.store(op.dst, out, merge(a.origin, b.origin), wrap=op.op1 in BITVEC)


# --- activation --------------------------------------------------------------------------------


@impl(NcActivate, ActivationReduce)
def nc_activate(ctx: Core, op: NcActivate) -> None:
    src = ctx.load(op.src)
    scale = ctx.operand(op.scale)
    bias = None if op.bias is None else ctx.load(op.bias)
    x = src.num(F32) * scale.num(F32)
    if bias is not None:
        x = x + bias.num(F32)
    y = activate(op.activationFunc, x)
    origin = merge(src.origin, scale.origin, None if bias is None else bias.origin)
    ctx.store(op.dst, y, origin)
    if op.reduceRes is not None or op.accumulatorCmd is not AccumCmd.Idle:
        accumulate(ctx, Engine.act, op.accumulatorCmd, op.reduceOp or AluOp.add, y, origin, op.reduceRes)


@impl(Activate)
def legacy_activate(ctx: Core, op: Activate) -> None:
    src = ctx.load(op.src)
    y = activate(op.activationFunc,
                 src.num(F32) * np.float32(ctx.imm(op.scale)) + np.float32(ctx.imm(op.bias)))
    origin = src.origin
    if op.accumulatorCmd in (AccumCmd.Accumulate, AccumCmd.LoadAccumulate):
        old = ctx.load(op.dst)
        y = old.num(F32) + y
        origin = merge(origin, old.origin)
    ctx.store(op.dst, y, origin)


@impl(Activate2)
def activate2(ctx: Core, op: Activate2) -> None:
    """y = f(op1(op0(src, imm0), imm1)) (bypass skips a stage, reverse swaps its operands),
    relu taking reluParam as its slope below 0; the act accumulator reduces y with reduceOp
    under reduceCmd (bypass: no reduction) and reduceRes reads the accumulator."""
    src = ctx.load(op.src)
    s0, s1, slope = ctx.operand(op.imm0), ctx.operand(op.imm1), ctx.operand(op.reluParam)
    x = src.num(F32)
    for alu_op, s, rev in ((op.op0, s0, op.reverse0), (op.op1, s1, op.reverse1)):
        if alu_op is not AluOp.bypass:
            x = alu.apply_rev(alu_op, x, s.num(F32), rev)
    y = activate(op.activationFunc, x, slope.num(F32))
    origin = merge(src.origin, s0.origin, s1.origin, slope.origin)
    ctx.store(op.dst, y, origin)
    p = src.P
    if op.reduceOp is not AluOp.bypass and op.reduceCmd is not AccumCmd.Idle:
        accumulate(ctx, Engine.act, op.reduceCmd, op.reduceOp, y, origin, None)
    if op.reduceRes is not None:
        acc = ctx.accumulator(Engine.act, p)
        ctx.store(op.reduceRes, acc.values.reshape(p, 1), None if acc.origin is None else acc.origin[:, None])


@impl(Exponential)
def exponential(ctx: Core, op: Exponential) -> None:
    src = ctx.load(op.src)
    top = ctx.operand(op.maxValue)
    y = activate(ActivationFunc.exp, src.num(F32) - top.num(F32))
    origin = merge(src.origin, top.origin)
    ctx.store(op.dst, y, origin)
    init = ctx.operand(op.reduceInit) if op.reducecmd is AccumCmd.LoadAccumulate else None
    accumulate(ctx, Engine.dve, op.reducecmd, AluOp.add, y, origin, op.reduceRes, init)


# --- reductions --------------------------------------------------------------------------------

@impl(TensorReduce)
def tensor_reduce(ctx: Core, op: TensorReduce) -> None:
    src = ctx.load(op.src)
    k = op.opDim.axes
    axes = tuple(range(len(src.shape) - k, len(src.shape)))
    kind = kind_of(_dst_dtype(ctx, op.dst), src)
    out = alu.reduce(op.op, src.nd(src.num(kind)), axes)
    if op.negated:
        out = -out
    origin = None if src.origin is None else src.nd(src.origin).min(axis=axes)
    ctx.store(op.dst, out, origin, wrap=op.op in BITVEC)


@impl(TensorPartitionReduce)
def tensor_partition_reduce(ctx: Core, op: TensorPartitionReduce) -> None:
    data = ctx.load(op.data)
    kind = kind_of(_dst_dtype(ctx, op.dst), data)
    out = alu.reduce(op.op, data.num(kind), 0)
    origin = None if data.origin is None else data.origin.min(axis=0)
    ctx.store(op.dst, out[None, :], None if origin is None else origin[None, :], wrap=op.op in BITVEC)


@impl(TensorScalarReduce)
def tensor_scalar_reduce(ctx: Core, op: TensorScalarReduce) -> None:
    src = ctx.load(op.src)
    s = ctx.operand(op.operand0)
    kind = kind_of(_dst_dtype(ctx, op.dst), src, s)
    y = alu.apply_rev(op.op0, src.num(kind), s.num(kind), op.reverse0)
    origin = merge(src.origin, s.origin)
    ctx.store(op.dst, y, origin)
    init = None if op.reduceInit is None else ctx.operand(op.reduceInit)
    accumulate(ctx, Engine.dve, op.reduceCmd, op.reduceOp or AluOp.add, y, origin, op.reduceRes, init)


@impl(SelectReduce)
def select_reduce(ctx: Core, op: SelectReduce) -> None:
    pred = ctx.load(op.predicate)
    on_true, on_false = ctx.load(op.onTrue), ctx.operand(op.onFalse)
    keep = (pred.num(F32) != 0) != op.reversePred
    kind = kind_of(_dst_dtype(ctx, op.dst), on_true, on_false)
    out = np.where(keep, on_true.num(kind), on_false.num(kind))
    origin = merge(pred.origin, select_origin(keep, on_true.origin, on_false.origin))
    ctx.store(op.dst, out, origin)
    accumulate(ctx, Engine.dve, op.reduceCmd, op.reduceOp, out, origin, op.reduceRes)


def _in_range(f: int, start: float, op0: AluOp, b0: Tile, op1: AluOp, b1: Tile) -> np.ndarray:
    index = (np.arange(f, dtype=F32) + np.float32(start))[None, :]
    keep: np.ndarray = (alu.apply(op0, index, b0.num(F32)) != 0) & (alu.apply(op1, index, b1.num(F32)) != 0)
    return keep


@impl(NcRangeSelect)
def nc_range_select(ctx: Core, op: NcRangeSelect) -> None:
    on_true = ctx.load(op.onTrueTile)
    b0, b1 = ctx.load(op.bound0), ctx.load(op.bound1)
    keep = _in_range(on_true.F, ctx.imm(op.rangeStart), op.compOp0, b0, op.compOp1, b1)
    fill = np.float32(ctx.imm(op.onFalseValue))
    out = np.where(keep, on_true.num(F32), fill)
    origin = merge(b0.origin, b1.origin, select_origin(keep, on_true.origin, None))
    ctx.store(op.dst, out, origin)
    accumulate(ctx, Engine.dve, op.reduceCommand, op.reduceOp or AluOp.max, out, origin, op.reduceRes)


@impl(RangeSelect)
def range_select(ctx: Core, op: RangeSelect) -> None:
    src = ctx.load(op.src)
    b0, b1 = ctx.operand(op.bound0), ctx.operand(op.bound1)
    keep = _in_range(src.F, op.base, op.compOp0, b0, op.compOp1, b1)
    out = np.where(keep, src.num(F32), np.float32(op.fillValue))
    origin = select_origin(keep, src.origin, None)
    ctx.store(op.dst, out, origin)
    accumulate(ctx, Engine.dve, op.reduceCommand, op.reduceOp, out, origin, None)


# --- scans -------------------------------------------------------------------------------------


@impl(TensorTensorScan)
def tensor_tensor_scan(ctx: Core, op: TensorTensorScan) -> None:
    a, b = ctx.load(op.src0), ctx.load(op.src1)
    init = ctx.operand(op.imm0)
    dt = _dst_dtype(ctx, op.dst)
    kind, bits = kind_of(dt, a, b, init), bits_of(dt, a, b, init)
    av, bv = a.num(kind), b.num(kind)
    out = np.empty(np.broadcast_shapes(av.shape, bv.shape), np.result_type(av, bv))
    state = np.broadcast_to(init.num(kind), (a.P, 1))[:, 0]
    first, second = op.reverseOperands in _FIRST, op.reverseOperands in _SECOND
    for j in range(a.F):
        t = alu.apply_rev(op.op0, av[:, j], state, first, bits)
        state = alu.apply_rev(op.op1, t, bv[:, j], second, bits)
        out = out.astype(np.result_type(out, state), copy=False)
        out[:, j] = state
    ctx.store(op.dst, out, _running_origin(merge(a.origin, b.origin), init.origin, (a.P, a.F)),
              wrap=op.op1 in BITVEC)


def _running_origin(origin: np.ndarray | None, start: np.ndarray | None,
                    shape: tuple[int, int]) -> np.ndarray | None:
    """Origin of a scan: each output depends on every earlier input and the start value."""
    both = merge(origin, start)
    if both is None:
        return None
    return np.minimum.accumulate(np.broadcast_to(both, shape), axis=1)


_ACCUMULATE = {AluOp.add: np.add, AluOp.mult: np.multiply, AluOp.max: np.maximum, AluOp.min: np.minimum}


@impl(TensorScalarCumulative)
def tensor_scalar_cumulative(ctx: Core, op: TensorScalarCumulative) -> None:
    src = ctx.load(op.src)
    s0 = ctx.operand(op.imm0)
    s1 = None if op.imm1 is None else ctx.operand(op.imm1)
    dt = _dst_dtype(ctx, op.dst)
    kind, bits = kind_of(dt, src, s0, s1), bits_of(dt, src, s0, s1)
    t = alu.apply_rev(op.op0, src.num(kind), s0.num(kind), op.reverse in _FIRST, bits)
    start, start_origin = _cumulative_start(ctx, op, t, s1)
    ufunc = _ACCUMULATE.get(op.op1)
    if ufunc is not None:
        out = ufunc.accumulate(np.concatenate([start[:, None], t], axis=1), axis=1)[:, 1:]
    else:
        out = np.empty_like(t)
        state = start
        for j in range(src.F):
            state = alu.apply_rev(op.op1, t[:, j], state, op.reverse in _SECOND, bits)
            out[:, j] = state
    origin = _running_origin(merge(src.origin, s0.origin), start_origin, (src.P, src.F))
    ctx.store(op.dst, out, origin, wrap=op.op1 in BITVEC)
    last_origin = None if origin is None else origin[:, -1]
    ctx.accumulators[Engine.dve] = Accumulator(out[:, -1] if src.F else start, last_origin)


def _cumulative_start(ctx: Core, op: TensorScalarCumulative, t: np.ndarray,
                      s1: Tile | None) -> tuple[np.ndarray, np.ndarray | None]:
    p = t.shape[0]
    match op.reduceCmd:
        case AccumCmd.Accumulate:
            prev = ctx.accumulator(Engine.dve, p)
            return prev.values.astype(t.dtype), prev.origin
        case AccumCmd.LoadAccumulate:
            if s1 is None:
                ctx.fail("LoadAccumulate needs imm1 as the initial value")
            return (np.broadcast_to(s1.num(t.dtype.type), (p, 1))[:, 0].copy(),
                    _reduced_origin(s1.origin, (p, 1)))
    ident = alu.identity(op.op1, t)
    return np.full(p, 0 if ident is None else ident, t.dtype), None


# --- matmul ------------------------------------------------------------------------------------


def _rows_of_two(x: np.ndarray) -> np.ndarray:
    """A [K, 2*F] operand as the [2K, F] matrix it is in a double-row matmul."""
    k, f = x.shape
    return x.reshape(2 * k, f // 2)


@impl(NcMatMul)
def nc_matmul(ctx: Core, op: NcMatMul) -> None:
    moving = ctx.load(op.moving)
    if op.isTranspose:
        ctx.stationary = (None, True)
        ctx.store(op.dst, moving.values.T, None if moving.origin is None else moving.origin.T)
        return
    stationary = ctx.load(op.stationary)
    ctx.stationary = (kept(stationary), False)
    _multiply(ctx, op.dst, stationary, moving, op.perfMode in DOUBLE_ROW)


@impl(LoadStationary)
def load_stationary(ctx: Core, op: LoadStationary) -> None:
    """Load the PE array's stationary matrix (with isTranspose: for a transpose, not read)."""
    ctx.stationary = (None, True) if op.isTranspose else (kept(ctx.load(op.src)), False)


@impl(MatMul)
def legacy_matmul(ctx: Core, op: MatMul) -> None:
    """ncMatMul with the stationary matrix the last loadStationary (or ncMatMul) loaded."""
    if ctx.stationary is None:
        ctx.fail("no stationary matrix is loaded; a loadStationary or ncMatMul must come first")
    stationary, transpose = ctx.stationary
    moving = ctx.load(op.moving)
    if transpose:
        ctx.store(op.dst, moving.values.T, None if moving.origin is None else moving.origin.T)
        return
    assert isinstance(stationary, Tile)
    (k, m), (k2, n), dst = (stationary.P, stationary.F), (moving.P, moving.F), ctx.shape(op.dst)
    if k != k2 or dst != (m, n):
        ctx.fail(f"moving [{k2}, {n}] and dst {list(dst)} do not fit the loaded stationary [{k}, {m}] "
                 f"(dst must be [{m}, {n}] and moving have {k} partitions)")
    _multiply(ctx, op.dst, stationary, moving, False)


def _multiply(ctx: Core, dst_ref: object, stationary: Tile, moving: Tile, double_row: bool) -> None:
    """dst += stationaryᵀ · moving in float32."""
    dst = ctx.load(dst_ref)
    st, mv = stationary.num(F32), moving.num(F32)
    st_origin, mv_origin = stationary.origin, moving.origin
    if double_row:  # row (k, t) of the contraction is element t of partition k
        st, mv = _rows_of_two(st), _rows_of_two(mv)
        st_origin = None if st_origin is None else _rows_of_two(st_origin)
        mv_origin = None if mv_origin is None else _rows_of_two(mv_origin)
    product = np.matmul(st.T, mv)
    origin = merge(dst.origin,
                   None if st_origin is None else st_origin.min(axis=0)[:, None],
                   None if mv_origin is None else mv_origin.min(axis=0)[None, :])
    ctx.store(dst_ref, dst.num(F32) + product, origin)

