"""MX (microscaling, OCP MX v1.0) quantization and matrix multiply.

Layouts (NKI's quantize_mx and nc_matmul_mx, the "MXFP matmul" guide):

* A packed element (``float8_e5m2_x4``, ``float8_e4m3fn_x4``: a 32-bit word;
  ``float4_e2m1fn_x4``: a 16-bit word) holds 4 values of the contraction, value q in bits
  ``[q*w, (q+1)*w)`` (w = 8 or 4): the little-endian order of 4 consecutive free elements.
* A scaling group is 8 partitions x 4 values (one packed column of 8 partitions); its scale is
  one uint8 E8M0 byte, the value ``2 ** (byte - 127)`` (255 is NaN). The scale of group g
  (partitions 8g..8g+7) is in row ``(g // 4) * 32 + g % 4`` of the scale view (each quadrant of
  32 partitions keeps its 4 scale rows at its top), column = the packed column.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from klr.core.mathops import MatMulMX, QuantizeMX
from klr.dtypes import Dtype
from klr.interp.machine import F32, Core, merge
from klr.interp.registry import impl

_FORMATS = {  # packed dtype -> (one value's numpy type, bits per value, largest unbiased exponent)
    Dtype.float8_e5m2_x4: (np.dtype(ml_dtypes.float8_e5m2), 8, 15),
    Dtype.float8_e4m3fn_x4: (np.dtype(ml_dtypes.float8_e4m3fn), 8, 8),
    Dtype.float4_e2m1fn_x4: (np.dtype(ml_dtypes.float4_e2m1fn), 4, 2),
}
GROUP_ROWS = 8


def scale_rows(partitions: int) -> np.ndarray:
    """The scale-view row of each partition's scaling group."""
    g = np.arange(partitions) // GROUP_ROWS
    return (g // 4) * 32 + g % 4


def unpack(words: np.ndarray, fmt: tuple[np.dtype, int, int]) -> np.ndarray:
    """[P, F] packed words -> [P, F, 4] float32 values."""
    value_type, bits, _ = fmt
    w = words.astype(np.uint32)
    parts = [(w >> np.uint32(q * bits)) & np.uint32((1 << bits) - 1) for q in range(4)]
    codes = np.stack(parts, axis=-1).astype(np.uint8)
    return codes.view(value_type).astype(F32)


def _scales(ctx: Core, ref: object, partitions: int, columns: int) -> np.ndarray:
    """[partitions, columns] float32 scale factors from a uint8 scale view (its shape rule
    guarantees the rows and columns)."""
    byte = ctx.load(ref).num(np.int64)[scale_rows(partitions)][:, :columns]
    factor = np.ldexp(np.float32(1.0), (byte - 127).astype(np.int32)).astype(F32)
    return np.where(byte == 255, np.float32(np.nan), factor)


@impl(MatMulMX)
def matmul_mx(ctx: Core, op: MatMulMX) -> None:
    """dst[m, n] += sum over k, q of stationary[k, m, q]*s[k, m] * moving[k, n, q]*t[k, n], in
    float32, where s and t are the scales of the groups the values belong to."""
    st, mv = ctx.load(op.stationary), ctx.load(op.moving)
    a = unpack(st.values, _FORMATS[st.dtype])
    b = unpack(mv.values, _FORMATS[mv.dtype])
    a = a * _scales(ctx, op.stationaryScale, st.P, st.F)[:, :, None]
    b = b * _scales(ctx, op.movingScale, mv.P, mv.F)[:, :, None]
    dst = ctx.load(op.dst)
    product = np.einsum("kmq,knq->mn", a, b, dtype=F32)
    origin = merge(dst.origin,
                   None if st.origin is None else st.origin.min(axis=0)[:, None],
                   None if mv.origin is None else mv.origin.min(axis=0)[None, :])
    ctx.store(op.dst, dst.num(F32) + product, origin)


@impl(QuantizeMX)
def quantize_mx(ctx: Core, op: QuantizeMX) -> None:
    """Per scaling group: X = 2 ** (e - (Emax - 1)) where e is the float32 exponent of the
    group's largest magnitude (biased byte e - Emax + 1, clamped to 0..254: an all-zero group
    gets 2**-127); each value / X rounded to the packed type's format."""
    src = ctx.load(op.src)
    dtype = ctx.view(op.dst).dtype
    value_type, bits, emax = _FORMATS[dtype]
    p, f = src.P, src.F
    x = src.num(F32).reshape(p // GROUP_ROWS, GROUP_ROWS, f // 4, 4)
    amax = np.abs(x).max(axis=(1, 3))
    exponent = (amax.view(np.uint32) >> np.uint32(23)).astype(np.int64) & 0xFF
    byte = np.clip(exponent - (emax - 1), 0, 254)
    scale = np.ldexp(np.float32(1.0), (byte - 127).astype(np.int32)).astype(F32)
    with np.errstate(all="ignore"):
        q = (x / scale[:, None, :, None]).astype(value_type).view(np.uint8).astype(np.uint32)
    q = q.reshape(p, f // 4, 4) & np.uint32((1 << bits) - 1)
    words = sum(q[:, :, i] << np.uint32(i * bits) for i in range(4))
    row_origin = None if src.origin is None else src.origin.reshape(p, f // 4, 4).min(axis=2)
    ctx.store(op.dst, np.asarray(words), row_origin, wrap=True)
    sp, sf = ctx.shape(op.dstScale)
    rows = scale_rows(p)[::GROUP_ROWS]
    out = np.zeros((sp, sf), np.int64)
    where = np.zeros((sp, sf), bool)
    out[rows, :f // 4] = byte
    where[rows, :f // 4] = True
    scale_origin = None
    if row_origin is not None:
        scale_origin = np.full((sp, sf), np.iinfo(np.int32).max, np.int32)
        scale_origin[rows, :f // 4] = row_origin.reshape(p // GROUP_ROWS, GROUP_ROWS, f // 4).min(axis=1)
    ctx.store(op.dstScale, out, scale_origin, where=where)
