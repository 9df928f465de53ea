"""Every NKI builtin, traced in a kernel of ours, evaluated, and checked against numpy; and the
check that nothing registered is left out (``differential.required``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from klr.tracer.registry import Dialect
from tests.tracer.nki import cases_isa, cases_lang
from tests.tracer.nki.differential import EXEMPT, Case, required, run_case, trace_case, uncovered

CASES: list[Case] = [*cases_lang.CASES, *cases_isa.CASES]
_USED: dict[str, set[tuple[str, Dialect]]] = {}
"""The builtins each case's trace called, kept by the run of the case for the coverage test."""


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_against_numpy(tmp_path: Path, c: Case) -> None:
    _USED[c.id] = run_case(tmp_path, c).builtins


def test_every_builtin_is_checked_against_numpy(tmp_path: Path) -> None:
    used: set[tuple[str, Dialect]] = set()
    for c in CASES:
        got = _USED.get(c.id)
        used |= got if got is not None else trace_case(tmp_path, c).builtins
    missing = uncovered(used, required())
    assert not missing, "builtins no differential case calls (add a case to cases_*.py):\n  " + "\n  ".join(
        missing
    )


def test_exemptions_are_registered_and_needed(tmp_path: Path) -> None:
    from klr.tracer import entries

    names = {e.name for e in entries() if e.kind == "builtin"}
    assert set(EXEMPT) <= names, sorted(set(EXEMPT) - names)
    used = {n for c in CASES for n, _ in _USED.get(c.id) or trace_case(tmp_path, c).builtins}
    assert not set(EXEMPT) & used, f"exempt but covered (drop the exemption): {sorted(set(EXEMPT) & used)}"
