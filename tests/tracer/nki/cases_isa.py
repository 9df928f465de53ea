"""Differential cases of the nki.isa builtins, in both forms where they have two."""

from __future__ import annotations

from tests.tracer.nki.differential import Case

CASES: list[Case] = []
