"""Matrix multiplication in the NKI beta 2 dialect: ``out = lhsT.T @ rhs``.

Destination-passing style throughout: tiles are allocated with ``nl.ndarray``, moved with
``nisa.dma_copy``, multiplied into a PSUM tile with ``nisa.nc_matmul(dst=...)`` (which
accumulates across the contraction tiles) and copied out with ``nisa.tensor_copy``."""
import nki
import nki.isa as nisa
import nki.language as nl


@nki.jit
def beta2_matmul_kernel(lhsT, rhs):
    k_total, m_size = lhsT.shape
    _, n_size = rhs.shape
    tile_k = nl.tile_size.pmax
    out = nl.ndarray((m_size, n_size), dtype=lhsT.dtype, buffer=nl.shared_hbm)

    acc = nl.ndarray((m_size, n_size), dtype=nl.float32, buffer=nl.psum)
    for k in nl.affine_range(k_total // tile_k):
        a_tile = nl.ndarray((tile_k, m_size), dtype=lhsT.dtype, buffer=nl.sbuf)
        b_tile = nl.ndarray((tile_k, n_size), dtype=rhs.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=a_tile, src=lhsT[k * tile_k:(k + 1) * tile_k, :])
        nisa.dma_copy(dst=b_tile, src=rhs[k * tile_k:(k + 1) * tile_k, :])
        nisa.nc_matmul(dst=acc, stationary=a_tile, moving=b_tile)

    result = nl.ndarray((m_size, n_size), dtype=out.dtype, buffer=nl.sbuf)
    nisa.tensor_copy(dst=result, src=acc)
    nisa.dma_copy(dst=out, src=result)
    return out
