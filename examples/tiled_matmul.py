"""Tiled matrix multiplication (legacy NKI): ``out = lhsT.T @ rhs``.

bf16 operands are loaded tile by tile, ``nisa.nc_matmul`` results are accumulated into an
fp32 PSUM tile with ``+=`` over the contraction dimension, and each finished PSUM tile is
copied (and cast) to SBUF before being stored.
"""
import neuronxcc.nki as nki
import neuronxcc.nki.isa as nisa
import neuronxcc.nki.language as nl


@nki.jit
def tiled_matmul_kernel(lhsT, rhs):
    k_total, m_total = lhsT.shape
    k_rhs, n_total = rhs.shape
    assert k_total == k_rhs, "lhsT and rhs disagree on the contraction size"

    tile_k = nl.tile_size.pmax
    tile_m = nl.tile_size.gemm_stationary_fmax
    tile_n = nl.tile_size.gemm_moving_fmax
    out = nl.ndarray((m_total, n_total), dtype=lhsT.dtype, buffer=nl.shared_hbm)

    for m in nl.affine_range(m_total // tile_m):
        for n in nl.affine_range(n_total // tile_n):
            acc = nl.zeros((tile_m, tile_n), dtype=nl.float32, buffer=nl.psum)
            for k in nl.affine_range(k_total // tile_k):
                a_tile = nl.load(lhsT[k * tile_k:(k + 1) * tile_k, m * tile_m:(m + 1) * tile_m])
                b_tile = nl.load(rhs[k * tile_k:(k + 1) * tile_k, n * tile_n:(n + 1) * tile_n])
                acc += nisa.nc_matmul(a_tile, b_tile)
            result = nl.copy(acc, dtype=out.dtype)
            nl.store(out[m * tile_m:(m + 1) * tile_m, n * tile_n:(n + 1) * tile_n], value=result)
    return out
