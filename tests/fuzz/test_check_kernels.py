"""Random Core kernels through the static checker: a list of one-line diagnostics, never an
exception, and the shape rules it reports are the ones the interpreter enforces."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klr.core import OPERATOR_CLASSES, Block, LncKernel, Stmt
from klr.core.rules import Diagnostic, check_kernel
from klr.pos import Pos
from klr.schema import describe
from tests.fuzz.core_gen import POOL, _strategy
from tests.fuzz.support import deadline

any_operator = st.one_of([_strategy(describe(cls), 5) for cls in OPERATOR_CLASSES])
any_statement = st.builds(Stmt, any_operator, st.just("inst.1"), st.just(Pos(3, 4, filename="fuzz.py")))
any_kernel = st.lists(any_statement, min_size=1, max_size=4).map(
    lambda body: LncKernel("fuzz", (), POOL[:2], ((Block("main", False, tuple(body)),),), (), (), ()))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(kernel=any_kernel)
def test_random_kernels_check_without_crashing(kernel: LncKernel) -> None:
    with deadline():
        found = check_kernel(kernel)
        shapes_only = check_kernel(kernel, hardware=False)
    for d in (*found, *shapes_only):
        assert isinstance(d, Diagnostic) and d.message and "\n" not in d.message
    # hardware rules only add: a statement broken at the shape level is broken under both
    assert {d.index for d in shapes_only} <= {d.index for d in found}
