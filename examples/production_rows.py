"""A kernel written the way production NKI code is (beta 2 dialect): shared helpers from
another module (``kernel_utils``) with a configuration dataclass, an enum argument chosen by the
caller, ``try``/``except`` around an optional feature, ``global`` state, ``functools.partial``,
an access pattern on a reshaped view, and a loop the device runs over a register.

``out = act(x * scale) + bias`` over tiles of 128 rows."""
import functools

import nki
import nki.isa as nisa
import nki.language as nl
from kernel_utils import Activation, ConfigError, RowConfig, describe

CALLS = 0


def _count_call():
    global CALLS
    CALLS += 1
    return CALLS


def _apply(act, dst, src, scale):
    nisa.activation(dst=dst, op=act.function(), data=src, scale=scale)


@nki.jit
def production_rows_kernel(x, act=Activation.RELU, scale=2.0, bias=None):
    assert isinstance(act, Activation), f"act must be an Activation, not {act!r}"
    try:
        config = RowConfig.from_scale(scale, bias)
    except ConfigError:
        config = RowConfig()
    _count_call()
    log = describe(config, act.name, calls=CALLS)
    assert log.startswith("rows=128"), log

    rows, cols = x.shape
    tiles = config.tile_count(rows)
    # A [tiles, 128, cols] view of x and out; each tile is reached by an access pattern on it.
    xv = x.reshape((tiles, config.rows, cols))
    out = nl.ndarray((rows, cols), dtype=x.dtype, buffer=nl.shared_hbm)
    ov = out.reshape((tiles, config.rows, cols))
    activate = functools.partial(_apply, act)

    stop = nisa.register_alloc(rows)
    for r in nl.dynamic_range(0, stop, config.rows):
        t = nl.ndarray((config.rows, cols), dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=xv.ap([[cols, config.rows], [1, cols]], scalar_offset=r))
        y = nl.ndarray((config.rows, cols), dtype=x.dtype, buffer=nl.sbuf)
        activate(y, t, config.scale)
        if config.has_bias:
            nisa.tensor_scalar(dst=y, data=y, op0=nl.add, operand0=config.bias)
        nisa.dma_copy(dst=ov.ap([[cols, config.rows], [1, cols]], scalar_offset=r), src=y)
    return out
