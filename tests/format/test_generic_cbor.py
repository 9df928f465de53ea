"""Our bytes are standard CBOR wherever the proof-field quirk does not apply: an independent
decoder (cbor2) reads them as nested tags and arrays with the scalars we meant."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest
from hypothesis import given, settings

from klr.core import Address, AluOp, APPair, DataPattern, Dtype, Immediate, Memory
from klr.format.cbor import encode
from klr.pos import Pos
from klr.schema import Kind, TypeDesc, describe, fields_of

from .schema_strategies import values


def _scalars(v: Any, out: list[Any]) -> list[Any]:
    """Leaves of a cbor2 parse, in order (tags and arrays are structure)."""
    if isinstance(v, cbor2.CBORTag):
        _scalars(v.value, out)
    elif isinstance(v, list):
        for x in v:
            _scalars(x, out)
    else:
        out.append(v)
    return out


def _leaves(v: Any, d: TypeDesc) -> list[Any]:
    """The scalar fields of a value in wire order, read from the schema, not from bytes."""
    match d.kind:
        case Kind.PRIM:
            return [v]
        case Kind.OPTION:
            return [] if v is None else _leaves(v, d.args[0])
        case Kind.LIST:
            return [x for item in v for x in _leaves(item, d.args[0])]
        case Kind.ENUM:
            return []
        case Kind.STRUCT | Kind.CTOR:
            return [x for f in fields_of(type(v)) for x in _leaves(getattr(v, f.name), describe(f.type))]
        case Kind.SUM:
            member = next(a for a in d.args if a.kind in (Kind.STRUCT, Kind.CTOR) and type(v) is a.cls)
            return _leaves(v, member)
    raise TypeError(d)


def test_pos_reads_as_nested_tags() -> None:
    parsed = cbor2.loads(encode(Pos(300, 25, 301, 7, "kernel.py")))
    assert parsed.tag == 100 << 8
    assert parsed.value[:2] == [300, 25]
    assert [(x.tag, x.value) for x in parsed.value[2:]] == [(0xFF01, [301]), (0xFF01, [7]),
                                                           (0xFF01, ["kernel.py"])]


@pytest.mark.parametrize("tp", [Pos, APPair, DataPattern, Immediate, AluOp, Dtype | None])
def test_quirk_free_core_values_are_standard_cbor(tp: Any) -> None:
    # Python-AST tags (1-17) collide with registered CBOR semantic tags (256-...), so a generic
    # decoder can only be trusted on Core types, whose tags are 100 and up.

    @settings(max_examples=50, deadline=None)
    @given(values(tp))
    def check(value: Any) -> None:
        data = encode(value, tp)
        parsed = cbor2.loads(data)
        assert isinstance(parsed, cbor2.CBORTag) and parsed.tag >> 8 == data[1]
        assert _scalars(parsed, []) == _leaves(value, describe(tp))

    check()


@pytest.mark.parametrize("n", [23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1])
@pytest.mark.parametrize("length", [0, 23, 24, 255, 256, 300])
def test_numbers_and_strings_written_in_place_have_the_shortest_heads(n: int, length: int) -> None:
    """The generated struct encoders write common numbers and ASCII strings without the generic
    encoders: their heads are still the shortest standard ones (cbor2 reads them; their sizes)."""
    for name in ("x" * length, "é" * length):
        data = encode(Address(name, Memory.sbuf, n, n, n, None, False))
        assert _scalars(cbor2.loads(data), []) == [name, n, n, n, False]
        number, text = len(cbor2.dumps(n)), len(cbor2.dumps(name))
        assert len(data) == 4 + text + 4 + 2 * number + 4 + number + 4 + 1
        data = encode(Pos(n, n, n, None, name))  # numbers and strings inside options
        assert _scalars(cbor2.loads(data), []) == [n, n, n, name]
        assert len(data) == 4 + 2 * number + 4 + number + 4 + 4 + text
