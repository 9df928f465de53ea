"""The builtin registry: signatures, argument checking, dialects, modules, constants."""

from __future__ import annotations

from pathlib import Path

import pytest

from klr.errors import TraceError
from klr.tracer import registry
from klr.tracer.context import Ctx
from klr.tracer.registry import (
    MISSING,
    BuiltinFn,
    ModuleValue,
    ParamKind,
    builtin,
    constant,
    kernel_constant,
    lookup,
)
from tests.tracer.util import run_src


@builtin("nki._reg.legacy_op", dialect="legacy", emits=("ncActivate",))
def _legacy(ctx: Ctx, x: object, *, dtype: object = None) -> str:
    """Legacy flavour."""
    return f"legacy {x} {dtype}"


@builtin("nki._reg.legacy_op", dialect="beta2")
def _beta2(ctx: Ctx, dst: object, x: object) -> str:
    return f"beta2 {dst} {x}"


@builtin("nki._reg.only_legacy", "nki._reg.alias", dialect="legacy")
def _only_legacy(ctx: Ctx, a: object, b: object = 2, /, *rest: object, c: object,
                 **kw: object) -> tuple[object, ...]:
    return a, b, rest, c, kw


constant("nki._reg.answer", 42, doc="the answer")
kernel_constant("nki._reg.arch", lambda ctx: ctx.arch * 10)


def test_signature_is_read_from_the_impl() -> None:
    entry = next(e for e in registry.entries() if e.name == "nki._reg.only_legacy")
    assert entry.kind == "builtin"
    assert entry.aliases == ("nki._reg.alias",)
    assert [(p.name, p.kind, p.default) for p in entry.params] == [
        ("a", ParamKind.positional_only, registry.REQUIRED), ("b", ParamKind.positional_only, 2),
        ("rest", ParamKind.var_positional, registry.REQUIRED),
        ("c", ParamKind.keyword_only, registry.REQUIRED),
        ("kw", ParamKind.var_keyword, registry.REQUIRED)]
    assert entry.signature() == "nki._reg.only_legacy(a, b=2, *rest, c, **kw)"
    legacy = next(e for e in registry.entries() if e.name == "nki._reg.legacy_op" and e.dialect == "legacy")
    assert (legacy.doc, legacy.emits) == ("Legacy flavour.", ("ncActivate",))


def test_lookup_by_dialect_and_alias() -> None:
    legacy = lookup("nki._reg.legacy_op", "legacy")
    beta2 = lookup("neuronxcc.nki._reg.legacy_op", "beta2")
    assert isinstance(legacy, BuiltinFn) and isinstance(beta2, BuiltinFn)
    assert legacy.impl is _legacy and beta2.impl is _beta2
    assert lookup("nki._reg.legacy_op", "legacy") is legacy  # one value per entry: identity holds
    assert lookup("nki._reg.alias", "beta2").impl is _only_legacy  # single-dialect names are found in both
    assert lookup("nki._reg.answer") == 42
    assert isinstance(lookup("nki._reg.arch"), registry.KernelConstant)
    assert isinstance(lookup("nki._reg"), ModuleValue)
    assert lookup("nki._reg.nothing") is MISSING


def test_registering_twice_is_a_bug() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        constant("nki._reg.answer", 1)
    with pytest.raises(ValueError, match="normalised name"):
        constant("neuronxcc.nki._reg.other", 1)


def test_builtins_in_traced_code(tmp_path: Path) -> None:
    src = ("import nki\n\ndef kernel():\n"
           "    f = nki._reg.only_legacy\n"
           "    return (f(1, c=3), f(1, 5, 6, c=0, z=1), nki._reg.answer, nki._reg.arch,\n"
           "            nki._reg.legacy_op(1, 2), f.__name__)\n")
    assert run_src(tmp_path, src) == (
        (1, 2, (), 3, {}), (1, 5, (6,), 0, {"z": 1}), 42, 20, "beta2 1 2", "only_legacy")


@pytest.mark.parametrize(("call", "message"), [
    ("nki._reg.legacy_op(1)", "nki._reg.legacy_op() missing required argument 'x'"),
    ("nki._reg.legacy_op(1, 2, 3)", "nki._reg.legacy_op() takes 2 positional arguments but 3 were given"),
    ("nki._reg.legacy_op(1, x=2, y=3)", "nki._reg.legacy_op() got an unexpected keyword argument 'y'"),
    ("nki._reg.legacy_op(1, 2, dst=3)", "nki._reg.legacy_op() got multiple values for argument 'dst'"),
    ("nki._reg.only_legacy(1)", "nki._reg.only_legacy() missing required argument 'c'"),
    ("nki._reg.nothing", "module 'nki._reg' has no attribute 'nothing'"),
])
def test_argument_errors(tmp_path: Path, call: str, message: str) -> None:
    with pytest.raises(TraceError) as info:
        run_src(tmp_path, f"import nki\n\ndef kernel():\n    return {call}\n")
    assert info.value.message == message
    assert (info.value.pos.line, info.value.pos.column) == (4, 11)


def test_method_helper() -> None:
    def reshape(ctx: Ctx, self: object, *dims: int) -> tuple[object, ...]:
        return (self, dims)

    m = registry.method("tensor.reshape", reshape, "T")
    ctx = Ctx()
    assert m.call(ctx, (2, 3), {}) == ("T", (2, 3))
    assert registry.method("tensor.reshape", reshape, "U").call(ctx, (), {}) == ("U", ())
    with pytest.raises(TraceError, match=r"tensor.reshape\(\) got an unexpected keyword argument 'x'"):
        m.call(ctx, (), {"x": 1})


def test_python_builtins_are_listed() -> None:
    names = {e.name for e in registry.entries()}
    assert {"builtins.len", "builtins.range", "math.ceil", "math.pi", "functools.reduce",
            "dataclasses.field", "enum.auto"} <= names
    assert all(e.dialect == "python" for e in registry.entries() if e.name.startswith(("builtins.", "math.")))


def _stub(a, b=2, *, c=3, d): ...  # type: ignore[no-untyped-def]


@pytest.mark.parametrize("args, kwargs", [
    ((1,), {"d": 4}), ((1, 5), {"d": 4, "c": 6}), ((), {"a": 1, "d": 4}), ((1,), {"b": 7, "d": 4}),
    ((1, 2, 3), {"d": 4}), ((1,), {}), ((1,), {"d": 4, "e": 5}), ((1,), {"a": 1, "d": 4}),
])
def test_binder_agrees_with_inspect(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    import inspect

    from klr.tracer.registry import Binder

    sig = inspect.signature(_stub)
    params = tuple(registry.Param(p.name, registry._KINDS[p.kind],
                                  registry.REQUIRED if p.default is p.empty else p.default)
                   for p in sig.parameters.values())
    got = Binder(params).bind(args, kwargs)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError:
        assert got is None  # the caller binds again with inspect for its message
        return
    bound.apply_defaults()
    assert got is not None and list(got.items()) == list(bound.arguments.items())
