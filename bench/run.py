"""Measure klr against every target of issue 13 and print each with its value and PASS/FAIL.

    python bench/run.py [--json OUT] [--quick] [--only SECTION,...] [--reference]
                        [--reference-dir DIR] [--repeat N] [--max-statements N]

Sections (all but ``reference`` run by default; ``--reference`` adds it):

* ``startup``: ``klr --help`` against ``python -c pass``, ``klr info``, gather and trace of a
  3-statement kernel as whole processes; import times; whether gather and info import numpy.
* ``phases``: each example and synthetic kernel, whole process (``klr gather/trace/eval``) and
  in process (parse, gather, trace, encode, decode, eval), with statements/s and peak memory.
* ``scaling``: trace of ``add_tiles`` from 10^2 to 10^6 statements (``--quick``: to 10^5).
* ``eval``: the interpreter against plain numpy on a tiled add, a bf16 matmul, softmax, layernorm.
* ``reference``: gather + trace side by side with klr-lang 0.0.12 (install it first with
  ``python bench/reference.py setup``).
* ``cache``: whether the compile cache exists.

Timings are medians of several runs (``--repeat`` sets how many; ``--quick`` takes fewer runs
and smaller sizes). docs/performance.md explains every number.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cases
import evalbench
import phases
import reference
import scaling
import startup
from measure import ROOT, child_env, jsonable, klr_command, run_process, table

SECTIONS = ("startup", "phases", "scaling", "eval", "reference", "cache")
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s != "reference")


@dataclass
class Target:
    issue: str       # the target's number in issue 13
    what: str
    value: str
    goal: str
    status: str      # PASS, FAIL or SKIP
    number: float | None = None


@dataclass
class Plan:
    sections: tuple[str, ...]
    quick: bool = False
    repeat: int | None = None        # overrides every section's default
    max_statements: int = 1_000_000
    reference_dir: Path = reference.DEFAULT_DIR

    def runs(self, full: int, quick: int) -> int:
        return self.repeat if self.repeat is not None else (quick if self.quick else full)


@dataclass
class Report:
    targets: list[Target] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def check(self, issue: str, what: str, number: float, goal: float, *, unit: str = "",
              at_most: bool = True, cpu: float | None = None) -> None:
        """A target on wall time (or a size); ``cpu`` is the same number in CPU time, shown beside it."""
        status = "PASS" if (number <= goal if at_most else number >= goal) else "FAIL"
        bound = f"{'<=' if at_most else '>='} {_num(goal)}{unit}"
        shown = f"{_num(number)}{unit}" + (f" (cpu {_num(cpu)}{unit})" if cpu is not None else "")
        self.targets.append(Target(issue, what, shown, bound, status, number))

    def note(self, issue: str, what: str, value: str, goal: str, status: str) -> None:
        self.targets.append(Target(issue, what, value, goal, status))


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def run_startup(plan: Plan, rep: Report) -> str:
    s = startup.measure_startup(plan.runs(10, 3))
    rep.data["startup"] = s
    rep.check("1", "klr --help / python -c pass", s.help.wall / s.python.wall, 2.0, unit="x",
              cpu=s.help.cpu / s.python.cpu)
    rep.check("1", "klr info on a small file", s.info.wall * 1e3, 100, unit=" ms", cpu=s.info.cpu * 1e3)
    rep.check("1", "klr trace of a 3-statement kernel (whole process)", s.trace.wall * 1e3, 100, unit=" ms",
              cpu=s.trace.cpu * 1e3)
    for command in ("gather", "info"):
        imports = s.numpy[command]
        rep.note("1", f"klr {command} does not import numpy", "imports numpy" if imports else "no numpy",
                 "no numpy", "FAIL" if imports else "PASS")
    return startup.report(s)


def phase_cases(quick: bool) -> list[Any]:
    if quick:
        synthetic = [cases.add_tiles(64), cases.elementwise(256, 1024), cases.matmul(512, 512, 1024)]
    else:
        synthetic = [cases.add_tiles(64), cases.add_tiles(256), cases.elementwise(1024, 2048),
                     cases.matmul(1024, 1024, 2048), cases.matmul(1024, 1024, 2048, beta2=True)]
    return cases.examples() + synthetic


def run_phases(plan: Plan, rep: Report) -> str:
    repeat = plan.runs(5, 2)
    chosen = phase_cases(plan.quick)
    whole = [phases.whole_process(ex, repeat) for ex in chosen]
    inner = [phases.in_process(ex, repeat) for ex in chosen]
    rep.data["phases"] = {"whole_process": whole, "in_process": inner}
    bad = [r.name for r in inner if r.matches is False]
    rep.note("-", "eval of every example and synthetic case matches numpy", ", ".join(bad) or "all match",
             "all match", "FAIL" if bad else "PASS")
    return phases.report(whole, inner)


def run_scaling(plan: Plan, rep: Report) -> str:
    sizes = tuple(n for n in scaling.SIZES if n <= (min(plan.max_statements, 100_000) if plan.quick
                                                   else plan.max_statements))
    s = scaling.measure_scaling(sizes, plan.runs(3, 2))
    rep.data["scaling"] = s
    last = s.points[-1]
    rep.check("3", f"trace statements/s incl. writing the file ({last.statements:,} statements)", last.rate,
              100_000, at_most=False, cpu=last.statements / last.total.cpu)
    if len(s.points) > 2:
        rep.check("3", f"linearity {s.points[0].statements:,} -> {last.statements:,} statements "
                       "(marginal µs/statement, last step / first)", s.linearity, 1.25)
    rep.check("3", f"peak memory per statement ({last.statements:,} statements)", last.peak / last.statements,
              512, unit=" B")
    return scaling.report(s)


def run_eval(plan: Plan, rep: Report) -> str:
    results = [evalbench.run_case(case, plan.runs(3, 1)) for case in evalbench.eval_cases(plan.quick)]
    rep.data["eval"] = results
    for r in results:
        if r.skipped:
            rep.note("4", f"eval {r.name}", "skipped", "<= 10x numpy, <= 1.5x tensors", "SKIP")
            continue
        rep.check("4", f"eval {r.name}: time / numpy", r.time_ratio, 10, unit="x")
        rep.check("4", f"eval {r.name}: peak memory / tensors", r.memory_ratio, 1.5, unit="x")
    return evalbench.report(results)


def run_reference(plan: Plan, rep: Report) -> str:
    binary = reference.find(plan.reference_dir)
    if binary is None:
        why = (f"the reference is not installed in {plan.reference_dir} "
               f"(python bench/reference.py setup {plan.reference_dir})")
        rep.note("2", "gather + trace vs the reference", "not measured", "<= 0.333x", "SKIP")
        return f"Reference: skipped: {why}"
    results = reference.compare(binary, plan.runs(5, 2))
    rep.data["reference"] = results
    for c in results:
        if c.ratio is None or c.failure:
            rep.note("2", f"gather + trace vs the reference: {c.kernel}", "not measured", "<= 0.333x", "SKIP")
        else:
            rep.check("2", f"gather + trace vs the reference: {c.kernel} ({c.statements} statements)",
                      c.ratio, 1 / 3, unit="x", cpu=c.cpu_ratio)
    pairs = [(c.ratio, c.cpu_ratio) for c in results if c.ratio and c.cpu_ratio and not c.failure]
    if pairs:
        rep.check("2", f"gather + trace vs the reference: geometric mean of {len(pairs)}",
                  reference.geomean([wall for wall, _ in pairs]), 1 / 3, unit="x",
                  cpu=reference.geomean([cpu for _, cpu in pairs]))
    return reference.report(results)


def run_cache(plan: Plan, rep: Report) -> str:
    """``klr run -m pytest examples/tests`` with an empty compile cache, then again with the cache
    it filled: the second run gathers and traces nothing."""
    import tempfile

    present = run_process([*klr_command(), "cache", "--help"], env=child_env()).returncode == 0
    rep.note("5", "compile cache (klr cache)", "present" if present else "absent", "present",
             "PASS" if present else "FAIL")
    if not present:
        return "Compile cache: klr has no cache command yet"
    pytest_run = [*klr_command(), "run", "--stats", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "examples/tests"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="klr-bench-cache-") as tmp:
        env = {**child_env(), "KLR_CACHE_DIR": tmp}
        for what, options in (("no cache", ["--no-cache"]), ("empty cache", []), ("filled cache", [])):
            cmd = [*pytest_run[:3], *options, *pytest_run[3:]]
            done = run_process(cmd, cwd=ROOT, env=env)
            stats = [line for line in done.stderr.splitlines() if line.startswith("klr: ")]
            rows.append([what, f"{done.wall * 1000:,.0f}", f"{done.cpu * 1000:,.0f}",
                         "ok" if done.returncode == 0 else f"exit {done.returncode}",
                         stats[-1][len("klr: "):] if stats else "-"])
    rep.data["cache"] = rows
    return "Compile cache: klr run -m pytest examples/tests\n\n" + table(
        ["run", "wall ms", "cpu ms", "status", "klr --stats"], rows)


RUNNERS = {"startup": run_startup, "phases": run_phases, "scaling": run_scaling, "eval": run_eval,
           "reference": run_reference, "cache": run_cache}


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "load": os.getloadavg(), "commit": commit}


def run(plan: Plan, out: Any = sys.stdout) -> Report:
    rep = Report()
    info = machine()
    rep.data["machine"] = info
    print(f"klr benchmarks, {info['date']}, commit {info['commit']}, Python {info['python']}, "
          f"{info['cpus']} CPUs, load average {info['load'][0]:.1f}", file=out, flush=True)
    for section in plan.sections:
        start = time.perf_counter()
        text = RUNNERS[section](plan, rep)
        print(f"\n== {section} ({time.perf_counter() - start:.0f} s)\n{text}", file=out, flush=True)
    print("\nTargets of issue 13", file=out)
    print(table(["#", "target", "measured", "goal", "status"],
                [[t.issue, t.what, t.value, t.goal, t.status] for t in rep.targets]), file=out, flush=True)
    return rep


def parse_plan(argv: list[str] | None) -> tuple[Plan, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every measurement as JSON")
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller sizes (scaling to 10^5)")
    parser.add_argument("--only", metavar="SECTION,...",
                        help=f"run only these sections ({', '.join(SECTIONS)})")
    parser.add_argument("--reference", action="store_true",
                        help="add the side-by-side run with klr-lang 0.0.12")
    parser.add_argument("--reference-dir", type=Path, default=reference.DEFAULT_DIR,
                        help="where bench/reference.py setup installed it (default %(default)s)")
    parser.add_argument("--repeat", type=int, help="runs per measurement, instead of each section's default")
    parser.add_argument("--max-statements", type=int, default=1_000_000, help="largest scaling size")
    args = parser.parse_args(argv)
    sections = DEFAULT_SECTIONS if args.only is None else tuple(s.strip() for s in args.only.split(","))
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; sections: {', '.join(SECTIONS)}")
    if args.reference and "reference" not in sections:
        sections = (*sections, "reference")
    plan = Plan(sections, quick=args.quick, repeat=args.repeat, max_statements=args.max_statements,
                reference_dir=args.reference_dir)
    return plan, args.json


def main(argv: list[str] | None = None) -> int:
    plan, json_out = parse_plan(argv)
    rep = run(plan)
    if json_out is not None:
        data = {"targets": jsonable(rep.targets), **jsonable(rep.data)}
        json_out.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
