"""Python's builtin functions, ``math``, ``functools`` and ``operator`` for traced code.

Registered as ``builtins.<name>`` (found by bare name when no gathered global shadows it),
``math.<name>``, ``functools.<name>`` and ``operator.<name>``, all with dialect ``python``.
They follow Python's semantics on traced values; callables passed in (``key=``, ``map``,
``reduce``) may be any traced callable.

``isinstance(x, C)`` accepts the Python type builtins (``int``, ``float``, ...), user classes
and any TraceObject with an ``instancecheck(value) -> bool`` method (the NKI layer's types).

Builtins that run Python's own code on a kernel's values (``int``, ``round``, ``chr``...) call
it through the allow-list (host.py); the others are klr code over klr values. ``math`` is in
pymath.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from klr.errors import TraceError
from klr.tracer import exceptions as _exceptions  # noqa: F401  (registers Python's exception classes)
from klr.tracer import host, ops, pymethods
from klr.tracer.context import Ctx
from klr.tracer.formatting import format_value
from klr.tracer.host import ANY, INT, NUM, OPT_INT, STR, Arg
from klr.tracer.objects import (
    NO_DEFAULT,
    AutoValue,
    BoundMethod,
    ClassKind,
    ClassValue,
    EnumMember,
    FieldSpec,
    Function,
    Instance,
)
from klr.tracer.pymethods import HostMethod, pairs
from klr.tracer.registry import MISSING, BuiltinFn, Dialect, builtin, constant, lookup
from klr.tracer.sets import KlrSet, elements
from klr.tracer.templates import consume
from klr.tracer.values import TraceObject, Value, type_name


class _Unset:
    """The default of an optional argument that was not given."""

    def __repr__(self) -> str:
        return "<unset>"


_MISSING: Value = _Unset()


def _materialise(ctx: Ctx, v: Value, what: str) -> list[Value]:
    return ops.materialise(ctx, v, what)


def _parse_steps(x: Value, base: int = 10) -> int:
    """len(x)**2 / 65536 for a string (Python's int parsing is quadratic)"""
    return len(x) ** 2 >> 16 if type(x) is str else 0


def _scan_steps(x: Value) -> int:
    """len(x) / 1024 for a string"""
    return len(x) >> 10 if type(x) is str else 0


def _round_steps(x: Value, ndigits: int | None = None) -> int:
    """a product of the integer's size, when rounding it to tens"""
    if type(x) is int and ndigits is not None and ndigits < 0:
        return host.mul_steps(x.bit_length(), x.bit_length())
    return 0


def _modpow_steps(base: int, exp: int, mod: int) -> int:
    """bits(exp) products of the modulus's size"""
    return abs(exp).bit_length() * host.mul_steps(mod.bit_length(), mod.bit_length())


def _plain(v: Value) -> Value:
    """An int-like enum member as its int; anything else unchanged."""
    return v.value if isinstance(v, EnumMember) and v.cls.int_like else v


_INT = host.host("builtins.int", int, (Arg("x", (int, bool, float, str)), Arg("base", INT, True, "any")),
                 host._no_cost, _parse_steps)
_FLOAT = host.host("builtins.float", float, (Arg("x", (int, bool, float, str)),), host._no_cost, _scan_steps)


# --- types and conversions ---------------------------------------------------------------------

@builtin("builtins.int", dialect=Dialect.python)
def int_(ctx: Ctx, x: Value = 0, base: Value = _MISSING) -> Value:
    """``int(x)`` / ``int(s, base)``."""
    x = _plain(x)
    if base is not _MISSING:
        return host.call(ctx, _INT, (x, base))
    return host.call(ctx, _INT, (x,))


@builtin("builtins.float", dialect=Dialect.python)
def float_(ctx: Ctx, x: Value = 0.0) -> Value:
    return host.call(ctx, _FLOAT, (_plain(x),))


@builtin("builtins.bool", dialect=Dialect.python)
def bool_(ctx: Ctx, x: Value = False) -> bool:
    return ops.truth(ctx, x)


@builtin("builtins.str", dialect=Dialect.python)
def str_(ctx: Ctx, x: Value = "") -> str:
    return ops.to_str(ctx, x)


@builtin("builtins.repr", dialect=Dialect.python)
def repr_(ctx: Ctx, x: Value) -> str:
    return ops.to_repr(ctx, x)


@builtin("builtins.tuple", dialect=Dialect.python)
def tuple_(ctx: Ctx, xs: Value = ()) -> tuple[Value, ...]:
    return xs if type(xs) is tuple else tuple(_materialise(ctx, xs, "tuple"))


@builtin("builtins.list", dialect=Dialect.python)
def list_(ctx: Ctx, xs: Value = ()) -> list[Value]:
    return _materialise(ctx, xs, "list")


@builtin("builtins.set", dialect=Dialect.python)
def set_(ctx: Ctx, xs: Value = ()) -> KlrSet:
    """A set that iterates in insertion order (klr.tracer.sets)."""
    return KlrSet(dict(elements(ctx, xs)))


@builtin("builtins.dict", dialect=Dialect.python)
def dict_(ctx: Ctx, xs: Value = (), **kwargs: Value) -> dict[Value, Value]:
    out = dict(pairs(ctx, xs, "dict"))
    out.update(kwargs)
    return out


_SLICE = host.host("builtins.slice", slice, (Arg("start", (ANY,)), Arg("stop", (ANY,), optional=True),
                                              Arg("step", (ANY,), optional=True)), host._no_cost)
_RANGE = host.host("builtins.range", range, (Arg("start", INT), Arg("stop", INT, optional=True),
                                              Arg("step", INT, optional=True)), host._no_cost)


@builtin("builtins.slice", dialect=Dialect.python)
def slice_(ctx: Ctx, *args: Value) -> Value:
    if not 1 <= len(args) <= 3:
        raise ctx.error(f"slice() takes 1 to 3 arguments but {len(args)} were given")
    return host.call(ctx, _SLICE, args)


@builtin("builtins.range", dialect=Dialect.python)
def range_(ctx: Ctx, *args: Value) -> Value:
    if not 1 <= len(args) <= 3:
        raise ctx.error(f"range() takes 1 to 3 arguments but {len(args)} were given")
    args = tuple(a.value if isinstance(a, EnumMember) else a for a in args)
    for a in args:
        if not isinstance(a, int):
            raise ctx.error(f"range() arguments must be integers, not '{type_name(a)}'")
    if len(args) == 3 and args[2] == 0:
        raise ctx.error("range() step must not be zero")
    return host.call(ctx, _RANGE, args)


_TYPES: dict[str, type] = {
    "builtins.int": int, "builtins.float": float, "builtins.bool": bool, "builtins.str": str,
    "builtins.tuple": tuple, "builtins.list": list, "builtins.dict": dict, "builtins.set": KlrSet,
    "builtins.slice": slice, "builtins.range": range,
}
_TYPE_NAMES = {t: n for n, t in _TYPES.items()}


class TypeOf(TraceObject):
    """``type(x)`` of a value that is neither a Python value nor a user instance."""

    __slots__ = ("name",)
    type_name = "type"

    def __init__(self, name: str) -> None:
        self.name = name

    @staticmethod
    def of(name: str) -> TypeOf:
        """The one TypeOf of each name, so ``type(a) is type(b)`` and dict keys work by identity."""
        got = _TYPE_OFS.get(name)
        if got is None:
            got = _TYPE_OFS[name] = TypeOf(name)
        return got

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "__name__":
            return self.name
        return super().getattr(ctx, name)

    def instancecheck(self, value: Value) -> bool:
        return type_name(value) == self.name

    def __repr__(self) -> str:
        return f"<class '{self.name}'>"


_TYPE_OFS: dict[str, TypeOf] = {}


@builtin("builtins.type", dialect=Dialect.python)
def type_(ctx: Ctx, x: Value) -> Value:
    """``type(x)``: the type builtin for Python values, the class for user objects."""
    if isinstance(x, (Instance, EnumMember)):
        return x.cls
    name = _TYPE_NAMES.get(type(x))
    if name is not None:
        return lookup(name, ctx.dialect)
    return TypeOf.of(type_name(x))


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


@builtin("builtins.isinstance", dialect=Dialect.python)
def isinstance_(ctx: Ctx, x: Value, classinfo: Value) -> bool:
    return _isinstance1(ctx, x, classinfo)


@builtin("builtins.callable", dialect=Dialect.python)
def callable_(ctx: Ctx, x: Value) -> bool:
    if isinstance(x, Instance):
        return x.cls.lookup("__call__") is not MISSING
    return isinstance(x, (Function, BuiltinFn, ClassValue, BoundMethod, HostMethod, Partial))


# --- attributes ---------------------------------------------------------------------------------

@builtin("builtins.getattr", dialect=Dialect.python)
def getattr_(ctx: Ctx, obj: Value, name: Value, default: Value = _MISSING) -> Value:
    if not isinstance(name, str):
        raise ctx.error(f"getattr(): attribute name must be a string, not '{type_name(name)}'")
    if default is _MISSING:
        return pymethods.getattr_(ctx, obj, name)
    return pymethods.getattr_(ctx, obj, name) if _has_attr(ctx, obj, name) else default


def _has_attr(ctx: Ctx, obj: Value, name: str) -> bool:
    try:
        pymethods.getattr_(ctx, obj, name)
    except TraceError:
        return False
    return True


@builtin("builtins.hasattr", dialect=Dialect.python)
def hasattr_(ctx: Ctx, obj: Value, name: Value) -> bool:
    if not isinstance(name, str):
        raise ctx.error(f"hasattr(): attribute name must be a string, not '{type_name(name)}'")
    return _has_attr(ctx, obj, name)


@builtin("builtins.setattr", dialect=Dialect.python)
def setattr_(ctx: Ctx, obj: Value, name: Value, value: Value) -> None:
    if not isinstance(obj, TraceObject) or not isinstance(name, str):
        raise ctx.error(f"setattr(): cannot set attributes of a '{type_name(obj)}' value")
    obj.setattr(ctx, name, value)


# --- sequences ----------------------------------------------------------------------------------

@builtin("builtins.len", dialect=Dialect.python)
def len_(ctx: Ctx, x: Value) -> int:
    return ops.length(ctx, x)


def _extreme(ctx: Ctx, what: str, op: str, args: tuple[Value, ...], key: Value, default: Value) -> Value:
    if not args:
        raise ctx.error(f"{what}() expected at least 1 argument, got 0")
    items = _materialise(ctx, args[0], what) if len(args) == 1 else list(args)
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


@builtin("builtins.min", dialect=Dialect.python)
def min_(ctx: Ctx, *args: Value, key: Value = None, default: Value = _MISSING) -> Value:
    return _extreme(ctx, "min", "<", args, key, default)


@builtin("builtins.max", dialect=Dialect.python)
def max_(ctx: Ctx, *args: Value, key: Value = None, default: Value = _MISSING) -> Value:
    return _extreme(ctx, "max", ">", args, key, default)


@builtin("builtins.sum", dialect=Dialect.python)
def sum_(ctx: Ctx, xs: Value, start: Value = 0) -> Value:
    total = start
    for x in _materialise(ctx, xs, "sum"):
        ctx.spend(1)
        total = ops.binop(ctx, "+", total, x)
    return total


@builtin("builtins.any", dialect=Dialect.python)
def any_(ctx: Ctx, xs: Value) -> bool:
    return any(ops.truth(ctx, x) for x in ops.iterate(ctx, xs))


@builtin("builtins.all", dialect=Dialect.python)
def all_(ctx: Ctx, xs: Value) -> bool:
    return all(ops.truth(ctx, x) for x in ops.iterate(ctx, xs))


@builtin("builtins.enumerate", dialect=Dialect.python)
def enumerate_(ctx: Ctx, xs: Value, start: Value = 0) -> Iterator[tuple[int, Value]]:
    if not isinstance(start, int):
        raise ctx.error(f"enumerate(): start must be an integer, not '{type_name(start)}'")
    return enumerate(ops.iterate(ctx, xs), start)


@builtin("builtins.zip", dialect=Dialect.python)
def zip_(ctx: Ctx, *xss: Value, strict: Value = False) -> Iterator[tuple[Value, ...]]:
    lists = [_materialise(ctx, xs, "zip") for xs in xss]
    if strict and len({len(xs) for xs in lists}) > 1:
        raise ctx.error("zip(): arguments have different lengths")
    return zip(*lists, strict=False)


@builtin("builtins.reversed", dialect=Dialect.python)
def reversed_(ctx: Ctx, xs: Value) -> Iterator[Value]:
    if type(xs) in (list, tuple, range, str, dict):
        return reversed(xs)
    return reversed(_materialise(ctx, xs, "reversed"))


@builtin("builtins.sorted", dialect=Dialect.python)
def sorted_(ctx: Ctx, xs: Value, *, key: Value = None, reverse: Value = False) -> list[Value]:
    return ops.sort_values(ctx, _materialise(ctx, xs, "sorted"), key, ops.truth(ctx, reverse))


@builtin("builtins.map", dialect=Dialect.python)
def map_(ctx: Ctx, f: Value, *xss: Value) -> Iterator[Value]:
    if not xss:
        raise ctx.error("map() must have at least two arguments")
    lists = [_materialise(ctx, xs, "map") for xs in xss]
    return iter([ops.call(ctx, f, args, {}) for args in zip(*lists, strict=False)])


@builtin("builtins.filter", dialect=Dialect.python)
def filter_(ctx: Ctx, f: Value, xs: Value) -> Iterator[Value]:
    items = _materialise(ctx, xs, "filter")
    if f is None:
        return iter([x for x in items if ops.truth(ctx, x)])
    return iter([x for x in items if ops.truth(ctx, ops.call(ctx, f, (x,), {}))])


@builtin("builtins.iter", dialect=Dialect.python)
def iter_(ctx: Ctx, xs: Value) -> Iterator[Value]:
    return ops.iterate(ctx, xs)


@builtin("builtins.next", dialect=Dialect.python)
def next_(ctx: Ctx, it: Value, default: Value = _MISSING) -> Value:
    if not isinstance(it, Iterator):
        raise ctx.error(f"'{type_name(it)}' object is not an iterator")
    if ctx.template is not None:
        consume(ctx.template, it)
    try:
        return next(it)
    except StopIteration:
        if default is _MISSING:
            raise ctx.error("next() on an exhausted iterator") from None
        return default


# --- numbers ------------------------------------------------------------------------------------

_ABS = host.host("builtins.abs", abs, (Arg("x", NUM),), host.int_bytes)
_POW = host.host("builtins.pow", pow, (Arg("base", INT), Arg("exp", INT), Arg("mod", INT)), host.int_bytes,
                 _modpow_steps)
_ROUND = host.host("builtins.round", round, (Arg("number", NUM), Arg("ndigits", OPT_INT, True, "any")),
                   host.int_bytes, _round_steps)
_CHR = host.host("builtins.chr", chr, (Arg("i", INT),), host._no_cost)
_ORD = host.host("builtins.ord", ord, (Arg("c", STR),), host._no_cost)


@builtin("builtins.abs", dialect=Dialect.python)
def abs_(ctx: Ctx, x: Value) -> Value:
    if isinstance(x, Instance):
        m = x._method("__abs__")
        if m is not MISSING:
            return ops.call(ctx, m, (), {})
    x = _plain(x)
    if isinstance(x, TraceObject):
        abs_fn = getattr(x, "abs", None)
        if abs_fn is not None:
            return abs_fn(ctx)
        raise ctx.error(f"bad operand type for abs(): '{x.type_name}'")
    return host.call(ctx, _ABS, (x,))


@builtin("builtins.divmod", dialect=Dialect.python)
def divmod_(ctx: Ctx, a: Value, b: Value) -> tuple[Value, Value]:
    return (ops.binop(ctx, "//", a, b), ops.binop(ctx, "%", a, b))


@builtin("builtins.pow", dialect=Dialect.python)
def pow_(ctx: Ctx, base: Value, exp: Value, mod: Value = None) -> Value:
    if mod is None:
        return ops.binop(ctx, "**", base, exp)
    return host.call(ctx, _POW, (_plain(base), _plain(exp), _plain(mod)))


@builtin("builtins.round", dialect=Dialect.python)
def round_(ctx: Ctx, x: Value, ndigits: Value = None) -> Value:
    x, ndigits = _plain(x), _plain(ndigits)
    if type(x) is int and type(ndigits) is int and ndigits < 0 and -ndigits > x.bit_length() // 3 + 1:
        return 0   # every digit is rounded away (Python would first compute 10 ** -ndigits)
    return host.call(ctx, _ROUND, (x,) if ndigits is None else (x, ndigits))


@builtin("builtins.chr", dialect=Dialect.python)
def chr_(ctx: Ctx, i: Value) -> Value:
    i = _plain(i)
    if type(i) is int and 0xD800 <= i <= 0xDFFF:
        raise ctx.error(f"chr(): U+{i:04X} is a lone surrogate, which a KLR file (UTF-8) cannot hold")
    return host.call(ctx, _CHR, (i,))


@builtin("builtins.ord", dialect=Dialect.python)
def ord_(ctx: Ctx, c: Value) -> Value:
    return host.call(ctx, _ORD, (c,))


# --- output -------------------------------------------------------------------------------------

@builtin("builtins.print", dialect=Dialect.python)
def print_(ctx: Ctx, *args: Value, sep: Value = " ", end: Value = "\n") -> None:
    """Records the text as a trace message (shown by ``klr trace``); nothing is emitted."""
    parts = [ops.to_str(ctx, a) for a in args]
    glue = ops.to_str(ctx, sep)
    ctx.alloc(ops.str_bytes(glue) * len(parts) + ops.str_bytes(*parts) + 256)
    ctx.message(glue.join(parts))


@builtin("builtins.super", dialect=Dialect.python)
def super_(ctx: Ctx) -> Value:
    """Zero-argument ``super()`` inside a method."""
    return ctx.super_of_current()


@builtin("builtins.format", dialect=Dialect.python)
def format_(ctx: Ctx, value: Value, spec: Value = "") -> str:
    """``format(value, spec)``; f-string format specs arrive here."""
    if not isinstance(spec, str):
        raise ctx.error(f"format(): the format spec must be a string, not '{type_name(spec)}'")
    return format_value(ctx, value, spec)


constant("builtins.Ellipsis", Ellipsis, dialect=Dialect.python)
constant("builtins.NotImplemented", NotImplemented, dialect=Dialect.python)


# --- dataclasses and enum ----------------------------------------------------------------------

constant("dataclasses.MISSING", NO_DEFAULT, dialect=Dialect.python,
         doc="Marks a dataclass field without a default (gather writes it for ``x: int``).")


@builtin("dataclasses.field", dialect=Dialect.python)
def field_(ctx: Ctx, *, default: Value = NO_DEFAULT, default_factory: Value = NO_DEFAULT, init: Value = True,
           repr: Value = True, hash: Value = None, compare: Value = True, metadata: Value = None,
           kw_only: Value = False) -> FieldSpec:
    """A dataclass field's default (``default=``) or per-instance factory (``default_factory=``);
    ``init=False`` leaves it out of ``__init__``."""
    if default is not NO_DEFAULT and default_factory is not NO_DEFAULT:
        raise ctx.error("dataclasses.field(): cannot specify both default and default_factory")
    return FieldSpec(default, default_factory, ops.truth(ctx, init))


@builtin("collections.namedtuple", dialect=Dialect.python)
def namedtuple_(ctx: Ctx, typename: Value, field_names: Value, *, rename: Value = False,
                defaults: Value = None, module: Value = None) -> ClassValue:
    """A NamedTuple class named ``typename`` with ``field_names`` (a list of names, or one
    string of names separated by spaces or commas); ``defaults`` for the last fields."""
    names = field_names.replace(",", " ").split() if isinstance(field_names, str) else field_names
    if not isinstance(typename, str) or not isinstance(names, (list, tuple)) or \
            not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise ctx.error("namedtuple() takes a type name and field names (strings)", python="TypeError")
    given = () if defaults is None else tuple(_materialise(ctx, defaults, "namedtuple() defaults"))
    if len(given) > len(names):
        raise ctx.error("namedtuple(): got more default values than field names", python="TypeError")
    cls = ClassValue(typename, ClassKind.NAMEDTUPLE, ())
    first_default = len(names) - len(given)
    cls.fields = {n: given[i - first_default] if i >= first_default else NO_DEFAULT
                  for i, n in enumerate(names)}
    return cls


@builtin("builtins.object.__setattr__", dialect=Dialect.python)
def object_setattr(ctx: Ctx, obj: Value, name: Value, value: Value) -> None:
    """``object.__setattr__(obj, name, value)``: sets an attribute of an instance even when its
    class is a frozen dataclass (how a frozen dataclass's ``__post_init__`` fills its fields)."""
    if not isinstance(obj, Instance) or not isinstance(name, str):
        raise ctx.error(f"object.__setattr__(): cannot set attributes of a '{type_name(obj)}' value")
    obj.dict[name] = value


@builtin("enum.auto", dialect=Dialect.python)
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


@builtin("functools.partial", dialect=Dialect.python)
def partial_(ctx: Ctx, f: Value, /, *args: Value, **kwargs: Value) -> Partial:
    return Partial(f, args, kwargs)


@builtin("functools.reduce", dialect=Dialect.python)
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
    builtin(f"operator.{name}", dialect=Dialect.python, doc=f"``a {sym} b``")(impl)


for _name, _sym in (("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"),
                    ("mod", "%"), ("pow", "**"), ("matmul", "@"), ("and_", "&"), ("or_", "|"),
                    ("xor", "^"), ("lshift", "<<"), ("rshift", ">>")):
    _operator_binop(_name, _sym)


def _operator_compare(name: str, sym: str) -> None:
    def impl(ctx: Ctx, a: Value, b: Value, /) -> Value:
        return ops.compare(ctx, sym, a, b)
    builtin(f"operator.{name}", dialect=Dialect.python, doc=f"``a {sym} b``")(impl)


for _name, _sym in (("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="), ("ne", "!=")):
    _operator_compare(_name, _sym)


@builtin("operator.neg", dialect=Dialect.python)
def operator_neg(ctx: Ctx, a: Value, /) -> Value:
    return ops.unop(ctx, "-", a)


@builtin("operator.getitem", dialect=Dialect.python)
def operator_getitem(ctx: Ctx, a: Value, b: Value, /) -> Value:
    return ops.getitem(ctx, a, b)

