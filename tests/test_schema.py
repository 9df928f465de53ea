"""IR node classes are frozen, slotted dataclasses to every reader, though ``klr.schema.node``
builds them without ``dataclasses.dataclass`` (to keep ``import klr`` cheap)."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from klr.core import Engine
from klr.core.mathops import ActivationReduce, NcActivate
from klr.pos import Pos
from klr.python import ast as py
from klr.schema import F32, node, record


@node(tag=9999, name="Sample")
class Sample:
    count: int
    scale: F32
    label: str = "x"
    pos: Pos = Pos(0, 0)


def test_a_node_is_a_frozen_slotted_dataclass() -> None:
    s = Sample(3, 0.1)
    assert dataclasses.is_dataclass(s) and dataclasses.is_dataclass(Sample)
    assert [f.name for f in dataclasses.fields(s)] == ["count", "scale", "label", "pos"]
    assert not hasattr(s, "__dict__") and Sample.__slots__ == ("count", "scale", "label", "pos")
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'count'"):
        s.count = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del s.count  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'scale'"):
        Sample(3)  # type: ignore[call-arg]


def test_equality_hashing_and_repr_follow_dataclasses() -> None:
    a, b = Sample(3, 0.5, pos=Pos(1, 2)), Sample(3, 0.5, pos=Pos(7, 8))
    assert a == b and hash(a) == hash(b)          # positions are not compared
    assert a != Sample(3, 0.5, "y") and a != (3, 0.5, "x")
    assert repr(Sample(1, 2.0, pos=Pos(4))) == (
        "Sample(count=1, scale=2.0, label='x', pos=Pos(line=4, column=0, lineEnd=None, "
        "columnEnd=None, filename=None))")
    assert Sample.__eq__(a, 3) is NotImplemented


def test_float32_fields_are_rounded_on_construction_and_replace() -> None:
    assert Sample(1, 0.1).scale == 0.10000000149011612
    assert Sample(1, True).scale is True                       # only numbers are rounded
    assert dataclasses.replace(Sample(1, 2.0), scale=0.1).scale == 0.10000000149011612


def test_standard_library_helpers_work_on_nodes() -> None:
    s = Sample(3, 0.5, "y")
    assert dataclasses.replace(s, count=4) == Sample(4, 0.5, "y")
    assert dataclasses.asdict(s)["label"] == "y"
    assert dataclasses.astuple(s)[:3] == (3, 0.5, "y")
    assert pickle.loads(pickle.dumps(s)) == s and copy.deepcopy(s) == s
    match s:
        case Sample(count, scale, label):
            assert (count, scale, label) == (3, 0.5, "y")
        case _:
            pytest.fail("positional pattern did not match")


def test_a_derived_node_has_its_bases_fields_in_order() -> None:
    assert [f.name for f in dataclasses.fields(ActivationReduce)] == [
        f.name for f in dataclasses.fields(NcActivate)]
    assert ActivationReduce.__slots__ == () and ActivationReduce.ENGINE is Engine.act
    assert NcActivate.__init__ is not ActivationReduce.__init__
    assert NcActivate.__init__.__code__ is ActivationReduce.__init__.__code__  # compiled once


def test_python_ast_constants_are_nodes_too() -> None:
    assert dataclasses.replace(py.CInt(1), value=2) == py.CInt(2)


def test_a_required_field_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="a field without a default follows one with a default"):
        @node()
        class Bad:
            a: int = 1
            b: int


@record
class Point:
    x: int
    y: int = 0
    note: str = dataclasses.field(default="", compare=False)

    def norm(self) -> int:
        return abs(self.x) + abs(self.y)


@dataclasses.dataclass(frozen=True)
class DataPoint:
    x: int
    y: int = 0
    note: str = dataclasses.field(default="", compare=False)


def test_a_record_behaves_as_a_frozen_dataclass() -> None:
    p, d = Point(3, -4, "a"), DataPoint(3, -4, "a")
    assert repr(p) == repr(d).replace("DataPoint", "Point") == "Point(x=3, y=-4, note='a')"
    assert p == Point(3, -4, "b") and hash(p) == hash(Point(3, -4, "b")) == hash(d)
    assert p != Point(3) and p != d and p.norm() == 7
    assert [f.name for f in dataclasses.fields(p)] == ["x", "y", "note"]
    assert Point.__slots__ == ("x", "y", "note") and not hasattr(p, "__dict__")
    assert dataclasses.replace(p, y=1) == Point(3, 1) and dataclasses.asdict(p) == dataclasses.asdict(d)
    assert pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'x'"):
        p.x = 1  # type: ignore[misc]


def test_a_record_refuses_what_it_does_not_support() -> None:
    with pytest.raises(TypeError, match="only a default and compare=False"):
        @record
        class Factory:
            xs: list[int] = dataclasses.field(default_factory=list)
    with pytest.raises(TypeError, match="only a default and compare=False"):
        @record
        class Hidden:
            x: int = dataclasses.field(default=0, repr=False)
    with pytest.raises(TypeError, match="no __post_init__"):
        @record
        class Checked:
            x: int

            def __post_init__(self) -> None: ...


def test_node_inits_are_generated_for_every_signature() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    done = subprocess.run([sys.executable, str(root / "scripts" / "node_inits.py"), "--check"], env=env)
    assert done.returncode == 0, "regenerate with python scripts/node_inits.py"
    code = ("import klr.format.file, klr.core, klr.python.ast, klr.tracer.nki\n"
            "from klr import schema, nodeinits\n"
            "print(all(c is nodeinits.INITS[k].__code__ for k, c in schema._INITS.items()), "
            "len(schema._INITS))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "True" and int(out.stdout.split()[1]) > 100   # none compiled


def test_an_init_is_the_same_generated_or_compiled() -> None:
    from klr import schema

    namespace: dict[str, object] = {}
    exec(schema.init_source(("count", "scale", "label", "pos"), ("scale",)), {}, namespace)
    assert namespace["__init__"].__code__.co_varnames == Sample.__init__.__code__.co_varnames  # type: ignore[attr-defined]
    assert schema.init_source((), ()) == "def __init__(self):\n    pass"
