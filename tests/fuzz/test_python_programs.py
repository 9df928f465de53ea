"""Differential fuzzing of the Python subset: a random program (tests/fuzz/pygen.py) traced by
klr.tracer gives what CPython gives, and where CPython raises, the tracer raises a positioned
KlrError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

from tests.fuzz.pygen import arguments, check_program, programs


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])
@given(source=programs, args=arguments)
def test_random_programs_match_cpython(tmp_path: Path, source: str, args: tuple[Any, ...]) -> None:
    check_program(tmp_path, source, args)
