"""Every NKI builtin, traced in a kernel of ours, evaluated, and checked against numpy; and the
check that nothing registered is left out (``differential.required``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import klr
from klr.tracer.registry import Dialect
from tests.tracer.nki import cases_device, cases_isa, cases_lang
from tests.tracer.nki.differential import EXEMPT, Case, case, required, run_case, trace_case, uncovered

CASES: list[Case] = [*cases_lang.CASES, *cases_isa.CASES, *cases_device.CASES]
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


RANDOM = """
def kernel(s):
    nl.random_seed(nl.load(s))
    r = nl.rand((32, 64))
    out = nl.ndarray((32, 64), dtype=nl.float32, buffer=nl.shared_hbm)
    nl.store(out, value=r)
    return out
"""


def test_random_by_properties(tmp_path: Path) -> None:
    """nl.rand after nl.random_seed: uniform in [0, 1), a function of the seed."""
    seeds = [np.array([[s]], np.int32) for s in (7, 7, 8)]
    result = trace_case(tmp_path, case("rand", RANDOM, [seeds[0]], lambda s: None))
    a, again, other = (klr.eval(result, s).outputs[result.kernel.outputs[0].name] for s in seeds)
    assert a.shape == (32, 64) and a.dtype == np.float32
    assert ((a >= 0) & (a < 1)).all()
    # 2048 uniform draws: the mean is within 0.05 of 1/2 and every tenth of [0, 1) is hit
    assert abs(a.mean() - 0.5) < 0.05 and len(np.unique((a * 10).astype(int))) == 10
    np.testing.assert_array_equal(a, again)
    assert (a != other).mean() > 0.9


def test_device_print_prints_the_tile(tmp_path: Path) -> None:
    src = """
    def kernel(a):
        t = nl.load(a)
        nl.device_print("t = ", t)
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=t)
        return out
    """
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = klr.eval(trace_case(tmp_path, case("print", src, [x], lambda x: x)), x)
    assert [p.text for p in got.prints] == [f"t = {x}"]


def test_no_reorder_keeps_its_statements_in_one_ordered_block(tmp_path: Path) -> None:
    result = trace_case(
        tmp_path, case("no_reorder", cases_lang.NO_REORDER, [cases_lang.X], lambda x: x, beta2=True)
    )
    ordered = [b for b in result.kernel.bodies[0] if b.noReorder]
    assert [type(s.op).__name__ for b in ordered for s in b.body] == ["TensorScalar", "TensorScalar"]


def test_rand_into_a_named_tensor_of_a_buffer(tmp_path: Path) -> None:
    """Beta 2's nl.rand(shape, dtype, buffer, name): the same seed draws the same numbers into
    SBUF (positional) and into a named HBM output (keywords)."""
    src = """
    def kernel(s):
        st = nl.ndarray((1, 1), dtype=nl.int32, buffer=nl.sbuf)
        nisa.dma_copy(dst=st, src=s)
        nl.random_seed(st)
        a = nl.rand((8, 16), nl.float32, nl.sbuf, "noise")
        nl.random_seed(st)
        b = nl.rand((8, 16), dtype=nl.float32, buffer=nl.shared_hbm, name="drawn")
        o = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=o, src=a)
        return o, b
    """
    seed = np.array([[5]], np.int32)
    result = trace_case(tmp_path, case("rand-buffer", src, [seed], lambda s: None, beta2=True))
    assert [t.name for t in result.kernel.outputs] == ["o", "drawn"]
    assert result.kernel.bodies[0][0].body[2].op.dst.tensor.name == "noise"
    got = klr.eval(result, seed).outputs
    a, b = got["o"], got["drawn"]
    assert ((a >= 0) & (a < 1)).all() and len(np.unique(a)) == a.size
    np.testing.assert_array_equal(a, b)
