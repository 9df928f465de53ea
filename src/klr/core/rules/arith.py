"""Rules of the arithmetic operators (``klr.core.mathops``): element-wise ALU and activation,
reductions and selections, scans.

Element-wise operands match as [partitions, elements per partition]; a per-partition scalar is
an immediate or a [P, 1] tile (see ``klr.core.rules.base``).
"""

from __future__ import annotations

import math

from klr.core.mathops import (
    Activate,
    Activate2,
    ActivationReduce,
    Exponential,
    NcActivate,
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
from klr.core.numerics import BITVEC, COMPARISONS
from klr.core.optypes import AccumCmd, AluOp, Engine
from klr.core.rules.base import (
    FLOATS,
    FP8,
    Arg,
    Check,
    RuleError,
    arithmetic,
    dtype_in,
    integers,
    not_both_in_psum,
    number,
    op_in,
    per_partition,
    rule,
    same_shape,
)
from klr.core.tensor import Memory
from klr.dtypes import Dtype

F32 = (Dtype.float32,)
REDUCIBLE = frozenset({AluOp.add, AluOp.subtract, AluOp.mult, AluOp.max, AluOp.min, AluOp.average,
                       AluOp.bitwise_and, AluOp.bitwise_or, AluOp.bitwise_xor, AluOp.logical_and,
                       AluOp.logical_or, AluOp.logical_xor})
"""Operators that fold a row into one value (the unary ones, comparisons and shifts do not)."""
ACCUMULATING = (AluOp.add, AluOp.subtract, AluOp.mult, AluOp.max, AluOp.min)


def _scalar_f32(*args: Arg | None) -> None:
    """Per-partition scalar tiles of an arithmetic instruction are float32."""
    for a in args:
        dtype_in(a, F32)


# --- element-wise ------------------------------------------------------------------------------


@rule(TensorTensor, engines=(Engine.dve, Engine.pool))
def tensor_tensor(c: Check, op: TensorTensor) -> None:
    """dst, src0 and src1 agree; at most one input in PSUM; pow runs on GpSimd (no PSUM); bitwise
    operators take integers."""
    dst, a, b = c("dst"), c("src0"), c("src1")
    same_shape(dst, a, b)
    if c.hardware:
        not_both_in_psum(a, b)
        if op.op is AluOp.pow:
            for x in (dst, a, b):
                if x.memory is Memory.psum:
                    raise RuleError(f"{x.name} is in PSUM, but pow runs on the pool engine (GpSimd), "
                                    f"which cannot access it")
        if op.op in BITVEC:
            integers(op.op, dst, a, b)


@rule(TensorScalar, engines=(Engine.act, Engine.dve, Engine.pool))
def tensor_scalar(c: Check, op: TensorScalar) -> None:
    """dst is src's shape, imm0 and imm1 per-partition scalars, op1 with imm1; in hardware both
    operators are bitwise (vector engine, integers) or both arithmetic (float32 scalars)."""
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    per_partition(s0 := c.opt("imm0"), src)
    per_partition(s1 := c.opt("imm1"), src)
    if (op.op1 is None) != (op.imm1 is None):
        raise RuleError("op1 and imm1 must be given together")
    if not c.hardware:
        return
    if op.op1 is not None and (op.op0 in BITVEC) != (op.op1 in BITVEC):
        raise RuleError(f"op0 is {op.op0.name} and op1 is {op.op1.name}; both must be bitwise or both "
                        f"arithmetic")
    if op.op0 in BITVEC:
        if op.engine not in (Engine.dve, Engine.unassigned):
            raise RuleError(f"engine is {op.engine.name}, but bitwise operators run on dve")
        integers(op.op0, dst, src)
    else:
        _scalar_f32(s0, s1)


@rule(Reciprocal)
def reciprocal(c: Check, op: Reciprocal) -> None:
    same_shape(c("dst"), c("src"))


@rule(NcScalarTensorTensor)
def nc_scalar_tensor_tensor(c: Check, op: NcScalarTensorTensor) -> None:
    """dst is data's shape, src0 a per-partition scalar, src1 data's shape (or a column); in
    hardware src1 is a whole tile and the operators are arithmetic."""
    dst, data = c("dst"), c("data")
    same_shape(dst, data)
    per_partition(c.opt("src0"), data)
    src1 = c.opt("src1")
    if src1 is not None and src1.pf not in (data.pf, (data.partitions, 1)):
        raise RuleError(f"src1 has shape {src1.text} but data has {data.text}")
    if c.hardware:
        arithmetic("op0", op.op0)
        arithmetic("op1", op.op1)
        if src1 is None or src1.pf != data.pf:
            raise RuleError(f"src1 must be a tile of data's shape {data.text}")
        not_both_in_psum(data, src1)


@rule(ScalarTensorTensor)
def scalar_tensor_tensor(c: Check, op: ScalarTensorTensor) -> None:
    dst, a, b = c("dst"), c("src0"), c("src1")
    same_shape(dst, a, b)
    if c.hardware:
        not_both_in_psum(a, b)


# --- activation --------------------------------------------------------------------------------


@rule(NcActivate, ActivationReduce)
def nc_activate(c: Check, op: NcActivate) -> None:
    """dst is src's shape; scale, bias and reduceRes are per-partition; activationReduce has a
    reduceRes. In hardware a scale tile is float32 and ncActivate reduces with add."""
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    per_partition(scale := c.opt("scale"), src)
    per_partition(bias := c.opt("bias"), src)
    per_partition(c.opt("reduceRes"), src)
    if isinstance(op, ActivationReduce) and op.reduceRes is None:
        raise RuleError("activationReduce needs reduceRes")
    if c.hardware:
        _scalar_f32(scale)
        if bias is not None and bias.dtype is Dtype.float32r:
            raise RuleError("bias has dtype tfloat32, which the activation engine does not read")
        allowed = (AluOp.add, AluOp.max, AluOp.min) if isinstance(op, ActivationReduce) else (AluOp.add,)
        op_in("reduceOp", op.reduceOp, allowed)


@rule(Activate)
def activate(c: Check, op: Activate) -> None:
    same_shape(c("dst"), c("src"))


_ACTIVATE2_OPS = frozenset({(AluOp.mult, AluOp.add), (AluOp.mult, AluOp.subtract),
                            (AluOp.mult, AluOp.bypass), (AluOp.add, AluOp.bypass),
                            (AluOp.subtract, AluOp.bypass), (AluOp.bypass, AluOp.bypass)})


@rule(Activate2)
def activate2(c: Check, op: Activate2) -> None:
    """dst is src's shape, the immediates and reduceRes per-partition; in hardware six (op0, op1)
    pairs exist and a reversed operator must be present."""
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    for field in ("imm0", "imm1", "reluParam", "reduceRes"):
        per_partition(c.opt(field), src)
    if c.hardware:
        if (op.op0, op.op1) not in _ACTIVATE2_OPS:
            raise RuleError(f"op0 {op.op0.name} and op1 {op.op1.name} are not a pair the activation "
                            f"engine runs (mult/add, mult/subtract, or one of mult, add, subtract with "
                            f"bypass)")
        op_in("reduceOp", op.reduceOp, (AluOp.add, AluOp.max, AluOp.min, AluOp.bypass))
        for flag, alu in (("reverse0", op.op0), ("reverse1", op.op1)):
            if getattr(op, flag) and alu is AluOp.bypass:
                raise RuleError(f"{flag} is set but its operator is bypass")


_EXP_DST = FLOATS - {Dtype.float8e3, Dtype.float8_e4m3fn} | {Dtype.int8, Dtype.int16, Dtype.int32,
                                                            Dtype.uint8, Dtype.uint16}
_EXP_SRC = (_EXP_DST - {Dtype.float32r}) | {Dtype.uint32}


@rule(Exponential)
def exponential(c: Check, op: Exponential) -> None:
    """dst is src's shape; maxValue, reduceInit and reduceRes are per-partition. In hardware a
    reduction starts from reduceInit only under LoadAccumulate."""
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    per_partition(top := c.opt("maxValue"), src)
    per_partition(init := c.opt("reduceInit"), src)
    per_partition(res := c.opt("reduceRes"), src)
    if c.hardware:
        if op.reducecmd is AccumCmd.Zero:
            raise RuleError("reducecmd is Zero, which exponential does not take")
        if op.reducecmd is not AccumCmd.LoadAccumulate and (init is not None or number(op.reduceInit)):
            raise RuleError("reduceInit is set but reducecmd is not LoadAccumulate")
        dtype_in(dst, _EXP_DST)
        dtype_in(src, _EXP_SRC)
        _scalar_f32(top, init)
        dtype_in(res, FLOATS - {Dtype.float8e3, Dtype.float8_e4m3fn}, "a float type")


# --- reductions and selections -----------------------------------------------------------------

@rule(TensorReduce)
def tensor_reduce(c: Check, op: TensorReduce) -> None:
    """opDim names at most src's free axes and dst holds what the reduction leaves."""
    src = c("src")
    k = op.opDim.axes
    if k > len(src.shape) - 1:
        raise RuleError(f"cannot reduce {k} free axes of src with shape {src.text}")
    kept = math.prod(src.shape[:len(src.shape) - k])
    if (dst := c("dst")).count != kept:
        raise RuleError(f"dst has {dst.count} elements but reducing {op.opDim.name} of src "
                        f"{src.text} leaves {kept}")
    if c.hardware:
        op_in("op", op.op, REDUCIBLE)
        if op.op in BITVEC:
            integers(op.op, dst, src)
            if op.negated:
                raise RuleError(f"negated is set, but {op.op.name} is a bitwise reduction")


@rule(TensorPartitionReduce)
def tensor_partition_reduce(c: Check, op: TensorPartitionReduce) -> None:
    """dst is one partition of data's free size."""
    data, dst = c("data"), c("dst")
    if dst.pf != (1, data.free):
        raise RuleError(f"dst must be [1, {data.free}] (one partition, the free size of data) but has "
                        f"shape {dst.text}")
    if c.hardware:
        op_in("op", op.op, (AluOp.add, AluOp.average, AluOp.max, AluOp.bitwise_or, AluOp.bitwise_and))


@rule(TensorScalarReduce)
def tensor_scalar_reduce(c: Check, op: TensorScalarReduce) -> None:
    """dst is src's shape, operand0 and reduceRes per-partition; in hardware an arithmetic op0, a
    reduceOp of add, mult, max or min, and reduceInit exactly with LoadAccumulate."""
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    per_partition(s0 := c.opt("operand0"), src)
    per_partition(c.opt("reduceRes"), src)
    if c.hardware:
        arithmetic("op0", op.op0)
        op_in("reduceOp", op.reduceOp, (AluOp.add, AluOp.mult, AluOp.max, AluOp.min))
        if op.reduceCmd not in (AccumCmd.ZeroAccumulate, AccumCmd.Accumulate, AccumCmd.LoadAccumulate):
            raise RuleError(f"reduceCmd is {op.reduceCmd.name}, but it must be ZeroAccumulate, "
                            f"Accumulate or LoadAccumulate")
        if (op.reduceCmd is AccumCmd.LoadAccumulate) != (op.reduceInit is not None):
            raise RuleError("reduceInit is given exactly when reduceCmd is LoadAccumulate")
        _scalar_f32(s0)


@rule(SelectReduce)
def select_reduce(c: Check, op: SelectReduce) -> None:
    """dst, predicate and onTrue agree; onFalse and reduceRes are per-partition. In hardware the
    predicate is a small integer, the reduction a max into a float."""
    dst, predicate, on_true = c("dst"), c("predicate"), c("onTrue")
    same_shape(dst, predicate, on_true)
    per_partition(c.opt("onFalse"), dst)
    per_partition(res := c.opt("reduceRes"), dst)
    if c.hardware:
        not_both_in_psum(on_true, predicate)
        dtype_in(predicate, (Dtype.int8, Dtype.uint8, Dtype.int16, Dtype.uint16))
        if on_true.dtype in (Dtype.float32r, Dtype.int32, Dtype.uint32):
            raise RuleError(f"onTrue has dtype {on_true.dtype.name}, which selectReduce does not read")
        dtype_in(res, FLOATS, "a float type")
        op_in("reduceOp", op.reduceOp, (AluOp.max,))


_RANGE_CMPS = COMPARISONS - {AluOp.not_equal}


@rule(NcRangeSelect)
def nc_range_select(c: Check, op: NcRangeSelect) -> None:
    """dst is onTrueTile's shape; the bounds and reduceRes are per-partition. In hardware the
    comparisons are =, <, <=, >, >= on float32 bounds and the reduction is max."""
    dst, on_true = c("dst"), c("onTrueTile")
    same_shape(dst, on_true)
    b0, b1 = c("bound0"), c("bound1")
    per_partition(b0, dst)
    per_partition(b1, dst)
    per_partition(c.opt("reduceRes"), dst)
    if c.hardware:
        op_in("compOp0", op.compOp0, _RANGE_CMPS)
        op_in("compOp1", op.compOp1, _RANGE_CMPS)
        op_in("reduceOp", op.reduceOp, (AluOp.max,))
        dtype_in(on_true, FLOATS, "a float type")
        _scalar_f32(b0, b1)


@rule(RangeSelect)
def range_select(c: Check, op: RangeSelect) -> None:
    same_shape(c("dst"), c("src"))
    if c.hardware:
        op_in("compOp0", op.compOp0, _RANGE_CMPS)
        op_in("compOp1", op.compOp1, _RANGE_CMPS)


# --- scans -------------------------------------------------------------------------------------


@rule(TensorTensorScan)
def tensor_tensor_scan(c: Check, op: TensorTensorScan) -> None:
    """dst, src0 and src1 agree and imm0 is per-partition; in hardware the operators are
    arithmetic and at most one input is in PSUM."""
    dst, a, b = c("dst"), c("src0"), c("src1")
    same_shape(dst, a, b)
    per_partition(c.opt("imm0"), a)
    if c.hardware:
        not_both_in_psum(a, b)
        arithmetic("op0", op.op0)
        arithmetic("op1", op.op1)


_CUMULATIVE_DTYPES = FP8 | {Dtype.bfloat16, Dtype.float16, Dtype.float32, Dtype.uint8, Dtype.uint16,
                            Dtype.int8, Dtype.int16}


@rule(TensorScalarCumulative)
def tensor_scalar_cumulative(c: Check, op: TensorScalarCumulative) -> None:
    """dst is src's shape, imm0 and imm1 per-partition; in hardware op0 is arithmetic, op1 one of
    add, subtract, mult, max, min, and no 32-bit integers."""
    dst, src = c("dst"), c("src")
    same_shape(dst, src)
    per_partition(s0 := c.opt("imm0"), src)
    per_partition(s1 := c.opt("imm1"), src)
    if c.hardware:
        arithmetic("op0", op.op0)
        op_in("op1", op.op1, ACCUMULATING)
        dtype_in(src, _CUMULATIVE_DTYPES)
        dtype_in(dst, _CUMULATIVE_DTYPES)
        _scalar_f32(s0, s1)

