"""Masked element-wise kernel (legacy NKI): ``out = max(x, 0) * 2 + 1`` for an input whose
row count is not a multiple of 128. The last row tile is partial, so its load, compute and
store carry a ``mask=`` predicate built from ``nl.mgrid`` indices."""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


@nki.jit
def masked_scale_kernel(x):
    n_rows, n_cols = x.shape
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    pmax = nl.tile_size.pmax
    idx = nl.mgrid[0:pmax, 0:n_cols]

    for t in nl.affine_range((n_rows + pmax - 1) // pmax):
        rows = t * pmax + idx.p
        valid = rows < n_rows
        tile = nl.load(x[rows, idx.x], mask=valid)
        positive = nl.maximum(tile, 0.0, mask=valid)
        result = nl.add(nl.multiply(positive, 2.0, mask=valid), 1.0, mask=valid)
        nl.store(out[rows, idx.x], value=result, mask=valid)
    return out
