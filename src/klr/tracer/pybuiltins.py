"""Python's builtin functions, ``math``, ``functools`` and ``operator`` for traced code.

Registered as ``builtins.<name>`` (found by bare name when no gathered global shadows it),
``math.<name>``, ``functools.<name>`` and ``operator.<name>``, all with dialect ``python``.
They follow Python's semantics on traced values; callables passed in (``key=``, ``map``,
``reduce``) may be any traced callable.

``isinstance(x, C)`` accepts the Python type builtins (``int``, ``float``, ...), user classes
and any TraceObject with an ``instancecheck(value) -> bool`` method (the NKI layer's types).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from klr.errors import TraceError
from klr.tracer import ops
from klr.tracer.context import Ctx
from klr.tracer.objects import (
    MISSING,
    NO_DEFAULT,
    AutoValue,
    BoundMethod,
    ClassValue,
    EnumMember,
    FieldSpec,
    Function,
    Instance,
)
from klr.tracer.pymethods import PyMethod, sort_values
from klr.tracer.registry import BuiltinFn, builtin, constant, lookup
from klr.tracer.values import TraceObject, Value, type_name

_MISSING: Any = object()


def _materialise(ctx: Ctx, v: Value, what: str) -> list[Value]:
    """The elements of an iterable as a list, refusing absurd sizes."""
    limit = ops.MAX_SEQUENCE
    if isinstance(v, range) and len(v) > limit:
        raise ctx.limit(f"{what}() of a range with more than {limit} elements")
    out = []
    for x in ops.iterate(ctx, v):
        out.append(x)
        if len(out) > limit:
            raise ctx.limit(f"{what}() of more than {limit} elements")
    return out


def _py(ctx: Ctx, what: str, fn: Callable[..., Value], *args: Value) -> Value:
    """Run a Python builtin on user values, turning bad-input exceptions into TraceErrors."""
    try:
        return fn(*args)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError) as e:
        raise ctx.error(f"{what}(): {e}") from None


# --- types and conversions ---------------------------------------------------------------------

@builtin("builtins.int", dialect="python")
def int_(ctx: Ctx, x: Value = 0, base: Value = _MISSING) -> Value:
    """``int(x)`` / ``int(s, base)``."""
    if isinstance(x, EnumMember):
        x = x.value
    if base is not _MISSING:
        return _py(ctx, "int", int, x, base)
    return _py(ctx, "int", int, x)


@builtin("builtins.float", dialect="python")
def float_(ctx: Ctx, x: Value = 0.0) -> Value:
    if isinstance(x, EnumMember):
        x = x.value
    return _py(ctx, "float", float, x)


@builtin("builtins.bool", dialect="python")
def bool_(ctx: Ctx, x: Value = False) -> bool:
    return ops.truth(ctx, x)


@builtin("builtins.str", dialect="python")
def str_(ctx: Ctx, x: Value = "") -> str:
    return ops.to_str(ctx, x)


@builtin("builtins.repr", dialect="python")
def repr_(ctx: Ctx, x: Value) -> str:
    return ops.to_repr(ctx, x)


@builtin("builtins.tuple", dialect="python")
def tuple_(ctx: Ctx, xs: Value = ()) -> tuple[Value, ...]:
    return xs if type(xs) is tuple else tuple(_materialise(ctx, xs, "tuple"))


@builtin("builtins.list", dialect="python")
def list_(ctx: Ctx, xs: Value = ()) -> list[Value]:
    return _materialise(ctx, xs, "list")


@builtin("builtins.set", dialect="python")
def set_(ctx: Ctx, xs: Value = ()) -> set[Value]:
    return _py(ctx, "set", set, _materialise(ctx, xs, "set"))


@builtin("builtins.dict", dialect="python")
def dict_(ctx: Ctx, xs: Value = (), **kwargs: Value) -> dict[Value, Value]:
    if isinstance(xs, dict):
        out = dict(xs)
    else:
        out = {}
        for item in _materialise(ctx, xs, "dict"):
            pair = _materialise(ctx, item, "dict")
            if len(pair) != 2:
                raise ctx.error(f"dict(): an element has {len(pair)} items, 2 are required")
            _py(ctx, "dict", out.__setitem__, pair[0], pair[1])
    out.update(kwargs)
    return out


@builtin("builtins.slice", dialect="python")
def slice_(ctx: Ctx, *args: Value) -> slice:
    if not 1 <= len(args) <= 3:
        raise ctx.error(f"slice() takes 1 to 3 arguments but {len(args)} were given")
    return slice(*args)


@builtin("builtins.range", dialect="python")
def range_(ctx: Ctx, *args: Value) -> range:
    if not 1 <= len(args) <= 3:
        raise ctx.error(f"range() takes 1 to 3 arguments but {len(args)} were given")
    args = tuple(a.value if isinstance(a, EnumMember) else a for a in args)
    for a in args:
        if not isinstance(a, int):
            raise ctx.error(f"range() arguments must be integers, not '{type_name(a)}'")
    if len(args) == 3 and args[2] == 0:
        raise ctx.error("range() step must not be zero")
    return range(*args)


_TYPES: dict[str, type] = {
    "builtins.int": int, "builtins.float": float, "builtins.bool": bool, "builtins.str": str,
    "builtins.tuple": tuple, "builtins.list": list, "builtins.dict": dict, "builtins.set": set,
    "builtins.slice": slice, "builtins.range": range,
}
_TYPE_NAMES = {t: n for n, t in _TYPES.items()}


class TypeOf(TraceObject):
    """``type(x)`` of a value that is neither a Python value nor a user instance."""

    __slots__ = ("name",)
    type_name = "type"

    def __init__(self, name: str) -> None:
        self.name = name

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "__name__":
            return self.name
        return super().getattr(ctx, name)

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        if op in ("==", "!="):
            same = isinstance(other, TypeOf) and other.name == self.name
            return same if op == "==" else not same
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TypeOf) and other.name == self.name

    def instancecheck(self, value: Value) -> bool:
        return type_name(value) == self.name

    def __repr__(self) -> str:
        return f"<class '{self.name}'>"


@builtin("builtins.type", dialect="python")
def type_(ctx: Ctx, x: Value) -> Value:
    """``type(x)``: the type builtin for Python values, the class for user objects."""
    if isinstance(x, (Instance, EnumMember)):
        return x.cls
    name = _TYPE_NAMES.get(type(x))
    if name is not None:
        return lookup(name, ctx.dialect)
    return TypeOf(type_name(x))


def _isinstance1(ctx: Ctx, x: Value, c: Value) -> bool:
    if isinstance(c, tuple):
        return any(_isinstance1(ctx, x, ci) for ci in c)
    if isinstance(c, BuiltinFn) and c.name in _TYPES:
        t = _TYPES[c.name]
        if isinstance(x, EnumMember) and x.cls.int_like:
            return t is int
        return isinstance(x, t)
    check = getattr(c, "instancecheck", None)
    if check is not None and isinstance(c, TraceObject):
        return bool(check(x))
    raise ctx.error(f"isinstance() arg 2 must be a type or tuple of types, not '{type_name(c)}'")


@builtin("builtins.isinstance", dialect="python")
def isinstance_(ctx: Ctx, x: Value, classinfo: Value) -> bool:
    return _isinstance1(ctx, x, classinfo)


@builtin("builtins.callable", dialect="python")
def callable_(ctx: Ctx, x: Value) -> bool:
    if isinstance(x, Instance):
        return x.cls.lookup("__call__") is not MISSING
    return isinstance(x, (Function, BuiltinFn, ClassValue, BoundMethod, PyMethod, Partial))


# --- attributes ---------------------------------------------------------------------------------

@builtin("builtins.getattr", dialect="python")
def getattr_(ctx: Ctx, obj: Value, name: Value, default: Value = _MISSING) -> Value:
    if not isinstance(name, str):
        raise ctx.error(f"getattr(): attribute name must be a string, not '{type_name(name)}'")
    if default is _MISSING:
        return ops.getattr_(ctx, obj, name)
    return ops.getattr_(ctx, obj, name) if _has_attr(ctx, obj, name) else default


def _has_attr(ctx: Ctx, obj: Value, name: str) -> bool:
    try:
        ops.getattr_(ctx, obj, name)
    except TraceError:
        return False
    return True


@builtin("builtins.hasattr", dialect="python")
def hasattr_(ctx: Ctx, obj: Value, name: Value) -> bool:
    if not isinstance(name, str):
        raise ctx.error(f"hasattr(): attribute name must be a string, not '{type_name(name)}'")
    return _has_attr(ctx, obj, name)


@builtin("builtins.setattr", dialect="python")
def setattr_(ctx: Ctx, obj: Value, name: Value, value: Value) -> None:
    if not isinstance(obj, TraceObject) or not isinstance(name, str):
        raise ctx.error(f"setattr(): cannot set attributes of a '{type_name(obj)}' value")
    obj.setattr(ctx, name, value)


# --- sequences ----------------------------------------------------------------------------------

@builtin("builtins.len", dialect="python")
def len_(ctx: Ctx, x: Value) -> int:
    return ops.length(ctx, x)


def _extreme(ctx: Ctx, what: str, op: str, args: tuple[Value, ...], key: Value, default: Value) -> Value:
    items = _materialise(ctx, args[0], what) if len(args) == 1 else list(args)
    if not args:
        raise ctx.error(f"{what}() expected at least 1 argument, got 0")
    if not items:
        if default is _MISSING:
            raise ctx.error(f"{what}() of an empty sequence")
        return default
    best = items[0]
    best_key = best if key is None else ops.call(ctx, key, (best,), {})
    for x in items[1:]:
        k = x if key is None else ops.call(ctx, key, (x,), {})
        if ops.truth(ctx, ops.compare(ctx, op, k, best_key)):
            best, best_key = x, k
    return best


@builtin("builtins.min", dialect="python")
def min_(ctx: Ctx, *args: Value, key: Value = None, default: Value = _MISSING) -> Value:
    return _extreme(ctx, "min", "<", args, key, default)


@builtin("builtins.max", dialect="python")
def max_(ctx: Ctx, *args: Value, key: Value = None, default: Value = _MISSING) -> Value:
    return _extreme(ctx, "max", ">", args, key, default)


@builtin("builtins.sum", dialect="python")
def sum_(ctx: Ctx, xs: Value, start: Value = 0) -> Value:
    total = start
    for x in _materialise(ctx, xs, "sum"):
        total = ops.binop(ctx, "+", total, x)
    return total


@builtin("builtins.any", dialect="python")
def any_(ctx: Ctx, xs: Value) -> bool:
    return any(ops.truth(ctx, x) for x in ops.iterate(ctx, xs))


@builtin("builtins.all", dialect="python")
def all_(ctx: Ctx, xs: Value) -> bool:
    return all(ops.truth(ctx, x) for x in ops.iterate(ctx, xs))


@builtin("builtins.enumerate", dialect="python")
def enumerate_(ctx: Ctx, xs: Value, start: Value = 0) -> Iterator[tuple[int, Value]]:
    if not isinstance(start, int):
        raise ctx.error(f"enumerate(): start must be an integer, not '{type_name(start)}'")
    return enumerate(ops.iterate(ctx, xs), start)


@builtin("builtins.zip", dialect="python")
def zip_(ctx: Ctx, *xss: Value, strict: Value = False) -> Iterator[tuple[Value, ...]]:
    lists = [_materialise(ctx, xs, "zip") for xs in xss]
    if strict and len({len(xs) for xs in lists}) > 1:
        raise ctx.error("zip(): arguments have different lengths")
    return zip(*lists, strict=False)


@builtin("builtins.reversed", dialect="python")
def reversed_(ctx: Ctx, xs: Value) -> Iterator[Value]:
    if isinstance(xs, (list, tuple, range, str, dict)):
        return reversed(xs)
    return reversed(_materialise(ctx, xs, "reversed"))


@builtin("builtins.sorted", dialect="python")
def sorted_(ctx: Ctx, xs: Value, *, key: Value = None, reverse: Value = False) -> list[Value]:
    return sort_values(ctx, _materialise(ctx, xs, "sorted"), key, ops.truth(ctx, reverse))


@builtin("builtins.map", dialect="python")
def map_(ctx: Ctx, f: Value, *xss: Value) -> Iterator[Value]:
    if not xss:
        raise ctx.error("map() must have at least two arguments")
    lists = [_materialise(ctx, xs, "map") for xs in xss]
    return iter([ops.call(ctx, f, args, {}) for args in zip(*lists, strict=False)])


@builtin("builtins.filter", dialect="python")
def filter_(ctx: Ctx, f: Value, xs: Value) -> Iterator[Value]:
    items = _materialise(ctx, xs, "filter")
    if f is None:
        return iter([x for x in items if ops.truth(ctx, x)])
    return iter([x for x in items if ops.truth(ctx, ops.call(ctx, f, (x,), {}))])


@builtin("builtins.iter", dialect="python")
def iter_(ctx: Ctx, xs: Value) -> Iterator[Value]:
    return ops.iterate(ctx, xs)


@builtin("builtins.next", dialect="python")
def next_(ctx: Ctx, it: Value, default: Value = _MISSING) -> Value:
    if not isinstance(it, Iterator):
        raise ctx.error(f"'{type_name(it)}' object is not an iterator")
    try:
        return next(it)
    except StopIteration:
        if default is _MISSING:
            raise ctx.error("next() on an exhausted iterator") from None
        return default


# --- numbers ------------------------------------------------------------------------------------

@builtin("builtins.abs", dialect="python")
def abs_(ctx: Ctx, x: Value) -> Value:
    if isinstance(x, Instance):
        m = x._method("__abs__")
        if m is not MISSING:
            return ops.call(ctx, m, (), {})
    if isinstance(x, EnumMember) and x.cls.int_like:
        x = x.value
    if isinstance(x, TraceObject):
        abs_fn = getattr(x, "abs", None)
        if abs_fn is not None:
            return abs_fn(ctx)
        raise ctx.error(f"bad operand type for abs(): '{x.type_name}'")
    return _py(ctx, "abs", abs, x)


@builtin("builtins.divmod", dialect="python")
def divmod_(ctx: Ctx, a: Value, b: Value) -> tuple[Value, Value]:
    return (ops.binop(ctx, "//", a, b), ops.binop(ctx, "%", a, b))


@builtin("builtins.pow", dialect="python")
def pow_(ctx: Ctx, base: Value, exp: Value, mod: Value = None) -> Value:
    if mod is None:
        return ops.binop(ctx, "**", base, exp)
    return _py(ctx, "pow", pow, base, exp, mod)


@builtin("builtins.round", dialect="python")
def round_(ctx: Ctx, x: Value, ndigits: Value = None) -> Value:
    return _py(ctx, "round", round, x, ndigits)


@builtin("builtins.chr", dialect="python")
def chr_(ctx: Ctx, i: Value) -> str:
    return _py(ctx, "chr", chr, i)


@builtin("builtins.ord", dialect="python")
def ord_(ctx: Ctx, c: Value) -> int:
    return _py(ctx, "ord", ord, c)


# --- output -------------------------------------------------------------------------------------

@builtin("builtins.print", dialect="python")
def print_(ctx: Ctx, *args: Value, sep: Value = " ", end: Value = "\n") -> None:
    """Records the text as a trace message (shown by ``klr trace``); nothing is emitted."""
    ctx.message(ops.to_str(ctx, sep).join(ops.to_str(ctx, a) for a in args))


@builtin("builtins.super", dialect="python")
def super_(ctx: Ctx) -> Value:
    """Zero-argument ``super()`` inside a method."""
    return ctx._resolver.super_of_current(ctx)


@builtin("builtins.format", dialect="python")
def format_(ctx: Ctx, value: Value, spec: Value = "") -> str:
    """``format(value, spec)``; f-string format specs arrive here."""
    if not isinstance(spec, str):
        raise ctx.error(f"format(): the format spec must be a string, not '{type_name(spec)}'")
    if isinstance(value, TraceObject):
        value = ops.to_str(ctx, value)
    return _py(ctx, "format", format, value, spec)


constant("builtins.Ellipsis", Ellipsis, dialect="python")
constant("builtins.NotImplemented", NotImplemented, dialect="python")


# --- math ---------------------------------------------------------------------------------------

def _math(name: str, fn: Callable[..., Value], nargs: int) -> None:
    if nargs == 1:
        def impl1(ctx: Ctx, x: Value) -> Value:
            return _py(ctx, f"math.{name}", fn, x)
        builtin(f"math.{name}", dialect="python", doc=fn.__doc__ or "")(impl1)
    else:
        def impl2(ctx: Ctx, x: Value, y: Value) -> Value:
            return _py(ctx, f"math.{name}", fn, x, y)
        builtin(f"math.{name}", dialect="python", doc=fn.__doc__ or "")(impl2)


for _name in ("ceil", "floor", "sqrt", "log2", "log10", "exp", "fabs", "trunc", "isqrt", "isinf",
              "isnan", "isfinite", "factorial", "sin", "cos", "tan", "tanh", "atan", "erf"):
    _math(_name, getattr(math, _name), 1)
for _name in ("pow", "fmod", "copysign", "atan2", "comb"):
    _math(_name, getattr(math, _name), 2)


@builtin("math.log", dialect="python")
def math_log(ctx: Ctx, x: Value, base: Value = math.e) -> float:
    return _py(ctx, "math.log", math.log, x, base)


@builtin("math.gcd", dialect="python")
def math_gcd(ctx: Ctx, *xs: Value) -> int:
    return _py(ctx, "math.gcd", math.gcd, *xs)


@builtin("math.lcm", dialect="python")
def math_lcm(ctx: Ctx, *xs: Value) -> int:
    return _py(ctx, "math.lcm", math.lcm, *xs)


@builtin("math.prod", dialect="python")
def math_prod(ctx: Ctx, xs: Value, *, start: Value = 1) -> Value:
    total = start
    for x in _materialise(ctx, xs, "math.prod"):
        total = ops.binop(ctx, "*", total, x)
    return total


@builtin("math.isclose", dialect="python")
def math_isclose(ctx: Ctx, a: Value, b: Value, *, rel_tol: Value = 1e-09, abs_tol: Value = 0.0) -> bool:
    try:
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    except TypeError as e:
        raise ctx.error(f"math.isclose(): {e}") from None


for _name in ("pi", "e", "inf", "nan", "tau"):
    constant(f"math.{_name}", getattr(math, _name), dialect="python")


# --- dataclasses and enum ----------------------------------------------------------------------

constant("dataclasses.MISSING", NO_DEFAULT, dialect="python",
         doc="Marks a dataclass field without a default (gather writes it for ``x: int``).")


@builtin("dataclasses.field", dialect="python")
def field_(ctx: Ctx, *, default: Value = NO_DEFAULT, default_factory: Value = NO_DEFAULT, init: Value = True,
           repr: Value = True, hash: Value = None, compare: Value = True, metadata: Value = None,
           kw_only: Value = False) -> FieldSpec:
    """A dataclass field's default (``default=``) or per-instance factory (``default_factory=``)."""
    if default is not NO_DEFAULT and default_factory is not NO_DEFAULT:
        raise ctx.error("dataclasses.field(): cannot specify both default and default_factory")
    return FieldSpec(default, default_factory)


@builtin("enum.auto", dialect="python")
def auto_(ctx: Ctx) -> AutoValue:
    """An enum member value one more than the previous integer member (1 for the first)."""
    return AutoValue()


# --- functools and operator ---------------------------------------------------------------------

class Partial(TraceObject):
    """``functools.partial(f, *args, **kwargs)``."""

    __slots__ = ("args", "f", "kwargs")
    type_name = "functools.partial"

    def __init__(self, f: Value, args: tuple[Value, ...], kwargs: dict[str, Value]) -> None:
        self.f = f
        self.args = args
        self.kwargs = kwargs

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        return ops.call(ctx, self.f, self.args + args, {**self.kwargs, **kwargs})

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "func":
            return self.f
        if name == "args":
            return self.args
        if name == "keywords":
            return dict(self.kwargs)
        return super().getattr(ctx, name)


@builtin("functools.partial", dialect="python")
def partial_(ctx: Ctx, f: Value, /, *args: Value, **kwargs: Value) -> Partial:
    return Partial(f, args, kwargs)


@builtin("functools.reduce", dialect="python")
def reduce_(ctx: Ctx, f: Value, xs: Value, initial: Value = _MISSING, /) -> Value:
    items: Iterable[Value] = _materialise(ctx, xs, "functools.reduce")
    it = iter(items)
    if initial is _MISSING:
        try:
            acc = next(it)
        except StopIteration:
            raise ctx.error("functools.reduce() of an empty sequence with no initial value") from None
    else:
        acc = initial
    for x in it:
        acc = ops.call(ctx, f, (acc, x), {})
    return acc


def _operator_binop(name: str, sym: str) -> None:
    def impl(ctx: Ctx, a: Value, b: Value, /) -> Value:
        return ops.binop(ctx, sym, a, b)
    builtin(f"operator.{name}", dialect="python", doc=f"``a {sym} b``")(impl)


for _name, _sym in (("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"),
                    ("mod", "%"), ("pow", "**"), ("matmul", "@"), ("and_", "&"), ("or_", "|"),
                    ("xor", "^"), ("lshift", "<<"), ("rshift", ">>")):
    _operator_binop(_name, _sym)


def _operator_compare(name: str, sym: str) -> None:
    def impl(ctx: Ctx, a: Value, b: Value, /) -> Value:
        return ops.compare(ctx, sym, a, b)
    builtin(f"operator.{name}", dialect="python", doc=f"``a {sym} b``")(impl)


for _name, _sym in (("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="), ("ne", "!=")):
    _operator_compare(_name, _sym)


@builtin("operator.neg", dialect="python")
def operator_neg(ctx: Ctx, a: Value, /) -> Value:
    return ops.unop(ctx, "-", a)


@builtin("operator.getitem", dialect="python")
def operator_getitem(ctx: Ctx, a: Value, b: Value, /) -> Value:
    return ops.getitem(ctx, a, b)

