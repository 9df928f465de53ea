"""The numeric model of KLR: dtype promotion, weakly typed scalars, and what conversions do.

One model, used by the NKI front end (default result dtypes of ``nl.*`` operations) and by the
interpreter (compute types, bit patterns, rounding, saturation). ``docs/semantics.md`` (§1.4)
states it with the reasons for each choice; this module is its executable summary. It imports
neither numpy nor anything above ``klr.core``: the scalar functions at the end are the
reference for one value, and the interpreter's array versions are tested against them.

Front-end API (``a``, ``b`` are Core ``Dtype``s)::

    promote(a, b)                 # NKI's tile-tile promotion table
    scalar_dtype(value)           # a Python bool/int/float as NKI types it: uint8, int32, float32
    result_dtype(op, a, b)        # the default output dtype of ALU operator ``op`` on a and b
    scalar_result_dtype(op, a, v) # ``op`` on a tile of dtype ``a`` and the Python scalar ``v``
    reduce_dtype(op, a)           # a reduction's output: ``average`` (nl.mean) of integers is float32
    NumericsError                 # a combination NKI gives no meaning (bitwise on floats, packed types)

Interpreter API::

    BITVEC, ARITHMETIC, COMPARISONS, LOGICAL, UNARY   # AluOp classes
    is_bitvec(op)
    exact_integers(dtypes, immediates)  # True: compute exactly on integers, else in float32
    word_bits(dtypes)                   # the ALU word of a bitwise instruction: 32 (or 64)
    int_range(dt), float_format(dt)
    to_float32(x)                       # the float32 a Python float denotes (an ImmFloat's value)
    float_to_int(x, dt), saturate(x, dt), wrap(x, dt)   # one value converted to an integer dtype

Promotion (the NKI documentation's "NKI Type Promotion" table):

* (float, integer): the float type;
* (float, float): the wider type when one holds every value of the other (as many exponent and
  mantissa bits), else the first of bfloat16, float32 that holds both: (float16, bfloat16) ->
  float32, (float8_e4m3, float8_e5m2) -> bfloat16;
* (int, int): the wider type when both are signed or both unsigned, or when the signed one is
  wider; else the signed type twice as wide as the unsigned one: (int8, uint8) -> int16,
  (int8, uint16) -> int32; (int32, uint32) -> float32, since int64 is not a hardware type;
* bool is uint8; Python scalars are "weakly typed": bool -> uint8, int -> int32, float ->
  float32, then promoted like tiles: (int8, 2) -> int32, (float16, 1.2) -> float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from klr.core.optypes import AluOp
from klr.dtypes import Dtype, nki_name
from klr.schema import record, to_float32

__all__ = [
    "NumericsError", "FloatFormat", "BITVEC", "ARITHMETIC", "COMPARISONS", "LOGICAL", "UNARY",
    "is_bitvec", "promote", "scalar_dtype", "result_dtype", "scalar_result_dtype", "reduce_dtype",
    "exact_integers", "word_bits", "int_range", "float_format", "to_float32", "float_to_int",
    "saturate", "wrap",
]


class NumericsError(ValueError):
    """A dtype combination NKI gives no meaning; the message is one sentence."""


# --- operator classes -------------------------------------------------------------------------

BITVEC = frozenset({AluOp.bitwise_and, AluOp.bitwise_not, AluOp.bitwise_or, AluOp.bitwise_xor,
                    AluOp.arith_shift_left, AluOp.arith_shift_right, AluOp.logical_shift_left,
                    AluOp.logical_shift_right})
"""Operators on bit patterns (NKI's "bitvec" class): integer operands, results are words."""
COMPARISONS = frozenset({AluOp.is_equal, AluOp.not_equal, AluOp.is_ge, AluOp.is_gt, AluOp.is_le,
                         AluOp.is_lt})
LOGICAL = frozenset({AluOp.logical_and, AluOp.logical_or, AluOp.logical_xor})
ARITHMETIC = frozenset(AluOp) - BITVEC
"""NKI's "arithmetic" class: operands are converted to float32 before the operator."""
UNARY = frozenset({AluOp.abs, AluOp.rsqrt, AluOp.bypass, AluOp.bitwise_not})
"""Operators that ignore their second operand."""


def is_bitvec(op: AluOp | None) -> bool:
    return op in BITVEC


# --- dtype facts ------------------------------------------------------------------------------


@record
class FloatFormat:
    """A float dtype's exponent and mantissa bits, largest finite value and whether it has inf."""

    exp_bits: int
    man_bits: int
    max: float
    has_inf: bool

    def holds(self, other: FloatFormat) -> bool:
        """Every finite value of ``other`` is a value of this format (for two formats of the
        same bits, such as float8_e4m3 and float8_e4m3fn, neither holds the other)."""
        return (self == other or (self.exp_bits >= other.exp_bits and self.man_bits >= other.man_bits
                and self.max >= other.max and (self.exp_bits, self.man_bits) != (other.exp_bits,
                                                                                   other.man_bits)))


_F32_MAX = float.fromhex("0x1.fffffep+127")
_FLOATS: dict[Dtype, FloatFormat] = {
    Dtype.float32: FloatFormat(8, 23, _F32_MAX, True),
    Dtype.float32r: FloatFormat(8, 10, float.fromhex("0x1.ffcp+127"), True),
    Dtype.bfloat16: FloatFormat(8, 7, float.fromhex("0x1.fep+127"), True),
    Dtype.float16: FloatFormat(5, 10, 65504.0, True),
    Dtype.float8e3: FloatFormat(3, 4, 15.5, True),
    Dtype.float8e4: FloatFormat(4, 3, 240.0, True),
    Dtype.float8_e4m3: FloatFormat(4, 3, 240.0, True),
    Dtype.float8_e4m3fn: FloatFormat(4, 3, 448.0, False),
    Dtype.float8e5: FloatFormat(5, 2, 57344.0, True),
}
_WIDENED = (Dtype.bfloat16, Dtype.float32)
_SIGNED = (Dtype.int8, Dtype.int16, Dtype.int32, Dtype.int64)


def float_format(dt: Dtype) -> FloatFormat:
    got = _FLOATS.get(dt)
    if got is None:
        raise NumericsError(f"{nki_name(dt)} is not a float type")
    return got


def int_range(dt: Dtype) -> tuple[int, int]:
    """Smallest and largest value of an integer dtype."""
    if not dt.is_int:
        raise NumericsError(f"{nki_name(dt)} is not an integer type")
    bits = 8 * dt.size
    if dt.name.startswith("u"):
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _signed(dt: Dtype) -> bool:
    return dt.name.startswith("int")


def _no_packed(*dts: Dtype) -> None:
    for dt in dts:
        if dt.is_packed:
            raise NumericsError(f"{nki_name(dt)} is a packed type, which has no arithmetic")


# --- promotion --------------------------------------------------------------------------------


def promote(a: Dtype, b: Dtype) -> Dtype:
    """The dtype NKI gives an arithmetic operation on tiles of dtypes ``a`` and ``b``."""
    _no_packed(a, b)
    if a is b:
        return a
    if a.is_float and b.is_float:
        fa, fb = float_format(a), float_format(b)
        if fa == fb:  # two names of one format (float8e4, float8_e4m3): the first declared
            return a if a.ctor < b.ctor else b
        if fa.holds(fb):
            return a
        if fb.holds(fa):
            return b
        return next(w for w in _WIDENED if float_format(w).holds(fa) and float_format(w).holds(fb))
    if a.is_float or b.is_float:
        return a if a.is_float else b
    if _signed(a) == _signed(b):
        return a if a.size >= b.size else b
    s, u = (a, b) if _signed(a) else (b, a)
    if s.size > u.size:
        return s
    return next((t for t in _SIGNED if t.size == 2 * u.size and t.size <= 4), Dtype.float32)


def scalar_dtype(value: bool | int | float) -> Dtype:
    """How NKI types a weakly typed Python scalar: bool uint8, int int32, float float32."""
    if isinstance(value, bool):
        return Dtype.uint8
    if isinstance(value, int):
        return Dtype.int32
    if isinstance(value, float):
        return Dtype.float32
    raise NumericsError(f"a {type(value).__name__} is not a number")


def result_dtype(op: AluOp, a: Dtype, b: Dtype | None = None) -> Dtype:
    """The default output dtype of ``op`` on operands of dtypes ``a`` and ``b`` (None: unary).

    Arithmetic operators and comparisons promote (a comparison's value is 1 or 0 in that type;
    legacy ``nl.equal`` and friends default to ``bool`` instead, the front end's choice).
    Bitwise operators need integers; their operands are words of one width, so two integer
    types of the same size give the signed one instead of float32.
    """
    if b is None or op in UNARY:
        _no_packed(a)
        if op in BITVEC and not a.is_int:
            raise NumericsError(f"the bitwise operator {op.name} needs an integer operand, not "
                                f"{nki_name(a)}")
        return a
    if op in BITVEC:
        for dt in (a, b):
            if not dt.is_int:
                raise NumericsError(f"the bitwise operator {op.name} needs integer operands, not "
                                    f"{nki_name(dt)}")
        got = promote(a, b)
        if got.is_float:  # (int32, uint32): same width, keep the signed pattern
            return a if _signed(a) else b
        return got
    return promote(a, b)


def scalar_result_dtype(op: AluOp, a: Dtype, value: bool | int | float) -> Dtype:
    """``op`` on a tile of dtype ``a`` and a Python scalar (either side)."""
    return result_dtype(op, a, scalar_dtype(value))


def reduce_dtype(op: AluOp, a: Dtype) -> Dtype:
    """The output of reducing a tile of dtype ``a`` with ``op``: the mean of integers is float32
    (NKI: "float32 intermediate and return values are used for integer inputs"), any other
    reduction keeps ``a``."""
    _no_packed(a)
    if op is AluOp.average and a.is_int:
        return Dtype.float32
    return a


# --- compute types ----------------------------------------------------------------------------


def exact_integers(dtypes: Iterable[Dtype | None], immediates: Iterable[float | int] = ()) -> bool:
    """Whether an instruction computes exactly on integers: every tensor it reads or writes is
    an integer and every immediate is integral. Otherwise it computes in float32."""
    return (all(d is None or d.is_int for d in dtypes)
            and all(isinstance(v, int) or (math.isfinite(v) and float(v).is_integer()) for v in immediates))


def word_bits(dtypes: Iterable[Dtype | None]) -> int:
    """The width of the ALU word a bitwise instruction works on: 32 bits, 64 when an operand is
    a 64-bit integer (not a hardware type)."""
    return 64 if any(d is not None and d.size == 8 for d in dtypes) else 32


# --- one value --------------------------------------------------------------------------------

def saturate(x: int, dt: Dtype) -> int:
    """An integer value converted to an integer dtype by value: clamped to its range."""
    lo, hi = int_range(dt)
    return min(max(x, lo), hi)


def wrap(x: int, dt: Dtype) -> int:
    """An integer word written to an integer dtype as a bit pattern: its low bits."""
    lo, hi = int_range(dt)
    span = hi - lo + 1
    return (x - lo) % span + lo


def float_to_int(x: float, dt: Dtype) -> int:
    """A float value converted to an integer dtype: rounded to nearest (ties to even),
    saturated to the dtype's range, NaN to 0."""
    if math.isnan(x):
        return 0
    if math.isinf(x):
        lo, hi = int_range(dt)
        return hi if x > 0 else lo
    return saturate(round(x), dt)
