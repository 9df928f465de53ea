"""Differential fuzzing of the Python subset: a random program traced by klr.tracer gives what
CPython gives, and where CPython raises, the tracer raises a positioned KlrError."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, reject, settings

from klr.python.gather import gather_file
from klr.tracer.kernel import run_python
from tests.fuzz.pygen import arguments, programs
from tests.fuzz.support import Hang, KlrError, deadline, outcome


def cpython(source: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    """('ok', value) or ('error', exception) from running ``kernel(*args)`` in CPython."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "prog.py", "exec"), namespace)
    try:
        with deadline(5):
            return "ok", namespace["kernel"](*copy.deepcopy(args))
    except Hang:
        reject()  # too slow to be a useful comparison
    except Exception as err:  # the program's own error (ZeroDivisionError, IndexError, ...)
        return "error", err


def traced(tmp_path: Path, source: str, args: tuple[Any, ...]) -> Any:
    path = tmp_path / "prog.py"
    path.write_text(source)
    kernel = gather_file(str(path), "kernel")
    return outcome(lambda: run_python(kernel, args=copy.deepcopy(args))[0])


def check_program(tmp_path: Path, source: str, args: tuple[Any, ...]) -> None:
    kind, expected = cpython(source, args)
    got = traced(tmp_path, source, args)
    if kind == "error":
        assert isinstance(got, KlrError), f"CPython raised {expected!r}, the tracer returned {got!r}"
    else:
        assert not isinstance(got, KlrError), f"CPython returned {expected!r}, the tracer raised {got}"
        assert repr(got) == repr(expected)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])
@given(source=programs, args=arguments)
def test_random_programs_match_cpython(tmp_path: Path, source: str, args: tuple[Any, ...]) -> None:
    check_program(tmp_path, source, args)
