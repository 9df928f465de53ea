"""Declaring IR nodes: one schema drives the codec, the printers and the checks.

Every IR type of KLR is one of four kinds, mirroring the reference's Lean types:

* struct   ``@node(tag=T)`` on a frozen dataclass; wire form ``d9 T 00 (80|n) fields...``
* ctor     ``@node()`` (no tag) on a frozen dataclass that is one constructor of a sum;
           wire form ``d9 S c (80|n) fields...`` where S is the sum's tag and c its position
* enum     ``class E(NodeEnum)`` with ``__tag__ = T``; members in constructor order,
           wire form ``d9 T c 80``
* sum      ``Annotated[A | B | C, Sum("Name", T)]``: the constructor number is the member's
           position in the union. A member that has a tag of its own (a struct, an enum or
           another sum) is *wrapped*: ``d9 S c 81 <member>``.

Field types are read from the annotations: ``Nat``, ``Int``, ``F32``, ``F64``, ``str``,
``bool``, ``T | None`` (Lean ``Option``), ``tuple[T, ...]`` (``List``), ``tuple[A, B]``
(a pair), node classes, enums and sums. A trailing underscore on a field or member name
(``is_``, ``None_``) is dropped on the wire and in printed forms, so Python keywords can
carry their Lean names. Fields typed ``Pos`` are excluded from equality and hashing.
"""

from __future__ import annotations

import enum
import math
import operator
import struct
import sys
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

if TYPE_CHECKING:
    from dataclasses import Field
    from dataclasses import field as _field_specifier
else:
    _field_specifier = None  # (for type checkers only, like dataclass_transform itself)

T = TypeVar("T")

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # Python 3.10: the decorator only informs type checkers
    def dataclass_transform(**_: Any) -> Callable[[T], T]:
        return lambda f: f

__all__ = [
    "F32", "F64", "Int", "Nat", "NodeEnum", "Sum", "FieldInfo", "NodeInfo",
    "node", "fields_of", "info_of", "lean_name", "Kind", "TypeDesc", "describe", "to_float32", "record",
    "init_source",
]


class Prim(enum.Enum):
    NAT = "Nat"
    INT = "Int"
    F32 = "Float32"
    F64 = "Float"
    STR = "String"
    BOOL = "Bool"


Nat = Annotated[int, Prim.NAT]
Int = Annotated[int, Prim.INT]
F32 = Annotated[float, Prim.F32]
F64 = Annotated[float, Prim.F64]


_FLOAT32 = struct.Struct("<f")


def to_float32(x: float) -> float:
    """``x`` rounded to the nearest float32 (ties to even); beyond the float32 range, +-inf."""
    try:
        return float(_FLOAT32.unpack(_FLOAT32.pack(x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)


def lean_name(name: str) -> str:
    """The reference's spelling of a Python field or member name."""
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name


_MEMBER_BASES: set[type] = set()  # bases whose subclasses _NodeEnumType may make itself


class _PlainNamespace(dict):  # type: ignore[type-arg]
    """A class body's namespace kept as written, for ``_NodeEnumType`` to check and make."""


if TYPE_CHECKING:
    _NodeEnumType = enum.EnumMeta
else:
    class _NodeEnumType(enum.EnumMeta):
        """``enum.EnumMeta`` making the classes of klr's enums as it does, in a tenth of the time.

        On Python 3.11, an enum with int members, properties and methods (what the IR's enums
        are) is made directly: the class with the attributes ``EnumMeta`` gives it, in its
        order, then each member as ``EnumMeta``'s ``_proto_member`` makes it. ``EnumMeta``
        checks every name of the body as it is written and makes the members through
        descriptors: ~80 µs a class, ~2.5 ms of a trace. A body with anything else (an alias, a
        ``_sunder_`` name, a member named as an attribute of a base), or another Python, goes
        to ``EnumMeta`` itself. tests/test_schema.py checks every enum of klr against it."""

        @classmethod
        def __prepare__(metacls, cls, bases, **kwds):
            if sys.version_info[:2] == (3, 11) and not kwds and len(bases) == 1 and bases[0] in _MEMBER_BASES:
                return _PlainNamespace()
            return super().__prepare__(cls, bases, **kwds)

        def __new__(metacls, cls, bases, classdict, **kwds):
            if type(classdict) is _PlainNamespace:
                made = _make_enum(metacls, cls, bases, classdict)
                if made is not None:
                    return made
                written = super().__prepare__(cls, bases)
                for key, value in classdict.items():
                    written[key] = value
                classdict = written
            return super().__new__(metacls, cls, bases, classdict, **kwds)


_METHODS = (types.FunctionType, property, staticmethod, classmethod)
_TAKEN: dict[type, frozenset[str]] = {}  # the names of a base and its bases


def _make_enum(metacls: Any, cls: str, bases: tuple[type, ...], body: dict[str, Any]) -> Any:
    """The enum class ``EnumMeta.__new__`` (Python 3.11) would make of ``body``, or None when
    the body holds anything but dunder names, int members with distinct values and methods."""
    (base,) = bases
    taken = _TAKEN.get(base)
    if taken is None:
        taken = _TAKEN[base] = frozenset().union(*map(vars, base.__mro__))
    members: dict[str, int] = {}
    for key, value in body.items():
        if key[:2] == "__" == key[-2:] and len(key) > 4:
            continue
        if key[:1] == "_":
            return None
        if type(value) is int:
            members[key] = value
        elif not isinstance(value, _METHODS):
            return None
    if len(set(members.values())) != len(members) or not taken.isdisjoint(members) or "mro" in members:
        return None
    member_type, first_enum = metacls._get_mixins_(cls, bases)
    new, save_new, use_args = metacls._find_new_(body, member_type, first_enum)
    if member_type is not object or save_new or use_args:
        return None
    namespace = {"_generate_next_value_": getattr(first_enum, "_generate_next_value_", None)}
    namespace.update((k, v) for k, v in body.items() if k not in members)
    namespace.update(
        _new_member_=new, _use_args_=False, _member_names_=[], _member_map_={}, _value2member_map_={},
        _unhashable_values_=[], _member_type_=object, _value_repr_=metacls._find_data_repr_(cls, bases))
    enum_class = type.__new__(metacls, cls, bases, namespace)
    init = enum_class.__init__
    names, by_name = enum_class._member_names_, enum_class._member_map_
    by_value = enum_class._value2member_map_
    for key, value in members.items():
        member = new(enum_class)
        member.__dict__.update(_value_=value, _name_=key, __objclass__=enum_class)
        if init is not enum.Enum.__init__:  # (Enum's does nothing)
            member.__init__(value)
        member._sort_order_ = len(names)
        names.append(key)
        type.__setattr__(enum_class, key, member)
        by_name[key] = member
        by_value[value] = member
    type.__setattr__(enum_class, "__new__", enum.Enum.__new__)
    return enum_class


class NodeEnum(enum.Enum, metaclass=_NodeEnumType):
    """A field-less inductive. Members are declared in constructor order."""

    __tag__: typing.ClassVar[int]

    @property
    def lean(self) -> str:
        return lean_name(self.name)

    @property
    def ctor(self) -> int:
        return _enum_ctor(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


_MEMBER_BASES.add(NodeEnum)

_ENUM_CTORS: dict[type, dict[Any, int]] = {}


def _enum_ctor(member: NodeEnum) -> int:
    table = _ENUM_CTORS.get(type(member))
    if table is None:
        table = {m: i for i, m in enumerate(type(member))}
        _ENUM_CTORS[type(member)] = table
    return table[member]


# dataclass(frozen=True, slots=True) compiles six methods per class with exec and builds each
# class twice; over ~190 IR classes that was most of the time of importing klr. A node needs
# less: __init__ is shared between the classes of one field signature (its code generated into
# klr.nodeinits, else compiled once); equality, hashing, repr and the rest are shared functions
# over the class's field names. The result is still a dataclass to the standard library
# (fields, replace, asdict, is_dataclass, pickling), as tests/test_schema.py checks; its
# dataclass attributes are made when first read (``_Lazy``), so that klr imports no
# ``dataclasses`` (and ``inspect``, which it imports) to start.


class _Missing:
    """A field without a default (``dataclasses.MISSING`` where ``dataclasses`` is imported)."""


_MISSING = _Missing()


# (name, annotation, default or _MISSING, compared) of each field of each class made here
_SPECS: dict[type, tuple[tuple[str, Any, Any, bool], ...]] = {}
_PARAMS: list[Any] = []


class _Lazy:
    """A class's ``__dataclass_fields__`` or ``__dataclass_params__``, made when first read and
    then stored on the class in place of this."""

    __slots__ = ("attr", "owner")

    def __set_name__(self, owner: type, attr: str) -> None:
        self.owner, self.attr = owner, attr

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        import dataclasses

        value: Any
        if self.attr == "__dataclass_params__":
            if not _PARAMS:
                made: Any = dataclasses.dataclass(frozen=True)(type("_Params", (), {}))
                _PARAMS.append(made.__dataclass_params__)
            value = _PARAMS[0]
        else:
            value = {}
            for name, ann, default, compared in _SPECS[self.owner]:
                f: Field[Any] = dataclasses.field(compare=compared) if default is _MISSING \
                    else dataclasses.field(default=default, compare=compared)
                f.name, f.type = name, ann
                f._field_type = dataclasses._FIELD  # type: ignore[attr-defined]  # what fields() selects on
                value[name] = f
        setattr(self.owner, self.attr, value)
        return value


def field_names(value: Any) -> tuple[str, ...] | None:
    """The field names of a node or record class or instance (without importing
    ``dataclasses``), or of another dataclass; None for anything else."""
    cls = value if isinstance(value, type) else type(value)
    if cls in _SPECS:
        return tuple(spec[0] for spec in _SPECS[cls])
    if getattr(cls, "__dataclass_fields__", None) is None:
        return None
    import dataclasses

    return tuple(f.name for f in dataclasses.fields(cls))


_INITS: dict[tuple[tuple[str, ...], tuple[str, ...]], types.CodeType] = {}


def _as_float32(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return to_float32(value)
    return value


_INIT_GLOBALS: dict[str, Any] = {"_f32": _as_float32}


def init_source(names: tuple[str, ...], singles: tuple[str, ...]) -> str:
    """The source of the ``__init__`` of a node with fields ``names`` (``singles``: the F32 ones).
    It sets field ``i`` through the global ``_s<i>``: the ``__set__`` of the class's own slot
    (``_set_slots``), a third faster than ``object.__setattr__``, which looks the name up."""
    sets = [f"    _s{i}(self, _f32({n}))" if n in singles else f"    _s{i}(self, {n})"
            for i, n in enumerate(names)]
    return "\n".join([f"def __init__({', '.join(('self', *names))}):", *(sets or ["    pass"])])


def _init(cls: type, names: tuple[str, ...], singles: tuple[str, ...], defaults: tuple[Any, ...]) -> Any:
    """``cls.__init__``: its code is shared by every class with its field signature, and taken
    from klr.nodeinits (generated) or else compiled, once."""
    key = (names, singles)
    code = _INITS.get(key)
    if code is None:
        from klr.nodeinits import INITS

        made = INITS.get(key)
        if made is None:
            namespace: dict[str, Any] = {}
            exec(init_source(names, singles), _INIT_GLOBALS, namespace)
            made = namespace["__init__"]
        code = _INITS[key] = made.__code__
    fn = types.FunctionType(code, dict(_INIT_GLOBALS), "__init__", defaults)
    fn.__qualname__ = f"{cls.__qualname__}.__init__"
    return fn


def _set_slots(cls: type, names: tuple[str, ...]) -> None:
    """Give ``cls.__init__`` (``_init``) the setters of ``cls``'s slots, once ``cls`` has them."""
    space = cls.__init__.__globals__  # type: ignore[misc]
    for i, name in enumerate(names):
        space[f"_s{i}"] = getattr(cls, name).__set__


def _key(compared: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple equality and hashing compare (as dataclasses do: a tuple, also of one field)."""
    if len(compared) == 1:
        (name,) = compared
        return lambda node: (getattr(node, name),)
    if not compared:
        return lambda node: ()
    return operator.attrgetter(*compared)


_KEYS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _node_eq(self: Any, other: Any) -> Any:
    cls = self.__class__
    if other.__class__ is cls:
        key = _KEYS[cls]
        return key(self) == key(other)
    return NotImplemented


def _node_hash(self: Any) -> int:
    return hash(_KEYS[self.__class__](self))


def _node_repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in type(self).__match_args__)
    return f"{type(self).__qualname__}({shown})"


def _node_setattr(self: Any, name: str, value: Any) -> None:
    import dataclasses

    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _node_delattr(self: Any, name: str) -> None:
    import dataclasses

    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _node_getstate(self: Any) -> list[Any]:
    return [getattr(self, n) for n in type(self).__match_args__]


def _node_setstate(self: Any, state: list[Any]) -> None:
    for n, value in zip(type(self).__match_args__, state):
        object.__setattr__(self, n, value)


def _is_classvar(ann: Any) -> bool:
    text = ann if isinstance(ann, str) else repr(ann)
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(frozen_default=True, field_specifiers=(_field_specifier,))
def record(cls: type[T]) -> type[T]:
    """``dataclass(frozen=True, slots=True)`` for a small record, made as a node is (no
    compiled methods of its own): for the records created while klr starts up. Fields may
    have defaults and ``field(compare=False)``, nothing else; no ``__post_init__``."""
    if "__post_init__" in cls.__dict__:
        raise TypeError(f"{cls.__name__}: a record has no __post_init__")
    return _frozen_slotted(cls, (), ())


def _inherited(base: type) -> tuple[tuple[str, Any, Any, bool], ...]:
    """The field specs of a base class: one made here, or a standard dataclass."""
    if base in _SPECS:
        return _SPECS[base]
    fields = base.__dict__.get("__dataclass_fields__")
    if fields is None:
        return ()
    import dataclasses

    return tuple((f.name, f.type, _MISSING if f.default is dataclasses.MISSING else f.default, f.compare)
                 for f in fields.values())


def _frozen_slotted(cls: type[T], singles: tuple[str, ...], uncompared: tuple[str, ...]) -> type[T]:
    """``cls`` as ``dataclass(frozen=True, slots=True)`` would make it, without a default
    factory or keyword-only fields, which nodes never use; fields named in ``uncompared`` are
    ``field(compare=False)``."""
    specs: dict[str, tuple[str, Any, Any, bool]] = {}
    for base in reversed(cls.__mro__[1:]):
        specs.update((spec[0], spec) for spec in _inherited(base))
    inherited = set(specs)
    namespace = dict(cls.__dict__)
    dc = sys.modules.get("dataclasses")  # a field(...) in the class body means it is imported
    for fname, ann in namespace.get("__annotations__", {}).items():
        if _is_classvar(ann):
            continue
        default = namespace.pop(fname, _MISSING)
        compared = True
        if dc is not None and isinstance(default, dc.Field):
            f = default
            if f.default_factory is not dc.MISSING or not (f.init and f.repr) or f.hash is not None \
                    or f.kw_only not in (dc.MISSING, False):
                raise TypeError(f"{cls.__name__}.{fname}: only a default and compare=False are supported")
            default, compared = (_MISSING if f.default is dc.MISSING else f.default), f.compare
        specs[fname] = (fname, ann, default, compared and fname not in uncompared)
    names = tuple(specs)
    defaults = tuple(spec[2] for spec in specs.values() if spec[2] is not _MISSING)
    if any(spec[2] is _MISSING for spec in tuple(specs.values())[len(names) - len(defaults):]):
        raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace.update(
        __slots__=tuple(n for n in names if n not in inherited), __match_args__=names,
        __dataclass_fields__=_Lazy(), __dataclass_params__=_Lazy(),
        __init__=_init(cls, names, singles, defaults), __repr__=_node_repr,
        __eq__=_node_eq, __hash__=_node_hash,
        __setattr__=_node_setattr, __delattr__=_node_delattr,
        __getstate__=_node_getstate, __setstate__=_node_setstate,
    )
    meta: type = type(cls)
    out = meta(cls.__name__, cls.__bases__, namespace)
    _set_slots(out, names)
    _SPECS[out] = tuple(specs.values())
    _KEYS[out] = _key(tuple(spec[0] for spec in specs.values() if spec[3]))
    out.__qualname__ = cls.__qualname__
    return typing.cast("type[T]", out)


@record
class Sum:
    """Marks ``Annotated[A | B, Sum(name, tag)]`` as a tagged sum type."""

    name: str
    tag: int
    names: tuple[str, ...] | None = None  # constructor names, when not taken from members


@record
class FieldInfo:
    name: str         # Python attribute name
    lean: str         # name on the wire / in dumps
    type: Any         # resolved annotation


@record
class NodeInfo:
    cls: type
    lean: str                  # constructor or struct name as the reference spells it
    tag: int | None            # own serde tag (structs); None for sum constructors
    proofs: int                # proof fields counted in the array head but never written


@dataclass_transform(frozen_default=True, field_specifiers=(_field_specifier,))
def node(tag: int | None = None, *, name: str | None = None, proofs: int = 0) -> Callable[[type[T]], type[T]]:
    """Make a class a frozen, slotted IR dataclass and register its schema.

    ``F32`` fields hold float32 values: a Python float given to one is rounded on construction,
    so a node equals its decoded encoding and every reader sees the value the file holds."""

    def wrap(cls: type[T]) -> type[T]:
        notes = cls.__dict__.get("__annotations__", {})
        # (``is`` first: ``==`` on a string and the ``Annotated`` F32 is a call into typing)
        singles = tuple(f for f, ann in notes.items() if ann is F32 or ann == "F32")
        positions = tuple(f for f, ann in notes.items() if _is_pos_annotation(ann))
        lean = name or (cls.__name__[0].lower() + cls.__name__[1:])
        if tag is not None and name is None:
            lean = cls.__name__
        out = _frozen_slotted(cls, singles, positions)
        out.__klr__ = NodeInfo(out, lean, tag, proofs)  # type: ignore[attr-defined]  # the class's schema
        return out

    return wrap


def _is_pos_annotation(ann: Any) -> bool:
    if isinstance(ann, str):
        return ann == "Pos" or ann.startswith("Pos ") or ann.endswith(".Pos")
    return getattr(ann, "__name__", None) == "Pos"


def info_of(cls: type) -> NodeInfo:
    info: NodeInfo | None = getattr(cls, "__klr__", None)
    if info is None:
        raise TypeError(f"{cls.__name__} is not a KLR node")
    return info


_FIELDS: dict[type, tuple[FieldInfo, ...]] = {}


def fields_of(cls: type) -> tuple[FieldInfo, ...]:
    """The resolved fields of a node class, in declaration (= wire) order."""
    got = _FIELDS.get(cls)
    if got is None:
        hints: dict[str, Any] = {}
        for owner in reversed(cls.__mro__):
            module = vars(sys.modules[owner.__module__])
            for fname, ann in owner.__dict__.get("__annotations__", {}).items():
                hints[fname] = _annotation(ann, module)
        got = tuple(FieldInfo(n, lean_name(n), hints[n]) for n in field_names(cls) or ())
        _FIELDS[cls] = got
    return got


_ANNOTATIONS: dict[tuple[str, str], Any] = {}


def _annotation(ann: Any, module: dict[str, Any]) -> Any:
    """A field's annotation evaluated in its module. ``typing.get_type_hints`` does the same
    with checks that made it a third of the time of reading a small KLR file."""
    if not isinstance(ann, str):
        return ann
    key = (module["__name__"], ann)
    got = _ANNOTATIONS.get(key)
    if got is None:
        got = _evaluate(ann, module)
        if got is _MISSING:
            got = eval(ann, module)  # klr's own annotations, never user data
        _ANNOTATIONS[key] = got
    return got


def _evaluate(text: str, module: dict[str, Any]) -> Any:
    """The value of the annotations most fields have, ``Name``, ``T | None`` and
    ``tuple[T, ...]`` of a name of ``module``, computed as ``eval`` computes it without
    compiling the text (~10 µs each, ~70 in a trace); ``_MISSING`` for any other text."""
    if text.isidentifier():
        return module.get(text, _MISSING)
    if text.endswith(" | None"):
        inner = _evaluate(text[:-7], module)
        return _MISSING if inner is _MISSING else inner | None
    if text.startswith("tuple[") and text.endswith(", ...]"):
        inner = _evaluate(text[6:-6], module)
        return _MISSING if inner is _MISSING else tuple[inner, ...]  # type: ignore[valid-type]
    return _MISSING


# ---------------------------------------------------------------------------------------------
# Type descriptions: a small closed language the codec, printers and generators interpret.


class Kind(enum.Enum):
    PRIM = "prim"
    OPTION = "option"
    LIST = "list"
    PAIR = "pair"
    STRUCT = "struct"   # a node class with its own tag
    CTOR = "ctor"       # a node class that is a constructor of a sum (only inside SUM)
    ENUM = "enum"
    SUM = "sum"


@record
class TypeDesc:
    kind: Kind
    prim: Prim | None = None
    args: tuple[TypeDesc, ...] = ()          # OPTION/LIST: 1; PAIR: 2; SUM: one per ctor
    cls: Any = None                          # STRUCT/CTOR/ENUM class
    sum: Sum | None = None
    ctor_names: tuple[str, ...] = ()         # SUM

    @property
    def name(self) -> str:
        match self.kind:
            case Kind.PRIM:
                assert self.prim is not None
                return self.prim.value
            case Kind.OPTION:
                return f"Option {self.args[0].name}"
            case Kind.LIST:
                return f"List {self.args[0].name}"
            case Kind.PAIR:
                return f"({self.args[0].name}, {self.args[1].name})"
            case Kind.SUM:
                assert self.sum is not None
                return self.sum.name
            case _:
                return str(info_of(self.cls).lean if self.kind is not Kind.ENUM else self.cls.__name__)


_DESCS: dict[Any, TypeDesc] = {}


def describe(tp: Any) -> TypeDesc:
    """Translate a resolved annotation into a TypeDesc (cached)."""
    try:
        got = _DESCS.get(tp)
    except TypeError:  # unhashable annotation
        got = None
    if got is not None:
        return got
    desc = _describe(tp)
    try:
        _DESCS[tp] = desc
    except TypeError:
        pass
    return desc


_PY_PRIMS = {str: Prim.STR, bool: Prim.BOOL, int: Prim.INT, float: Prim.F64}


def _describe(tp: Any) -> TypeDesc:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        base, *meta = typing.get_args(tp)
        for m in meta:
            if isinstance(m, Prim):
                return TypeDesc(Kind.PRIM, prim=m)
            if isinstance(m, Sum):
                return _describe_sum(base, m)
        return describe(base)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = typing.get_args(tp)
        if len(args) == 2 and type(None) in args:
            inner = args[0] if args[1] is type(None) else args[1]
            return TypeDesc(Kind.OPTION, args=(describe(inner),))
        raise TypeError(f"a bare union {tp} must be declared as a Sum")
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return TypeDesc(Kind.LIST, args=(describe(args[0]),))
        if len(args) == 2:
            return TypeDesc(Kind.PAIR, args=(describe(args[0]), describe(args[1])))
        raise TypeError(f"unsupported tuple type {tp}")
    if tp in _PY_PRIMS:
        return TypeDesc(Kind.PRIM, prim=_PY_PRIMS[tp])
    if isinstance(tp, type) and issubclass(tp, NodeEnum):
        return TypeDesc(Kind.ENUM, cls=tp)
    if isinstance(tp, type) and hasattr(tp, "__klr__"):
        info = info_of(tp)
        if info.tag is None:
            raise TypeError(f"constructor {tp.__name__} used outside its sum type")
        return TypeDesc(Kind.STRUCT, cls=tp)
    raise TypeError(f"unsupported field type {tp!r}")


def _describe_sum(union: Any, marker: Sum) -> TypeDesc:
    members = typing.get_args(union) if typing.get_origin(union) in (
        typing.Union, getattr(__import__("types"), "UnionType", None)) else (union,)
    args: list[TypeDesc] = []
    names: list[str] = []
    for i, m in enumerate(members):
        if isinstance(m, type) and hasattr(m, "__klr__") and info_of(m).tag is None:
            args.append(TypeDesc(Kind.CTOR, cls=m))
            names.append(info_of(m).lean)
        else:
            d = describe(m)
            args.append(d)
            names.append(d.name[0].lower() + d.name[1:])
        if marker.names is not None:
            names[i] = marker.names[i]
    return TypeDesc(Kind.SUM, args=tuple(args), sum=marker, ctor_names=tuple(names))
