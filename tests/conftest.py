"""Test configuration: a deterministic hypothesis profile for CI."""

import os
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else
                      os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _traces_are_well_formed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every trace a test makes ends with the static checker at shape level: a tracer emitting
    ill-formed Core fails the test that traced it (style.md: check the IR where it is built)."""
    from klr.core.rules import check_kernel
    from klr.tracer import kernel

    traced = kernel.trace

    def trace(*args: Any, **kwargs: Any) -> Any:
        result = traced(*args, **kwargs)
        broken = check_kernel(result.kernel, hardware=False)
        assert not broken, "the tracer emitted ill-formed Core:\n" + "\n".join(map(str, broken[:10]))
        return result

    monkeypatch.setattr(kernel, "trace", trace)
