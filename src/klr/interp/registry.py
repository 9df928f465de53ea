"""One table entry per Core operator: its numpy implementation.

``@impl(Cls)`` registers an implementation; a test checks that every member of ``Operator``
has exactly one.

An operator's shape rule is not here: it is the operator's rule in ``klr.core.rules``, which the
runner checks (``hardware=False``) against the views the statement's accesses denote before it
calls the implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from klr.core.operators import ctor_name
from klr.core.optypes import OperatorPayload
from klr.interp.machine import Core

Run = TypeVar("Run", bound=Callable[..., None])


@dataclass(frozen=True)
class Impl:
    cls: type[OperatorPayload]
    name: str                       # the constructor name (``tensorTensor``)
    run: Callable[[Core, Any], None]  # takes a payload of ``cls``, the only class it is called with


IMPLS: dict[type[OperatorPayload], Impl] = {}


def impl(*classes: type[OperatorPayload]) -> Callable[[Run], Run]:
    """Register ``fn(ctx, op)`` as the implementation of ``classes``."""

    def wrap(fn: Run) -> Run:
        for cls in classes:
            _fresh(cls)
            IMPLS[cls] = Impl(cls, ctor_name(cls), fn)
        return fn

    return wrap


def _fresh(cls: type[OperatorPayload]) -> None:
    if cls in IMPLS:
        raise AssertionError(f"{cls.__name__} registered twice")
