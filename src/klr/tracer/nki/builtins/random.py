"""Random numbers: ``nl.rand``, ``nl.random_seed``, ``nl.dropout`` and ``nisa.dropout``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.core import (
    ImmFloat,
)
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.args import Args, float_operand, no_mask, on_chip, parse_shape, same_size, view_arg
from klr.tracer.nki.consts import dtype_of
from klr.tracer.nki.dialects import Write, form, into, isa
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
def rand(ctx: Ctx, shape: Value, dtype: Value = None, **kwargs: Value) -> Value:
    """A new SBUF tile of uniform random values in [0, 1)."""
    dims, par = parse_shape(ctx, shape)
    dt = Dtype.float32 if dtype is None else dtype_of(ctx, dtype)

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
