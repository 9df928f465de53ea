"""The two dialect forms of an ``nki.isa`` builtin are made without ``inspect``
(klr.tracer.nki.dialects): they print, bind and combine exactly as ``inspect`` signatures did."""

from __future__ import annotations

import enum
import inspect
import subprocess
import sys

import pytest

from klr.tracer import registry
from klr.tracer.nki.dialects import UNSET, Form, cleandoc, form, union
from klr.tracer.registry import REQUIRED, Binder, Param, ParamKind, entries


class _Engine(enum.Enum):
    act = 1


FORMS = [
    form(),
    form("src"),
    form("dst", "src", mask=None, dtype=None, engine=None, name=None),
    form("dst", "data", "op0", operand0=UNSET, reverse0=False, op1=None, operand1=0.0, scale=1, axis=-2),
    form("a", engine=_Engine.act, text="x'y", shape=(1, 2), neg=-1.5),
]


@pytest.mark.parametrize("f", FORMS, ids=str)
def test_a_form_prints_as_inspect_prints_its_signature(f: Form) -> None:
    assert str(f) == str(f.signature())
    assert [(p.name, p.default) for p in f.params] == [
        (p.name, REQUIRED if p.default is p.empty else p.default) for p in f.signature().parameters.values()]


def _inspect_union(b2: inspect.Signature, lg: inspect.Signature | None) -> tuple[Param, ...]:
    """The union as it was made with ``inspect``: the beta 2 form's parameters, then the legacy
    form's others as keyword-only; ``UNSET`` where there is no default."""
    kinds = registry._KINDS
    params = [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=UNSET if p.default is p.empty else p.default)
              for p in b2.parameters.values()]
    for p in (lg.parameters.values() if lg is not None else ()):
        if p.name not in b2.parameters:
            params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY,
                                            default=UNSET if p.default is p.empty else p.default))
    return tuple(Param(p.name, kinds[p.kind], p.default) for p in params)


@pytest.mark.parametrize("b2", FORMS, ids=str)
@pytest.mark.parametrize("lg", [None, *FORMS], ids=str)
def test_the_union_of_two_forms_is_inspect_s(b2: Form, lg: Form | None) -> None:
    assert union(b2, lg) == _inspect_union(b2.signature(), None if lg is None else lg.signature())


@pytest.mark.parametrize("args, kwargs", [
    ((), {}), ((1,), {}), ((1, 2), {}), ((1, 2, 3), {"dtype": 4}), ((1,), {"src": 2}),
    ((1, 2), {"mask": 3, "name": "n"}), ((1, 2, 3, 4, 5, 6, 7), {}), ((1, 2), {"other": 3}),
    ((1, 2), {"dst": 3}),
])
def test_a_form_binds_as_its_inspect_signature(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    f = FORMS[2]
    got = Binder(f.params).bind(args, kwargs)
    try:
        bound = f.signature().bind(*args, **kwargs)
    except TypeError:
        assert got is None
        return
    bound.apply_defaults()
    assert got is not None and list(got.items()) == list(bound.arguments.items())


def test_cleandoc_is_inspect_s() -> None:
    docs = [e.impl.__wrapped__.__doc__ for e in entries()  # type: ignore[union-attr]
            if e.impl is not None and hasattr(e.impl, "__wrapped__")]
    assert len(docs) > 40
    docs += ["", "  one line  ", "\n\n  first\n    second\n\tthird\n\n  \n", "x\n  a\n    b\n\n"]
    for doc in docs:
        assert cleandoc(doc or "") == inspect.cleandoc(doc or "")
    wrapped = [e.impl for e in entries() if e.impl is not None and hasattr(e.impl, "__wrapped__")]
    for fn in wrapped:  # the forms follow the implementation's docstring, cleaned
        assert fn.__doc__.startswith(inspect.getdoc(fn.__wrapped__) or "")  # type: ignore[attr-defined, union-attr]


def test_an_isa_builtin_s_parameters_are_the_union_of_its_forms() -> None:
    (entry,) = [e for e in entries() if e.name == "nki.isa.tensor_copy"]
    assert [str(p) for p in entry.params] == [
        "dst=<required>", "src=<required>", "mask=None", "dtype=None", "engine=None", "name=None"]
    assert [p.kind for p in entry.params[:2]] == [ParamKind.positional, ParamKind.positional]
    assert entry.forms == (
        ("beta2", "nki.isa.tensor_copy(dst, src, mask=None, dtype=None, engine=None, name=None)"),
        ("legacy", "nki.isa.tensor_copy(src, mask=None, dtype=None, engine=None, name=None)"))


def test_an_nki_trace_imports_no_inspect() -> None:
    code = ("import sys; from klr.tracer import nki, registry; "
            "registry.lookup('nki.isa.tensor_copy'); registry.lookup('nki.language.load'); "
            "print('inspect' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
