"""nisa.quantize_mx and nisa.nc_matmul_mx, traced and run against an independent numpy model of
NKI's documented MX quantization (OCP MX v1.0, scale 2 ** (floor(log2 amax) - (Emax - 1)))."""

from __future__ import annotations

from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from tests.tracer.nki.util import BETA2, op_names, run_kernel, trace_error, trace_kernel, where

FORMATS = {"float8_e4m3fn_x4": (ml_dtypes.float8_e4m3fn, 8), "float8_e5m2_x4": (ml_dtypes.float8_e5m2, 15)}


def quantize(x: np.ndarray, fmt: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(packed uint32 words [P, F/4], scale bytes [P/8, F/4], dequantized values [P, F])."""
    kind, emax = FORMATS[fmt]
    p, f = x.shape
    x = x.astype(np.float32)
    words = np.zeros((p, f // 4), np.uint32)
    scales = np.zeros((p // 8, f // 4), np.uint8)
    back = np.zeros((p, f), np.float32)
    for g in range(p // 8):
        for j in range(f // 4):
            block = x[8 * g:8 * g + 8, 4 * j:4 * j + 4]
            amax = float(np.abs(block).max())
            e = int(np.floor(np.log2(amax))) - (emax - 1) if amax > 0 else -127
            scales[g, j] = e + 127
            q = (block / np.float32(2.0**e)).astype(kind)
            back[8 * g:8 * g + 8, 4 * j:4 * j + 4] = q.astype(np.float32) * np.float32(2.0**e)
            codes = q.view(np.uint8).astype(np.uint32)
            words[8 * g:8 * g + 8, j] = sum(codes[:, i] << (8 * i) for i in range(4))
    return words, scales, back


QUANTIZE = """
def kernel(x):
    src = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
    nisa.dma_copy(dst=src, src=x)
    q = nl.ndarray((x.shape[0], x.shape[1] // 4), dtype=nl.{fmt}, buffer=nl.sbuf)
    s = nl.ndarray((x.shape[0], x.shape[1] // 4), dtype=nl.uint8, buffer=nl.sbuf)
    nisa.memset(s, 0)
    nisa.quantize_mx(q, src, s)
    qo = nl.ndarray(q.shape, dtype=nl.uint32, buffer=nl.shared_hbm)
    so = nl.ndarray(s.shape, dtype=nl.uint8, buffer=nl.shared_hbm)
    nisa.dma_copy(dst=qo, src=q.view(nl.uint32))
    nisa.dma_copy(dst=so, src=s)
    return qo, so
"""


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_quantize_mx_words_and_scales(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((64, 16)) * rng.choice([1e-3, 1.0, 300.0], (64, 1))).astype(np.float16)
    x[8:16, 4:8] = 0   # an all-zero group: scale 2 ** -127
    words, scales, _ = quantize(x, fmt)
    qo, so = run_kernel(tmp_path, QUANTIZE.format(fmt=fmt), x, header=BETA2)
    np.testing.assert_array_equal(qo, words)
    rows = [(g // 4) * 32 + g % 4 for g in range(8)]   # each quadrant keeps its scales in its top rows
    np.testing.assert_array_equal(so[rows], scales)
    assert scales[1, 1] == 0
    others = np.ones(64, bool)
    others[rows] = False
    assert (so[others] == 0).all()   # the other rows keep the memset value


def test_quantize_then_matmul_mx(tmp_path: Path) -> None:
    src = """
    def kernel(a, b):
        sa = nl.ndarray((32, 16), dtype=nl.float16, buffer=nl.sbuf)
        sb = nl.ndarray((32, 32), dtype=nl.float16, buffer=nl.sbuf)
        nisa.dma_copy(dst=sa, src=a)
        nisa.dma_copy(dst=sb, src=b)
        qa = nl.ndarray((32, 4), dtype=nl.float8_e4m3fn_x4, buffer=nl.sbuf)
        qb = nl.ndarray((32, 8), dtype=nl.float8_e5m2_x4, buffer=nl.sbuf)
        ca = nl.ndarray((32, 4), dtype=nl.uint8, buffer=nl.sbuf)
        cb = nl.ndarray((32, 8), dtype=nl.uint8, buffer=nl.sbuf)
        nisa.quantize_mx(dst=qa, src=sa, dst_scale=ca)
        nisa.quantize_mx(dst=qb, src=sb, dst_scale=cb)
        acc = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.psum)
        nisa.nc_matmul_mx(acc, qa, qb, ca, cb)
        nisa.nc_matmul_mx(acc, qa, qb, ca, cb)
        once = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.psum)
        nisa.nc_matmul_mx(once, qa, qb, ca, cb, accumulate=True)
        nisa.nc_matmul_mx(dst=once, stationary=qa, moving=qb, stationary_scale=ca, moving_scale=cb,
                          tile_position=(0, 0), tile_size=(128, 128), accumulate=False)
        o1 = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        o2 = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=o1, src=acc)
        nisa.dma_copy(dst=o2, src=once)
        return o1, o2
    """
    rng = np.random.default_rng(3)
    a = rng.standard_normal((32, 16)).astype(np.float16)
    b = rng.standard_normal((32, 32)).astype(np.float16)
    _, _, da = quantize(a, "float8_e4m3fn_x4")
    _, _, db = quantize(b, "float8_e5m2_x4")
    want = np.einsum("kmq,knq->mn", da.reshape(32, 4, 4), db.reshape(32, 8, 4))
    twice, once = run_kernel(tmp_path, src, a, b, header=BETA2)
    np.testing.assert_allclose(once, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(twice, 2 * want, rtol=1e-5, atol=1e-5)
    # quantization error is bounded by the formats' precision
    exact = np.einsum("kmq,knq->mn", a.astype(np.float32).reshape(32, 4, 4),
                      b.astype(np.float32).reshape(32, 8, 4))
    assert np.abs(once - exact).max() < 0.2 * np.abs(exact).max()


def test_matmul_mx_zeroes_a_fresh_psum_tile(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        q = nl.ndarray((32, 2), dtype=nl.float8_e4m3fn_x4, buffer=nl.sbuf)
        s = nl.ndarray((32, 2), dtype=nl.uint8, buffer=nl.sbuf)
        acc = nl.ndarray((2, 2), dtype=nl.float32, buffer=nl.psum)
        nisa.nc_matmul_mx(acc, q, q, s, s)
        return x
    """
    got = op_names(trace_kernel(tmp_path, src, np.zeros((1, 1), np.float32), header=BETA2))
    assert got == ["memSet", "ncMatMulMX"]


Q = ("a = nl.ndarray((32, 16), dtype=nl.float16, buffer=nl.sbuf)\n"
     "q = nl.ndarray((32, 4), dtype=nl.float8_e4m3fn_x4, buffer=nl.sbuf)\n"
     "s = nl.ndarray((32, 4), dtype=nl.uint8, buffer=nl.sbuf)\n")
P = "p = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.psum)\n"
ERRORS = [
    ("nisa.quantize_mx: dst must have a quarter of src's 16 elements per partition (packed by four), not 2",
     Q + "d = nl.ndarray((32, 2), dtype=nl.float8_e4m3fn_x4, buffer=nl.sbuf)\nnisa.quantize_mx(d, a, s)"),
    ("nisa.quantize_mx: dst has dtype float16, but it must be float8_e5m2_x4, float8_e4m3fn_x4 or "
     "float4_e2m1fn_x4",
     Q + "nisa.quantize_mx(a, a, s)"),
    ("nisa.quantize_mx: src is in PSUM, but it must be in SBUF",
     Q + "b = nl.ndarray((32, 16), dtype=nl.float16, buffer=nl.psum)\nnisa.quantize_mx(q, b, s)"),
    ("nisa.quantize_mx: dst_scale has dtype float32, but it must be uint8",
     Q + "t = nl.ndarray((32, 4), dtype=nl.float32, buffer=nl.sbuf)\nnisa.quantize_mx(q, a, t)"),
    ("nisa.quantize_mx: dst_scale has shape [2, 4], but the scales of src need 4 rows and 4 columns",
     Q + "t = nl.ndarray((2, 4), dtype=nl.uint8, buffer=nl.sbuf)\nnisa.quantize_mx(q, a, t)"),
    ("nisa.nc_matmul_mx: dst is in SBUF, but it must be in PSUM",
     Q + "d = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf)\nnisa.nc_matmul_mx(d, q, q, s, s)"),
    ("nisa.nc_matmul_mx: moving has dtype float16, but it must be float8_e5m2_x4, float8_e4m3fn_x4 or "
     "float4_e2m1fn_x4",
     Q + P + "nisa.nc_matmul_mx(p, q, a, s, s)"),
    ("nisa.nc_matmul_mx: dst of shape [4, 2] must be [4, 4] for stationary [32, 4] and moving [32, 4]",
     Q + "p = nl.ndarray((4, 2), dtype=nl.float32, buffer=nl.psum)\nnisa.nc_matmul_mx(p, q, q, s, s)"),
    ("nisa.nc_matmul_mx: moving_scale has dtype float16, but it must be uint8",
     Q + P + "nisa.nc_matmul_mx(p, q, q, s, a)"),
    ("nisa.nc_matmul_mx: tile_size must be a pair of non-negative integers, not [128]",
     Q + P + "nisa.nc_matmul_mx(p, q, q, s, s, tile_size=[128])"),
    ("accumulate must be True or False, not 1",
     Q + P + "nisa.nc_matmul_mx(p, q, q, s, s, accumulate=1)"),
]


@pytest.mark.parametrize(("message", "body"), ERRORS, ids=[m[:60] for m, _ in ERRORS])
def test_errors(tmp_path: Path, message: str, body: str) -> None:
    lines = body.splitlines()
    src = "def kernel(x):\n" + "".join(f"    {line}\n" for line in lines) + "    return x\n"
    err = trace_error(tmp_path, src, np.zeros((4, 4), np.float32), header=BETA2)
    assert err.message == message
    assert where(err) == (BETA2.count("\n") + 1 + len(lines), 5 + lines[-1].index("nisa."))
