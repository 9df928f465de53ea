"""klr.limits: limits are discovered from the limit classes' constructors and set by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from klr import limits
from klr.errors import UsageError
from klr.interp import EvalLimits
from klr.limits import FileLimits
from klr.tracer.context import Limits


class Timed:
    """A limit class with a float limit, as a phase may add."""

    def __init__(self, max_seconds: float = 1.5, max_steps: int = 10) -> None:
        self.max_seconds = max_seconds
        self.max_steps = max_steps


def test_every_tracer_limit_is_settable_by_name() -> None:
    names = limits.fields_of(Limits)
    assert {"max_stmts", "max_depth"} <= set(names)
    given = {name.replace("_", "-"): "7" for name in names}
    (traced,) = limits.build([Limits], given, "klr trace")
    assert all(getattr(traced, name) == 7 for name in names)


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("1_000", 1000), ("8Gi", 8 * 2**30), ("3k", 3000), ("2M", 2 * 10**6), ("1Ti", 2**40),
])
def test_values_and_suffixes(text: str, value: int) -> None:
    (got,) = limits.build([EvalLimits], {"max_memory": text}, "klr eval")
    assert got.max_memory == value


def test_names_take_dashes_or_underscores_and_reach_every_class() -> None:
    evals, files_ = limits.build([EvalLimits, FileLimits], {"max-memory": "1", "max_file_bytes": 2},
                                 "klr eval")
    assert (evals.max_memory, files_.max_file_bytes, files_.max_source_bytes) == (1, 2, 2**24)


def test_an_unknown_limit_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as info:
        limits.build([EvalLimits, FileLimits], {"max-mem": "1"}, "klr eval")
    assert info.value.message == ("unknown limit 'max-mem' for klr eval; the limits are: "
                                  "max-dump-bytes, max-extra-instructions, max-file-bytes, max-memory, "
                                  "max-source-bytes, max-tensor-bytes")


@pytest.mark.parametrize("text", ["", "-1", "1.5", "abc", "1__0", "1_", "5Q", "1" * 41, "\u0661"])
def test_bad_integer_values(text: str) -> None:
    with pytest.raises(UsageError) as info:
        limits.build([EvalLimits], {"max-memory": text}, "klr eval")
    shown = repr(text if len(text) <= 40 else text[:40] + "...")
    assert info.value.message == ("limit max-memory takes a non-negative integer with an optional k, M, "
                                  f"G, T, Ki, Mi, Gi or Ti suffix, got {shown}")


@pytest.mark.parametrize("value", [-1, 1.5, True, None, [1]])
def test_bad_api_values(value: object) -> None:
    with pytest.raises(UsageError) as info:
        limits.build([EvalLimits], {"max_memory": value}, "klr.eval")
    assert info.value.message == f"limit max-memory takes a non-negative integer, got {value!r}"


def test_float_limits() -> None:
    (t,) = limits.build([Timed], {"max-seconds": "2.5", "max-steps": "3"}, "x")
    assert (t.max_seconds, t.max_steps) == (2.5, 3)
    for bad in ("1e400", "-2", "nan", "x"):
        with pytest.raises(UsageError) as info:
            limits.build([Timed], {"max-seconds": bad}, "x")
        assert info.value.message == f"limit max-seconds takes a non-negative number, got {bad!r}"
    with pytest.raises(UsageError) as info:
        limits.build([Timed], {"max-seconds": 10**400}, "x")
    assert info.value.message == f"limit max-seconds takes a non-negative number, got {10**400!r}"


def test_specs() -> None:
    assert limits.parse_specs(["a=1", " b = 2 ", "a=3"]) == {"a": "3", "b": "2"}
    for bad in ("a", "=1", ""):
        with pytest.raises(UsageError) as info:
            limits.parse_specs([bad])
        assert info.value.message == f"--limit takes NAME=VALUE, got {bad!r}"


def test_the_listing_shows_defaults_and_descriptions() -> None:
    listing = limits.listing([EvalLimits, FileLimits]).splitlines()
    assert listing[0].split()[:2] == ["max-memory", "4294967296"]
    assert "bytes of one Python source file (gather) or --args-json file" in listing[-1]
    assert limits.raise_hint("max_memory") == "--limit max-memory=N raises it"


def test_the_api_takes_the_same_limits(tmp_path: Path) -> None:
    import numpy as np

    import klr
    from klr.errors import FormatError, LimitError
    from tests.cli.test_cli import ADD

    (tmp_path / "add.py").write_text(ADD)
    a = np.ones((4, 4), np.float32)
    with pytest.raises(UsageError, match="unknown limit 'max_stmts' for klr.gather"):
        klr.gather(tmp_path / "add.py", a, a, name="add", limits={"max_stmts": 1})
    py = klr.gather(tmp_path / "add.py", a, a, name="add", limits={"max-source-bytes": "1Ki"})
    with pytest.raises(LimitError, match="the kernel emits more than 1 statements"):
        klr.trace(py, limits={"max-stmts": 1})
    traced = klr.trace(py, limits={"max_stmts": 100})
    with pytest.raises(LimitError, match="more than the eval memory limit of 100 "):
        klr.eval(traced, a, a, limits={"max_memory": 100})
    klr.save(tmp_path / "add.core.klr", traced)
    with pytest.raises(FormatError, match="more than the limit of 10 "):
        klr.eval(tmp_path / "add.core.klr", a, a, limits={"max_file_bytes": 10})
    assert np.array_equal(klr.eval(tmp_path / "add.core.klr", a, a).outputs["out"], 2 * a)
