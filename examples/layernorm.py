"""Layer normalisation over the last axis (legacy NKI): per-row mean and variance with
``nl.mean``, scaling by ``nl.rsqrt(var + eps)``, then the affine ``gamma``/``beta``."""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


@nki.jit
def layernorm_kernel(x, gamma, beta, eps):
    n_rows, n_cols = x.shape
    assert gamma.shape == (1, n_cols) and beta.shape == (1, n_cols)
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    pmax = nl.tile_size.pmax

    gamma_rows = nl.load(gamma).broadcast_to((pmax, n_cols))
    beta_rows = nl.load(beta).broadcast_to((pmax, n_cols))

    for t in nl.affine_range(n_rows // pmax):
        tile = nl.load(x[t * pmax:(t + 1) * pmax, :])
        mean = nl.mean(tile, axis=1, keepdims=True)
        centered = tile - mean
        var = nl.mean(nl.square(centered), axis=1, keepdims=True)
        normed = centered * nl.rsqrt(var + eps)
        nl.store(out[t * pmax:(t + 1) * pmax, :], value=normed * gamma_rows + beta_rows)
    return out
