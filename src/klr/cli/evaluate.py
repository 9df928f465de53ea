"""``klr eval``: run a traced kernel on ``.npy`` inputs, write its outputs, compare them.

Inputs are bound, drawn and converted by ``klr.sim.evaluate`` (the one home ``klr.eval``
shares); this module reads and writes the files around it:

* ``--expect NAME=FILE.npy`` compares an output with expected values: per output the largest
  absolute and relative error and the first element outside the tolerance (``np.isclose``:
  ``|got - want| <= atol + rtol * |want|``, NaN equal to NaN); any mismatch makes the command
  exit 1 after the outputs are written. The tolerances default per output dtype (``TOLERANCE``);
  ``--rtol`` and ``--atol`` set them for every output.
* ``--save-inputs DIR`` writes the inputs drawn by ``--random`` (before the run, so a failing
  run can be reproduced with them).
* ``.npy`` has no bfloat16 or fp8 type: such outputs are written as raw bytes (``|V2``,
  ``|V1``) and a note says how to read them; ``--as-float32`` writes them (and float16) as
  float32 instead, which holds every one of their values exactly.
* ``--dump-intermediates DIR`` writes every executed statement's writes (``eval_files.Dumper``),
  also when the run fails.
* ``--stats`` prints the time of each phase, the instructions run (by operator) and the peak
  memory; on a terminal a long run shows its progress on standard error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from klr.diagnostics import printable, render_warning
from klr.errors import EvalError, UsageError

if TYPE_CHECKING:
    import numpy as np

#: (rtol, atol) when comparing an output of this dtype with --expect.
TOLERANCE = {"bfloat16": 1e-2, "float16": 1e-3, "float32": 1e-5, "tfloat32": 1e-3}
FP8_TOLERANCE = 1e-1
WIDENED = ("bfloat16", "float16", "float8")  # dtypes --as-float32 writes as float32


#: What --random draws (``klr.interp.random_inputs``).
RANDOM_DRAWS = ("floats standard normal, signed integers uniform in [-8, 15], unsigned integers "
                "in [0, 15], packed fp8/fp4 types uniform raw bits")


def add_parser(sub: Any, common: Any, limit_option: Any) -> argparse.ArgumentParser:
    e: argparse.ArgumentParser = sub.add_parser(
        "eval", help="run a traced kernel on numpy inputs (the reference interpreter)",
        description="Run a traced KLR Core kernel on .npy inputs with the reference interpreter and "
                    "write one .npy per output, named after the output tensor (characters other than "
                    "letters, digits, _ - . are written as %%XX).")
    e.add_argument("input", metavar="IN.klr", help="a file written by klr trace")
    e.add_argument("inputs", nargs="*", metavar="[NAME=]FILE.npy",
                   help="kernel inputs, by name or in the order of the kernel's inputs")
    e.add_argument("--output-dir", metavar="DIR",
                   help="where to write outputs (default: the current directory)")
    e.add_argument("--random", type=int, metavar="SEED",
                   help=f"draw every missing input from a generator seeded with SEED: {RANDOM_DRAWS}")
    e.add_argument("--save-inputs", metavar="DIR", help="write the inputs --random drew to DIR, one "
                                                          ".npy each, before the run")
    e.add_argument("--expect", action="append", default=[], metavar="[NAME=]FILE.npy",
                   help="compare output NAME (may be left out for a kernel of one output) with the "
                        "values in FILE; exit 1 when they differ (repeatable)")
    e.add_argument("--rtol", type=float, metavar="R", help="relative tolerance of --expect (default "
                                                           "by dtype: float32 1e-5, float16 1e-3, "
                                                           "bfloat16 1e-2, fp8 0.1, integers 0)")
    e.add_argument("--atol", type=float, metavar="A", help="absolute tolerance of --expect (default: "
                                                           "as --rtol)")
    e.add_argument("--as-float32", action="store_true",
                   help="write bfloat16, fp8 and float16 outputs as float32 (exactly), which numpy "
                        "reads without ml_dtypes")
    e.add_argument("--strict", action="store_true",
                   help="make reading never-written memory into an output an error")
    e.add_argument("--dump-intermediates", metavar="DIR",
                   help="write what every executed statement writes to DIR, one .npy per operand, "
                        "with DIR/index.tsv listing step, statement, operator, position and file")
    e.add_argument("--stats", action="store_true",
                   help="print the time of each phase, the instructions run and the peak memory")
    limit_option(e)
    common(e)
    return e


def cmd_eval(args: argparse.Namespace, elimits: Any, flimits: Any) -> int:
    import numpy as np

    from klr.cli.eval_files import Dumper, load_inputs, output_file_names
    from klr.files import OutputDir
    from klr.format.npy import npy_bytes
    from klr.interp.budget import check, estimate
    from klr.sim.evaluate import complete, execute, prepare

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    prepared = prepare(args.input, flimits.max_file_bytes)
    kernel = prepared.kernel
    files = output_file_names([t.name for t in kernel.outputs])
    outdir = args.output_dir if args.output_dir is not None else "."
    for where in (outdir, args.save_inputs):
        if where is not None:
            _check_dir(where)
    expected = _expectations(kernel, args.expect, flimits.max_file_bytes)
    check(kernel, elimits)  # before any input is read or drawn
    seconds["read"] = time.perf_counter() - start
    start = time.perf_counter()
    inputs = load_inputs(kernel, args.inputs, flimits.max_file_bytes)
    drawn = complete(kernel, inputs, args.random, elimits, "pass .npy files or --random SEED")
    seconds["inputs"] = time.perf_counter() - start
    if args.save_inputs is not None:
        _save_inputs(args.save_inputs, {n: inputs[n] for n in drawn})
    dumper = None if args.dump_intermediates is None else Dumper(args.dump_intermediates,
                                                                  elimits.max_dump_bytes)
    try:
        with _Progress() as progress:
            evaluation = execute(prepared, inputs, strict=args.strict, seed=args.random, limits=elimits,
                                 progress=progress.show if progress.active else None, observe=dumper)
    finally:
        if dumper is not None:
            dumper.close()
    seconds.update(evaluation.seconds)
    result = evaluation.result
    for p in result.prints:
        print(_lines(p.text), file=sys.stderr if p.buffer == "stderr" else sys.stdout)
    _notes(evaluation.notes)
    for w in result.warnings:
        print(render_warning(w), file=sys.stderr)
    start = time.perf_counter()
    written = {name: _as_written(array, args.as_float32) for name, array in result.outputs.items()}
    with OutputDir.create(outdir) as out:
        out.write_all({files[name]: npy_bytes(array) for name, array in written.items()})
    seconds["write"] = time.perf_counter() - start
    for name, array in result.outputs.items():
        flat = np.asarray(array, dtype=np.float64).ravel() if array.size else np.zeros(1)
        stored = "" if written[name].dtype == array.dtype else f" (written as {written[name].dtype})"
        print(f"{printable(name)}: shape {tuple(array.shape)} {array.dtype}{stored}  min {flat.min():.6g}  "
              f"max {flat.max():.6g}  mean {flat.mean():.6g}  -> "
              f"{printable(os.path.join(outdir, files[name]))}")
    raw = sorted({str(a.dtype) for a in written.values() if a.dtype.kind == "V" or _is_ml(a.dtype)})
    if raw:
        _notes([f".npy has no {' or '.join(raw)} type, so those outputs are stored as raw bytes: read "
                f"them with np.load(f).view(ml_dtypes.{raw[0]}), or pass --as-float32"])
    if args.output_dir is None and result.outputs:
        _notes(["outputs were written to the current directory; --output-dir DIR puts them elsewhere"])
    if args.stats:
        _stats(seconds, result.stats, estimate(kernel).total)
    differ = [name for name, (want, source) in expected.items()
              if not _compare(name, result.outputs[name], want, source, args.rtol, args.atol)]
    if differ:
        raise EvalError(f"{len(differ)} of {len(expected)} compared output{'s' if len(expected) > 1 else ''} "
                        f"differ{'s' if len(differ) == 1 else ''} from the expected values: "
                        f"{', '.join(repr(d) for d in differ)}")
    return 0


def _check_dir(path: str) -> None:
    """Fail before the run when a directory to write is in the way (it is created after)."""
    if os.path.exists(path) and not os.path.isdir(path):
        from klr.errors import FileError

        raise FileError(f"cannot create the directory {path}: it exists and is not a directory")


def _lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


def _notes(notes: list[str]) -> None:
    for n in notes:
        print(printable(f"note: {n}"), file=sys.stderr)


def _is_ml(dtype: np.dtype) -> bool:
    return dtype.type.__module__.startswith("ml_dtypes")


def _as_written(array: np.ndarray, widen: bool) -> np.ndarray:
    import numpy as np

    if widen and array.dtype.kind in "fV" and str(array.dtype).startswith(WIDENED):
        return array.astype(np.float32)
    return array


def _save_inputs(directory: str, drawn: Mapping[str, np.ndarray]) -> None:
    from klr.cli.eval_files import output_file_names
    from klr.files import OutputDir
    from klr.format.npy import npy_bytes

    if not drawn:
        _notes([f"--save-inputs: no input was drawn at random, so nothing was written to {directory}"])
        return
    names = output_file_names(list(drawn))
    with OutputDir.create(directory) as out:
        out.write_all({names[n]: npy_bytes(a) for n, a in drawn.items()})
    shown = " ".join(f"{n}={os.path.join(directory, names[n])}" for n in drawn)
    print(printable(f"saved the random inputs to {directory} (to run them again: {shown})"))


def _expectations(kernel: Any, specs: list[str], max_bytes: int) -> dict[str, tuple[np.ndarray, str]]:
    """``--expect`` values by output name, each read now (a bad file fails before the run)."""
    from klr.format.npy import read_npy

    outputs = {t.name: t for t in kernel.outputs}
    out: dict[str, tuple[np.ndarray, str]] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or (name not in outputs and os.path.lexists(spec)):
            if len(outputs) != 1:
                raise UsageError(f"--expect {spec}: name the output (--expect NAME=FILE.npy); the "
                                 f"kernel's outputs are {', '.join(outputs)}")
            name, path = next(iter(outputs)), spec
        elif name not in outputs:
            raise UsageError(f"--expect {spec}: the kernel has no output named {name!r} "
                             f"(outputs: {', '.join(outputs) or 'none'})")
        t = outputs[name]
        array = read_npy(path, max_bytes=max_bytes, shape=t.dims, what=f"output {name!r}")
        target = t.dtype.numpy()
        if array.dtype.kind == "V" and array.dtype.itemsize == target.itemsize:
            array = array.view(target)
        out[name] = (array, path)
    return out


def tolerance(dtype: Any) -> float:
    import numpy as np

    name = str(np.dtype(dtype))
    if np.dtype(dtype).kind in "iub":
        return 0.0
    return TOLERANCE.get(name, FP8_TOLERANCE if name.startswith("float8") else 1e-5)


def _compare(name: str, got: np.ndarray, want: np.ndarray, source: str, rtol: float | None,
             atol: float | None) -> bool:
    """Print how output ``name`` compares with ``want``; True when it is within tolerance."""
    import numpy as np

    default = tolerance(got.dtype)
    rtol = default if rtol is None else rtol
    atol = (rtol if rtol is not None else default) if atol is None else atol
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    with np.errstate(all="ignore"):
        diff = np.abs(g - w)
        both_nan = np.isnan(g) & np.isnan(w)
        diff = np.where(both_nan, 0.0, diff)
        rel = np.where(diff == 0, 0.0, diff / np.abs(w))
        close = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    max_abs = float(np.nanmax(diff, initial=0.0)) if not np.isnan(diff).all() else float("nan")
    max_rel = float(np.nanmax(rel, initial=0.0)) if not np.isnan(rel).all() else float("nan")
    errors = f"max abs error {max_abs:.3g}, max rel error {max_rel:.3g} (rtol {rtol:g}, atol {atol:g})"
    bad = int(close.size - np.count_nonzero(close))
    shown = printable(name)
    if not bad:
        print(f"{shown}: matches {printable(source)}: {errors}")
        return True
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    print(f"{shown}: DIFFERS from {printable(source)} in {bad} of {close.size} elements; first at "
          f"{list(first)}: got {g[first]:.6g}, expected {w[first]:.6g}; {errors}")
    return False


class _Progress:
    """``eval: 45% (12,345 of 27,000 statements, 3.2 s)`` on standard error, when it is a terminal
    and the run takes more than a second."""

    def __init__(self) -> None:
        self.active = sys.stderr.isatty()
        self.start = time.perf_counter()
        self.shown = False

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()

    def show(self, done: int, total: int) -> None:
        took = time.perf_counter() - self.start
        if took < 1.0:
            return
        share = f"{min(99, 100 * done // max(total, 1))}% ({done:,} of {total:,} statements" \
            if done <= total else f"{done:,} statements ({total:,} in the kernel, loops repeat some"
        sys.stderr.write(f"\reval: {share}, {took:.1f} s)")
        sys.stderr.flush()
        self.shown = True


def _stats(seconds: Mapping[str, float], stats: Any, needed: int) -> None:
    import resource

    phases = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in seconds.items())
    print(f"stats: time: {phases}")
    ops = sorted(stats.by_operator.items(), key=lambda kv: (-kv[1], kv[0]))
    listed = ", ".join(f"{k} {v}" for k, v in ops)
    print(f"stats: {stats.instructions} instructions run ({stats.branches} branches taken): {listed}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(f"stats: peak memory {peak / 2**20:.1f} MiB (the whole process); the kernel's tensors need "
          f"about {needed / 2**20:.1f} MiB")
