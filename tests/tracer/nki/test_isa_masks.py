"""``mask=`` of the legacy ``nisa.*`` builtins: an instruction computes only the elements its
mask selects. Each kernel assigns the masked result into a copy of its input, so the elements
outside the mask keep the input's values (and a strict run proves none of them is read)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tracer.nki.util import op_names, rand, run_kernel, stmts, trace_error, trace_kernel

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


def check(tmp_path: Path, expr: str, mask: str, want: np.ndarray, x: np.ndarray, y: np.ndarray,
          op: str) -> None:
    """The result where the mask holds, and the instruction ``op`` itself restricted: to the
    first 3 partitions, or (a non-rectangular mask) computed into scratch and copied through
    a predicate."""
    src = masked_src(expr, MASKS[mask])
    traced = trace_kernel(tmp_path, src, x, y)
    ops = [s.op for s, name in zip(stmts(traced), op_names(traced), strict=True) if name == op]
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
    expr = "nisa.scalar_tensor_tensor(data=t, op0=np.multiply, operand0=s[c_p, c_f], op1=np.add, operand1=s, mask=m)"
    check(tmp_path, expr, mask, x * y[:, :1] + y, x, y, "ncScalarTensorTensor")
