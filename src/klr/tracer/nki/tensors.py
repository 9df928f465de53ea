"""Tensor values: ``Tile``, the TraceObject for every tensor and view a kernel handles.

A Tile is a view (``klr.tracer.nki.views.View``) of one tensor: an HBM kernel argument or
output, or an SBUF/PSUM tensor the kernel allocates. Indexing makes new Tiles over the same
tensor; operators (``+ - * / ** % & | ^``, comparisons, unary ``-`` and ``~``) compute new
tiles (``klr.tracer.nki.arith``); ``t[...] = v`` and ``t[...] += v`` write through the view.

Kernel arguments and returned tensors are ``klr.tracer.nki.library``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klr.core import Memory
from klr.dtypes import Dtype
from klr.tracer.nki.consts import DTYPES, buffer_value, dtype_of
from klr.tracer.nki.emit import Origin
from klr.tracer.nki.index import Predicate
from klr.tracer.nki.views import (
    View,
    checked,
    index_view,
    reshape_view,
    retyped,
    root_view,
)
from klr.tracer.registry import method
from klr.tracer.show import describe
from klr.tracer.values import TraceObject, Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


class Tile(TraceObject):
    """A tensor or a view of one. ``origin`` is set on the fresh result of a value-returning
    operation (see ``klr.tracer.nki.emit.retarget``); ``mask`` on the result of an operation
    with ``mask=``: only those elements hold the result, and assigning the tile copies only them.
    """

    __slots__ = ("mask", "origin", "view")
    type_name = "tensor"

    def __init__(self, view: View, origin: Origin | None = None, mask: Predicate | None = None) -> None:
        self.view = view
        self.origin = origin
        self.mask = mask

    @property
    def shape(self) -> tuple[int, ...]:
        return self.view.shape

    @property
    def dtype(self) -> Dtype:
        return self.view.dtype

    @property
    def memory(self) -> Memory:
        return self.view.buf.memory

    # --- attributes --------------------------------------------------------------------

    def getattr(self, ctx: Ctx, name: str) -> Value:
        got = _ATTRS.get(name)
        if got is not None:
            return got(ctx, self)
        impl = _METHODS.get(name)
        if impl is not None:
            return method(f"tensor.{name}", impl, self)
        return super().getattr(ctx, name)

    def getitem(self, ctx: Ctx, key: Value) -> Value:
        return Tile(_indexed(ctx, self.view, key))

    def setitem(self, ctx: Ctx, key: Value, value: Value) -> None:
        from klr.tracer.nki.arith import assign

        assign(ctx, _indexed(ctx, self.view, key), value)

    def length(self, ctx: Ctx) -> int:
        return self.shape[0] if self.shape else 1

    # --- operators ---------------------------------------------------------------------

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        from klr.tracer.nki.arith import operator_binop

        return operator_binop(ctx, op, self, other, reflected)

    def inplace(self, ctx: Ctx, op: str, other: Value) -> Value:
        from klr.tracer.nki.arith import operator_inplace

        return operator_inplace(ctx, op, self, other)

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        from klr.tracer.nki.arith import operator_compare

        return operator_compare(ctx, op, self, other, reflected)

    def unop(self, ctx: Ctx, op: str) -> Value:
        from klr.tracer.nki.arith import operator_unary

        return operator_unary(ctx, op, self)

    def __repr__(self) -> str:
        v = self.view
        return f"tensor({v.tensor.name}, {list(self.shape)}, {DTYPES[self.dtype]!r}, {self.memory.name})"


def _indexed(ctx: Ctx, view: View, key: Value) -> View:
    """``view[key]``; an entry that is a tensor makes an indirect view (``klr.tracer.nki.indirect``)."""
    entries = key if isinstance(key, tuple) else (key,)
    if any(isinstance(e, Tile) for e in entries):
        from klr.tracer.nki.indirect import indirect_view

        return indirect_view(ctx, view, key)
    return index_view(ctx, view, key)


# --- attributes and methods ----------------------------------------------------------------


def _offset(ctx: Ctx, t: Tile) -> Value:
    return checked(ctx, t.view).lower().offset


def _pattern(ctx: Ctx, t: Tile) -> Value:
    return tuple([p.step, p.num] for p in checked(ctx, t.view).lower().pattern)


_ATTRS: dict[str, Any] = {
    "shape": lambda ctx, t: t.shape,
    "dtype": lambda ctx, t: DTYPES[t.dtype],
    "ndim": lambda ctx, t: len(t.shape),
    "size": lambda ctx, t: _product(t.shape),
    "itemsize": lambda ctx, t: t.dtype.size,
    "buffer": lambda ctx, t: buffer_value(t.memory),
    "name": lambda ctx, t: t.view.tensor.name,
    "address_name": lambda ctx, t: t.view.tensor.address.name,
    "offset": _offset,
    "pattern": _pattern,
}


def _product(xs: tuple[int, ...]) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def _reshape(ctx: Ctx, self: Tile, *shape: Value, dtype: Value = None) -> Value:
    dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise ctx.error(f"reshape takes integer dimensions, not {describe(list(dims))}")
    if dtype is not None and dtype_of(ctx, dtype) != self.dtype:
        raise ctx.error("reshape cannot change the dtype of a tensor")
    return Tile(reshape_view(ctx, self.view, tuple(dims)))


def _broadcast_to(ctx: Ctx, self: Tile, shape: Value, dtype: Value = None) -> Value:
    from klr.tracer.nki.arith import broadcast_to

    return broadcast_to(ctx, self, shape, dtype)


def _ap(ctx: Ctx, self: Tile, pattern: Value, offset: int = 0, dtype: Value = None) -> Value:
    """``t.ap(pattern=[[step, num], ...], offset=0)``: an explicit access pattern of a tensor."""
    view = self.view
    if not view.is_whole():
        raise ctx.error("an access pattern can only be given for a whole tensor, not a view of one")
    if dtype is not None and dtype_of(ctx, dtype) != self.dtype:
        raise ctx.error("an access pattern cannot change the dtype of a tensor")
    pairs = list(pattern) if isinstance(pattern, (tuple, list)) else None
    ok = pairs and all(isinstance(p, (tuple, list)) and len(p) == 2 and all(
        isinstance(x, int) and not isinstance(x, bool) for x in p) for p in pairs)
    if not ok or not isinstance(offset, int) or offset < 0:
        raise ctx.error("ap() takes pattern=[[step, num], ...] with integer steps and counts, "
                        "and an offset >= 0")
    steps = tuple(p[0] for p in pairs)  # type: ignore[union-attr]
    nums = tuple(p[1] for p in pairs)  # type: ignore[union-attr]
    if any(n <= 0 for n in nums):
        raise ctx.error("access pattern counts must be positive")
    return Tile(View(view.buf, offset, steps, nums, tuple(range(len(nums))), 0))


def _view(ctx: Ctx, self: Tile, dtype: Value) -> Value:
    """``t.view(dtype)``: the same bytes as elements of another dtype; the last dimension
    grows or shrinks by the ratio of the element sizes (a [128, 1] float32 tile viewed as
    float8 is [128, 4])."""
    from klr.tracer.nki.emit import ready

    new = dtype_of(ctx, dtype)
    view = self.view
    if new == self.dtype:
        return self
    if not view.is_whole():
        raise ctx.error("view(dtype) can only reinterpret a whole tensor, not a view of one")
    buf = view.buf
    dims = buf.dims
    if buf.on_chip and buf.par_axis == len(dims) - 1:
        raise ctx.error("view(dtype) changes the last dimension, which is this tile's partition dimension")
    old_bytes, new_bytes = self.dtype.size, new.size
    if (dims[-1] * old_bytes) % new_bytes:
        raise ctx.error(f"a last dimension of {dims[-1]} {DTYPES[self.dtype]} elements cannot be "
                        f"viewed as whole {DTYPES[new]} elements")
    ready(ctx, buf)
    return Tile(root_view(retyped(buf, new, (*dims[:-1], dims[-1] * old_bytes // new_bytes))))


_METHODS: dict[str, Any] = {"reshape": _reshape, "broadcast_to": _broadcast_to, "ap": _ap, "view": _view}
