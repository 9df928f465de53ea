"""The operator table: every Core operator is implemented or explicitly not supported."""

import numpy as np
import pytest

from klr.core import OPERATOR_CLASSES, OPERATOR_NAMES, SendRecv
from klr.core.operators import operator_name
from klr.errors import EvalError, render_error
from klr.interp import run
from klr.interp.registry import IMPLS, UNSUPPORTED
from tests.interp.builder import FILE, full, hbm, iimm, kernel


def test_every_operator_is_implemented_or_listed_as_unsupported():
    for cls, name in zip(OPERATOR_CLASSES, OPERATOR_NAMES, strict=True):
        assert (cls in IMPLS) != (cls in UNSUPPORTED), name
    assert set(IMPLS) | set(UNSUPPORTED) == set(OPERATOR_CLASSES)


def test_implementations_carry_the_reference_constructor_name():
    for cls, found in IMPLS.items():
        assert found.name == OPERATOR_NAMES[OPERATOR_CLASSES.index(cls)]


def test_operators_the_tracer_emits_are_implemented():
    from klr.tracer import entries

    emitted = {name for entry in entries() for name in entry.emits}
    assert emitted, "the tracer registry declares no emitted operators"
    assert emitted <= set(OPERATOR_NAMES), emitted - set(OPERATOR_NAMES)
    implemented = {found.name for found in IMPLS.values()}
    assert emitted <= implemented, sorted(emitted - implemented)


def test_an_unsupported_operator_is_a_positioned_error():
    a, out = hbm("a", (2, 2)), hbm("out", (2, 2))
    op = SendRecv(full(out), full(a), iimm(1), iimm(0), iimm(0), False)
    with pytest.raises(EvalError) as info:
        run(kernel([a], [out], [op]), {"a": np.zeros((2, 2), np.float32)})
    err = info.value
    assert err.message == "operator 'sendRecv' is not supported by the interpreter"
    assert (err.pos.line, err.pos.column, err.pos.filename) == (10, 4, FILE)
    assert operator_name(op) == "sendRecv"
    assert render_error(err).splitlines() == [
        "kern.py:10:5: error: operator 'sendRecv' is not supported by the interpreter",
        "note: 'sendRecv' is not run because communication between ranks needs more than one device",
    ]
