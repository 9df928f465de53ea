"""Source-level mutants of the example kernels (tests/fuzz/mutants.py): gather -> trace -> eval
succeeds or fails with a positioned KlrError, never another exception, never a hang."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.mutants import NAMES, TREES, Mutation, make_mutant, mutations, run_mutant, sites


@settings(max_examples=250, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), muts=st.lists(mutations, min_size=1, max_size=3))
def test_mutants_never_crash(tmp_path: Path, name: str, muts: list[Mutation]) -> None:
    run_mutant(make_mutant(name, muts), tmp_path)


def test_every_example_has_mutation_sites() -> None:
    for name, tree in TREES.items():
        kinds = [k for k in ("number", "index", "function", "delete") if sites(tree, k)]
        assert len(kinds) >= 3, (name, kinds)
