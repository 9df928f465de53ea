"""Making tensors: ``nl.ndarray`` and its filled forms, ``*_like``, ``par_dim``, shared constants,
``nl.broadcast_to`` and ``nisa.memset``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from klr.core import (
    Address,
    Memory,
    Shape,
    TensorName,
)
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.args import Args, ParDim, new_tensor, no_mask, parse_shape, view_arg
from klr.tracer.nki.consts import DTYPES, buffer_value, dtype_of, engine_of
from klr.tracer.nki.dialects import form, isa
from klr.tracer.nki.emit import alloc
from klr.tracer.nki.hostarrays import HostArray, host_array
from klr.tracer.nki.masks import as_mask, masked
from klr.tracer.nki.state import state
from klr.tracer.nki.tensors import Number, TensorValue, broadcast_to, result, tile_view
from klr.tracer.nki.views import Buf, View, index_view, root_view
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx
    from klr.tracer.nki.hostarrays import Array


NL = "nki.language."


@builtin(NL + "ndarray", dialect=Dialect.both)
def ndarray(ctx: Ctx, shape: Value, dtype: Value, buffer: Value = None, name: Value = None,
            address: Value = None, address_rotation: Value = None,
            lazy_initialization: Value = False) -> Value:
    """An uninitialised tensor of ``shape`` in ``buffer`` (default SBUF; ``lazy_initialization``
    only affects scheduling)."""
    if address is not None:
        raise ctx.error("explicit tensor addresses are not supported")
    return new_tensor(ctx, shape, dtype, buffer, name)


def _filled(ctx: Ctx, shape: Value, dtype: Value, buffer: Value, name: Value, value: Value) -> Value:
    if not isinstance(value, (int, float, bool)):
        raise ctx.error(f"fill value must be a number, not {type_name(value)}")
    t = new_tensor(ctx, shape, dtype, buffer, name)
    operators.memset(ctx, t.view, operators.imm(value, t.dtype))
    return t


@builtin(NL + "zeros", emits=("memSet",), dialect=Dialect.legacy)
def zeros(ctx: Ctx, shape: Value, dtype: Value, buffer: Value = None, name: Value = None,
          lazy_initialization: Value = False) -> Value:
    """A tensor of zeros (``lazy_initialization`` only affects scheduling)."""
    return _filled(ctx, shape, dtype, buffer, name, 0)


@builtin(NL + "ones", emits=("memSet",), dialect=Dialect.legacy)
def ones(ctx: Ctx, shape: Value, dtype: Value, buffer: Value = None, name: Value = None,
         lazy_initialization: Value = False) -> Value:
    """A tensor of ones (``lazy_initialization`` only affects scheduling)."""
    return _filled(ctx, shape, dtype, buffer, name, 1)


@builtin(NL + "full", emits=("memSet",), dialect=Dialect.legacy)
def full(ctx: Ctx, shape: Value, fill_value: Value, dtype: Value, buffer: Value = None,
         name: Value = None, lazy_initialization: Value = False) -> Value:
    """A tensor filled with ``fill_value`` (``lazy_initialization`` only affects scheduling)."""
    return _filled(ctx, shape, dtype, buffer, name, fill_value)


def _like(ctx: Ctx, x: Value, dtype: Value, buffer: Value) -> tuple[tuple[int, ...], Value, Value]:
    t = tile_view(ctx, x, "the template")
    dims = list(t.shape)
    if t.par_dim is not None and t.par_dim:
        dims[t.par_dim] = ParDim(dims[t.par_dim])
    return tuple(dims), dtype if dtype is not None else DTYPES[t.dtype], buffer if buffer is not None \
        else _buffer_of(t)


def _buffer_of(v: View) -> Value:
    return buffer_value(v.buf.memory)


@builtin(NL + "zeros_like", emits=("memSet",), dialect=Dialect.legacy)
def zeros_like(ctx: Ctx, x: Value, dtype: Value = None, buffer: Value = None, name: Value = None) -> Value:
    """A tensor of zeros with the shape (and by default dtype and buffer) of ``x``."""
    shape, dt, buf = _like(ctx, x, dtype, buffer)
    return _filled(ctx, shape, dt, buf, name, 0)


@builtin(NL + "empty_like", dialect=Dialect.legacy)
def empty_like(ctx: Ctx, x: Value, dtype: Value = None, buffer: Value = None, name: Value = None) -> Value:
    """An uninitialised tensor with the shape (and by default dtype and buffer) of ``x``."""
    shape, dt, buf = _like(ctx, x, dtype, buffer)
    return new_tensor(ctx, shape, dt, buf, name)


@builtin(NL + "par_dim", dialect=Dialect.both)
def par_dim(ctx: Ctx, dim: Value) -> Value:
    """Marks the partition dimension in a shape: ``(4, nl.par_dim(128), 512)``."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise ctx.error(f"par_dim takes an integer, not {type_name(dim)}")
    return ParDim(dim)


_CONSTANT_DTYPES = (Dtype.uint8, Dtype.uint16, Dtype.uint32, Dtype.uint64, Dtype.int8, Dtype.int16,
                    Dtype.int32, Dtype.int64, Dtype.float32)
"""The dtypes a trace-time constant tensor may have (the reference's list)."""


@builtin(NL + "shared_identity_matrix", emits=("ncDmaCopy",), dialect=Dialect.both)
def shared_identity_matrix(ctx: Ctx, n: Value, dtype: Value = None, dst: Value = None) -> Value:
    """An ``n`` x ``n`` identity matrix, a shared constant in HBM (one per size and dtype);
    in a beta 2 kernel an SBUF tile holding it, as nki's page says, or ``dst`` when given
    (copied in, converted to its dtype). Dtypes a constant cannot have (bfloat16...) are stored
    as float32; ``nl.load`` (beta 2: the copy) converts."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ctx.error(f"shared_identity_matrix size must be a positive integer, not {describe(n)}")
    into = None
    if dst is not None:
        into = view_arg(ctx, dst, "dst")
        if into.shape != (n, n):
            raise ctx.error(f"shared_identity_matrix: dst has shape {list(into.shape)} but the identity is "
                            f"[{n}, {n}]")
    want = Dtype.uint8 if dtype is None else dtype_of(ctx, dtype)
    dt = want if want in _CONSTANT_DTYPES else Dtype.float32
    st = state(ctx)
    buf = st.shared_identities.get((n, dt))
    if buf is None:
        array = host_array(ctx, "eye", n, n, 0, dt)
        buf = st.shared_identities[(n, dt)] = _constant_buf(ctx, "identity", array, dt)
    if into is not None:
        operators.dma(ctx, into, root_view(buf))
        return dst
    if ctx.dialect is not Dialect.beta2:
        return TensorValue(root_view(buf))
    on_chip = root_view(alloc(ctx, (n, n), want, Memory.sbuf, hint="identity"))
    operators.dma(ctx, on_chip, root_view(buf))
    return TensorValue(on_chip)


def _constant_buf(ctx: Ctx, hint: str, array: Array, dt: Dtype) -> Buf:
    """A shared HBM tensor holding ``array`` (already of ``dt``), recorded as a constant file."""
    dims = tuple(int(d) for d in array.shape) or (1,)
    free = math.prod(dims[1:])
    name = ctx.fresh_name(hint)
    address = Address(name, Memory.hbm, dims[0], free * dt.size, isShared=True)
    buf = Buf(TensorName(name, dt, Shape(dims[0], dims[1:]), address, free, False), dims, 0)
    state(ctx).constants[name] = array.reshape(dims)
    return buf


@builtin(NL + "shared_constant", dialect=Dialect.both)
def shared_constant(ctx: Ctx, constant: Value, dtype: Value = None) -> Value:
    """A shared HBM tensor holding a host array (``np.identity(128, dtype=np.int8)``),
    converted to ``dtype`` when given. Dtypes a constant cannot have (bfloat16...) are stored
    as float32 after rounding to ``dtype``; ``nl.load`` converts."""
    if not isinstance(constant, HostArray):
        raise ctx.error(f"shared_constant takes a numpy array built in the kernel, not {type_name(constant)}")
    dt = constant.known_dtype(ctx) if dtype is None else dtype_of(ctx, dtype)
    array = host_array(ctx, "astype", constant.array, dt)
    if dt not in _CONSTANT_DTYPES:
        dt = Dtype.float32
        array = host_array(ctx, "astype", array, dt)
    return TensorValue(root_view(_constant_buf(ctx, "constant", array, dt)))


@builtin(NL + "broadcast_to", dialect=Dialect.both, emits=("ncCopy", "ncDmaCopy"))
def broadcast_to_(ctx: Ctx, x: Value, shape: Value, dtype: Value = None) -> Value:
    """A new tile of ``shape`` holding ``x`` stretched along its size-1 dimensions."""
    if not isinstance(x, TensorValue):
        raise ctx.error(f"nl.broadcast_to needs a tensor, not {type_name(x)}")
    return broadcast_to(ctx, x, shape, dtype)


@builtin(NL + "expand_dims", dialect=Dialect.both)
def expand_dims(ctx: Ctx, x: Value, axis: Value) -> Value:
    """A view of ``x`` with a new dimension of size 1 at each position ``axis`` of the result
    (numpy.expand_dims); the partition axis stays first."""
    src = tile_view(ctx, x, "the operand of nl.expand_dims")
    items = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    rank = src.rank + len(items)
    axes = set()
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int) or not -rank <= a < rank:
            raise ctx.error(f"nl.expand_dims axis {describe(a)} is out of range for a result of rank {rank}")
        axes.add(a % rank)
    if len(axes) != len(items):
        raise ctx.error(f"nl.expand_dims got a repeated axis in {describe(axis)}")
    if src.buf.on_chip and 0 in axes:
        raise ctx.error("nl.expand_dims cannot insert an axis before the partition axis of an on-chip tile")
    key = tuple(None if i in axes else slice(None) for i in range(rank))
    return TensorValue(index_view(ctx, src, key))


@isa("memset",
     beta2=form("dst", "value", mask=None, engine=None, name=None),
     legacy=form("shape", "value", "dtype", mask=None, engine=None),
     legacy_tensors=0, emits=("memSet",))
def memset(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Fill a tile with a constant."""
    fn = "nisa.memset"
    value = a["value"]
    if not isinstance(value, Number):
        raise ctx.error(f"{fn}: value must be a number, not {type_name(value)}")
    engine = engine_of(ctx, a["engine"])
    if dps:
        no_mask(ctx, a, fn)
        dst = view_arg(ctx, a["dst"], "dst")
        operators.memset(ctx, dst, operators.imm(value, dst.dtype), engine)
        return None
    dims, par = parse_shape(ctx, a["shape"])
    pred = as_mask(ctx, a["mask"])

    def body_fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: operators.memset(c, d, operators.imm(value, d.dtype), engine))
    return result(ctx, dims, dtype_of(ctx, a["dtype"]), body_fn, par_axis=par, elementwise=True, mask=pred)
