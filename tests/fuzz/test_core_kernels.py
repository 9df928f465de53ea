"""Random Core kernels through the reference interpreter: success or a positioned EvalError
(or LimitError), never another exception and never an internal error of the interpreter."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from klr.core import LncKernel
from klr.interp import run
from tests.fuzz.core_gen import kernels
from tests.fuzz.support import KlrError, outcome


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(kernel=kernels)
def test_random_core_kernels_never_crash(kernel: LncKernel) -> None:
    got = outcome(lambda: run(kernel, {}), positioned=False)
    if isinstance(got, KlrError) and got.message.startswith("operator"):
        assert got.pos is not None
