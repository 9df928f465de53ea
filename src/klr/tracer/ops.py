"""Python semantics on traced values: operators, truth, iteration, attributes and items.

Plain Python values are handled by Python's own operators (so ``//`` and ``%`` floor, ``/``
is true division, ints are unbounded); TraceObjects by their protocol methods (values.py).
Python exceptions raised by bad user operands (ZeroDivisionError, TypeError, IndexError,
KeyError, ValueError, OverflowError) become TraceErrors at ``ctx.pos``. Each function catches
only around the single Python operation on user values, so a bug in klr still surfaces as
itself.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
    "&": operator.and_, "|": operator.or_, "^": operator.xor, "<<": operator.lshift,
    ">>": operator.rshift,
}

COMPARES: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}

MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

UNOPS: dict[str, Callable[[Any], Any]] = {"-": operator.neg, "+": operator.pos, "~": operator.invert}

MAX_SEQUENCE = 10_000_000
"""Longest list, tuple or string a trace may build by ``*`` (a LimitError beyond)."""
MAX_INT_BITS = 1_000_000
"""Largest integer (in bits) ``**`` and ``<<`` may produce (a LimitError beyond)."""


def _operand_error(ctx: Ctx, op: str, a: Value, b: Value) -> Exception:
    return ctx.error(f"unsupported operand types for {op}: '{type_name(a)}' and '{type_name(b)}'")


def _check_size(ctx: Ctx, op: str, a: Value, b: Value) -> None:
    """Refuse operations whose result would be absurdly large before Python computes it."""
    if op == "*":
        seq, n = (a, b) if isinstance(b, int) else (b, a)
        if isinstance(seq, (list, tuple, str)) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
            raise ctx.limit(f"the result of * would have more than {MAX_SEQUENCE} elements")
    elif op == "**":
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 \
                and b * a.bit_length() > MAX_INT_BITS:
            raise ctx.limit(f"the result of ** would have more than {MAX_INT_BITS} bits")
    elif op == "<<" and isinstance(a, int) and isinstance(b, int) and b + a.bit_length() > MAX_INT_BITS:
        raise ctx.limit(f"the result of << would have more than {MAX_INT_BITS} bits")


def py_binop(ctx: Ctx, op: str, a: Value, b: Value) -> Value:
    """``a op b`` on two Python values."""
    if op in ("*", "**", "<<"):
        _check_size(ctx, op, a, b)
    try:
        return BINOPS[op](a, b)
    except ZeroDivisionError:
        raise ctx.error("division by zero" if op != "%" else "modulo by zero") from None
    except TypeError:
        raise _operand_error(ctx, op, a, b) from None
    except (ValueError, OverflowError) as e:
        raise ctx.error(f"invalid operands for {op}: {e}") from None


def binop(ctx: Ctx, op: str, a: Value, b: Value) -> Value:
    """``a op b`` for any traced values."""
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
    if isinstance(a, list) and op == "+":
        try:
            a += b
        except TypeError:
            raise ctx.error(f"can only extend a list by an iterable, not '{type_name(b)}'") from None
        return a
    return binop(ctx, op, a, b)


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
    else:
        try:
            return COMPARES[op](a, b)
        except TypeError:
            pass
    if op == "==":
        return a is b
    if op == "!=":
        return a is not b
    raise ctx.error(f"'{op}' is not supported between '{type_name(a)}' and '{type_name(b)}'")


def contains(ctx: Ctx, container: Value, item: Value) -> bool:
    """``item in container``."""
    if isinstance(container, TraceObject):
        return container.contains(ctx, item)
    try:
        return item in container
    except TypeError:
        if isinstance(container, str):
            raise ctx.error("'in <string>' requires a string as left operand, "
                            f"not '{type_name(item)}'") from None
        if isinstance(container, dict):
            raise ctx.error(f"unhashable type: '{type_name(item)}'") from None
        raise ctx.error(f"argument of type '{type_name(container)}' is not iterable") from None


def unop(ctx: Ctx, op: str, a: Value) -> Value:
    """``-a``, ``+a`` or ``~a``."""
    if isinstance(a, TraceObject):
        return a.unop(ctx, op)
    try:
        return UNOPS[op](a)
    except TypeError:
        raise ctx.error(f"bad operand type for unary {op}: '{type_name(a)}'") from None


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
        return iter(v)
    except TypeError:
        raise ctx.error(f"'{type_name(v)}' object is not iterable") from None


def length(ctx: Ctx, v: Value) -> int:
    """``len(v)``."""
    if isinstance(v, TraceObject):
        return v.length(ctx)
    try:
        return len(v)
    except TypeError:
        raise ctx.error(f"object of type '{type_name(v)}' has no len()") from None


def call(ctx: Ctx, f: Value, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
    """``f(*args, **kwargs)``."""
    if isinstance(f, TraceObject):
        return f.call(ctx, args, kwargs)
    raise ctx.error(f"'{type_name(f)}' object is not callable")


def getitem(ctx: Ctx, v: Value, key: Value) -> Value:
    """``v[key]``."""
    if isinstance(v, TraceObject):
        return v.getitem(ctx, key)
    try:
        return v[key]
    except IndexError:
        raise ctx.error(f"index {to_str(ctx, key)} is out of range for a {type_name(v)} "
                        f"of length {len(v)}") from None
    except KeyError:
        raise ctx.error(f"key {_repr(ctx, key)} is not in the dict") from None
    except TypeError:
        raise ctx.error(_index_type_error(v, key)) from None
    except ValueError as e:
        raise ctx.error(f"invalid index: {e}") from None


def setitem(ctx: Ctx, v: Value, key: Value, value: Value) -> None:
    """``v[key] = value``."""
    if isinstance(v, TraceObject):
        v.setitem(ctx, key, value)
        return
    if not isinstance(v, (list, dict)):
        raise ctx.error(f"'{type_name(v)}' object does not support item assignment")
    try:
        v[key] = value
    except IndexError:
        raise ctx.error(f"index {to_str(ctx, key)} is out of range for a list of length {len(v)}") from None
    except TypeError:
        raise ctx.error(_index_type_error(v, key)) from None
    except ValueError as e:
        raise ctx.error(f"invalid slice assignment: {e}") from None


def _index_type_error(v: Value, key: Value) -> str:
    if isinstance(v, dict):
        return f"unhashable type: '{type_name(key)}'"
    if isinstance(v, (list, tuple, str, range)):
        return f"{type_name(v)} indices must be integers or slices, not {type_name(key)}"
    return f"'{type_name(v)}' object is not subscriptable"


def getattr_(ctx: Ctx, v: Value, name: str) -> Value:
    """``v.name``: TraceObject attributes, or the supported attributes and methods of Python values."""
    if isinstance(v, TraceObject):
        return v.getattr(ctx, name)
    from klr.tracer.pymethods import python_attr
    return python_attr(ctx, v, name)


def to_str(ctx: Ctx, v: Value) -> str:
    """``str(v)``; user objects with ``__str__``/``__repr__`` methods are honoured."""
    if isinstance(v, str):
        return v
    show = getattr(v, "to_str", None)
    if show is not None and isinstance(v, TraceObject):
        return str(show(ctx))
    return str(v)


def _repr(ctx: Ctx, v: Value) -> str:
    show = getattr(v, "to_repr", None)
    if show is not None and isinstance(v, TraceObject):
        return str(show(ctx))
    return repr(v)


def to_repr(ctx: Ctx, v: Value) -> str:
    """``repr(v)``."""
    return _repr(ctx, v)
