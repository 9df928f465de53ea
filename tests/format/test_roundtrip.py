"""Codec properties over every IR type: round trips, and clear errors on any damaged input."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import klr.core as core
import klr.python.ast as pyast
from klr.errors import FormatError
from klr.format import file as kfile
from klr.format.cbor import decode, encode
from klr.schema import NodeEnum, Sum, info_of

from .schema_strategies import values


def _is_node_type(obj: Any) -> bool:
    if isinstance(obj, type):
        return (issubclass(obj, NodeEnum) and obj is not NodeEnum) or (
            hasattr(obj, "__klr__") and info_of(obj).tag is not None)
    return typing.get_origin(obj) is typing.Annotated and any(
        isinstance(m, Sum) for m in typing.get_args(obj)[1:])


def _node_types(module: Any) -> dict[str, Any]:
    """Every struct, enum and sum type a module declares, by name."""
    found: dict[str, Any] = {}
    for name, obj in vars(module).items():
        if _is_node_type(obj):
            found[name] = obj
    return found


TYPES = {f"core.{k}": v for k, v in _node_types(core).items()}
TYPES.update({f"python.{k}": v for k, v in _node_types(pyast).items()})


def test_every_layer_declares_types() -> None:
    assert {"core.Operator", "core.LncKernel", "core.TensorRef", "python.Kernel", "python.Expr"} <= set(TYPES)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_round_trip(name: str) -> None:
    tp = TYPES[name]

    @settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)
    @given(values(tp))
    def check(value: Any) -> None:
        data = encode(value, tp)
        assert decode(data, tp) == value
        assert encode(decode(data, tp), tp) == data

    check()




def _prefix_cases() -> list[bytes]:
    from tests.format.test_golden import lnc_small

    return [kfile.to_bytes(lnc_small())]


def test_every_truncated_prefix_gives_a_clear_error() -> None:
    for data in _prefix_cases():
        for n in range(len(data)):
            with pytest.raises(FormatError):
                kfile.from_bytes(data[:n])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_files_never_crash(data: st.DataObject) -> None:
    raw = bytearray(_prefix_cases()[0])
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    try:
        kfile.from_bytes(bytes(raw))
    except FormatError:
        pass


def test_wrong_magic_version_and_kind() -> None:
    good = _prefix_cases()[0]
    with pytest.raises(FormatError, match="not a KLR file"):
        kfile.from_bytes(b"\x00" * 20)
    with pytest.raises(FormatError, match=r"unsupported KLR file version 0\.0\.13; this klr reads 0\.0\.12"):
        kfile.from_bytes(good[:6] + b"\x0d" + good[7:])
    with pytest.raises(FormatError, match=r"holds a traced Core kernel \(klr trace\), but a gathered "
                                          r"Python AST \(klr gather\) is needed"):
        kfile.from_bytes(good, expect="python")
    with pytest.raises(FormatError, match="unexpected bytes after the contents"):
        kfile.from_bytes(good + b"\x00")


def test_r12_python_ast_is_recognised() -> None:
    # Contents.python wrapping an R12 Kernel, whose tag was 14 (HEAD: 16)
    data = kfile.HEADER + kfile.METADATA + bytes.fromhex("d9 ec 00 81 d9 0e 00 85")
    with pytest.raises(FormatError, match="written by the released klr-lang 0.0.12"):
        kfile.from_bytes(data)
