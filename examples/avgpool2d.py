"""2-D average pooling with a square, non-overlapping window (legacy NKI).

Channels sit on partitions. The window is walked with a static loop over its offsets; each
step adds the strided [C, H/pool, W/pool] view selected by ``arange`` index tiles."""
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


@nki.jit
def avgpool2d_kernel(x, pool):
    channels, height, width = x.shape
    out_h = height // pool
    out_w = width // pool
    out = nl.ndarray((channels, out_h, out_w), dtype=x.dtype, buffer=nl.shared_hbm)

    image = nl.load(x)
    i_c = nl.arange(channels)[:, None, None]
    i_h = nl.arange(out_h)[None, :, None]
    i_w = nl.arange(out_w)[None, None, :]

    total = nl.zeros((channels, out_h, out_w), dtype=nl.float32, buffer=nl.sbuf)
    for dy in nl.static_range(pool):
        for dx in nl.static_range(pool):
            total = nl.add(total, image[i_c, i_h * pool + dy, i_w * pool + dx])

    nl.store(out, value=nl.multiply(total, 1.0 / (pool * pool), dtype=x.dtype))
    return out
