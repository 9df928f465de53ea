"""The symbolic loop variable of a loop template (``klr.tracer.templates``).

``Sym`` is ``const + coef * j`` for every integer ``j`` of a range of iterations: a klr value
(a TraceObject) whose every operation is exact for the whole range or raises ``NotAffine``.
Python-level arithmetic and comparisons serve the NKI layer's index code (an access pattern's
offset becomes a ``Sym``); the TraceObject protocol serves the kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klr.tracer.values import TraceObject, Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["NotAffine", "Sym"]

_LIMIT = 1 << 62   # as ops: larger ints are charged to the budget, so a Sym stays below


class NotAffine(BaseException):
    """A template probe met something it cannot prove the same for every iteration.

    A BaseException, so that no ``except Exception`` between the probe and the loop (the
    evaluator's own handlers catch only KlrError) turns it into anything else."""


_NEVER_EQUAL = (type(None), str, tuple, list, dict, slice, type(Ellipsis), range)


class Sym(TraceObject):
    """``const + coef * j`` for every integer ``j`` in ``[lo, hi]`` (``coef != 0``, ``lo < hi``)."""

    __slots__ = ("coef", "const", "hi", "lo")
    type_name = "int"
    pure_compare = True

    def __init__(self, const: int, coef: int, lo: int, hi: int) -> None:
        self.const = const
        self.coef = coef
        self.lo = lo
        self.hi = hi

    def at(self, j: int) -> int:
        return self.const + self.coef * j

    def ends(self) -> tuple[int, int]:
        """The least and greatest value over the range."""
        a, b = self.at(self.lo), self.at(self.hi)
        return (a, b) if a <= b else (b, a)

    def _make(self, const: int, coef: int) -> int | Sym:
        if coef == 0:
            return const
        out = Sym(const, coef, self.lo, self.hi)
        lo, hi = out.ends()
        if lo <= -_LIMIT or hi >= _LIMIT:
            raise NotAffine("an index beyond 2**62")
        return out

    def _parts(self, other: object) -> tuple[int, int]:
        t = type(other)
        if t is int or t is bool:
            return int(other), 0  # type: ignore[call-overload]
        if t is Sym:
            assert (other.lo, other.hi) == (self.lo, self.hi)  # type: ignore[attr-defined]
            return other.const, other.coef  # type: ignore[attr-defined]
        raise NotAffine(f"the loop variable meets a '{t.__name__}'")

    # Python-level arithmetic: what the NKI layer's index code does with an index
    def __add__(self, other: object) -> int | Sym:
        c, k = self._parts(other)
        return self._make(self.const + c, self.coef + k)

    __radd__ = __add__

    def __sub__(self, other: object) -> int | Sym:
        c, k = self._parts(other)
        return self._make(self.const - c, self.coef - k)

    def __rsub__(self, other: object) -> int | Sym:
        c, k = self._parts(other)
        return self._make(c - self.const, k - self.coef)

    def __mul__(self, other: object) -> int | Sym:
        c, k = self._parts(other)
        if k:
            raise NotAffine("a product of the loop variable with itself")
        return self._make(self.const * c, self.coef * c)

    __rmul__ = __mul__

    def __neg__(self) -> int | Sym:
        return self._make(-self.const, -self.coef)

    def __pos__(self) -> Sym:
        return self

    def __invert__(self) -> int | Sym:
        return self._make(-self.const - 1, -self.coef)

    def __floordiv__(self, other: object) -> int | Sym:
        d, k = self._parts(other)
        if k or d == 0:
            raise NotAffine("a division by the loop variable")
        if self.coef % d == 0:
            return self._make(self.const // d, self.coef // d)
        a, b = self.ends()
        if a // d == b // d:   # monotone: constant when the ends agree
            return a // d
        raise NotAffine("a floor division that is not affine")

    def __mod__(self, other: object) -> int:
        d, k = self._parts(other)
        if k or d == 0:
            raise NotAffine("a remainder by the loop variable")
        if self.coef % d == 0:
            return self.const % d
        raise NotAffine("a remainder that is not constant")

    def __rfloordiv__(self, other: object) -> int:
        raise NotAffine("a division by the loop variable")

    def __rmod__(self, other: object) -> int:
        raise NotAffine("a remainder by the loop variable")

    def _sign(self, other: object) -> tuple[int, int]:
        """The least and greatest value of ``self - other`` over the range."""
        d = self - other
        return (d, d) if type(d) is int else d.ends()  # type: ignore[union-attr]

    def __lt__(self, other: object) -> bool:
        return _decide(*(x < 0 for x in self._sign(other)))

    def __le__(self, other: object) -> bool:
        return _decide(*(x <= 0 for x in self._sign(other)))

    def __gt__(self, other: object) -> bool:
        return _decide(*(x > 0 for x in self._sign(other)))

    def __ge__(self, other: object) -> bool:
        return _decide(*(x >= 0 for x in self._sign(other)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _NEVER_EQUAL):
            return False
        lo, hi = self._sign(other)
        if lo > 0 or hi < 0:
            return False
        if lo == hi == 0:
            return True
        raise NotAffine("a comparison that depends on the iteration")

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __bool__(self) -> bool:
        return self.__ne__(0)

    def __hash__(self) -> int:
        raise NotAffine("the loop variable hashed")

    def __index__(self) -> int:
        raise NotAffine("the loop variable used as a Python int")

    __int__ = __index__

    def __float__(self) -> float:
        raise NotAffine("the loop variable used as a float")

    def _other(self, *args: object) -> Any:
        raise NotAffine("the loop variable in an operation that is not affine")

    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __and__ = __rand__ = __or__ = __ror__ = _other
    __xor__ = __rxor__ = __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = __divmod__ = _other
    __rdivmod__ = __matmul__ = __rmatmul__ = __abs__ = __round__ = __trunc__ = __floor__ = _other
    __ceil__ = __complex__ = __len__ = __iter__ = __getitem__ = __contains__ = __call__ = _other

    def __format__(self, spec: str) -> str:
        raise NotAffine("the loop variable formatted")

    def __repr__(self) -> str:
        raise NotAffine("the loop variable shown")

    __str__ = __repr__

    # the TraceObject protocol: what the kernel does with it
    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        if isinstance(other, TraceObject) and type(other) is not Sym:
            return NotImplemented   # the other operand's own rules decide (an index tile's offset)
        if op == "+":
            return self + other
        if op == "*":
            return self * other
        if op == "-":
            return other - self if reflected else self - other
        if op in ("//", "%") and not reflected:
            return self // other if op == "//" else self % other
        raise NotAffine(f"the loop variable in '{op}'")

    def inplace(self, ctx: Ctx, op: str, other: Value) -> Value:
        return self.binop(ctx, op, other, False)

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        if isinstance(other, TraceObject) and type(other) is not Sym:
            return NotImplemented
        t = type(other)
        if t is not int and t is not bool and t is not Sym and not isinstance(other, _NEVER_EQUAL):
            raise NotAffine(f"the loop variable compared with a '{type(other).__name__}'")
        if op == "<":
            return self < other
        if op == "<=":
            return self <= other
        if op == ">":
            return self > other
        if op == ">=":
            return self >= other
        if op == "==":
            return self == other
        if op == "!=":
            return self != other
        raise NotAffine(f"the loop variable in '{op}'")

    def unop(self, ctx: Ctx, op: str) -> Value:
        if op == "-":
            return -self
        if op == "+":
            return self
        if op == "~":
            return ~self
        raise NotAffine(f"the loop variable in '{op}'")

    def truth(self, ctx: Ctx) -> bool:
        return bool(self)

    # every other protocol method is TraceObject's: a ctx.error, which is NotAffine in a probe


def _decide(a: bool, b: bool) -> bool:
    if a is b:
        return a
    raise NotAffine("a comparison that depends on the iteration")
