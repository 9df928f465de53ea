"""``schema._evaluate`` reads a field's annotation as ``eval`` does, for the forms it knows."""

from __future__ import annotations

import sys

import klr.core
import klr.python.ast
from klr import schema


def test_every_field_annotation_as_eval_reads_it() -> None:
    fast = 0
    classes = [c for c in schema._SPECS if c.__module__.startswith("klr.")]
    assert len(classes) > 150
    for cls in classes:
        module = vars(sys.modules[cls.__module__])
        for ann in vars(cls).get("__annotations__", {}).values():
            if not isinstance(ann, str):
                continue
            got = schema._evaluate(ann, module)
            if got is not schema._MISSING:
                fast += 1
                assert got == eval(ann, module), ann
    assert fast > 300  # most fields: the others go to eval


def test_other_forms_are_left_to_eval() -> None:
    module = vars(klr.core)
    for text in ("tuple[Engine, Engine]", "Engine | Memory", "Nope", "tuple[Nope, ...]", "Nope | None",
                 "ClassVar[int]", "int"):
        assert schema._evaluate(text, module) is schema._MISSING, text
    assert schema._evaluate("tuple[Engine, ...] | None", module) == (tuple[klr.core.Engine, ...] | None)
