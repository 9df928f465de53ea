"""Synthetic kernels for the benchmarks (bench/run.py, bench/trace_speed.py), besides the examples.

* ``add_tiles``: ``out = a + b`` over an ``[n * 128, 512]`` fp32 pair, one 128 x 512 tile at a
  time: four Core statements per tile (two loads, an add, a store), so the statement count is
  chosen exactly through the row count. The scaling run of bench/run.py traces it from 10^2 to
  10^6 statements.
* ``beta2_tiled_matmul``: the tiled matmul in the beta 2 dialect (destination passing:
  ``nl.ndarray`` tiles, ``nisa.dma_copy``, ``nisa.nc_matmul(dst=...)``, ``nisa.tensor_copy``).
* ``elementwise_chain``: legacy tile code dominated by element-wise work: each 128 x 512 block
  of ``x`` is loaded under a mask, goes through a chain of ALU and activation operations and
  a row reduction, and is stored under the same mask.
"""
import neuronxcc.nki as nki
import neuronxcc.nki.isa as nisa
import neuronxcc.nki.language as nl


@nki.jit
def beta2_tiled_matmul(lhsT, rhs):
    k_total, m_total = lhsT.shape
    _, n_total = rhs.shape
    tile_k = nl.tile_size.pmax
    tile_m = nl.tile_size.gemm_stationary_fmax
    tile_n = nl.tile_size.gemm_moving_fmax
    out = nl.ndarray((m_total, n_total), dtype=lhsT.dtype, buffer=nl.shared_hbm)

    for m in nl.affine_range(m_total // tile_m):
        for n in nl.affine_range(n_total // tile_n):
            acc = nl.ndarray((tile_m, tile_n), dtype=nl.float32, buffer=nl.psum)
            for k in nl.affine_range(k_total // tile_k):
                a_tile = nl.ndarray((tile_k, tile_m), dtype=lhsT.dtype, buffer=nl.sbuf)
                b_tile = nl.ndarray((tile_k, tile_n), dtype=rhs.dtype, buffer=nl.sbuf)
                nisa.dma_copy(dst=a_tile, src=lhsT[k * tile_k:(k + 1) * tile_k, m * tile_m:(m + 1) * tile_m])
                nisa.dma_copy(dst=b_tile, src=rhs[k * tile_k:(k + 1) * tile_k, n * tile_n:(n + 1) * tile_n])
                nisa.nc_matmul(dst=acc, stationary=a_tile, moving=b_tile)
            result = nl.ndarray((tile_m, tile_n), dtype=out.dtype, buffer=nl.sbuf)
            nisa.tensor_copy(dst=result, src=acc)
            nisa.dma_copy(dst=out[m * tile_m:(m + 1) * tile_m, n * tile_n:(n + 1) * tile_n], src=result)
    return out


@nki.jit
def elementwise_chain(x):
    n_rows, n_cols = x.shape
    out = nl.ndarray((n_rows, n_cols), dtype=x.dtype, buffer=nl.shared_hbm)
    pmax = nl.tile_size.pmax
    fmax = 512
    i_p = nl.arange(pmax)[:, None]
    i_f = nl.arange(fmax)[None, :]

    for r in nl.affine_range((n_rows + pmax - 1) // pmax):
        for c in nl.affine_range(n_cols // fmax):
            rows = r * pmax + i_p
            inside = rows < n_rows
            tile = nl.load(x[rows, c * fmax + i_f], mask=inside)
            shifted = nl.subtract(tile, nl.max(tile, axis=1, keepdims=True), mask=inside)
            scaled = nl.multiply(nl.exp(shifted, mask=inside), 0.5, mask=inside)
            gated = nl.maximum(scaled, nisa.activation(op=nl.tanh, data=tile, scale=2.0), mask=inside)
            total = nl.sum(gated, axis=1, keepdims=True, mask=inside)
            result = nl.add(nl.divide(gated, total, mask=inside), tile, mask=inside)
            nl.store(out[rows, c * fmax + i_f], value=result, mask=inside)
    return out


@nki.jit
def add_tiles(a, b):
    n_rows, n_cols = a.shape
    out = nl.ndarray((n_rows, n_cols), dtype=a.dtype, buffer=nl.shared_hbm)
    pmax = nl.tile_size.pmax
    fmax = 512
    for r in nl.affine_range(n_rows // pmax):
        for c in nl.affine_range(n_cols // fmax):
            a_tile = nl.load(a[r * pmax:(r + 1) * pmax, c * fmax:(c + 1) * fmax])
            b_tile = nl.load(b[r * pmax:(r + 1) * pmax, c * fmax:(c + 1) * fmax])
            nl.store(out[r * pmax:(r + 1) * pmax, c * fmax:(c + 1) * fmax], value=nl.add(a_tile, b_tile))
    return out
