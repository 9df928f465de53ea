"""Run one example through the klr command line and compare the result with its numpy reference."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples import refs  # noqa: E402


def run(*cmd: str) -> None:
    print("$ " + shlex.join(cmd), flush=True)
    done = subprocess.run(cmd, check=False)
    if done.returncode:
        sys.exit(done.returncode)


def main(name: str) -> int:
    if name not in refs.names():
        print(f"unknown example {name!r}; choose one of: {', '.join(refs.names())}", file=sys.stderr)
        return 2
    ex = refs.load(name)
    inputs = ex.make_inputs(seed=0)
    with tempfile.TemporaryDirectory(prefix="klr-demo-") as tmp:
        work = Path(tmp)
        specs = [f"--arg={n}={d}[{','.join(map(str, s))}]" for n, d, s in ex.inputs]
        specs += [f"--arg={k}={v!r}" for k, v in ex.kwargs.items()]
        grid = ["--grid", ",".join(map(str, ex.grid))] if ex.grid else []
        gathered, traced, outdir = work / f"{name}.klr", work / f"{name}.core.klr", work / "out"
        run("klr", "gather", str(ex.path.relative_to(ROOT)), ex.kernel, *specs, *grid, "-o", str(gathered))
        run("klr", "trace", str(gathered), "-o", str(traced))
        files = []
        for (arg, _, _), array in zip(ex.inputs, inputs):
            np.save(work / f"{arg}.npy", array)
            files.append(f"{arg}={work / (arg + '.npy')}")
        run("klr", "eval", str(traced), *files, "--output-dir", str(outdir))
        outputs = sorted(outdir.glob("*.npy"))
        expected = ex.expected(inputs)
        if len(outputs) != len(expected):
            print(f"FAILED: {len(outputs)} outputs, the reference has {len(expected)}")
            return 1
        ok = True
        for path, want in zip(outputs, expected):
            got = np.load(path)
            if got.dtype.kind == "V":  # .npy stores bfloat16/fp8 as raw bytes
                got = got.view(want.dtype)
            good = ex.agrees(got, want)
            ok &= good
            same = got.shape == want.shape
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64)) if same else None
            err = diff.max(initial=0.0) if diff is not None else np.inf
            if good:
                print(f"OK: {path.stem} {list(got.shape)} matches numpy with rtol = atol = "
                      f"{ex.tolerance(want.dtype):g} (max abs error {err:.3g})")
            else:
                print(f"MISMATCH: {path.stem} {list(got.shape)} vs {list(want.shape)} "
                      f"(max abs error {err:.3g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "spmd_add"))
