"""The kernels the benchmarks run: the examples (examples/ with their numpy references in
examples/refs) and synthetic kernels of a chosen size, all as ``refs.Example`` launch
descriptions, so every benchmark gathers, traces, evaluates and checks them the same way.

Synthetic kernels (their sources in bench/speed_kernels.py and examples/tiled_matmul.py):

* ``add_tiles(tiles)``: ``a + b`` over ``[tiles * 128, 512]`` fp32, four statements a tile;
* ``elementwise(m, n)``: a masked chain of ALU and activation operations over an m x n input;
* ``matmul(m, k, n)``: bf16 tiled matmul with fp32 PSUM accumulation, legacy dialect
  (``beta2=True``: the same algorithm in the beta 2 dialect).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from measure import ROOT

SPEED_KERNELS = ROOT / "bench" / "speed_kernels.py"
TILE = (128, 512)

from examples import refs  # noqa: E402  (importing measure put the repository root on the path)


def examples() -> list[refs.Example]:
    return refs.load_all()


def add_tiles(tiles: int) -> refs.Example:
    shape = (tiles * TILE[0], TILE[1])
    return _synthetic(f"add_tiles[{tiles}]", SPEED_KERNELS, "add_tiles",
                      (("a", "float32", shape), ("b", "float32", shape)), _add)


def elementwise(m: int, n: int) -> refs.Example:
    return _synthetic(f"elementwise[{m}x{n}]", SPEED_KERNELS, "elementwise_chain",
                      (("x", "float32", (m, n)),), _elementwise, tol=1e-2)


def matmul(m: int, k: int, n: int, *, beta2: bool = False) -> refs.Example:
    path, kernel = ((SPEED_KERNELS, "beta2_tiled_matmul") if beta2
                    else (ROOT / "examples" / "tiled_matmul.py", "tiled_matmul_kernel"))
    name = f"{'beta2_' if beta2 else ''}matmul[{m}x{k}x{n}]"
    return _synthetic(name, path, kernel, (("lhsT", "bfloat16", (k, m)), ("rhs", "bfloat16", (k, n))),
                      _matmul)


def _synthetic(name: str, path: Path, kernel: str, inputs: tuple[tuple[str, str, tuple[int, ...]], ...],
               reference: Any, tol: float | None = None) -> refs.Example:
    return refs.Example(name=name, path=path, kernel=kernel, inputs=inputs, kwargs={}, grid=None,
                        reference=reference, tol=tol)


def _add(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    return (a + b,)


def _matmul(lhsT: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, ...]:
    product = lhsT.astype(np.float32).T @ rhs.astype(np.float32)
    return (product.astype(lhsT.dtype),)


def _elementwise(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """elementwise_chain in plain numpy, 512 columns at a time like the kernel."""
    out = np.empty_like(x)
    for c in range(0, x.shape[1], 512):
        t = x[:, c:c + 512]
        gated = np.maximum(np.exp(t - t.max(axis=1, keepdims=True)) * 0.5, np.tanh(t * 2.0))
        out[:, c:c + 512] = gated / gated.sum(axis=1, keepdims=True) + t
    return (out,)


# --- running a case ----------------------------------------------------------------------------


def gather(ex: refs.Example, inputs: list[np.ndarray]) -> Any:
    import klr

    return klr.gather(str(ex.path), *inputs, name=ex.kernel, grid=ex.grid, **ex.kwargs)


def matches(ex: refs.Example, inputs: list[np.ndarray], outputs: dict[str, np.ndarray]) -> bool:
    """The kernel's outputs agree with the case's numpy reference."""
    expected = ex.expected(inputs)
    return len(outputs) == len(expected) and all(
        ex.agrees(got, want) for got, want in zip(outputs.values(), expected))


def arg_flags(ex: refs.Example) -> list[str]:
    """The ``klr gather`` options that declare the case's arguments."""
    flags: list[str] = []
    for name, dtype, shape in ex.inputs:
        flags += ["--arg", f"{name}={dtype}[{','.join(map(str, shape))}]"]
    for key, value in ex.kwargs.items():
        flags += ["--arg", f"{key}={value!r}"]
    if ex.grid:
        flags += ["--grid", ",".join(map(str, ex.grid))]
    return flags


def input_bytes(ex: refs.Example) -> int:
    return sum(int(np.prod(shape)) * refs.np_dtype(dtype).itemsize for _, dtype, shape in ex.inputs)

