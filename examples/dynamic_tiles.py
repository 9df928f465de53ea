"""A loop the device runs, in the NKI beta 2 dialect: ``out = exp(x / 2)`` over tiles of 128
rows. The trip count is a register (``nisa.register_alloc``), the loop ``nl.dynamic_range``
steps it by 128 rows, and each tile is reached with ``.ap(..., scalar_offset=r)``: the body is
traced once, into a Core block the interpreter runs once per tile."""
import nki
import nki.isa as nisa
import nki.language as nl


@nki.jit
def dynamic_tiles_kernel(x):
    rows, cols = x.shape
    out = nl.ndarray((rows, cols), dtype=x.dtype, buffer=nl.shared_hbm)
    stop = nisa.register_alloc(rows)
    for r in nl.dynamic_range(0, stop, 128):
        t = nl.ndarray((128, cols), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x.ap([[cols, 128], [1, cols]], scalar_offset=r))
        y = nl.ndarray((128, cols), dtype=x.dtype, buffer=nl.sbuf)
        nisa.activation(dst=y, op=nl.exp, data=t, scale=0.5)
        nisa.dma_copy(dst=out.ap([[cols, 128], [1, cols]], scalar_offset=r), src=y)
    return out
