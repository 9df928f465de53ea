"""Python semantics on traced values: operators, truth, iteration, attributes and items.

Plain values (values.py) follow Python's own semantics, computed by klr where Python's
implementation would walk a nested value without bound or call back into an element:

* Arithmetic and comparisons of two scalars (``int float bool str None``) are Python's own.
  Before Python builds a large result, its size is charged to the memory budget and its work
  to the step budget (``_charge``): sequence concatenation and repetition by length, big
  integers by bits, multiplication and division by the product of the operand sizes.
* Equality and ordering of lists, tuples and dicts (``equal``, ``compare``), membership
  (``contains``) and dict keys (``hashable``) walk the value in klr with an explicit depth
  (``Limits.max_nesting``). Inside containers, elements compare with ``==`` when they are
  scalars, containers, or TraceObjects whose ``compare`` is pure (user instances, enum
  members, sets); other TraceObjects (tensors, functions) compare by identity, so comparing
  two lists never emits a statement.
* ``str % args`` is klr's formatting (formatting.py); ``repr``/``str`` are show.py's; the
  attributes of plain values are pymethods.py's (``pymethods.getattr_``).

TraceObjects are handled by their protocol methods. Python exceptions raised by bad user
operands become TraceErrors at ``ctx.pos``; each function catches only around the single
Python operation on user values, so a bug in klr still surfaces as itself.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from klr.tracer import show
from klr.tracer.formatting import percent
from klr.tracer.templates import consume, forbid, made
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.pos import Pos
    from klr.tracer.context import Ctx

BINOPS: dict[str, Callable[[Value, Value], Value]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
    "&": operator.and_, "|": operator.or_, "^": operator.xor, "<<": operator.lshift,
    ">>": operator.rshift,
}

COMPARES: dict[str, Callable[[Value, Value], Value]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}

MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

UNOPS: dict[str, Callable[[Value], Value]] = {"-": operator.neg, "+": operator.pos, "~": operator.invert}

SCALARS: frozenset[type] = frozenset({int, float, bool, str, type(None)})
"""Values whose comparisons and hashing never recurse or call back into klr."""
_INTS = (int, bool)
_SEQUENCES = (list, tuple)
_BIG = 1 << 62
"""Integer arithmetic below this magnitude is not charged."""
SMALL = 1024
"""Values of fewer elements are not charged one by one: the periodic measurement of the
process's memory (limits.Budget.tick) accounts for them."""
_GROWS = frozenset({"**", "<<"})
"""Operators whose result may be far larger than small operands."""
_MISSING: Value = object()


# --- costs ---------------------------------------------------------------------------------------


def str_bytes(*parts: str) -> int:
    """Bytes of a string made of ``parts``: one per character, four unless all are ASCII."""
    n = sum(map(len, parts))
    return n if all(p.isascii() for p in parts) else 4 * n


def mul_steps(bits_a: int, bits_b: int) -> int:
    """Steps of multiplying (or dividing) integers of these sizes: the product of their
    sizes in 30-bit digits, a thousand digit products per step."""
    return (bits_a // 30 + 1) * (bits_b // 30 + 1) // 1000


def _charge(ctx: Ctx, op: str, a: Value, b: Value) -> None:
    """Charge ``a op b`` on plain values to the budgets before Python computes it."""
    ta, tb = type(a), type(b)
    if ta in _INTS and tb in _INTS:
        _charge_int(ctx, op, a, b)
    elif op == "+":
        if ta is tb and (ta is str or ta in _SEQUENCES):
            size = len(a) + len(b)
            if size > SMALL:
                ctx.alloc(str_bytes(a, b) if ta is str else 8 * size)
    elif op == "*":
        seq, n = (a, b) if tb in _INTS else (b, a)
        if type(n) in _INTS and n > 1 and (type(seq) is str or type(seq) in _SEQUENCES):
            size = len(seq) * n
            if size > SMALL:
                ctx.alloc(str_bytes(seq) * n if type(seq) is str else 8 * size)


def _charge_int(ctx: Ctx, op: str, a: int, b: int) -> None:
    """(py_binop charges only big operands, and the operators that grow small ones.)"""
    la, lb = a.bit_length(), b.bit_length()
    if op in ("+", "-", "&", "|", "^", ">>"):
        ctx.alloc(max(la, lb) // 8 + 8)
    elif op == "*":
        ctx.alloc((la + lb) // 8 + 8)
        ctx.spend(mul_steps(la, lb))
    elif op in ("//", "%", "/"):
        ctx.spend(mul_steps(la, lb))
    elif op == "**":
        if b > 1 and la > 1:
            bits = b * la  # at least the result's size
            ctx.alloc(bits // 8 + 8)
            ctx.spend(mul_steps(bits, bits) // 3)   # the squarings, the last one dominating
    elif op == "<<" and b > 0 and a:
        ctx.alloc((la + b) // 8 + 8)


# --- operators -----------------------------------------------------------------------------------


def _operand_error(ctx: Ctx, op: str, a: Value, b: Value) -> Exception:
    return ctx.error(f"unsupported operand types for {op}: '{type_name(a)}' and '{type_name(b)}'",
                     python="TypeError")


def py_binop(ctx: Ctx, op: str, a: Value, b: Value) -> Value:
    """``a op b`` on two plain values."""
    if not (type(a) is int and type(b) is int and -_BIG < a < _BIG and -_BIG < b < _BIG and op not in _GROWS):
        _charge(ctx, op, a, b)
    try:
        return BINOPS[op](a, b)
    except ZeroDivisionError:
        raise ctx.error("division by zero" if op != "%" else "modulo by zero",
                        python="ZeroDivisionError") from None
    except TypeError:
        raise _operand_error(ctx, op, a, b) from None
    except (ValueError, OverflowError) as e:
        raise ctx.error(f"invalid operands for {op}: {e}", python="ValueError") from None


def binop(ctx: Ctx, op: str, a: Value, b: Value) -> Value:
    """``a op b`` for any traced values."""
    if op == "%" and type(a) is str:   # str.__mod__ formats whatever the right operand is
        return percent(ctx, a, b)
    if isinstance(a, TraceObject):
        r = a.binop(ctx, op, b, False)
        if r is not NotImplemented:
            return r
        if isinstance(b, TraceObject):
            r = b.binop(ctx, op, a, True)
            if r is not NotImplemented:
                return r
        raise _operand_error(ctx, op, a, b)
    if isinstance(b, TraceObject):
        r = b.binop(ctx, op, a, True)
        if r is not NotImplemented:
            return r
        raise _operand_error(ctx, op, a, b)
    return py_binop(ctx, op, a, b)


def inplace(ctx: Ctx, op: str, a: Value, b: Value) -> Value:
    """``a op= b``: the new value of the target. Lists extend in place as in Python."""
    if isinstance(a, TraceObject):
        r = a.inplace(ctx, op, b)
        if r is not NotImplemented:
            return r
        return binop(ctx, op, a, b)
    if type(a) is list and op == "+":
        if ctx.template is not None:
            raise forbid("list +=")
        if (type(b) in SCALARS and type(b) is not str) or type(b) is slice:
            raise ctx.error(f"can only extend a list by an iterable, not '{type_name(b)}'",
                            python="TypeError")
        items = materialise(ctx, b, "list +=")
        ctx.alloc(len(items) * 8)
        a += items
        return a
    return binop(ctx, op, a, b)


def unop(ctx: Ctx, op: str, a: Value) -> Value:
    """``-a``, ``+a`` or ``~a``."""
    if isinstance(a, TraceObject):
        return a.unop(ctx, op)
    if type(a) is int and not -_BIG < a < _BIG:
        ctx.alloc(a.bit_length() // 8 + 8)
    try:
        return UNOPS[op](a)
    except TypeError:
        raise ctx.error(f"bad operand type for unary {op}: '{type_name(a)}'", python="TypeError") from None


# --- comparisons ---------------------------------------------------------------------------------


def compare(ctx: Ctx, op: str, a: Value, b: Value) -> Value:
    """``a op b`` for a comparison op (``< <= > >= == !=``)."""
    if isinstance(a, TraceObject):
        r = a.compare(ctx, op, b, False)
        if r is not NotImplemented:
            return r
        if isinstance(b, TraceObject):
            r = b.compare(ctx, MIRROR[op], a, True)
            if r is not NotImplemented:
                return r
    elif isinstance(b, TraceObject):
        r = b.compare(ctx, MIRROR[op], a, True)
        if r is not NotImplemented:
            return r
    elif type(a) in SCALARS and type(b) in SCALARS:
        try:
            return COMPARES[op](a, b)
        except TypeError:
            pass
    else:
        if op == "==":
            return _equal(ctx, a, b, 0)
        if op == "!=":
            return not _equal(ctx, a, b, 0)
        r = _order(ctx, op, a, b, 0)
        if r is not NotImplemented:
            return r
    if op == "==":
        return a is b
    if op == "!=":
        return a is not b
    raise ctx.error(f"'{op}' is not supported between '{type_name(a)}' and '{type_name(b)}'",
                    python="TypeError")


def equal(ctx: Ctx, a: Value, b: Value) -> bool:
    """``a == b`` as a bool, the way containers compare their elements (module docstring)."""
    if a is b:
        return True
    if type(a) in SCALARS and type(b) in SCALARS:
        return bool(a == b)
    return _equal(ctx, a, b, 0)


def nesting_error(ctx: Ctx, what: str) -> Exception:
    return ctx.limit(f"cannot {what} a value nested more than {ctx.limits.max_nesting} deep", "max_nesting")


def _equal(ctx: Ctx, a: Value, b: Value, depth: int) -> bool:
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta in SCALARS and tb in SCALARS:
        return bool(a == b)
    if depth >= ctx.limits.max_nesting:
        raise nesting_error(ctx, "compare")
    if ta is list or ta is tuple:
        if tb is not ta or len(a) != len(b):
            return False
        ctx.spend(len(a) >> 6)
        return all(x is y or _equal(ctx, x, y, depth + 1) for x, y in zip(a, b))
    if ta is dict:
        if tb is not dict or len(a) != len(b):
            return False
        ctx.spend(len(a) >> 6)
        for k, x in a.items():
            y = b.get(k, _MISSING)   # k is a key already: hashing it is safe
            if y is _MISSING or not (x is y or _equal(ctx, x, y, depth + 1)):
                return False
        return True
    if isinstance(a, TraceObject) or isinstance(b, TraceObject):
        return _object_equal(ctx, a, b)
    if ta is slice and tb is slice:
        return all(_equal(ctx, x, y, depth + 1) for x, y in zip(_fields(a), _fields(b)))
    if ta is range and tb is range:
        return bool(a == b)
    return False


def _fields(s: slice) -> tuple[Value, Value, Value]:
    return s.start, s.stop, s.step


def _object_equal(ctx: Ctx, a: Value, b: Value) -> bool:
    """``a == b`` where one is a TraceObject: its ``compare`` when pure, else identity."""
    if isinstance(a, TraceObject) and a.pure_compare:
        r = a.compare(ctx, "==", b, False)
        if r is not NotImplemented:
            return truth(ctx, r)
    if isinstance(b, TraceObject) and b.pure_compare:
        r = b.compare(ctx, "==", a, True)
        if r is not NotImplemented:
            return truth(ctx, r)
    return False


def _order(ctx: Ctx, op: str, a: Value, b: Value, depth: int) -> Value:
    """``a op b`` for an ordering op on two plain values that are not both scalars."""
    ta = type(a)
    if ta is slice and type(b) is slice:
        a, b, ta = _fields(a), _fields(b), tuple
    if ta is not type(b) or (ta is not list and ta is not tuple):
        return NotImplemented
    if depth >= ctx.limits.max_nesting:
        raise nesting_error(ctx, "compare")
    for x, y in zip(a, b):
        if not (x is y or _equal(ctx, x, y, depth + 1)):
            if type(x) in SCALARS and type(y) in SCALARS:
                return compare(ctx, op, x, y)
            if isinstance(x, TraceObject) or isinstance(y, TraceObject):
                return compare(ctx, op, x, y)
            r = _order(ctx, op, x, y, depth + 1)
            if r is NotImplemented:
                raise ctx.error(f"'{op}' is not supported between '{type_name(x)}' and '{type_name(y)}'",
                                python="TypeError")
            return r
    return COMPARES[op](len(a), len(b))


def sort_values(ctx: Ctx, xs: list[Value], key: Value, reverse: bool) -> list[Value]:
    """``sorted(xs, key=key, reverse=reverse)`` with ``key`` any traced callable: Python's
    stable sort, ordering with ``<`` as ``compare`` defines it."""
    keys = xs if key is None else [call(ctx, key, (x,), {}) for x in xs]
    n = len(keys)
    ctx.spend(n * n.bit_length() >> 4)
    ctx.alloc(16 * n)
    kinds = {type(k) for k in keys}
    if kinds <= {int, float, bool} or kinds == {str}:   # Python's own order, and it cannot fail
        if key is None:
            return sorted(xs, reverse=reverse)
        by: Callable[[int], Value] = keys.__getitem__
    else:
        def by(i: int) -> Value:
            return _SortKey(ctx, keys[i])
    order = sorted(range(n), key=by, reverse=reverse)
    return [xs[i] for i in order]


class _SortKey:
    """A key whose ``<`` is ``compare`` (Python's sort only uses ``<``)."""

    __slots__ = ("ctx", "v")

    def __init__(self, ctx: Ctx, v: Value) -> None:
        self.ctx = ctx
        self.v = v

    def __lt__(self, other: _SortKey) -> bool:
        return truth(self.ctx, compare(self.ctx, "<", self.v, other.v))


# --- containers ------------------------------------------------------------------------------------


def hashable(ctx: Ctx, key: Value) -> Value:
    """``key`` if it can be a dict key or set element (checked in klr: nested tuples to
    ``max_nesting``), else an error."""
    t = type(key)
    if t in SCALARS:
        return key
    if t is tuple:
        _check_tuple_key(ctx, key, 0)
        return key
    if (isinstance(key, TraceObject) and type(key).__hash__ is not None) or t is range or key is Ellipsis:
        return key
    raise ctx.error(f"unhashable type: '{type_name(key)}'", python="TypeError")


def _check_tuple_key(ctx: Ctx, key: tuple[Value, ...], depth: int) -> None:
    if depth >= ctx.limits.max_nesting:
        raise nesting_error(ctx, "hash")
    for x in key:
        t = type(x)
        if t in SCALARS:
            continue
        if t is tuple:
            _check_tuple_key(ctx, x, depth + 1)
        else:
            hashable(ctx, x)


def contains(ctx: Ctx, container: Value, item: Value) -> bool:
    """``item in container``."""
    if isinstance(container, TraceObject):
        return container.contains(ctx, item)
    t = type(container)
    if t is str:
        if type(item) is not str:
            raise ctx.error("'in <string>' requires a string as left operand, "
                            f"not '{type_name(item)}'", python="TypeError")
        ctx.spend(len(container) * min(len(item), 100) >> 12)
        return item in container
    if t is dict:
        return hashable(ctx, item) in container
    if t is range:
        return _in_range(item, container)
    if t is list or t is tuple or isinstance(container, Iterator):
        if ctx.template is not None and t is not list and t is not tuple:
            consume(ctx.template, container)
        if t is list or t is tuple:
            ctx.spend(len(container) >> 6)
        scalar = type(item) in SCALARS
        for x in container:   # an iterator is consumed up to the match, as in Python
            if x is item:
                return True
            if scalar and type(x) in SCALARS:
                if x == item:
                    return True
            elif _equal(ctx, item, x, 0):
                return True
        return False
    raise ctx.error(f"argument of type '{type_name(container)}' is not iterable", python="TypeError")


def _in_range(item: Value, r: range) -> bool:
    if type(item) in _INTS:
        return item in r
    if type(item) is float and item.is_integer():
        return int(item) in r
    return False


def materialise(ctx: Ctx, v: Value, what: str) -> list[Value]:
    """The elements of an iterable as a new list, charged to the budgets as they come."""
    if type(v) is range:
        n = range_len(ctx, v)
        ctx.alloc(n * 40)   # a reference and an int object per element
        return list(v)
    if type(v) is list or type(v) is tuple:
        ctx.alloc(len(v) * 8)
        return list(v)
    out: list[Value] = []
    for x in iterate(ctx, v):   # (no user code runs between two elements: nothing can change v)
        out.append(x)
        if not len(out) & 1023:
            ctx.alloc(8 * 1024)
            ctx.spend(1024 >> 4)
    return out


def changed_size(ctx: Ctx, e: RuntimeError, what: str, pos: Pos | None = None) -> Exception:
    """The error of a dict or set (``what``) mutated while it is iterated (Python's
    RuntimeError); any other RuntimeError is re-raised."""
    if "changed size during iteration" not in str(e):
        raise e
    return ctx.error(f"{what} changed size during iteration", pos)


def range_len(ctx: Ctx, r: range) -> int:
    try:
        return len(r)
    except OverflowError:
        raise ctx.error("a range this long has no len()", python="OverflowError") from None


# --- protocol ----------------------------------------------------------------------------------


def truth(ctx: Ctx, v: Value) -> bool:
    """``bool(v)`` (Python rules: empty containers, 0 and None are false)."""
    if isinstance(v, TraceObject):
        return v.truth(ctx)
    return bool(v)


def iterate(ctx: Ctx, v: Value) -> Iterator[Value]:
    """``iter(v)``."""
    if isinstance(v, TraceObject):
        return v.iterate(ctx)
    try:
        if ctx.template is not None:   # a loop template's probe: the iterators it may consume
            if isinstance(v, Iterator):
                consume(ctx.template, v)
            return made(ctx.template, iter(v))
        return iter(v)
    except TypeError:
        raise ctx.error(f"'{type_name(v)}' object is not iterable", python="TypeError") from None


def length(ctx: Ctx, v: Value) -> int:
    """``len(v)``."""
    if isinstance(v, TraceObject):
        return v.length(ctx)
    if type(v) is range:
        return range_len(ctx, v)
    try:
        return len(v)
    except TypeError:
        raise ctx.error(f"object of type '{type_name(v)}' has no len()", python="TypeError") from None


def call(ctx: Ctx, f: Value, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
    """``f(*args, **kwargs)``."""
    if isinstance(f, TraceObject):
        return f.call(ctx, args, kwargs)
    raise ctx.error(f"'{type_name(f)}' object is not callable", python="TypeError")


def getitem(ctx: Ctx, v: Value, key: Value) -> Value:
    """``v[key]``."""
    if isinstance(v, TraceObject):
        return v.getitem(ctx, key)
    t = type(v)
    if t is dict:
        got = v.get(hashable(ctx, key), _MISSING)
        if got is _MISSING:
            err = ctx.error(f"key {show.describe(key)} is not in the dict", python="KeyError")
            err.python_args = (key,)
            raise err
        return got
    if type(key) is slice and (t is list or t is tuple or t is str):
        try:
            n = len(range(*key.indices(len(v))))
        except (TypeError, ValueError) as e:
            raise ctx.error(f"invalid slice: {e}", python="ValueError") from None
        ctx.alloc(n * (8 if t is not str else 4))
    try:
        return v[key]
    except IndexError:
        raise ctx.error(f"index {show.describe(key)} is out of range for a {type_name(v)} "
                        f"of length {length(ctx, v)}", python="IndexError") from None
    except TypeError:
        raise ctx.error(_index_type_error(v, key), python="TypeError") from None


def setitem(ctx: Ctx, v: Value, key: Value, value: Value) -> None:
    """``v[key] = value``."""
    if isinstance(v, TraceObject):
        v.setitem(ctx, key, value)
        return
    t = type(v)
    if ctx.template is not None and (t is dict or t is list):
        raise forbid("an item store")
    if t is dict:
        v[hashable(ctx, key)] = value
        return
    if t is not list:
        raise ctx.error(f"'{type_name(v)}' object does not support item assignment", python="TypeError")
    if type(key) is slice:
        value = materialise(ctx, value, "slice assignment")
    try:
        v[key] = value
    except IndexError:
        raise ctx.error(f"index {show.describe(key)} is out of range for a list of length {len(v)}",
                        python="IndexError") from None
    except TypeError:
        raise ctx.error(_index_type_error(v, key), python="TypeError") from None
    except ValueError as e:
        raise ctx.error(f"invalid slice assignment: {e}", python="ValueError") from None


def _index_type_error(v: Value, key: Value) -> str:
    if isinstance(v, (list, tuple, str, range)):
        return f"{type_name(v)} indices must be integers or slices, not {type_name(key)}"
    return f"'{type_name(v)}' object is not subscriptable"


def to_str(ctx: Ctx, v: Value) -> str:
    """``str(v)``; user objects with ``__str__``/``__repr__`` methods are honoured."""
    return v if type(v) is str else show.to_str(ctx, v)


def to_repr(ctx: Ctx, v: Value) -> str:
    """``repr(v)``."""
    return show.to_repr(ctx, v)

