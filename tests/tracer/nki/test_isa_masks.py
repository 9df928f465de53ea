"""``mask=`` of the legacy ``nisa.*`` builtins: an instruction computes only the elements its
mask selects. Each kernel assigns the masked result into a copy of its input, so the elements
outside the mask keep the input's values (and a strict run proves none of them is read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.tracer.nki.util import line_of, op_names, rand, run_kernel, stmts, trace_error, trace_kernel, where

MASKS = {"rows": "i_p < 3", "triangle": "i_f <= i_p + 2"}


def selected(name: str, shape: tuple[int, int]) -> np.ndarray:
    i_p, i_f = np.indices(shape)
    return i_p < 3 if name == "rows" else i_f <= i_p + 2


def masked_src(expr: str, mask: str) -> str:
    return f"""
    def kernel(x, y):
        i_p, i_f = nl.mgrid[0:4, 0:8]
        c_p, c_f = nl.mgrid[0:4, 0:1]
        t = nl.load(x)
        s = nl.load(y)
        m = ({mask})
        r = {expr}
        u = nl.load(x)
        u[...] = r
        nl.store(x, value=u)
        return x
    """


def ops_named(traced: Any, name: str) -> list[Any]:
    return [s.op for s, n in zip(stmts(traced), op_names(traced), strict=True) if n == name]


def check(tmp_path: Path, expr: str, mask: str, want: np.ndarray, x: np.ndarray, y: np.ndarray,
          op: str) -> None:
    """The result where the mask holds, and the instruction ``op`` itself restricted: to the
    first 3 partitions, or (a non-rectangular mask) computed into scratch and copied through
    a predicate."""
    src = masked_src(expr, MASKS[mask])
    traced = trace_kernel(tmp_path, src, x, y)
    ops = ops_named(traced, op)
    assert ops, op_names(traced)
    if mask == "rows":
        assert {o.dst.shape.dims[0] for o in ops} == {3}
    else:
        assert "copyPredicated" in op_names(traced)
    (out,) = run_kernel(tmp_path, src, x, y)
    np.testing.assert_allclose(out, np.where(selected(mask, x.shape), want, x), rtol=1e-6)


@pytest.mark.parametrize("mask", sorted(MASKS))
def test_scalar_tensor_tensor(tmp_path: Path, mask: str) -> None:
    x, y = rand(4, 8), rand(4, 8, seed=1)
    expr = ("nisa.scalar_tensor_tensor(data=t, op0=np.multiply, operand0=s[c_p, c_f], op1=np.add, "
            "operand1=s, mask=m)")
    check(tmp_path, expr, mask, x * y[:, :1] + y, x, y, "ncScalarTensorTensor")


def test_tensor_scalar_reduce(tmp_path: Path) -> None:
    src = """
    def kernel(x, y):
        i_p, i_f = nl.mgrid[0:4, 0:8]
        t = nl.load(x)
        sums = nl.zeros((4, 1), dtype=nl.float32)
        r = nisa.tensor_scalar_reduce(data=t, op0=np.multiply, operand0=2.0, reduce_op=np.add,
                                      reduce_res=sums, mask=(i_p < 3))
        u = nl.load(x)
        u[...] = r
        nl.store(x, value=u)
        nl.store(y, value=sums)
        return x, y
    """
    x = rand(4, 8)
    traced = trace_kernel(tmp_path, src, x, np.zeros((4, 1), np.float32))
    (op,) = ops_named(traced, "tensorScalarReduce")
    assert op.dst.shape.dims[0] == 3
    out, sums = run_kernel(tmp_path, src, x, np.zeros((4, 1), np.float32))
    want = x.copy()
    want[:3] *= 2
    np.testing.assert_allclose(out, want, rtol=1e-6)
    np.testing.assert_allclose(sums[:, 0], [*(2 * x[:3]).sum(axis=1), 0], rtol=1e-5)


def test_tensor_tensor_scan(tmp_path: Path) -> None:
    x, y = rand(4, 8), rand(4, 8, seed=1)
    want = np.zeros_like(x)
    acc = np.zeros(4, np.float32)
    for j in range(8):
        acc = acc * x[:, j] + y[:, j]
        want[:, j] = acc
    expr = "nisa.tensor_tensor_scan(t, s, 0.0, np.multiply, np.add, mask=m)"
    check(tmp_path, expr, "rows", want, x, y, "tensorTensorScan")


def test_tensor_scalar_cumulative(tmp_path: Path) -> None:
    x, y = rand(4, 8), rand(4, 8, seed=1)
    expr = "nisa.tensor_scalar_cumulative(t, np.multiply, np.add, 2.0, mask=m)"
    check(tmp_path, expr, "rows", np.cumsum(2 * x, axis=1), x, y, "tensorScalarCumulative")


@pytest.mark.parametrize(("expr", "message"), [
    ("nisa.tensor_tensor_scan(t, s, 0.0, np.multiply, np.add, mask=(i_f < 4))",
     "nisa.tensor_tensor_scan: as the scan runs along whole partitions, a mask may only select partitions "
     "(such as i_p < n)"),
    ("nisa.tensor_scalar_cumulative(t, np.multiply, np.add, 2.0, mask=(i_f <= i_p))",
     "nisa.tensor_scalar_cumulative: as the running value runs along whole partitions, a mask may only "
     "select partitions (such as i_p < n)"),
    ("nisa.tensor_scalar_reduce(data=t, op0=np.multiply, operand0=2.0, reduce_op=np.add, "
     "reduce_res=s[c_p, c_f], mask=(i_f < 4))",
     "nisa.tensor_scalar_reduce: with reduce_res, a mask may only select partitions (such as i_p < n)"),
    ("nisa.range_select(on_true_tile=t, comp_op0=np.greater_equal, comp_op1=np.less, bound0=s[c_p, c_f], "
     "bound1=s[c_p, c_f], mask=(i_f < 4))",
     "nisa.range_select: as the range counts each partition's elements from range_start, a mask may only "
     "select partitions (such as i_p < n)"),
    ("nisa.select_reduce(predicate=s, on_true=t, on_false=0.0, reduce_res=s[c_p, c_f], mask=(i_f < 4))",
     "nisa.select_reduce: with reduce_res, a mask may only select partitions (such as i_p < n)"),
])
def test_a_mask_of_a_whole_partition_operation_selects_partitions(tmp_path: Path, expr: str,
                                                                   message: str) -> None:
    src = masked_src(expr, "i_p < 4")
    err = trace_error(tmp_path, src, rand(4, 8), rand(4, 8))
    assert err.message == message
    assert where(err) == (line_of(src, "r = "), 9)   # the call, after "    r = "


def test_range_select(tmp_path: Path) -> None:
    x, y = rand(4, 8), np.tile(np.array([[1.0], [2.0], [5.0], [7.0]], np.float32), (1, 8))
    expr = ("nisa.range_select(on_true_tile=t, comp_op0=np.greater_equal, comp_op1=np.less, "
            "bound0=s[c_p, c_f], bound1=s[c_p, c_f] + 3.0, range_start=0.0, on_false_value=-1.0, mask=m)")
    cols = np.arange(8)[None, :]
    want = np.where((cols >= y[:, :1]) & (cols < y[:, :1] + 3), x, np.float32(-1.0))
    check(tmp_path, expr, "rows", want, x, y, "ncRangeSelect")


@pytest.mark.parametrize("mask", sorted(MASKS))
def test_select_reduce(tmp_path: Path, mask: str) -> None:
    x, y = rand(4, 8), rand(4, 8, seed=1)
    expr = "nisa.select_reduce(predicate=nl.greater(s, 0.0), on_true=t, on_false=s[c_p, c_f], mask=m)"
    check(tmp_path, expr, mask, np.where(y > 0, x, y[:, :1]), x, y, "selectReduce")


@pytest.mark.parametrize("fn", ["nisa.dropout(t, 0.0, mask=m)", "nl.dropout(t, 0.0, mask=m)"])
@pytest.mark.parametrize("mask", sorted(MASKS))
def test_dropout(tmp_path: Path, fn: str, mask: str) -> None:
    """Dropping nothing (prob 0) shows which elements the instruction wrote."""
    x, y = rand(4, 8), rand(4, 8, seed=1)
    check(tmp_path, fn, mask, x, x, y, "dropout")


@pytest.mark.parametrize(("engine", "op"), [("nisa.tensor_engine", "ncMatMul"),
                                          ("nisa.vector_engine", "transpose")])
def test_nc_transpose_mask_selects_result_elements(tmp_path: Path, engine: str, op: str) -> None:
    src = f"""
    def kernel(x, y):
        o_p, o_f = nl.mgrid[0:8, 0:4]
        t = nl.load(x)
        r = nisa.nc_transpose(t, mask=(o_p < 5) & (o_f >= 1), engine={engine})
        u = nl.load(y)
        u[...] = r
        nl.store(y, value=u)
        return y
    """
    x, y = rand(4, 8), rand(8, 4, seed=1)
    traced = trace_kernel(tmp_path, src, x, y)
    ops = ops_named(traced, op)
    assert ops and all(o.dst.shape.dims == (5, 3) for o in ops)
    (out,) = run_kernel(tmp_path, src, x, y)
    want = y.copy()
    want[:5, 1:] = x.T[:5, 1:]
    np.testing.assert_allclose(out, want)


def test_nc_transpose_mask_must_be_rectangular(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        o_p, o_f = nl.mgrid[0:8, 0:4]
        t = nl.load(x)
        return nisa.nc_transpose(t, mask=(o_f <= o_p))
    """
    err = trace_error(tmp_path, src, rand(4, 8))
    assert err.message == "nisa.nc_transpose: a mask must be rectangular here"
    assert where(err) == (line_of(src, "return"), 12)


def test_tensor_partition_reduce(tmp_path: Path) -> None:
    src = """
    def kernel(x, y):
        i_p, i_f = nl.mgrid[0:4, 0:8]
        t = nl.load(x)
        r = nisa.tensor_partition_reduce(np.add, t, mask=(i_f >= 2) & (i_f < 6))
        u = nl.load(y)
        u[...] = r
        nl.store(y, value=u)
        return y
    """
    x, y = rand(4, 8), rand(1, 8, seed=1)
    traced = trace_kernel(tmp_path, src, x, y)
    (op,) = ops_named(traced, "tensorPartitionReduce")
    assert op.dst.shape.dims == (1, 4)
    (out,) = run_kernel(tmp_path, src, x, y)
    want = y.copy()
    want[0, 2:6] = x[:, 2:6].sum(axis=0)
    np.testing.assert_allclose(out, want, rtol=1e-6)


@pytest.mark.parametrize("mask", ["i_p < 3", "i_f <= i_p"])
def test_tensor_partition_reduce_mask_selects_columns(tmp_path: Path, mask: str) -> None:
    src = masked_src("nisa.tensor_partition_reduce(np.add, t, mask=m)", mask)
    err = trace_error(tmp_path, src, rand(4, 8), rand(4, 8))
    assert err.message == ("nisa.tensor_partition_reduce: a mask may only select free elements "
                           "(such as i_f < n), as every partition is reduced")
    assert where(err) == (line_of(src, "r = "), 9)


def test_nc_find_index8(tmp_path: Path) -> None:
    src = """
    def kernel(x, y):
        i_p, i_f = nl.mgrid[0:4, 0:16]
        t = nl.load(x)
        top = nisa.max8(src=t)
        r = nisa.nc_find_index8(data=t, vals=top, mask=(i_p < 3))
        u = nl.load(y)
        u[...] = r
        nl.store(y, value=u)
        return y
    """
    x = rand(4, 16)
    y = np.full((4, 8), 99, np.uint32)
    traced = trace_kernel(tmp_path, src, x, y)
    (op,) = ops_named(traced, "findIndex8")
    assert op.dst.shape.dims == (3, 8)
    (out,) = run_kernel(tmp_path, src, x, y)
    want = y.copy()
    want[:3] = np.argsort(-x[:3], axis=1, kind="stable")[:, :8]
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("mask", sorted(MASKS))
def test_dma_transpose(tmp_path: Path, mask: str) -> None:
    src = f"""
    def kernel(x, y):
        i_p, i_f = nl.mgrid[0:4, 0:8]
        r = nisa.dma_transpose(x, mask=({MASKS[mask]}))
        u = nl.load(y)
        u[...] = r
        nl.store(y, value=u)
        return y
    """
    x, y = rand(8, 4), rand(4, 8, seed=1)
    (out,) = run_kernel(tmp_path, src, x, y)
    np.testing.assert_array_equal(out, np.where(selected(mask, (4, 8)), x.T, y))
    names = op_names(trace_kernel(tmp_path, src, x, y))
    # loading u, storing it, and the masked transpose: one DMA per piece of the mask (the rows
    # kept, or each row of a triangle)
    assert names.count("ncDmaCopy") == 2 + (1 if mask == "rows" else 4)


def test_nc_find_index8_mask_selects_partitions(tmp_path: Path) -> None:
    src = masked_src("nisa.nc_find_index8(data=t, vals=t[0:4, 0:8], mask=m)", "i_f < 4")
    err = trace_error(tmp_path, src, rand(4, 8), rand(4, 8))
    assert err.message == ("nisa.nc_find_index8: as an index counts each partition's elements from its "
                           "first, a mask may only select partitions (such as i_p < n)")
    assert where(err) == (line_of(src, "r = "), 9)


@pytest.mark.parametrize("flag", [True, False])
def test_a_mask_decided_at_trace_time(tmp_path: Path, flag: bool) -> None:
    """``mask=(i * 128 < n)`` with Python numbers is a bool: True computes every element, False
    none (the destination keeps its values)."""
    x, y = rand(4, 8), rand(4, 8, seed=1)
    src = masked_src("nisa.tensor_tensor(t, s, op=np.add, mask=m)", f"2 * 128 < {300 if flag else 200}")
    (out,) = run_kernel(tmp_path, src, x, y)
    np.testing.assert_allclose(out, x + y if flag else x, rtol=1e-6)
