"""nki.isa builtins in both dialects: destination passing (beta 2) and value returning (legacy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from klr.core import ActivationFunc, AluOp, Engine, ImmFloat, TensorScalarReverseOps
from tests.tracer.nki.util import BETA2, op_names, rand, run_kernel, stmts, trace_kernel


def b2(body: str, *params: str) -> str:
    """A beta 2 kernel: loads each parameter into an SBUF tile named like it plus ``_t``,
    runs ``body`` and returns ``out`` ([rows, cols] of the first parameter)."""
    head = f"def kernel({', '.join(params)}):\n"
    lines = [f"    {p}_t = nl.ndarray({p}.shape, dtype={p}.dtype, buffer=nl.sbuf)\n"
             f"    nisa.dma_copy(dst={p}_t, src={p})\n" for p in params]
    tail = (f"    out = nl.ndarray({params[0]}.shape, dtype={params[0]}.dtype, buffer=nl.shared_hbm)\n"
            "    nisa.dma_copy(dst=out, src=res)\n    return out\n")
    inner = "".join(f"    {line}\n" for line in body.strip().splitlines())
    return head + "".join(lines) + inner + tail


def legacy(expr: str, *params: str) -> str:
    head = f"def kernel({', '.join(params)}):\n"
    lines = "".join(f"    {p}_t = nl.load({p})\n" for p in params)
    return (head + lines + f"    res = {expr}\n"
            f"    out = nl.ndarray(res.shape, dtype={params[0]}.dtype, buffer=nl.shared_hbm)\n"
            "    nl.store(out, value=res)\n    return out\n")


def test_tensor_tensor_both_forms(tmp_path: Path) -> None:
    x, y = rand(32, 16), rand(32, 16, seed=1)
    src = b2("res = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)\n"
             "nisa.tensor_tensor(dst=res, data1=x_t, data2=y_t, op=nl.subtract)", "x", "y")
    result = trace_kernel(tmp_path, src, x, y, header=BETA2)
    tt = stmts(result)[2].op
    assert (tt.op, tt.engine) == (AluOp.subtract, Engine.unassigned)
    (out,) = run_kernel(tmp_path, src, x, y, header=BETA2)
    np.testing.assert_allclose(out, x - y)
    (out,) = run_kernel(tmp_path, legacy("nisa.tensor_tensor(x_t, y_t, op=np.multiply)", "x", "y"), x, y)
    np.testing.assert_allclose(out, x * y)
    src = legacy("nisa.tensor_tensor(x_t, y_t, nl.maximum, engine=nisa.vector_engine)", "x", "y")
    assert stmts(trace_kernel(tmp_path, src, x, y))[2].op.engine is Engine.dve


def test_tensor_scalar_both_forms(tmp_path: Path) -> None:
    x, col = rand(32, 16), rand(32, 1, seed=2)
    src = b2("res = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)\n"
             "nisa.tensor_scalar(res, x_t, np.subtract, 1.0, reverse0=True, op1=nl.multiply, operand1=c_t)",
             "x", "c")
    ts = stmts(trace_kernel(tmp_path, src, x, col, header=BETA2))[2].op
    assert ts.reverse is TensorScalarReverseOps.first and ts.imm0 == ImmFloat(1.0)
    (out,) = run_kernel(tmp_path, src, x, col, header=BETA2)
    np.testing.assert_allclose(out, (1 - x) * col, rtol=1e-6)
    src = legacy("nisa.tensor_scalar(data=x_t, op0=np.subtract, operand0=c_t, op1=np.multiply, operand1=2.0)",
                 "x", "c")
    (out,) = run_kernel(tmp_path, src, x, col)
    np.testing.assert_allclose(out, (x - col) * 2, rtol=1e-6)


def test_activation_both_forms(tmp_path: Path) -> None:
    x, bias = rand(32, 16), rand(32, 1, seed=3)
    src = b2("res = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)\n"
             "nisa.activation(dst=res, op=nl.tanh, data=x_t, bias=b_t, scale=0.5)", "x", "b")
    act = stmts(trace_kernel(tmp_path, src, x, bias, header=BETA2))[2].op
    assert act.activationFunc is ActivationFunc.tanh and act.scale == ImmFloat(0.5)
    (out,) = run_kernel(tmp_path, src, x, bias, header=BETA2)
    np.testing.assert_allclose(out, np.tanh(x * 0.5 + bias), rtol=1e-5)
    (out,) = run_kernel(tmp_path, legacy("nisa.activation(op=nl.exp, data=x_t, scale=2.0)", "x"), x)
    np.testing.assert_allclose(out, np.exp(2 * x), rtol=1e-5)
    (out,) = run_kernel(tmp_path, legacy("nisa.activation(np.square, x_t, bias=b_t)", "x", "b"), x, bias)
    np.testing.assert_allclose(out, (x + bias) ** 2, rtol=1e-5)


def test_activation_reduce(tmp_path: Path) -> None:
    x = rand(32, 16)
    src = """
    def kernel(x):
        t = nl.load(x)
        sums = nl.ndarray((32, 1), dtype=nl.float32, buffer=nl.sbuf)
        e = nisa.activation_reduce(op=nl.exp, data=t, reduce_op=nl.add, reduce_res=sums)
        out = nl.ndarray((32, 17), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out[:, 0:16], value=e)
        nl.store(out[:, 16:17], value=sums)
        return out
    """
    assert "activationReduce" in op_names(trace_kernel(tmp_path, src, x))
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(out[:, :16], np.exp(x), rtol=1e-5)
    np.testing.assert_allclose(out[:, 16], np.exp(x).sum(axis=1), rtol=1e-5)


def test_nc_matmul_both_forms(tmp_path: Path) -> None:
    a, b = rand(64, 32), rand(64, 128, seed=4)
    src = """
    def kernel(a, b):
        a_t = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.sbuf)
        b_t = nl.ndarray(b.shape, dtype=b.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=a_t, src=a)
        nisa.dma_copy(dst=b_t, src=b)
        acc = nl.ndarray((32, 128), dtype=nl.float32, buffer=nl.psum)
        nisa.nc_matmul(dst=acc, stationary=a_t, moving=b_t)
        nisa.nc_matmul(acc, a_t, b_t)
        res = nl.ndarray((32, 128), dtype=nl.float32, buffer=nl.sbuf)
        nisa.tensor_copy(dst=res, src=acc)
        out = nl.ndarray((32, 128), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=res)
        return out
    """
    # the first matmul into a fresh PSUM tile starts from zero
    names = op_names(trace_kernel(tmp_path, src, a, b, header=BETA2))
    assert names[2:5] == ["memSet", "ncMatMul", "ncMatMul"]
    (out,) = run_kernel(tmp_path, src, a, b, header=BETA2)
    np.testing.assert_allclose(out, 2 * a.T @ b, rtol=1e-4, atol=1e-4)
    (out,) = run_kernel(tmp_path, legacy("nl.copy(nisa.nc_matmul(a_t, b_t))", "a", "b"), a, b)
    np.testing.assert_allclose(out, a.T @ b, rtol=1e-4, atol=1e-4)


def test_nc_transpose_both_forms(tmp_path: Path) -> None:
    x = rand(32, 48)
    src = """
    def kernel(x):
        t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        tp = nl.ndarray((48, 32), dtype=x.dtype, buffer=nl.psum)
        nisa.nc_transpose(dst=tp, data=t, engine=nisa.tensor_engine)
        res = nl.ndarray((48, 32), dtype=x.dtype, buffer=nl.sbuf)
        nisa.tensor_copy(dst=res, src=tp)
        out = nl.ndarray((48, 32), dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=res)
        return out
    """
    result = trace_kernel(tmp_path, src, x, header=BETA2)
    assert op_names(result)[1:4] == ["memSet", "ncAffineSelect", "ncMatMul"]
    mm = stmts(result)[3].op
    assert mm.isTranspose and mm.isStationaryOneZero
    (out,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_array_equal(out, x.T)
    small = rand(16, 24)
    text = legacy("nl.copy(nisa.nc_transpose(x_t))", "x")
    assert "transpose" in op_names(trace_kernel(tmp_path, text, small))
    (out,) = run_kernel(tmp_path, text, small)
    np.testing.assert_array_equal(out, small.T)


def test_copy_memset_reciprocal_iota(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.load(x)
        out = nl.ndarray((4, 16, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out[0], value=nisa.tensor_copy(t, dtype=nl.float32))
        nl.store(out[1], value=nisa.memset((16, 8), 3.0, nl.float32))
        nl.store(out[2], value=nisa.reciprocal(nl.add(t, 2.0)))
        idx = nisa.iota(nl.arange(16)[:, None] * 8 + nl.arange(8)[None, :], dtype=nl.int32)
        nl.store(out[3], value=nl.copy(idx, dtype=nl.float32))
        return out
    """
    x = rand(16, 8)
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out[0], x)
    np.testing.assert_array_equal(out[1], 3)
    np.testing.assert_allclose(out[2], 1 / (x + 2), rtol=1e-6)
    np.testing.assert_array_equal(out[3], np.arange(128).reshape(16, 8))


def test_beta2_copy_memset_iota_reciprocal(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        r = nl.ndarray((16, 8), dtype=nl.float32, buffer=nl.sbuf)
        nisa.reciprocal(dst=r, data=t)
        i = nl.ndarray((16, 8), dtype=nl.int32, buffer=nl.sbuf)
        nisa.iota(i, [[1, 8]], offset=5, channel_multiplier=100)
        f = nl.ndarray((16, 8), dtype=nl.float32, buffer=nl.sbuf)
        nisa.tensor_copy(dst=f, src=i)
        m = nl.ndarray((16, 8), dtype=nl.float32, buffer=nl.sbuf)
        nisa.memset(dst=m, value=1.5)
        out = nl.ndarray((3, 16, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out[0], src=r)
        nisa.dma_copy(dst=out[1], src=f)
        nisa.dma_copy(dst=out[2], src=m)
        return out
    """
    x = rand(16, 8) + 2
    (out,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_allclose(out[0], 1 / x, rtol=1e-6)
    np.testing.assert_array_equal(out[1], 5 + 100 * np.arange(16)[:, None] + np.arange(8)[None, :])
    np.testing.assert_array_equal(out[2], 1.5)


@pytest.mark.parametrize("form", ["legacy", "beta2"])
def test_tensor_reduce(tmp_path: Path, form: str) -> None:
    x = rand(16, 4, 8)
    if form == "legacy":
        src = legacy("nisa.tensor_reduce(np.max, x_t, axis=(1, 2), negate=True)", "x")
        header = None
    else:
        src = """
        def kernel(x):
            t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
            nisa.dma_copy(dst=t, src=x)
            r = nl.ndarray((16, 1), dtype=x.dtype, buffer=nl.sbuf)
            nisa.tensor_reduce(dst=r, op=nl.max, data=t, axis=[3, 4], negate=True)
            out = nl.ndarray((16,), dtype=x.dtype, buffer=nl.shared_hbm)
            nisa.dma_copy(dst=out, src=r)
            return out
        """
        header = BETA2
    options = {"header": header} if header else {}
    (out,) = run_kernel(tmp_path, src, x, **options)
    np.testing.assert_allclose(out.reshape(16), -x.max(axis=(1, 2)))


def test_affine_select_both_forms(tmp_path: Path) -> None:
    x = rand(16, 16)
    src = legacy("nisa.affine_select(pred=(nl.arange(16)[:, None] - nl.arange(16)[None, :] >= 0), "
                 "on_true_tile=x_t, on_false_value=-9.0)", "x")
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, np.where(np.tri(16, dtype=bool), x, -9))
    src = b2("res = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)\n"
             "nisa.affine_select(res, [[-1, 16]], channel_multiplier=1, on_true_tile=x_t,\n"
             "                   on_false_value=0.0,\n"
             "                   cmp_op=nl.greater_equal)", "x")
    (out,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_array_equal(out, np.where(np.tri(16, dtype=bool), x, 0))


def test_dma_copy_add_and_copy_predicated(tmp_path: Path) -> None:
    src = """
    def kernel(x, p):
        t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        nisa.dma_copy(dst=t, src=x, dst_rmw_op=nl.add)
        pt = nl.ndarray(p.shape, dtype=p.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=pt, src=p)
        z = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.memset(dst=z, value=0.0)
        nisa.tensor_copy_predicated(dst=z, src=t, predicate=pt)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=z, oob_mode=nisa.oob_mode.skip)
        return out
    """
    x = rand(16, 8)
    p = (rand(16, 8, seed=5) > 0).astype(np.float32)
    result = trace_kernel(tmp_path, src, x, p, header=BETA2)
    assert stmts(result)[1].op.compute_op.name == "add"
    (out,) = run_kernel(tmp_path, src, x, p, header=BETA2)
    np.testing.assert_allclose(out, np.where(p != 0, 2 * x, 0))


def test_get_nc_version_and_enums(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        assert nisa.get_nc_version() == nisa.nc_version.gen2
        assert nisa.get_nc_sub_version() == 0
        assert nisa.engine.vector != nisa.engine.scalar
        return x
    """
    trace_kernel(tmp_path, src, rand(4, 4))


def test_nc_matmul_transpose_mode_transposes_the_stationary_tile(tmp_path: Path) -> None:
    # NKI: the data is the stationary tile and the identity the moving one; Core's transpose
    # matmul transposes its moving operand, so the tracer swaps them.
    x = rand(32, 48)
    src = """\
    def kernel(x):
        eye = nl.load(nl.shared_identity_matrix(32, dtype=nl.float32))
        t = nisa.nc_matmul(nl.load(x), eye, is_transpose=True, is_moving_onezero=True)
        out = nl.ndarray((48, 32), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.copy(t))
        return out
    """
    (out,) = run_kernel(tmp_path, src, x)
    np.testing.assert_array_equal(out, x.T)
    mm = next(s.op for s in stmts(trace_kernel(tmp_path, src, x)) if type(s.op).__name__ == "NcMatMul")
    assert mm.isTranspose and mm.isStationaryOneZero and not mm.isMovingZero


def test_legacy_nc_matmul_takes_psum_operands_and_a_true_mask(tmp_path: Path) -> None:
    # flash attention backward: nc_matmul(nc_transpose(dy), p, mask=<a Python condition>)
    a, b = rand(32, 16), rand(32, 24, seed=1)
    src = """\
    def kernel(a, b):
        a_t = nisa.nc_transpose(nl.load(a))
        res = nisa.nc_matmul(a_t, a_t, mask=(3 > 2))
        out = nl.ndarray((32, 32), dtype=a.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.copy(res))
        return out
    """
    (out,) = run_kernel(tmp_path, src, a, b)
    np.testing.assert_allclose(out, a @ a.T, rtol=1e-5, atol=1e-5)
