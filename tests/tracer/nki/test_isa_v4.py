"""nisa.exponential, nisa.activate2, nisa.nc_n_gather and nisa.dma_compute, traced and run
against numpy, and their argument errors at the call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tracer.nki.util import BETA2, op_names, rand, run_kernel, trace_error, trace_kernel, where


def run(tmp_path: Path, src: str, *inputs: np.ndarray) -> list[np.ndarray]:
    return run_kernel(tmp_path, src, *inputs, header=BETA2)


def test_exponential_with_a_running_sum(tmp_path: Path) -> None:
    src = """
    def kernel(x, m):
        t = nl.ndarray((16, 32), dtype=nl.float32, buffer=nl.sbuf)
        top = nl.ndarray((16, 1), dtype=nl.float32, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        nisa.dma_copy(dst=top, src=m)
        e = nl.ndarray((16, 32), dtype=nl.float32, buffer=nl.sbuf)
        s = nl.ndarray((16, 1), dtype=nl.float32, buffer=nl.sbuf)
        nisa.exponential(e, t, max_value=top, reduce_cmd=nisa.reduce_cmd.reset_reduce)
        nisa.exponential(dst=e, src=t, max_value=top, reduce_res=s, reduce_cmd=nisa.reduce_cmd.reduce)
        c = nl.ndarray((16, 32), dtype=nl.float32, buffer=nl.sbuf)
        s2 = nl.ndarray((16, 1), dtype=nl.float32, buffer=nl.sbuf)
        nisa.exponential(dst=c, src=t, max_value=1.5, reduce_res=s2, reduce_cmd=nisa.reduce_cmd.load_reduce,
                         reduce_init=10.0)
        outs = []
        for v in (e, s, c, s2):
            o = nl.ndarray(v.shape, dtype=nl.float32, buffer=nl.shared_hbm)
            nisa.dma_copy(dst=o, src=v)
            outs.append(o)
        return outs[0], outs[1], outs[2], outs[3]
    """
    x = rand(16, 32)
    m = x.max(axis=1, keepdims=True)
    e, s, c, s2 = run(tmp_path, src, x, m)
    want = np.exp(x - m)
    np.testing.assert_allclose(e, want, rtol=1e-6)
    np.testing.assert_allclose(s, 2 * want.sum(axis=1, keepdims=True), rtol=1e-5)   # two accumulated calls
    np.testing.assert_allclose(c, np.exp(x - 1.5), rtol=1e-6)
    np.testing.assert_allclose(s2, 10 + np.exp(x - 1.5).sum(axis=1, keepdims=True), rtol=1e-5)


def test_exponential_emits_one_operator(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf)
        nisa.exponential(t, t)
        return x
    """
    assert op_names(trace_kernel(tmp_path, src, rand(4, 4), header=BETA2)) == ["exponential"]


def test_activate2_stages_and_reduction(tmp_path: Path) -> None:
    src = """
    def kernel(x, b):
        t = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.sbuf)
        bias = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        nisa.dma_copy(dst=bias, src=b)
        y = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.sbuf)
        r = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)
        nisa.activate2(y, nl.tanh, t, 2.0, bias, nl.multiply, nl.add, reduce_op=nl.maximum, reduce_res=r,
                       reduce_cmd=nisa.reduce_cmd.reset_reduce)
        z = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.sbuf)
        nisa.activate2(dst=z, op=nl.exp, data=t, imm0=1.0, imm1=0.0, op0=nl.subtract, op1=nl.bypass,
                       reverse0=True)
        outs = []
        for v in (y, r, z):
            o = nl.ndarray(v.shape, dtype=nl.float32, buffer=nl.shared_hbm)
            nisa.dma_copy(dst=o, src=v)
            outs.append(o)
        return outs[0], outs[1], outs[2]
    """
    x, b = rand(8, 16), rand(8, 1, seed=1)
    y, r, z = run(tmp_path, src, x, b)
    want = np.tanh(x * 2 + b)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r, want.max(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z, np.exp(1.0 - x), rtol=1e-5)   # reverse0: imm0 - data


def test_activate2_relu_param_is_the_slope(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        p = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.sbuf)
        nisa.activate2(p, nl.prelu, t, 2.0, 0.0, nl.multiply, nl.bypass, relu_param=-0.5)
        nisa.activate2(t, nl.relu, t, 0.0, 0.0, nl.bypass, nl.bypass, relu_param=0.25)
        o = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        op = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=o, src=t)
        nisa.dma_copy(dst=op, src=p)
        return o, op
    """
    x = rand(4, 8)
    out, pre = run(tmp_path, src, x)
    np.testing.assert_allclose(out, np.where(x > 0, x, 0.25 * x), rtol=1e-6)
    np.testing.assert_allclose(pre, np.where(x > 0, 2 * x, -1.0 * x), rtol=1e-6)   # nl.prelu


def test_nc_n_gather_takes_along_the_flattened_free_axis(tmp_path: Path) -> None:
    src = """
    def kernel(x, i):
        data = nl.ndarray((8, 3, 4), dtype=nl.float32, buffer=nl.sbuf)
        idx = nl.ndarray((8, 5), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.dma_copy(dst=data, src=x)
        nisa.dma_copy(dst=idx, src=i)
        got = nl.ndarray((8, 5), dtype=nl.float32, buffer=nl.sbuf)
        nisa.nc_n_gather(got, data, idx)
        o = nl.ndarray((8, 5), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=o, src=got)
        return o
    """
    x = rand(8, 3, 4)
    idx = np.random.default_rng(5).integers(0, 12, (8, 5)).astype(np.uint32)
    (out,) = run(tmp_path, src, x, idx)
    np.testing.assert_array_equal(out, np.take_along_axis(x.reshape(8, 12), idx.astype(np.int64), axis=1))


def test_dma_compute_adds_scaled_sources(tmp_path: Path) -> None:
    src = """
    def kernel(a, b, c):
        t = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=c)
        out = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_compute(out, [a, b, t], nl.add)
        scaled = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_compute(dst=scaled, srcs=[a, b], reduce_op=nl.add, scales=[2.0, -1])
        old = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_compute(old, [a, b], [1.0, 3.0], nl.add)   # NKI 0.2's order: scales before reduce_op
        return out, scaled, old
    """
    a, b, c = rand(8, 16), rand(8, 16, seed=1), rand(8, 16, seed=2)
    out, scaled, old = run(tmp_path, src, a, b, c)
    np.testing.assert_allclose(out, a + b + c, rtol=1e-6)
    np.testing.assert_allclose(scaled, 2 * a - b, rtol=1e-6)
    np.testing.assert_allclose(old, a + 3 * b, rtol=1e-6)


S4 = "a = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf)\n"
ERRORS = [
    ("nisa.exponential: src has shape [4, 4] but dst has [4, 8]",
     S4 + "b = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.sbuf)\nnisa.exponential(b, a)"),
    ("nisa.exponential: max_value must have one element per partition ([4, 1]) but has shape [4, 4]",
     S4 + "nisa.exponential(a, a, max_value=a)"),
    ("nisa.exponential: reduce_res 'x' is in HBM, but it must be in SBUF or PSUM",
     S4 + "nisa.exponential(a, a, reduce_res=x[0:4, 0:1])"),
    ("reduce_cmd must be one of idle, reset, reduce, reset_reduce, load_reduce, not 3",
     S4 + "nisa.exponential(a, a, reduce_cmd=3)"),
    ("op0 must be an ALU operation such as nl.add or np.maximum, not 'x'",
     S4 + "nisa.activate2(a, nl.exp, a, 1.0, 1.0, 'x', nl.add)"),
    ("reverse1 must be True or False, not 1",
     S4 + "nisa.activate2(a, nl.exp, a, 1.0, 1.0, nl.add, nl.bypass, reverse1=1)"),
    ("nisa.activate2: imm1 must be a number or a tile, not str",
     S4 + "nisa.activate2(a, nl.exp, a, 1.0, 's', nl.add, nl.bypass)"),
    ("nisa.nc_n_gather: indices has dtype float32, but it must be uint32",
     S4 + "nisa.nc_n_gather(a, a, a)"),
    ("nisa.nc_n_gather: dst has shape [4, 4] but indices has [4, 2]",
     S4 + "i = nl.ndarray((4, 2), dtype=nl.uint32, buffer=nl.sbuf)\nnisa.nc_n_gather(a, a, i)"),
    ("nisa.nc_n_gather: dst has dtype int32, but it must be float32",
     S4 + "i = nl.ndarray((4, 2), dtype=nl.uint32, buffer=nl.sbuf)\n"
     "d = nl.ndarray((4, 2), dtype=nl.int32, buffer=nl.sbuf)\nnisa.nc_n_gather(d, a, i)"),
    ("nisa.nc_n_gather: data is in PSUM, but it must be in SBUF",
     "p = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.psum)\n"
     "i = nl.ndarray((4, 2), dtype=nl.uint32, buffer=nl.sbuf)\n"
     "d = nl.ndarray((4, 2), dtype=nl.float32, buffer=nl.sbuf)\nnisa.nc_n_gather(d, p, i)"),
    ("nisa.dma_compute: srcs must be a non-empty list of tensors, not []",
     S4 + "nisa.dma_compute(a, [], nl.add)"),
    ("nisa.dma_compute: scales must be a list of 2 numbers, one per source, not [1.0]",
     S4 + "nisa.dma_compute(a, [a, a], nl.add, scales=[1.0])"),
    ("nisa.dma_compute: only oob_mode error is supported (Core's dmaCompute has no out-of-bounds mode)",
     S4 + "nisa.dma_compute(a, [a], nl.add, oob_mode=nisa.oob_mode.skip)"),
    ("nisa.dma_compute: srcs[1] has 8 elements ([4, 2]) but dst has 16 ([4, 4])",
     S4 + "b = nl.ndarray((4, 2), dtype=nl.float32, buffer=nl.sbuf)\nnisa.dma_compute(a, [a, b], nl.add)"),
    ("nisa.dma_compute: srcs[0] is in PSUM, but it must be in HBM or SBUF",
     S4 + "p = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.psum)\nnisa.dma_compute(a, [p], nl.add)"),
]


@pytest.mark.parametrize(("message", "body"), ERRORS, ids=[m[:60] for m, _ in ERRORS])
def test_errors(tmp_path: Path, message: str, body: str) -> None:
    lines = body.splitlines()
    src = "def kernel(x):\n" + "".join(f"    {line}\n" for line in lines) + "    return x\n"
    err = trace_error(tmp_path, src, np.zeros((4, 4), np.float32), header=BETA2)
    assert err.message == message
    assert where(err) == (BETA2.count("\n") + 1 + len(lines), 5 + lines[-1].index("nisa."))
