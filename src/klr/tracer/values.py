"""The tracer's value domain.

A traced program only ever sees klr's own values, and no path leads from one of them to a
host Python object (docs/trace.md, "Security model"):

* **Plain values**, represented by the Python objects themselves: ``int``, ``float``,
  ``bool``, ``str``, ``None``, ``tuple``, ``list``, ``dict``, ``slice``, ``Ellipsis``,
  ``range``, ``NotImplemented`` and the iterators klr's builtins return. Lists and dicts are
  shared by reference exactly as in Python, so mutation through an alias is visible
  everywhere. Their attributes and methods are only those on the allow-list (host.py,
  pymethods.py); their operators, comparisons, ``repr`` and hashing are klr's (ops.py,
  show.py, formatting.py).
* **TraceObjects**: everything else. Tensors and index tiles (the NKI layer), modules,
  builtin functions, sets and dict views (sets.py), and the evaluator's user functions,
  classes, instances and enum members.

The evaluator never looks inside a TraceObject; it calls the protocol methods below, each of
which receives the ``Ctx`` of the running kernel (``ctx.pos`` is the position of the
expression being evaluated) and raises ``ctx.error(...)`` for bad input. A TraceObject's
Python-level dunders are never reached by kernels except ``__repr__`` (which must not show
an address), ``__hash__``/``__eq__`` (identity unless the class defines them, for dict keys)
and ``__index__`` (int-like enum members, when Python indexes a sequence).

Conventions every method follows:

* ``op`` strings: binary ``+ - * / // % ** @ & | ^ << >>``; comparisons
  ``< <= > >= == !=``; unary ``- + ~``.
* ``binop``/``compare`` return ``NotImplemented`` when they do not handle the operand
  combination; the evaluator then tries the other operand (``reflected=True`` means ``self`` is
  the right operand: ``other op self``) and finally reports
  "unsupported operand types for +: 'tensor' and 'str'".
* A method that is not supported raises the TraceError produced by the default
  implementation, which names the type (``type_name``) and the operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["TraceObject", "type_name", "type_name_of", "Value"]

Value = Any
"""A traced value: a plain Python value or a TraceObject."""


class TraceObject:
    """Base class of every non-Python value the tracer handles.

    Subclasses set ``type_name`` (used in every message about the value) and override the
    methods they support. ``__repr__`` is what ``str()``, f-strings and ``print`` show.
    """

    __slots__ = ()

    type_name: ClassVar[str] = "object"

    pure_compare: ClassVar[bool] = False
    """True when ``compare`` has no side effect (emits nothing): containers then use it to
    compare their elements (``[a] == [b]``); otherwise elements compare by identity."""

    dynamic: ClassVar[bool] = False
    """True for runtime values (e.g. a register scalar): ``if``/``while`` tests and ``for``
    iterables that are dynamic are handed to ``branch``/``repeat``/``loop`` instead of being
    decided at trace time."""

    # --- attributes and items ------------------------------------------------------------

    def getattr(self, ctx: Ctx, name: str) -> Value:
        """``self.name``. Methods are returned as bound callables (see ``registry.method``)."""
        raise ctx.error(f"'{self.type_name}' object has no attribute '{name}'", python="AttributeError")

    def setattr(self, ctx: Ctx, name: str, value: Value) -> None:
        """``self.name = value``."""
        raise ctx.error(f"cannot set attribute '{name}' of a '{self.type_name}' object",
                        python="AttributeError")

    def getitem(self, ctx: Ctx, key: Value) -> Value:
        """``self[key]``; ``key`` is a tuple for ``self[a, b]``; slices arrive as ``slice``
        objects whose fields are evaluated values (``None`` when omitted)."""
        raise ctx.error(f"'{self.type_name}' object is not subscriptable", python="TypeError")

    def setitem(self, ctx: Ctx, key: Value, value: Value) -> None:
        """``self[key] = value``."""
        raise ctx.error(f"'{self.type_name}' object does not support item assignment", python="TypeError")

    # --- operators -----------------------------------------------------------------------

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        """``self op other`` (or ``other op self`` when ``reflected``), or NotImplemented."""
        return NotImplemented

    def inplace(self, ctx: Ctx, op: str, other: Value) -> Value:
        """``self op= other``; also used for ``x[i] op= y`` on the value read from ``x[i]``.

        Returns the new value, which the evaluator then stores back into the target (a name
        is rebound, ``x[i] op= y`` calls ``x.setitem(i, result)``). An implementation that
        mutates in place returns ``self``. Defaults to ``binop``.
        """
        return self.binop(ctx, op, other, False)

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        """``self op other`` for a comparison op, or NotImplemented.

        The default gives identity semantics for ``==``/``!=`` and NotImplemented for order.
        When ``reflected``, ``op`` has already been mirrored (``a < b`` becomes
        ``b.compare('>', a, reflected=True)``).
        """
        if op == "==":
            return self is other
        if op == "!=":
            return self is not other
        return NotImplemented

    def unop(self, ctx: Ctx, op: str) -> Value:
        """``-self``, ``+self`` or ``~self``; for a ``dynamic`` value also ``not self``."""
        raise ctx.error(f"bad operand type for unary {op}: '{self.type_name}'", python="TypeError")

    def contains(self, ctx: Ctx, item: Value) -> bool:
        """``item in self``. Defaults to a search through ``iterate``."""
        return any(x is item or x == item for x in self.iterate(ctx))

    # --- calls, truth, iteration ---------------------------------------------------------

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        """``self(*args, **kwargs)``."""
        raise ctx.error(f"'{self.type_name}' object is not callable", python="TypeError")

    def truth(self, ctx: Ctx) -> bool:
        """``bool(self)``, as in ``if self:``. Objects are true by default."""
        return True

    def iterate(self, ctx: Ctx) -> Iterator[Value]:
        """``iter(self)``: a Python iterator over the elements."""
        raise ctx.error(f"'{self.type_name}' object is not iterable", python="TypeError")

    def length(self, ctx: Ctx) -> int:
        """``len(self)``."""
        raise ctx.error(f"object of type '{self.type_name}' has no len()", python="TypeError")

    # --- dynamic (runtime) control flow -------------------------------------------------

    def branch(self, ctx: Ctx, then_: Callable[[], None], else_: Callable[[], None]) -> None:
        """Trace ``if self: then_() else: else_()`` for a ``dynamic`` test.

        ``then_``/``else_`` trace the branch bodies into the current block; the
        implementation opens and closes blocks around them (``ctx.begin_block``) and emits
        the branches. ``break``/``continue``/``return`` inside are rejected by the evaluator.
        """
        raise ctx.error(f"a '{self.type_name}' value cannot be used as a condition")

    def loop(self, ctx: Ctx, body: Callable[[Value], None]) -> None:
        """Trace ``for x in self: body`` for a ``dynamic`` iterable: call ``body(x)`` once
        with the runtime loop variable (already bound by the evaluator) inside the loop blocks."""
        raise ctx.error(f"'{self.type_name}' object is not iterable", python="TypeError")

    def repeat(self, ctx: Ctx, retest: Callable[[], Value], body: Callable[[], None]) -> None:
        """Trace ``while self: body()`` for a ``dynamic`` test: ``body()`` traces the loop's
        body, ``retest()`` evaluates the test again (where the loop checks it next)."""
        raise ctx.error(f"a '{self.type_name}' value cannot be used as a condition")

    # --- with-statements -----------------------------------------------------------------

    def enter(self, ctx: Ctx) -> Value:
        """``with self as v:`` entry; the result is bound to ``v``."""
        raise ctx.error(f"'{self.type_name}' object does not support the context manager protocol")

    def exit(self, ctx: Ctx) -> None:
        """``with`` exit (also run when the body raises a KlrError)."""

    # --- formatting -----------------------------------------------------------------------

    def int_value(self) -> int | None:
        """The int this value stands for in arithmetic and formatting (an ``IntEnum`` member),
        else None."""
        return None

    def user_format(self, ctx: Ctx, spec: str) -> str | None:
        """What a user ``__format__(spec)`` returns, or None when the value has none."""
        return None

    # --- printing ---------------------------------------------------------------------------
    # ``repr(v)``/``str(v)`` of a TraceObject (show.py) is, in order of preference: its
    # ``to_repr(ctx)``/``to_str(ctx)`` when the class defines them (user code may run); its
    # ``repr_parts(ctx) -> (head, [(label, value)...], tail) | None`` when the class defines it
    # (a container: klr prints the values); else ``__repr__``, which must not run user code.

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


_PY_TYPE_NAMES: dict[type, str] = {
    type(None): "NoneType", bool: "bool", int: "int", float: "float", str: "str",
    tuple: "tuple", list: "list", dict: "dict", slice: "slice", type(Ellipsis): "ellipsis",
    range: "range", type(NotImplemented): "NotImplementedType",
}


def type_name(v: Value) -> str:
    """The type name of a traced value, as messages print it (``int``, ``tensor``, ...)."""
    if isinstance(v, TraceObject):
        return v.type_name
    return type_name_of(type(v))


def type_name_of(t: type) -> str:
    """The name messages use for the values of Python type ``t``."""
    return _PY_TYPE_NAMES.get(t) or t.__name__
