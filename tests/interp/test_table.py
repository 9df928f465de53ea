"""The operator table: every Core operator is implemented."""


from klr.core import OPERATOR_CLASSES, OPERATOR_NAMES
from klr.interp.registry import IMPLS


def test_every_operator_is_implemented():
    assert set(IMPLS) == set(OPERATOR_CLASSES)
    assert len(IMPLS) == len(OPERATOR_NAMES) == 76


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
