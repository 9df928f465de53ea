"""Test configuration: hypothesis is derandomized unless a random run is asked for.

By default every run on every machine tests the same examples (no example database either, so
a failure saved on one machine is not replayed on another). ``HYPOTHESIS_PROFILE=random``
draws fresh examples each run; random exploration at scale is ``python bench/fuzz.py``.
"""

import os
import tempfile
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("random", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# The compile cache of klr.simulate (klr.sim.cache) starts empty in every test session and never
# touches the user's own; the commands tests run as processes inherit it.
_CACHE = tempfile.TemporaryDirectory(prefix="klr-test-cache-")
os.environ["KLR_CACHE_DIR"] = os.path.join(_CACHE.name, "klr")
os.environ.pop("KLR_CACHE", None)


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
