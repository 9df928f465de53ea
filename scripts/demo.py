"""Run one example through the klr command line and compare the result with its numpy reference."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import klr

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
        outputs = [t.name for t in klr.load(traced).outputs]
        expected = ex.expected(inputs)
        if len(outputs) != len(expected):
            print(f"FAILED: {len(outputs)} outputs, the reference has {len(expected)}")
            return 1
        checks = []
        for output, want in zip(outputs, expected):
            np.save(work / f"want_{output}.npy", want)
            checks += ["--expect", f"{output}={work / f'want_{output}.npy'}"]
        # klr eval compares each output with its numpy reference and exits 1 on a mismatch
        run("klr", "eval", str(traced), *files, "--output-dir", str(outdir), *checks)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "spmd_add"))
