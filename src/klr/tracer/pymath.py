"""``math`` for traced code: each function is Python's own, on the allow-list (host.py).

Arguments must be numbers (``int``, ``float``, ``bool``; int-like enum members count as their
value). The integer functions whose results grow with their arguments (``factorial``,
``comb``, ``perm``, ``isqrt``, ``gcd``, ``lcm``) charge the size of their result to the
memory budget and the work of computing it to the step budget before they run, so
``math.factorial(10**9)`` is a LimitError, not an hour of CPU.
"""

from __future__ import annotations

import math

from klr.tracer import host, ops
from klr.tracer.context import Ctx
from klr.tracer.host import INT, NUM, OPT_INT, Arg, HostFn, log2_factorial, result_bits_steps
from klr.tracer.objects import EnumMember
from klr.tracer.registry import Dialect, builtin, constant
from klr.tracer.values import Value

_UNARY = ("ceil", "floor", "sqrt", "log2", "log10", "exp", "fabs", "trunc", "isinf", "isnan", "isfinite",
          "sin", "cos", "tan", "tanh", "atan", "erf")
_BINARY = ("pow", "fmod", "copysign", "atan2")


def _plain(v: Value) -> Value:
    return v.value if isinstance(v, EnumMember) and v.cls.int_like else v


def _register(name: str, entry: HostFn, nargs: int) -> None:
    doc = (getattr(math, name).__doc__ or "").strip()
    if nargs == 1:
        def impl1(ctx: Ctx, x: Value, /) -> Value:
            return host.call(ctx, entry, (_plain(x),))
        builtin(f"math.{name}", dialect=Dialect.python, doc=doc)(impl1)
    else:
        def impl2(ctx: Ctx, x: Value, y: Value, /) -> Value:
            return host.call(ctx, entry, (_plain(x), _plain(y)))
        builtin(f"math.{name}", dialect=Dialect.python, doc=doc)(impl2)


# --- costs -------------------------------------------------------------------------------------


def _factorial_bytes(n: int) -> int:
    """the bits of n! (log2 of Gamma(n + 1)) / 8"""
    return int(log2_factorial(n)) // 8 if n > 1 else 0


def _factorial_steps(n: int) -> int:
    """a product of the result's size"""
    return result_bits_steps(log2_factorial(n)) if n > 1 else 0


def _comb_bits(n: int, k: int | None, perm: bool) -> float:
    if k is None:
        k = n
    if n < 0 or k < 0 or k > n:
        return 0.0
    bits = log2_factorial(n) - log2_factorial(n - k)
    return bits if perm else bits - log2_factorial(k)


def _comb_bytes(n: int, k: int) -> int:
    """the bits of the result (from log-Gamma) / 8"""
    return int(_comb_bits(n, k, False)) // 8


def _comb_steps(n: int, k: int) -> int:
    """a product of the result's size"""
    return result_bits_steps(_comb_bits(n, k, False))


def _perm_bytes(n: int, k: int | None = None) -> int:
    """the bits of the result (from log-Gamma) / 8"""
    return int(_comb_bits(n, k, True)) // 8


def _perm_steps(n: int, k: int | None = None) -> int:
    """a product of the result's size"""
    return result_bits_steps(_comb_bits(n, k, True))


def _isqrt_steps(n: int) -> int:
    """a product of the argument's size"""
    return result_bits_steps(n.bit_length())


def _gcd_steps(*xs: int) -> int:
    """a product of the arguments' total size"""
    return result_bits_steps(sum(x.bit_length() for x in xs))


def _lcm_bytes(*xs: int) -> int:
    """the arguments' total size (the product bounds the result)"""
    return sum(x.bit_length() for x in xs) // 8


def _no(*args: Value, **kwargs: Value) -> int:
    """nothing"""
    return 0


# --- registration ------------------------------------------------------------------------------

for _name in _UNARY:
    _register(_name, host.host(f"math.{_name}", getattr(math, _name), (Arg("x", NUM),), _no), 1)
for _name in _BINARY:
    _register(_name, host.host(f"math.{_name}", getattr(math, _name), (Arg("x", NUM), Arg("y", NUM)), _no), 2)
_register("isqrt", host.host("math.isqrt", math.isqrt, (Arg("n", INT),), host.int_bytes, _isqrt_steps), 1)
_register("factorial", host.host("math.factorial", math.factorial, (Arg("n", INT),), _factorial_bytes,
                                 _factorial_steps), 1)
_register("comb", host.host("math.comb", math.comb, (Arg("n", INT), Arg("k", INT)), _comb_bytes, _comb_steps),
          2)

_PERM = host.host("math.perm", math.perm, (Arg("n", INT), Arg("k", OPT_INT, optional=True)), _perm_bytes,
                  _perm_steps)
_LOG = host.host("math.log", math.log, (Arg("x", NUM), Arg("base", NUM, optional=True)), _no)
_GCD = host.host("math.gcd", math.gcd, (Arg("integers", INT, kind="var"),), _no, _gcd_steps)
_LCM = host.host("math.lcm", math.lcm, (Arg("integers", INT, kind="var"),), _lcm_bytes, _gcd_steps)
_CLOSE_ARGS = (Arg("a", NUM), Arg("b", NUM), Arg("rel_tol", NUM, True, "kw"), Arg("abs_tol", NUM, True, "kw"))
_ISCLOSE = host.host("math.isclose", math.isclose, _CLOSE_ARGS, _no)


@builtin("math.perm", dialect=Dialect.python)
def math_perm(ctx: Ctx, n: Value, k: Value = None, /) -> Value:
    """Number of ways to choose k items from n items without repetition and with order."""
    return host.call(ctx, _PERM, (_plain(n),) if k is None else (_plain(n), _plain(k)))


@builtin("math.log", dialect=Dialect.python)
def math_log(ctx: Ctx, x: Value, base: Value = math.e, /) -> Value:
    """``log(x[, base])``: the logarithm of x to the given base (natural by default)."""
    return host.call(ctx, _LOG, (_plain(x), _plain(base)))


@builtin("math.gcd", dialect=Dialect.python)
def math_gcd(ctx: Ctx, *xs: Value) -> Value:
    """Greatest common divisor of the integer arguments."""
    return host.call(ctx, _GCD, tuple(_plain(x) for x in xs))


@builtin("math.lcm", dialect=Dialect.python)
def math_lcm(ctx: Ctx, *xs: Value) -> Value:
    """Least common multiple of the integer arguments."""
    return host.call(ctx, _LCM, tuple(_plain(x) for x in xs))


@builtin("math.prod", dialect=Dialect.python)
def math_prod(ctx: Ctx, xs: Value, *, start: Value = 1) -> Value:
    """The product of ``start`` and the elements of ``xs`` (klr's ``*`` on each)."""
    total = start
    for x in ops.materialise(ctx, xs, "math.prod"):
        total = ops.binop(ctx, "*", total, x)
    return total


@builtin("math.isclose", dialect=Dialect.python)
def math_isclose(ctx: Ctx, a: Value, b: Value, *, rel_tol: Value = 1e-09, abs_tol: Value = 0.0) -> Value:
    """Whether a and b are close to each other."""
    return host.call(ctx, _ISCLOSE, (_plain(a), _plain(b)), {"rel_tol": rel_tol, "abs_tol": abs_tol})


for _name in ("pi", "e", "inf", "nan", "tau"):
    constant(f"math.{_name}", getattr(math, _name), dialect=Dialect.python)
