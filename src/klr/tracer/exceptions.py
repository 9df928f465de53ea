"""Exceptions: Python's exception classes as klr classes, ``raise``, and what ``except`` catches.

Python's exception classes (``Exception``, ``ValueError``, ...) are klr ``ClassValue``s whose
methods are klr's own (``NativeMethod``), so a kernel subclasses them like any class and
their instances are ordinary klr ``Instance``s holding ``args``. A raised exception travels
as a ``TraceError`` (Python's own exception mechanism unwinds the evaluator); what a kernel
may catch is decided by ``TraceError.python`` alone:

* ``Raised``: an exception the kernel's ``raise`` or ``assert`` produced, carrying its value;
* a ``TraceError`` with ``python`` set: an error klr reports for a Python-level operation,
  modelled as that Python exception (``KeyError`` for a missing dict key, ...); ``except``
  sees a fresh instance of the class, whose ``args`` are the message;
* every other error (NKI shape and dtype errors, unsupported constructs, limits, internal
  errors) has ``python`` None and cannot be caught: no handler and no ``finally`` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.errors import TraceError
from klr.pos import Pos
from klr.tracer import ops, show
from klr.tracer.objects import ClassKind, ClassValue, Instance, NativeMethod
from klr.tracer.registry import Dialect, constant
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["BASE", "CLASSES", "Raised", "catchable", "is_exception_class", "raised"]


class Raised(TraceError):
    """An exception raised by the kernel (``raise``, a failed ``assert``), with its value."""

    def __init__(self, message: str, pos: Pos | None, value: Instance,
                 source_line: str | None = None) -> None:
        super().__init__(message, pos, source_line=source_line)
        self.value = value
        self.python = value.cls.short_name


def _init(ctx: Ctx, obj: Value, *args: Value, **kwargs: Value) -> None:
    assert isinstance(obj, Instance)
    if kwargs:
        raise ctx.error(f"{obj.cls.short_name}() takes no keyword arguments", python="TypeError")
    obj.dict["args"] = tuple(args)


def _args(obj: Value) -> tuple[Value, ...]:
    args = obj.dict.get("args", ()) if isinstance(obj, Instance) else ()
    return args if isinstance(args, tuple) else (args,)


def _str(ctx: Ctx, obj: Value) -> str:
    args = _args(obj)
    if not args:
        return ""
    if len(args) == 1:
        key_error = isinstance(obj, Instance) and obj.cls.is_subclass(CLASSES["KeyError"])
        return ops.to_repr(ctx, args[0]) if key_error else ops.to_str(ctx, args[0])
    return ops.to_repr(ctx, args)


def _repr(ctx: Ctx, obj: Value) -> str:
    assert isinstance(obj, Instance)
    return f"{obj.cls.short_name}({', '.join(ops.to_repr(ctx, a) for a in _args(obj))})"


_METHODS = {"__init__": NativeMethod("__init__", _init), "__str__": NativeMethod("__str__", _str),
            "__repr__": NativeMethod("__repr__", _repr)}

#: Python's exception classes klr provides, each after its base.
_TREE = (
    ("BaseException", None), ("Exception", "BaseException"),
    ("ArithmeticError", "Exception"), ("ZeroDivisionError", "ArithmeticError"),
    ("OverflowError", "ArithmeticError"), ("LookupError", "Exception"), ("IndexError", "LookupError"),
    ("KeyError", "LookupError"), ("ValueError", "Exception"), ("TypeError", "Exception"),
    ("AttributeError", "Exception"), ("NameError", "Exception"), ("RuntimeError", "Exception"),
    ("NotImplementedError", "RuntimeError"), ("RecursionError", "RuntimeError"),
    ("AssertionError", "Exception"), ("StopIteration", "Exception"),
)

CLASSES: dict[str, ClassValue] = {}
for _name, _base in _TREE:
    _cls = ClassValue(f"builtins.{_name}", ClassKind.PLAIN, (CLASSES[_base],) if _base else ())
    if _base is None:
        _cls.attrs.update(_METHODS)
    CLASSES[_name] = _cls
    constant(f"builtins.{_name}", _cls, dialect=Dialect.python,
             doc=f"Python's {_name}; a kernel may raise, subclass and catch it.")
BASE = CLASSES["BaseException"]


def is_exception_class(v: Value) -> bool:
    return isinstance(v, ClassValue) and v.is_subclass(BASE)


def raised(ctx: Ctx, v: Value, pos: Pos) -> Raised:
    """The error that ``raise v`` raises: ``v`` an exception class or instance."""
    if is_exception_class(v):
        v = ops.call(ctx, v, (), {})
    if not (isinstance(v, Instance) and v.cls.is_subclass(BASE)):
        raise ctx.error(f"exceptions must derive from BaseException, not '{type_name(v)}'", pos,
                        python="TypeError")
    ctx.pos = pos
    text = ops.to_str(ctx, v)
    message = f"{v.cls.short_name}: {text}" if text else v.cls.short_name
    return Raised(message, pos, v, ctx.source_line(pos))


def assertion(ctx: Ctx, text: str | None, pos: Pos) -> Raised:
    """The error of a failed ``assert`` (an ``AssertionError`` a kernel may catch)."""
    value = Instance(CLASSES["AssertionError"], {"args": () if text is None else (text,)})
    message = "assertion failed" if text is None else f"assertion failed: {text}"
    return Raised(message, pos, value, ctx.source_line(pos))


def catchable(err: TraceError) -> Instance | None:
    """The exception value a kernel's ``except`` sees for ``err``; None: it cannot be caught."""
    if err.python is None:
        return None
    if isinstance(err, Raised):
        return err.value
    value = getattr(err, "value", None)
    if not isinstance(value, Instance):
        cls = CLASSES.get(err.python, CLASSES["Exception"])
        args = err.python_args if err.python_args is not None else (err.message,)
        value = Instance(cls, {"args": args})
        err.value = value  # type: ignore[attr-defined]  # the same value on every catch
    return value


def matches(ctx: Ctx, handler: Value, value: Instance) -> bool:
    """Whether ``except handler`` catches ``value`` (``handler`` a class or tuple of them)."""
    classes = handler if isinstance(handler, tuple) else (handler,)
    for c in classes:
        if not is_exception_class(c):
            raise ctx.error(f"catching '{show.describe(c)}' is not allowed: an except clause names "
                            "exception classes", python="TypeError")
        assert isinstance(c, ClassValue)
        if value.cls.is_subclass(c):
            return True
    return False
