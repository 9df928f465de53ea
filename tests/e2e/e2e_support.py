"""Shared helpers for the end-to-end tests: run an example through the library API or the
``klr`` command line, and compare its outputs with the example's numpy reference."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

import refs  # noqa: E402  (examples/refs: pure numpy, importable once EXAMPLES is on the path)

Example = refs.Example


def run_api(ex: Example, inputs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """gather -> trace -> eval through ``import klr``; the outputs by name, in kernel order."""
    import klr

    py = klr.gather(str(ex.path), *inputs, name=ex.kernel, grid=ex.grid, **ex.kwargs)
    traced = klr.trace(py)
    named = {spec[0]: array for spec, array in zip(ex.inputs, inputs, strict=True)}
    result = klr.eval(traced, strict=True, **named)
    return {t.name: result.outputs[t.name] for t in traced.kernel.outputs}


def arg_specs(ex: Example) -> list[str]:
    """``--arg`` values: tensors positionally as DTYPE[D0,...], scalars by keyword."""
    specs = [f"{dtype}[{','.join(str(d) for d in shape)}]" for _, dtype, shape in ex.inputs]
    specs += [f"{name}={value!r}" for name, value in ex.kwargs.items()]
    return specs


def klr_cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m klr ARGV`` from ``cwd``; fail the test with its stderr if it fails."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run([sys.executable, "-m", "klr", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"klr {' '.join(argv)} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def cli_trace(ex: Example, workdir: Path) -> Path:
    """``klr gather`` then ``klr trace`` from the repository root; returns the Core file."""
    gathered = workdir / f"{ex.name}.klr"
    core = workdir / f"{ex.name}.core.klr"
    gather_argv = ["gather", str(ex.path.relative_to(ROOT)), ex.kernel, "-o", str(gathered)]
    for spec in arg_specs(ex):
        gather_argv += ["--arg", spec]
    if ex.grid is not None:
        gather_argv += ["--grid", ",".join(str(g) for g in ex.grid)]
    klr_cli(*gather_argv, cwd=ROOT)
    klr_cli("trace", str(gathered), "-o", str(core), cwd=ROOT)
    return core


def run_cli(ex: Example, inputs: list[np.ndarray], workdir: Path) -> dict[str, np.ndarray]:
    """gather -> trace -> eval through ``python -m klr``; the outputs by name, in kernel order."""
    import klr

    core = cli_trace(ex, workdir)
    files = []
    for (name, _, _), array in zip(ex.inputs, inputs, strict=True):
        path = workdir / f"{name}.npy"
        np.save(path, array)
        files.append(f"{name}={path}")
    outdir = workdir / "out"
    klr_cli("eval", str(core), *files, "--output-dir", str(outdir), "--strict", cwd=ROOT)
    # .npy cannot name bfloat16 (it is saved as raw 2-byte void): reread with the declared dtype.
    declared = {t.name: t.dtype.numpy() for t in klr.load(core).outputs}
    return {name: _as_dtype(np.load(outdir / f"{name}.npy"), dtype) for name, dtype in declared.items()}


def _as_dtype(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if array.dtype.kind == "V" and array.dtype.itemsize == np.dtype(dtype).itemsize:
        return array.view(dtype)
    return array


def assert_matches(ex: Example, inputs: list[np.ndarray], outputs: dict[str, Any]) -> None:
    """Compare outputs (in kernel order) with the reference, dtype and shape included."""
    expected = ex.expected(inputs)
    assert len(outputs) == len(expected), f"{ex.name}: outputs {list(outputs)}"
    for (name, got), want in zip(outputs.items(), expected, strict=True):
        assert got.shape == want.shape, f"{ex.name}.{name}: shape {got.shape} != {want.shape}"
        assert got.dtype == want.dtype, f"{ex.name}.{name}: dtype {got.dtype} != {want.dtype}"
        tol = ex.tolerance(want.dtype)
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=tol, atol=tol, err_msg=f"{ex.name}.{name}")


def normalise_paths(text: str) -> str:
    """Drop this checkout's location from printed positions, so goldens are portable."""
    return text.replace(str(ROOT) + os.sep, "")
