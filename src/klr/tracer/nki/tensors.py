"""Tensor values and their arithmetic: ``TensorValue``, the TraceObject for every tensor and
view a kernel handles, and the element-wise computations its operators and the builtins share.

A TensorValue is a view (``klr.tracer.nki.views.View``) of one tensor: an HBM kernel argument
or output, or an SBUF/PSUM tensor the kernel allocates. Indexing makes new tensor values over
the same tensor; ``t[...] = v`` and ``t[...] += v`` write through the view.

Binary operations (``+ - * / ** % & | ^ << >>``, comparisons, ``nl.add``...) follow tile
broadcasting: equal shapes pair up element by element; a ``[P, 1]`` operand (or a ``[P]`` one
next to a ``[P, F...]`` tile) is a per-partition column and makes the operation a
``tensorScalar``; a Python number is an immediate; free axes of size 1 stretch by a 0 step; a
``[1, F]`` operand stretched over partitions is first copied to every partition by a DMA
(engines cannot read one partition for many).

Results are fresh SBUF tiles made by producers (``klr.tracer.nki.results.produce``), so
``t[...] = a + b`` writes ``t`` directly. Kernel arguments and returned tensors are
``klr.tracer.nki.library``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from klr.core import (
    ActivationFunc,
    AluOp,
    Engine,
    Memory,
)
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.consts import DTYPES, buffer_value, dtype_of
from klr.tracer.nki.emit import ready, tile
from klr.tracer.nki.index import IndexTile, Predicate, broadcast_shapes
from klr.tracer.nki.indirect import IndirectView, OffsetView, indirect_view, offset_index
from klr.tracer.nki.masks import as_mask, masked
from klr.tracer.nki.operators import Scalar
from klr.tracer.nki.promotion import result_dtype, scalar_result_dtype
from klr.tracer.nki.registers import Register, RegisterSlice
from klr.tracer.nki.results import Origin, Producer, produce, retarget
from klr.tracer.nki.views import (
    Box,
    Buf,
    View,
    checked,
    expand_view,
    index_view,
    reshape_view,
    retyped,
    root_view,
)
from klr.tracer.registry import method
from klr.tracer.show import describe
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


class TensorValue(TraceObject):
    """A tensor or a view of one. ``origin`` is set on the fresh result of a value-returning
    operation (see ``klr.tracer.nki.results.retarget``); ``mask`` on the result of an operation
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
        if isinstance(key, Predicate):  # ``t[i_p, i_f][mask]``: an operand naming its mask
            mask = key if self.mask is None else self.mask.conjoin(ctx, key)
            return MaskedOperand(self.view, self.origin, mask)
        return TensorValue(_indexed(ctx, self.view, key))

    def setitem(self, ctx: Ctx, key: Value, value: Value) -> None:
        assign(ctx, _indexed(ctx, self.view, key), value)

    def length(self, ctx: Ctx) -> int:
        return self.shape[0] if self.shape else 1

    # --- operators ---------------------------------------------------------------------

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        return operator_binop(ctx, op, self, other, reflected)

    def inplace(self, ctx: Ctx, op: str, other: Value) -> Value:
        return operator_inplace(ctx, op, self, other)

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        return operator_compare(ctx, op, self, other, reflected)

    def unop(self, ctx: Ctx, op: str) -> Value:
        return operator_unary(ctx, op, self)

    def __repr__(self) -> str:
        v = self.view
        return f"tensor({v.tensor.name}, {list(self.shape)}, {DTYPES[self.dtype]!r}, {self.memory.name})"


class MaskedOperand(TensorValue):
    """``t[i_p, i_f][mask]``: an operand naming the mask of the operation it is passed to (an
    ``nki.isa`` call without ``mask=`` takes it)."""

    __slots__ = ()


def _indexed(ctx: Ctx, view: View, key: Value) -> View:
    """``view[key]``; an entry that is a tensor makes an indirect view (``klr.tracer.nki.indirect``)."""
    entries = list(key) if isinstance(key, tuple) else [key]
    if any(_has_register(e) for e in entries):
        return _register_indexed(ctx, view, entries)
    at = [k for k, e in enumerate(entries) if isinstance(e, TensorValue)]
    if not at:
        return index_view(ctx, view, key)
    if len(at) > 1:
        raise ctx.error("only one index of a tensor access can be a tensor")
    tensor = entries[at[0]]
    assert isinstance(tensor, TensorValue)
    return indirect_view(ctx, view, entries, at[0], tensor.view)


def _register_indexed(ctx: Ctx, view: View, entries: list[Value]) -> View:
    """``t[i, ...]`` (``t[nl.ds(i, n), ...]``) with ``i`` a register: the access of ``t[0, ...]``
    (``t[0:n, ...]``) moved by ``i`` rows at run time."""
    first, buf = entries[0], view.buf
    if not isinstance(first, (Register, RegisterSlice)) or any(_has_register(e) for e in entries[1:]) \
            or not view.is_whole() or (buf.on_chip and buf.par_axis != 0):
        raise ctx.error("a register can only index the first dimension of a whole tensor (t[i, ...] or "
                        "t[nl.ds(i, n), ...]); for another access use t.ap(pattern, scalar_offset=i)")
    if isinstance(first, Register):
        return OffsetView(index_view(ctx, view, (0, *entries[1:])), first.name, 0)
    return OffsetView(index_view(ctx, view, (slice(0, first.size), *entries[1:])), first.reg.name, 0)


def _has_register(e: Value) -> bool:
    return isinstance(e, (Register, RegisterSlice)) or (isinstance(e, slice) and any(
        isinstance(b, Register) for b in (e.start, e.stop, e.step)))


def _offset(ctx: Ctx, t: TensorValue) -> Value:
    return checked(ctx, t.view).lower().offset


def _pattern(ctx: Ctx, t: TensorValue) -> Value:
    return tuple([p.step, p.num] for p in checked(ctx, t.view).lower().pattern)


_ATTRS: dict[str, Callable[[Ctx, TensorValue], Value]] = {
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


def _reshape(ctx: Ctx, self: TensorValue, *dims_: Value, shape: Value = None, dtype: Value = None) -> Value:
    """``t.reshape(4, 8)``, ``t.reshape((4, 8))`` or ``t.reshape(shape=(4, 8))``."""
    if shape is not None:
        if dims_:
            raise ctx.error("reshape takes its dimensions or shape=, not both")
        dims_ = (shape,)
    dims = dims_[0] if len(dims_) == 1 and isinstance(dims_[0], (tuple, list)) else dims_
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise ctx.error(f"reshape takes integer dimensions, not {describe(list(dims))}")
    if dtype is not None and dtype_of(ctx, dtype) != self.dtype:
        raise ctx.error("reshape cannot change the dtype of a tensor")
    return TensorValue(reshape_view(ctx, self.view, tuple(dims)))


def _broadcast_to(ctx: Ctx, self: TensorValue, shape: Value, dtype: Value = None) -> Value:
    return broadcast_to(ctx, self, shape, dtype)


def _ap(ctx: Ctx, self: TensorValue, pattern: Value, offset: Value = None, scalar_offset: Value = None,
        vector_offset: Value = None, indirect_dim: Value = 0, dtype: Value = None) -> Value:
    """``t.ap(pattern=[[step, num], ...], offset=None, scalar_offset=None, vector_offset=None,
    indirect_dim=0, dtype=None)``: an explicit access pattern over the storage of ``t`` (a
    tensor or a view of one), starting at the view's own offset plus ``offset``, in elements of
    ``dtype`` (a reinterpretation) or of the tensor's dtype. ``scalar_offset`` (an integer
    tensor) moves it at run time by its value times the row size of the tensor's dimension
    ``indirect_dim``; ``vector_offset`` (an on-chip integer tile) gives the coordinates of
    pair ``indirect_dim`` at run time (a gather or scatter)."""
    view = self.view
    if isinstance(view, (IndirectView, OffsetView)):
        raise ctx.error("an access pattern cannot be given for a tensor-indexed view")
    pairs = list(pattern) if isinstance(pattern, (tuple, list)) else []
    ok = pairs and all(isinstance(p, (tuple, list)) and len(p) == 2 and all(
        isinstance(x, int) and not isinstance(x, bool) for x in p) for p in pairs)
    if not ok or not (offset is None or (isinstance(offset, int) and not isinstance(offset, bool))):
        raise ctx.error("ap() takes pattern=[[step, num], ...] with integer steps and counts, "
                        "and an integer offset")
    steps = tuple(p[0] for p in pairs)
    nums = tuple(p[1] for p in pairs)
    if any(n <= 0 for n in nums):
        raise ctx.error("access pattern counts must be positive")
    if isinstance(indirect_dim, bool) or not isinstance(indirect_dim, int) \
            or not 0 <= indirect_dim < len(nums):
        raise ctx.error(f"indirect_dim must be a dimension of the {len(nums)}-d access pattern, "
                        f"not {describe(indirect_dim)}")
    buf, base = view.buf, view.offset
    if dtype is not None and (new := dtype_of(ctx, dtype)) != buf.dtype:
        old_bytes, new_bytes = buf.dtype.size, new.size
        dims = buf.dims
        if (base * old_bytes) % new_bytes or (dims[-1] * old_bytes) % new_bytes:
            raise ctx.error(f"this {DTYPES[buf.dtype]} view cannot be reinterpreted as whole "
                            f"{DTYPES[new]} elements")
        ready(ctx, buf)
        base = base * old_bytes // new_bytes
        buf = retyped(buf, new, (*dims[:-1], dims[-1] * old_bytes // new_bytes))
    start = base + (offset or 0)
    out = View(buf, start, steps, nums, tuple(range(len(nums))), 0)
    if scalar_offset is not None and vector_offset is not None:
        raise ctx.error("an access pattern takes scalar_offset or vector_offset, not both")
    if isinstance(scalar_offset, Register):
        return TensorValue(OffsetView(out, scalar_offset.name, _offset_dim(ctx, buf, indirect_dim)))
    if scalar_offset is not None:
        s = offset_index(ctx, tile_view(ctx, scalar_offset, "scalar_offset"), "scalar_offset")
        return TensorValue(OffsetView(out, s, _offset_dim(ctx, buf, indirect_dim)))
    if vector_offset is not None:
        idx = offset_index(ctx, tile_view(ctx, vector_offset, "vector_offset"), "vector_offset")
        if not idx.buf.on_chip:
            raise ctx.error("vector_offset must be an on-chip tile; load it first")
        if _product(idx.shape) != nums[indirect_dim]:
            raise ctx.error(f"vector_offset has {_product(idx.shape)} indices for a pattern dimension "
                            f"of {nums[indirect_dim]}")
        step = abs(steps[indirect_dim]) or 1
        return TensorValue(IndirectView(out, indirect_dim, idx, max(nums[indirect_dim], buf.size // step)))
    return TensorValue(out)  # bounds are checked where it is used (``views.check``)


def _offset_dim(ctx: Ctx, buf: Buf, dim: int) -> int:
    if dim and len(buf.tensor.shape.dims) <= dim:
        raise ctx.error(f"indirect_dim {dim} is not a dimension of '{buf.tensor.name}'")
    return dim


def _view(ctx: Ctx, self: TensorValue, dtype: Value) -> Value:
    """``t.view(dtype)``: the same bytes as elements of another dtype; the last dimension
    grows or shrinks by the ratio of the element sizes (a [128, 1] float32 tile viewed as
    float8 is [128, 4])."""
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
    return TensorValue(root_view(retyped(buf, new, (*dims[:-1], dims[-1] * old_bytes // new_bytes))))


_METHODS: dict[str, Callable[..., Value]] = {
    "reshape": _reshape, "broadcast_to": _broadcast_to, "ap": _ap, "view": _view}


Number = (int, float, bool)


def result(ctx: Ctx, shape: tuple[int, ...], dtype: Dtype, fn: Producer, *, inputs: Sequence[View] = (),
           memory: Memory = Memory.sbuf, par_axis: int | None = 0, accumulates: bool = False,
           elementwise: bool = False, mask: Predicate | None = None,
           memories: tuple[Memory, ...] = (Memory.sbuf, Memory.psum)) -> TensorValue:
    """A fresh tile holding what ``fn`` produces (only where ``mask`` holds, when given)."""
    view = tile(ctx, shape, dtype, memory, par_axis=par_axis)
    origin = produce(ctx, view, fn, inputs=inputs, accumulates=accumulates, elementwise=elementwise,
                     memories=memories)
    return TensorValue(view, origin, mask)


def tile_view(ctx: Ctx, v: Value, what: str) -> View:
    if isinstance(v, TensorValue):
        return v.view
    raise ctx.error(f"{what} must be a tensor, not {type_name(v)}")


def broadcast_shape(ctx: Ctx, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape two operands stretch to: numpy's rule, except that a [P] tile beside a
    [P, F...] tile is a per-partition column."""
    if len(a) != len(b) and min(len(a), len(b)) == 1 and a and b:
        one, other = (a, b) if len(a) == 1 else (b, a)
        if one[0] == other[0]:
            return other
    return broadcast_shapes(ctx, a, b, "operand")


def stretches_to(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether shape ``a`` stretches to exactly ``b`` (see ``broadcast_shape``)."""
    if len(a) == 1 and len(b) > 1 and a[0] == b[0]:
        return True
    if len(a) > len(b):
        return False
    return all(x in (1, y) for x, y in zip(a, b[len(b) - len(a):], strict=True))


def fit(ctx: Ctx, view: View, shape: tuple[int, ...], par_axis: int | None) -> View:
    """``view`` stretched to ``shape`` (see the module docstring) with its partitions along
    dimension ``par_axis``; stretching or moving the partition axis is a DMA to a new tile."""
    if view.shape == shape and view.par_dim == par_axis:
        return view
    if broadcast_shape(ctx, view.shape, shape) != shape:
        raise ctx.error(f"a {list(view.shape)} tile cannot be broadcast to {list(shape)}")
    left = view.rank == 1 and len(shape) > 1 and view.shape[0] == shape[0]
    out = expand_view(view, shape, left=left)
    if out.par_dim == par_axis and not (out.steps[out.par] == 0 and out.nums[out.par] > 1):
        return out
    copied = tile(ctx, shape, view.dtype, Memory.sbuf, par_axis=par_axis)
    operators.dma(ctx, copied, out)
    return copied


def is_column(view: View) -> bool:
    """A per-partition scalar: every free element of the (stretched) view is the same."""
    par = view.par
    # a loop rather than all(...) over a generator: this runs for every operand of every operation
    for i, (s, n) in enumerate(zip(view.steps, view.nums)):  # noqa: SIM110
        if s != 0 and n != 1 and i != par:
            return False
    return True


def column(view: View) -> View:
    """A stretched per-partition scalar as the [P, 1] operand Core expects."""
    nums = tuple(n if i == view.par or view.steps[i] != 0 else 1 for i, n in enumerate(view.nums))
    return View(view.buf, view.offset, view.steps, nums, view.vis, view.par, view.checks)


def binary_producer(op: AluOp, x: View | float | int, y: View | float | int, mask: Predicate | None,
                    engine: Engine | None = None) -> Producer:
    """dst = x op y for stretched views and/or numbers (at least one view)."""
    eng = engine if engine is not None else Engine.unassigned

    def fn(ctx: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            a = x.box(box) if isinstance(x, View) else x
            b = y.box(box) if isinstance(y, View) else y
            if isinstance(a, View) and isinstance(b, View):
                if is_column(b) and not is_column(a):
                    operators.tensor_scalar(ctx, d, a, op, column(b), engine=eng)
                elif is_column(a) and not is_column(b):
                    operators.tensor_scalar(ctx, d, b, op, column(a), reverse0=True, engine=eng)
                else:
                    operators.tensor_tensor(ctx, d, a, b, op, eng)
            elif isinstance(a, View) and not isinstance(b, View):
                operators.tensor_scalar(ctx, d, a, op, operators.imm(b, d.dtype), engine=eng)
            elif isinstance(b, View) and not isinstance(a, View):
                operators.tensor_scalar(ctx, d, b, op, operators.imm(a, d.dtype), reverse0=True, engine=eng)
        masked(ctx, dst, mask, body)
    return fn


def binary(ctx: Ctx, op: AluOp, x: Value, y: Value, *, dtype: Value = None, mask: Value = None,
           name: str = "operator", engine: Engine | None = None) -> Value:
    """The value of ``x op y`` (tiles and/or numbers)."""
    pred = as_mask(ctx, mask)
    xt, yt = isinstance(x, TensorValue), isinstance(y, TensorValue)
    for v, what in ((x, "first"), (y, "second")):
        if not isinstance(v, (TensorValue, *Number)):
            raise ctx.error(f"the {what} operand of {name} must be a tensor or a number, not {type_name(v)}")
    if not xt and not yt:
        raise ctx.error(f"{name} needs at least one tensor operand")
    for v in (x, y):
        if isinstance(v, TensorValue) and v.memory.is_hbm:
            raise ctx.error(f"{name} cannot read the HBM tensor '{v.view.tensor.name}'; "
                            "load it into SBUF first")
    if xt and yt:
        shape = broadcast_shape(ctx, x.shape, y.shape)
        out_dt = result_dtype(ctx, op, x.dtype, y.dtype)
        anchor = x.view if x.shape == shape else y.view
        par = anchor.par_dim
        xv, yv = fit(ctx, x.view, shape, par), fit(ctx, y.view, shape, par)
    else:
        t, s = (x, y) if xt else (y, x)
        shape, out_dt = t.shape, scalar_result_dtype(ctx, op, t.dtype, s)
        xv, yv = (t.view, s) if xt else (s, t.view)
        anchor = t.view
    if dtype is not None:
        out_dt = dtype_of(ctx, dtype)
    inputs = [v for v in (xv, yv) if isinstance(v, View)]
    fn = binary_producer(op, xv, yv, pred, engine)
    return result(ctx, shape, out_dt, fn, inputs=inputs, par_axis=anchor.par_dim, elementwise=True, mask=pred)


def activation_producer(func: ActivationFunc, src: View, mask: Predicate | None, scale: Scalar | None = None,
                        bias: View | None = None) -> Producer:
    def fn(ctx: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            b = None if bias is None else column(bias.box(box))
            sc = column(scale.box(box)) if isinstance(scale, View) else scale
            operators.activation(ctx, d, src.box(box), func, scale=sc, bias=b)
        masked(ctx, dst, mask, body)
    return fn


def unary_activation(ctx: Ctx, func: ActivationFunc, x: Value, *, dtype: Value = None, mask: Value = None,
                     name: str = "activation") -> Value:
    src = tile_view(ctx, x, f"the operand of {name}")
    out_dt = dtype_of(ctx, dtype) if dtype is not None else x.dtype
    pred = as_mask(ctx, mask)
    fn = activation_producer(func, src, pred)
    return result(ctx, src.shape, out_dt, fn, inputs=[src], par_axis=src.par_dim, elementwise=True, mask=pred)


def unary_alu(ctx: Ctx, op: AluOp, x: Value, operand: float, *, dtype: Value = None, mask: Value = None,
              name: str = "operator") -> Value:
    """``x op operand`` as a tensorScalar (negation, bitwise not, absolute value)."""
    src = tile_view(ctx, x, f"the operand of {name}")
    out_dt = result_dtype(ctx, op, src.dtype, None)
    if dtype is not None:
        out_dt = dtype_of(ctx, dtype)
    pred = as_mask(ctx, mask)
    fn = binary_producer(op, src, operand, pred)
    return result(ctx, src.shape, out_dt, fn, inputs=[src], par_axis=src.par_dim, elementwise=True, mask=pred)


BINOPS = {
    "+": AluOp.add, "-": AluOp.subtract, "*": AluOp.mult, "/": AluOp.divide, "**": AluOp.pow,
    "%": AluOp.mod, "&": AluOp.bitwise_and, "|": AluOp.bitwise_or, "^": AluOp.bitwise_xor,
    "<<": AluOp.logical_shift_left, ">>": AluOp.logical_shift_right,
}


COMPARES = {"<": AluOp.is_lt, "<=": AluOp.is_le, ">": AluOp.is_gt, ">=": AluOp.is_ge,
            "==": AluOp.is_equal, "!=": AluOp.not_equal}


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def operator_binop(ctx: Ctx, op: str, t: TensorValue, other: Value, reflected: bool) -> Value:
    alu = BINOPS.get(op)
    if alu is None or not isinstance(other, (TensorValue, *Number)):
        if isinstance(other, IndexTile):
            raise ctx.error("index tiles cannot be combined with tensors; use them to index a tensor")
        if alu is None and isinstance(other, (TensorValue, *Number)):
            raise ctx.error(f"the operator '{op}' is not supported on tensors")
        return NotImplemented
    x, y = (other, t) if reflected else (t, other)
    return binary(ctx, alu, x, y, name=f"'{op}'")


def operator_compare(ctx: Ctx, op: str, t: TensorValue, other: Value, reflected: bool) -> Value:
    if not isinstance(other, (TensorValue, *Number)):
        return NotImplemented
    if reflected:      # the engine mirrored op: other op' t  ==  t op other
        return binary(ctx, COMPARES[op], t, other, name=f"'{_MIRROR[op]}'")
    return binary(ctx, COMPARES[op], t, other, name=f"'{op}'")


def operator_unary(ctx: Ctx, op: str, t: TensorValue) -> Value:
    if op == "-":
        return unary_alu(ctx, AluOp.mult, t, -1, name="unary '-'")
    if op == "~":
        return unary_alu(ctx, AluOp.bitwise_not, t, 0, name="'~'")
    return t


def operator_inplace(ctx: Ctx, op: str, t: TensorValue, other: Value) -> Value:
    """``t op= other`` writes ``t`` in place (``acc += nisa.nc_matmul(...)`` accumulates)."""
    alu = BINOPS.get(op)
    if alu is None or not isinstance(other, (TensorValue, *Number)):
        return operator_binop(ctx, op, t, other, False)
    dst = t.view
    if isinstance(other, TensorValue):
        result_dtype(ctx, alu, dst.dtype, other.dtype)
    else:
        scalar_result_dtype(ctx, alu, dst.dtype, other)
    if op == "+" and isinstance(other, TensorValue) and retarget(ctx, other.view, other.origin, dst,
                                                          accumulate=True):
        return t
    if isinstance(other, TensorValue):
        shape = broadcast_shape(ctx, dst.shape, other.shape)
        if shape != dst.shape:
            raise ctx.error(f"cannot update a {list(dst.shape)} tile with a {list(other.shape)} tile "
                            "in place")
        src: View | float | int = fit(ctx, other.view, shape, dst.par_dim)
    else:
        src = other
    # a masked result holds values only where its mask holds: the update stops there too
    binary_producer(alu, dst, src, other.mask if isinstance(other, TensorValue) else None)(ctx, dst, False)
    return t


class LoopReduced(TensorValue):
    """``nl.loop_reduce(x, op)``: the tile ``x``, which an assignment combines into its
    destination (``dst = dst op x``) instead of overwriting it."""

    __slots__ = ("op",)

    def __init__(self, view: View, op: AluOp) -> None:
        super().__init__(view)
        self.op = op


def assign(ctx: Ctx, dst: View, value: Value) -> None:
    """``dst[...] = value``: write a tile (copying, or redoing its producer into dst) or a number."""
    if isinstance(value, Number):
        operators.memset(ctx, dst, operators.imm(value, dst.dtype))
        return
    if not isinstance(value, TensorValue):
        raise ctx.error(f"cannot assign a {type_name(value)} to a tensor")
    src = value.view
    if isinstance(value, LoopReduced):
        if dst.buf.memory.is_hbm:
            raise ctx.error("nl.loop_reduce accumulates into an on-chip tile, not into HBM")
        if src.shape != dst.shape and stretches_to(src.shape, dst.shape):
            src = expand_view(src, dst.shape, left=src.rank == 1 and dst.rank > 1)
        operators.tensor_tensor(ctx, dst, dst, src, value.op)
        return
    if dst.same(src) or retarget(ctx, src, value.origin, dst, accumulate=False):
        return
    if src.shape != dst.shape:
        if stretches_to(src.shape, dst.shape):
            left = src.rank == 1 and dst.rank > 1 and src.shape[0] == dst.shape[0]
            src = expand_view(src, dst.shape, left=left)
        elif src.partitions != dst.partitions or src.free_size != dst.free_size:
            raise ctx.error(f"cannot assign a {list(value.shape)} tile to a {list(dst.shape)} region")
    stretched = src.steps[src.par] == 0 and src.nums[src.par] > 1
    dma = dst.buf.memory.is_hbm or src.buf.memory.is_hbm or stretched
    same = src.shape == dst.shape

    def body(d: View, box: Box) -> None:
        # the box is in the destination's coordinates: only a source of the same shape can
        # take it; one of another shape (same partitions and size) is copied whole, unmasked
        part = src.box(box) if same else src
        if dma:
            operators.dma(ctx, d, part)
        else:
            operators.tensor_copy(ctx, d, part, d.dtype)
    # a masked result holds values only where its mask holds: copy just those
    masked(ctx, dst, value.mask if same else None, body, dma=dma)


def broadcast_to(ctx: Ctx, x: TensorValue, shape: Value, dtype: Value = None) -> Value:
    """A new tile of ``shape`` holding ``x`` stretched along its size-1 dimensions."""
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in shape):
        raise ctx.error(f"broadcast_to takes a shape tuple, not {describe(shape)}")
    shape = tuple(shape)
    src = x.view
    # a [P] tile is a per-partition column: it stretches along new free dimensions
    if not stretches_to(src.shape, shape):
        raise ctx.error(f"a {list(src.shape)} tile cannot be broadcast to {list(shape)}")
    out_dt = dtype_of(ctx, dtype) if dtype is not None else src.dtype
    if src.buf.memory.is_hbm:
        raise ctx.error("broadcast_to needs a tile in SBUF or PSUM; load the tensor first")
    left = src.rank == 1 and len(shape) > 1 and src.shape[0] == shape[0]
    stretched = expand_view(src, shape, left=left)

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        if stretched.steps[stretched.par] == 0 and stretched.nums[stretched.par] > 1:
            operators.dma(c, dst, stretched)
        else:
            operators.tensor_copy(c, dst, stretched, dst.dtype)
    return result(ctx, shape, out_dt, fn, inputs=[src], par_axis=stretched.par_dim)
