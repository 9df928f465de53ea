"""Per-row 2-D transpose (legacy NKI).

Every partition row of ``x`` holds a row-major ``n_rows x n_cols`` matrix, flattened; the
output row holds the transposed ``n_cols x n_rows`` matrix, flattened. The work is a single
SBUF-to-SBUF copy whose source and destination use different index expressions.
"""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


@nki.jit
def transpose2d_kernel(x, n_rows):
    parts, width = x.shape
    n_cols = width // n_rows
    assert n_rows * n_cols == width, "row width must be a multiple of n_rows"
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)

    src = nl.load(x)
    i_p = nl.arange(parts)[:, None, None]
    i_r = nl.arange(n_rows)[None, :, None]
    i_c = nl.arange(n_cols)[None, None, :]

    dst = nl.ndarray((parts, width), dtype=x.dtype, buffer=nl.sbuf)
    dst[i_p, i_c * n_rows + i_r] = nl.copy(src[i_p, i_r * n_cols + i_c])

    nl.store(out, value=dst)
    return out
