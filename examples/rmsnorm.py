"""RMS normalisation (legacy NKI) using helpers from our ``common`` module:
``out = x / sqrt(mean(x * x) + eps) * weight`` for every row of ``x``."""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl
from common import PARTITIONS, ceil_div, inverse_rms


@nki.jit
def rmsnorm_kernel(x, weight, eps):
    n_rows, n_cols = x.shape
    assert weight.shape[0] == n_cols
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)

    i_one = nl.arange(1)[:, None]
    i_f = nl.arange(n_cols)[None, :]
    weight_row = nl.load(weight.reshape((1, n_cols))[i_one, i_f])
    weight_rows = weight_row.broadcast_to((PARTITIONS, n_cols))

    i_p = nl.arange(PARTITIONS)[:, None]
    for t in nl.affine_range(ceil_div(n_rows, PARTITIONS)):
        tile = nl.load(x[t * PARTITIONS + i_p, i_f])
        scaled = nl.multiply(tile, inverse_rms(tile, eps))
        nl.store(out[t * PARTITIONS + i_p, i_f], value=nl.multiply(scaled, weight_rows))
    return out
