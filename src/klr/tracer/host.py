"""The allow-list: every host function a kernel can reach.

A *host function* is Python's or numpy's own code run on values a kernel supplies: ``int(s)``,
``math.factorial(n)``, ``s.zfill(w)``, ``np.eye(n)``. Each one is declared here, once, as a
``HostFn`` saying

* which types each argument may have (exact types, checked before the call): host code never
  receives a TraceObject, nor any object whose dunders it might call (``dict.update(x)``
  calls ``x.keys()``), only plain values it handles itself; an argument that is only stored
  (``xs.append(x)``) may be any klr value, and a dict key must pass ``ops.hashable``;
* what the call will allocate (``alloc``, bytes) and, for work not proportional to that,
  how many steps it takes (``steps``), both computed from the arguments and charged to the
  trace's budgets before the call.

Everything else a kernel calls (``len``, ``sorted``, ``functools.reduce``, ``operator.add``,
``str.format``, ``list.index``...) is klr code over klr values. ``entries()`` is the whole
list; tests/tracer/golden/allowlist.txt is its reviewed listing.

Adding a host function: register it with ``host(...)`` (or ``method(...)``), give each
argument the narrowest types that work, and a cost function whose docstring says what it
charges; check what the function can allocate and whether it calls back into its arguments;
then update the golden listing (``KLR_UPDATE_GOLDEN=1``) and review the diff.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from klr.schema import record
from klr.tracer import ops, show
from klr.tracer.values import TraceObject, Value, type_name, type_name_of

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["Arg", "HostFn", "host", "entries", "get", "call", "ANY", "KEY", "Pred"]


@record
class Pred:
    """An argument type that is not a Python type: ``name`` for messages, ``test(value)``."""

    name: str
    test: Callable[[Value], bool]


ANY = Pred("value", lambda v: True)
"""Any klr value; only for arguments the host function stores without looking inside."""
KEY = Pred("key", lambda v: True)
"""A dict key: checked by ``ops.hashable`` (nested tuples to ``max_nesting``)."""

TypeSpec = tuple[type | Pred, ...]


@record
class Arg:
    """One parameter: its name, accepted types, and how it may be passed. ``kind`` is
    ``pos`` (positional only), ``any`` (positional or keyword), ``kw`` (keyword only) or
    ``var`` (``*args``)."""

    name: str
    types: TypeSpec
    optional: bool = False
    kind: str = "pos"

    def show(self) -> str:
        names = " | ".join(t.name if isinstance(t, Pred) else type_name_of(t) for t in self.types)
        star = "*" if self.kind == "var" else ""
        mark = "=..." if self.optional else ""
        kw = "kw " if self.kind == "kw" else ""
        return f"{kw}{star}{self.name}: {names}{mark}"


def _no_cost(*args: Value, **kwargs: Value) -> int:
    """nothing"""
    return 0


@record
class HostFn:
    """One allowed host function (see the module docstring)."""

    name: str
    fn: Callable[..., Value]
    args: tuple[Arg, ...]
    alloc: Callable[..., int]
    steps: Callable[..., int] = _no_cost
    result: str = "value"
    """``value`` (a plain value or one of the arguments) or ``ndarray`` (numpy, for klr's
    own host arrays)."""

    def listing(self) -> str:
        cost = f"alloc: {_doc(self.alloc)}"
        if self.steps is not _no_cost:
            cost += f"; steps: {_doc(self.steps)}"
        return f"{self.name}({', '.join(a.show() for a in self.args)}) -> {self.result}  [{cost}]"


def _doc(fn: Callable[..., object]) -> str:
    return (fn.__doc__ or fn.__name__).strip().splitlines()[0]


_ENTRIES: dict[str, HostFn] = {}
SMALL = 1024
"""Allocations of fewer bytes are not charged one by one (see ops.SMALL)."""


def host(name: str, fn: Callable[..., Value], args: tuple[Arg, ...], alloc: Callable[..., int],
         steps: Callable[..., int] = _no_cost, result: str = "value") -> HostFn:
    """Register (and return) the host function ``name``."""
    if name in _ENTRIES:
        raise ValueError(f"host function {name} registered twice")
    entry = HostFn(name, fn, args, alloc, steps, result)
    _ENTRIES[name] = entry
    return entry


def get(name: str) -> HostFn:
    return _ENTRIES[name]


def entries() -> Iterator[HostFn]:
    """Every allowed host function registered so far, sorted by name (the Python library's
    register when the tracer is imported, a front end's when it is: ``klr.tracer.entries``)."""
    return iter(sorted(_ENTRIES.values(), key=lambda e: e.name))


# --- calling ---------------------------------------------------------------------------------------


def call(ctx: Ctx, entry: HostFn, args: tuple[Value, ...], kwargs: dict[str, Value] | None = None) -> Value:
    """Check ``args`` against ``entry``, charge its cost, run it; a Python exception about
    the arguments becomes a TraceError naming the function."""
    pos: Value = args
    kw: dict[str, Value] = {}
    fast = _FAST.get(entry.name) or _fast(entry)
    types = fast[0]
    ok = not kwargs and types is not None and fast[1] <= len(args) <= len(types)
    if ok and types is not None:
        for v, t in zip(args, types):
            if t is None:   # ANY
                if type(v) not in _PLAIN and not isinstance(v, TraceObject):
                    ok = False
                    break
            elif type(v) not in t:
                ok = False
                break
    if not ok:
        pos, kw = _bind(ctx, entry, args, kwargs or {})
    if entry.alloc is not _no_cost:
        nbytes = entry.alloc(*pos, **kw)
        if nbytes > SMALL:   # smaller ones are measured periodically (limits.Budget.tick)
            ctx.alloc(nbytes)
    if entry.steps is not _no_cost:
        steps = entry.steps(*pos, **kw)
        if steps:
            ctx.spend(steps)
    try:
        result = entry.fn(*pos, **kw)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError, IndexError, KeyError) as e:
        raise ctx.error(f"{_display(entry.name)}(): {_message(e)}", python=type(e).__name__) from None
    if entry.result == "value" and type(result) not in _PLAIN and not isinstance(result, TraceObject):
        raise AssertionError(f"host function {entry.name} returned a {type(result).__name__}")
    return result


_PLAIN = frozenset({int, float, bool, str, type(None), tuple, list, dict, slice, range, type(Ellipsis)})


def is_value(v: Value) -> bool:
    """Whether ``v`` is a klr value (shallow: a plain value's elements are not looked at)."""
    return type(v) in _PLAIN or isinstance(v, TraceObject)


_FAST: dict[str, tuple[tuple[frozenset[type] | None, ...] | None, int]] = {}


def _fast(entry: HostFn) -> tuple[tuple[frozenset[type] | None, ...] | None, int]:
    """For the common call with positional arguments only: the types of each parameter (None
    for ANY), or None when ``_bind`` must check them; and the number of required ones."""
    simple = all(a.kind in ("pos", "any") and (a.types == (ANY,) or all(isinstance(t, type) for t in a.types))
                 for a in entry.args)
    types = tuple(None if a.types == (ANY,) else frozenset(t for t in a.types if isinstance(t, type))
                  for a in entry.args) if simple else None
    got = _FAST[entry.name] = (types, sum(1 for a in entry.args if not a.optional))
    return got


def _display(name: str) -> str:
    return name[len("builtins."):] if name.startswith("builtins.") else name


def _message(e: BaseException) -> str:
    """Python's message, which may quote an argument: cut short."""
    if isinstance(e, KeyError):
        return f"key {show.describe(e.args[0]) if e.args else ''} is not in the dict"
    text = str(e) or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _bind(ctx: Ctx, entry: HostFn, args: tuple[Value, ...],
          kwargs: dict[str, Value]) -> tuple[list[Value], dict[str, Value]]:
    name = _display(entry.name)
    pos: list[Value] = []
    kw: dict[str, Value] = {}
    it = iter(args)
    n_given = len(args)
    params = entry.args
    i = 0
    for a in params:
        if a.kind == "var":
            for v in it:
                pos.append(_checked(ctx, name, a, v))
            break
        if a.kind == "kw" or i >= n_given:
            continue
        pos.append(_checked(ctx, name, a, next(it)))
        i += 1
    if i < n_given and not any(a.kind == "var" for a in params):
        bound = 1 if params and params[0].name == "self" else 0   # a method's receiver is not counted
        limit = sum(1 for a in params if a.kind in ("pos", "any")) - bound
        raise ctx.error(f"{name}() takes at most {limit} argument{'s' * (limit != 1)} "
                        f"({n_given - bound} given)", python="TypeError")
    by_name = {a.name: a for a in params}
    taken = {a.name for a in params[:len(pos)]}
    for k, v in kwargs.items():
        found = by_name.get(k)
        if found is None or found.kind not in ("any", "kw"):
            raise ctx.error(f"{name}() got an unexpected keyword argument '{k}'", python="TypeError")
        if k in taken:
            raise ctx.error(f"{name}() got multiple values for argument '{k}'", python="TypeError")
        kw[k] = _checked(ctx, name, found, v)
    for j, a in enumerate(params):
        if not a.optional and a.kind != "var" and j >= len(pos) and a.name not in kw:
            raise ctx.error(f"{name}() missing required argument '{a.name}'", python="TypeError")
    return pos, kw


def _checked(ctx: Ctx, name: str, a: Arg, v: Value) -> Value:
    t = type(v)
    for spec in a.types:
        if spec is t:
            return v
        if isinstance(spec, Pred):
            if spec is KEY:
                return ops.hashable(ctx, v)
            if spec is ANY:
                if not is_value(v):
                    raise AssertionError(f"a {type(v).__name__} reached {name}()")
                return v
            if spec.test(v):
                return v
    raise ctx.error(f"{name}() argument '{a.name}' must be {_names(a.types)}, not {type_name(v)}",
                    python="TypeError")


def _names(types: TypeSpec) -> str:
    names = [t.name if isinstance(t, Pred) else "None" if t is type(None) else type_name_of(t)
             for t in types if t is not bool]
    return " or ".join(names)


# --- argument types and costs shared by the entries ---------------------------------------------

INT: TypeSpec = (int, bool)
NUM: TypeSpec = (int, float, bool)
STR: TypeSpec = (str,)
NONE = type(None)
OPT_INT: TypeSpec = (int, bool, NONE)
STR_TUPLE = Pred("tuple[str, ...]", lambda v: type(v) is tuple and all(type(x) is str for x in v))


def int_bytes(*xs: Value) -> int:
    """the size of its integer arguments"""
    return sum(x.bit_length() // 8 for x in xs if type(x) is int)


def mul_steps(bits_a: int, bits_b: int) -> int:
    """Steps of multiplying integers of these sizes (as ops.mul_steps)."""
    return (bits_a // 30 + 1) * (bits_b // 30 + 1) // 1000


def result_bits_steps(bits: float) -> int:
    """Steps of computing an integer of ``bits`` bits by products: a squaring of its size."""
    b = int(min(bits, 1e30))
    return mul_steps(b, b)


def log2_factorial(n: int) -> float:
    """log2(n!), the size in bits of ``math.factorial(n)``."""
    return math.lgamma(n + 1) / math.log(2) if n > 1 else 0.0
