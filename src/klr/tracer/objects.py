"""User-level values: functions, closures, lambdas, classes, instances and enum members.

Calls into user code go back to the evaluator (``Function.evaluator``); everything else here is
plain data plus the TraceObject protocol with Python's semantics (method binding, dunder
overloads, dataclass-style fields, enum members).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from klr.errors import KlrError
from klr.pos import Pos
from klr.python import ast as A
from klr.tracer import ops, show
from klr.tracer.registry import MISSING
from klr.tracer.show import describe
from klr.tracer.templates import forbid
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx
    from klr.tracer.evaluator import Evaluator, Plan



class Function(TraceObject):
    """A gathered function, nested def (closure) or lambda.

    ``closure`` is the chain of enclosing local dicts (innermost first), shared by reference
    so later rebindings in the enclosing function are seen, as in Python. ``defaults`` are
    evaluated once: at def time for nested defs and lambdas, on first call for gathered
    top-level functions (whose defining module is not executed).
    """

    __slots__ = ("args", "body", "closure", "defaults", "evaluator", "expr", "fun", "name", "owner", "plan")
    type_name = "function"

    def __init__(self, evaluator: Evaluator, name: str, args: A.Args, *, fun: A.Fun | None = None,
                 expr: A.Expr | None = None, closure: tuple[dict[str, Value], ...] = (),
                 defaults: dict[str, Value] | None = None) -> None:
        self.evaluator = evaluator
        self.name = name
        self.args = args
        self.fun = fun
        self.body = fun.body if fun is not None else ()
        self.expr = expr
        self.closure = closure
        self.defaults = defaults
        self.plan: Plan | None = None
        self.owner: ClassValue | None = None  # the class of a method (for super())

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        return self.evaluator.call_function(self, args, kwargs)

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "__name__":
            return self.short_name
        if name == "__qualname__":
            return self.name
        return super().getattr(ctx, name)

    def __repr__(self) -> str:
        return f"<function {self.name}>"


class BoundMethod(TraceObject):
    """``obj.method``: calls ``fn(obj, ...)``."""

    __slots__ = ("fn", "obj")
    type_name = "method"

    def __init__(self, fn: Value, obj: Value) -> None:
        self.fn = fn
        self.obj = obj

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        return ops.call(ctx, self.fn, (self.obj, *args), kwargs)

    def __repr__(self) -> str:
        return f"<bound method {getattr(self.fn, 'name', '?')}>"


class NativeMethod(TraceObject):
    """A method klr implements for a klr class (the exception classes): ``fn(ctx, self, ...)``;
    bound like a user function."""

    __slots__ = ("fn", "name")
    type_name = "method"

    def __init__(self, name: str, fn: Callable[..., Value]) -> None:
        self.name = name
        self.fn = fn

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        if not args:
            raise ctx.error(f"{self.name}() needs an instance argument", python="TypeError")
        return self.fn(ctx, *args, **kwargs)


class StaticMethod(TraceObject):
    __slots__ = ("fn",)
    type_name = "staticmethod"

    def __init__(self, fn: Value) -> None:
        self.fn = fn


class ClassMethod(TraceObject):
    __slots__ = ("fn",)
    type_name = "classmethod"

    def __init__(self, fn: Value) -> None:
        self.fn = fn


class Property(TraceObject):
    __slots__ = ("fn",)
    type_name = "property"

    def __init__(self, fn: Value) -> None:
        self.fn = fn


class ClassKind:
    PLAIN = "class"
    DATACLASS = "dataclass"
    NAMEDTUPLE = "namedtuple"
    ENUM = "enum"


class ClassValue(TraceObject):
    """A user class. ``attrs`` holds class attributes and methods (``Function`` values,
    possibly wrapped as ``StaticMethod``/``ClassMethod``/``Property``). ``fields`` are the
    dataclass/NamedTuple fields in order with their defaults (``NO_DEFAULT`` = required,
    or a ``FieldSpec``)."""

    __slots__ = ("attrs", "bases", "fields", "frozen", "int_like", "kind", "members", "name")
    type_name = "type"

    def __init__(self, name: str, kind: str, bases: tuple[ClassValue, ...]) -> None:
        self.name = name
        self.kind = kind
        self.bases = bases
        self.attrs: dict[str, Value] = {}
        self.fields: dict[str, Value] = {}
        self.frozen = kind == ClassKind.NAMEDTUPLE
        self.int_like = False
        self.members: dict[str, EnumMember] = {}

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def lookup(self, name: str) -> Value:
        """A class attribute through the base classes (depth-first, Python's order for
        single inheritance), or MISSING."""
        got = self.attrs.get(name, MISSING)
        if got is MISSING:
            for b in self.bases:
                got = b.lookup(name)
                if got is not MISSING:
                    break
        return got

    def is_subclass(self, other: ClassValue) -> bool:
        return self is other or any(b.is_subclass(other) for b in self.bases)

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "__name__":
            return self.short_name
        got = self.lookup(name)
        if got is MISSING:
            raise ctx.error(f"type object '{self.short_name}' has no attribute '{name}'",
                            python="AttributeError")
        if isinstance(got, (StaticMethod, Property)):
            return got.fn if isinstance(got, StaticMethod) else got
        if isinstance(got, ClassMethod):
            return BoundMethod(got.fn, self)
        return got

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        if self.kind == ClassKind.ENUM:
            return self.enum_member(ctx, args, kwargs)
        obj = Instance(self)
        init = self.lookup("__init__")
        if init is not MISSING:
            ops.call(ctx, init, (obj, *args), kwargs)
        elif self.kind in (ClassKind.DATACLASS, ClassKind.NAMEDTUPLE):
            self._init_fields(ctx, obj, args, kwargs)
            post = self.lookup("__post_init__")
            if post is not MISSING:
                ops.call(ctx, post, (obj,), {})
        elif args or kwargs:
            raise ctx.error(f"{self.short_name}() takes no arguments", python="TypeError")
        return obj

    def _init_fields(self, ctx: Ctx, obj: Instance, args: tuple[Value, ...],
                     kwargs: dict[str, Value]) -> None:
        names = [k for k, d in self.fields.items() if not (isinstance(d, FieldSpec) and not d.init)]
        if len(args) > len(names):
            raise ctx.error(f"{self.short_name}() takes {len(names)} positional arguments "
                            f"but {len(args)} were given", python="TypeError")
        values = dict(zip(names, args, strict=False))
        for k, v in kwargs.items():
            if k not in names:
                raise ctx.error(f"{self.short_name}() got an unexpected keyword argument '{k}'",
                                python="TypeError")
            if k in values:
                raise ctx.error(f"{self.short_name}() got multiple values for argument '{k}'",
                                python="TypeError")
            values[k] = v
        for k, default in self.fields.items():
            if k not in values:
                init = not isinstance(default, FieldSpec) or default.init
                if isinstance(default, FieldSpec):
                    default = default.default if default.factory is NO_DEFAULT \
                        else ops.call(ctx, default.factory, (), {})
                if default is NO_DEFAULT:
                    if not init:
                        continue   # __post_init__ sets it
                    raise ctx.error(f"{self.short_name}() missing required argument '{k}'",
                                    python="TypeError")
                values[k] = default
        obj.dict.update((k, values[k]) for k in self.fields if k in values)

    def enum_member(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> EnumMember:
        if len(args) != 1 or kwargs:
            raise ctx.error(f"{self.short_name}() takes exactly one argument (a member value)",
                            python="TypeError")
        for m in self.members.values():
            if type(m.value) is type(args[0]) and ops.equal(ctx, m.value, args[0]):
                return m
        raise ctx.error(f"{describe(args[0])} is not a valid {self.short_name}", python="ValueError")

    def getitem(self, ctx: Ctx, key: Value) -> Value:
        if self.kind == ClassKind.ENUM:
            m = self.members.get(key) if isinstance(key, str) else None
            if m is None:
                raise ctx.error(f"{describe(key)} is not a member of {self.short_name}", python="KeyError")
            return m
        return super().getitem(ctx, key)

    def iterate(self, ctx: Ctx) -> Iterator[Value]:
        if self.kind == ClassKind.ENUM:
            return iter(tuple(self.members.values()))
        return super().iterate(ctx)

    def length(self, ctx: Ctx) -> int:
        if self.kind == ClassKind.ENUM:
            return len(self.members)
        return super().length(ctx)

    def contains(self, ctx: Ctx, item: Value) -> bool:
        if self.kind == ClassKind.ENUM:
            return isinstance(item, EnumMember) and item.cls is self
        return super().contains(ctx, item)

    def instancecheck(self, value: Value) -> bool:
        if isinstance(value, Instance):
            return value.cls.is_subclass(self)
        if isinstance(value, EnumMember):
            return value.cls.is_subclass(self)
        return False

    def __repr__(self) -> str:
        return f"<class '{self.short_name}'>"


_BINOP_DUNDERS = {
    "+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod",
    "**": "pow", "@": "matmul", "&": "and", "|": "or", "^": "xor", "<<": "lshift", ">>": "rshift",
}
_COMPARE_DUNDERS = {
    "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__", "==": "__eq__", "!=": "__ne__",
}
_UNARY_DUNDERS = {"-": "__neg__", "+": "__pos__", "~": "__invert__"}


class Instance(TraceObject):
    """An instance of a user class; ``dict`` holds its attributes."""

    __slots__ = ("cls", "dict")
    pure_compare = True  # a user __eq__ may emit, as any user code may; klr's own compare does not

    def __init__(self, cls: ClassValue, fields: dict[str, Value] | None = None) -> None:
        self.cls = cls
        self.dict: dict[str, Value] = fields if fields is not None else {}

    @property
    def type_name(self) -> str:  # type: ignore[override]  # an instance is named by its class
        return self.cls.short_name

    def _method(self, name: str) -> Value:
        got = self.cls.lookup(name)
        return MISSING if got is MISSING else self._bind(got)

    def _bind(self, got: Value) -> Value:
        if isinstance(got, StaticMethod):
            return got.fn
        if isinstance(got, ClassMethod):
            return BoundMethod(got.fn, self.cls)
        if isinstance(got, (Function, NativeMethod)):  # only functions are descriptors, as in Python
            return BoundMethod(got, self)
        return got

    def getattr(self, ctx: Ctx, name: str) -> Value:
        got = self.dict.get(name, MISSING)
        if got is not MISSING:
            return got
        got = self.cls.lookup(name)
        if got is MISSING:
            if name == "__class__":
                return self.cls
            raise ctx.error(f"'{self.cls.short_name}' object has no attribute '{name}'",
                            python="AttributeError")
        if isinstance(got, Property):
            return ops.call(ctx, got.fn, (self,), {})
        return self._bind(got)

    def setattr(self, ctx: Ctx, name: str, value: Value) -> None:
        if ctx.template is not None:
            raise forbid("an attribute store")
        if self.cls.frozen:
            raise ctx.error(f"cannot assign to field '{name}' of a frozen '{self.cls.short_name}'",
                            python="AttributeError")
        self.dict[name] = value

    def _dunder(self, ctx: Ctx, name: str, *args: Value) -> Value:
        m = self._method(name)
        if m is MISSING:
            return NotImplemented
        return ops.call(ctx, m, args, {})

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        name = _BINOP_DUNDERS[op]
        return self._dunder(ctx, f"__r{name}__" if reflected else f"__{name}__", other)

    def inplace(self, ctx: Ctx, op: str, other: Value) -> Value:
        r = self._dunder(ctx, f"__i{_BINOP_DUNDERS[op]}__", other)
        return r if r is not NotImplemented else self.binop(ctx, op, other, False)

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        r = self._dunder(ctx, _COMPARE_DUNDERS[op], other)
        if r is not NotImplemented:
            return r
        if op in ("==", "!=") and self.cls.kind in (ClassKind.DATACLASS, ClassKind.NAMEDTUPLE):
            same = (isinstance(other, Instance) and other.cls is self.cls
                    and ops.equal(ctx, self._field_values(), other._field_values()))
            return same if op == "==" else not same
        return super().compare(ctx, op, other, reflected)

    def _field_values(self) -> tuple[Value, ...]:
        return tuple(self.dict.get(k) for k in self.cls.fields)

    def unop(self, ctx: Ctx, op: str) -> Value:
        r = self._dunder(ctx, _UNARY_DUNDERS[op])
        return r if r is not NotImplemented else super().unop(ctx, op)

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        m = self._method("__call__")
        if m is MISSING:
            return super().call(ctx, args, kwargs)
        return ops.call(ctx, m, args, kwargs)

    def getitem(self, ctx: Ctx, key: Value) -> Value:
        if self.cls.kind == ClassKind.NAMEDTUPLE and self._method("__getitem__") is MISSING:
            return ops.getitem(ctx, self._field_values(), key)
        r = self._dunder(ctx, "__getitem__", key)
        return r if r is not NotImplemented else super().getitem(ctx, key)

    def setitem(self, ctx: Ctx, key: Value, value: Value) -> None:
        if self._dunder(ctx, "__setitem__", key, value) is NotImplemented:
            super().setitem(ctx, key, value)

    def truth(self, ctx: Ctx) -> bool:
        r = self._dunder(ctx, "__bool__")
        if r is NotImplemented:
            r = self._dunder(ctx, "__len__")
            if r is NotImplemented:
                return self.cls.kind != ClassKind.NAMEDTUPLE or bool(self.cls.fields)
        return ops.truth(ctx, r)

    def iterate(self, ctx: Ctx) -> Iterator[Value]:
        if self.cls.kind == ClassKind.NAMEDTUPLE:
            return iter(self._field_values())
        r = self._dunder(ctx, "__iter__")
        return super().iterate(ctx) if r is NotImplemented else ops.iterate(ctx, r)

    def length(self, ctx: Ctx) -> int:
        if self.cls.kind == ClassKind.NAMEDTUPLE:
            return len(self.cls.fields)
        r = self._dunder(ctx, "__len__")
        return super().length(ctx) if r is NotImplemented else r

    def contains(self, ctx: Ctx, item: Value) -> bool:
        r = self._dunder(ctx, "__contains__", item)
        return super().contains(ctx, item) if r is NotImplemented else ops.truth(ctx, r)

    def to_str(self, ctx: Ctx) -> str:
        r = self._text(ctx, "__str__")
        return self.to_repr(ctx) if r is None else r

    def to_repr(self, ctx: Ctx) -> str:
        r = self._text(ctx, "__repr__")
        if r is not None:
            return r
        if self.cls.kind in (ClassKind.DATACLASS, ClassKind.NAMEDTUPLE):
            return show.to_repr(ctx, _Fields(self))
        return repr(self)

    def user_format(self, ctx: Ctx, spec: str) -> str | None:
        """The user's ``__format__(spec)``, or None when the class defines none."""
        return self._text(ctx, "__format__", spec)

    def _text(self, ctx: Ctx, name: str, *args: Value) -> str | None:
        """The string a user ``__str__``/``__repr__``/``__format__`` returns (None: not defined)."""
        pos = ctx.pos
        r = self._dunder(ctx, name, *args)
        ctx.pos = pos
        if r is NotImplemented:
            return None
        if type(r) is not str:
            raise ctx.error(f"{name} must return a string, not '{type_name(r)}'")
        return r

    def __repr__(self) -> str:
        if self.cls.kind in (ClassKind.DATACLASS, ClassKind.NAMEDTUPLE):
            inner = ", ".join(f"{k}={describe(self.dict.get(k), 30)}" for k in self.cls.fields)
            return f"{self.cls.short_name}({inner})"
        return f"<{self.cls.short_name} object>"


class _Fields(TraceObject):
    """A dataclass or NamedTuple instance as klr's printer shows it: ``P(x=1, y=[2])``."""

    __slots__ = ("obj",)

    def __init__(self, obj: Instance) -> None:
        self.obj = obj

    def repr_parts(self, ctx: Ctx) -> tuple[str, list[tuple[str, Value]], str]:
        o = self.obj
        return f"{o.cls.short_name}(", [(f"{k}=", o.dict.get(k)) for k in o.cls.fields], ")"


class EnumMember(TraceObject):
    """A member of a user Enum/IntEnum class: ``.name``, ``.value``; IntEnum members also
    behave as their int value in arithmetic and comparisons."""

    __slots__ = ("cls", "name", "value")
    type_name = "enum"
    pure_compare = True

    def __init__(self, cls: ClassValue, name: str, value: Value) -> None:
        self.cls = cls
        self.name = name
        self.value = value

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name in ("name", "_name_"):
            return self.name
        if name in ("value", "_value_"):
            return self.value
        got = self.cls.lookup(name)
        if got is MISSING or isinstance(got, EnumMember):
            raise ctx.error(f"'{self.cls.short_name}' member has no attribute '{name}'",
                            python="AttributeError")
        if isinstance(got, Property):
            return ops.call(ctx, got.fn, (self,), {})
        if isinstance(got, StaticMethod):
            return got.fn
        if isinstance(got, ClassMethod):
            return BoundMethod(got.fn, self.cls)
        return BoundMethod(got, self) if isinstance(got, Function) else got

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        if not self.cls.int_like:
            return NotImplemented
        other = other.value if isinstance(other, EnumMember) else other
        return ops.binop(ctx, op, other, self.value) if reflected else ops.binop(ctx, op, self.value, other)

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        if self.cls.int_like:
            other = other.value if isinstance(other, EnumMember) else other
            return ops.compare(ctx, op, self.value, other)
        return super().compare(ctx, op, other, reflected)

    def unop(self, ctx: Ctx, op: str) -> Value:
        if self.cls.int_like:
            return ops.unop(ctx, op, self.value)
        return super().unop(ctx, op)

    def int_value(self) -> int | None:
        return self.value if self.cls.int_like and isinstance(self.value, int) else None

    def __index__(self) -> int:
        if isinstance(self.value, int):
            return self.value
        raise TypeError("not an integer enum")

    def __repr__(self) -> str:
        return f"{self.cls.short_name}.{self.name}"


class SuperProxy(TraceObject):
    """``super()``: attribute lookup in the bases of ``owner``, bound to ``obj``."""

    __slots__ = ("obj", "owner")
    type_name = "super"

    def __init__(self, owner: ClassValue, obj: Value) -> None:
        self.owner = owner
        self.obj = obj

    def getattr(self, ctx: Ctx, name: str) -> Value:
        for base in self.owner.bases:
            got = base.lookup(name)
            if got is not MISSING:
                if isinstance(got, StaticMethod):
                    return got.fn
                if isinstance(got, ClassMethod):
                    return BoundMethod(got.fn, self.owner)
                if isinstance(got, Property):
                    return ops.call(ctx, got.fn, (self.obj,), {})
                return BoundMethod(got, self.obj) if isinstance(got, (Function, NativeMethod)) else got
        if name == "__init__":
            return _NoInit()
        raise ctx.error(f"'super' object has no attribute '{name}'", python="AttributeError")


class _NoInit(TraceObject):
    """``super().__init__()`` when no base defines one: accepts no arguments, does nothing."""

    __slots__ = ()

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        if args or kwargs:
            raise ctx.error("object.__init__() takes no arguments", python="TypeError")
        return None


class _NoDefault(TraceObject):
    __slots__ = ()
    type_name = "dataclasses._MISSING_TYPE"

    def __repr__(self) -> str:
        return "dataclasses.MISSING"


NO_DEFAULT = _NoDefault()
"""``dataclasses.MISSING``: a dataclass field without a default."""


class FieldSpec(TraceObject):
    """``dataclasses.field(default=..., default_factory=...)`` in a class body."""

    __slots__ = ("default", "factory", "init")
    type_name = "dataclasses.Field"

    def __init__(self, default: Value, factory: Value, init: bool = True) -> None:
        self.default = default
        self.factory = factory
        self.init = init
        """False: not a parameter of ``__init__`` (set from its default, if any, or by
        ``__post_init__``)."""


class AutoValue(TraceObject):
    """``enum.auto()`` in an Enum class body."""

    __slots__ = ()
    type_name = "enum.auto"


class FailedGlobal:
    """A module-level global whose defining expression failed; using it reports the error."""

    __slots__ = ("error", "name", "pos")

    def __init__(self, name: str, error: KlrError, pos: Pos | None) -> None:
        self.name = name
        self.error = error
        self.pos = pos

