"""Each implemented operator against a plain numpy computation of its definition."""

import math

import ml_dtypes
import numpy as np
import pytest

from klr.core import (
    AccumCmd,
    ActivationFunc,
    ActivationReduce,
    AffineSelect,
    AffineSelectCmp,
    AluOp,
    APPair,
    BatchNormAggregate,
    BatchNormStats,
    Copy,
    CopyPredicated,
    DataPattern,
    DmaCompute,
    DmaError,
    DmaTranspose,
    Dropout,
    DropoutThresholdType,
    Engine,
    Exponential,
    FindIndex8,
    Iota,
    MatchReplace8,
    MatmulPerfMode,
    Max8,
    MemSet,
    NcActivate,
    NcAffineSelect,
    NcCopy,
    NcLocalGather,
    NcMatMul,
    NcNGather,
    NcRangeSelect,
    NcScalarTensorTensor,
    Reciprocal,
    RegisterMove,
    ScalarTensorTensor,
    SelectReduce,
    Shuffle,
    TensorPartitionReduce,
    TensorReduce,
    TensorScalar,
    TensorScalarCumulative,
    TensorScalarReduce,
    TensorScalarReverseOps,
    TensorSubDim,
    TensorTensor,
    TensorTensorScan,
    Transpose,
    TransposeOps,
)
from klr.dtypes import Dtype
from klr.errors import EvalError
from tests.interp.builder import ap, arg, dma, fimm, full, hbm, iimm, run_ops

RNG = np.random.default_rng(7)
U = Engine.unassigned


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def out1(name: str, dims: tuple[int, ...], dtype: Dtype = Dtype.float32):
    return hbm(name, dims, dtype)


def result(ins, outs, ops, **kw):
    r = run_ops(ins, outs, ops, **kw)
    assert r.warnings == []
    return r.outputs


# --- copies and fills --------------------------------------------------------------------------


def test_dma_copy_converts_and_accumulates():
    x = rand(4, 6)
    o = out1("o", (4, 6), Dtype.bfloat16)
    got = result({"x": x}, [o], [dma(o, arg("x", x)), dma(o, arg("x", x), add=True)])["o"]
    once = x.astype(ml_dtypes.bfloat16).astype(np.float32)
    expect = (once + x).astype(ml_dtypes.bfloat16)
    assert got.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(got, expect)


def test_dma_copy_moves_elements_between_shapes():
    x = rand(4, 6)
    o = out1("o", (8, 3))
    got = result({"x": x}, [o], [dma(o, arg("x", x))])["o"]
    np.testing.assert_array_equal(got, x.reshape(8, 3))


def test_copy_keeps_integer_bits_exactly():
    x = np.array([[2**62 + 1, -5], [7, 2**40 + 3]], np.int64)
    o = out1("o", (2, 2), Dtype.int64)
    got = result({"x": x}, [o], [NcCopy(full(o), full(arg("x", x)), None, U)])["o"]
    np.testing.assert_array_equal(got, x)


def test_copy_float_to_int_rounds_half_to_even_and_saturates():
    x = np.array([[0.5, 1.5, 2.5, -0.5], [300.0, -300.0, np.nan, 126.6]], np.float32)
    o = out1("o", (2, 4), Dtype.int8)
    got = result({"x": x}, [o], [Copy(full(o), full(arg("x", x)), None)])["o"]
    np.testing.assert_array_equal(got, [[0, 2, 2, 0], [127, -128, 0, 127]])


def test_memset_fills_every_element():
    o = out1("o", (3, 5), Dtype.int32)
    got = result({}, [o], [MemSet(full(o), iimm(-7), Dtype.int32, U)])["o"]
    np.testing.assert_array_equal(got, np.full((3, 5), -7))


def test_copy_predicated_keeps_dst_where_predicate_is_zero():
    x, y = rand(4, 8), rand(4, 8)
    pred = (RNG.random((4, 8)) < 0.5).astype(np.uint8)
    o = out1("o", (4, 8))
    for reverse in (False, True):
        got = result({"x": x, "y": y, "p": pred}, [o], [
            dma(o, arg("y", y)),
            CopyPredicated(full(o), full(arg("x", x)), full(arg("p", pred)), None, reverse)])["o"]
        take = (pred != 0) != reverse
        np.testing.assert_array_equal(got, np.where(take, x, y))


# --- generated values --------------------------------------------------------------------------


def test_iota_generates_the_affine_pattern():
    o = out1("o", (4, 6), Dtype.int32)
    pattern = DataPattern(5, (APPair(10, 2, 0), APPair(-1, 3, 0)), 100)
    got = result({}, [o], [Iota(full(o), pattern, Dtype.int32)])["o"]
    p = np.arange(4)[:, None, None]
    i = np.arange(2)[None, :, None]
    j = np.arange(3)[None, None, :]
    np.testing.assert_array_equal(got, (5 + 100 * p + 10 * i - j).reshape(4, 6))


def test_affine_select_builds_the_identity_like_the_pe_transpose_does():
    n = 8
    ident = hbm("ident", (n, n))
    pattern = DataPattern(0, (APPair(0, 1, 0), APPair(0, 1, 0), APPair(0, 1, 0), APPair(1, n, 0)), -1)
    got = result({}, [ident], [
        MemSet(ident, fimm(0.0), Dtype.float32, U),
        NcAffineSelect(ident, pattern, ident, fimm(1.0), Dtype.float32, AluOp.not_equal)])["ident"]
    np.testing.assert_array_equal(got, np.eye(n, dtype=np.float32))


def test_legacy_affine_select_fills_from_a_register():
    x = rand(4, 4)
    o = out1("o", (4, 4))
    pattern = DataPattern(0, (APPair(1, 4, 0),), -1)  # column - row
    got = result({"x": x}, [o], [
        RegisterMove("5", -9),
        AffineSelect(full(o), full(arg("x", x)), AffineSelectCmp.GreaterThanEq, 5, pattern)])["o"]
    np.testing.assert_array_equal(got, np.where(np.triu(np.ones((4, 4), bool)), x, -9))


# --- element-wise ------------------------------------------------------------------------------


def test_tensor_tensor_matches_numpy_and_writes_bf16_rounded():
    x, y = rand(8, 16), rand(8, 16)
    o = out1("o", (8, 16), Dtype.bfloat16)
    got = result({"x": x, "y": y}, [o], [
        TensorTensor(full(o), full(arg("x", x)), full(arg("y", y)), AluOp.mult, Dtype.bfloat16, U)])["o"]
    np.testing.assert_array_equal(got, (x * y).astype(ml_dtypes.bfloat16))


def test_tensor_scalar_with_per_partition_column_and_reverse():
    x = rand(4, 8)
    col = rand(4, 1)
    o = out1("o", (4, 8))
    op = TensorScalar(full(o), full(arg("x", x)), full(arg("c", col)), AluOp.subtract, fimm(2.0),
                      AluOp.divide, TensorScalarReverseOps.both, U, None)
    got = result({"x": x, "c": col}, [o], [op])["o"]
    np.testing.assert_allclose(got, 2.0 / (col - x), rtol=1e-6)


def test_reciprocal():
    x = rand(4, 8)
    o = out1("o", (4, 8))
    got = result({"x": x}, [o], [Reciprocal(full(o), full(arg("x", x)), None)])["o"]
    np.testing.assert_array_equal(got, np.float32(1) / x)


def test_scalar_tensor_tensor():
    x, y = rand(4, 8), rand(4, 8)
    o = out1("o", (4, 8))
    op = NcScalarTensorTensor(full(o), full(arg("x", x)), fimm(3.0), full(arg("y", y)), AluOp.mult,
                              AluOp.subtract, TensorScalarReverseOps.second, None)
    got = result({"x": x, "y": y}, [o], [op])["o"]
    np.testing.assert_allclose(got, y - x * 3, rtol=1e-6)
    legacy = ScalarTensorTensor(full(o), full(arg("x", x)), full(arg("y", y)), AluOp.add, AluOp.max,
                                TensorScalarReverseOps.none, fimm(1.0), AccumCmd.Idle)
    got = result({"x": x, "y": y}, [o], [legacy])["o"]
    np.testing.assert_array_equal(got, np.maximum(x + 1, y))


# --- activation --------------------------------------------------------------------------------


@pytest.mark.parametrize("func, ref", [
    (ActivationFunc.exp, np.exp),
    (ActivationFunc.tanh, np.tanh),
    (ActivationFunc.relu, lambda v: np.maximum(v, 0)),
    (ActivationFunc.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
    (ActivationFunc.gelu, lambda v: 0.5 * v * (1 + np.vectorize(math.erf)(v / math.sqrt(2)))),
    (ActivationFunc.silu, lambda v: v / (1 + np.exp(-v))),
    (ActivationFunc.softplus, lambda v: np.log1p(np.exp(v))),
    (ActivationFunc.erf, np.vectorize(math.erf)),
    (ActivationFunc.square, np.square),
    (ActivationFunc.copy, lambda v: v),
    (ActivationFunc.gelu_apprx_tanh,
     lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))),
])
def test_activation_functions(func, ref):
    x = rand(4, 32)
    scale, bias = rand(4, 1), rand(4, 1)
    o = out1("o", (4, 32))
    op = NcActivate(full(o), full(arg("x", x)), AccumCmd.Idle, func, full(arg("s", scale)),
                    full(arg("b", bias)), None, None, None)
    got = result({"x": x, "s": scale, "b": bias}, [o], [op])["o"]
    np.testing.assert_allclose(got, ref((x * scale + bias).astype(np.float64)), rtol=2e-5, atol=1e-6)


def test_activation_reduce_writes_the_row_reduction():
    x = rand(4, 32)
    o, r = out1("o", (4, 32)), out1("r", (4, 1))
    op = ActivationReduce(full(o), full(arg("x", x)), AccumCmd.ZeroAccumulate, ActivationFunc.exp,
                          fimm(0.5), None, AluOp.add, full(r), Dtype.float32)
    got = result({"x": x}, [o, r], [op])
    np.testing.assert_allclose(got["o"], np.exp(0.5 * x), rtol=1e-6)
    np.testing.assert_allclose(got["r"], np.exp(0.5 * x).sum(axis=1, keepdims=True), rtol=1e-5)


def test_accumulate_continues_the_previous_reduction():
    x, y = rand(4, 8), rand(4, 8)
    o, r = out1("o", (4, 8)), out1("r", (4, 1))

    def act(src, cmd):
        return NcActivate(full(o), full(src), cmd, ActivationFunc.copy, fimm(1.0), None,
                          AluOp.max, full(r), None)

    got = result({"x": x, "y": y}, [o, r], [act(arg("x", x), AccumCmd.ZeroAccumulate),
                                            act(arg("y", y), AccumCmd.Accumulate)])
    np.testing.assert_array_equal(got["r"], np.maximum(x.max(1), y.max(1))[:, None])


def test_exponential_subtracts_the_max_and_sums():
    x, m = rand(4, 16), rand(4, 1)
    o, r = out1("o", (4, 16)), out1("r", (4, 1))
    op = Exponential(full(o), full(arg("x", x)), full(arg("m", m)), full(r), AccumCmd.LoadAccumulate,
                     fimm(2.0))
    got = result({"x": x, "m": m}, [o, r], [op])
    np.testing.assert_allclose(got["o"], np.exp(x - m), rtol=1e-6)
    np.testing.assert_allclose(got["r"], 2.0 + np.exp(x - m).sum(1, keepdims=True), rtol=1e-5)


# --- reductions --------------------------------------------------------------------------------


@pytest.mark.parametrize("op, ref", [(AluOp.add, np.sum), (AluOp.max, np.max), (AluOp.min, np.min),
                                     (AluOp.mult, np.prod)])
def test_tensor_reduce_over_innermost_axes(op, ref):
    x = rand(4, 3, 5)
    o = out1("o", (4, 3))
    got = result({"x": x}, [o], [TensorReduce(full(o), full(arg("x", x)), op, TensorSubDim.X, False,
                                              None, False)])["o"]
    np.testing.assert_allclose(got, ref(x, axis=2), rtol=1e-5)
    o2 = out1("o2", (4, 1))
    got = result({"x": x}, [o2], [TensorReduce(full(o2), full(arg("x", x)), op, TensorSubDim.XY,
                                               True, None, True)])["o2"]
    np.testing.assert_allclose(got, -ref(x, axis=(1, 2))[:, None], rtol=1e-5)


def test_tensor_reduce_rejects_more_axes_than_the_view_has():
    x = rand(4, 8)
    o = out1("o", (4, 1))
    with pytest.raises(EvalError, match=r"cannot reduce 2 free axes of src with shape \[4, 8\] "
                                        r"in tensorReduce inst.1"):
        run_ops({"x": x}, [o], [TensorReduce(full(o), full(arg("x", x)), AluOp.add, TensorSubDim.XY,
                                             False, None, False)])


def test_tensor_partition_reduce():
    x = rand(6, 5)
    o = out1("o", (1, 5))
    got = result({"x": x}, [o], [TensorPartitionReduce(full(o), AluOp.add, full(arg("x", x)), None)])
    np.testing.assert_allclose(got["o"], x.sum(0, keepdims=True), rtol=1e-5)


def test_tensor_scalar_reduce():
    x = rand(4, 8)
    o, r = out1("o", (4, 8)), out1("r", (4, 1))
    op = TensorScalarReduce(full(o), full(arg("x", x)), fimm(1.5), AluOp.mult, False, None,
                            AluOp.min, full(r), AccumCmd.ZeroAccumulate, None)
    got = result({"x": x}, [o, r], [op])
    np.testing.assert_array_equal(got["o"], x * np.float32(1.5))
    np.testing.assert_array_equal(got["r"], (x * np.float32(1.5)).min(1, keepdims=True))


def test_select_reduce():
    x = rand(4, 8)
    pred = (RNG.random((4, 8)) < 0.5).astype(np.uint8)
    o, r = out1("o", (4, 8)), out1("r", (4, 1))
    op = SelectReduce(full(o), full(arg("p", pred)), full(arg("x", x)), fimm(-5.0), full(r),
                      AccumCmd.Idle, AluOp.max, True, None)
    got = result({"x": x, "p": pred}, [o, r], [op])
    expect = np.where(pred == 0, x, -5.0)
    np.testing.assert_array_equal(got["o"], expect)
    np.testing.assert_array_equal(got["r"], expect.max(1, keepdims=True))


def test_range_select_keeps_indices_inside_the_bounds():
    x = rand(4, 10)
    lo = np.array([[0], [2], [5], [9]], np.float32)
    hi = np.array([[3], [6], [5], [20]], np.float32)
    o, r = out1("o", (4, 10)), out1("r", (4, 1))
    op = NcRangeSelect(full(o), AccumCmd.Idle, full(r), AluOp.max, AluOp.is_ge, AluOp.is_lt,
                       full(arg("lo", lo)), full(arg("hi", hi)), fimm(1.0), full(arg("x", x)),
                       fimm(-1e30), None)
    got = result({"x": x, "lo": lo, "hi": hi}, [o, r], [op])
    idx = np.arange(10)[None, :] + 1.0
    keep = (idx >= lo) & (idx < hi)
    expect = np.where(keep, x, np.float32(-1e30))
    np.testing.assert_array_equal(got["o"], expect)
    np.testing.assert_array_equal(got["r"], expect.max(1, keepdims=True))


# --- scans -------------------------------------------------------------------------------------


def test_tensor_tensor_scan_is_a_recurrence():
    a, b = rand(4, 12), rand(4, 12)
    init = rand(4, 1)
    o = out1("o", (4, 12))
    op = TensorTensorScan(full(o), full(arg("a", a)), full(arg("b", b)), AluOp.mult, AluOp.add,
                          TensorScalarReverseOps.none, full(arg("i", init)), AccumCmd.Idle, None)
    got = result({"a": a, "b": b, "i": init}, [o], [op])["o"]
    expect = np.empty_like(a)
    state = init[:, 0]
    for j in range(12):
        state = a[:, j] * state + b[:, j]
        expect[:, j] = state
    np.testing.assert_allclose(got, expect, rtol=1e-5)


def test_tensor_scalar_cumulative_sum():
    x = rand(4, 9)
    o = out1("o", (4, 9))
    op = TensorScalarCumulative(full(o), full(arg("x", x)), AluOp.mult, AluOp.add, fimm(2.0), None,
                                AccumCmd.ZeroAccumulate, TensorScalarReverseOps.none, None)
    got = result({"x": x}, [o], [op])["o"]
    np.testing.assert_allclose(got, np.cumsum(2 * x, axis=1), rtol=1e-5)


def test_tensor_scalar_cumulative_loads_its_start_from_imm1():
    x = rand(4, 9)
    o = out1("o", (4, 9))
    op = TensorScalarCumulative(full(o), full(arg("x", x)), AluOp.add, AluOp.max, fimm(0.0),
                                fimm(0.5), AccumCmd.LoadAccumulate, TensorScalarReverseOps.none, None)
    got = result({"x": x}, [o], [op])["o"]
    np.testing.assert_array_equal(got, np.maximum.accumulate(np.maximum(x, 0.5), axis=1))


# --- matmul and transposes ---------------------------------------------------------------------


def test_matmul_accumulates_stationary_transposed_times_moving_in_fp32():
    s = rand(16, 8).astype(ml_dtypes.bfloat16)
    m = rand(16, 12).astype(ml_dtypes.bfloat16)
    acc = hbm("acc", (8, 12))
    op = NcMatMul(full(acc), full(arg("s", s)), full(arg("m", m)), False, False, False, (), (),
                  MatmulPerfMode.None_)
    got = result({"s": s, "m": m}, [acc], [MemSet(full(acc), fimm(0.0), Dtype.float32, U), op, op])
    product = s.astype(np.float32).T @ m.astype(np.float32)
    np.testing.assert_allclose(got["acc"], 2 * product, rtol=1e-5, atol=1e-5)


def test_matmul_transpose_mode_transposes_moving_exactly():
    m = rand(16, 12).astype(ml_dtypes.bfloat16)
    ident = hbm("ident", (16, 16), Dtype.bfloat16)
    dst = hbm("dst", (12, 16), Dtype.bfloat16)
    op = NcMatMul(full(dst), full(ident), full(arg("m", m)), True, False, True, (), (),
                  MatmulPerfMode.None_)
    got = result({"m": m}, [dst], [op])["dst"]
    np.testing.assert_array_equal(got, m.T)


def test_matmul_rejects_mismatched_contraction():
    s, m = rand(16, 8), rand(8, 12)
    acc = hbm("acc", (8, 12))
    op = NcMatMul(full(acc), full(arg("s", s)), full(arg("m", m)), False, False, False, (), (),
                  MatmulPerfMode.None_)
    with pytest.raises(EvalError, match="stationary has 16 partitions but moving has 8"):
        run_ops({"s": s, "m": m}, [acc], [op])


def test_vector_transpose():
    x = rand(8, 5)
    o = out1("o", (5, 8))
    got = result({"x": x}, [o], [Transpose(full(o), full(arg("x", x)), None, U)])["o"]
    np.testing.assert_array_equal(got, x.T)


def test_dma_transpose_permutes_four_axes():
    x = rand(2, 3, 4, 5)
    o = out1("o", (5, 4, 3, 2))
    op = DmaTranspose(full(o), full(arg("x", x)), TransposeOps.XYZW, None, 0, DmaError(), None)
    got = result({"x": x}, [o], [op])["o"]
    np.testing.assert_array_equal(got, x.transpose(3, 2, 1, 0))


@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 4), (5,)])
def test_dma_transpose_reverses_the_axes_of_other_ranks(shape: tuple[int, ...]):
    x = rand(*shape)
    o = out1("o", x.T.shape if len(shape) > 1 else (1, 5))
    op = DmaTranspose(full(o), full(arg("x", x)), TransposeOps.None_, None, 0, DmaError(), None)
    got = result({"x": x}, [o], [op])["o"]
    np.testing.assert_array_equal(got.reshape(-1), x.T.reshape(-1))


# --- statistics and search ---------------------------------------------------------------------


def test_bn_stats_then_bn_aggr_give_mean_and_variance():
    x = rand(4, 64)
    stats, o = hbm("stats", (4, 12)), out1("o", (4, 2))
    ops = [BatchNormStats(ap(stats, 0, (12, 4), (1, 6)), ap(arg("x", x), 0, (64, 4), (1, 32)), None),
           BatchNormStats(ap(stats, 6, (12, 4), (1, 6)), ap(arg("x", x), 32, (64, 4), (1, 32)), None),
           BatchNormAggregate(full(o), full(stats), None)]
    got = result({"x": x}, [o], ops)["o"]
    np.testing.assert_allclose(got[:, 0], x.mean(1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], x.var(1), rtol=1e-4)


def test_max8_find_index8_and_match_replace8():
    x = np.stack([RNG.permutation(32) for _ in range(4)]).astype(np.float32)
    top, idx = hbm("top", (4, 8)), out1("idx", (4, 8), Dtype.uint32)
    rep, ridx = out1("rep", (4, 32)), out1("ridx", (4, 8), Dtype.uint32)
    got = result({"x": x}, [top, idx, rep, ridx], [
        Max8(full(top), full(arg("x", x)), None),
        FindIndex8(full(idx), full(arg("x", x)), full(top), None),
        MatchReplace8(full(rep), full(arg("x", x)), full(top), fimm(-1.0), full(ridx), None)])
    expect_top = -np.sort(-x, axis=1)[:, :8]
    np.testing.assert_array_equal(got["top"], expect_top)
    expect_idx = np.argsort(-x, axis=1)[:, :8]
    np.testing.assert_array_equal(got["idx"], expect_idx)
    np.testing.assert_array_equal(got["ridx"], expect_idx)
    expect_rep = x.copy()
    np.put_along_axis(expect_rep, expect_idx, -1.0, axis=1)
    np.testing.assert_array_equal(got["rep"], expect_rep)


# --- gathers, shuffles, DMA compute ------------------------------------------------------------


def test_n_gather_takes_along_the_free_axis():
    x = rand(4, 10)
    index = RNG.integers(0, 10, (4, 6)).astype(np.uint32)
    o = out1("o", (4, 6))
    got = result({"x": x, "i": index}, [o], [
        NcNGather(full(o), full(arg("x", x)), full(arg("i", index)), None)])["o"]
    np.testing.assert_array_equal(got, np.take_along_axis(x, index.astype(np.int64), 1))


def test_n_gather_index_out_of_range_is_an_error():
    x = rand(4, 10)
    index = np.full((4, 2), 10, np.uint32)
    o = out1("o", (4, 2))
    with pytest.raises(EvalError, match=r"index 10 is outside the 10 elements of a partition "
                                        r"in ncNGather inst\.1"):
        run_ops({"x": x, "i": index}, [o], [NcNGather(full(o), full(arg("x", x)),
                                                      full(arg("i", index)), None)])


def test_local_gather_reads_indices_partition_first_within_16_partition_groups():
    src = rand(32, 20)
    index = RNG.integers(0, 18, (32, 2)).astype(np.uint16)
    o = out1("o", (32, 30))
    op = NcLocalGather(full(o), full(arg("s", src)), full(arg("i", index)), iimm(3), iimm(10))
    got = result({"s": src, "i": index}, [o], [op])["o"]
    expect = np.empty((32, 30), np.float32)
    for g in range(2):
        order = index[16 * g:16 * g + 16].T.reshape(-1)[:10].astype(np.int64)
        cols = (order[:, None] + np.arange(3)).reshape(-1)
        expect[16 * g:16 * g + 16] = src[16 * g:16 * g + 16][:, cols]
    np.testing.assert_array_equal(got, expect)


def test_shuffle_permutes_partitions_within_each_quadrant():
    x = rand(64, 3)
    mask = [31 - i for i in range(32)]
    mask[5] = 255
    o = out1("o", (64, 3))
    got = result({"x": x}, [o], [MemSet(full(o), fimm(9.0), Dtype.float32, U),
                                 Shuffle(full(o), full(arg("x", x)), tuple(iimm(m) for m in mask), None)])
    expect = np.full((64, 3), 9.0, np.float32)
    for q in range(2):
        for i, m in enumerate(mask):
            if m != 255:
                expect[32 * q + i] = x[32 * q + m]
    np.testing.assert_array_equal(got["o"], expect)


def test_dma_compute_scales_and_reduces_sources():
    x, y = rand(4, 8), rand(4, 8)
    o = out1("o", (4, 8))
    op = DmaCompute(full(o), (full(arg("x", x)), full(arg("y", y))), (fimm(2.0), fimm(-1.0)), AluOp.add)
    got = result({"x": x, "y": y}, [o], [op])["o"]
    np.testing.assert_allclose(got, 2 * x - y, rtol=1e-6)


# --- random ------------------------------------------------------------------------------------


def test_dropout_is_seeded_and_keeps_at_the_keep_rate():
    x = np.ones((64, 256), np.float32)
    o = out1("o", (64, 256))
    op = Dropout(full(o), full(arg("x", x)), DropoutThresholdType.KeepRate, fimm(0.25), None)
    first = result({"x": x}, [o], [op], random_seed=3)["o"]
    again = result({"x": x}, [o], [op], random_seed=3)["o"]
    other = result({"x": x}, [o], [op], random_seed=4)["o"]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert set(np.unique(first)) <= {0.0, 1.0}
    assert abs(first.mean() - 0.25) < 0.02


# --- shape rules -------------------------------------------------------------------------------


def test_shape_rules_name_the_fields():
    x, y = rand(4, 8), rand(4, 4)
    o = out1("o", (4, 8))
    with pytest.raises(EvalError) as info:
        run_ops({"x": x, "y": y}, [o], [TensorTensor(full(o), full(arg("x", x)), full(arg("y", y)),
                                                     AluOp.add, None, U)])
    assert info.value.message == "src1 has shape [4, 4] but dst has [4, 8] in tensorTensor inst.1"
    with pytest.raises(EvalError) as info:
        run_ops({"x": x}, [o], [dma(hbm("z", (2, 8)), arg("x", x))])
    assert info.value.message == "src has 32 elements ([4, 8]) but dst has 16 ([2, 8]) in ncDmaCopy inst.1"


def test_a_per_partition_operand_must_be_a_column():
    x = rand(4, 8)
    o = out1("o", (4, 8))
    op = TensorScalar(full(o), full(arg("x", x)), full(arg("x", x)), AluOp.add, None, None,
                      TensorScalarReverseOps.none, U, None)
    with pytest.raises(EvalError) as info:
        run_ops({"x": x}, [o], [op])
    assert info.value.message == ("imm0 must have one element per partition ([4, 1]) but has shape "
                                  "[4, 8] in tensorScalar inst.1")


def test_allocated_views_are_rejected():
    from klr.core import SbufView, TensorSram

    o = out1("o", (4, 8))
    view = SbufView(TensorSram("t", Dtype.float32, 4, (APPair(1, 8, 0),)))
    with pytest.raises(EvalError, match=r"allocated tensor views .* are not supported"):
        run_ops({}, [o], [NcCopy(full(o), view, None, U)])


# --- legacy forms and random generators --------------------------------------------------------


def test_legacy_activate_accumulates_into_dst():
    from klr.core import Activate

    x = rand(4, 8)
    o = out1("o", (4, 8))
    first = Activate(full(o), full(arg("x", x)), AccumCmd.Idle, ActivationFunc.relu, fimm(2.0),
                     fimm(1.0), fimm(0.0))
    again = Activate(full(o), full(arg("x", x)), AccumCmd.Accumulate, ActivationFunc.relu, fimm(2.0),
                     fimm(1.0), fimm(0.0))
    got = result({"x": x}, [o], [first, again])["o"]
    np.testing.assert_array_equal(got, 2 * np.maximum(2 * x + 1, 0))


def test_legacy_range_select_uses_immediate_bounds():
    from klr.core import RangeSelect

    x = rand(2, 6)
    o = out1("o", (2, 6))
    op = RangeSelect(full(o), full(arg("x", x)), AccumCmd.Idle, AluOp.max, 10.0, -1.0, AluOp.is_gt,
                     AluOp.is_le, fimm(11.0), fimm(14.0))
    got = result({"x": x}, [o], [op])["o"]
    keep = (np.arange(6) + 10 > 11) & (np.arange(6) + 10 <= 14)
    np.testing.assert_array_equal(got, np.where(keep, x, -1.0))


def test_rng_rand2_and_seed_are_reproducible():
    from klr.core import Rand2, Rng, SetRngSeed

    bits, uni = out1("bits", (4, 8), Dtype.uint16), out1("uni", (4, 8))
    seed = np.array([[42]], np.int32)
    ops = [SetRngSeed(full(arg("seed", seed))), Rng(full(bits), U), Rand2(full(uni), fimm(-2.0), fimm(3.0))]
    first = result({"seed": seed}, [bits, uni], ops)
    again = result({"seed": seed}, [bits, uni], ops, random_seed=99)
    np.testing.assert_array_equal(first["bits"], again["bits"])
    np.testing.assert_array_equal(first["uni"], again["uni"])
    assert first["bits"].dtype == np.uint16
    assert (first["uni"] >= -2).all() and (first["uni"] < 3).all()
