"""klr's enums made by ``schema._NodeEnumType`` are the classes ``enum.EnumMeta`` makes."""

from __future__ import annotations

import copy
import enum
import pickle
import re
import sys
import types
from typing import Any

import pytest

import klr.core  # (the IR's enums)
import klr.python.ast  # noqa: F401
from klr import schema
from klr.core import AluOp, Engine
from klr.dtypes import Dtype
from klr.schema import NodeEnum

FAST = sys.version_info[:2] == (3, 11)


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


ENUMS = [c for c in _subclasses(NodeEnum) if c.__module__.startswith("klr.")]


def _body(cls: Any) -> dict[str, Any]:
    """A class body that declares ``cls`` again (its members after its other names)."""
    skip = {"_generate_next_value_", "__new__", *cls._member_names_} | {
        k for k in vars(cls) if k.startswith("_") and k.endswith("_") and not k.startswith("__")}
    body = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    body.update((k, v) for k, v in vars(cls).items() if k not in skip and k != "__module__")
    body.update((name, member.value) for name, member in cls.__members__.items())
    return body


def _by_enum_meta(name: str, body: dict[str, Any]) -> Any:
    written = enum.EnumMeta.__prepare__(name, (NodeEnum,))
    for key, value in body.items():
        written[key] = value
    return enum.EnumMeta.__new__(schema._NodeEnumType, name, (NodeEnum,), written)


def _by_class_statement(name: str, body: dict[str, Any]) -> Any:
    def fill(ns: dict[str, Any]) -> None:
        for key, value in body.items():
            ns[key] = value

    return types.new_class(name, (NodeEnum,), exec_body=fill)


def _shape(cls: Any) -> list[Any]:
    """Everything of an enum class, its members by name and attributes."""
    def seen(value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return ("member", value._name_, value._value_, value._sort_order_,
                    sorted(vars(value)), value.__objclass__.__name__)
        if isinstance(value, types.DynamicClassAttribute):  # EnumMeta's redirect to a member
            return ("redirect", value.fget, seen(getattr(value, "member", None)))
        if isinstance(value, dict):
            return {k: seen(v) for k, v in value.items()}
        if isinstance(value, list):
            return [seen(v) for v in value]
        return value
    return [type(cls), cls.__mro__[1:], [(k, seen(v)) for k, v in vars(cls).items()]]


@pytest.mark.parametrize("cls", ENUMS, ids=lambda c: c.__name__)
def test_same_class_as_enum_meta(cls: Any) -> None:
    body = _body(cls)
    made = _by_class_statement(cls.__name__, body)
    assert _shape(made) == _shape(_by_enum_meta(cls.__name__, body))
    assert ("_sort_order_" in vars(made[cls._member_names_[0]]))
    assert _shape(cls)[2][-1] == _shape(made)[2][-1]  # the module's own class: same members


@pytest.mark.parametrize("extra", [
    {"alias": 0},                      # an alias of the first member
    {"_sunder_": 3},
    {"name": 7},                       # a member shadowing Enum.name
    {"text": "a string"},
    {"_private": 4},
    {"mro": 9},
])
def test_other_bodies_go_to_enum_meta(extra: dict[str, Any]) -> None:
    body = {"__module__": __name__, "__qualname__": "Other", "__tag__": 1, "first": 0, "second": 1, **extra}
    try:
        expected: Any = _shape(_by_enum_meta("Other", body))
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            _by_class_statement("Other", body)
        return
    assert _shape(_by_class_statement("Other", body)) == expected


def test_members_behave_as_enum_members() -> None:
    assert type(Engine) is schema._NodeEnumType and isinstance(Engine.act, enum.Enum)
    assert Engine(1) is Engine.act and Engine["pe"] is Engine.pe and Engine.act in Engine
    assert list(Engine)[:2] == [Engine.unassigned, Engine.act] and len(Engine) == 7
    assert repr(AluOp.add) == "AluOp.add" and str(Dtype.float32) == "Dtype.float32"
    assert f"{Dtype.int8}" == "Dtype.int8" and Dtype.int8.value == 7 and Dtype.int8.size == 1
    assert pickle.loads(pickle.dumps(AluOp.add)) is AluOp.add
    assert copy.deepcopy(Engine.pe) is Engine.pe and hash(Engine.pe) == hash("pe")
    assert Engine.act.ctor == 1 and Engine.__members__["dma"] is Engine.dma
    with pytest.raises(ValueError, match="99 is not a valid Engine"):
        Engine(99)
    with pytest.raises(AttributeError, match="cannot reassign member 'act'"):
        Engine.act = 3  # type: ignore[misc]


@pytest.mark.skipif(not FAST, reason="made by enum.EnumMeta itself on this Python")
@pytest.mark.parametrize(("body", "direct"), [({"a": 0, "b": 1}, True), ({"a": 0, "b": 0}, False)])
def test_made_directly_on_311(body: dict[str, Any], direct: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = enum.EnumMeta.__new__

    def counting(*args: Any, **kwds: Any) -> Any:
        calls.append(args[1])
        return real(*args, **kwds)

    monkeypatch.setattr(enum.EnumMeta, "__new__", counting)
    _by_class_statement("Direct", {"__module__": __name__, "__qualname__": "Direct", **body})
    assert calls == ([] if direct else ["Direct"])
