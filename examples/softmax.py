"""Row-wise softmax (legacy NKI), 128 rows at a time: subtract the row maximum, exponentiate,
divide by the row sum."""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


@nki.jit
def softmax_kernel(x):
    n_rows, n_cols = x.shape
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    i_p = nl.arange(nl.tile_size.pmax)[:, None]
    i_f = nl.arange(n_cols)[None, :]

    for t in nl.affine_range(n_rows // nl.tile_size.pmax):
        rows = t * nl.tile_size.pmax + i_p
        tile = nl.load(x[rows, i_f])
        row_max = nl.max(tile, axis=1, keepdims=True)
        numerator = nl.exp(nl.subtract(tile, row_max))
        denominator = nl.sum(numerator, axis=1, keepdims=True)
        nl.store(out[rows, i_f], value=numerator / denominator)
    return out
