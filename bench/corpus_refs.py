"""Our own numpy references for kernels of the public corpus (shared/corpus.json).

``REFS`` maps ``"<repo>:<path>:<kernel>"`` to ``reference(inputs, kwargs)``, where ``inputs``
are the kernel's positional arguments exactly as the benchmark passed them (numpy arrays or
Python values) and ``kwargs`` its keyword arguments. A reference returns either

* a tuple of arrays, compared in order with the kernel's outputs, or
* a dict ``{parameter name: array}`` for kernels that write into an argument instead of
  returning a tensor; compared with that input buffer after the run, or
* a function of the list of outputs returning "" when they have the property the kernel's
  own test checks, else why not (kernels whose outputs depend on random numbers).

NaN in an expected array means "not specified" (elements the kernel never writes).
``TOL`` overrides the per-dtype tolerance for kernels that round through a narrower dtype.
Everything here is written from the kernels' documented semantics; none of it is copied.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ml_dtypes
import numpy as np

Ref = Callable[[list[Any], dict[str, Any]], Any]

SAMPLES = "aws-neuron/nki-samples"
SDK = "aws-neuron/aws-neuron-sdk"
TUTORIALS = f"{SAMPLES}:src/nki_samples/tutorials"
_ATTN_FWD = f"{TUTORIALS}/attention_fwd_performance/attention_kernels.py"
_MAMBA = f"{TUTORIALS}/fused_mamba/mamba_nki_kernels.py"
_ROTARY = f"{TUTORIALS}/rotary/rotary_nki_kernels.py"
_REF_ATTN = f"{SAMPLES}:src/nki_samples/reference/attention.py"
_ATTN_VERSIONS = ("v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v8a", "v9", "v11")
FP32_MIN = float(np.finfo(np.float32).min)


def _f64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _like(result: np.ndarray, template: np.ndarray) -> np.ndarray:
    return np.asarray(result).astype(template.dtype)


def add_pair(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    a, b = inputs[:2]
    return (_like(_f64(a) + _f64(b), a),)


def average_pool(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    image = inputs[0]
    pool = inputs[1] if len(inputs) > 1 else kwargs["pool_size"]
    c, h, w = image.shape
    windows = _f64(image)[:, : h // pool * pool, : w // pool * pool]
    windows = windows.reshape(c, h // pool, pool, w // pool, pool)
    return (_like(windows.mean(axis=(2, 4)), image),)


def rmsnorm_no_eps(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    a, g = inputs[:2]
    rows = _f64(a)
    return (_like(rows / np.sqrt((rows * rows).mean(axis=1, keepdims=True)) * _f64(g), a),)


def softmax_rows(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    x = _f64(inputs[0])
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return (_like(e / e.sum(axis=1, keepdims=True), inputs[0]),)


def layernorm(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    args = dict(zip(("input_tensor", "epsilon", "gamma_vector", "beta_vector"), inputs, strict=False))
    args.update(kwargs)
    x = _f64(args["input_tensor"])
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    out = (x - mean) / np.sqrt(var + args["epsilon"]) * _f64(args["gamma_vector"]) + _f64(args["beta_vector"])
    return (_like(out, args["input_tensor"]),)


def row_block_transpose(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    x, (rows, cols) = inputs[0], tuple(inputs[1])
    return (x.reshape(x.shape[0], rows, cols).transpose(0, 2, 1).reshape(x.shape),)


def activation_pair(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    a, b, c = (_f64(x) for x in inputs[:3])
    # The second result is produced in bfloat16 and stored into an fp32 tensor.
    second = np.square(b * 2.0 + c).astype(ml_dtypes.bfloat16).astype(np.float32)
    return (np.exp(a).astype(np.float32), second)


def strict_lower_keep(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    a = inputs[0]
    row, col = np.indices(a.shape)
    return (np.where(col < row, a, np.float32(FP32_MIN)).astype(a.dtype),)


def mean_and_var(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    a = _f64(inputs[0])
    dtype = inputs[0].dtype
    return (a.mean(axis=1, keepdims=True).astype(dtype), a.var(axis=1, keepdims=True).astype(dtype))


def rotate_partitions(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Within each group of 32 partitions, partition i receives partition (i - 1) mod 32."""
    a = inputs[0]
    src = [g * 32 + (i - 1) % 32 for g in range(a.shape[0] // 32) for i in range(32)]
    return (a[src].astype(np.float32),)


def broadcast_partition0(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return (np.repeat(inputs[0][:1], 32, axis=0).astype(np.float32),)


def transpose_both(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return tuple(np.ascontiguousarray(x.T) for x in inputs[:2])


def tensor_scalar_trio(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    a, c, e, f = inputs[:4]
    return (_like(_f64(a) - 1.0, a), _like(1.0 - _f64(c), c), _like(_f64(e) * _f64(f) + 2.5, e))


def mul_add_scan(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Along each row: acc = a[i] * acc + b[i], starting from 0; the running values."""
    a, b = _f64(inputs[0]), _f64(inputs[1])
    out = np.empty_like(a)
    acc = np.zeros(a.shape[0])
    for i in range(a.shape[1]):
        acc = a[:, i] * acc + b[:, i]
        out[:, i] = acc
    return (out.astype(inputs[0].dtype),)


def identity(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return (np.array(inputs[0], copy=True),)


def reciprocal(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return (_like(1.0 / _f64(inputs[0]), inputs[0]),)


def exponential(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return (_like(np.exp(_f64(inputs[0])), inputs[0]),)


def square_corner(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return (_like(np.square(_f64(inputs[0])[:64, :256]), inputs[0]),)


def gather_rows_by_index(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    data, idx = inputs[:2]
    return (data[np.asarray(idx).astype(np.int64)],)


def gather_even_rows(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return (inputs[0][2 * np.arange(64)],)


def scatter_even_rows(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    src = inputs[0]
    out = np.full((128, src.shape[1]), np.nan, dtype=src.dtype)
    out[2 * np.arange(64)] = src
    return (out,)


def transpose_one(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return (np.ascontiguousarray(inputs[0].T),)


def transpose_into_second(inputs: list[Any], kwargs: dict[str, Any]) -> dict[str, np.ndarray]:
    return {"tp_ptr": np.ascontiguousarray(inputs[0].T).astype(inputs[1].dtype)}


def attention_dq(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """q, k, v laid out [d_head, seqlen]: softmax over keys of q^T k, times v^T; [seqlen_q, d_head]."""
    q, k, v = (_f64(x) for x in inputs[:3])
    scores = q.T @ k
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return ((weights @ v.T).astype(np.float32),)


def selective_scan(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Mamba's SSM: per batch, channel c and state n, h_t = exp(delta_t * A[c, n]) * h_{t-1}
    + delta_t * u_t * B[n, t] from h = 0; the output is sum over n of h_t * C[n, t]."""
    delta, u, a, b, c = (_f64(x) for x in inputs[:5])
    out = np.empty_like(delta)
    for i in range(delta.shape[0]):
        h = np.zeros(a.shape)  # [channels, state]
        for t in range(delta.shape[2]):
            d = delta[i, :, t][:, None]
            h = np.exp(d * a) * h + d * u[i, :, t][:, None] * b[i, :, t][None, :]
            out[i, :, t] = h @ c[i, :, t]
    return (out.astype(inputs[0].dtype),)


def _rotate(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotary embedding over the last axis: x * cos + rotate_half(x) * sin, where
    rotate_half(x) = concat(-x[half:], x[:half])."""
    half = x.shape[-1] // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def rotary_qk(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """q, k [batch, heads, seq, head_dim]; cos, sin [batch, seq, head_dim]; out [2, *q.shape]."""
    q, k, cos, sin = (_f64(x) for x in inputs[:4])
    cos, sin = cos[:, None], sin[:, None]
    return (np.stack([_rotate(q, cos, sin), _rotate(k, cos, sin)]).astype(inputs[0].dtype),)


def _softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sd_attention(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """q [b, d, s], k and v [b, s, d]: softmax(0.125 q^T k^T) v per batch, [b, s, d]; with
    use_causal_mask, scores of keys after the query are -9984 (the kernel's stand-in for -inf)."""
    q, k, v = (_f64(x) for x in inputs[:3])
    scores = 0.125 * np.einsum("bdq,bkd->bqk", q, k)
    if kwargs.get("use_causal_mask", inputs[3] if len(inputs) > 3 else False):
        qi, ki = np.indices(scores.shape[1:])
        scores = np.where(qi >= ki, scores, -9984.0)
    return ((_softmax_rows(scores) @ v).astype(inputs[0].dtype),)


# --- kernels drawing random numbers: the properties their tests check --------------------------


def _problems(*checks: tuple[bool, str]) -> str:
    return "; ".join(why for ok, why in checks if not ok)


def dropped_or_kept(inputs: list[Any], kwargs: dict[str, Any]) -> Callable[[Sequence[np.ndarray]], str]:
    a = inputs[0]

    def prop(outs: Sequence[np.ndarray]) -> str:
        out = outs[0]
        return _problems((bool(np.all((out == 0) | (out == a))), "an element is neither 0 nor its input"),
                         (bool(np.any(out != 0)), "every element was dropped"))
    return prop


def top8_descending(inputs: list[Any], kwargs: dict[str, Any]) -> Callable[[Sequence[np.ndarray]], str]:
    def prop(outs: Sequence[np.ndarray]) -> str:
        out = outs[0]
        return _problems((out.shape == (32, 8), f"shape {out.shape}"),
                         (bool(np.all((out >= 0) & (out <= 1))), "a value outside [0, 1]"),
                         (bool(np.all(np.diff(out, axis=1) <= 0)), "a row is not descending"))
    return prop


def distinct_indices(inputs: list[Any], kwargs: dict[str, Any]) -> Callable[[Sequence[np.ndarray]], str]:
    def prop(outs: Sequence[np.ndarray]) -> str:
        out = outs[0]
        return _problems((out.dtype == np.uint32, f"dtype {out.dtype}"),
                         (bool(np.all(out < 128)), "an index outside [0, 128)"),
                         (bool(np.all(np.diff(out.astype(np.int64), axis=1) != 0)), "repeated index"))
    return prop


def eight_replaced(inputs: list[Any], kwargs: dict[str, Any]) -> Callable[[Sequence[np.ndarray]], str]:
    def prop(outs: Sequence[np.ndarray]) -> str:
        out = outs[0]
        ninf = np.isneginf(out)
        return _problems((bool(np.all(ninf.sum(axis=1) == 8)), "a row without exactly 8 -inf"),
                         (bool(np.all((out[~ninf] >= 0) & (out[~ninf] <= 1))), "a value outside [0, 1]"))
    return prop


def gathered_columns(inputs: list[Any], kwargs: dict[str, Any]) -> Callable[[Sequence[np.ndarray]], str]:
    def prop(outs: Sequence[np.ndarray]) -> str:
        data, idx, got = outs
        want = np.take_along_axis(data, idx.astype(np.int64), axis=-1)
        return _problems((bool(np.array_equal(idx[0], 5 * np.arange(10))), "indices are not 0, 5, .. 45"),
                         (bool(np.allclose(got, want)), "result differs from take_along_axis"))
    return prop


# --- deterministic kernels of the second batch --------------------------------------------------


def _replace_top8(a: np.ndarray, imm: float) -> tuple[np.ndarray, np.ndarray]:
    """Each row's 8 largest values (first occurrences, largest first) replaced by imm, and
    their positions."""
    rows = a.reshape(a.shape[0], -1).astype(np.float32)
    order = np.argsort(-rows, axis=1, kind="stable")[:, :8]
    out = rows.copy()
    np.put_along_axis(out, order, np.float32(imm), axis=1)
    return out.reshape(a.shape), order.astype(np.uint32)


def replace_top8(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    imm = kwargs.get("imm", inputs[1] if len(inputs) > 1 else 0.0)
    return _replace_top8(inputs[0], imm)


def replace_top8_zero(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return _replace_top8(inputs[0], 0.0)


def replace_top8_corner(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Only the [:64, :256] corner is specified (the mask); indices of its first 64 rows."""
    a = inputs[0]
    out, idx = _replace_top8(a[:64, :256], kwargs["imm"])
    full = np.full(a.shape, np.nan, np.float32)
    full[:64, :256] = out
    idx_full = np.full((a.shape[0], 8), np.nan)
    idx_full[:64] = idx
    return full, idx_full


def range_select_chain(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Three selections of index ranges 32 + 128*i + j (kept where bound0 <= index < bound1),
    the tile growing by 1 each time; the last selection and the running max of all three."""
    x, b0, b1, start = _f64(inputs[0]), _f64(inputs[1]), _f64(inputs[2]), inputs[5]
    fill = FP32_MIN
    best = np.full((x.shape[0], 1), -np.inf)
    selected = x
    for i in range(3):
        index = start + i * x.shape[0] + np.arange(x.shape[1])[None, :]
        selected = np.where((index >= b0) & (index < b1), x + i, fill)
        best = np.maximum(best, selected.max(axis=1, keepdims=True))
    return selected.astype(np.float32), best.astype(np.float32)


def segment_bounds(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    ids = kwargs["segment_ids"]
    p, n = ids.shape
    out = np.zeros((p, 2, n), np.float64)
    for r in range(p):
        for i in range(n):
            if ids[r, i] == 0:
                out[r, :, i] = (n, -1)
                continue
            lo = i
            while lo > 0 and ids[r, lo - 1] == ids[r, i]:
                lo -= 1
            hi = i + 1
            while hi < n and ids[r, hi] == ids[r, i]:
                hi += 1
            out[r, :, i] = (lo, hi)
    return (out.astype(ids.dtype),)


def _imm(v: Any) -> Any:
    return _f64(v) if isinstance(v, np.ndarray) else float(v)


def cumulative_add(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Running sum of src + imm0, from imm1 when given with load_reduce (see SYMBOLIC_ARGS)."""
    src = _f64(inputs[0])
    start = _imm(kwargs["imm1"]) if "imm1" in kwargs else 0.0
    return ((np.cumsum(src + _imm(kwargs["imm0"]), axis=1) + start).astype(np.float32),)


def cumulative_product_twice(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """reset_reduce then reduce with op1 = multiply: the second pass continues from the first's end."""
    run = np.cumprod(_f64(inputs[0]) + _imm(kwargs["imm0"]), axis=1)
    return ((run * run[:, -1:]).astype(np.float32),)


def scan_from_initial(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return ((np.cumsum(_f64(inputs[0]), axis=1) + float(kwargs["initial"])).astype(np.float32),)


def scatter_rows_by_index(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    src, idx = inputs[:2]
    out = np.full((128, src.shape[1]), np.nan, dtype=np.float64)
    out[np.asarray(idx).astype(np.int64)] = src  # repeated indices: the last write wins
    return (out,)


_MR8 = f"{SDK}:nki/test/test_nki_isa_nc_match_replace8.py"
_CUM = f"{SDK}:nki/test/test_nki_isa_tensor_scalar_cumulative.py"

def _masked(scores: np.ndarray, causal: bool, window: int) -> np.ndarray:
    """Scores of keys a query may not see set to -9984 (the kernels' stand-in for -inf): keys
    after the query when causal, and with a window > 0 also keys >= window positions back."""
    if not (causal or window > 0):
        return scores
    qi, ki = np.indices(scores.shape[-2:])
    hidden = ki > qi
    if window > 0:
        hidden |= ki <= qi - window
    return np.where(hidden, -9984.0, scores)


def flash_attention_forward(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """q [b, h, d, sq], k [b, kh, d, sk], v [b, kh, sk, d] (query head j reads kv head
    j // (h / kh)); scale 1/sqrt(d). o [b, h, sq, d] and, when training, the log-sum-exp of each
    query's scores laid out [b, h, 128, sq / 128] (query t*128 + p at [p, t])."""
    q, k, v = (_f64(x) for x in inputs[:3])
    group = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    scale = kwargs.get("softmax_scale") or 1.0 / np.sqrt(q.shape[2])
    window = kwargs.get("sliding_window", -1)
    scores = _masked(np.einsum("bhdq,bhdk->bhqk", q * scale, k), kwargs.get("use_causal_mask", True), window)
    top = scores.max(axis=-1, keepdims=True)
    total = np.exp(scores - top).sum(axis=-1, keepdims=True)
    out = (np.exp(scores - top) / total @ v).astype(inputs[0].dtype)
    config = kwargs.get("config")
    if config is not None and not _config_fields(config).get("training", True):
        return (out,)
    lse = (top + np.log(total))[..., 0]
    b, h, sq = lse.shape
    return (out, lse.reshape(b, h, sq // 128, 128).transpose(0, 1, 3, 2).astype(np.float32))


def _config_fields(call: Any) -> dict[str, Any]:
    """The literal keyword values of a FlashConfig(...) argument the benchmark built."""
    return {kw.id: getattr(kw.value.expr.value, "value", None) for kw in call.expr.keywords}


def flash_attention_backward(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """The gradients the kernel computes from q, k, v, o, dy [b, h(kv), d, s] and the forward's
    log-sum-exp lse [b, h, 128, s / 128], recomputing P = exp(scale q^T k - lse) (masked
    scores count as 0): dV = dy P, dS = P (dy^T v - rowsum(dy o)), dK = scale q dS,
    dQ = scale k dS^T; kv heads sum over their query heads. With sinks [b, h] also
    dsinks = -sum_q exp(sink - lse_q) rowsum(P (dy^T v))_q."""
    q, k, v, o, dy, lse = (_f64(x) for x in inputs[:6])
    b, h, d, s = q.shape
    group = h // k.shape[1]
    k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    scale = kwargs.get("softmax_scale") or 1.0 / np.sqrt(d)
    row_lse = lse.transpose(0, 1, 3, 2).reshape(b, h, s)[..., None]
    scores = _masked(np.einsum("bhdq,bhdk->bhqk", q * scale, k), kwargs.get("use_causal_mask", False),
                     kwargs.get("sliding_window", -1))
    p = np.exp(scores - row_lse)
    dp = np.einsum("bhdq,bhdk->bhqk", dy, v)
    ds = p * (dp - np.einsum("bhdq,bhdq->bhq", dy, o)[..., None])
    dq = scale * np.einsum("bhdk,bhqk->bhdq", k, ds)
    per_kv = (b, h // group, group, d, s)
    dk = (scale * np.einsum("bhdq,bhqk->bhdk", q, ds)).reshape(per_kv).sum(axis=2)
    dv = np.einsum("bhdq,bhqk->bhdk", dy, p).reshape(per_kv).sum(axis=2)
    grads = tuple(g.astype(inputs[0].dtype) for g in (dq, dk, dv))
    sinks = kwargs.get("sinks")
    if sinks is None:
        return grads
    p_sink = np.exp(_f64(sinks)[..., None] - row_lse[..., 0])
    return (*grads, (-(p_sink * (p * dp).sum(axis=-1)).sum(axis=-1)).astype(np.float32))


def add_first_elements(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """a + b on the first n_elements elements (row-major); the rest are not written."""
    a, b, n = inputs[:3]
    out = (_f64(a) + _f64(b)).astype(a.dtype).reshape(-1)
    out[n:] = np.nan
    return (out.reshape(a.shape),)


def _upsample_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """Linear 2x upsampling along ``axis`` with half-pixel centres (align_corners=False):
    output o samples source coordinate max((o + 0.5) / 2 - 0.5, 0), edges clamped."""
    n = x.shape[axis]
    coord = np.maximum((np.arange(2 * n) + 0.5) / 2 - 0.5, 0.0)
    lo = np.floor(coord).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    w = (coord - lo).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    return np.take(x, lo, axis=axis) * (1 - w) + np.take(x, hi, axis=axis) * w


def bilinear_2x(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """[N, C, H, W] -> [N*C, 2H, 2W], bilinear, align_corners=False."""
    x = _f64(inputs[0])
    n, c, h, w = x.shape
    out = _upsample_axis(_upsample_axis(x.reshape(n * c, h, w), 1), 2)
    return (out.astype(inputs[0].dtype),)


def split_even_odd_columns(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    x = inputs[0]
    return (np.ascontiguousarray(x[:, 0::2]), np.ascontiguousarray(x[:, 1::2]))


def max_pool(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """[C, H, W] -> [C, H/P, W/P], the maximum of each P x P window."""
    image, pool = inputs[0], inputs[1]
    c, h, w = image.shape
    windows = image[:, : h // pool * pool, : w // pool * pool].reshape(c, h // pool, pool, w // pool, pool)
    return (windows.max(axis=(2, 4)),)


def range_select_once(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Elements whose index range_start + j lies in [bound0, bound1) kept, others fp32 min (the
    kernel's on_false_value), in the requested dtype; and each row's maximum."""
    x, b0, b1, start, dtype = _f64(inputs[0]), _f64(inputs[1]), _f64(inputs[2]), inputs[5], np.float32
    index = start + np.arange(x.shape[1])[None, :]
    selected = np.where((index >= b0) & (index < b1), x, FP32_MIN)
    return selected.astype(dtype), selected.max(axis=1, keepdims=True).astype(dtype)


def _bf16(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float32).astype(ml_dtypes.bfloat16).astype(np.float64)


def _rms_quantized(hidden: np.ndarray, gamma: np.ndarray, lower_bound: float, eps: float, norm: bool,
                   team: bool) -> tuple[np.ndarray, np.ndarray]:
    """What the rmsnorm_quant kernels compute before packing: per row of the last axis,
    optionally x / rms(x) * gamma in bfloat16 (the neuron-team kernel adds its bfloat16 eps
    inside the square too and rounds x / rms before gamma), clipped to +-lower_bound when it
    is > 0; the dequantizing scale max(min(absmax, bound) / 240, 1e-6); x / scale."""
    x = _f64(hidden)
    h = x.shape[-1]
    if norm:
        e = float(_bf16(np.float32(eps)))
        shifted = x + e if team else x
        inv = 1.0 / np.sqrt((shifted * shifted).sum(-1, keepdims=True) / h + e)
        g = _bf16(gamma.reshape(-1))
        x = _bf16(_bf16(x * inv) * g) if team else _bf16(x * inv * g)
    absmax = np.abs(x).max(-1, keepdims=True)
    if lower_bound > 0:
        absmax = np.minimum(absmax, lower_bound)
        x = np.clip(x, -lower_bound, lower_bound)
    scale = np.maximum(absmax / 240.0, 1e-6).astype(np.float32)
    return x / scale.astype(np.float64), scale


def _fp8_packed_close(out: np.ndarray, q: np.ndarray, scale: np.ndarray) -> str:
    """``out[..., :H]`` (float8_e4m3) within one fp8 step of ``q`` and ``out[..., H:]`` (4
    bytes of a float32) within 1e-2 of ``scale``."""
    h = q.shape[-1]
    got_q = out[..., :h].astype(np.float64)
    got_scale = np.ascontiguousarray(out[..., h:]).view(np.uint8).view(np.float32)
    step = np.maximum(np.abs(q), 2.0 ** -6) / 8.0
    bad_q = np.abs(got_q - q) > step
    bad_s = ~np.isclose(got_scale, scale, rtol=1e-2, atol=0)
    return _problems((not bad_q.any(), f"{int(bad_q.sum())} quantized values off by more than one fp8 step"
                      + (f", first at {tuple(np.argwhere(bad_q)[0])}" if bad_q.any() else "")),
                     (not bad_s.any(), f"{int(bad_s.sum())} dequantizing scales differ"))


def rmsnorm_quant_team(inputs: list[Any], kwargs: dict[str, Any]) -> Any:
    """The neuron-team kernels: (hidden, ln_w, lower_bound, [out,] kernel_name, eps)."""
    hidden, gamma, bound = inputs[:3]
    writes_out = len(inputs) > 4 and isinstance(inputs[3], np.ndarray)
    name = inputs[4] if writes_out else inputs[3]
    eps = kwargs.get("eps", 1e-6)
    q, scale = _rms_quantized(hidden, gamma, bound, eps, name == "RMSNormQuant", team=True)
    if writes_out:
        return {"out": lambda got: _fp8_packed_close(got, q, scale)}
    return lambda outs: _fp8_packed_close(outs[0], q, scale)


def _unpaired_rows(rhs: np.ndarray) -> np.ndarray:
    """Undo test_double_row_matmul's reshape: [K/2, 2N] holding, per 128-row band, the
    [128, 512] tiles of two consecutive row bands side by side -> the [K, N] matrix."""
    half, n2 = rhs.shape
    tiles = rhs.reshape(half // 128, 128, n2 // 1024, 2, 512)   # band, row, tile column, pair, col
    return tiles.transpose(0, 3, 1, 2, 4).reshape(2 * half, n2 // 2)


def double_row_matmul(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """lhs [M, K] quantized to float8_e4m3 per row and per K block (128 * TILES_IN_BLOCK_K
    columns) with scale absmax / 240; each block's product with the fp8 rhs is scaled back by
    the row's scale and summed; finally times the rhs column scales, which the test
    broadcasts to [128, N] (the kernel multiplies row m by rhs_scale[m % 128])."""
    lhs, rhs_q, rhs_scale, _, _, tiles_k = inputs[:6]
    rhs = _unpaired_rows(rhs_q.astype(np.float64))
    block = 128 * tiles_k
    out = np.zeros((lhs.shape[0], rhs.shape[1]))
    for k0 in range(0, lhs.shape[1], block):
        part = lhs[:, k0:k0 + block].astype(np.float32)
        scale = np.abs(part).max(axis=1, keepdims=True) / np.float32(240)
        quantized = (part / scale).astype(ml_dtypes.float8_e4m3).astype(np.float64)
        out += (quantized @ rhs[k0:k0 + block]) * scale
    rows = np.arange(out.shape[0]) % rhs_scale.shape[0]
    return ((out * _f64(rhs_scale)[rows]).astype(lhs.dtype),)


REFS: dict[str, Ref] = {
    f"{TUTORIALS}/tensor_addition/tensor_addition_nki_kernels.py:nki_tensor_add_kernel_":
        add_pair,
    f"{TUTORIALS}/tensor_addition/spmd_tensor_addition_nki_kernels.py:nki_tensor_add_kernel_":
        add_pair,
    f"{TUTORIALS}/average_pool2d/average_pool2d_nki_kernels.py:tensor_avgpool_kernel":
        average_pool,
    f"{TUTORIALS}/rmsnorm/rmsnorm_nki_kernels.py:nki_rmsnorm_kernel": rmsnorm_no_eps,
    f"{TUTORIALS}/softmax/softmax_nki_kernels.py:nki_softmax_kernel": softmax_rows,
    f"{TUTORIALS}/layernorm/layernorm_nki_kernel.py:nki_layernorm_kernel_v1": layernorm,
    f"{TUTORIALS}/layernorm/layernorm_nki_kernel.py:nki_layernorm_kernel_v2": layernorm,
    f"{SDK}:nki/test/test_nki_isa_activation.py:nki_activation": activation_pair,
    f"{SDK}:nki/test/test_nki_isa_affine_select.py:nki_affine_select": strict_lower_keep,
    f"{SDK}:nki/test/test_nki_isa_bn_stats.py:nki_bn_stats_bn_aggr_1": mean_and_var,
    f"{SDK}:nki/test/test_nki_isa_bn_stats.py:nki_bn_stats_bn_aggr_2": mean_and_var,
    f"{SDK}:nki/test/test_nki_isa_nc_stream_shuffle.py:nki_nc_stream_shuffle": rotate_partitions,
    f"{SDK}:nki/test/test_nki_isa_nc_stream_shuffle.py:nki_nc_stream_shuffle_broadcast_partition":
        broadcast_partition0,
    f"{SDK}:nki/test/test_nki_isa_nc_stream_shuffle.py:nki_nc_stream_shuffle_broadcast_mask":
        rotate_partitions,
    f"{SDK}:nki/test/test_nki_isa_nc_transpose.py:nki_nc_transpose": transpose_both,
    f"{SDK}:nki/test/test_nki_isa_reciprocal.py:reciprocal_kernel": reciprocal,
    f"{SDK}:nki/test/test_nki_isa_tensor_copy.py:nki_tensor_copy": identity,
    f"{SDK}:nki/test/test_nki_isa_tensor_scalar.py:nki_tensor_scalar": tensor_scalar_trio,
    f"{SDK}:nki/test/test_nki_isa_tensor_tensor.py:nki_tensor_tensor": add_pair,
    f"{SDK}:nki/test/test_nki_isa_tensor_tensor_scan.py:nki_tensor_tensor_scan": mul_add_scan,
    f"{SDK}:nki/test/test_nki_mask.py:nki_mask": square_corner,
    f"{SDK}:nki/test/test_nki_memory_semantics.py:simple_demo_kernel": exponential,
    f"{SDK}:nki/test/test_nki_nl_dslice.py:example_kernel": identity,
    f"{SDK}:nki/test/test_nki_nl_load_store_indirect.py:example_indirect_load_1": gather_rows_by_index,
    f"{SDK}:nki/test/test_nki_nl_load_store_indirect.py:example_indirect_load_2": gather_even_rows,
    f"{SDK}:nki/test/test_nki_nl_load_store_indirect.py:example_indirect_save_2": scatter_even_rows,
    f"{SDK}:nki/test/test_nki_nl_load_transpose2d.py:example_kernel_0": transpose_one,
    f"{SDK}:nki/test/test_nki_nl_load_transpose2d.py:example_kernel_1": transpose_one,
    f"{SDK}:nki/test/test_psum_modulo_alloc.py:allocated_loop_transpose": transpose_into_second,
    f"{SDK}:nki/test/test_sbuf_modulo_alloc.py:allocated_loop_transpose": transpose_into_second,
    f"{SDK}:nki/examples/getting_started_baremetal.py:nki_tensor_add_kernel": add_pair,
    f"{SDK}:nki/examples/layout-pass.py:tensor_exp_kernel_": exponential,
    f"{SDK}:nki/examples/transpose2d/transpose2d_nki_kernels.py:tensor_transpose2D_kernel_":
        row_block_transpose,
    f"{SDK}:nki/examples/average_pool2d/average_pool2d_nki_kernels.py:tensor_avgpool_kernel": average_pool,
    **{f"{_ATTN_FWD}:attn_fwd_{v}": attention_dq for v in _ATTN_VERSIONS},
    **{f"{_MAMBA}:mamba_{v}": selective_scan for v in ("v1", "v2", "v3")},
    f"{_ROTARY}:nki_apply_rotary_embedding": rotary_qk,
    f"{_REF_ATTN}:fused_self_attn_for_SD_small_head_size": sd_attention,
    f"{_REF_ATTN}:flash_fwd": flash_attention_forward,
    f"{_REF_ATTN}:flash_attn_bwd": flash_attention_backward,
    f"{SAMPLES}:src/nki_samples/reference/tutorial.py:add_kernel_nx8x128x512": add_first_elements,
    f"{SAMPLES}:contributed/interpolate_bilinear_fwd.py:interpolate_bilinear_2x_fwd": bilinear_2x,
}

# Kernels of the aws-neuron-sdk ISA tests added with isa_more (random ones checked by property).
REFS.update({
    f"{SDK}:nki/test/test_nki_isa_dropout.py:nki_dropout": dropped_or_kept,
    f"{SDK}:nki/test/test_nki_isa_dropout.py:nki_dropout_scalar": dropped_or_kept,
    f"{SDK}:nki/test/test_nki_isa_max8.py:nki_max8": top8_descending,
    f"{SDK}:nki/test/test_nki_isa_nc_find_index8.py:nki_max_index8": distinct_indices,
    f"{_MR8}:nki_nc_match_replace8": eight_replaced,
    f"{_MR8}:nki_nc_match_replace_indices8": replace_top8,
    f"{_MR8}:nki_nc_match_replace_indices8_mask": replace_top8_corner,
    f"{_MR8}:nki_nc_match_replace_indices8_3d": replace_top8_zero,
    f"{_MR8}:nki_nc_match_replace_indices8_3d_inplace": replace_top8_zero,
    f"{SDK}:nki/test/test_nki_isa_range_select.py:nki_range_select_chaining": range_select_chain,
    f"{SDK}:nki/test/test_nki_isa_sequence_bounds.py:nki_sequence_bounds": segment_bounds,
    f"{_CUM}:nki_tensor_scalar_cumulative_scalar": cumulative_add,
    f"{_CUM}:nki_tensor_scalar_cumulative_vector": cumulative_add,
    f"{_CUM}:nki_tensor_scalar_cumulative_chain": cumulative_product_twice,
    f"{_CUM}:nki_tensor_scan": scan_from_initial,
    f"{SDK}:nki/test/test_nki_nl_gather_flattened.py:nki_gather_flattened": gathered_columns,
    f"{SDK}:nki/test/test_nki_nl_load_store_indirect.py:example_indirect_save_1": scatter_rows_by_index,
})

_RANGE_SELECT_TEST = f"{SDK}:nki/test/test_nki_isa_range_select.py"
# Kernels of the aws-neuron-sdk examples that had no recorded invocation (third batch).
_SDK_MAMBA = f"{SDK}:nki/examples/fused_mamba/mamba_nki_kernels.py"
REFS.update({
    f"{SDK}:nki/examples/index-case-1.py:tensor_split_kernel_": split_even_odd_columns,
    f"{SDK}:nki/examples/index-case-3.py:tensor_maxpool_kernel_": max_pool,
    f"{SDK}:nki/examples/simulate/nki_simulate_example.py:add_kernel": add_pair,
    f"{_RANGE_SELECT_TEST}:nki_range_select_example": range_select_once,
    **{f"{_SDK_MAMBA}:mamba_{v}": selective_scan for v in ("v1", "v2", "v3")},
})

# rtol = atol overrides, for results that pass through bfloat16 inside the kernel.
TOL: dict[str, float] = {
    # mixed precision: the matmul operands are bfloat16 (their test allows 1e-2).
    f"{_REF_ATTN}:fused_self_attn_for_SD_small_head_size": 1e-2,
    f"{_REF_ATTN}:flash_fwd": 1e-2,
    f"{_REF_ATTN}:flash_attn_bwd": 1e-2,
    # v7 on keep the softmax weights and v in bfloat16 (the tutorial's own test allows 1e-2).
    **{f"{_ATTN_FWD}:attn_fwd_{v}": 1e-2 for v in _ATTN_VERSIONS[6:]},
    f"{SDK}:nki/test/test_nki_isa_activation.py:nki_activation": 1e-2,
}

# Arguments the recorder could not capture (library objects such as ``nl.add`` or
# ``np.less``), as the drivers pass them: positional index or keyword name -> the symbolic
# spelling klr accepts for a library object. Applied to every invocation of the kernel.
_CUMULATIVE = f"{SDK}:nki/test/test_nki_isa_tensor_scalar_cumulative.py"
_RANGE_SELECT = f"{SDK}:nki/test/test_nki_isa_range_select.py"
SYMBOLIC_ARGS: dict[str, dict[int | str, str]] = {
    f"{_RANGE_SELECT}:nki_range_select_chaining": {3: "np.greater_equal", 4: "np.less"},
    f"{_RANGE_SELECT}:nki_range_select_example": {3: "np.greater_equal", 4: "np.less", 6: "nl.float32"},
    f"{_CUMULATIVE}:nki_tensor_scalar_cumulative_scalar": {"op0": "nl.add", "op1": "nl.add"},
    f"{_CUMULATIVE}:nki_tensor_scalar_cumulative_vector": {
        "op0": "nl.add", "op1": "nl.add", "reduce_cmd": "nisa.reduce_cmd.load_reduce"},
    f"{_CUMULATIVE}:nki_tensor_scalar_cumulative_chain": {
        "op0": "nl.add", "op1": "nl.multiply", "reduce_cmd": "nisa.reduce_cmd.reset_reduce"},
    f"{_CUMULATIVE}:nki_tensor_scan": {"op": "nl.add"},
}

# Invocations of our own for corpus kernels that have a reference but no recorded call (their
# drivers are torch scripts). Same form as corpus.json; rows show them as ``#x<i>``.
_F32 = "float32"
EXTRA_INVOCATIONS: dict[str, list[dict[str, Any]]] = {
    f"{TUTORIALS}/softmax/softmax_nki_kernels.py:nki_softmax_kernel": [
        {"grid": None, "inputs": [{"shape": [256, 512], "dtype": _F32}], "kwargs": {}}],
    **{f"{TUTORIALS}/layernorm/layernorm_nki_kernel.py:nki_layernorm_kernel_{v}": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [256, 512], "dtype": _F32}, {"value": 1e-5},
                    {"shape": [512], "dtype": _F32}, {"shape": [512], "dtype": _F32}]}]
       for v in ("v1", "v2")},
    # The tutorial's test: d_head 128, seqlen 128 for v1/v2 (no tiling) and larger (4096 there;
    # the kernels need >= 512) for the tiled versions; values uniform in [0, 1).
    **{f"{_ATTN_FWD}:attn_fwd_{v}": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [128, 128 if v in ("v1", "v2") else 512], "dtype": _F32}] * 3}]
       for v in _ATTN_VERSIONS},
    # The mamba driver's defaults are batch 1, channels 256, state 16, seq_len 2048 (v3 tiles it
    # by 512); a shorter sequence and fewer states keep the run short. A is negative (decay).
    **{f"{_MAMBA}:mamba_{v}": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [1, 256, 1024], "dtype": _F32}, {"shape": [1, 256, 1024], "dtype": _F32},
                    {"shape": [256, 4], "dtype": _F32, "range": [-1.0, 0.0]},
                    {"shape": [1, 4, 1024], "dtype": _F32}, {"shape": [1, 4, 1024], "dtype": _F32}]}]
       for v in ("v1", "v2", "v3")},
    # The rotary driver launches a [batch, heads] grid over q, k [batch, heads, seq, head_dim]
    # with cos, sin [batch, seq, head_dim]; defaults batch 2, head_dim 128, seq 64/128/256.
    # Fewer heads here; seq 64 takes the masked partial tile, 256 two full ones.
    f"{_ROTARY}:nki_apply_rotary_embedding": [
        {"grid": "(2, 2)", "kwargs": {},
         "inputs": [{"shape": [2, 2, seq, 128], "dtype": _F32, "range": [-1.0, 1.0]}] * 2
                   + [{"shape": [2, seq, 128], "dtype": _F32, "range": [-1.0, 1.0]}] * 2}
        for seq in (64, 256)],
    # (_nki_apply_rotary_embedding_core computes on SBUF tiles; it runs inside this kernel only.)
    # test_SD_attention_small_head: grid [bs], q [bs, d, seq], k and v [bs, seq, d]; bs 1, d 128,
    # seq 4096 there, 512 here (the kernel tiles seq by 128); once more with the causal mask.
    f"{_REF_ATTN}:fused_self_attn_for_SD_small_head_size": [
        {"grid": "(1,)", "kwargs": kwargs,
         "inputs": [{"shape": [1, 128, 512], "dtype": _F32}] + [{"shape": [1, 512, 128], "dtype": _F32}] * 2}
        for kwargs in ({}, {"use_causal_mask": {"value": True}})],
    # test_flash_attn_fwd (numerical): float32 in [-1, 1), d 128, tile 2048 over seq 4096+, grid
    # [batch, kv heads], mixed precision, causal; training returns (o, lse). Here seq 1024 with
    # 512-wide tiles: GQA training (2 query heads on 1 kv head), inference, a sliding window.
    f"{_REF_ATTN}:flash_fwd": [
        {"grid": "(1, 1)",
         "inputs": [{"shape": [1, heads, 128, 1024], "dtype": _F32, "range": [-1.0, 1.0]},
                    {"shape": [1, 1, 128, 1024], "dtype": _F32, "range": [-1.0, 1.0]},
                    {"shape": [1, 1, 1024, 128], "dtype": _F32, "range": [-1.0, 1.0]}, {"value": None}],
         "kwargs": {"use_causal_mask": {"value": True}, "sliding_window": {"value": window},
                    "mixed_precision": {"value": True},
                    "config": {"object": "FlashConfig",
                               "fields": {"seq_tile_size": 512, "training": training}}}}
        for heads, training, window in ((2, True, -1), (1, False, -1), (1, False, 300))],
    # test_flash_attn_bwd (numerical): float32 in [-1, 1), d 128, seq 4096/8192, grid [batch, kv
    # heads], causal, mixed precision, sliding window -1/128, sinks or not. Here seq 512 with two
    # query heads on one kv head, then a 128 window with sinks; lse near log(seq) as a real
    # forward pass leaves it.
    f"{_REF_ATTN}:flash_attn_bwd": [
        {"grid": "(1, 1)",
         "inputs": [{"shape": [1, 2, 128, 512], "dtype": _F32, "range": [-1.0, 1.0]}]
                   + [{"shape": [1, 1, 128, 512], "dtype": _F32, "range": [-1.0, 1.0]}] * 2
                   + [{"shape": [1, 2, 128, 512], "dtype": _F32, "range": [-1.0, 1.0]}] * 2
                   + [{"shape": [1, 2, 128, 4], "dtype": _F32, "range": [5.0, 7.0]}, {"value": None}],
         "kwargs": {"use_causal_mask": {"value": True}, "mixed_precision": {"value": True},
                    "sliding_window": {"value": window},
                    "sinks": ({"shape": [1, 2], "dtype": _F32, "range": [-1.0, 1.0]} if sinks
                              else {"value": None})}}
        for window, sinks in ((-1, False), (128, True))],
    # The tutorial kernel adds [N, 8, 128, 512] tensors over a grid [N], masking elements from
    # n_elements on (its name is its only documentation); N = 2 and a ragged end.
    f"{SAMPLES}:src/nki_samples/reference/tutorial.py:add_kernel_nx8x128x512": [
        {"grid": "(2,)", "kwargs": {},
         "inputs": [{"shape": [2, 8, 128, 512], "dtype": _F32}] * 2
                   + [{"value": 2 * 8 * 128 * 512 - 70000}]}],
    # hw_ubench's kernels call the compiler's private row/column tiled matmul kernels (no
    # source); they show how klr reports that.
    f"{SAMPLES}:contributed/neuron-team-kernels/hw_ubench.py:column_tiled_matmul_isa_kernel": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [128, 128], "dtype": _F32}, {"shape": [128, 512], "dtype": _F32},
                    {"value": 512}, {"value": True}]}],
}

# Third batch: drivers that are torch scripts, unittest bodies or docs (no recorded call).
_MAMBA_INPUTS = [{"shape": [1, 256, 1024], "dtype": _F32}, {"shape": [1, 256, 1024], "dtype": _F32},
                 {"shape": [256, 4], "dtype": _F32, "range": [-1.0, 0.0]},
                 {"shape": [1, 4, 1024], "dtype": _F32}, {"shape": [1, 4, 1024], "dtype": _F32}]
EXTRA_INVOCATIONS.update({
    # test_bn_stats_bn_aggr: b is [128, 1024] uniform in [0, 100).
    f"{SDK}:nki/test/test_nki_isa_bn_stats.py:nki_bn_stats_bn_aggr_2": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [128, 1024], "dtype": _F32, "range": [0.0, 100.0]}]}],
    # The file's __main__: a [4, 5] bfloat16 tensor (an odd column count).
    f"{SDK}:nki/examples/index-case-1.py:tensor_split_kernel_": [
        {"grid": None, "kwargs": {}, "inputs": [{"shape": [4, 5], "dtype": "bfloat16"}]}],
    # The file's __main__: C, H, W = 2, 6, 6 in bfloat16, pool 2 (the recorded tensor is a Dummy);
    # once more with a window that does not divide the image.
    f"{SDK}:nki/examples/index-case-3.py:tensor_maxpool_kernel_": [
        {"grid": None, "kwargs": {}, "inputs": [{"shape": shape, "dtype": "bfloat16"}, {"value": pool}]}
        for shape, pool in (([2, 6, 6], 2), ([16, 7, 9], 3))],
    # The quick start: a, b [128, 512] float32.
    f"{SDK}:nki/examples/simulate/nki_simulate_example.py:add_kernel": [
        {"grid": None, "kwargs": {}, "inputs": [{"shape": [128, 512], "dtype": _F32}] * 2}],
    # test_range_select_example: bound0 = 0, bound1 = 64, range_start 32 (the recorded bounds
    # are random in [0, 1), where nothing is selected); float32 result (SYMBOLIC_ARGS).
    f"{_RANGE_SELECT_TEST}:nki_range_select_example": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [128, 512], "dtype": "bfloat16"},
                    {"shape": [128, 1], "dtype": _F32, "range": [0.0, 0.0]},
                    {"shape": [128, 1], "dtype": _F32, "range": [64.0, 64.0]},
                    {"type": "ufunc"}, {"type": "ufunc"}, {"value": 32}, {"type": "type"}]}],
    # The same shapes as the nki-samples copy of the tutorial (see above).
    **{f"{_SDK_MAMBA}:mamba_{v}": [{"grid": None, "kwargs": {}, "inputs": _MAMBA_INPUTS}]
       for v in ("v1", "v2", "v3")},
})

# rmsnorm_quant: hidden [B, S, H] bfloat16, S not a multiple of the 128-row tile and H not of
# the 512-column one, so every masked edge runs; gamma [H] or [1, H].
_RMSQ_REF = f"{SAMPLES}:src/nki_samples/reference/rmsnorm_quant/rmsnorm_quant.py:rmsnorm_quant_kernel"
_RMSQ_TEAM = f"{SAMPLES}:contributed/neuron-team-kernels/rmsnorm_quant.py"
_HIDDEN = {"shape": [2, 160, 640], "dtype": "bfloat16", "range": [-2.0, 2.0]}
_GAMMA = {"shape": [640], "dtype": "bfloat16", "range": [0.5, 1.5]}
_OUT = {"shape": [2, 160, 644], "dtype": "float8_e4m3"}
EXTRA_INVOCATIONS.update({
    _RMSQ_REF: [
        {"grid": None, "inputs": [_HIDDEN, _GAMMA,
                                  {"object": "RmsNormQuantKernelArgs", "fields": {"lower_bound": bound}}],
         "kwargs": {}}
        for bound in (0.0, 1.5)],
    f"{_RMSQ_TEAM}:rmsnorm_quant": [
        {"grid": None, "kwargs": {},
         "inputs": [_HIDDEN, _GAMMA, {"value": bound}, _OUT, {"value": name}]}
        for bound, name in ((0.0, "RMSNormQuant"), (1.5, "RMSNormQuant"), (0.0, "QuantOnly"))],
    f"{_RMSQ_TEAM}:shard_rmsnorm_quant": [
        {"grid": "(2,)", "kwargs": {},
         "inputs": [_HIDDEN, _GAMMA, {"value": 0.0}, _OUT, {"value": "RMSNormQuant"}]}],
    f"{_RMSQ_TEAM}:compatible_rmsnorm_quant": [
        {"grid": grid, "kwargs": {},
         "inputs": [_HIDDEN, _GAMMA, {"value": 0.0}, {"value": "RMSNormQuant"}]}
        for grid in (None, "(2,)")],
})
REFS.update({
    f"{_RMSQ_TEAM}:{k}": rmsnorm_quant_team
    for k in ("rmsnorm_quant", "shard_rmsnorm_quant", "compatible_rmsnorm_quant")})

# quantized_double_row_matmul: test_double_row_matmul_numerical runs M 512, K 16384, N 1024; smaller
# here with the same constraints (M, N, K multiples of the blocks; TILES_IN_BLOCK_K even). lhs is
# float32 so that the kernel's intermediates (lhs.dtype) add no rounding of their own; the rhs
# is already quantized (values up to 240, as column_wise_quantize leaves them) with its
# column scales broadcast to [128, N].
_DRM = f"{SAMPLES}:src/nki_samples/reference/double_row_matmul.py:quantized_double_row_matmul"
EXTRA_INVOCATIONS[_DRM] = [
    {"grid": None, "kwargs": {},
     "inputs": [{"shape": [256, 512], "dtype": _F32, "range": [-1.0, 1.0]},
                {"shape": [256, 2048], "dtype": "float8_e4m3", "range": [-240.0, 240.0]},
                {"shape": [128, 1024], "dtype": _F32, "range": [0.0, 0.01]},
                {"value": bm}, {"value": bn}, {"value": bk}]}
    for bm, bn, bk in ((1, 1, 2), (2, 2, 4))]
REFS[_DRM] = double_row_matmul
# fp32 sums of 512 products of fp8 values in another order (the kernel's PSUM blocks).
TOL[_DRM] = 1e-4

# Fourth batch: the kernels that had no invocation. Their repositories hold no driver for them;
# the shapes follow their docstrings and asserts.
_TEAM = f"{SAMPLES}:contributed/neuron-team-kernels"
_RING_PAIRS = {"value": [[0, 1], [1, 0]]}
_RING_CONFIG = {"object": "FlashConfig", "module": "neuron-team-kernels.attention_build_blocks",
                "fields": {"seq_tile_size": 512, "training": False, "should_transpose_v": True}}
EXTRA_INVOCATIONS.update({
    # On its own: q, k tiles [d, seq] with cos, sin [d, seq] and the [2, d, seq] output written in
    # place (in the tutorial it runs on SBUF tiles inside nki_apply_rotary_embedding).
    f"{_ROTARY}:_nki_apply_rotary_embedding_core": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [128, 64], "dtype": _F32, "range": [-1.0, 1.0]}] * 4
                   + [{"shape": [2, 128, 64], "dtype": _F32}]}],
    # Ring attention over two ranks (the ring 0 -> 1 -> 0), rank 0, causal inference: q, k, v
    # [b, h, d, seq] with seq one 512 tile. Both send K/V chunks to the next rank (collectives).
    f"{_TEAM}/attention.py:ring_attention_fwd": [
        {"grid": "(1, 1)",
         "inputs": [{"shape": [1, 1, 128, 512], "dtype": _F32, "range": [-1.0, 1.0]}] * 3 + [{"value": None}],
         "kwargs": {"rank_id": {"value": 0}, "src_tgt_pairs": _RING_PAIRS, "use_causal_mask": {"value": True},
                    "mixed_precision": {"value": True}, "config": _RING_CONFIG}}],
    # q, k, v, o, dy [b, h, d, seq], lse [b, h, 128, seq // 128], seed [1].
    f"{_TEAM}/attention.py:ring_attention_bwd": [
        {"grid": "(1, 1)",
         "inputs": [{"shape": [1, 1, 128, 512], "dtype": _F32, "range": [-1.0, 1.0]}] * 5
                   + [{"shape": [1, 1, 128, 4], "dtype": _F32, "range": [5.0, 7.0]},
                      {"shape": [1], "dtype": "int32"}],
         "kwargs": {"rank_id": {"value": 0}, "src_tgt_pairs": _RING_PAIRS, "use_causal_mask": {"value": True},
                    "mixed_precision": {"value": True}}}],
    # Token generation for one batch, one token, two query heads: X [B, S_tkg, H], W_qkv [H,
    # (n + 2) d], W_gamma [1, H], cos, sin [d / 2, B, S_tkg], caches [B, d, S_max] (K transposed)
    # and [B, S_max, d], masks [B, n, S_tkg, S_ctx] and [B, n, S_tkg, S_tkg], positions [B, 1].
    f"{_TEAM}/attention_token_gen.py:llama3_attention_block_token_gen_kernel": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [1, 1, 512], "dtype": "bfloat16", "range": [-1.0, 1.0]},
                    {"shape": [512, 512], "dtype": "bfloat16", "range": [-0.05, 0.05]},
                    {"shape": [1, 512], "dtype": "bfloat16", "range": [0.5, 1.5]}, {"value": 1e-6},
                    {"shape": [64, 1, 1], "dtype": "bfloat16", "range": [-1.0, 1.0]},
                    {"shape": [64, 1, 1], "dtype": "bfloat16", "range": [-1.0, 1.0]},
                    {"shape": [1, 128, 256], "dtype": "bfloat16", "range": [-1.0, 1.0]},
                    {"shape": [1, 256, 128], "dtype": "bfloat16", "range": [-1.0, 1.0]},
                    {"shape": [1, 2, 1, 256], "dtype": "uint8", "range": [1, 2]},
                    {"shape": [1, 2, 1, 1], "dtype": "uint8", "range": [1, 2]},
                    {"shape": [1, 1], "dtype": "int32", "range": [100, 101]}, {"value": True}]}],
    # One 128-token block per expert over 256 tokens, H 4096 (its minimum), I_TP 128, E 2: tokens
    # are a permutation (each in one block), blocks go to experts 0 and 1. On trn2 (NeuronCore
    # v3), as the team's kernels are: its trn1 path transposes bfloat16 into float32 PSUM, which
    # klr check's transpose rule (dst dtype = moving dtype, v3's transpose mode) reports.
    f"{_TEAM}/blockwise_mm.py:blockwise_mm_baseline_allocated": [
        {"grid": None, "kwargs": {}, "arch": 3,
         "inputs": [{"shape": [256, 4096], "dtype": "bfloat16", "range": [-1.0, 1.0]},
                    {"shape": [512, 1], "dtype": "bfloat16", "range": [0.0, 1.0]},
                    {"shape": [2, 4096, 2, 128], "dtype": "bfloat16", "range": [-0.05, 0.05]},
                    {"shape": [2, 128, 4096], "dtype": "bfloat16", "range": [-0.05, 0.05]},
                    {"value": 128},
                    {"shape": [256], "dtype": "int32", "permutation": True},
                    {"shape": [2], "dtype": "int32", "arange": True}]}],
    # A [tiles, k, m] and B [tiles, k, n] for the compiler's private row-tiled matmul.
    f"{_TEAM}/hw_ubench.py:row_tiled_matmul_isa_kernel": [
        {"grid": None, "kwargs": {},
         "inputs": [{"shape": [2, 128, 128], "dtype": _F32}, {"shape": [2, 128, 512], "dtype": _F32},
                    {"value": 512}, {"value": 2}, {"value": True}]}],
})


def blockwise_moe(inputs: list[Any], kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Blockwise MoE MLP, bfloat16 where the kernel rounds: each block of ``block_size`` tokens
    (``token_position_to_id``) goes through its expert's gate/up projection, silu(gate) * up,
    the down projection, scaled by the token's affinity for that expert and added to the
    output (zeros first; each token here is in one block)."""
    hidden, affinity, gate_up, down, block, ids, experts = inputs[:7]
    out = np.zeros(hidden.shape)
    n_experts = down.shape[0]
    for b, e in enumerate(np.asarray(experts).reshape(-1)):
        tokens = np.asarray(ids)[b * block:(b + 1) * block]
        x = _f64(hidden[tokens])
        gate, up = x @ _f64(gate_up[e, :, 0, :]), x @ _f64(gate_up[e, :, 1, :])
        inter = _bf16(_bf16(gate / (1 + np.exp(-gate))) * up)
        scale = _f64(affinity).reshape(-1)[tokens * n_experts + e][:, None]
        out[tokens] = _bf16(out[tokens] + _bf16((inter @ _f64(down[e])) * scale))
    return (_like(out, hidden),)


_BLOCKWISE = f"{_TEAM}/blockwise_mm.py:blockwise_mm_baseline_allocated"
REFS[_BLOCKWISE] = blockwise_moe
