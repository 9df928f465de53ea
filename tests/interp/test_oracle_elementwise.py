"""Element-wise operators and copies against the element-by-element model of ``oracle.py``
(docs/semantics.md §1.2-1.4, §3.4, §3.6), over random shapes, access patterns (zero and negative
steps, one or two free pairs) and dtypes, bit for bit.

bf16 and fp8 destinations round the float32 result once; operands widen exactly. These are
cases where computing in float64 would give another answer."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from klr.core import (
    AccumCmd,
    Activate,
    ActivationFunc,
    ActivationReduce,
    AluOp,
    Copy,
    CopyPredicated,
    DgeComputeOp,
    DmaCompute,
    DmaCopy,
    DmaError,
    Engine,
    ImmFloat,
    ImmInt,
    MemSet,
    NcActivate,
    NcCopy,
    NcDmaCopy,
    NcScalarTensorTensor,
    Reciprocal,
    ScalarTensorTensor,
    TensorScalar,
    TensorScalarReverseOps,
    TensorTensor,
)
from klr.dtypes import Dtype
from tests.interp import oracle as o

U = Engine.unassigned
ARITH = [AluOp.add, AluOp.subtract, AluOp.mult, AluOp.divide, AluOp.max, AluOp.min, AluOp.pow,
         AluOp.mod, AluOp.average, AluOp.abs, AluOp.bypass, AluOp.is_equal, AluOp.not_equal,
         AluOp.is_ge, AluOp.is_gt, AluOp.is_le, AluOp.is_lt, AluOp.logical_and, AluOp.logical_or,
         AluOp.logical_xor, AluOp.rsqrt]
SHIFTS = [AluOp.arith_shift_left, AluOp.arith_shift_right, AluOp.logical_shift_left,
          AluOp.logical_shift_right]
BITWISE = [AluOp.bitwise_and, AluOp.bitwise_or, AluOp.bitwise_xor, AluOp.bitwise_not, *SHIFTS]
SIZES = st.tuples(st.integers(1, 4), st.integers(1, 6))
EXAMPLES = settings(max_examples=25, deadline=None)


@st.composite
def alu_case(draw: Any) -> tuple[AluOp, list[Dtype], bool]:
    """An operator and the dtypes of (src0, src1, dst): all integers for a bitwise operator."""
    if draw(st.booleans()):
        op = draw(st.sampled_from(BITWISE))
        return op, [draw(st.sampled_from(o.INTS)) for _ in range(3)], True
    op = draw(st.sampled_from(ARITH))
    dts = [draw(st.sampled_from(o.FLOATS + o.INTS)) for _ in range(3)]
    return op, dts, all(o.is_int(d) for d in dts)


def shift_safe(op: AluOp, operand: o.Operand) -> o.Operand:
    """Shift amounts must not be negative: use |x| mod 40."""
    if op not in SHIFTS:
        return operand
    return o.Operand(operand.tensor, (np.abs(operand.data.astype(np.int64)) % 40).astype(operand.data.dtype),
                     operand.access)


@settings(max_examples=50, deadline=None)
@given(st.data(), alu_case(), SIZES)
def test_tensor_tensor(data: Any, case: tuple[AluOp, list[Dtype], bool], size: tuple[int, int]) -> None:
    op, (d0, d1, dd), exact = case
    p, f = size
    a = data.draw(o.pattern("a", d0, p, f))
    b = shift_safe(op, data.draw(o.pattern("b", d1, p, f)))
    d = data.draw(o.pattern("d", dd, p, f))
    got = o.run_case([TensorTensor(d.access, a.access, b.access, op, None, U)], [a, b, d], [d.tensor])
    mem = o.memory([a, b, d])
    x, y = mem.read(a.access), mem.read(b.access)
    mem.write(d.access, [[o.alu(op, x[i][j], y[i][j], exact) for j in range(f)] for i in range(p)],
              bits=op in o.BITWISE)
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), st.sampled_from([AluOp.add, AluOp.average, AluOp.divide, AluOp.mult]),
       st.sampled_from([*o.INTS, Dtype.bfloat16, Dtype.float8e4, Dtype.float8e5, Dtype.float16]), SIZES)
def test_float32_results_round_once_into_narrow_destinations(data: Any, op: AluOp, dd: Dtype,
                                                             size: tuple[int, int]) -> None:
    """Float32 results (ties included: x.5 from average) converted to integers (nearest even,
    saturated) and to bf16/fp16/fp8 (one rounding from float32, overflow to inf)."""
    p, f = size
    a = data.draw(o.pattern("a", Dtype.float32, p, f))
    b = data.draw(o.pattern("b", Dtype.float32, p, f))
    scale = data.draw(st.sampled_from([1.0, 1e3, 1e6]))
    a = o.Operand(a.tensor, (np.round(a.data * 2) * scale / 2).astype(np.float32), a.access)
    d = data.draw(o.pattern("d", dd, p, f))
    got = o.run_case([TensorTensor(d.access, a.access, b.access, op, None, U)], [a, b, d], [d.tensor])
    mem = o.memory([a, b, d])
    x, y = mem.read(a.access), mem.read(b.access)
    mem.write(d.access, [[o.alu(op, x[i][j], y[i][j], False) for j in range(f)] for i in range(p)])
    o.same(got["d"], mem.array(d.tensor))


REVERSES = list(TensorScalarReverseOps)


@st.composite
def scalar(draw: Any, name: str, dt: Dtype, p: int, ints: bool) -> tuple[Any, list[Any], list[o.Operand]]:
    """A per-partition scalar operand: an immediate or a [p, 1] tile; its values per partition."""
    kind = draw(st.sampled_from(["imm", "tile"]))
    if kind == "imm":
        if ints:
            v = draw(st.integers(0, 12))
            return ImmInt(v), [v] * p, []
        imm = ImmFloat(draw(st.floats(-8, 8, width=32)))
        return imm, [imm.f] * p, []
    col = draw(o.pattern(name, dt, p, 1, small=ints))
    if ints:
        col = o.Operand(col.tensor, np.abs(col.data.astype(np.int64)).astype(col.data.dtype) % 12, col.access)
    vals = o.memory([col]).read(col.access)
    return col.access, [r[0] for r in vals], [col]


@EXAMPLES
@given(st.data(), SIZES, st.booleans())
def test_tensor_scalar(data: Any, size: tuple[int, int], bitwise: bool) -> None:
    p, f = size
    pool = o.INTS if bitwise else o.FLOATS + o.INTS
    ds, dd = data.draw(st.sampled_from(pool)), data.draw(st.sampled_from(pool))
    ops = BITWISE if bitwise else ARITH
    op0 = data.draw(st.sampled_from(ops))
    op1 = data.draw(st.one_of(st.none(), st.sampled_from(ops)))
    rev = data.draw(st.sampled_from(REVERSES))
    src = data.draw(o.pattern("s", ds, p, f, small=bitwise))
    if bitwise:
        src = o.Operand(src.tensor, np.abs(src.data.astype(np.int64)).astype(src.data.dtype) % 12, src.access)
    i0, v0, extra0 = data.draw(scalar("c0", Dtype.float32 if not bitwise else Dtype.int32, p, bitwise))
    i1, v1, extra1 = (None, [], []) if op1 is None else data.draw(
        scalar("c1", Dtype.float32 if not bitwise else Dtype.int32, p, bitwise))
    d = data.draw(o.pattern("d", dd, p, f))
    operands = [src, *extra0, *extra1, d]
    op = TensorScalar(d.access, src.access, i0, op0, i1, op1, rev, U, None)
    got = o.run_case([op], operands, [d.tensor])
    imms = [i.f for i in (i0, i1) if isinstance(i, ImmFloat)]
    exact = all(o.is_int(t.tensor.dtype) for t in operands) and all(float(v).is_integer() for v in imms)
    first = rev in (TensorScalarReverseOps.first, TensorScalarReverseOps.both)
    second = rev in (TensorScalarReverseOps.second, TensorScalarReverseOps.both)
    mem = o.memory(operands)
    x = mem.read(src.access)

    def one(i: int, j: int) -> o.Number:
        v = o.alu(op0, v0[i], x[i][j], exact) if first else o.alu(op0, x[i][j], v0[i], exact)
        if op1 is not None:
            v = o.alu(op1, v1[i], v, exact) if second else o.alu(op1, v, v1[i], exact)
        return v
    mem.write(d.access, [[one(i, j) for j in range(f)] for i in range(p)], bits=bitwise)
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), SIZES)
def test_scalar_tensor_tensor_both_forms(data: Any, size: tuple[int, int]) -> None:
    p, f = size
    dts = [data.draw(st.sampled_from(o.FLOATS)) for _ in range(3)]
    op0, op1 = data.draw(st.sampled_from(ARITH)), data.draw(st.sampled_from(ARITH))
    rev = data.draw(st.sampled_from(REVERSES))
    a = data.draw(o.pattern("a", dts[0], p, f))
    b = data.draw(o.pattern("b", dts[1], p, f))
    d = data.draw(o.pattern("d", dts[2], p, f))
    imm = ImmFloat(data.draw(st.floats(-4, 4, width=32)))
    first = rev in (TensorScalarReverseOps.first, TensorScalarReverseOps.both)
    second = rev in (TensorScalarReverseOps.second, TensorScalarReverseOps.both)
    for op in (NcScalarTensorTensor(d.access, a.access, imm, b.access, op0, op1, rev, None),
               ScalarTensorTensor(d.access, a.access, b.access, op0, op1, rev, imm, AccumCmd.Idle)):
        got = o.run_case([op], [a, b, d], [d.tensor])
        mem = o.memory([a, b, d])
        x, y = mem.read(a.access), mem.read(b.access)

        def one(u: o.Number, v: o.Number) -> o.Number:
            t = o.alu(op0, imm.f, u, False) if first else o.alu(op0, u, imm.f, False)
            return o.alu(op1, v, t, False) if second else o.alu(op1, t, v, False)
        mem.write(d.access, [[one(x[i][j], y[i][j]) for j in range(f)] for i in range(p)])
        o.same(got["d"], mem.array(d.tensor))


EXACT_FUNCS = {ActivationFunc.copy: lambda x: x, ActivationFunc.relu: lambda x: max(x, 0.0),
               ActivationFunc.square: lambda x: float(np.float32(x) * np.float32(x)),
               ActivationFunc.abs: abs, ActivationFunc.sign: lambda x: float(np.sign(x))}


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from(sorted(EXACT_FUNCS, key=lambda f: f.name)), st.booleans())
def test_activation_with_scale_bias_and_reduction(data: Any, size: tuple[int, int],
                                                  func: ActivationFunc, reduce_form: bool) -> None:
    """y = f(src*scale + bias) in float32 per element; ZeroAccumulate takes the row's max into
    reduceRes (ncActivate, or activationReduce)."""
    p, f = size
    ds, dd = data.draw(st.sampled_from(o.FLOATS)), data.draw(st.sampled_from(o.FLOATS))
    src = data.draw(o.pattern("s", ds, p, f))
    bias = data.draw(o.pattern("b", Dtype.float32, p, 1))
    d = data.draw(o.pattern("d", dd, p, f))
    res = data.draw(o.pattern("r", Dtype.float32, p, 1, steps=False))
    scale = ImmFloat(data.draw(st.floats(-3, 3, width=32)))
    form = ActivationReduce if reduce_form else NcActivate
    op = form(d.access, src.access, AccumCmd.ZeroAccumulate, func, scale, bias.access, AluOp.max, res.access,
              None)
    got = o.run_case([op], [src, bias, d, res], [d.tensor, res.tensor])
    mem = o.memory([src, bias, d, res])
    x, c = mem.read(src.access), mem.read(bias.access)
    y = [[EXACT_FUNCS[func](o.alu(AluOp.add, o.alu(AluOp.mult, x[i][j], scale.f, False), c[i][0], False))
          for j in range(f)] for i in range(p)]
    mem.write(d.access, y)
    mem.write(res.access, [[max(row)] for row in y])
    o.same(got["d"], mem.array(d.tensor))
    o.same(got["r"], mem.array(res.tensor))


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from(list(AccumCmd)))
def test_legacy_activate_adds_into_dst_when_accumulating(data: Any, size: tuple[int, int],
                                                        cmd: AccumCmd) -> None:
    p, f = size
    src = data.draw(o.pattern("s", data.draw(st.sampled_from(o.FLOATS)), p, f))
    d = data.draw(o.pattern("d", data.draw(st.sampled_from(o.FLOATS)), p, f, steps=False))
    scale, bias = (ImmFloat(data.draw(st.floats(-2, 2, width=32))) for _ in range(2))
    op = Activate(d.access, src.access, cmd, ActivationFunc.relu, scale, bias, ImmFloat(0.0))
    got = o.run_case([op], [src, d], [d.tensor])
    mem = o.memory([src, d])
    x, old = mem.read(src.access), mem.read(d.access)
    add = cmd in (AccumCmd.Accumulate, AccumCmd.LoadAccumulate)
    y = [[max(o.alu(AluOp.add, o.alu(AluOp.mult, x[i][j], scale.f, False), bias.f, False), 0.0)
          for j in range(f)] for i in range(p)]
    mem.write(d.access, [[o.alu(AluOp.add, old[i][j], y[i][j], False) if add else y[i][j]
                          for j in range(f)] for i in range(p)])
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), SIZES)
def test_reciprocal(data: Any, size: tuple[int, int]) -> None:
    p, f = size
    src = data.draw(o.pattern("s", data.draw(st.sampled_from(o.FLOATS + o.INTS)), p, f))
    d = data.draw(o.pattern("d", data.draw(st.sampled_from(o.FLOATS + o.INTS)), p, f))
    got = o.run_case([Reciprocal(d.access, src.access, None)], [src, d], [d.tensor])
    mem = o.memory([src, d])
    x = mem.read(src.access)
    mem.write(d.access, [[o.alu(AluOp.divide, 1.0, float(np.float32(v)), False) for v in row] for row in x])
    o.same(got["d"], mem.array(d.tensor))


# --- copies ----------------------------------------------------------------------------------


@EXAMPLES
@given(st.data(), SIZES, st.sampled_from(["ncCopy", "copy", "ncDmaCopy", "dmaCopy", "add"]))
def test_copies_convert_or_keep_bits(data: Any, size: tuple[int, int], kind: str) -> None:
    p, f = size
    ds, dd = data.draw(st.sampled_from(o.FLOATS + o.INTS)), data.draw(st.sampled_from(o.FLOATS + o.INTS))
    src = data.draw(o.pattern("s", ds, p, f))
    d = data.draw(o.pattern("d", dd, p, f))
    dst, s, none = d.access, src.access, DgeComputeOp.none
    op = {"ncCopy": lambda: NcCopy(dst, s, None, U), "copy": lambda: Copy(dst, s, None),
          "ncDmaCopy": lambda: NcDmaCopy(dst, s, none, DmaError(), 0, False, None, U),
          "dmaCopy": lambda: DmaCopy(dst, s, none, DmaError(), DmaError()),
          "add": lambda: NcDmaCopy(dst, s, DgeComputeOp.add, DmaError(), 0, False, None, U)}[kind]()
    got = o.run_case([op], [src, d], [d.tensor])
    mem = o.memory([src, d])
    x, old = mem.read(src.access), mem.read(d.access)
    exact = o.is_int(ds) and o.is_int(dd)
    if kind == "add":
        mem.write(d.access, [[o.alu(AluOp.add, old[i][j], x[i][j], exact) for j in range(f)]
                             for i in range(p)])
    elif ds == dd:  # the same dtype: bits
        sidx, _ = o.indices(src.access)
        didx, _ = o.indices(d.access)
        for si, di in zip(sidx, didx, strict=True):
            mem.data["d"][di] = mem.data["s"][si]
    else:
        mem.write(d.access, x)
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), SIZES, st.booleans())
def test_copy_predicated(data: Any, size: tuple[int, int], reverse: bool) -> None:
    p, f = size
    dt = data.draw(st.sampled_from(o.FLOATS + o.INTS))
    src = data.draw(o.pattern("s", dt, p, f))
    pdt = data.draw(st.sampled_from([Dtype.uint8, Dtype.int16, Dtype.float32]))
    pred = data.draw(o.pattern("q", pdt, p, f, small=True))
    d = data.draw(o.pattern("d", dt, p, f))
    got = o.run_case([CopyPredicated(d.access, src.access, pred.access, None, reverse)], [src, pred, d],
                     [d.tensor])
    mem = o.memory([src, pred, d])
    x, q, old = mem.read(src.access), mem.read(pred.access), mem.read(d.access)
    mem.write(d.access, [[x[i][j] if (q[i][j] != 0) != reverse else old[i][j] for j in range(f)]
                         for i in range(p)])
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), SIZES)
def test_memset(data: Any, size: tuple[int, int]) -> None:
    p, f = size
    dt = data.draw(st.sampled_from(o.FLOATS + o.INTS))
    d = data.draw(o.pattern("d", dt, p, f))
    imm = data.draw(st.one_of(st.builds(ImmInt, st.integers(-300, 300)),
                              st.builds(ImmFloat, st.floats(-1e5, 1e5, width=32))))
    got = o.run_case([MemSet(d.access, imm, dt, U)], [d], [d.tensor])
    mem = o.memory([d])
    v = imm.i if isinstance(imm, ImmInt) else imm.f
    mem.write(d.access, [[v] * f for _ in range(p)])
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), SIZES, st.integers(1, 3))
def test_dma_compute(data: Any, size: tuple[int, int], n: int) -> None:
    p, f = size
    srcs = [data.draw(o.pattern(f"s{i}", data.draw(st.sampled_from(o.FLOATS)), p, f)) for i in range(n)]
    scales = [ImmFloat(data.draw(st.floats(-2, 2, width=32))) for _ in range(n)]
    d = data.draw(o.pattern("d", data.draw(st.sampled_from(o.FLOATS)), p, f))
    op = DmaCompute(d.access, tuple(s.access for s in srcs), tuple(scales), AluOp.add)
    got = o.run_case([op], [*srcs, d], [d.tensor])
    mem = o.memory([*srcs, d])
    vals = [mem.read(s.access) for s in srcs]

    def one(i: int, j: int) -> o.Number:
        acc = o.alu(AluOp.mult, vals[0][i][j], scales[0].f, False)
        for k in range(1, n):
            acc = o.alu(AluOp.add, acc, o.alu(AluOp.mult, vals[k][i][j], scales[k].f, False), False)
        return acc
    mem.write(d.access, [[one(i, j) for j in range(f)] for i in range(p)])
    o.same(got["d"], mem.array(d.tensor))


# --- dynamic accesses --------------------------------------------------------------------------


@EXAMPLES
@given(st.data(), st.integers(1, 4), st.integers(1, 5), st.integers(2, 6), st.booleans())
def test_dynamic_offsets_and_skipped_elements(data: Any, p: int, f: int, rows: int, skip: bool) -> None:
    """A scalar offset counts rows of the tensor's indirect dimension; a vector offset replaces
    the coordinate of its axis; under skip, pairs with an element outside the tensor are not
    transferred (docs/semantics.md §1.2, §3.4)."""
    from klr.core import APPair, BirAccessPattern, DmaSkip, RegisterMove, ScalarReg
    from klr.core import Memory as Mem
    dt = data.draw(st.sampled_from(o.FLOATS + o.INTS))
    t = o.TensorName.make("x", dt, (rows, f), Mem.hbm)
    x = o.Operand(t, o.data_for(dt, rows * f, data.draw(st.integers(0, 2**31))), t)
    limit = rows + 2 if skip else rows
    start = data.draw(st.integers(0, rows + 1 if skip else rows - 1))
    n1 = p if skip else min(p, rows - start)
    index = [data.draw(st.integers(0, limit - 1)) for _ in range(p)]
    idx_t = o.TensorName.make("i", Dtype.int32, (p, 1), Mem.hbm)
    idx = o.Operand(idx_t, np.array(index, np.int32), idx_t)
    d1 = data.draw(o.pattern("d", dt, n1, f, steps=False))
    d2 = data.draw(o.pattern("e", dt, p, f, steps=False))
    scalar = BirAccessPattern(t, 0, (APPair(f, n1, 0), APPair(1, f, 0)), ScalarReg("r"), None, 0)
    vector = BirAccessPattern(t, 0, (APPair(f, p, 0), APPair(1, f, 0)), None, idx.access, 0)
    mode = DmaSkip() if skip else DmaError()
    ops = [RegisterMove("r", start),
           NcDmaCopy(d1.access, scalar, DgeComputeOp.none, mode, 0, False, None, U),
           NcDmaCopy(d2.access, vector, DgeComputeOp.none, mode, 0, False, None, U)]
    got = o.run_case(ops, [x, idx, d1, d2], [d1.tensor, d2.tensor])
    mem = o.memory([x, idx, d1, d2])
    flat = mem.data["x"]
    for r in range(n1):
        row = start + r
        for j in range(f):
            if row < rows:
                mem.data["d"][r * f + j] = o.convert(o.value(flat[row * f + j]), dt)
    for r, k in enumerate(index):
        for j in range(f):
            if k < rows:
                mem.data["e"][r * f + j] = flat[k * f + j]
    o.same(got["d"], mem.array(d1.tensor))
    o.same(got["e"], mem.array(d2.tensor))
