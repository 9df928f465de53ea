"""Run klr over the public NKI kernel corpus and tabulate how far each kernel gets.

    python bench/corpus.py DIR [--json out.json] [--only SUBSTRING] [--seed N] [--timeout S]

DIR holds checkouts of the repositories named in shared/corpus.json, at the commits listed
there, one directory per repository named after it (DIR/nki-samples, DIR/aws-neuron-sdk)::

    mkdir -p DIR && cd DIR
    git clone https://github.com/aws-neuron/nki-samples.git
    git -C nki-samples checkout fc5c69f79c899d719f6c351fd01acf3c419a6b8b
    git clone https://github.com/aws-neuron/aws-neuron-sdk.git
    git -C aws-neuron-sdk checkout 81ce03ae261e12925e53437a0f690478e6366155

(``--print-checkout`` prints these commands from the corpus file.)

For every listed kernel and every recorded invocation (input shapes and dtypes, grid,
keyword arguments) the kernel is gathered, traced and evaluated on seeded random inputs
through the library API (``import klr``); where bench/corpus_refs.py has one of our numpy
references, the outputs are compared with it. A kernel without a recorded invocation is only
gathered. Each phase's failure is caught: a ``KlrError`` is the kernel's (or klr's declared
lack of support), anything else is a klr crash, reported as ``internal error`` and counted
separately, with the innermost klr frame so the owner can find it.
"""
from __future__ import annotations

import argparse
import ast
import json
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from corpus_refs import EXTRA_INVOCATIONS, REFS, SYMBOLIC_ARGS, TOL  # noqa: E402

import klr  # noqa: E402
from klr.core.rules import check_kernel  # noqa: E402
from klr.errors import KlrError  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus.json"
DTYPE_TOL = {"bfloat16": 1e-2, "float16": 1e-3, "float32": 1e-5}


class NotReproducible(Exception):
    """The recorded invocation holds a value we cannot rebuild (an object, a callable...)."""


class PhaseTimeout(Exception):
    pass


class Unchecked(Exception):
    """The outputs cannot be compared with the reference (not a mismatch)."""


@dataclass
class Row:
    key: str
    invocation: str | None  # index of the recorded invocation, x<i> for one of ours
    gathered: bool | None = None
    traced: bool | None = None
    evaluated: bool | None = None
    matched: bool | None = None
    internal: bool = False
    error: str = ""
    where: str = ""
    times: dict[str, float] = field(default_factory=dict)
    statements: int | None = None
    rule_errors: list[str] = field(default_factory=list)  # klr check (hardware level) on the trace

    @property
    def label(self) -> str:
        repo, path, kernel = self.key.split(":")
        suffix = "" if self.invocation is None else f"#{self.invocation}"
        return f"{repo.split('/')[-1]}:{Path(path).name}:{kernel}{suffix}"


# --- building arguments ----------------------------------------------------------------------

def np_dtype(name: str) -> np.dtype:
    import ml_dtypes

    special = {"bfloat16": ml_dtypes.bfloat16, "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
               "float8_e5m2": ml_dtypes.float8_e5m2, "float8_e4m3": ml_dtypes.float8_e4m3}
    return np.dtype(special.get(name, name))


def make_value(spec: Any, rng: np.random.Generator, module: str = "") -> Any:
    """A concrete argument for one recorded input/keyword description. ``{"object": CLASS,
    "fields": {...}}`` (ours) is an instance of the kernel module's CLASS built by a call (of
    ``"module"``'s CLASS when the kernel imports it)."""
    if spec is None:
        raise NotReproducible("an argument was not recorded")
    if "object" in spec:
        return object_call(f"{spec.get('module', module)}.{spec['object']}", spec.get("fields", {}))
    if "shape" in spec and "dtype" in spec:
        dtype = np_dtype(spec["dtype"])
        shape = tuple(spec["shape"])
        if spec.get("permutation") or spec.get("arange"):   # distinct indices 0..n-1, shuffled or not
            n = int(np.prod(shape))
            order = rng.permutation(n) if spec.get("permutation") else np.arange(n)
            return order.reshape(shape).astype(dtype)
        low, high = spec.get("range", (0, 64) if np.issubdtype(dtype, np.integer) else (0.0, 1.0))
        if np.issubdtype(dtype, np.integer):
            return rng.integers(low, high, shape).astype(dtype)
        return rng.uniform(low, high, shape).astype(dtype)
    if "value" in spec:
        value = spec["value"]
        return tuple(value) if isinstance(value, list) else value
    if "scalar" in spec:
        return float(np.asarray(rng.random(), dtype=np_dtype(spec["scalar"])))
    raise NotReproducible(f"argument of type {spec.get('type', '?')} cannot be rebuilt")


def object_call(cls: str, fields: dict[str, Any]) -> Any:
    """The AST call ``cls(**fields)``, which the tracer evaluates like the kernel's own code."""
    from klr.python import ast as K
    from klr.python.args import value_expr

    keywords = tuple(K.Keyword(k, value_expr(v)) for k, v in fields.items())
    return K.Expr(K.Call(K.Expr(K.Name(cls)), (), keywords))


def symbolic_value(spelling: str) -> Any:
    """A library object (``nl.add``, ``np.less``) as the AST expression klr passes for it."""
    from klr.python.args import parse_value

    return parse_value(spelling)


def parse_grid(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        grid = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise NotReproducible(f"grid {text} cannot be rebuilt") from None
    return tuple(grid) if isinstance(grid, (tuple, list)) else (int(grid),)


_BINOPS: dict[type, Callable[[int, int], int]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}


def _grid_value(node: ast.AST, env: dict[str, Any]) -> Any:
    """A launch-grid expression of a driver: integers, names, ``x.shape[i]``, arithmetic,
    ``nl.nc(k)`` (k cores) and ``nl.spmd_dim(...)`` (the product of its sizes)."""
    match node:
        case ast.Constant(value=int() as v):
            return v
        case ast.Name(id=name) if name in env:
            return env[name]
        case ast.Attribute(value=base, attr="shape"):
            return tuple(np.shape(_grid_value(base, env)))
        case ast.Subscript(value=base, slice=index):
            return _grid_value(base, env)[_grid_value(index, env)]
        case ast.BinOp(left=a, op=op, right=b) if type(op) in _BINOPS:
            return _BINOPS[type(op)](_grid_value(a, env), _grid_value(b, env))
        case ast.Tuple(elts=elts):
            return tuple(_grid_value(e, env) for e in elts)
        case ast.Call(func=ast.Attribute(attr="nc"), args=[k]):
            return _grid_value(k, env)
        case ast.Call(func=ast.Attribute(attr="spmd_dim"), args=args):
            return int(np.prod([_grid_value(a, env) for a in args]))
    raise NotReproducible(f"grid expression {ast.unparse(node)} cannot be rebuilt")


def driver_grid(driver: Path, kernel: str, args: list[Any]) -> tuple[int, ...]:
    """The launch grid ``kernel[...]`` of the driver function that calls it, evaluated for
    ``args`` (a logical-core dimension ``spmd_dim(n, nc(k))`` counts n*k instances)."""
    tree = ast.parse(driver.read_text())
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        env: dict[str, Any] = dict(zip((a.arg for a in fn.args.args), args, strict=False))
        for stmt in fn.body:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
            if isinstance(target, ast.Name):
                try:
                    env[target.id] = _grid_value(stmt.value, env)  # type: ignore[union-attr]
                except (NotReproducible, TypeError, IndexError, ZeroDivisionError):
                    continue
        for node in ast.walk(fn):
            launch = isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
            if launch and node.value.id == kernel:  # type: ignore[attr-defined]
                grid = _grid_value(node.slice, env)
                grid = grid if isinstance(grid, tuple) else (grid,)
                print(f"  note: {driver.name}: launch grid {ast.unparse(node.slice)} rebuilt as {grid}",
                      file=sys.stderr)
                return grid
    raise NotReproducible(f"no launch of {kernel} found in {driver.name}")


# --- running one phase -----------------------------------------------------------------------

@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise PhaseTimeout(f"timed out after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def first_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def located(exc: KlrError) -> str:
    """``file:line: message`` (file name only) for a klr diagnostic."""
    pos = exc.pos
    where = ""
    if pos is not None and pos.line:
        where = f"{Path(pos.filename).name if pos.filename else '?'}:{pos.line}: "
    return where + first_line(exc.message)


def klr_frame(exc: BaseException) -> str:
    """The innermost stack frame inside the klr package: ``klr/tracer/x.py:12 in fn``."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/klr/" in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    rel = f.filename.replace("\\", "/").split("/src/")[-1]
    return f"{rel}:{f.lineno} in {f.name}"


def run_phase(row: Row, phase: str, timeout: float, fn: Callable[[], Any]) -> tuple[bool, Any]:
    start = time.perf_counter()
    try:
        with time_limit(timeout):
            value = fn()
        ok = True
    except KlrError as exc:
        value, ok = None, False
        row.error = f"{phase}: {located(exc)}"
    except PhaseTimeout as exc:
        value, ok = None, False
        row.error = f"{phase}: {exc}"
    except Exception as exc:  # a klr crash: reported, counted separately, never fatal
        value, ok = None, False
        row.internal = True
        row.error = f"{phase}: internal error: {type(exc).__name__}: {first_line(str(exc))}"
        row.where = klr_frame(exc)
    row.times[phase] = time.perf_counter() - start
    return ok, value


# --- comparing -------------------------------------------------------------------------------

def tolerance(key: str, dtype: np.dtype) -> float:
    return TOL.get(key, DTYPE_TOL.get(np.dtype(dtype).name, 1e-5))


def compare(key: str, got: np.ndarray, want: np.ndarray, what: str) -> str:
    """An empty string when ``got`` matches ``want``; otherwise why not."""
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        return f"{what}: shape {got.shape} != expected {want.shape}"
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    care = ~np.isnan(w)
    tol = tolerance(key, want.dtype)
    bad = care & ~np.isclose(g, w, rtol=tol, atol=tol, equal_nan=True)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return (f"{what}: {int(bad.sum())} of {int(care.sum())} elements differ; "
                f"first at {idx}: {g[idx]!r} != expected {w[idx]!r}")
    return ""


def check(key: str, expected: Any, outputs: dict[str, np.ndarray], names: list[str],
          final_inputs: dict[str, np.ndarray] | None) -> str:
    if callable(expected):  # a property of the outputs (kernels drawing random numbers)
        return expected([outputs[n] for n in names])
    if isinstance(expected, dict):
        problems = []
        for name, want in expected.items():
            source = outputs if name in outputs else (final_inputs or {})
            if name not in source:
                raise Unchecked(f"the kernel writes its argument {name!r}, which eval does not return")
            problems.append(want(source[name]) if callable(want) else compare(key, source[name], want, name))
        return "; ".join(p for p in problems if p)
    expected = tuple(expected)
    if len(expected) != len(names):
        return f"{len(names)} outputs, expected {len(expected)}"
    return "; ".join(p for p in (compare(key, outputs[n], w, n) for n, w in zip(names, expected, strict=True))
                     if p)


# --- one kernel ------------------------------------------------------------------------------

def run_invocation(row: Row, path: Path, entry: dict[str, Any], inv: dict[str, Any] | None,
                   seed: int, timeout: float) -> None:
    kernel = entry["kernel"]
    rng = np.random.default_rng(seed)
    symbolic = SYMBOLIC_ARGS.get(row.key, {})
    try:
        module = path.stem  # gathered code names the kernel module's classes <stem>.<Class>
        args = [symbolic_value(symbolic[i]) if i in symbolic else make_value(s, rng, module)
                for i, s in enumerate(inv["inputs"])] if inv else []
        kwargs = {k: symbolic_value(symbolic[k]) if k in symbolic else make_value(s, rng, module)
                  for k, s in inv["kwargs"].items()} if inv else {}
        grid_text = inv.get("grid") if inv else None
        if grid_text is not None and "spmd_dim" in grid_text:
            driver = path.parents[len(Path(entry["path"]).parents) - 1] / inv["driver"]
            grid = driver_grid(driver, kernel, args)
        else:
            grid = parse_grid(grid_text)
    except NotReproducible as exc:
        row.error = f"skipped: {exc}"
        return

    arch = inv.get("arch") if inv else None   # (ours: the NeuronCore generation a kernel is for)
    row.gathered, py = run_phase(row, "gather", timeout,
                                 lambda: klr.gather(str(path), *args, name=kernel, grid=grid, arch=arch,
                                                    **kwargs))
    if not row.gathered or inv is None:
        if inv is None and row.gathered:
            row.error = "no recorded invocation: gathered only"
        return

    row.traced, traced = run_phase(row, "trace", timeout, lambda: klr.trace(py))
    if not row.traced:
        return
    core = traced.kernel  # klr.eval gets the whole TraceResult below (it may carry constants)
    row.statements = sum(len(b.body) for body in core.bodies for b in body)
    row.rule_errors = [str(d) for d in check_kernel(core)]

    by_name = dict(zip(entry["params"], args, strict=False))
    by_name.update(kwargs)
    tensors = [by_name.get(t.name) for t in core.inputs]
    if any(not isinstance(t, np.ndarray) for t in tensors):
        missing = [t.name for t, v in zip(core.inputs, tensors, strict=True) if not isinstance(v, np.ndarray)]
        row.evaluated = False
        row.error = f"eval: Core inputs {missing} are not tensor parameters of the kernel"
        return
    row.evaluated, result = run_phase(row, "eval", timeout, lambda: klr.eval(traced, *tensors, random=seed))
    if not row.evaluated:
        return

    ref = REFS.get(row.key)
    if ref is None:
        return
    try:
        expected = ref(args, kwargs)
    except Exception as exc:  # our reference does not fit this invocation
        row.matched = False
        row.error = f"reference failed: {type(exc).__name__}: {first_line(str(exc))}"
        return
    names = [t.name for t in core.outputs]
    final_inputs = getattr(result, "inputs", None)
    try:
        problem = check(row.key, expected, result.outputs, names, final_inputs)
    except Unchecked as exc:
        row.error = f"unchecked: {exc}"
        return
    row.matched = not problem
    if problem:
        row.error = f"mismatch: {problem}"


def run_corpus(corpus: dict[str, Any], root: Path, only: str, seed: int, timeout: float) -> list[Row]:
    rows = []
    for entry in corpus["kernels"]:
        key = f"{entry['repo']}:{entry['path']}:{entry['kernel']}"
        if only and only not in key:
            continue
        path = root / entry["repo"].split("/")[-1] / entry["path"]
        recorded: list[tuple[str | None, dict[str, Any] | None]] = [
            (str(i), inv) for i, inv in enumerate(entry["invocations"])]
        ours = [(f"x{i}", inv) for i, inv in enumerate(EXTRA_INVOCATIONS.get(key, []))]
        for tag, inv in recorded + ours or [(None, None)]:
            row = Row(key, tag)
            if not path.exists():
                row.error = f"missing file {path}"
            else:
                run_invocation(row, path, entry, inv, seed, timeout)
            rows.append(row)
            print_row(row, sys.stderr)
    return rows


# --- reporting -------------------------------------------------------------------------------

def mark(flag: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[flag]


def ms(row: Row, phase: str) -> str:
    return f"{row.times[phase] * 1e3:.0f}" if phase in row.times else "-"


def print_row(row: Row, out: Any) -> None:
    print(f"  {row.label}: gather {mark(row.gathered)}, trace {mark(row.traced)}, "
          f"eval {mark(row.evaluated)}, match {mark(row.matched)} {row.error}", file=out, flush=True)
    for problem in row.rule_errors[:3]:
        print(f"    klr check: {problem}", file=out, flush=True)


def table(rows: list[Row]) -> str:
    header = ("kernel", "gath", "trace", "eval", "match", "g ms", "t ms", "e ms", "stmts", "error")
    body = [(r.label, mark(r.gathered), mark(r.traced), mark(r.evaluated), mark(r.matched),
             ms(r, "gather"), ms(r, "trace"), ms(r, "eval"),
             "-" if r.statements is None else str(r.statements),
             r.error + (f" [{r.where}]" if r.where else "")) for r in rows]
    widths = [max(len(x[i]) for x in [header, *body]) for i in range(len(header) - 1)]
    lines = []
    for cells in [header, *body]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)) + "  " + cells[-1])
    return "\n".join(lines)


def summary(rows: list[Row]) -> dict[str, int]:
    with_ref = [r for r in rows if r.key in REFS]
    return {
        "rows": len(rows),
        "kernels": len({r.key for r in rows}),
        "gathered": sum(r.gathered is True for r in rows),
        "traced": sum(r.traced is True for r in rows),
        "evaluated": sum(r.evaluated is True for r in rows),
        "with_reference": len(with_ref),
        "matched": sum(r.matched is True for r in rows),
        "mismatched": sum(r.matched is False for r in rows),
        "internal_errors": sum(r.internal for r in rows),
        "skipped": sum(r.error.startswith("skipped") for r in rows),
        "traces_breaking_a_rule": sum(bool(r.rule_errors) for r in rows),
    }


def checkout_commands(corpus: dict[str, Any]) -> str:
    seen: dict[str, str] = {}
    for entry in corpus["kernels"]:
        seen.setdefault(entry["repo"], entry["commit"])
    lines = []
    for repo, commit in seen.items():
        name = repo.split("/")[-1]
        lines.append(f"git clone https://github.com/{repo}.git {name}")
        lines.append(f"git -C {name} checkout {commit}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", nargs="?", type=Path, help="directory holding the repository checkouts")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the corpus description")
    parser.add_argument("--json", type=Path, help="also write every row and the summary as JSON")
    parser.add_argument("--only", default="", help="only kernels whose repo:path:kernel contains this")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per phase")
    parser.add_argument("--print-checkout", action="store_true", help="print the git commands making DIR")
    args = parser.parse_args(argv)
    corpus = json.loads(args.corpus.read_text())
    if args.print_checkout:
        print(checkout_commands(corpus))
        return 0
    if args.dir is None:
        parser.error("DIR is required")
    rows = run_corpus(corpus, args.dir, args.only, args.seed, args.timeout)
    print(table(rows))
    totals = summary(rows)
    print("\n" + ", ".join(f"{k} {v}" for k, v in totals.items()))
    if args.json:
        args.json.write_text(json.dumps({"summary": totals, "rows": [asdict(r) | {"label": r.label}
                                                                      for r in rows]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
