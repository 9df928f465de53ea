"""Random exploration of klr with hostile inputs: ``python bench/fuzz.py --minutes N``.

Targets (docs/fuzzing.md): ``decoder`` (mutated KLR files), ``gather`` (hostile and mutated
sources), ``trace`` (random programs against CPython, example mutants, sandbox and resource
attacks, hash-seed dependence), ``eval`` (random Core kernels, mutated Core files, hostile
.npy inputs) and ``cli`` (random command lines over hostile files).

Every case runs in a forked child with a timeout and an address-space limit. A failure is
classified (crash, hang, blowup, escape, partial, wrong), grouped by signature, shrunk and
saved under ``--out`` as ``case.json`` plus the files to reproduce it by hand;
``--replay DIR/case.json`` runs a saved case again. The exit status is 1 when anything was
found. For a given ``--seed`` the cases are the same on every machine (``--cases`` fixes how
many; otherwise the time budget decides).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHRINK_RUNS = 40
"""Reruns spent shrinking one finding (a count, not a time, so the result does not depend on speed)."""


def _reexec_deterministic() -> None:
    """Run under a fixed hash seed (and one BLAS thread), so the same seed gives the same run."""
    want = {"PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if any(os.environ.get(k) != v for k, v in want.items()):
        os.environ.update(want)
        os.execv(sys.executable, [sys.executable, *sys.argv])


if __name__ == "__main__":
    _reexec_deterministic()
    sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(HERE)]

from fuzz_common import Case, Outcome, crash_signature  # noqa: E402


@dataclass
class Finding:
    case: Case
    outcome: Outcome
    count: int = 1
    saved: Path | None = None
    reproduce: str = ""


@dataclass
class Report:
    target: str
    cases: int = 0
    seconds: float = 0.0
    by_class: dict[str, int] = field(default_factory=dict)
    findings: dict[str, Finding] = field(default_factory=dict)
    slow: int = 0   # cases that timed out, then finished when rerun with more time


# ---- running one case in a child -------------------------------------------------------------

def _limit(mem_mb: int, cpu_seconds: int) -> None:
    """In the child: its own process group (so a timeout kills its subprocesses too), bounded
    address space, CPU time and file size, no core dumps."""
    os.setpgid(0, 0)
    with open("/proc/self/status") as f:
        vm = next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + (mem_mb << 20),) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _child(run: Callable[[Case, Path], Outcome], case: Case, casedir: Path, mem_mb: int,
           timeout: float) -> None:
    """Body of the forked child: never returns."""
    code = 0
    try:
        _limit(mem_mb, int(timeout) + 5)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            out = os.open(casedir / f".child.{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(out, fd)
        os.chdir(casedir)
        try:
            outcome = run(case, casedir)
        except MemoryError as exc:
            outcome = Outcome("blowup", crash_signature(exc), _traceback(exc))
        except RecursionError as exc:
            outcome = Outcome("crash", crash_signature(exc), _traceback(exc))
        except BaseException as exc:
            from tests.fuzz.support import BadError, Hang, Mismatch

            if isinstance(exc, Hang):
                outcome = Outcome("hang", "timeout", str(exc))
            elif isinstance(exc, BadError):
                outcome = Outcome("wrong", f"bad error message: {str(exc).split(':')[0]}", str(exc)[:2000])
            elif isinstance(exc, Mismatch):   # "CPython raised ZeroDivisionError(...), the tracer ..."
                kind = re.sub(r"\(.*", "", str(exc).split(",")[0])[:80]
                outcome = Outcome("wrong", kind, str(exc)[:2000])
            else:
                outcome = Outcome("crash", crash_signature(exc), _traceback(exc))
        result = {"cls": outcome.cls, "sig": outcome.sig, "detail": outcome.detail}
        (casedir / ".child.result").write_text(json.dumps(result))
    except BaseException:
        code = 3
    finally:
        os._exit(code)


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))[-3000:]


class Running:
    def __init__(self, case: Case, casedir: Path, pid: int, deadline: float) -> None:
        self.case, self.casedir, self.pid, self.deadline = case, casedir, pid, deadline
        self.start = time.monotonic()
        self.killed = False


def _finish(r: Running, status: int) -> Outcome:
    seconds = time.monotonic() - r.start
    result = r.casedir / ".child.result"
    if result.exists():
        data = json.loads(result.read_text())
        return Outcome(data["cls"], data["sig"], data["detail"], seconds)
    if r.killed:
        return Outcome("hang", "timeout", f"no result after {seconds:.0f} s", seconds)
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status)).name
        cls = {"SIGKILL": "blowup", "SIGXCPU": "hang"}.get(sig, "crash")
        return Outcome(cls, sig, f"the child died of {sig}", seconds)
    return Outcome("crash", "child exit", f"the child exited {os.WEXITSTATUS(status)} without a result",
                   seconds)


class Pool:
    """Up to ``jobs`` forked children at a time, each with a deadline."""

    def __init__(self, jobs: int, mem_mb: int, scratch: Path) -> None:
        self.jobs, self.mem_mb, self.scratch = jobs, mem_mb, scratch
        self.running: dict[int, Running] = {}

    def start(self, run: Callable[[Case, Path], Outcome], case: Case, prepare: Callable[[Path], None],
              timeout: float) -> None:
        casedir = Path(tempfile.mkdtemp(prefix=f"{case.target}-{case.index}-", dir=self.scratch))
        prepare(casedir)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(run, case, casedir, self.mem_mb, timeout)
        self.running[pid] = Running(case, casedir, pid, time.monotonic() + timeout)

    def reap(self) -> list[tuple[Case, Outcome]]:
        """Wait a little; return the cases that finished (killing the overdue ones)."""
        done = []
        time.sleep(0.01)
        for pid, r in list(self.running.items()):
            got, status = os.waitpid(pid, os.WNOHANG)
            if got == 0:
                if time.monotonic() > r.deadline and not r.killed:
                    r.killed = True
                    _kill_group(pid)
                continue
            del self.running[pid]
            _kill_group(pid)
            done.append((r.case, _finish(r, status)))
            shutil.rmtree(r.casedir, ignore_errors=True)
        return done

    def run_one(self, run: Callable[[Case, Path], Outcome], case: Case, prepare: Callable[[Path], None],
                timeout: float) -> Outcome:
        self.start(run, case, prepare, timeout)
        while True:
            for _, outcome in self.reap():
                return outcome


def _kill_group(pgid: int) -> None:
    """Whatever the child left running (a klr subprocess) goes with it."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---- shrinking -------------------------------------------------------------------------------

def confirm_hang(case: Case, target: Any, pool: Pool) -> bool:
    """A hang is one when the case also times out with twice the time (a loaded machine can
    make a quick case miss its deadline)."""
    saved = target.timeout
    target.timeout = saved * 2
    try:
        return pool.run_one(target.run, case, target.prepare, target.deadline(case)).cls == "hang"
    finally:
        target.timeout = saved


def shrink(case: Case, target: Any, pool: Pool, want: Outcome, runs: int, until: float) -> Case:
    """Delta debugging over the case's units (lines, byte chunks, arguments): keep removing
    pieces while the case still fails with the same signature, for at most ``runs`` reruns
    (and not past the time ``until``)."""
    units = target.units(case)
    if units is None or want.cls == "hang":
        return case
    chunk = max(1, len(units) // 2)
    while chunk >= 1 and runs > 0 and time.monotonic() < until:
        i, progressed = 0, False
        while i < len(units) and runs > 0 and time.monotonic() < until:
            trial = units[:i] + units[i + chunk:]
            candidate = target.rebuild(case, trial)
            got = pool.run_one(target.run, candidate, target.prepare, target.deadline(candidate))
            runs -= 1
            if got.cls == want.cls and got.sig == want.sig:
                units, case, progressed = trial, candidate, True
            else:
                i += chunk
        if not progressed:
            chunk //= 2
    return case


# ---- saving and reporting --------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"bytes"}:
            return value["bytes"].encode("latin-1")
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def save(finding: Finding, target: Any, out: Path, number: int, seed: int) -> tuple[Path, str]:
    case, outcome = finding.case, finding.outcome
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{outcome.cls}-{case.gen}-{case.tag}")[:60].strip("-")
    d = out / case.target / f"{number:02d}-{slug}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    # Reproducers are hostile sources (nested 100,000 deep...): keep git and linters out, wherever --out is.
    (out / ".gitignore").write_text("*\n")
    how = target.save(case, d)
    meta = {"target": case.target, "gen": case.gen, "tag": case.tag, "index": case.index, "seed": seed,
            "class": outcome.cls, "signature": outcome.sig, "detail": outcome.detail,
            "reproduce": how, "payload": _encode(case.payload)}
    (d / "case.json").write_text(json.dumps(meta, indent=1, default=repr) + "\n")
    return d, how


def print_report(r: Report, shown: int = 5) -> None:
    failures = sum(r.by_class.values())
    classes = ", ".join(f"{c} {n}" for c, n in sorted(r.by_class.items()) if n) or "none"
    slow = f"; {r.slow} slow, not hung (finished on a rerun)" if r.slow else ""
    print(f"\n== {r.target}: {r.cases} cases in {r.seconds:.0f} s; failing cases: {failures} ({classes}); "
          f"distinct: {len(r.findings)}{slow}")
    for f in list(r.findings.values())[:shown]:
        print(f"  [{f.outcome.cls}] x{f.count} {f.case.gen}/{f.case.tag}: {f.outcome.sig}")
        if f.saved is not None:
            print(f"      {f.saved}/case.json")
            print(f"      {f.reproduce}")
    if len(r.findings) > shown:
        print(f"  ... and {len(r.findings) - shown} more under the output directory")


# ---- the run ---------------------------------------------------------------------------------

def fuzz_target(target: Any, seconds: float, max_cases: int | None, pool: Pool, out: Path,
                seed: int) -> Report:
    report = Report(target.name)
    start = time.monotonic()
    stop = start + seconds * 0.85          # the rest shrinks and saves what was found
    results: dict[int, tuple[Case, Outcome]] = {}
    cases: Iterator[Case] = target.cases(seed)
    exhausted = False
    while True:
        while not exhausted and len(pool.running) < pool.jobs and time.monotonic() < stop \
                and (max_cases is None or report.cases < max_cases):
            case = next(cases, None)
            if case is None:
                exhausted = True
                break
            pool.start(target.run, case, target.prepare, target.deadline(case))
            report.cases += 1
        if not pool.running:
            break
        for case, outcome in pool.reap():
            results[case.index] = (case, outcome)
            if outcome.cls:
                print(f"  {target.name} #{case.index} {case.gen}/{case.tag}: {outcome.cls}: {outcome.sig}",
                      flush=True)
    for index in sorted(results):           # in case order, so the run is reproducible
        case, outcome = results[index]
        if outcome.cls is None:
            continue
        report.by_class[outcome.cls] = report.by_class.get(outcome.cls, 0) + 1
        key = f"{outcome.cls}|{case.gen}|{outcome.sig}"
        if " at " not in outcome.sig:   # no place in klr to tell causes apart: the generator's tag does
            key += "|" + case.tag
        if key in report.findings:
            report.findings[key].count += 1
        else:
            report.findings[key] = Finding(case, outcome)
    until = start + seconds if max_cases is None else float("inf")
    for key, finding in list(report.findings.items()):
        if finding.outcome.cls == "hang" and not confirm_hang(finding.case, target, pool):
            del report.findings[key]
            report.slow += finding.count
            report.by_class["hang"] -= finding.count
    for number, finding in enumerate(report.findings.values(), 1):
        finding.case = shrink(finding.case, target, pool, finding.outcome, SHRINK_RUNS, until)
        finding.saved, finding.reproduce = save(finding, target, out, number, seed)
    report.seconds = time.monotonic() - start
    return report


def replay(path: Path, targets: dict[str, Any], pool: Pool) -> int:
    meta = json.loads(path.read_text())
    target = targets[meta["target"]]
    case = Case(meta["target"], meta["gen"], meta["index"], meta["tag"], _decode(meta["payload"]))
    got = pool.run_one(target.run, case, target.prepare, target.deadline(case))
    print(f"{path}: was {meta['class']}: {meta['signature']}")
    print(f"now: {got.cls or 'no failure'}{': ' + got.sig if got.cls else ''} ({got.seconds:.1f} s)")
    if got.detail:
        print(got.detail)
    return 1 if got.cls else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="See docs/fuzzing.md for the targets and what counts as a failure.")
    p.add_argument("--minutes", type=float, default=5.0, help="total time over all targets (default 5)")
    p.add_argument("--target", default="decoder,gather,trace,eval,cli",
                   help="comma-separated targets (default: all)")
    p.add_argument("--seed", type=int, default=0, help="the cases follow from it (default 0)")
    p.add_argument("--jobs", type=int, default=2, help="cases run at the same time (default 2)")
    p.add_argument("--out", type=Path, default=HERE / "fuzz_out", help="where reproducers go")
    p.add_argument("--cases", type=int, help="at most this many cases per target (then time is no limit)")
    p.add_argument("--timeout", type=float, help="seconds per case (default: per target, 10 to 30)")
    p.add_argument("--mem-mb", type=int, default=2048, help="address space a case may add (default 2048)")
    p.add_argument("--golden", type=Path, help="golden KLR files to mutate (default $KLR_GOLDEN_DIR or "
                                               "../shared/golden when present)")
    p.add_argument("--replay", type=Path, metavar="CASE_JSON", help="run one saved case again")
    args = p.parse_args(argv)

    from fuzz_targets import make_targets

    scratch = Path(tempfile.mkdtemp(prefix="klr-fuzz-"))
    try:
        golden = args.golden or Path(os.environ.get("KLR_GOLDEN_DIR", ROOT.parent / "shared" / "golden"))
        targets = make_targets(scratch, golden, args.timeout)
        pool = Pool(max(1, args.jobs), args.mem_mb, scratch)
        if args.replay:
            return replay(args.replay, targets, pool)
        names = [t.strip() for t in args.target.split(",") if t.strip()]
        unknown = [n for n in names if n not in targets]
        if unknown or not names:
            p.error(f"unknown target {', '.join(unknown)}; choose from {', '.join(targets)}")
        share = args.minutes * 60 / len(names)
        reports = []
        for name in names:
            print(f"fuzzing {name} for {share / 60:.1f} min (seed {args.seed}, {args.jobs} jobs)", flush=True)
            reports.append(fuzz_target(targets[name], share, args.cases, pool, args.out, args.seed))
        for r in reports:
            print_report(r)
        found = sum(len(r.findings) for r in reports)
        print(f"\n{sum(r.cases for r in reports)} cases, {found} distinct failures"
              + (f"; reproducers under {args.out}" if found else ""))
        return 1 if found else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
