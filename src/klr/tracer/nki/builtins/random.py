"""Random numbers: ``nl.rand``, ``nl.random_seed``, ``nl.dropout``, ``nisa.dropout`` and the
engines' generators (``nisa.rng``, ``nisa.rand2``, ``nisa.set_rng_seed``, ``nisa.rand_get_state``,
``nisa.rand_set_state``; the model is docs/semantics.md's "Random numbers").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.core import (
    Engine,
    ImmFloat,
    Memory,
    rules,
)
from klr.core.rules.misc import RANDOM_INTS
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.args import (
    Args,
    arg,
    float_operand,
    new_tensor,
    no_mask,
    on_chip,
    parse_shape,
    rule,
    same_size,
    view_arg,
)
from klr.tracer.nki.consts import DTYPES, ENGINES, dtype_of, engine_of
from klr.tracer.nki.dialects import Write, form, into, isa
from klr.tracer.nki.emit import tile
from klr.tracer.nki.index import Predicate
from klr.tracer.nki.masks import as_mask, boxed, masked
from klr.tracer.nki.operators import Scalar
from klr.tracer.nki.tensors import result
from klr.tracer.nki.views import View
from klr.tracer.registry import Dialect, builtin
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


NL = "nki.language."


@builtin(NL + "rand", emits=("rand2",), dialect=Dialect.legacy)
def rand(ctx: Ctx, shape: Value, dtype: Value = None, buffer: Value = None, name: Value = None,
         **kwargs: Value) -> Value:
    """A new tile of uniform random values in [0, 1): in SBUF, or a tensor in ``buffer`` named
    ``name`` (beta 2's parameters)."""
    dims, par = parse_shape(ctx, shape)
    dt = Dtype.float32 if dtype is None else dtype_of(ctx, dtype)
    if buffer is not None or name is not None:
        t = new_tensor(ctx, shape, DTYPES[dt], buffer, name)
        if t.view.buf.on_chip:
            operators.rand(ctx, t.view, ImmFloat(0.0), ImmFloat(1.0))
        else:  # drawn on chip, then copied out
            draw = tile(ctx, dims, dt, Memory.sbuf, par_axis=par)
            operators.rand(ctx, draw, ImmFloat(0.0), ImmFloat(1.0))
            operators.dma(ctx, t.view, draw)
        return t

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        operators.rand(c, dst, ImmFloat(0.0), ImmFloat(1.0))
    return result(ctx, dims, dt, fn, par_axis=par)


@builtin(NL + "random_seed", emits=("setRngSeed",), dialect=Dialect.legacy)
def random_seed(ctx: Ctx, seed: Value, *, mask: Value = None) -> Value:
    """Seed the random generator from the first element of the on-chip tile ``seed``."""
    fn = "nl.random_seed"
    no_mask(ctx, {"mask": mask}, fn)
    src = on_chip(ctx, view_arg(ctx, seed, "seed"), "seed", fn)
    operators.set_rng_seed(ctx, src)
    return None


def _dropout(ctx: Ctx, data: View, prob: Scalar, pred: Predicate | None, fn: str) -> Write:
    def write(c: Ctx, dst: View) -> None:
        same_size(c, dst, data, "data", fn)
        masked(c, dst, pred, lambda d, box: operators.dropout(c, d, data.box(box), boxed(prob, box)))
    return write


@builtin(NL + "dropout", emits=("dropout",), dialect=Dialect.legacy)
def nl_dropout(ctx: Ctx, x: Value, rate: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """``x`` with each element replaced by 0 with probability ``rate`` (a number or a [P, 1]
    tile); kept elements are not rescaled."""
    fn = "nl.dropout"
    pred = as_mask(ctx, mask)
    data = on_chip(ctx, view_arg(ctx, x, "x"), "x", fn)
    prob = float_operand(ctx, rate, data, "rate", fn)
    return into(ctx, {"dtype": dtype}, False, data.shape, data.dtype, [data],
                _dropout(ctx, data, prob, pred, fn), par_axis=data.par_dim, mask=pred)


@isa("dropout",
     beta2=form("dst", "data", "prob", mask=None, name=None),
     legacy=form("data", "prob", mask=None, dtype=None),
     legacy_tensors=1, emits=("dropout",))
def dropout(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Replace each element of ``data`` by 0 with the drop probability ``prob`` (a number or a
    [P, 1] tile, per partition)."""
    fn = "nisa.dropout"
    if dps:
        no_mask(ctx, a, fn)
    pred = None if dps else as_mask(ctx, a["mask"])
    data = on_chip(ctx, view_arg(ctx, a["data"], "data"), "data", fn)
    prob = float_operand(ctx, a["prob"], data, "prob", fn)
    return into(ctx, a, dps, data.shape, data.dtype, [data], _dropout(ctx, data, prob, pred, fn),
                par_axis=data.par_dim, mask=pred)


# --- the engines' generators ------------------------------------------------------------------

_STATE_WORDS = {Engine.pool: 6, Engine.dve: 24}
"""Words of XORWOW state per lane: 1 generator on GpSimd, 4 on the vector engine."""


def _engine(ctx: Ctx, v: Value, default: Engine, fn: str) -> Engine:
    """nisa.engine.vector or nisa.engine.gpsimd (None: the builtin's default)."""
    engine = default if v is None else engine_of(ctx, v)
    if engine is Engine.unassigned:
        engine = default
    if engine not in _STATE_WORDS:
        name = next(k for k, e in ENGINES.items() if e is engine)
        raise ctx.error(f"{fn}: engine must be nisa.engine.vector or nisa.engine.gpsimd, not "
                        f"nisa.engine.{name}")
    return engine


def _state(ctx: Ctx, v: Value, what: str, engine: Engine, fn: str) -> View:
    """A [P, 6] (GpSimd) or [P, 24] (vector engine) uint32 tile of generator states."""
    state = on_chip(ctx, view_arg(ctx, v, what), what, fn)
    with rule(ctx, fn):
        a = arg(state, what)
        rules.free_size(a, _STATE_WORDS[engine])
        rules.dtype_in(a, (Dtype.uint32,))
    return state


@isa("rng", beta2=form("dst", engine=None, name=None), emits=("rng",))
def rng(ctx: Ctx, a: Args, dps: bool) -> Value:
    """32 random bits per element into the integer tile ``dst`` (its low bits for narrower
    dtypes), from the generators of ``engine``: ``nisa.engine.vector`` (None, the default) or
    ``nisa.engine.gpsimd``."""
    fn = "nisa.rng"
    engine = _engine(ctx, a["engine"], Engine.dve, fn)
    dst = on_chip(ctx, view_arg(ctx, a["dst"], "dst"), "dst", fn)
    with rule(ctx, fn):
        rules.dtype_in(arg(dst, "dst"), RANDOM_INTS)
        if engine is Engine.pool:
            rules.in_memory(arg(dst, "dst"), Memory.sbuf)
    operators.rng(ctx, dst, engine)
    return None


@isa("rand2", beta2=form("dst", "min", "max", name=None), emits=("rand2",))
def rand2(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Uniform random values in [min, max) into ``dst`` (vector engine), drawn in float32 and
    converted to dst's dtype; ``min`` and ``max`` are numbers or [P, 1] tiles."""
    fn = "nisa.rand2"
    dst = on_chip(ctx, view_arg(ctx, a["dst"], "dst"), "dst", fn)
    lo = float_operand(ctx, a["min"], dst, "min", fn)
    hi = float_operand(ctx, a["max"], dst, "max", fn)
    if isinstance(lo, ImmFloat) and isinstance(hi, ImmFloat) and not lo.f < hi.f:
        raise ctx.error(f"{fn}: min {lo.f} must be below max {hi.f}")
    operators.rand(ctx, dst, lo, hi)
    return None


@isa("set_rng_seed", beta2=form("src_seeds", name=None), emits=("setRngSeed",))
def set_rng_seed(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Restart the vector engine's generators from the 32-bit seed in the [1, 1] tile
    ``src_seeds`` (the same seed gives the same numbers)."""
    fn = "nisa.set_rng_seed"
    src = on_chip(ctx, view_arg(ctx, a["src_seeds"], "src_seeds"), "src_seeds", fn)
    if src.partitions * src.free_size != 1 or src.dtype.size != 4:
        raise ctx.error(f"{fn}: src_seeds must be a [1, 1] tile of a 32-bit dtype, not {list(src.shape)} "
                        f"{src.dtype.name}")
    operators.set_rng_seed(ctx, src)
    return None


@isa("rand_get_state", beta2=form("dst", engine=None, name=None), emits=("randGetState",))
def rand_get_state(ctx: Ctx, a: Args, dps: bool) -> Value:
    """The generator states of lanes 0..P-1 of ``engine`` (``nisa.engine.gpsimd``, the default:
    6 uint32 words per partition, into SBUF; ``nisa.engine.vector``: 24) into ``dst``."""
    fn = "nisa.rand_get_state"
    engine = _engine(ctx, a["engine"], Engine.pool, fn)
    dst = _state(ctx, a["dst"], "dst", engine, fn)
    if engine is Engine.pool:   # GpSimd cannot reach PSUM
        with rule(ctx, fn):
            rules.in_memory(arg(dst, "dst"), Memory.sbuf)
    operators.rand_get_state(ctx, dst, engine)
    return None


@isa("rand_set_state", beta2=form("src_seeds", engine=None, name=None), emits=("randSetState",))
def rand_set_state(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Replace the generator states of lanes 0..P-1 of ``engine`` (``nisa.engine.gpsimd``, the
    default, or ``nisa.engine.vector``) by the SBUF tile ``src_seeds``, laid out as
    ``rand_get_state`` writes them."""
    fn = "nisa.rand_set_state"
    engine = _engine(ctx, a["engine"], Engine.pool, fn)
    src = _state(ctx, a["src_seeds"], "src_seeds", engine, fn)
    with rule(ctx, fn):
        rules.in_memory(arg(src, "src_seeds"), Memory.sbuf)
    operators.rand_set_state(ctx, src, engine)
    return None
