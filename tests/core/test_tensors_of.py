"""``tensors_of`` walks only the fields whose schema type can hold a TensorName; on arbitrary
operators and statements it must find exactly what a walk through every field finds."""
from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings

from klr.core import Operator, Stmt, TensorName, tensors_of
from klr.core.basic import tensor_fields
from klr.pos import Pos
from tests.format.schema_strategies import values


def _every_field(value: Any, seen: dict[str, TensorName]) -> None:
    if isinstance(value, TensorName):
        seen.setdefault(value.name, value)
    elif isinstance(value, tuple):
        for item in value:
            _every_field(item, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, (type, Pos)):
        for f in dataclasses.fields(value):
            _every_field(getattr(value, f.name), seen)


def _naive(value: Any) -> tuple[TensorName, ...]:
    seen: dict[str, TensorName] = {}
    _every_field(value, seen)
    return tuple(seen.values())


@settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
@given(values(Operator))
def test_an_operator_s_tensors_are_found_through_its_tensor_fields(op: Any) -> None:
    assert tensors_of(op) == _naive(op)


@settings(max_examples=100, suppress_health_check=list(HealthCheck), deadline=None)
@given(values(Stmt))
def test_a_statement_s_tensors_are_found(stmt: Any) -> None:
    assert tensors_of(stmt) == _naive(stmt)


def test_fields_without_tensors_are_skipped() -> None:
    from klr.core import NcDmaCopy

    assert set(tensor_fields(NcDmaCopy.__new__(NcDmaCopy))) == {"dst", "src"}
    assert tensor_fields(3) == () and tensor_fields(Pos(1, 2)) == ()
