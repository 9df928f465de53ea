"""The reference implementation, klr-lang 0.0.12 from PyPI, side by side with klr.

    python bench/reference.py setup [DIR] [--as-released]   # install it into DIR/venv
    python bench/run.py --reference [--reference-dir DIR]   # compare (DIR defaults as below)

``setup`` downloads the wheel (``pip download klr-lang==0.0.12 --no-deps``), installs it into
a virtual environment of its own under DIR (default: ``klr-reference`` in the temporary
directory), never into this project's. The released wheel's gather crashes (SIGSEGV/SIGBUS)
on every kernel that names a module-level global, an NKI module included: ``add_global`` in its
gather.c leaves the keyword's position uninitialised, and serialising it follows a garbage
pointer. Upstream fixed that three days after the release (leanprover/KLR commit 5661c01,
"fix: uninitialized position in gather.c"). Unless ``--as-released``, setup rebuilds the
wheel's own C front end (the sources ship in the wheel) with that position initialised, with
gcc -O3 (the release was built with GCC 14); the Lean binary (trace) is used as released.

The reference's command line: ``klr gather FILE FUNC -o OUT`` runs its Lean binary, which
starts ``klr-gather`` (Python: imports the kernel's module, then walks the live function with
the C extension); ``klr trace OUT -o CORE`` traces in Lean, treating every required parameter
as a [10, 10] float32 tensor, and writes Core as text. The kernel's module imports ``nki``,
which the reference expects installed; stand-in empty modules are put on its path (nothing of
them is used: the tracer knows NKI by name).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from measure import (
    ROOT,
    ProcessFailed,
    ProcessRun,
    ProcessTiming,
    child_env,
    jsonable,
    klr_command,
    ms,
    table,
    time_process,
)

VERSION = "0.0.12"
DEFAULT_DIR = Path(tempfile.gettempdir()) / "klr-reference"
KERNELS_FILE = ROOT / "bench" / "reference_kernels.py"
STUB_MODULES = ("nki/__init__.py", "nki/language.py", "nki/isa.py")
FRONTEND_SOURCES = ("cbor.c", "frontend.c", "gather.c", "peg_parser.c", "region.c", "serde.c",
                    "serde_common.c", "serde_file.c", "serde_nki.c", "serde_python_core.c", "simplify.c",
                    "topy_nki.c")
# add_global in the wheel's gather.c, before and after upstream's one-line fix
ALLOCATE = "  struct Python_Keyword *kw = region_alloc(st->region, sizeof(*kw));\n"
UNFIXED = ALLOCATE + "  kw->value = const_expr(st, obj);\n"
FIXED = ALLOCATE + "  mkPos(kw->pos, 0, 0, 0, 0);\n  kw->value = const_expr(st, obj);\n"


def setup(directory: Path, *, as_released: bool) -> Path:
    """Install klr-lang into ``directory``/venv; return its ``klr`` executable."""
    venv = directory / "venv"
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", f"klr-lang=={VERSION}", "--no-deps",
                    "-d", str(directory)], check=True)
    wheel = next(directory.glob(f"klr_lang-{VERSION}-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True)
    subprocess.run([*pip, "numpy"], check=True)
    if not as_released:
        _rebuild_frontend(venv)
    return venv / "bin" / "klr"


def _rebuild_frontend(venv: Path) -> None:
    query = ("import importlib.util, sysconfig; "
             "print(importlib.util.find_spec('klr').submodule_search_locations[0]); "
             "print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", query], check=True, capture_output=True,
                         text=True).stdout.split("\n")
    package, include, suffix = Path(out[0]), out[1], out[2]
    gather = package / "gather.c"
    source = gather.read_text()
    if FIXED not in source:
        if source.count(UNFIXED) != 1:
            raise SystemExit(f"{gather} does not look like klr-lang {VERSION}'s gather.c; not patching it")
        gather.write_text(source.replace(UNFIXED, FIXED))
    target = package / f"frontend{suffix}"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O3", "-DNDEBUG", "-fwrapv", f"-I{include}",
                    *(str(package / s) for s in FRONTEND_SOURCES), "-o", str(target)], check=True)


@dataclass
class Side:
    gather: ProcessTiming
    trace: ProcessTiming

    @property
    def total(self) -> float:
        return self.gather.wall + self.trace.wall

    @property
    def cpu(self) -> float:
        return self.gather.cpu + self.trace.cpu


@dataclass
class Comparison:
    kernel: str
    statements: int | None
    ours: Side | None
    theirs: Side | None
    failure: str | None = None

    @property
    def ratio(self) -> float | None:
        return self.ours.total / self.theirs.total if self.ours and self.theirs else None

    @property
    def cpu_ratio(self) -> float | None:
        return self.ours.cpu / self.theirs.cpu if self.ours and self.theirs else None

    def summary(self) -> dict[str, object]:
        return {"kernel": self.kernel, "statements": self.statements, "ours": jsonable(self.ours),
                "theirs": jsonable(self.theirs), "failure": self.failure, "ratio": self.ratio,
                "cpu_ratio": self.cpu_ratio}


def kernels() -> list[tuple[str, int]]:
    """The functions of bench/reference_kernels.py and their parameter counts, in order (read, not
    imported: the file imports NKI)."""
    import ast

    tree = ast.parse(KERNELS_FILE.read_text())
    return [(f.name, len(f.args.args)) for f in tree.body if isinstance(f, ast.FunctionDef)]


def compare(reference_klr: Path, repeat: int) -> list[Comparison]:
    """Gather + trace of each kernel of bench/reference_kernels.py by both, as whole processes."""
    results = []
    with tempfile.TemporaryDirectory(prefix="klr-bench-ref-") as tmp:
        work = Path(tmp)
        for stub in STUB_MODULES:
            (work / "stubs" / stub).parent.mkdir(parents=True, exist_ok=True)
            (work / "stubs" / stub).write_text("")
        env = dict(os.environ, PYTHONPATH=str(work / "stubs"),
                   PATH=os.pathsep.join((str(reference_klr.parent), os.environ.get("PATH", ""))))
        for func, params in kernels():
            results.append(_compare_one(func, params, reference_klr, env, work, repeat))
    return results


def _compare_one(func: str, params: int, reference_klr: Path, env: dict[str, str], work: Path,
                 repeat: int) -> Comparison:
    klr = klr_command()
    args = ["--arg", "float32[10,10]"] * params
    ours_py, ours_core = work / f"{func}.klr", work / f"{func}.core.klr"
    ours = Side(time_process([*klr, "gather", str(KERNELS_FILE), func, *args, "-o", str(ours_py)], repeat,
                             env=child_env()),
                time_process([*klr, "trace", str(ours_py), "-o", str(ours_core)], repeat, env=child_env()))
    statements = int(ours.trace.last.stdout.split(": ")[1].split()[0])
    ref_py, ref_core = work / f"{func}.ref.klr", work / f"{func}.ref-core.klr"  # it forces .klr
    try:
        gather = time_process([str(reference_klr), "gather", str(KERNELS_FILE), func, "-o", str(ref_py)],
                              repeat, env=env)
        if not ref_py.is_file() or ref_py.stat().st_size == 0:
            raise ProcessFailed(["klr", "gather"], gather.last)
        trace = time_process([str(reference_klr), "trace", str(ref_py), "-o", str(ref_core)], repeat, env=env)
    except ProcessFailed as err:
        why = _failure(err.run) + _gather_crash(func, reference_klr, env)
        return Comparison(func, statements, ours, None, f"the reference fails: {why}")
    their_statements = ref_core.read_text().count("KLR.Core.Stmt.")
    if their_statements != statements:
        return Comparison(func, statements, ours, Side(gather, trace),
                          f"statement counts differ: klr {statements}, reference {their_statements}")
    return Comparison(func, statements, ours, Side(gather, trace))


def _failure(run: ProcessRun) -> str:
    lines = (run.stdout.strip() + "\n" + run.stderr.strip()).strip().splitlines()
    return f"exit {run.returncode}: {' / '.join(lines[-2:]) if lines else 'no output'}"


def _gather_crash(func: str, reference_klr: Path, env: dict[str, str]) -> str:
    """Why the reference's gather failed when its Python helper died of a signal (its Lean
    driver only says "error gathering kernel")."""
    import signal

    helper = reference_klr.with_name("klr-gather")
    env = dict(env, PYTHONPATH=os.pathsep.join((env["PYTHONPATH"], str(KERNELS_FILE.parent))))
    with tempfile.TemporaryDirectory(prefix="klr-bench-ref-") as tmp:
        run = subprocess.run([str(helper), KERNELS_FILE.stem, func, str(Path(tmp) / "out.klr")], env=env,
                             capture_output=True)
    if run.returncode >= 0:
        return ""
    return (f" (klr-gather killed by {signal.Signals(-run.returncode).name}: the released gather crashes on "
            "kernels naming a global; python bench/reference.py setup rebuilds it with upstream's fix)")


def geomean(values: list[float]) -> float:
    import math

    return math.exp(sum(math.log(v) for v in values) / len(values))


def report(results: list[Comparison]) -> str:
    rows = []
    for c in results:
        o, t = c.ours, c.theirs
        rows.append([c.kernel, c.statements, ms(o.gather.wall) if o else None,
                     ms(o.trace.wall) if o else None, ms(t.gather.wall) if t else None,
                     ms(t.trace.wall) if t else None, f"{c.ratio:.2f}" if c.ratio else None,
                     f"{c.cpu_ratio:.2f}" if c.cpu_ratio else None])
    ratios = [c.ratio for c in results if c.ratio]
    lines = ["Side by side with klr-lang 0.0.12 (whole processes, median wall ms; ratio = klr gather+trace "
             "over the reference's, in wall and in CPU time)",
             table(["kernel", "stmts", "klr gather", "klr trace", "ref gather", "ref trace", "ratio",
                    "cpu ratio"], rows)]
    lines += [f"{c.kernel}: {c.failure}" for c in results if c.failure]
    if ratios:
        cpu = [c.cpu_ratio for c in results if c.cpu_ratio]
        lines.append(f"geometric mean of the ratios over {len(ratios)} kernels: {geomean(ratios):.2f} "
                     f"(CPU time: {geomean(cpu):.2f})")
    return "\n".join(lines)


def find(directory: Path) -> Path | None:
    """The reference's ``klr`` under ``directory`` (installed by ``setup``), if there."""
    candidate = directory / "venv" / "bin" / "klr"
    return candidate if candidate.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup", help=f"install klr-lang {VERSION} into DIR/venv")
    s.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    s.add_argument("--as-released", action="store_true",
                   help="keep the released C front end (its gather crashes on kernels naming a global)")
    args = parser.parse_args(argv)
    if shutil.which("gcc") is None and not args.as_released:
        raise SystemExit("setup rebuilds the reference's C front end and needs gcc (or pass --as-released)")
    print(f"installed: {setup(args.dir, as_released=args.as_released)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
