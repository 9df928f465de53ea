"""Reductions, accumulators, selections, scans and statistics against ``oracle.py``
(docs/semantics.md §3.1, §3.3, §3.6-3.8, §3.10). Sums of floats compare with a tolerance (their
order is unspecified); everything else bit for bit."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from klr.core import (
    AccumCmd,
    Activate2,
    ActivationFunc,
    AluOp,
    BatchNormAggregate,
    BatchNormStats,
    Engine,
    Exponential,
    FindIndex8,
    ImmFloat,
    ImmInt,
    MatchReplace8,
    Max8,
    NcActivate,
    NcRangeSelect,
    NonzeroWithCount,
    RangeSelect,
    SelectReduce,
    SequenceBounds,
    TensorPartitionReduce,
    TensorReduce,
    TensorScalarCumulative,
    TensorScalarReduce,
    TensorScalarReverseOps,
    TensorSubDim,
    TensorTensorScan,
)
from klr.dtypes import Dtype
from tests.interp import oracle as o

EXAMPLES = settings(max_examples=25, deadline=None)
SIZES = st.tuples(st.integers(1, 4), st.integers(1, 6))
EXACT_REDUCE = [AluOp.max, AluOp.min]
FLOAT_REDUCE = [AluOp.add, AluOp.mult, AluOp.subtract, AluOp.average]
INT_REDUCE = [AluOp.bitwise_and, AluOp.bitwise_or, AluOp.bitwise_xor, AluOp.logical_and, AluOp.logical_or,
              AluOp.logical_xor, AluOp.add, AluOp.max]


def fold(op: AluOp, row: list[o.Number], exact: bool) -> o.Number:
    """§3.1's reduction of a row; float sums are done in float64 (compared with a tolerance)."""
    if op in (AluOp.logical_and, AluOp.logical_or, AluOp.logical_xor):  # truth values, 1 or 0
        truth = [v != 0 for v in row]
        got = all(truth) if op is AluOp.logical_and else any(truth) if op is AluOp.logical_or else \
            sum(truth) % 2 == 1
        return int(got) if exact else float(got)
    if op is AluOp.average:
        return sum(row) / len(row)
    if op is AluOp.subtract:
        return row[0] - sum(row[1:])
    if op in (AluOp.add, AluOp.mult) and not exact:
        return float(sum(row) if op is AluOp.add else math.prod(row))
    acc = row[0]
    for v in row[1:]:
        acc = o.alu(op, acc, v, exact)
    return acc


@EXAMPLES
@given(st.data(), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4),
       st.sampled_from([TensorSubDim.X, TensorSubDim.XY]), st.booleans(), st.booleans())
def test_tensor_reduce(data: Any, p: int, a: int, b: int, dim: TensorSubDim, ints: bool,
                       negated: bool) -> None:
    op = data.draw(st.sampled_from(INT_REDUCE if ints else EXACT_REDUCE + FLOAT_REDUCE))
    dt = data.draw(st.sampled_from(o.INTS if ints else o.FLOATS))
    if op in (AluOp.bitwise_and, AluOp.bitwise_or, AluOp.bitwise_xor):
        negated = False
    src = data.draw(o.pattern("s", dt, p, a * b, free=[a, b], small=op is AluOp.mult))
    kept = p * a if dim is TensorSubDim.X else p
    dd = Dtype.int32 if ints else Dtype.float32
    d = data.draw(o.pattern("d", dd, kept, 1, steps=False))
    reduce = TensorReduce(d.access, src.access, op, dim, negated, None, False)
    got = o.run_case([reduce], [src, d], [d.tensor])
    rows = o.memory([src]).read(src.access)
    groups = [row[k * b:(k + 1) * b] for row in rows for k in range(a)] if dim is TensorSubDim.X else rows
    want = [fold(op, g, ints) for g in groups]
    want = [-v if negated else v for v in want]
    mem = o.memory([d])
    if ints or op in EXACT_REDUCE:
        mem.write(d.access, [[v] for v in want], bits=op in o.BITWISE)
        o.same(got["d"], mem.array(d.tensor))
    else:
        o.close(got["d"], want, b * (a if dim is TensorSubDim.XY else 1))


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from([AluOp.add, AluOp.max, AluOp.bitwise_or, AluOp.bitwise_and]))
def test_tensor_partition_reduce(data: Any, size: tuple[int, int], op: AluOp) -> None:
    p, f = size
    ints = op in o.BITWISE
    dt = data.draw(st.sampled_from(o.INTS if ints else o.FLOATS))
    src = data.draw(o.pattern("s", dt, p, f))
    d = data.draw(o.pattern("d", Dtype.int32 if ints else Dtype.float32, 1, f, steps=False))
    got = o.run_case([TensorPartitionReduce(d.access, op, src.access, None)], [src, d], [d.tensor])
    rows = o.memory([src]).read(src.access)
    want = [fold(op, [rows[i][j] for i in range(p)], ints) for j in range(f)]
    if op is AluOp.add:
        o.close(got["d"], want, p)
    else:
        mem = o.memory([d])
        mem.write(d.access, [want], bits=ints)
        o.same(got["d"], mem.array(d.tensor))


# --- accumulators --------------------------------------------------------------------------------


class Accumulators:
    """§3.3's accumulator of one engine, per lane."""

    def __init__(self) -> None:
        self.values: list[float] | None = None
        self.undefined = False

    def apply(self, cmd: AccumCmd, op: AluOp, rows: list[list[float]], engine: Engine,
              init: list[float] | None = None) -> list[float]:
        start: list[float] | None
        match cmd:
            case AccumCmd.Idle:
                if engine is Engine.dve:
                    self.undefined = True
                return [fold(op, r, False) for r in rows]
            case AccumCmd.Zero:
                self.values = [float(o.identity(op, False))] * len(rows)
                self.undefined = False
                return list(self.values)
            case AccumCmd.ZeroAccumulate:
                start = [float(o.identity(op, False))] * len(rows)
            case AccumCmd.Accumulate:
                assert self.values is not None and not self.undefined
                start = self.values
            case AccumCmd.LoadAccumulate:
                assert init is not None
                start = init
        self.values = [fold(op, [s, *r], False) for s, r in zip(start, rows, strict=True)]
        self.undefined = False
        return list(self.values)


@settings(max_examples=15, deadline=None)
@given(st.data(), st.integers(1, 3), st.integers(1, 5), st.sampled_from([AluOp.add, AluOp.max]),
       st.lists(st.sampled_from([AccumCmd.Idle, AccumCmd.Zero, AccumCmd.ZeroAccumulate, AccumCmd.Accumulate]),
                min_size=1, max_size=5))
def test_activation_reduce_commands_follow_the_accumulator_model(data: Any, p: int, f: int, op: AluOp,
                                                                 cmds: list[AccumCmd]) -> None:
    """A sequence of ncActivate commands on the act accumulator, reduceRes after each."""
    srcs = [data.draw(o.pattern(f"s{k}", Dtype.float32, p, f, small=True)) for k in range(len(cmds))]
    res = [data.draw(o.pattern(f"r{k}", Dtype.float32, p, 1, steps=False)) for k in range(len(cmds))]
    d = data.draw(o.pattern("d", Dtype.float32, p, f, steps=False))
    model = Accumulators()
    ops, wants = [], []
    for k, cmd in enumerate(cmds):
        if cmd is AccumCmd.Accumulate and model.values is None:
            cmd = AccumCmd.ZeroAccumulate
        rows = o.memory([srcs[k]]).read(srcs[k].access)
        ops.append(NcActivate(d.access, srcs[k].access, cmd, ActivationFunc.copy, ImmFloat(1.0), None, op,
                              res[k].access, None))
        wants.append(model.apply(cmd, op, rows, Engine.act))
    got = o.run_case(ops, [*srcs, *res, d], [r.tensor for r in res])
    for k, want in enumerate(wants):
        o.close(got[f"r{k}"], [[v] for v in want], f * len(cmds))


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from([AluOp.add, AluOp.mult, AluOp.max, AluOp.min]),
       st.sampled_from([AccumCmd.ZeroAccumulate, AccumCmd.LoadAccumulate]), st.booleans())
def test_tensor_scalar_reduce(data: Any, size: tuple[int, int], rop: AluOp, cmd: AccumCmd,
                              reverse: bool) -> None:
    p, f = size
    op0 = data.draw(st.sampled_from([AluOp.add, AluOp.mult, AluOp.subtract, AluOp.max]))
    src = data.draw(o.pattern("s", data.draw(st.sampled_from(o.FLOATS)), p, f, small=True))
    d = data.draw(o.pattern("d", data.draw(st.sampled_from(o.FLOATS)), p, f))
    res = data.draw(o.pattern("r", Dtype.float32, p, 1, steps=False))
    s = ImmFloat(data.draw(st.floats(-2, 2, width=32)))
    init = ImmFloat(data.draw(st.floats(-2, 2, width=32))) if cmd is AccumCmd.LoadAccumulate else None
    op = TensorScalarReduce(d.access, src.access, s, op0, reverse, None, rop, res.access, cmd, init)
    got = o.run_case([op], [src, d, res], [d.tensor, res.tensor])
    mem = o.memory([src, d, res])
    x = mem.read(src.access)
    y = [[o.alu(op0, s.f, v, False) if reverse else o.alu(op0, v, s.f, False) for v in row] for row in x]
    mem.write(d.access, y)
    o.same(got["d"], mem.array(d.tensor))
    start = [init.f] * p if init is not None else None
    want = Accumulators().apply(cmd, rop, y, Engine.dve, start)
    o.close(got["r"], [[v] for v in want], f)


@EXAMPLES
@given(st.data(), SIZES, st.booleans())
def test_select_reduce(data: Any, size: tuple[int, int], reverse: bool) -> None:
    p, f = size
    pred = data.draw(o.pattern("q", Dtype.uint8, p, f, small=True))
    on_true = data.draw(o.pattern("t", data.draw(st.sampled_from(o.FLOATS)), p, f))
    on_false = data.draw(o.pattern("c", Dtype.float32, p, 1))
    d = data.draw(o.pattern("d", data.draw(st.sampled_from(o.FLOATS)), p, f))
    res = data.draw(o.pattern("r", Dtype.float32, p, 1, steps=False))
    op = SelectReduce(d.access, pred.access, on_true.access, on_false.access, res.access,
                      AccumCmd.ZeroAccumulate, AluOp.max, reverse, None)
    got = o.run_case([op], [pred, on_true, on_false, d, res], [d.tensor, res.tensor])
    mem = o.memory([pred, on_true, on_false, d, res])
    q, t, c = mem.read(pred.access), mem.read(on_true.access), mem.read(on_false.access)
    y = [[t[i][j] if (q[i][j] != 0) != reverse else c[i][0] for j in range(f)] for i in range(p)]
    mem.write(d.access, y)
    mem.write(res.access, [[max(row)] for row in y])
    o.same(got["d"], mem.array(d.tensor))
    o.same(got["r"], mem.array(res.tensor))


CMPS = [AluOp.is_equal, AluOp.is_lt, AluOp.is_le, AluOp.is_gt, AluOp.is_ge]


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from(CMPS), st.sampled_from(CMPS), st.integers(-3, 3))
def test_range_select_both_forms(data: Any, size: tuple[int, int], c0: AluOp, c1: AluOp, start: int) -> None:
    p, f = size
    on_true = data.draw(o.pattern("t", data.draw(st.sampled_from(o.FLOATS)), p, f))
    b0 = data.draw(o.pattern("b0", Dtype.float32, p, 1))
    b1 = data.draw(o.pattern("b1", Dtype.float32, p, 1))
    d = data.draw(o.pattern("d", Dtype.float32, p, f))
    res = data.draw(o.pattern("r", Dtype.float32, p, 1, steps=False))
    fill = ImmFloat(data.draw(st.floats(-100, 100, width=32)))
    mem = o.memory([on_true, b0, b1, d, res])
    t, lo, hi = mem.read(on_true.access), mem.read(b0.access), mem.read(b1.access)

    def keep(i: int, j: int, x: float, y: float) -> bool:
        k = float(np.float32(j + start))
        return bool(o.alu(c0, k, x, False)) and bool(o.alu(c1, k, y, False))
    y = [[t[i][j] if keep(i, j, lo[i][0], hi[i][0]) else fill.f for j in range(f)] for i in range(p)]
    op = NcRangeSelect(d.access, AccumCmd.ZeroAccumulate, res.access, AluOp.max, c0, c1, b0.access, b1.access,
                       ImmInt(start), on_true.access, fill, None)
    got = o.run_case([op], [on_true, b0, b1, d, res], [d.tensor, res.tensor])
    mem.write(d.access, y)
    mem.write(res.access, [[max(row)] for row in y])
    o.same(got["d"], mem.array(d.tensor))
    o.same(got["r"], mem.array(res.tensor))
    # the legacy form: immediate bounds, its reduction only in the accumulator, read by a reduce
    lo0, hi0 = (ImmFloat(data.draw(st.floats(-2, 8, width=32))) for _ in range(2))
    legacy = RangeSelect(d.access, on_true.access, AccumCmd.ZeroAccumulate, AluOp.max, float(start), fill.f,
                         c0, c1, lo0, hi0)
    col = data.draw(o.pattern("z", Dtype.float32, p, 1, steps=False))
    read = TensorScalarReduce(col.access, col.access, ImmFloat(-3e38), AluOp.max, False, None, AluOp.max,
                              res.access, AccumCmd.Accumulate, None)
    got = o.run_case([legacy, read], [on_true, d, res, col], [d.tensor, res.tensor])
    y = [[t[i][j] if keep(i, j, lo0.f, hi0.f) else fill.f for j in range(f)] for i in range(p)]
    mem = o.memory([on_true, d, res, col])
    mem.write(d.access, y)
    z = mem.read(col.access)
    mem.write(res.access, [[max(max(row), max(zz[0], -3e38))] for row, zz in zip(y, z, strict=True)])
    o.same(got["d"], mem.array(d.tensor))
    o.same(got["r"], mem.array(res.tensor))


# --- scans ---------------------------------------------------------------------------------------

SCAN_OPS = [AluOp.add, AluOp.subtract, AluOp.mult, AluOp.max, AluOp.min]
REVERSES = list(TensorScalarReverseOps)


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from(SCAN_OPS), st.sampled_from(SCAN_OPS), st.sampled_from(REVERSES))
def test_tensor_tensor_scan(data: Any, size: tuple[int, int], op0: AluOp, op1: AluOp,
                            rev: TensorScalarReverseOps) -> None:
    p, f = size
    a = data.draw(o.pattern("a", data.draw(st.sampled_from(o.FLOATS)), p, f, small=True))
    b = data.draw(o.pattern("b", data.draw(st.sampled_from(o.FLOATS)), p, f, small=True))
    d = data.draw(o.pattern("d", data.draw(st.sampled_from(o.FLOATS)), p, f))
    init = ImmFloat(data.draw(st.floats(-2, 2, width=32)))
    op = TensorTensorScan(d.access, a.access, b.access, op0, op1, rev, init, AccumCmd.Idle, None)
    got = o.run_case([op], [a, b, d], [d.tensor])
    mem = o.memory([a, b, d])
    x, y = mem.read(a.access), mem.read(b.access)
    first = rev in (TensorScalarReverseOps.first, TensorScalarReverseOps.both)
    second = rev in (TensorScalarReverseOps.second, TensorScalarReverseOps.both)
    out = []
    for i in range(p):
        state: o.Number = init.f
        row = []
        for j in range(f):
            t = o.alu(op0, state, x[i][j], False) if first else o.alu(op0, x[i][j], state, False)
            state = o.alu(op1, y[i][j], t, False) if second else o.alu(op1, t, y[i][j], False)
            row.append(state)
        out.append(row)
    mem.write(d.access, out)
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from(SCAN_OPS), st.sampled_from(SCAN_OPS),
       st.sampled_from([AccumCmd.ZeroAccumulate, AccumCmd.LoadAccumulate, AccumCmd.Accumulate]),
       st.sampled_from(REVERSES))
def test_tensor_scalar_cumulative(data: Any, size: tuple[int, int], op0: AluOp, op1: AluOp, cmd: AccumCmd,
                                  rev: TensorScalarReverseOps) -> None:
    p, f = size
    src = data.draw(o.pattern("s", data.draw(st.sampled_from(o.FLOATS)), p, f, small=True))
    d = data.draw(o.pattern("d", Dtype.float32, p, f))
    imm0, imm1 = (ImmFloat(data.draw(st.floats(-2, 2, width=32))) for _ in range(2))
    ops: list[object] = []
    if cmd is AccumCmd.Accumulate:  # the accumulator a previous cumulative instruction left
        ops.append(TensorScalarCumulative(d.access, src.access, AluOp.add, AluOp.add, ImmFloat(1.0), None,
                                          AccumCmd.ZeroAccumulate, TensorScalarReverseOps.none, None))
    ops.append(TensorScalarCumulative(d.access, src.access, op0, op1, imm0, imm1, cmd, rev, None))
    got = o.run_case(ops, [src, d], [d.tensor])
    x = o.memory([src]).read(src.access)
    first = rev in (TensorScalarReverseOps.first, TensorScalarReverseOps.both)
    second = rev in (TensorScalarReverseOps.second, TensorScalarReverseOps.both)
    out = []
    for i in range(p):
        if cmd is AccumCmd.Accumulate:
            reg: o.Number = 0.0
            for v in x[i]:
                reg = o.alu(AluOp.add, o.alu(AluOp.add, v, 1.0, False), reg, False)
        else:
            reg = imm1.f if cmd is AccumCmd.LoadAccumulate else float(o.identity(op1, False))
        row = []
        for v in x[i]:
            t = o.alu(op0, imm0.f, v, False) if first else o.alu(op0, v, imm0.f, False)
            reg = o.alu(op1, reg, t, False) if second else o.alu(op1, t, reg, False)
            row.append(reg)
        out.append(row)
    mem = o.memory([d])
    mem.write(d.access, out)
    o.same(got["d"], mem.array(d.tensor))


# --- exponential and activate2 -------------------------------------------------------------------


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from([AccumCmd.ZeroAccumulate, AccumCmd.LoadAccumulate]))
def test_exponential(data: Any, size: tuple[int, int], cmd: AccumCmd) -> None:
    p, f = size
    src = data.draw(o.pattern("s", data.draw(st.sampled_from(o.FLOATS)), p, f, small=True))
    top = data.draw(o.pattern("m", Dtype.float32, p, 1, small=True))
    d = data.draw(o.pattern("d", Dtype.float32, p, f))
    res = data.draw(o.pattern("r", Dtype.float32, p, 1, steps=False))
    init = ImmFloat(data.draw(st.floats(-2, 2, width=32)))
    op = Exponential(d.access, src.access, top.access, res.access, cmd,
                     init if cmd is AccumCmd.LoadAccumulate else ImmFloat(0.0))
    got = o.run_case([op], [src, top, d, res], [d.tensor, res.tensor])
    x, m = o.memory([src, top]).read(src.access), o.memory([top]).read(top.access)
    y = [[math.exp(float(np.float32(v - m[i][0]))) for v in row] for i, row in enumerate(x)]
    mem = o.memory([d])
    mem.write(d.access, y)
    o.close(got["d"], mem.array(d.tensor))
    start = init.f if cmd is AccumCmd.LoadAccumulate else 0.0
    o.close(got["r"], [[start + sum(row)] for row in y], f)


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from([(AluOp.mult, AluOp.add), (AluOp.mult, AluOp.subtract),
                                          (AluOp.add, AluOp.bypass), (AluOp.bypass, AluOp.bypass)]),
       st.booleans(), st.booleans())
def test_activate2(data: Any, size: tuple[int, int], ops: tuple[AluOp, AluOp], r0: bool, r1: bool) -> None:
    p, f = size
    op0, op1 = ops
    src = data.draw(o.pattern("s", data.draw(st.sampled_from(o.FLOATS)), p, f))
    d = data.draw(o.pattern("d", data.draw(st.sampled_from(o.FLOATS)), p, f))
    res = data.draw(o.pattern("r", Dtype.float32, p, 1, steps=False))
    i0, i1, slope = (ImmFloat(data.draw(st.floats(-2, 2, width=32))) for _ in range(3))
    rev0, rev1 = r0 and op0 is not AluOp.bypass, r1 and op1 is not AluOp.bypass
    op = Activate2(d.access, src.access, op0, op1, i0, i1, ActivationFunc.relu, slope, AluOp.max, res.access,
                   AccumCmd.ZeroAccumulate, rev0, rev1, None)
    got = o.run_case([op], [src, d, res], [d.tensor, res.tensor])
    x = o.memory([src]).read(src.access)

    def one(v: float) -> float:
        for alu_op, imm, rev in ((op0, i0, op.reverse0), (op1, i1, op.reverse1)):
            if alu_op is not AluOp.bypass:
                v = float(o.alu(alu_op, imm.f, v, False) if rev else o.alu(alu_op, v, imm.f, False))
        return v if v > 0 else float(np.float32(v) * np.float32(slope.f))
    y = [[one(v) for v in row] for row in x]
    mem = o.memory([d, res])
    mem.write(d.access, y)
    mem.write(res.access, [[max(row)] for row in y])
    o.same(got["d"], mem.array(d.tensor))
    o.same(got["r"], mem.array(res.tensor))


# --- statistics, top-8, non-zero, sequence bounds ------------------------------------------------


@EXAMPLES
@given(st.data(), st.integers(1, 4), st.integers(1, 12))
def test_batch_norm_stats_and_aggregate(data: Any, p: int, f: int) -> None:
    src = data.draw(o.pattern("s", data.draw(st.sampled_from(o.FLOATS)), p, f))
    stats = data.draw(o.pattern("t", Dtype.float32, p, 6, steps=False))
    agg = data.draw(o.pattern("a", Dtype.float32, p, 2, steps=False))
    got = o.run_case([BatchNormStats(stats.access, src.access, None),
                      BatchNormAggregate(agg.access, stats.access, None)], [src, stats, agg],
                     [stats.tensor, agg.tensor])
    x = o.memory([src]).read(src.access)
    want_stats, want_agg = [], []
    for row in x:
        halves = [row[0::2], row[1::2]]
        triple = []
        for h in halves:
            n = len(h)
            mean = sum(h) / n if n else 0.0
            triple += [n, mean, sum((v - mean) ** 2 for v in h)]
        want_stats.append(triple)
        n = triple[0] + triple[3]
        mean = (triple[0] * triple[1] + triple[3] * triple[4]) / n
        spread = triple[0] * (triple[1] - mean) ** 2 + triple[3] * (triple[4] - mean) ** 2
        var = (triple[2] + triple[5] + spread) / n
        want_agg.append([mean, var])
    o.close(got["t"], want_stats, f)
    o.close(got["a"], want_agg, f)


@EXAMPLES
@given(st.data(), st.integers(1, 4), st.integers(8, 14))
def test_max8_find_index8_match_replace8(data: Any, p: int, f: int) -> None:
    dt = data.draw(st.sampled_from(o.FLOATS))
    src = data.draw(o.pattern("s", dt, p, f, small=True))
    top = data.draw(o.pattern("m", Dtype.float32, p, 8, steps=False))
    idx = data.draw(o.pattern("i", Dtype.uint32, p, 8, steps=False))
    rep = data.draw(o.pattern("x", dt, p, f))
    ridx = data.draw(o.pattern("j", Dtype.int32, p, 8, steps=False))
    imm = ImmFloat(-7.0)
    ops = [Max8(top.access, src.access, None), FindIndex8(idx.access, src.access, top.access, None),
           MatchReplace8(rep.access, src.access, top.access, imm, ridx.access, None)]
    got = o.run_case(ops, [src, top, idx, rep, ridx], [top.tensor, idx.tensor, rep.tensor, ridx.tensor])
    x = o.memory([src]).read(src.access)
    mem = o.memory([top, idx, rep, ridx])
    tops = [sorted(row, reverse=True)[:8] for row in x]
    mem.write(top.access, tops)
    mem.write(idx.access, [[row.index(v) for v in t] for row, t in zip(x, tops, strict=True)])
    replaced, where = [], []
    for row, t in zip(x, tops, strict=True):
        row = list(row)
        at = []
        for v in t:
            k = row.index(v)
            row[k] = imm.f
            at.append(k)
        replaced.append(row)
        where.append(at)
    mem.write(rep.access, replaced)
    mem.write(ridx.access, where)
    for name, t in (("m", top), ("i", idx), ("x", rep), ("j", ridx)):
        o.same(got[name], mem.array(t.tensor))


@EXAMPLES
@given(st.data(), st.integers(1, 40), st.integers(1, 6), st.integers(-5, 20), st.integers(-3, 3))
def test_nonzero_with_count(data: Any, p: int, t: int, offset: int, pad: int) -> None:
    src = data.draw(o.pattern("s", data.draw(st.sampled_from([Dtype.float32, Dtype.int32])), p, t,
                              steps=False, small=True))
    sparse = (src.data * (np.arange(src.data.size) % 3 == 0)).astype(src.data.dtype)
    src = o.Operand(src.tensor, sparse, src.access)
    d = data.draw(o.pattern("d", Dtype.int32, p, t + 1, steps=False))
    op = NonzeroWithCount(d.access, src.access, ImmInt(offset), ImmInt(pad))
    got = o.run_case([op], [src, d], [d.tensor])
    x = o.memory([src]).read(src.access)
    mem = o.memory([d])
    old = mem.read(d.access)
    rows = []
    for i in range(p):
        if i % 16:
            rows.append(old[i])
            continue
        found = [j + offset for j, v in enumerate(x[i]) if v != 0]
        rows.append(found + [pad] * (t - len(found)) + [len(found)])
    mem.write(d.access, rows)
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.lists(st.integers(0, 3), min_size=1, max_size=10), st.integers(1, 3))
def test_sequence_bounds(ids: list[int], p: int) -> None:
    src = o.Operand(*(lambda t: (t, np.array(ids * p, np.int32), t))(
        o.TensorName.make("s", Dtype.int32, (p, len(ids)), o_mem())))
    n = len(ids)
    d = o.Operand(*(lambda t: (t, np.zeros(p * 2 * n, np.int32), t))(
        o.TensorName.make("d", Dtype.int32, (p, 2, n), o_mem())))
    got = o.run_case([SequenceBounds(d.access, src.access, None)], [src, d], [d.tensor])
    starts, ends = [], []
    for i, v in enumerate(ids):
        if v == 0:
            starts.append(n)
            ends.append(-1)
            continue
        s = i
        while s > 0 and ids[s - 1] == v:
            s -= 1
        e = i + 1
        while e < n and ids[e] == v:
            e += 1
        starts.append(s)
        ends.append(e)
    np.testing.assert_array_equal(got["d"], np.array([[starts, ends]] * p, np.int32))


def o_mem() -> Any:
    from klr.core import Memory
    return Memory.hbm
