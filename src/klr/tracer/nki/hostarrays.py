"""Trace-time numpy arrays: the data of ``nl.shared_constant``.

Kernels build constant matrices on the host while they are traced
(``nl.shared_constant(np.identity(128, dtype=np.int8), dtype=nl.bfloat16)``). Such an array
is a ``HostArray``: a numpy array the tracer holds, never a device tensor; the only thing a
kernel can do with it (besides reading ``shape``/``dtype``) is hand it to ``nl.shared_constant``,
which places it in shared HBM as one of the kernel's shared constant files.

Kernels also compute with them on the host, as with numpy: arithmetic with numbers or other
host arrays (``(np.arange(n) * h) // n``), indexing (an element is a plain number), ``len``,
iteration, ``max``/``min``/``sum``. Every one of these is a host function of the allow-list
(``numpy.multiply``, ``numpy.ndarray.__getitem__``...), its arguments checked and its result's
size charged before numpy runs. A result numpy computes in a type NKI has no dtype for
(``float64``, from ``np.arange(4) / 2``) is a host array too, without a dtype: convert it with
``astype`` before reading ``dtype`` or handing it to ``nl.shared_constant`` without ``dtype=``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeAlias

from klr.dtypes import Dtype, from_numpy
from klr.tracer import host, registry
from klr.tracer.host import INT, NUM, Arg, Pred
from klr.tracer.nki.consts import DTYPES, dtype_of
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import TraceObject, Value

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from klr.tracer.context import Ctx

    Array: TypeAlias = NDArray[np.generic]
    """A numpy array (numpy is imported when a kernel first builds one)."""

NP = "numpy."


# --- the host functions (numpy) on the allow-list ---------------------------------------------


def _elements(*dims: int) -> int:
    total = 1
    for d in dims:
        total *= d
    return total


def _eye_bytes(rows: int, cols: int, k: int, dtype: Dtype) -> int:
    """rows * cols elements of float64, then of the dtype"""
    return _elements(rows, cols) * (8 + dtype.size)


def _full_bytes(shape: tuple[int, ...], fill: float | int, dtype: Dtype) -> int:
    """the shape's elements of the dtype"""
    return _elements(*shape) * dtype.size


def _arange_bytes(start: int, stop: int, step: int, dtype: Dtype) -> int:
    """the elements of int64, then of the dtype"""
    return max(0, -(-(stop - start) // step)) * (8 + dtype.size)


def _array_bytes(array: Array, *args: Value) -> int:
    """a copy of the array in the new dtype (8 bytes per element at most)"""
    return int(array.size) * 8


def _no_copy(*args: Value) -> int:
    """nothing (a view of the same data)"""
    return 0


def _eye(rows: int, cols: int, k: int, dtype: Dtype) -> Array:
    import numpy as np

    return np.eye(rows, cols, k).astype(dtype.numpy())


def _full(shape: tuple[int, ...], fill: float | int, dtype: Dtype) -> Array:
    import numpy as np

    return np.full(shape, fill, dtype=dtype.numpy())


def _arange(start: int, stop: int, step: int, dtype: Dtype) -> Array:
    import numpy as np

    return np.arange(start, stop, step).astype(dtype.numpy())


def _astype(array: Array, dtype: Dtype) -> Array:
    return array.astype(dtype.numpy())


def _reshape(array: Array, shape: tuple[int, ...]) -> Array:
    return array.reshape(shape)


def _transpose(array: Array) -> Array:
    return array.T


_NDARRAY = Pred("ndarray", lambda v: type(v).__name__ == "ndarray" and type(v).__module__ == "numpy")
_SHAPE = Pred("tuple[int, ...]", lambda v: type(v) is tuple and all(type(d) is int for d in v))
_DTYPE = (Dtype,)
_HOST = {
    "eye": host.host("numpy.eye", _eye, (Arg("N", INT), Arg("M", INT), Arg("k", INT), Arg("dtype", _DTYPE)),
                     _eye_bytes, result="ndarray"),
    "full": host.host("numpy.full", _full,
                      (Arg("shape", (_SHAPE,)), Arg("fill_value", NUM), Arg("dtype", _DTYPE)), _full_bytes,
                      result="ndarray"),
    "arange": host.host("numpy.arange", _arange,
                        (Arg("start", INT), Arg("stop", INT), Arg("step", INT), Arg("dtype", _DTYPE)),
                        _arange_bytes, result="ndarray"),
    "astype": host.host("numpy.ndarray.astype", _astype, (Arg("self", (_NDARRAY,)), Arg("dtype", _DTYPE)),
                        _array_bytes, result="ndarray"),
    "reshape": host.host("numpy.ndarray.reshape", _reshape,
                         (Arg("self", (_NDARRAY,)), Arg("shape", (_SHAPE,))), _no_copy, result="ndarray"),
    "transpose": host.host("numpy.ndarray.transpose", _transpose, (Arg("self", (_NDARRAY,)),), _no_copy,
                           result="ndarray"),
}
"""numpy's functions as trace-time host arrays use them (``HostArray`` holds the result: a
kernel never sees a numpy object)."""


def _broadcast_bytes(x1: Array | int | float, x2: Array | int | float) -> int:
    """the broadcast result, 8 bytes per element"""
    import numpy as np

    try:
        shape = np.broadcast_shapes(np.shape(x1), np.shape(x2))
    except ValueError:
        return 0   # numpy reports it
    return _elements(*shape) * 8


def _negation_bytes(x: Array) -> int:
    """the result, 8 bytes per element"""
    return int(x.size) * 8


def _number(*args: Value) -> int:
    """nothing (a plain number)"""
    return 0


def _scan_steps(x: Array, *args: Value) -> int:
    """one per 1024 elements read"""
    return int(x.size) // 1024


def _ufunc(name: str) -> Callable[..., Array]:
    def run(*args: Array | int | float) -> Array:
        import numpy as np

        with np.errstate(all="ignore"):   # x / 0 is inf or nan, as numpy computes it
            result: Array = np.asarray(getattr(np, name)(*args))
        return result
    return run


def _item(array: Array, key: Value) -> Array:
    import numpy as np

    return np.asarray(array[key])


def _reduce(name: str) -> Callable[[Array], Value]:
    def run(array: Array) -> Value:
        value: Value = getattr(array, name)().item()   # a plain int or float
        return value
    return run


def _is_index(v: Value) -> bool:
    if type(v) is slice:
        return all(type(f) in (int, bool, type(None)) for f in (v.start, v.stop, v.step))
    return type(v) in (int, bool)


_OPERAND = (_NDARRAY, int, float, bool)
_KEY = Pred("int | slice | tuple[int | slice, ...]",
            lambda v: _is_index(v) or (type(v) is tuple and all(_is_index(x) for x in v)))
_BINARY = {"+": "add", "-": "subtract", "*": "multiply", "/": "true_divide", "//": "floor_divide",
           "%": "remainder", "**": "power", "&": "bitwise_and", "|": "bitwise_or", "^": "bitwise_xor",
           "<<": "left_shift", ">>": "right_shift"}
_UNARY = {"-": "negative", "~": "invert"}
_ARITH = {
    **{op: host.host(NP + name, _ufunc(name), (Arg("x1", _OPERAND), Arg("x2", _OPERAND)), _broadcast_bytes,
                     result="ndarray") for op, name in _BINARY.items()},
    **{"unary" + op: host.host(NP + name, _ufunc(name), (Arg("x", (_NDARRAY,)),), _negation_bytes,
                               result="ndarray") for op, name in _UNARY.items()},
    "[]": host.host("numpy.ndarray.__getitem__", _item, (Arg("self", (_NDARRAY,)), Arg("key", (_KEY,))),
                    _no_copy, result="ndarray"),
    **{name: host.host(f"numpy.ndarray.{name}", _reduce(name), (Arg("self", (_NDARRAY,)),), _number,
                       _scan_steps) for name in ("max", "min", "sum")},
}
"""Arithmetic, indexing and reductions on host arrays (numpy's own rules: broadcasting, result
types); an element or a reduction is a plain number."""


def host_array(ctx: Ctx, name: str, *args: Value) -> Array:
    """Call the allowed numpy function ``name`` (its size charged first)."""
    array: Array = host.call(ctx, _HOST[name], args)  # (each of _HOST makes an array)
    return array


class HostArray(TraceObject):
    """A numpy array computed while tracing."""

    __slots__ = ("array", "dtype")
    type_name = "ndarray"

    def __init__(self, array: Array, dtype: Dtype | None) -> None:
        self.array = array
        self.dtype = dtype
        """None when numpy computed it in a type NKI has no dtype for (float64...)."""

    @staticmethod
    def of(array: Array) -> HostArray:
        """A host array of what numpy computed, with the dtype its type is."""
        return HostArray(array, from_numpy(array.dtype))

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "shape":
            return tuple(int(d) for d in self.array.shape)
        if name == "dtype":
            return DTYPES[self.known_dtype(ctx)]
        if name == "ndim":
            return self.array.ndim
        if name == "size":
            return int(self.array.size)
        if name == "T":
            return HostArray(host_array(ctx, "transpose", self.array), self.dtype)
        method = _METHODS.get(name)
        if method is not None:
            return registry.method(f"ndarray.{name}", method, self)
        return super().getattr(ctx, name)

    def known_dtype(self, ctx: Ctx) -> Dtype:
        if self.dtype is None:
            raise ctx.error(f"this host array holds {self.array.dtype.name}, which is not an NKI dtype: "
                            f"convert it with astype first")
        return self.dtype

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        entry = _ARITH.get(op) if op in _BINARY else None
        if entry is None:
            return NotImplemented
        if isinstance(other, HostArray):
            other = other.array
        elif isinstance(other, TraceObject):
            return NotImplemented
        args = (other, self.array) if reflected else (self.array, other)
        return HostArray.of(host.call(ctx, entry, args))

    def unop(self, ctx: Ctx, op: str) -> Value:
        if op == "+":
            return self
        return HostArray.of(host.call(ctx, _ARITH["unary" + op], (self.array,)))

    def getitem(self, ctx: Ctx, key: Value) -> Value:
        found: Array = host.call(ctx, _ARITH["[]"], (self.array, key))
        if found.ndim == 0:
            element: Value = found.item()   # a plain int or float
            return element
        return HostArray(found, self.dtype)

    def length(self, ctx: Ctx) -> int:
        if self.array.ndim == 0:
            raise ctx.error("len() of a host array of no dimensions", python="TypeError")
        return int(self.array.shape[0])

    def iterate(self, ctx: Ctx) -> Iterator[Value]:
        return (self.getitem(ctx, i) for i in range(self.length(ctx)))

    def truth(self, ctx: Ctx) -> bool:
        if self.array.size != 1:
            raise ctx.error(f"the truth value of a host array of {self.array.size} elements is ambiguous",
                            python="ValueError")
        return bool(self.array.item())

    def __repr__(self) -> str:
        name = self.array.dtype.name if self.dtype is None else self.dtype.name
        return f"ndarray(shape={tuple(self.array.shape)}, dtype={name})"


def _size(ctx: Ctx, v: Value, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ctx.error(f"{what} must be a positive integer, not {describe(v)}")
    n: int = v
    return n


@builtin(NP + "eye", dialect=Dialect.python)
def eye(ctx: Ctx, N: Value, M: Value = None, k: Value = 0, dtype: Value = None) -> Value:
    """An ``N`` x ``M`` host array with ones on diagonal ``k`` (float32 unless ``dtype``)."""
    rows = _size(ctx, N, "eye's N")
    cols = rows if M is None else _size(ctx, M, "eye's M")
    if isinstance(k, bool) or not isinstance(k, int):
        raise ctx.error(f"eye's k must be an integer, not {describe(k)}")
    dt = Dtype.float32 if dtype is None else dtype_of(ctx, dtype)
    return HostArray(host_array(ctx, "eye", rows, cols, k, dt), dt)


@builtin(NP + "identity", dialect=Dialect.python)
def identity(ctx: Ctx, n: Value, dtype: Value = None) -> Value:
    """The ``n`` x ``n`` identity as a host array (float32 unless ``dtype``)."""
    return eye(ctx, _size(ctx, n, "identity's n"), dtype=dtype)


@builtin(NP + "dtype", dialect=Dialect.python)
def dtype(ctx: Ctx, dtype: Value) -> Value:
    """``np.dtype(x)``: the element type ``x`` names (a dtype value or its name)."""
    return DTYPES[dtype_of(ctx, dtype, "np.dtype's argument")]


def _shape(ctx: Ctx, shape: Value, what: str) -> tuple[int, ...]:
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    return tuple(_size(ctx, d, f"{what} dimension") for d in dims)


def _filled(ctx: Ctx, shape: Value, value: Value, dtype: Value, what: str) -> HostArray:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ctx.error(f"{what}'s fill value must be a number, not {describe(value)}")
    dt = Dtype.float32 if dtype is None else dtype_of(ctx, dtype)
    return HostArray(host_array(ctx, "full", _shape(ctx, shape, what), value, dt), dt)


@builtin(NP + "zeros", dialect=Dialect.python)
def zeros(ctx: Ctx, shape: Value, dtype: Value = None) -> Value:
    """A host array of zeros (float32 unless ``dtype``)."""
    return _filled(ctx, shape, 0, dtype, "np.zeros")


@builtin(NP + "ones", dialect=Dialect.python)
def ones(ctx: Ctx, shape: Value, dtype: Value = None) -> Value:
    """A host array of ones (float32 unless ``dtype``)."""
    return _filled(ctx, shape, 1, dtype, "np.ones")


@builtin(NP + "full", dialect=Dialect.python)
def full(ctx: Ctx, shape: Value, fill_value: Value, dtype: Value = None) -> Value:
    """A host array filled with ``fill_value`` (float32 unless ``dtype``)."""
    return _filled(ctx, shape, fill_value, dtype, "np.full")


@builtin(NP + "arange", dialect=Dialect.python)
def arange(ctx: Ctx, start: Value, stop: Value = None, step: Value = 1, dtype: Value = None) -> Value:
    """``np.arange`` over integers (int32 unless ``dtype``)."""
    lo, hi = (0, start) if stop is None else (start, stop)
    for v in (lo, hi, step):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ctx.error(f"np.arange takes integer bounds and step, not {describe(v)}")
    if step == 0:
        raise ctx.error("np.arange's step must not be zero")
    dt = Dtype.int32 if dtype is None else dtype_of(ctx, dtype)
    return HostArray(host_array(ctx, "arange", lo, hi, step, dt), dt)


def _reshape_method(ctx: Ctx, self: HostArray, *shape: Value) -> Value:
    dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    target = _shape(ctx, tuple(dims), "reshape")
    if self.array.size != _elements(*target):
        raise ctx.error(f"cannot reshape a host array of {self.array.size} elements into {list(target)}")
    return HostArray(host_array(ctx, "reshape", self.array, target), self.dtype)


def _astype_method(ctx: Ctx, self: HostArray, dtype: Value) -> Value:
    dt = dtype_of(ctx, dtype)
    return HostArray(host_array(ctx, "astype", self.array, dt), dt)


def _transpose_method(ctx: Ctx, self: HostArray) -> Value:
    return HostArray(host_array(ctx, "transpose", self.array), self.dtype)


def _reduction(name: str) -> Callable[..., Value]:
    def method(ctx: Ctx, self: HostArray) -> Value:
        return host.call(ctx, _ARITH[name], (self.array,))
    return method


_METHODS: dict[str, Callable[..., Value]] = {
    "reshape": _reshape_method, "astype": _astype_method, "transpose": _transpose_method,
    "max": _reduction("max"), "min": _reduction("min"), "sum": _reduction("sum")}
