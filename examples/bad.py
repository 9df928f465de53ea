"""A kernel with a mistake, for the README's error example: the tile it stores is half as wide
as the region it stores it into."""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


@nki.jit
def bad_kernel(x):
    out = nl.ndarray((128, 512), dtype=x.dtype, buffer=nl.shared_hbm)
    i_p = nl.arange(128)[:, None]
    i_f = nl.arange(512)[None, :]
    t = nl.load(x[i_p, nl.arange(256)[None, :]])
    nl.store(out[i_p, i_f], value=t)
    return out
