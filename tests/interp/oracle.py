"""An independent model of Core's meaning, one element at a time, written from docs/semantics.md.

It imports nothing of ``klr.interp``: storage is a flat numpy array per tensor, accesses are
index lists built by loops over their pairs, conversions and ALU operators are scalar code.
numpy and ml_dtypes give IEEE float32 arithmetic and the float formats, nothing more.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np
from hypothesis import strategies as st

from klr.core import AluOp, APPair, BirAccessPattern, TensorName
from klr.dtypes import Dtype

F32 = np.float32
Number = int | float
BITWISE = {AluOp.bitwise_and, AluOp.bitwise_or, AluOp.bitwise_xor, AluOp.bitwise_not,
           AluOp.arith_shift_left, AluOp.arith_shift_right, AluOp.logical_shift_left,
           AluOp.logical_shift_right}

# --- dtypes and conversions (§1.4) ------------------------------------------------------------

NP = {Dtype.float32: np.dtype(np.float32), Dtype.bfloat16: np.dtype(ml_dtypes.bfloat16),
      Dtype.float16: np.dtype(np.float16), Dtype.float8e4: np.dtype(ml_dtypes.float8_e4m3),
      Dtype.float8e5: np.dtype(ml_dtypes.float8_e5m2), Dtype.float8_e4m3fn: np.dtype(ml_dtypes.float8_e4m3fn),
      Dtype.int8: np.dtype(np.int8), Dtype.int16: np.dtype(np.int16), Dtype.int32: np.dtype(np.int32),
      Dtype.uint8: np.dtype(np.uint8), Dtype.uint16: np.dtype(np.uint16), Dtype.uint32: np.dtype(np.uint32),
      Dtype.float8_e5m2_x4: np.dtype(np.uint32), Dtype.float8_e4m3fn_x4: np.dtype(np.uint32)}
FLOATS = [Dtype.float32, Dtype.bfloat16, Dtype.float16, Dtype.float8e4, Dtype.float8e5, Dtype.float8_e4m3fn]
INTS = [Dtype.int8, Dtype.int16, Dtype.int32, Dtype.uint8, Dtype.uint16, Dtype.uint32]


def is_int(dt: Dtype) -> bool:
    return NP[dt].kind in "iu"


def int_range(dt: Dtype) -> tuple[int, int]:
    bits = 8 * NP[dt].itemsize
    return (0, 2**bits - 1) if NP[dt].kind == "u" else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def convert(value: Number, dt: Dtype, bits: bool = False) -> Any:
    """The write conversion of one computed value to dtype ``dt`` (a numpy scalar of it)."""
    if is_int(dt):
        lo, hi = int_range(dt)
        if isinstance(value, int | np.integer):
            v = int(value)
            return NP[dt].type((v - lo) % (hi - lo + 1) + lo if bits else min(max(v, lo), hi))
        x = float(value)
        if math.isnan(x):
            return NP[dt].type(0)
        if math.isinf(x):
            return NP[dt].type(hi if x > 0 else lo)
        return NP[dt].type(min(max(round(x), lo), hi))
    if isinstance(value, int | np.integer):
        value = F32(int(value))  # integers reach a float through float32
    with np.errstate(all="ignore"):
        return np.array(value).astype(F32).astype(NP[dt])[()]


def value(x: Any) -> Number:
    """A stored element as the ALU sees it: an int, or a float32 as a Python float."""
    if isinstance(x, np.integer):
        return int(x)
    return float(np.asarray(x).astype(F32))


# --- the ALU (§3.1) ---------------------------------------------------------------------------


def _word(x: int, w: int) -> int:
    x &= (1 << w) - 1
    return x - (1 << w) if x >> (w - 1) else x


def alu(op: AluOp, a: Number, b: Number, exact: bool, w: int = 32) -> Number:
    """``a op b`` on exact integers (Python ints) or float32 (Python floats holding float32s)."""
    if op in BITWISE:
        assert exact, "bitwise operators need integers"
        x = _word(int(a), w)
        if op is AluOp.bitwise_not:
            return _word(~x, w)
        y = int(b)
        if op is AluOp.bitwise_and:
            return _word(x & y, w)
        if op is AluOp.bitwise_or:
            return _word(x | y, w)
        if op is AluOp.bitwise_xor:
            return _word(x ^ y, w)
        assert y >= 0
        if op in (AluOp.arith_shift_left, AluOp.logical_shift_left):
            return 0 if y >= w else _word(x << y, w)
        if op is AluOp.arith_shift_right:
            return x >> min(y, w - 1)
        return 0 if y >= w else _word((x & ((1 << w) - 1)) >> y, w)
    if op in (AluOp.is_equal, AluOp.not_equal, AluOp.is_ge, AluOp.is_gt, AluOp.is_le, AluOp.is_lt,
              AluOp.logical_and, AluOp.logical_or, AluOp.logical_xor):
        truth = {AluOp.is_equal: a == b, AluOp.not_equal: a != b, AluOp.is_ge: a >= b, AluOp.is_gt: a > b,
                 AluOp.is_le: a <= b, AluOp.is_lt: a < b, AluOp.logical_and: a != 0 and b != 0,
                 AluOp.logical_or: a != 0 or b != 0, AluOp.logical_xor: (a != 0) != (b != 0)}[op]
        return int(truth) if exact else float(truth)
    if exact:
        a, b = int(a), int(b)
        match op:
            case AluOp.add:
                return a + b
            case AluOp.subtract:
                return a - b
            case AluOp.mult:
                return a * b
            case AluOp.max:
                return max(a, b)
            case AluOp.min:
                return min(a, b)
            case AluOp.abs:
                return abs(a)
            case AluOp.bypass:
                return a
            case AluOp.mod:
                return 0 if b == 0 else a % b
            case AluOp.divide:
                return a / b if b else (math.copysign(math.inf, a) if a else math.nan)
            case AluOp.average:
                return (a + b) / 2
            case AluOp.pow:
                return float(np.power(np.float64(a), np.float64(b)))
            case AluOp.rsqrt:
                return float(F32(1) / np.sqrt(F32(a)))
    x, y = F32(a), F32(b)
    with np.errstate(all="ignore"):
        got = {AluOp.add: lambda: x + y, AluOp.subtract: lambda: x - y, AluOp.mult: lambda: x * y,
               AluOp.divide: lambda: x / y, AluOp.max: lambda: np.maximum(x, y),
               AluOp.min: lambda: np.minimum(x, y), AluOp.pow: lambda: np.power(x, y),
               AluOp.mod: lambda: np.mod(x, y), AluOp.average: lambda: (x + y) * F32(0.5),
               AluOp.abs: lambda: np.abs(x), AluOp.bypass: lambda: x,
               AluOp.rsqrt: lambda: F32(1) / np.sqrt(x)}[op]()
    return float(F32(got))


def identity(op: AluOp, exact: bool) -> Number:
    v = {AluOp.add: 0, AluOp.subtract: 0, AluOp.mult: 1, AluOp.max: -math.inf, AluOp.min: math.inf}[op]
    if exact and math.isinf(v):
        return -(2**63) if v < 0 else 2**63 - 1
    return v if exact else float(v)


# --- memory and accesses (§1.1, §1.2) ----------------------------------------------------------


def indices(access: Any) -> tuple[list[int], tuple[int, ...]]:
    """The flat element indices of a static access, in row-major view order, and its shape."""
    if isinstance(access, TensorName):
        dims = access.shape.dims
        steps = [math.prod(dims[i + 1:]) for i in range(len(dims))]
        pairs = list(zip(steps, dims, strict=True))
        offset = 0
    else:
        assert isinstance(access, BirAccessPattern) and access.scalarOffset is None
        pairs = [(p.step, p.num) for p in access.pattern]
        offset = access.offset
    out = [offset + sum(s * x for (s, _), x in zip(pairs, xs, strict=True))
           for xs in itertools.product(*(range(n) for _, n in pairs))]
    return out, tuple(n for _, n in pairs)


def pf(shape: tuple[int, ...]) -> tuple[int, int]:
    return shape[0], math.prod(shape[1:])


class Memory:
    """Flat element arrays by tensor name, with their dtypes."""

    def __init__(self) -> None:
        self.data: dict[str, np.ndarray] = {}

    def put(self, t: TensorName, array: np.ndarray) -> None:
        self.data[t.name] = np.array(array, NP[t.dtype]).reshape(-1)

    def read(self, access: Any) -> list[list[Number]]:
        """[P][F] element values of an access (row-major)."""
        idx, shape = indices(access)
        flat = self.data[_tensor(access).name]
        p, f = pf(shape)
        return [[value(flat[idx[i * f + j]]) for j in range(f)] for i in range(p)]

    def write(self, access: Any, rows: Sequence[Sequence[Number]], bits: bool = False,
              keep: Callable[[int, int], bool] | None = None) -> None:
        """Write [P][F] computed values in row-major order (the last write of an element wins)."""
        t = _tensor(access)
        idx, shape = indices(access)
        p, f = pf(shape)
        flat = self.data[t.name]
        for i in range(p):
            for j in range(f):
                if keep is None or keep(i, j):
                    flat[idx[i * f + j]] = convert(rows[i][j], t.dtype, bits)

    def array(self, t: TensorName) -> np.ndarray:
        return self.data[t.name].reshape(t.shape.dims)


def _tensor(access: Any) -> TensorName:
    return access if isinstance(access, TensorName) else access.tensor


# --- strategies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operand:
    """A tensor with its data and an access to it of a given [P, F]."""

    tensor: TensorName
    data: np.ndarray
    access: Any


def data_for(dt: Dtype, size: int, seed: int, *, small: bool = False) -> np.ndarray:
    gen = np.random.default_rng(seed)
    if is_int(dt):
        lo, hi = int_range(dt)
        if small:
            lo, hi = max(lo, -9), min(hi, 9)
        return gen.integers(lo, hi, size=size, endpoint=True).astype(NP[dt])
    scale = 4.0 if dt in (Dtype.float8e4, Dtype.float8e5) else 3.0
    return (gen.standard_normal(size) * scale).astype(F32).astype(NP[dt])


@st.composite
def pattern(draw: Any, name: str, dt: Dtype, p: int, f: int, *, steps: bool = True,
            small: bool = False, free: Sequence[int] | None = None) -> Operand:
    """A tensor of dtype ``dt`` and a BirAccessPattern of [p, f] into it: f split into one or two
    free pairs (or the pairs ``free``), steps in -3..3 (0 included) when ``steps``, else a plain
    row-major tensor."""
    from klr.core import Memory as Mem
    seed = draw(st.integers(0, 2**31 - 1))
    if not steps:
        t = TensorName.make(name, dt, (p, *(free or [f])), Mem.hbm)
        return Operand(t, data_for(dt, p * f, seed, small=small), t)
    split = list(free) if free is not None else [f]
    if free is None and f > 1 and draw(st.booleans()):
        a = draw(st.sampled_from([d for d in range(1, f + 1) if f % d == 0]))
        split = [a, f // a]
    nums = [p, *split]
    stp = [draw(st.integers(-3, 3)) for _ in nums]
    lo = sum(min(0, s * (n - 1)) for s, n in zip(stp, nums, strict=True))
    hi = sum(max(0, s * (n - 1)) for s, n in zip(stp, nums, strict=True))
    pad = draw(st.integers(0, 2))
    size = hi - lo + 1 + pad
    t = TensorName.make(name, dt, (1, size), Mem.hbm)
    ap = BirAccessPattern(t, -lo + draw(st.integers(0, pad)), tuple(APPair(s, n, 0) for s, n in
                                                                     zip(stp, nums, strict=True)))
    return Operand(t, data_for(dt, size, seed, small=small), ap)


def run_case(ops: Iterable[object], operands: Sequence[Operand], outputs: Sequence[TensorName],
             **kw: Any) -> dict[str, np.ndarray]:
    """Run ops on the operands' tensors (all inputs, the outputs too) and return the outputs."""
    from klr.interp import run
    from tests.interp.builder import kernel

    tensors = {o.tensor.name: o for o in operands}
    inputs = [o.tensor for o in tensors.values()]
    got = run(kernel(inputs, outputs, ops), {n: o.data.reshape(o.tensor.shape.dims)
                                             for n, o in tensors.items()}, **kw)
    return got.outputs


def memory(operands: Sequence[Operand]) -> Memory:
    mem = Memory()
    for o in operands:
        mem.put(o.tensor, o.data)
    return mem


def same(got: np.ndarray, want: np.ndarray) -> None:
    """Equal element by element, bit for bit for floats (NaNs equal)."""
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if got.dtype.kind in "iu":
        np.testing.assert_array_equal(got, want)
    else:
        a, b = got.astype(np.float64), want.astype(np.float64)
        both_nan = np.isnan(a) & np.isnan(b)
        assert np.array_equal(np.where(both_nan, 0, a), np.where(both_nan, 0, b)), (got, want)


def close(got: np.ndarray, want: Any, count: int = 1) -> None:
    """Equal up to the rounding of a float32 sum of ``count`` terms in an unspecified order."""
    g = np.asarray(got, np.float64)
    w = np.asarray(want, np.float64).reshape(g.shape)
    tol = 4e-7 * max(count, 1) * max(1.0, float(np.nanmax(np.abs(w))) if w.size else 1.0)
    np.testing.assert_allclose(g, w, rtol=2e-6 * max(count, 1), atol=tol, equal_nan=True)
