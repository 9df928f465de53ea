"""The ALU: what every ``AluOp`` computes, element-wise and as a reduction.

Values arrive in one of two compute types (see ``docs/semantics.md``):

* float32 arrays, the normal case: the engines compute in fp32;
* int64 arrays, when every tensor operand, the destination and every immediate of an
  instruction are integers, so integer kernels (indices, masks, counters) stay exact.

``apply(op, a, b)`` returns an array of either type; the write to memory casts it to the
destination dtype. Comparisons give 1/0 in the compute type. Bitwise operators work on the
integer values (floats are truncated toward zero first). Shift amounts are taken modulo 64
and the logical shifts treat their left operand as an unsigned 32-bit word, the width of
the engines' ALU registers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from klr.core.optypes import AluOp

Array = np.ndarray
Binary = Callable[[Array, Array], Array]

_WORD = np.int64(0xFFFFFFFF)


def _same_type(a: Array, b: Array) -> type:
    return np.int64 if a.dtype.kind in "iu" and b.dtype.kind in "iu" else np.float32


def _flag(mask: Array, a: Array, b: Array) -> Array:
    return mask.astype(_same_type(a, b))


def _ints(x: Array) -> Array:
    if x.dtype.kind in "iu":
        return x.astype(np.int64, copy=False)
    out: Array = np.trunc(np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)).astype(np.int64)
    return out


def _shift(b: Array) -> Array:
    out: Array = np.mod(_ints(b), 64)
    return out


def _divide(a: Array, b: Array) -> Array:
    if _same_type(a, b) is np.int64:
        return np.true_divide(a.astype(np.float64), b.astype(np.float64))
    out: Array = np.true_divide(a, b)
    return out


def _pow(a: Array, b: Array) -> Array:
    if _same_type(a, b) is np.int64:
        return np.power(a.astype(np.float64), b.astype(np.float64))
    out: Array = np.power(a, b)
    return out


def _average(a: Array, b: Array) -> Array:
    if _same_type(a, b) is np.int64:
        wide: Array = (a.astype(np.float64) + b) / 2.0
        return wide
    out: Array = (a + b) * np.float32(0.5)
    return out


def _rsqrt(a: Array, _b: Array) -> Array:
    x = a.astype(np.float32) if a.dtype.kind in "iu" else a
    return np.float32(1.0) / np.sqrt(x)


def _logical(f: Callable[[Array, Array], Array]) -> Binary:
    return lambda a, b: _flag(f(a != 0, b != 0), a, b)


_BINARY: dict[AluOp, Binary] = {
    AluOp.abs: lambda a, _b: np.abs(a),
    AluOp.add: lambda a, b: a + b,
    AluOp.subtract: lambda a, b: a - b,
    AluOp.mult: lambda a, b: a * b,
    AluOp.divide: _divide,
    AluOp.max: np.maximum,
    AluOp.min: np.minimum,
    AluOp.pow: _pow,
    AluOp.mod: np.mod,
    AluOp.average: _average,
    AluOp.rsqrt: _rsqrt,
    AluOp.bypass: lambda a, _b: a,
    AluOp.is_equal: lambda a, b: _flag(a == b, a, b),
    AluOp.not_equal: lambda a, b: _flag(a != b, a, b),
    AluOp.is_ge: lambda a, b: _flag(a >= b, a, b),
    AluOp.is_gt: lambda a, b: _flag(a > b, a, b),
    AluOp.is_le: lambda a, b: _flag(a <= b, a, b),
    AluOp.is_lt: lambda a, b: _flag(a < b, a, b),
    AluOp.logical_and: _logical(np.logical_and),
    AluOp.logical_or: _logical(np.logical_or),
    AluOp.logical_xor: _logical(np.logical_xor),
    AluOp.bitwise_and: lambda a, b: _ints(a) & _ints(b),
    AluOp.bitwise_or: lambda a, b: _ints(a) | _ints(b),
    AluOp.bitwise_xor: lambda a, b: _ints(a) ^ _ints(b),
    AluOp.bitwise_not: lambda a, _b: ~_ints(a),
    AluOp.arith_shift_left: lambda a, b: np.left_shift(_ints(a), _shift(b)),
    AluOp.arith_shift_right: lambda a, b: np.right_shift(_ints(a), _shift(b)),
    AluOp.logical_shift_left: lambda a, b: np.left_shift(_ints(a) & _WORD, _shift(b)) & _WORD,
    AluOp.logical_shift_right: lambda a, b: np.right_shift(_ints(a) & _WORD, _shift(b)),
}

#: Operators that ignore their second operand.
UNARY = frozenset({AluOp.abs, AluOp.rsqrt, AluOp.bypass, AluOp.bitwise_not})


def _array(b: Array | float | int, like: Array) -> Array:
    """A Python scalar takes the compute type of ``like`` (a float next to integers: float64)."""
    if isinstance(b, bool | int) or (isinstance(b, float) and like.dtype.kind == "f"):
        return np.asarray(b, dtype=like.dtype)
    return np.asarray(b)


def apply(op: AluOp, a: Array, b: Array | float | int) -> Array:
    """``a op b`` element-wise with numpy broadcasting (b may be a Python scalar).

    Floating-point exceptions follow numpy's error state; ``klr.interp.run`` ignores them.
    """
    a = np.asarray(a)
    return np.asarray(_BINARY[op](a, _array(b, a)))


def apply_rev(op: AluOp, a: Array, b: Array | float | int, reverse: bool) -> Array:
    """``a op b``, or ``b op a`` when ``reverse`` (a reversed unary operator applies to ``b``)."""
    if reverse:
        a = np.asarray(a)
        return apply(op, np.broadcast_to(_array(b, a), np.broadcast_shapes(np.shape(a), np.shape(b))), a)
    return apply(op, a, b)


# --- reductions -------------------------------------------------------------------------------

_FAST: dict[AluOp, Callable[[Array, int], Array]] = {
    AluOp.add: lambda x, ax: np.sum(x, axis=ax),
    AluOp.mult: lambda x, ax: np.prod(x, axis=ax),
    AluOp.max: lambda x, ax: np.max(x, axis=ax),
    AluOp.min: lambda x, ax: np.min(x, axis=ax),
    AluOp.bitwise_and: lambda x, ax: np.bitwise_and.reduce(_ints(x), axis=ax),
    AluOp.bitwise_or: lambda x, ax: np.bitwise_or.reduce(_ints(x), axis=ax),
    AluOp.bitwise_xor: lambda x, ax: np.bitwise_xor.reduce(_ints(x), axis=ax),
}

_IDENTITY: dict[AluOp, float] = {
    AluOp.add: 0.0, AluOp.subtract: 0.0, AluOp.mult: 1.0,
    AluOp.max: -np.inf, AluOp.min: np.inf,
    AluOp.bitwise_or: 0.0, AluOp.bitwise_xor: 0.0, AluOp.bitwise_and: -1.0,
    AluOp.logical_or: 0.0, AluOp.logical_xor: 0.0, AluOp.logical_and: 1.0,
}


def identity(op: AluOp, like: Array) -> Array | None:
    """The neutral start value of an accumulator for ``op`` (None when it has none)."""
    v = _IDENTITY.get(op)
    if v is None:
        return None
    if like.dtype.kind in "iu":
        if np.isinf(v):
            v = np.iinfo(np.int64).min if v < 0 else np.iinfo(np.int64).max
        return np.asarray(int(v), dtype=np.int64)
    return np.asarray(v, dtype=np.float32)


def reduce(op: AluOp, x: Array, axis: int | tuple[int, ...]) -> Array:
    """Reduce ``x`` over ``axis`` with ``op``.

    add/mult/max/min and the bitwise/logical operators are order-free; subtract is
    ``x0 - x1 - x2 ...``; average is the arithmetic mean; any other operator folds from
    the left, ``((x0 op x1) op x2) ...``.
    """
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    x = np.asarray(x)
    if not axes:
        return x
    moved = np.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
    flat = moved.reshape(*moved.shape[:x.ndim - len(axes)], -1)
    with np.errstate(all="ignore"):
        return _reduce_last(op, flat)


def _reduce_last(op: AluOp, x: Array) -> Array:
    if x.shape[-1] == 0:
        ident = identity(op, x)
        return np.full(x.shape[:-1], 0 if ident is None else ident, dtype=x.dtype)
    fast = _FAST.get(op)
    if fast is not None:
        return np.asarray(fast(x, -1))
    out: Array
    match op:
        case AluOp.subtract:
            out = x[..., 0] - np.sum(x[..., 1:], axis=-1)
            return out
        case AluOp.average:
            return np.asarray(np.mean(x, axis=-1, dtype=np.float64 if x.dtype.kind in "iu" else x.dtype))
        case AluOp.logical_and:
            out = (x != 0).all(axis=-1).astype(x.dtype)
            return out
        case AluOp.logical_or:
            out = (x != 0).any(axis=-1).astype(x.dtype)
            return out
        case AluOp.logical_xor:
            out = (np.count_nonzero(x, axis=-1) % 2).astype(x.dtype)
            return out
    acc = x[..., 0]
    for i in range(1, x.shape[-1]):
        acc = apply(op, acc, x[..., i])
    return acc


def reduce_from(op: AluOp, init: Array | None, x: Array) -> Array:
    """Reduce each row of ``x`` [P, F] with ``op``, starting from ``init`` [P] when given."""
    if init is None:
        return reduce(op, x, -1)
    start = np.broadcast_to(np.asarray(init, dtype=np.result_type(init, x)), x.shape[:-1])
    return reduce(op, np.concatenate([start[..., None], x], axis=-1), -1)
