"""``nki.language`` builtins: tensor creation, HBM transfers, index tiles, SPMD ids and loops.

Element-wise math, reductions, ``matmul`` and ``transpose`` are in ``klr.tracer.nki.compute``.
Legacy transfers (``nl.load``, ``nl.store``, ``nl.load_transpose2d``) are DMAs (``ncDmaCopy``);
their ``mask=`` clips the transfer, or splits it into boxes for a non-rectangular mask.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from klr.core import Address, DevicePrint, Memory, PrintOutputBuffer, Shape, TensorName
from klr.dtypes import Dtype
from klr.tracer.nki import isa_ops
from klr.tracer.nki.arith import result, stretches_to, tile_view
from klr.tracer.nki.consts import DTYPES, PMAX, buffer_value, dtype_of, memory_of
from klr.tracer.nki.emit import alloc, emit, hbm_tensor, ref, tile
from klr.tracer.nki.hostarrays import HostArray, host_array
from klr.tracer.nki.index import Mgrid, arange
from klr.tracer.nki.masks import as_mask, masked
from klr.tracer.nki.state import state
from klr.tracer.nki.tensors import Tile
from klr.tracer.nki.views import Box, Buf, View, expand_view, index_view, permute_view, root_view
from klr.tracer.registry import Dialect, builtin, constant
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

NL = "nki.language."


class ParDim(int):
    """``nl.par_dim(n)``: marks the partition dimension of a shape (an int otherwise)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"par_dim({int(self)})"


def parse_shape(ctx: Ctx, shape: Value, what: str = "shape") -> tuple[tuple[int, ...], int]:
    """Dimensions and the partition axis of a shape argument (a ``par_dim`` marks it)."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise ctx.error(f"{what} must be a non-empty tuple of integers, not {describe(shape)}")
    dims = []
    par = 0
    marked = 0
    for i, d in enumerate(shape):
        if isinstance(d, bool) or not isinstance(d, int) or d <= 0:
            raise ctx.error(f"{what} must hold positive integers, not {list(shape)}")
        if isinstance(d, ParDim):
            par = i
            marked += 1
        dims.append(int(d))
    if marked > 1:
        raise ctx.error(f"{what} marks more than one dimension with par_dim")
    return tuple(dims), par


def _name(ctx: Ctx, name: Value) -> str | None:
    if name is None or name == "":
        return None
    if not isinstance(name, str):
        raise ctx.error(f"name must be a string, not {type_name(name)}")
    return name


def new_tensor(ctx: Ctx, shape: Value, dtype: Value, buffer: Value, name: Value = None) -> Tile:
    """An uninitialised tensor; HBM tensors are shared buffers, one per SPMD launch."""
    dims, par = parse_shape(ctx, shape)
    dt = dtype_of(ctx, dtype)
    memory = memory_of(ctx, buffer)
    nm = _name(ctx, name)
    if memory.is_hbm:
        return Tile(root_view(hbm_tensor(ctx, dims, par, dt, memory, nm)))
    st = state(ctx)
    if st.spmd_first is None:
        st.spmd_first = ctx.program_id
    if nm is not None and ctx.program_id != st.spmd_first:
        # each SPMD instance has its own on-chip tensors: later ones are named <name>.<n>
        return Tile(root_view(alloc(ctx, dims, dt, memory, par_axis=par, hint=nm)))
    return Tile(root_view(alloc(ctx, dims, dt, memory, par_axis=par, name=nm)))


# --- creation ------------------------------------------------------------------------------


@builtin(NL + "ndarray", dialect=Dialect.both)
def ndarray(ctx: Ctx, shape: Value, dtype: Value, buffer: Value = None, name: Value = None,
            address: Value = None, address_rotation: Value = None) -> Value:
    """An uninitialised tensor of ``shape`` in ``buffer`` (default SBUF)."""
    if address is not None:
        raise ctx.error("explicit tensor addresses are not supported")
    return new_tensor(ctx, shape, dtype, buffer, name)


def _filled(ctx: Ctx, shape: Value, dtype: Value, buffer: Value, name: Value, value: Value) -> Value:
    if not isinstance(value, (int, float, bool)):
        raise ctx.error(f"fill value must be a number, not {type_name(value)}")
    t = new_tensor(ctx, shape, dtype, buffer, name)
    isa_ops.memset(ctx, t.view, isa_ops.imm(value, t.dtype))
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


@builtin(NL + "shared_identity_matrix", dialect=Dialect.both)
def shared_identity_matrix(ctx: Ctx, n: Value, dtype: Value = None) -> Value:
    """An ``n`` x ``n`` identity matrix, a shared constant in HBM (one per size and dtype).
    Dtypes a constant cannot have (bfloat16...) are stored as float32; ``nl.load`` converts."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ctx.error(f"shared_identity_matrix size must be a positive integer, not {describe(n)}")
    dt = Dtype.uint8 if dtype is None else dtype_of(ctx, dtype)
    if dt not in _CONSTANT_DTYPES:
        dt = Dtype.float32
    st = state(ctx)
    buf = st.shared_identities.get((n, dt))
    if buf is None:
        array = host_array(ctx, "eye", n, n, 0, dt)
        buf = st.shared_identities[(n, dt)] = _constant_buf(ctx, "identity", array, dt)
    return Tile(root_view(buf))


def _constant_buf(ctx: Ctx, hint: str, array: Any, dt: Dtype) -> Buf:
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
    dt = constant.dtype if dtype is None else dtype_of(ctx, dtype)
    array = host_array(ctx, "astype", constant.array, dt)
    if dt not in _CONSTANT_DTYPES:
        dt = Dtype.float32
        array = host_array(ctx, "astype", array, dt)
    return Tile(root_view(_constant_buf(ctx, "constant", array, dt)))


# --- transfers -----------------------------------------------------------------------------


def _hbm_source(ctx: Ctx, src: Value, fn: str) -> View:
    view = tile_view(ctx, src, f"the source of {fn}")
    if not view.buf.memory.is_hbm:
        raise ctx.error(f"{fn} reads from HBM, but '{view.tensor.name}' is in {view.buf.memory.name}")
    return view


def _load_into(ctx: Ctx, view: View, mask: Value, dtype: Value) -> Value:
    if view.rank == 0:  # one element (``x[b, h]`` of a 2-D tensor) loads as a [1, 1] tile
        view = index_view(ctx, view, (None, None))
    pred = as_mask(ctx, mask)
    out_dt = dtype_of(ctx, dtype) if dtype is not None else view.dtype

    def fn(c: Ctx, dst: View, acc: bool) -> None:
        masked(c, dst, pred, lambda d, box: isa_ops.dma(c, d, view.box(box)), dma=True)
    return result(ctx, view.shape, out_dt, fn, inputs=[view], memories=(Memory.sbuf,), mask=pred)


@builtin(NL + "load", emits=("ncDmaCopy",), dialect=Dialect.legacy)
def load(ctx: Ctx, src: Value, *, mask: Value = None, dtype: Value = None) -> Value:
    """A new SBUF tile holding ``src`` (an HBM tensor or view of one)."""
    return _load_into(ctx, _hbm_source(ctx, src, "nl.load"), mask, dtype)


@builtin(NL + "load_transpose2d", emits=("ncDmaCopy",), dialect=Dialect.legacy)
def load_transpose2d(ctx: Ctx, src: Value, *, mask: Value = None, dtype: Value = None) -> Value:
    """A new SBUF tile holding the 2-D HBM view ``src`` transposed."""
    view = _hbm_source(ctx, src, "nl.load_transpose2d")
    if view.rank != 2:
        raise ctx.error(f"nl.load_transpose2d needs a 2-D source, not {list(view.shape)}")
    return _load_into(ctx, permute_view(view, (1, 0)), mask, dtype)


@builtin(NL + "store", emits=("ncDmaCopy", "memSet"), dialect=Dialect.legacy)
def store(ctx: Ctx, dst: Value, value: Value, *, mask: Value = None) -> Value:
    """Write ``value`` (a tile or a number) into the HBM region ``dst``."""
    target = tile_view(ctx, dst, "the destination of nl.store")
    if not target.buf.memory.is_hbm:
        raise ctx.error(f"nl.store writes to HBM, but '{target.tensor.name}' is in {target.buf.memory.name}")
    pred = as_mask(ctx, mask)
    if isinstance(value, (int, float, bool)):
        src = _constant_tile(ctx, target.shape, target.dtype, value)
    elif isinstance(value, Tile):
        src = value.view
        if pred is None and src.shape == target.shape:
            pred = value.mask
        if src.shape != target.shape:
            if stretches_to(src.shape, target.shape):
                src = expand_view(src, target.shape,
                                  left=src.rank == 1 and target.rank > 1 and src.shape[0] == target.shape[0])
            elif pred is not None or src.partitions != target.partitions or src.free_size != target.free_size:
                raise ctx.error(f"store of a {list(src.shape)} tile into a {list(target.shape)} region")
    else:
        raise ctx.error(f"nl.store stores a tensor or a number, not {type_name(value)}")
    if src.shape != target.shape:
        isa_ops.dma(ctx, target, src)
        return None

    def body(d: View, box: Box) -> None:
        isa_ops.dma(ctx, d, src.box(box))
    masked(ctx, target, pred, body, dma=True)
    return None


def _constant_tile(ctx: Ctx, shape: tuple[int, ...], dtype: Dtype, value: float | int) -> View:
    if shape[0] > PMAX:
        raise ctx.error(f"nl.store of a number needs a region of at most {PMAX} partitions, "
                        f"not {list(shape)}")
    t = tile(ctx, shape, dtype, Memory.sbuf)
    isa_ops.memset(ctx, t, isa_ops.imm(value, dtype))
    return t


# --- index tiles, slices, SPMD, loops -------------------------------------------------------


@builtin(NL + "arange", dialect=Dialect.legacy)
def arange_(ctx: Ctx, start: Value, stop: Value = None, step: Value = 1) -> Value:
    """An index tile of ``range(start, stop, step)`` (``nl.arange(128)[:, None]``)."""
    return arange(ctx, start, stop, step)


constant(NL + "mgrid", Mgrid(), dialect=Dialect.legacy,
         doc="``nl.mgrid[0:128, 0:512]``: the index tiles of a 2-D grid, unpacked or as .p/.x.")


@builtin(NL + "ds", dialect=Dialect.both)
def ds(ctx: Ctx, start: Value, size: Value) -> Value:
    """The slice ``start:start+size``."""
    for v, what in ((start, "start"), (size, "size")):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ctx.error(f"nl.ds {what} must be an integer, not {type_name(v)}")
    if size <= 0:
        raise ctx.error(f"nl.ds size must be positive, not {size}")
    return slice(start, start + size, 1)


@builtin(NL + "program_id", dialect=Dialect.both)
def program_id(ctx: Ctx, axis: Value = 0) -> Value:
    """This SPMD instance's index along ``axis`` of the launch grid (0 without a grid)."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ctx.error(f"program_id axis must be an integer, not {type_name(axis)}")
    if not ctx.grid:
        if axis != 0:
            raise ctx.error(f"invalid program axis {describe(axis)}: the kernel has no launch grid")
        return 0
    if not 0 <= axis < len(ctx.grid):
        raise ctx.error(f"invalid program axis {describe(axis)}: the launch grid has {len(ctx.grid)} "
                        "dimensions")
    return ctx.program_id[axis]


@builtin(NL + "num_programs", dialect=Dialect.both)
def num_programs(ctx: Ctx, axes: Value = None) -> Value:
    """The number of SPMD instances along ``axes`` (all of them when None)."""
    grid = ctx.grid or (1,)
    if axes is None:
        out = 1
        for g in grid:
            out *= g
        return out
    picked = axes if isinstance(axes, (tuple, list)) else (axes,)
    out = 1
    for a in picked:
        if isinstance(a, bool) or not isinstance(a, int) or not 0 <= a < len(grid):
            raise ctx.error(f"invalid program axis {describe(a)}: the launch grid has {len(grid)} dimensions")
        out *= grid[a]
    return out


@builtin(NL + "program_ndim", dialect=Dialect.both)
def program_ndim(ctx: Ctx) -> Value:
    """The number of dimensions of the launch grid."""
    return len(ctx.grid)


@builtin(NL + "constants.sizeinbytes", dialect=Dialect.both)
def sizeinbytes(ctx: Ctx, dtype: Value) -> Value:
    """The size of one element of ``dtype`` in bytes."""
    return dtype_of(ctx, dtype).size


def _range(ctx: Ctx, name: str, start: Value, stop: Value, step: Value) -> range:
    if stop is None:
        start, stop = 0, start
    for v in (start, stop, step):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ctx.error(f"{name} bounds must be integers, not {type_name(v)}")
    if step == 0:
        raise ctx.error(f"{name} step must not be zero")
    return range(start, stop, step)


def _loop(name: str, doc: str) -> None:
    def impl(ctx: Ctx, start: Value, stop: Value = None, step: Value = 1, **kwargs: Value) -> Value:
        return _range(ctx, f"nl.{name}", start, stop, step)
    impl.__doc__ = doc
    builtin(NL + name, dialect=Dialect.both)(impl)


for _n, _d in (("affine_range", "A loop over independent iterations (unrolled at trace time)."),
               ("sequential_range", "A loop whose iterations depend on each other (unrolled)."),
               ("static_range", "A loop unrolled at trace time.")):
    _loop(_n, _d)


@builtin(NL + "device_print", emits=("devicePrint",), dialect=Dialect.both)
def device_print(ctx: Ctx, print_prefix: Value, tensor: Value, output_buffer: Value = None,
                 mask: Value = None) -> Value:
    """Print a tensor from the device, after ``print_prefix``."""
    if mask is not None:
        raise ctx.error("mask parameter is not supported")
    if not isinstance(print_prefix, str):
        raise ctx.error(f"print_prefix must be a string, not {type_name(print_prefix)}")
    view = tile_view(ctx, tensor, "the printed value")
    buffer = PrintOutputBuffer.stderr if getattr(output_buffer, "name", output_buffer) == "stderr" \
        else PrintOutputBuffer.stdout
    emit(ctx, DevicePrint(ref(ctx, view), print_prefix, buffer))
    return None
