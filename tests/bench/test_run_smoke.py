"""Smoke tests of bench/run.py's code paths on tiny sizes, so the benchmarks do not rot.

They check what the benchmarks compute (statement counts, tensor bytes, reports, JSON), never
how fast anything is.
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import cases  # noqa: E402
import evalbench  # noqa: E402
import phases  # noqa: E402
import reference  # noqa: E402
import run  # noqa: E402
import scaling  # noqa: E402
from measure import jsonable, run_process, tensor_bytes  # noqa: E402


def test_startup_and_cache_sections_print_their_targets() -> None:
    out = io.StringIO()
    rep = run.run(run.Plan(("startup", "cache"), repeat=1), out=out)
    text = out.getvalue()
    assert "klr --help" in text and "klr.format.file" in text and "numpy imported by" in text
    assert [t.issue for t in rep.targets] == ["1"] * 5 + ["5"]
    assert {t.status for t in rep.targets} <= {"PASS", "FAIL"}
    startup = rep.data["startup"]
    assert startup.imports["klr.format.file"] > 0 and set(startup.numpy) == {"gather", "info", "trace"}
    data = json.loads(json.dumps(jsonable({"targets": rep.targets, **rep.data})))
    assert data["startup"]["help"]["runs"] == 1


def test_phases_of_one_example() -> None:
    ex = cases.refs.load("transpose2d")
    inner = phases.in_process(ex, 1)
    assert (inner.statements, inner.matches, inner.round_trip) == (3, True, True)
    assert set(inner.times) == set(phases.PHASES) and set(inner.peaks) == set(phases.MEMORY_PHASES)
    whole = phases.whole_process(ex, 1)
    assert whole.eval is not None
    assert whole.trace.last.stdout.startswith("traced transpose2d_kernel: 3 Core statements")
    report = phases.report([whole], [inner])
    assert report.count("transpose2d") == 2


def test_scaling_counts_statements_and_steps() -> None:
    s = scaling.measure_scaling((8, 16, 40), 1, whole_process=False)
    assert [p.statements for p in s.points] == [8, 16, 40]
    assert s.marginal(0) is None and isinstance(s.linearity, float)  # its value is timing noise here
    assert "linearity" in scaling.report(s)


def test_eval_case_measures_the_kernels_tensors() -> None:
    result = evalbench.run_case(evalbench.EvalCase(cases.add_tiles(2), np.add), 1)
    tile = 128 * 512 * 4
    # two tiles: inputs a and b, output out, and per tile two loaded tiles and one sum on chip
    assert result.tensors == {"inputs": 4 * tile, "outputs": 2 * tile, "on_chip": 6 * tile}
    assert result.matches and result.statements == 8 and result.klr_peak >= 4 * tile
    assert "add_tiles[2]" in evalbench.report([result])
    data = json.loads(json.dumps(jsonable(result)))
    assert data["memory_ratio"] == result.memory_ratio and data["tensors"]["on_chip"] == 6 * tile


def test_eval_case_that_does_not_fit_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evalbench, "_available_memory", lambda: 0)
    result = evalbench.run_case(evalbench.EvalCase(cases.add_tiles(1), np.add), 1)
    assert result.skipped is not None and result.skipped.startswith("needs about")
    assert "add_tiles[1]: skipped: needs about" in evalbench.report([result])


def test_tensor_bytes_of_a_matmul() -> None:
    import klr

    ex = cases.matmul(128, 128, 512)
    traced = klr.trace(cases.gather(ex, ex.make_inputs()))
    sizes = tensor_bytes(traced)
    assert sizes["inputs"] == (128 * 128 + 128 * 512) * 2 and sizes["outputs"] == 128 * 512 * 2
    assert sizes["on_chip"] > 0


def test_reference_kernels_and_report() -> None:
    assert reference.kernels() == [("scale", 2), ("scale_shift", 2), ("copy_rows", 2), ("scale_rows", 2),
                                   ("repeat_small", 2), ("repeat_large", 2)]
    failed = reference.Comparison("scale", 3, None, None, "the reference fails: exit 1")
    assert "scale: the reference fails: exit 1" in reference.report([failed])
    assert reference.geomean([0.5, 2.0]) == pytest.approx(1.0)


def test_plan_sections() -> None:
    plan, json_out = run.parse_plan(["--only", "startup", "--reference", "--quick", "--json", "x.json"])
    assert plan.sections == ("startup", "reference") and plan.quick and json_out == Path("x.json")
    assert run.parse_plan([])[0].sections == run.DEFAULT_SECTIONS
    with pytest.raises(SystemExit):
        run.parse_plan(["--only", "nonsense"])


def test_run_process_reports_the_childs_own_exit_and_output() -> None:
    result = run_process([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"])
    assert (result.returncode, result.stdout) == (3, "hi\n") and result.maxrss > 0
