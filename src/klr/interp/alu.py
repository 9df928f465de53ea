"""The ALU: what every ``AluOp`` computes, element-wise and as a reduction.

Values arrive in one of two compute types (``docs/semantics.md`` §1.4, ``klr.core.numerics``):

* float32 arrays, the normal case: the engines compute in fp32;
* int64 arrays holding exact integers, when every tensor operand, the destination and every
  immediate of an instruction are integers (``numerics.exact_integers``).

``apply(op, a, b, bits)`` returns an array of either type; the write to memory converts it to
the destination dtype. Comparisons give 1/0 in the compute type. The bitwise operators
(``numerics.BITVEC``) work on ``bits``-wide two's-complement words (32, or 64 when an operand
or the destination is a 64-bit integer): their operands must be integers, shift amounts must
not be negative, and a shift by ``bits`` or more shifts every bit out. Their results are the
words as signed values; the write keeps the destination's low bits (``wrap``). Misuse raises
``AluError``, which the runner reports at the statement.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from klr.core.numerics import BITVEC, UNARY
from klr.core.optypes import AluOp
from klr.errors import EvalError

Array = np.ndarray
Binary = Callable[[Array, Array], Array]

__all__ = ["AluError", "UNARY", "apply", "apply_rev", "identity", "reduce", "reduce_from"]


class AluError(EvalError):
    """An operator applied where it has no meaning (one sentence, without the statement; the
    runner reports it at the statement)."""


def _same_type(a: Array, b: Array) -> type:
    return np.int64 if a.dtype.kind in "iu" and b.dtype.kind in "iu" else np.float32


def _flag(mask: Array, a: Array, b: Array) -> Array:
    return mask.astype(_same_type(a, b))


def _divide(a: Array, b: Array) -> Array:
    if _same_type(a, b) is np.int64:
        return np.true_divide(a.astype(np.float64), b.astype(np.float64))
    out: Array = np.true_divide(a, b)
    return out


def _mod(a: Array, b: Array) -> Array:
    """Floored modulo (the sign of b, Python's ``%``); x mod 0 is NaN, 0 on exact integers."""
    if _same_type(a, b) is np.int64:
        safe = np.where(b == 0, 1, b)
        out: Array = np.where(b == 0, 0, np.mod(a, safe))
        return out
    return np.asarray(np.mod(a, b))


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


_ARITHMETIC: dict[AluOp, Binary] = {
    AluOp.abs: lambda a, _b: np.abs(a),
    AluOp.add: lambda a, b: a + b,
    AluOp.subtract: lambda a, b: a - b,
    AluOp.mult: lambda a, b: a * b,
    AluOp.divide: _divide,
    AluOp.max: np.maximum,
    AluOp.min: np.minimum,
    AluOp.pow: _pow,
    AluOp.mod: _mod,
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
}


# --- bit patterns -----------------------------------------------------------------------------


def _signed_word(x: Array, bits: int) -> Array:
    """The low ``bits`` bits of int64 ``x`` as a signed value."""
    if bits >= 64:
        return x
    half = np.int64(1) << np.int64(bits - 1)
    out: Array = ((x & ((half << np.int64(1)) - 1)) ^ half) - half
    return out


def _word(op: AluOp, x: Array) -> Array:
    if x.dtype.kind not in "iu":
        raise AluError(f"the bitwise operator {op.name} works on integers, but this instruction "
                       f"computes in float32 (a float operand, destination or immediate)")
    return x.astype(np.int64, copy=False)


def _amount(op: AluOp, b: Array) -> Array:
    amount = _word(op, b)
    if amount.size and amount.min() < 0:
        raise AluError(f"shift amount {int(amount.min())} of {op.name} is negative")
    return amount


def _shift_left(a: Array, b: Array, bits: int) -> Array:
    out: Array = np.where(b >= bits, 0, np.left_shift(a, np.minimum(b, 63)))
    return out


def _shift_right_arith(a: Array, b: Array, bits: int) -> Array:
    out: Array = np.right_shift(a, np.minimum(b, 63))
    return out


def _shift_right_logical(a: Array, b: Array, bits: int) -> Array:
    unsigned = a.view(np.uint64) if bits >= 64 else a & ((np.int64(1) << np.int64(bits)) - 1)
    moved = np.right_shift(unsigned, np.minimum(b, 63).astype(unsigned.dtype))
    out: Array = np.where(b >= bits, 0, moved.astype(np.int64))
    return out


_SHIFTS = {
    AluOp.arith_shift_left: _shift_left, AluOp.logical_shift_left: _shift_left,
    AluOp.arith_shift_right: _shift_right_arith, AluOp.logical_shift_right: _shift_right_logical,
}


def _bitvec(op: AluOp, a: Array, b: Array, bits: int) -> Array:
    x = _signed_word(_word(op, a), bits)
    match op:
        case AluOp.bitwise_not:
            out = ~x
        case AluOp.bitwise_and:
            out = x & _word(op, b)
        case AluOp.bitwise_or:
            out = x | _word(op, b)
        case AluOp.bitwise_xor:
            out = x ^ _word(op, b)
        case _:
            out = _SHIFTS[op](x, _amount(op, b), bits)
    return _signed_word(np.asarray(out, np.int64), bits)


def _array(b: Array | float | int, like: Array) -> Array:
    """A Python scalar takes the compute type of ``like`` (a float next to integers: float64)."""
    if isinstance(b, bool | int) or (isinstance(b, float) and like.dtype.kind == "f"):
        return np.asarray(b, dtype=like.dtype)
    return np.asarray(b)


def apply(op: AluOp, a: Array, b: Array | float | int, bits: int = 32) -> Array:
    """``a op b`` element-wise with numpy broadcasting (b may be a Python scalar); bitwise
    operators work on ``bits``-wide words.

    Floating-point exceptions follow numpy's error state; ``klr.interp.run`` ignores them.
    """
    a = np.asarray(a)
    other = _array(b, a)
    if op in BITVEC:
        return _bitvec(op, a, other, bits)
    return np.asarray(_ARITHMETIC[op](a, other))


def apply_rev(op: AluOp, a: Array, b: Array | float | int, reverse: bool, bits: int = 32) -> Array:
    """``a op b``, or ``b op a`` when ``reverse`` (a reversed unary operator applies to ``b``)."""
    if reverse:
        a = np.asarray(a)
        return apply(op, np.broadcast_to(_array(b, a), np.broadcast_shapes(np.shape(a), np.shape(b))), a,
                     bits)
    return apply(op, a, b, bits)


# --- reductions -------------------------------------------------------------------------------

_FAST: dict[AluOp, Callable[[Array, int], Array]] = {
    AluOp.add: lambda x, ax: np.sum(x, axis=ax),
    AluOp.mult: lambda x, ax: np.prod(x, axis=ax),
    AluOp.max: lambda x, ax: np.max(x, axis=ax),
    AluOp.min: lambda x, ax: np.min(x, axis=ax),
    AluOp.bitwise_and: lambda x, ax: np.bitwise_and.reduce(_word(AluOp.bitwise_and, x), axis=ax),
    AluOp.bitwise_or: lambda x, ax: np.bitwise_or.reduce(_word(AluOp.bitwise_or, x), axis=ax),
    AluOp.bitwise_xor: lambda x, ax: np.bitwise_xor.reduce(_word(AluOp.bitwise_xor, x), axis=ax),
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

    add and mult accumulate in the compute type in an unspecified order (float32 sums may differ
    in their last bits from a left fold); max, min and the bitwise and logical operators are
    order-free; subtract is ``x0 - (x1 + x2 + ...)``; average is the sum divided by the count;
    any other operator folds from the left, ``((x0 op x1) op x2) ...``.
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
            if x.dtype.kind in "iu":
                return np.asarray(x.sum(axis=-1) / np.float64(x.shape[-1]))
            return np.asarray(np.sum(x, axis=-1) / np.float32(x.shape[-1]))
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
