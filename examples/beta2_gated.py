"""Element-wise kernel in the NKI beta 2 dialect: ``out = tanh(x * y * 0.5 + bias)``, with a
per-row ``bias`` column. One ``nisa.tensor_tensor`` and one ``nisa.activation``, both
writing through ``dst=``."""
import nki
import nki.isa as nisa
import nki.language as nl


@nki.jit
def beta2_gated_kernel(x, y, bias):
    rows, cols = x.shape
    out = nl.ndarray((rows, cols), dtype=x.dtype, buffer=nl.shared_hbm)

    x_tile = nl.ndarray((rows, cols), dtype=x.dtype, buffer=nl.sbuf)
    y_tile = nl.ndarray((rows, cols), dtype=y.dtype, buffer=nl.sbuf)
    bias_tile = nl.ndarray((rows, 1), dtype=bias.dtype, buffer=nl.sbuf)
    nisa.dma_copy(dst=x_tile, src=x)
    nisa.dma_copy(dst=y_tile, src=y)
    nisa.dma_copy(dst=bias_tile, src=bias)

    product = nl.ndarray((rows, cols), dtype=nl.float32, buffer=nl.sbuf)
    nisa.tensor_tensor(dst=product, data1=x_tile, data2=y_tile, op=nl.multiply)
    gated = nl.ndarray((rows, cols), dtype=x.dtype, buffer=nl.sbuf)
    nisa.activation(dst=gated, op=nl.tanh, data=product, bias=bias_tile, scale=0.5)

    nisa.dma_copy(dst=out, src=gated)
    return out
