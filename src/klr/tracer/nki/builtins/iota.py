"""Index values: ``nl.arange``, ``nl.mgrid`` and ``nl.ds`` (index tiles and slices, trace-time
values), and ``nisa.iota`` (a tile filled with an affine function of its indices).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.tracer.affine import Sym
from klr.tracer.nki import operators
from klr.tracer.nki.args import Args, int_arg, pairs_arg, view_arg
from klr.tracer.nki.consts import dtype_of
from klr.tracer.nki.dialects import form, isa
from klr.tracer.nki.index import Affine, IndexTile, Mgrid, arange
from klr.tracer.nki.masks import as_mask, masked
from klr.tracer.nki.registers import Register, RegisterSlice
from klr.tracer.nki.tensors import result
from klr.tracer.nki.views import View
from klr.tracer.registry import Dialect, builtin, constant
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


NL = "nki.language."


@builtin(NL + "arange", dialect=Dialect.legacy)
def arange_(ctx: Ctx, start: Value, stop: Value = None, step: Value = 1) -> Value:
    """An index tile of ``range(start, stop, step)`` (``nl.arange(128)[:, None]``)."""
    return arange(ctx, start, stop, step)


constant(NL + "mgrid", Mgrid(), dialect=Dialect.legacy,
         doc="``nl.mgrid[0:128, 0:512]``: the index tiles of a 2-D grid, unpacked or as .p/.x.")


@builtin(NL + "ds", dialect=Dialect.both)
def ds(ctx: Ctx, start: Value, size: Value) -> Value:
    """The slice ``start:start+size`` (``start`` may be a register: a dynamic slice of the
    first dimension of a whole tensor)."""
    if isinstance(start, Register):
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ctx.error(f"nl.ds size must be a positive integer, not {describe(size)}")
        return RegisterSlice(start, size)
    for v, what in ((start, "start"), (size, "size")):
        if (isinstance(v, bool) or not isinstance(v, int)) and not (what == "start" and type(v) is Sym):
            raise ctx.error(f"nl.ds {what} must be an integer, not {type_name(v)}")
    if size <= 0:
        raise ctx.error(f"nl.ds size must be positive, not {size}")
    return slice(start, start + size, 1)


@isa("iota",
     beta2=form("dst", "pattern", offset=0, channel_multiplier=0, name=None),
     legacy=form("expr", "dtype", mask=None),
     legacy_tensors=0, emits=("iota",))
def iota(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Fill a tile with an affine function of its indices: ``offset + channel_multiplier * p +
    sum(step_i * x_i)`` (legacy: the values of an index expression)."""
    fn = "nisa.iota"
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        pairs = pairs_arg(ctx, a["pattern"], fn)
        pattern = operators.data_pattern(int_arg(ctx, a["offset"], "offset"),
                                       int_arg(ctx, a["channel_multiplier"], "channel_multiplier"), pairs)
        operators.iota(ctx, dst, pattern)
        return None
    expr = a["expr"]
    if isinstance(expr, int) and not isinstance(expr, bool):
        expr = IndexTile(Affine((1, 1), (0, 0), expr))
    if not isinstance(expr, IndexTile):
        raise ctx.error(f"{fn}: expr must be an index expression such as nl.arange(8)[None, :], not "
                        f"{type_name(expr)}")
    aff = expr.affine if len(expr.shape) > 1 else expr.affine.aligned(2)
    pred = as_mask(ctx, a["mask"])

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: operators.iota(c, d, operators.affine_pattern(aff, box, 0)))
    return result(ctx, aff.shape, dtype_of(ctx, a["dtype"]), body_fn, elementwise=True, mask=pred)
