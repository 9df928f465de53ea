"""NumPy references and launch descriptions for the example kernels in ``examples/``.

One module per example, named like the kernel file. Each defines:

* ``KERNEL``: the name of the ``@nki.jit`` function in ``examples/<module>.py``;
* ``INPUTS``: the tensor parameters in positional order, as ``(name, dtype, shape)``;
* ``KWARGS``: the non-tensor parameters, passed by keyword (may be empty);
* ``GRID``: the SPMD launch grid, or ``None`` for a single program;
* ``reference(*inputs, **kwargs)``: the expected outputs, a tuple of arrays;
* optionally ``LOW``/``HIGH`` (range of the uniform random inputs, default -1..1) and ``TOL``
  (rtol = atol override; by default it follows the output dtype).

The kernels never see this code: gather only follows what a kernel references.
Only numpy and ml_dtypes are imported, so the references also run where neither the NKI
compiler nor klr is installed.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import ml_dtypes
import numpy as np

EXAMPLES_DIR = Path(__file__).resolve().parent.parent

# rtol = atol used when comparing an output of this dtype with its reference.
DEFAULT_TOL = {"bfloat16": 1e-2, "float16": 1e-3, "float32": 1e-5}


@dataclass(frozen=True)
class Example:
    name: str
    path: Path
    kernel: str
    inputs: tuple[tuple[str, str, tuple[int, ...]], ...]
    kwargs: dict[str, Any]
    grid: tuple[int, ...] | None
    reference: Callable[..., tuple[np.ndarray, ...]]
    low: float = -1.0
    high: float = 1.0
    tol: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def make_inputs(self, seed: int = 0) -> list[np.ndarray]:
        """Seeded uniform random inputs in the declared dtypes and shapes."""
        rng = np.random.default_rng(seed)
        return [rng.uniform(self.low, self.high, shape).astype(np_dtype(dtype))
                for _, dtype, shape in self.inputs]

    def expected(self, inputs: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        out = self.reference(*inputs, **self.kwargs)
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)

    def tolerance(self, dtype: np.dtype) -> float:
        if self.tol is not None:
            return self.tol
        return DEFAULT_TOL.get(np.dtype(dtype).name, 1e-5)

    def agrees(self, got: np.ndarray, want: np.ndarray) -> bool:
        """Same shape and equal within rtol = atol = the tolerance of ``want``'s dtype."""
        tol = self.tolerance(want.dtype)
        return got.shape == want.shape and bool(
            np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol))


def np_dtype(name: str) -> np.dtype:
    """The numpy dtype for an NKI dtype name (bfloat16 comes from ml_dtypes)."""
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"klr_example_ref_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(name: str) -> Example:
    """The example called ``name`` (its reference module is ``refs/<name>.py``)."""
    module = _load_module(Path(__file__).with_name(f"{name}.py"))
    return Example(
        name=name,
        path=EXAMPLES_DIR / f"{name}.py",
        kernel=module.KERNEL,
        inputs=tuple((n, d, tuple(s)) for n, d, s in module.INPUTS),
        kwargs=dict(getattr(module, "KWARGS", {})),
        grid=getattr(module, "GRID", None),
        reference=module.reference,
        low=getattr(module, "LOW", -1.0),
        high=getattr(module, "HIGH", 1.0),
        tol=getattr(module, "TOL", None),
    )


def names() -> list[str]:
    """Names of all examples, sorted."""
    here = Path(__file__).parent
    return sorted(p.stem for p in here.glob("*.py") if p.stem != "__init__")


def load_all() -> list[Example]:
    return [load(name) for name in names()]
