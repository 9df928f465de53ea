"""nki.language builtins, traced and evaluated."""

from __future__ import annotations

from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from klr.dtypes import Dtype
from tests.tracer.nki.util import (
    BETA2,
    line_of,
    op_names,
    rand,
    run_kernel,
    stmts,
    trace_error,
    trace_kernel,
    where,
)


def unary_src(expr: str) -> str:
    return f"""
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.load(x)
        nl.store(out, value={expr})
        return out
    """


@pytest.mark.parametrize(("expr", "ref"), [
    ("nl.exp(t)", np.exp), ("nl.log(t + 2.0)", lambda x: np.log(x + 2)), ("nl.tanh(t)", np.tanh),
    ("nl.sqrt(t + 1.0)", lambda x: np.sqrt(x + 1)), ("nl.rsqrt(t + 1.0)", lambda x: 1 / np.sqrt(x + 1)),
    ("nl.square(t)", np.square), ("nl.abs(t)", np.abs), ("nl.sigmoid(t)", lambda x: 1 / (1 + np.exp(-x))),
    ("nl.relu(t)", lambda x: np.maximum(x, 0)), ("nl.sin(t)", np.sin), ("nl.cos(t)", np.cos),
    ("nl.negative(t)", np.negative), ("-t", np.negative), ("nl.reciprocal(t + 2.0)", lambda x: 1 / (x + 2)),
    ("nl.silu(t)", lambda x: x / (1 + np.exp(-x))), ("nl.arctan(t)", np.arctan), ("nl.sign(t)", np.sign),
    ("np.exp(t)", np.exp), ("np.tanh(t)", np.tanh),
])
def test_unary(tmp_path: Path, expr: str, ref: object) -> None:
    x = rand(64, 32)
    (out,) = run_kernel(tmp_path, unary_src(expr), x)
    np.testing.assert_allclose(out, ref(x), rtol=1e-5, atol=1e-6)  # type: ignore[operator]


@pytest.mark.parametrize(("expr", "ref"), [
    ("nl.add(t, u)", lambda a, b: a + b), ("nl.subtract(t, u)", lambda a, b: a - b),
    ("nl.multiply(t, u)", lambda a, b: a * b), ("nl.divide(t, u + 3.0)", lambda a, b: a / (b + 3)),
    ("nl.maximum(t, u)", np.maximum), ("nl.minimum(t, u)", np.minimum),
    ("nl.power(t + 2.0, 2.0)", lambda a, b: (a + 2) ** 2),
    ("nl.greater(t, u)", lambda a, b: (a > b).astype(np.float32)),
    ("nl.less_equal(t, 0.0)", lambda a, b: (a <= 0).astype(np.float32)),
    ("nl.equal(t, t)", lambda a, b: np.ones_like(a)),
    ("t + u * 2.0 - 1.0", lambda a, b: a + b * 2 - 1), ("1.0 - t", lambda a, b: 1 - a),
    ("t / 4.0", lambda a, b: a / 4), ("2.0 / (t + 3.0)", lambda a, b: 2 / (a + 3)),
    ("(t < u) * 1.0", lambda a, b: (a < b).astype(np.float32)),
    ("t - nl.max(t, axis=1, keepdims=True)", lambda a, b: a - a.max(axis=1, keepdims=True)),
    ("t * nl.sum(u, axis=1)", lambda a, b: a * b.sum(axis=1, keepdims=True)),
    ("nl.add(t, u[0:1, :])", lambda a, b: a + b[0:1, :]),
    ("np.add(t, np.multiply(u, 3.0))", lambda a, b: a + b * 3),
])
def test_binary(tmp_path: Path, expr: str, ref: object) -> None:
    src = f"""
    def kernel(x, y):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.load(x)
        u = nl.load(y)
        nl.store(out, value={expr})
        return out
    """
    x, y = rand(64, 32), rand(64, 32, seed=1)
    (out,) = run_kernel(tmp_path, src, x, y)
    np.testing.assert_allclose(out, ref(x, y), rtol=1e-5, atol=1e-5)  # type: ignore[operator]


def test_tile_scalar_and_column_operands_use_tensor_scalar(tmp_path: Path) -> None:
    src = unary_src("(t - nl.mean(t, axis=1, keepdims=True)) * 0.5")
    result = trace_kernel(tmp_path, src, rand(64, 32))
    assert op_names(result) == ["ncDmaCopy", "tensorReduce", "tensorScalar", "tensorScalar", "tensorScalar",
                                "ncDmaCopy"]


@pytest.mark.parametrize(("expr", "ref"), [
    ("nl.sum(t, axis=1)", lambda x: x.sum(axis=1)),
    ("nl.max(t, axis=(1, 2))", lambda x: x.max(axis=(1, 2))),
    ("nl.min(t, axis=2, keepdims=True)", lambda x: x.min(axis=2, keepdims=True)),
    ("nl.mean(t, axis=[1, 2])", lambda x: x.mean(axis=(1, 2))),
    ("nl.prod(t, axis=-1)", lambda x: x.prod(axis=-1)),
])
def test_reductions(tmp_path: Path, expr: str, ref: object) -> None:
    x = rand(16, 4, 8)
    expected = ref(x)  # type: ignore[operator]
    src = f"""
    def kernel(x):
        t = nl.load(x)
        r = {expr}
        out = nl.ndarray(r.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=r)
        return out
    """
    (out,) = run_kernel(tmp_path, src, x)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_creation_and_casts(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((4, 32, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out[0], value=nl.zeros((32, 8), dtype=nl.float32))
        nl.store(out[1], value=nl.ones((32, 8), dtype=nl.bfloat16))
        nl.store(out[2], value=nl.full((32, 8), 2.5, dtype=nl.float32))
        t = nl.load(x)
        z = nl.zeros_like(t)
        c = nl.static_cast(nl.add(t, z), np.int32)
        nl.store(out[3], value=nl.copy(c, dtype=nl.float32))
        return out
    """
    x = (rand(32, 8) * 10).astype(np.float32)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out[0], 0)
    np.testing.assert_array_equal(out[1], 1)
    np.testing.assert_array_equal(out[2], 2.5)
    np.testing.assert_array_equal(out[3], np.rint(x))


def test_bf16_load_and_matmul(tmp_path: Path) -> None:
    src = """
    def kernel(a, b):
        out = nl.ndarray((64, 128), dtype=nl.float32, buffer=nl.shared_hbm)
        x = nl.load(a)
        y = nl.load(b)
        nl.store(out, value=nl.copy(nl.matmul(x, y, transpose_x=True)))
        return out
    """
    a = rand(128, 64).astype(ml_dtypes.bfloat16)
    b = rand(128, 128, seed=2).astype(ml_dtypes.bfloat16)
    (out,) = run_kernel(tmp_path, src, a, b)
    ref = a.astype(np.float32).T @ b.astype(np.float32)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_matmul_inserts_a_transpose(tmp_path: Path) -> None:
    src = """
    def kernel(a, b):
        out = nl.ndarray((32, 48), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out, value=nl.matmul(nl.load(a), nl.load(b)))
        return out
    """
    a, b = rand(32, 64), rand(64, 48, seed=3)
    result = trace_kernel(tmp_path, src, a, b)
    assert op_names(result).count("ncMatMul") == 2
    (out,) = run_kernel(tmp_path, src, a, b)
    np.testing.assert_allclose(out, a @ b, rtol=1e-4, atol=1e-4)


def test_transpose_and_load_transpose2d(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((2, 48, 96), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out[0], value=nl.copy(nl.transpose(nl.load(x))))
        nl.store(out[1], value=nl.load_transpose2d(x))
        return out
    """
    x = rand(96, 48)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out[0], x.T)
    np.testing.assert_array_equal(out[1], x.T)


def test_where_and_broadcast_to(tmp_path: Path) -> None:
    src = """
    def kernel(x, row):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.load(x)
        r = nl.load(row).broadcast_to(x.shape)
        nl.store(out, value=nl.where(nl.greater(t, 0.0), t, r))
        return out
    """
    x, row = rand(32, 16), rand(1, 16, seed=4)
    (out,) = run_kernel(tmp_path, src, x, row)
    np.testing.assert_array_equal(out, np.where(x > 0, x, np.broadcast_to(row, x.shape)))


def test_store_of_a_number(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        nl.store(x[0:8, :], 7.0)
        return x
    """
    x = rand(16, 8)
    (out,) = run_kernel(tmp_path, src, x)
    expected = x.copy()
    expected[:8] = 7
    np.testing.assert_array_equal(out, expected)


def test_spmd_program_ids_and_shared_output(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        assert nl.num_programs() == 6 and nl.num_programs(1) == 3 and nl.program_ndim() == 2
        r = nl.program_id(0) * 16
        c = nl.program_id(axis=1) * 8
        nl.store(out[r:r + 16, c:c + 8], value=nl.add(nl.load(x[r:r + 16, c:c + 8]), r + c))
        return out
    """
    x = rand(32, 24)
    result = trace_kernel(tmp_path, src, x, grid=(2, 3))
    assert [b.label for b in result.kernel.bodies[0]][:2] == ["spmd.0.0", "spmd.0.1"]
    (out,) = run_kernel(tmp_path, src, x, grid=(2, 3))
    rows, cols = np.indices(x.shape)
    np.testing.assert_allclose(out, x + (rows // 16) * 16 + (cols // 8) * 8)


def test_ranges_are_python_ranges(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        acc = nl.zeros((8, 4), dtype=nl.float32)
        for i in nl.affine_range(2):
            for j in nl.sequential_range(1, 4, 2):
                for k in nl.static_range(2):
                    acc += nl.load(x[i * 8:(i + 1) * 8, j + k:j + k + 4])
        out = nl.ndarray((8, 4), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out, value=acc)
        return out
    """
    x = rand(16, 8)
    (out,) = run_kernel(tmp_path, src, x)
    ref = sum(x[i * 8:(i + 1) * 8, j + k:j + k + 4] for i in range(2) for j in (1, 3) for k in range(2))
    np.testing.assert_allclose(out, ref, rtol=1e-5)


def test_beta2_ndarray_names_and_tile_size(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        assert nl.tile_size.pmax == 128 and nl.tile_size.psum_fmax == 512
        t = nl.ndarray((16, 8), dtype=x.dtype, buffer=nl.sbuf, name="staging")
        nisa.dma_copy(dst=t, src=x)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    result = trace_kernel(tmp_path, src, rand(16, 8), header=BETA2)
    assert stmts(result)[0].op.dst.tensor.name == "staging"
    assert result.kernel.outputs[0].name == "out"


def test_python_numbers_through_numpy_aliases(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        scale = 1 / np.sqrt(64)
        assert np.maximum(2, 3) == 3 and nl.exp(0.0) == 1.0 and np.max([1, 5, 2]) == 5
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.multiply(nl.load(x), scale))
        return out
    """
    x = rand(8, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, x / 8)


def test_spmd_instances_share_named_hbm_but_not_named_sbuf(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm, name="result")
        i = nl.program_id(0)
        t = nl.ndarray((8, 8), dtype=x.dtype, buffer=nl.sbuf, name="staging")
        t[...] = nl.load(x[i * 8:(i + 1) * 8, :])
        nl.store(out[i * 8:(i + 1) * 8, :], value=t)
        return out
    """
    x = rand(16, 8)
    result = trace_kernel(tmp_path, src, x, grid=(2,))
    assert [t.name for t in result.kernel.outputs] == ["result"]
    names = {s.op.dst.tensor.name for s in stmts(result) if s.op.dst.tensor.address.memory.name == "sbuf"}
    assert len(names) == 2 and "staging" in names
    assert all(n.startswith("staging.") for n in names - {"staging"})
    (out,) = run_kernel(tmp_path, src, x, grid=(2,))
    np.testing.assert_array_equal(out, x)


def test_empty_like_logical_ops_and_device_print(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        e = nl.empty_like(t)
        e[...] = nl.logical_and(nl.greater(t, 0.0), nl.less(t, 0.5))
        nl.device_print("e = ", e)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.logical_not(e))
        return out
    """
    x = rand(8, 8)
    assert "devicePrint" in op_names(trace_kernel(tmp_path, src, x))
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, (~((x > 0) & (x < 0.5))).astype(np.float32))


def test_lazy_initialization_and_numpy_dtype(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        acc = np.dtype(np.float32)
        assert acc == nl.float32 and acc.itemsize == 4
        z = nl.full((32, 8), fill_value=2.0, dtype=acc, buffer=nl.sbuf, lazy_initialization=False)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.add(nl.load(x), z))
        return out
    """
    x = rand(32, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, x + 2, rtol=1e-6)


def test_loop_reduce_combines_into_its_destination(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        acc = nl.zeros((32, 8), dtype=nl.float32, buffer=nl.sbuf)
        for i in nl.affine_range(4):
            acc[...] = nl.loop_reduce(nl.load(x[i]), op=np.add, loop_indices=(i,), dtype=nl.float32)
        out = nl.ndarray((32, 8), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=acc)
        return out
    """
    x = rand(4, 32, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out, x.sum(axis=0), rtol=1e-5)


def test_loading_one_element_gives_a_one_by_one_tile(tmp_path: Path) -> None:
    src = """
    def kernel(x, s):
        one = nl.load(s[0, 1])
        assert one.shape == (1, 1)
        col = nl.add(nl.zeros((32, 1), dtype=nl.float32), one)
        out = nl.ndarray((32, 1), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=col)
        return out
    """
    s = rand(1, 2, seed=3)
    (out,) = run_kernel(tmp_path, src, rand(32, 1), s)
    np.testing.assert_allclose(out, np.full((32, 1), s[0, 1]), rtol=1e-6)


# ---- nl.floor: one ncScalarTensorTensor, x - (x mod 1) --------------------------------------

FLOOR_EDGES = np.array([-1.5, -1.0, -0.3, -1e-10, -0.0, 0.0, 0.3, 1.0, 2.7, 0.49999997, -0.49999997,
                        1 - 2**-24, -(2**-149), 2**-149, 8388607.5, -8388607.5, 16777217.0, 1e8 + 0.5, -1e8,
                        3e38, -3e38, np.nan], dtype=np.float32)


@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16, np.float16])
def test_floor_is_numpy_floor(tmp_path: Path, dtype: object) -> None:
    edges = FLOOR_EDGES[~(np.abs(FLOOR_EDGES) > float(ml_dtypes.finfo(dtype).max))]   # finite in dtype
    x = np.concatenate([edges, np.random.default_rng(0).uniform(-1e4, 1e4, 128 - len(edges))])
    x = x.astype(dtype).reshape(8, 16)   # type: ignore[call-overload]
    (out,) = run_kernel(tmp_path, unary_src("nl.floor(t)"), x)
    np.testing.assert_array_equal(out, np.floor(x))   # bit for bit, -0.0 and NaN included


def test_floor_of_an_infinity_is_nan(tmp_path: Path) -> None:
    """x - (x mod 1) with x infinite: inf mod 1 is NaN (docs/semantics.md), and so is the floor."""
    x = np.array([[np.inf, -np.inf, 1.5, -1.5]], np.float32)
    (out,) = run_kernel(tmp_path, unary_src("nl.floor(t)"), x)
    np.testing.assert_array_equal(out, [[np.nan, np.nan, 1.0, -2.0]])


def test_floor_of_integers_is_the_identity(tmp_path: Path) -> None:
    x = np.arange(-64, 64, dtype=np.int32).reshape(4, 32)
    (out,) = run_kernel(tmp_path, unary_src("nl.floor(t)"), x)
    np.testing.assert_array_equal(out, x)


def test_floor_is_one_instruction_with_a_dtype_and_a_mask(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=nl.int32, buffer=nl.shared_hbm)
        i_p, i_f = nl.mgrid[0:4, 0:8]
        t = nl.load(x)
        nl.store(out[i_p, i_f], value=nl.floor(t, dtype=nl.int32, mask=(i_p < 2)), mask=(i_p < 2))
        return out
    """
    x = np.linspace(-3.75, 3.75, 32, dtype=np.float32).reshape(4, 8)
    result = trace_kernel(tmp_path, src, x)
    assert op_names(result) == ["ncDmaCopy", "ncScalarTensorTensor", "ncDmaCopy"]
    op = stmts(result)[1].op
    assert (op.dst.dtype, op.dst.shape.dims) == (Dtype.int32, (2, 8))   # the rows the mask keeps
    out = np.zeros((4, 8), np.int32)
    out[:2] = np.floor(x[:2])
    (got,) = run_kernel(tmp_path, src, x, strict=False)
    np.testing.assert_array_equal(got[:2], out[:2])


def test_floor_in_the_beta2_dialect(tmp_path: Path) -> None:
    x = rand(16, 8) * 10
    (out,) = run_kernel(tmp_path, unary_src("nl.floor(t)"), x, header=BETA2)
    np.testing.assert_array_equal(out, np.floor(x))


def test_floor_of_a_string_is_an_error(tmp_path: Path) -> None:
    """A Python number's floor computes at trace time, as nl.exp's does (test_semantics.py)."""
    err = trace_error(tmp_path, unary_src("nl.floor('x')"), rand(4, 4))
    assert err.message == "the operand of nl.floor must be a tensor, not str"
    assert where(err) == (line_of(unary_src(""), "nl.store"), 25)


MASKED_MATMUL = """\\
def kernel(x, y, z):
    out = nl.ndarray((32, 48), dtype=nl.float32, buffer=nl.shared_hbm)
    i_m = nl.arange(32)[:, None]
    a, b, c = nl.load(x), nl.load(y), nl.load(z)
    acc = nl.zeros((32, 48), dtype=nl.float32, buffer=nl.psum)
    acc += nl.matmul(a, b, transpose_x=True, mask=(i_m < 20))
    acc += nl.matmul(a, b, transpose_x=True, mask=(3 * 128 < 512))
    acc += nl.matmul(a, b, transpose_x=True, mask=(3 < 2))
    acc += nl.matmul(c, b, mask=(i_m >= 24))
    nl.store(out, value=acc)
    return out
"""


def test_matmul_mask_selects_result_rows(tmp_path: Path) -> None:
    x, y, z = rand(64, 32, seed=1), rand(64, 48, seed=2), rand(32, 64, seed=3)
    (out,) = run_kernel(tmp_path, MASKED_MATMUL, x, y, z)
    want = x.T.astype(np.float64) @ y                # mask=False computes nothing, True everything
    want[:20] *= 2
    want[24:] += (z.astype(np.float64) @ y)[24:]
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
