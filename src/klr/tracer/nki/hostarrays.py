"""Trace-time numpy arrays: the data of ``nl.shared_constant``.

Kernels build constant matrices on the host while they are traced
(``nl.shared_constant(np.identity(128, dtype=np.int8), dtype=nl.bfloat16)``). Such an array
is a ``HostArray``: a numpy array the tracer holds, never a device tensor; the only thing a
kernel can do with it (besides reading ``shape``/``dtype``) is hand it to ``nl.shared_constant``,
which places it in shared HBM as one of the kernel's shared constant files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from klr.dtypes import Dtype
from klr.tracer import registry
from klr.tracer.nki.consts import DTYPES, dtype_of
from klr.tracer.registry import builtin
from klr.tracer.values import TraceObject, Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

NP = "numpy."
_ARRAY_LIMIT = 1 << 24
"""Largest host array (elements) a kernel may build; constants are stored in the output."""


class HostArray(TraceObject):
    """A numpy array computed while tracing."""

    __slots__ = ("array", "dtype")
    type_name = "ndarray"

    def __init__(self, array: Any, dtype: Dtype) -> None:
        self.array = array
        self.dtype = dtype

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "shape":
            return tuple(int(d) for d in self.array.shape)
        if name == "dtype":
            return DTYPES[self.dtype]
        if name == "ndim":
            return self.array.ndim
        if name == "size":
            return int(self.array.size)
        if name == "T":
            return HostArray(self.array.T, self.dtype)
        method = _METHODS.get(name)
        if method is not None:
            return registry.method(f"ndarray.{name}", method, self)
        return super().getattr(ctx, name)

    def __repr__(self) -> str:
        return f"ndarray(shape={tuple(self.array.shape)}, dtype={self.dtype.name})"


def _size(ctx: Ctx, v: Value, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ctx.error(f"{what} must be a positive integer, not {v!r}")
    return v


@builtin(NP + "eye", dialect="python")
def eye(ctx: Ctx, N: Value, M: Value = None, k: Value = 0, dtype: Value = None) -> Value:
    """An ``N`` x ``M`` host array with ones on diagonal ``k`` (float32 unless ``dtype``)."""
    import numpy as np

    rows = _size(ctx, N, "eye's N")
    cols = rows if M is None else _size(ctx, M, "eye's M")
    if isinstance(k, bool) or not isinstance(k, int):
        raise ctx.error(f"eye's k must be an integer, not {k!r}")
    if rows * cols > _ARRAY_LIMIT:
        raise ctx.error(f"a host array of {rows * cols} elements is larger than the limit {_ARRAY_LIMIT}")
    dt = Dtype.float32 if dtype is None else dtype_of(ctx, dtype)
    return HostArray(np.eye(rows, cols, k).astype(dt.numpy()), dt)


@builtin(NP + "identity", dialect="python")
def identity(ctx: Ctx, n: Value, dtype: Value = None) -> Value:
    """The ``n`` x ``n`` identity as a host array (float32 unless ``dtype``)."""
    return eye(ctx, _size(ctx, n, "identity's n"), dtype=dtype)


@builtin(NP + "dtype", dialect="python")
def dtype(ctx: Ctx, dtype: Value) -> Value:
    """``np.dtype(x)``: the element type ``x`` names (a dtype value or its name)."""
    return DTYPES[dtype_of(ctx, dtype, "np.dtype's argument")]


def _shape(ctx: Ctx, shape: Value, what: str) -> tuple[int, ...]:
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    out = tuple(_size(ctx, d, f"{what} dimension") for d in dims)
    total = 1
    for d in out:
        total *= d
    if total > _ARRAY_LIMIT:
        raise ctx.error(f"a host array of {total} elements is larger than the limit {_ARRAY_LIMIT}")
    return out


def _filled(ctx: Ctx, shape: Value, value: Value, dtype: Value, what: str) -> HostArray:
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ctx.error(f"{what}'s fill value must be a number, not {value!r}")
    dt = Dtype.float32 if dtype is None else dtype_of(ctx, dtype)
    return HostArray(np.full(_shape(ctx, shape, what), value, dtype=dt.numpy()), dt)


@builtin(NP + "zeros", dialect="python")
def zeros(ctx: Ctx, shape: Value, dtype: Value = None) -> Value:
    """A host array of zeros (float32 unless ``dtype``)."""
    return _filled(ctx, shape, 0, dtype, "np.zeros")


@builtin(NP + "ones", dialect="python")
def ones(ctx: Ctx, shape: Value, dtype: Value = None) -> Value:
    """A host array of ones (float32 unless ``dtype``)."""
    return _filled(ctx, shape, 1, dtype, "np.ones")


@builtin(NP + "full", dialect="python")
def full(ctx: Ctx, shape: Value, fill_value: Value, dtype: Value = None) -> Value:
    """A host array filled with ``fill_value`` (float32 unless ``dtype``)."""
    return _filled(ctx, shape, fill_value, dtype, "np.full")


@builtin(NP + "arange", dialect="python")
def arange(ctx: Ctx, start: Value, stop: Value = None, step: Value = 1, dtype: Value = None) -> Value:
    """``np.arange`` over integers (int32 unless ``dtype``)."""
    import numpy as np

    lo, hi = (0, start) if stop is None else (start, stop)
    for v in (lo, hi, step):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ctx.error(f"np.arange takes integer bounds and step, not {v!r}")
    if step == 0:
        raise ctx.error("np.arange's step must not be zero")
    count = max(0, -(-(hi - lo) // step))
    if count > _ARRAY_LIMIT:
        raise ctx.error(f"a host array of {count} elements is larger than the limit {_ARRAY_LIMIT}")
    dt = Dtype.int32 if dtype is None else dtype_of(ctx, dtype)
    return HostArray(np.arange(lo, hi, step).astype(dt.numpy()), dt)


def _reshape(ctx: Ctx, self: HostArray, *shape: Value) -> Value:
    dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    target = _shape(ctx, tuple(dims), "reshape")
    if self.array.size != _product(target):
        raise ctx.error(f"cannot reshape a host array of {self.array.size} elements into {list(target)}")
    return HostArray(self.array.reshape(target), self.dtype)


def _astype(ctx: Ctx, self: HostArray, dtype: Value) -> Value:
    dt = dtype_of(ctx, dtype)
    return HostArray(self.array.astype(dt.numpy()), dt)


def _transpose(ctx: Ctx, self: HostArray) -> Value:
    return HostArray(self.array.T, self.dtype)


def _product(dims: tuple[int, ...]) -> int:
    out = 1
    for d in dims:
        out *= d
    return out


_METHODS: dict[str, Callable[..., Value]] = {"reshape": _reshape, "astype": _astype, "transpose": _transpose}
