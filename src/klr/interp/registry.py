"""One table entry per Core operator: its shape/dtype rule and its numpy implementation.

``@impl(Cls, check=rule)`` registers both side by side; ``unsupported(Cls, reason)`` records
an operator the interpreter does not run (executing it is an EvalError naming it). A test
checks that every member of ``Operator`` is in exactly one of the two tables.

Check rules are small combinators over field names (``same_shape("dst", "src0", "src1")``,
``per_partition("bias")``...); they run before the implementation, against the views the
statement's accesses denote, and fail with one sentence naming the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from klr.core.operators import OPERATOR_CLASSES, OPERATOR_NAMES
from klr.core.tensor import ImmFloat, ImmInt, ImmPointer, ImmRegister
from klr.interp.machine import Core

Check = Callable[[Core, Any], None]
Run = Callable[[Core, Any], None]

_NAMES: dict[type, str] = dict(zip(OPERATOR_CLASSES, OPERATOR_NAMES, strict=True))


@dataclass(frozen=True)
class Rule:
    cls: type
    name: str
    check: Check
    run: Run


RULES: dict[type, Rule] = {}
UNSUPPORTED: dict[type, str] = {}


def op_name(cls: type) -> str:
    return _NAMES[cls]


def _no_check(_ctx: Core, _op: Any) -> None:
    return None


def impl(*classes: type, check: Check | tuple[Check, ...] = ()) -> Callable[[Run], Run]:
    """Register ``fn`` as the implementation of ``classes``, after the given check rules."""
    checks = check if isinstance(check, tuple) else (check,)

    def run_checks(ctx: Core, op: Any) -> None:
        for c in checks:
            c(ctx, op)

    def wrap(fn: Run) -> Run:
        for cls in classes:
            if cls in RULES or cls in UNSUPPORTED:
                raise AssertionError(f"{cls.__name__} registered twice")
            RULES[cls] = Rule(cls, op_name(cls), run_checks if checks else _no_check, fn)
        return fn

    return wrap


def unsupported(reason: str, *classes: type) -> None:
    """Record operators the interpreter does not execute, with the reason shown to users."""
    for cls in classes:
        if cls in RULES or cls in UNSUPPORTED:
            raise AssertionError(f"{cls.__name__} registered twice")
        UNSUPPORTED[cls] = reason


# --- check rules -------------------------------------------------------------------------------


def is_imm(value: object) -> bool:
    return isinstance(value, (ImmInt, ImmFloat, ImmRegister, ImmPointer))


def _shape_text(ctx: Core, ref: object) -> str:
    return "[" + ", ".join(map(str, ctx.nd_shape(ref))) + "]"


def same_shape(first: str, *others: str) -> Check:
    """Every named tensor field (None skipped) has first's partitions and free element count."""

    def rule(ctx: Core, op: Any) -> None:
        ref = getattr(op, first)
        want = ctx.shape(ref)
        for name in others:
            other = getattr(op, name)
            if other is None or is_imm(other):
                continue
            if ctx.shape(other) != want:
                ctx.fail(f"{name} has shape {_shape_text(ctx, other)} but {first} has "
                         f"{_shape_text(ctx, ref)}")

    return rule


def same_count(first: str, second: str) -> Check:
    """Both fields have the same total number of elements."""

    def rule(ctx: Core, op: Any) -> None:
        a, b = getattr(op, first), getattr(op, second)
        pa, fa = ctx.shape(a)
        pb, fb = ctx.shape(b)
        if pa * fa != pb * fb:
            ctx.fail(f"{second} has {pb * fb} elements ({_shape_text(ctx, b)}) but {first} has "
                     f"{pa * fa} ({_shape_text(ctx, a)})")

    return rule


def per_partition(field_name: str, like: str) -> Check:
    """A tile field (immediates and None pass) holds one element per partition of ``like``."""

    def rule(ctx: Core, op: Any) -> None:
        value = getattr(op, field_name)
        if value is None or is_imm(value):
            return
        want = ctx.shape(getattr(op, like))[0]
        if ctx.shape(value) != (want, 1):
            ctx.fail(f"{field_name} must have one element per partition ([{want}, 1]) but has "
                     f"shape {_shape_text(ctx, value)}")

    return rule


def free_size(field_name: str, size: int) -> Check:
    """A tensor field has exactly ``size`` free elements per partition."""

    def rule(ctx: Core, op: Any) -> None:
        value = getattr(op, field_name)
        if value is None:
            return
        if ctx.shape(value)[1] != size:
            ctx.fail(f"{field_name} must have {size} elements per partition but has shape "
                     f"{_shape_text(ctx, value)}")

    return rule


def same_partitions(first: str, *others: str) -> Check:
    """The named tensor fields (None skipped) span the same number of partitions."""

    def rule(ctx: Core, op: Any) -> None:
        want = ctx.shape(getattr(op, first))[0]
        for name in others:
            other = getattr(op, name)
            if other is None or is_imm(other):
                continue
            if ctx.shape(other)[0] != want:
                ctx.fail(f"{name} has {ctx.shape(other)[0]} partitions but {first} has {want}")

    return rule
