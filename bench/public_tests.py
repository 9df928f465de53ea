"""Run the public NKI kernels' own test files under ``klr run -m pytest``, as a new user would.

    python bench/public_tests.py DIR [--only SUBSTRING] [--timeout S] [--json OUT] [--scripts]

DIR holds the repositories named in shared/corpus.json at the commits listed there, one
directory per repository named after it (DIR/nki-samples, DIR/aws-neuron-sdk); bench/corpus.py
``--print-checkout`` prints the commands. Nothing here touches the network.

Every ``test_*.py`` file that defines a test is run unchanged, one pytest process per file, from
the file's own directory, the way each repository says to run it: ``src/`` on PYTHONPATH when
the repository has one (nki-samples' test/unit/README.md), and ``--simulation-only`` when the
file's conftest.py defines that option (nki-samples' switch for machines without a Neuron
device). Each file gets ``--timeout`` seconds; its tests' outcomes are read from pytest's
JUnit XML report, and every failure is summed up by its first line (klr's diagnostic for a
kernel klr could not trace or run, the assertion otherwise).

A file that calls its own test function at module level (its test functions take arguments that
are not fixtures) is run as a script, ``klr run FILE``, and counts as one test.

With ``--scripts``, the corpus's kernel files and drivers that run as programs (``if __name__ ==
"__main__"``: the tutorials, which compare with numpy and print the verdict) run as ``klr run
FILE`` too, each one test that passes when the program exits 0.

A file counts as ``passed`` when it ran at least one test and none failed, ``failed`` when any
test failed or errored, ``timeout`` when it did not finish, ``no tests`` when pytest selected
none (nki-samples' performance tests need a device and are deselected by --simulation-only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: shared/ beside the repository (or beside the directory of worktrees)
_PLACES = (ROOT.parent / "shared" / "corpus.json", ROOT.parent.parent / "shared" / "corpus.json")
CORPUS = next((c for c in _PLACES if c.is_file()), _PLACES[0])
SKIP_DIRS = {".git", "__pycache__", "build", "dist"}


#: Why a test fails when its own message does not say (found by reading the test; module::test
#: -> reason). Kept short: a reason here is a claim to re-check when klr changes.
_OOB = "asserts type(exc) == IndexError and numpy's message text; klr raises klr.KernelIndexError " \
       "(an IndexError) with its own diagnostic"
KNOWN = {
    "test_nki_isa_activation::test_activation":
        "expects float32 precision from an activation whose dtype is bfloat16 (klr rounds to "
        "bfloat16: rel. error 4e-3 > np.allclose's 1e-5)",
    "test_nki_isa_dropout::test_dropout":
        "unseeded: prob = random * 100 drops every element of most rows; NKI's simulator does not "
        "drop (the test's comment), klr does, so the result is often all zeros",
    "test_nki_isa_dma_copy::test_indirect_load_oob_err_negative": _OOB,
    "test_nki_isa_dma_copy::test_indirect_store_oob_err_negative": _OOB,
}


@dataclass
class FileResult:
    path: str
    outcome: str = "passed"
    tests: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(test id, first line of its failure)."""
    seconds: float = 0.0
    command: str = ""


def repositories(root: Path, corpus: Path) -> list[Path]:
    names = sorted({k["repo"].split("/")[1] for k in json.loads(corpus.read_text())["kernels"]})
    return [root / n for n in names if (root / n).is_dir()]


def test_files(repo: Path) -> list[Path]:
    """``test_*.py`` files of ``repo`` that define a test function or test class."""
    out = []
    for dirpath, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for f in sorted(files):
            if f.startswith("test_") and f.endswith(".py"):
                path = Path(dirpath) / f
                text = path.read_text(errors="replace")
                if re.search(r"^\s*(def test|class Test)", text, re.M):
                    out.append(path)
    return out


def driver_scripts(repo: Path, corpus: Path) -> list[Path]:
    """The corpus's kernel files and drivers of ``repo`` that run as programs (``__main__``)."""
    files = set()
    for k in json.loads(corpus.read_text())["kernels"]:
        if k["repo"].split("/")[1] == repo.name:
            files.add(k["path"])
            files.update(i["driver"] for i in k["invocations"] if i.get("driver"))
    return [repo / f for f in sorted(files) if (repo / f).is_file() and not Path(f).name.startswith("test_")
            and "__main__" in (repo / f).read_text(errors="replace")]


def options(path: Path, repo: Path) -> tuple[list[str], dict[str, str]]:
    """The pytest options and environment the repository asks for."""
    args: list[str] = []
    for d in [path.parent, *path.parent.parents]:
        conftest = d / "conftest.py"
        if conftest.is_file() and "--simulation-only" in conftest.read_text(errors="replace"):
            args.append("--simulation-only")
            break
        if d == repo:
            break
    env = dict(os.environ)
    if (repo / "src").is_dir():
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(repo / "src"), env.get("PYTHONPATH")) if p)
    return args, env


def first_line(message: str) -> str:
    """The line of a failure that says why: klr's ``file:line:col: error:`` line when there is one."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in lines:
        if ": error: " in line:
            return re.sub(r"^(E\s+)?(klr\.\w+: )?", "", line)[:300]
    return (lines[0] if lines else "(no message)")[:300]


def is_script(path: Path) -> bool:
    """A file that calls its own test function at module level is run as a script (its test
    functions take arguments that are not fixtures)."""
    return re.search(r"^test_\w+\(", path.read_text(errors="replace"), re.M) is not None


def run_file(path: Path, repo: Path, klr: list[str], timeout: float, script: bool) -> FileResult:
    extra, env = options(path, repo)
    res = FileResult(str(path.relative_to(repo.parent)))
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        cmd = [*klr, "run", path.name] if script else [
            *klr, "run", "-m", "pytest", "-v", "-p", "no:cacheprovider", f"--junitxml={report}", *extra,
            path.name]
        res.command = " ".join(cmd[len(klr) - 1:])
        start = time.perf_counter()
        try:
            done = subprocess.run(cmd, cwd=path.parent, env=env, capture_output=True, text=True,
                                  errors="replace", timeout=timeout, check=False)
            if script:
                res.tests["passed" if done.returncode == 0 else "failed"] += 1
                if done.returncode:
                    res.failures.append((f"{path.name} (script)", first_line(_last_error(done.stderr))))
        except subprocess.TimeoutExpired as exc:
            res.outcome = "timeout"
            _read_progress(exc.stdout, res)  # the report is written at the end: read pytest -v's lines
        res.seconds = time.perf_counter() - start
        if report.is_file():
            _read_report(report, res)
    if res.outcome != "timeout":
        failed = res.tests["failed"] + res.tests["error"]
        res.outcome = "failed" if failed else "passed" if res.tests["passed"] else "no tests"
    return res


def _last_error(stderr: str) -> str:
    """What a failed script printed last: its exception (klr's diagnostic follows its line)."""
    lines = stderr.rstrip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] and not lines[i].startswith(" "):
            return "\n".join(lines[i:])
    return stderr


def _read_progress(stdout: str | bytes | None, res: FileResult) -> None:
    if isinstance(stdout, bytes):
        stdout = stdout.decode(errors="replace")
    for m in re.finditer(r"^(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)", stdout or "", re.M):
        outcome = {"PASSED": "passed", "FAILED": "failed", "ERROR": "error"}.get(m.group(2), "skipped")
        res.tests[outcome] += 1
        if outcome != "passed" and outcome != "skipped":
            res.failures.append((m.group(1), "(failed before the timeout; run the file alone to see why)"))


def _read_report(report: Path, res: FileResult) -> None:
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                res.tests["failed" if tag == "failure" else tag] += 1
                if tag != "skipped":
                    text = node.get("message", "") + "\n" + (node.text or "")
                    res.failures.append((name, first_line(text)))
                break
        else:
            res.tests["passed"] += 1


def explained(name: str, why: str) -> str:
    cls, _, test = name.rpartition("::")
    return KNOWN.get(f"{cls.split('.')[0]}::{test.split('[')[0]}", why)


def reason_counts(results: list[FileResult]) -> Counter[str]:
    """Failures by reason, positions and numbers blurred so that one cause counts once per file."""
    out: Counter[str] = Counter()
    for r in results:
        seen = set()
        for name, why in r.failures:
            key = re.sub(r"^\S+:\d+:\d+: ", "", explained(name, why))
            key = re.sub(r"\d+", "N", key)
            if key not in seen:
                seen.add(key)
                out[key] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dir", type=Path, help="directory holding the fetched repositories")
    p.add_argument("--corpus", type=Path, default=CORPUS, help="corpus.json naming the repositories")
    p.add_argument("--only", default="", help="run only test files whose path contains this")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per test file (default 600)")
    p.add_argument("--scripts", action="store_true",
                   help="also run the corpus's kernel files and drivers that are programs (klr run FILE)")
    p.add_argument("--json", type=Path, help="write the results as JSON")
    p.add_argument("--klr", default=f"{sys.executable} -m klr", help="how to run klr")
    args = p.parse_args(argv)
    klr = args.klr.split()
    results = []
    for repo in repositories(args.dir.resolve(), args.corpus):
        files = [(p, is_script(p)) for p in test_files(repo)]
        if args.scripts:
            files += [(p, True) for p in driver_scripts(repo, args.corpus)]
        for path, script in files:
            if args.only not in str(path):
                continue
            r = run_file(path, repo, klr, args.timeout, script)
            counts = ", ".join(f"{v} {k}" for k, v in sorted(r.tests.items()))
            print(f"{r.outcome:8s} {r.path}  ({counts or 'nothing ran'}; {r.seconds:.0f} s)", flush=True)
            for name, why in r.failures[:3]:
                print(f"         {name.rsplit('::', 1)[-1]}: {explained(name, why)}", flush=True)
            results.append(r)
    by = Counter(r.outcome for r in results)
    tests: Counter[str] = Counter()
    for r in results:
        tests.update(r.tests)
    print(f"\n{len(results)} test files: " + ", ".join(f"{v} {k}" for k, v in sorted(by.items())))
    print("tests: " + ", ".join(f"{v} {k}" for k, v in sorted(tests.items())))
    print("failure reasons (number of files; a known reason replaces an assertion's text):")
    for why, n in reason_counts(results).most_common():
        print(f"  {n:3d}  {why}")
    if args.json:
        rows = [{**asdict(r), "tests": dict(r.tests)} for r in results]  # asdict garbles a Counter
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
