"""SPMD element-wise addition (legacy NKI): each program of a 2-D launch grid adds one
[128, 512] block of the inputs, located with ``nl.program_id``."""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl

BLOCK_ROWS = 128
BLOCK_COLS = 512


@nki.jit
def spmd_add_kernel(lhs, rhs):
    out = nl.ndarray(lhs.shape, dtype=lhs.dtype, buffer=nl.shared_hbm)

    row0 = nl.program_id(0) * BLOCK_ROWS
    col0 = nl.program_id(1) * BLOCK_COLS
    rows = row0 + nl.arange(BLOCK_ROWS)[:, None]
    cols = col0 + nl.arange(BLOCK_COLS)[None, :]

    lhs_tile = nl.load(lhs[rows, cols])
    rhs_tile = nl.load(rhs[rows, cols])
    nl.store(out[rows, cols], value=nl.add(lhs_tile, rhs_tile))
    return out
