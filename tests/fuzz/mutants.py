"""Source-level mutants of the example kernels, for tests/fuzz and bench/fuzz.py.

A mutant changes one to three things of an example: an input's shape or dtype (what ``--arg``
would say), a numeric literal, a slice bound or index expression, an ``nl.*``/``nisa.*``
function swapped for another, a dtype name, a statement deleted or duplicated, a keyword
argument of the launch. ``make_mutant`` turns an example and its mutations into plain data
(source text and launch), ``run_mutant`` runs that through gather -> trace -> eval.
"""

from __future__ import annotations

import ast
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

import klr
from tests.fuzz.support import KlrError, outcome

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

import refs  # noqa: E402  (examples/refs: the launch descriptions)

NAMES = refs.names()
TREES = {name: ast.parse((EXAMPLES / f"{name}.py").read_text()) for name in NAMES}

NUMBERS = (0, 1, -1, 2, 3, 7, 31, 127, 128, 129, 512, 513, 4096, 10**6, 10**9, 0.5, -2.5, 1e30)
DIMS = (0, 1, 2, 3, 7, 64, 127, 128, 129, 256, 10**6)
DTYPES = ("float32", "bfloat16", "float16", "int32", "int8", "uint8", "float8_e4m3")


def _library_attrs() -> dict[str, list[str]]:
    """Attribute names used on each library alias (``nl``, ``nisa``, ...) across the examples."""
    seen: dict[str, set[str]] = {}
    for tree in TREES.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in ("nl", "nisa", "nki"):
                seen.setdefault(node.value.id, set()).add(node.attr)
    return {k: sorted(v) for k, v in seen.items()}


ATTRS = _library_attrs()
DTYPE_ATTRS = sorted({a for names in ATTRS.values() for a in names if a in DTYPES} | set(DTYPES))
FUNC_ATTRS = {k: [a for a in v if a not in DTYPE_ATTRS] for k, v in ATTRS.items()}


@dataclass(frozen=True)
class Mutation:
    kind: str
    site: int      # which candidate node (modulo their number)
    choice: int    # which replacement (modulo the options)


def sites(tree: ast.AST, kind: str) -> list[Any]:
    out: list[Any] = []
    for node in ast.walk(tree):
        match kind:
            case "number":
                if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                    out.append(node)
            case "slice":
                if isinstance(node, ast.Slice):
                    out.append(node)
            case "index":
                if isinstance(node, ast.Subscript):
                    out.append(node)
            case "function" | "dtype":
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id in FUNC_ATTRS:
                    is_dtype = node.attr in DTYPE_ATTRS
                    if is_dtype == (kind == "dtype"):
                        out.append(node)
            case "delete" | "duplicate":
                if isinstance(node, (ast.FunctionDef, ast.For, ast.If, ast.With)):
                    out.extend((node, i) for i in range(len(node.body)))
    return out


def _expr(value: Any) -> ast.expr:
    return ast.Constant(value) if not isinstance(value, int) or value >= 0 else \
        ast.UnaryOp(ast.USub(), ast.Constant(-value))


def _apply(tree: ast.Module, m: Mutation) -> bool:
    """Mutate ``tree`` in place; False when the example has no site of that kind."""
    found = sites(tree, m.kind)
    if not found:
        return False
    node = found[m.site % len(found)]
    match m.kind:
        case "number":
            node.value = NUMBERS[m.choice % len(NUMBERS)]
        case "slice":
            field = ("lower", "upper", "step")[m.choice % 3]
            bound = (None, 0, 1, -1, 2, 128, 129, 10**6)[m.choice // 3 % 8]
            setattr(node, field, None if bound is None else _expr(bound))
        case "index":
            options: list[ast.expr] = [
                _expr(0), _expr(-1), _expr(10**6), ast.Constant(None), ast.Constant(...),
                ast.Tuple([], ast.Load()), ast.Tuple([_expr(0)] * 5, ast.Load()),
                ast.Slice(_expr(3), _expr(1)), ast.Constant("x"),
                ast.Tuple([node.slice, node.slice], ast.Load()),
            ]
            node.slice = options[m.choice % len(options)]
        case "function":
            names = FUNC_ATTRS[node.value.id]
            node.attr = names[m.choice % len(names)]
        case "dtype":
            node.attr = DTYPE_ATTRS[m.choice % len(DTYPE_ATTRS)]
        case "delete":
            owner, i = node
            del owner.body[i]
            if not owner.body:
                owner.body.append(ast.Pass())
        case "duplicate":
            owner, i = node
            owner.body.insert(i, owner.body[i])
    return True


def _launch(ex: refs.Example, m: Mutation) -> refs.Example:
    """A mutation of the launch itself: an input's shape or dtype, or a keyword argument."""
    inputs = list(ex.inputs)
    if m.kind in ("shape", "input_dtype") and inputs:
        name, dtype, shape = inputs[m.site % len(inputs)]
        if m.kind == "shape":
            dims = list(shape)
            if m.choice % 5 == 4:
                dims.append(DIMS[m.choice % len(DIMS)])          # one more dimension
            elif m.choice % 5 == 3 and dims:
                dims.pop()                                        # one fewer
            elif dims:
                dims[m.choice % len(dims)] = DIMS[m.choice // 5 % len(DIMS)]
            inputs[m.site % len(inputs)] = (name, dtype, tuple(dims))
        else:
            inputs[m.site % len(inputs)] = (name, DTYPES[m.choice % len(DTYPES)], shape)
    kwargs = dict(ex.kwargs)
    if m.kind == "kwarg" and kwargs:
        key = sorted(kwargs)[m.site % len(kwargs)]
        kwargs[key] = (0, 1, -1, 2, 10**9, 0.0, None, "x", (1, 2))[m.choice % 9]
    grid = ex.grid
    if m.kind == "grid":
        grid = ((1,), (0,), (3, 1), (1, 1, 1), (2, 2), (-1, 2), ())[m.choice % 7]
    return replace(ex, inputs=tuple(inputs), kwargs=kwargs, grid=grid)


SOURCE_KINDS = ("number", "slice", "index", "function", "dtype", "delete", "duplicate")
LAUNCH_KINDS = ("shape", "input_dtype", "kwarg", "grid")
mutations = st.builds(Mutation, st.sampled_from(SOURCE_KINDS + LAUNCH_KINDS),
                      st.integers(0, 200), st.integers(0, 200))


@dataclass(frozen=True)
class Mutant:
    """A mutated example as plain data: its source text and its launch."""

    example: str
    kernel: str
    source: str
    inputs: tuple[tuple[str, str, tuple[int, ...]], ...]
    kwargs: dict[str, Any]
    grid: tuple[int, ...] | None


def make_mutant(name: str, muts: list[Mutation]) -> Mutant:
    ex = refs.load(name)
    tree = ast.parse(ast.unparse(TREES[name]))  # a private copy
    for m in muts:
        if m.kind in LAUNCH_KINDS:
            ex = _launch(ex, m)
        else:
            _apply(tree, m)
    return Mutant(name, ex.kernel, ast.unparse(tree) + "\n", ex.inputs, ex.kwargs, ex.grid)


def _inputs(m: Mutant) -> list[np.ndarray] | None:
    """Small random inputs, or None when the launch is too big to materialise (those are
    gathered and traced only, with placeholder arrays)."""
    if any(int(np.prod(shape, dtype=np.float64)) > 10**7 for _, _, shape in m.inputs):
        return None
    rng = np.random.default_rng(0)
    return [rng.uniform(-2, 2, shape).astype(refs.np_dtype(dtype)) for _, dtype, shape in m.inputs]


class _Placeholder:
    """Stands for a huge input array: gather only reads ``shape`` and ``dtype``."""

    def __init__(self, shape: tuple[int, ...], dtype: str) -> None:
        self.shape = shape
        self.dtype = refs.np_dtype(dtype)


def run_mutant(m: Mutant, workdir: Path) -> None:
    """gather -> trace -> eval, each a success or a checked KlrError (else the exception propagates)."""
    source = workdir / f"{m.example}.py"
    source.write_text(m.source)
    shutil.copy(EXAMPLES / "common.py", workdir / "common.py")
    arrays = _inputs(m)
    args: list[Any] = list(arrays) if arrays is not None else [
        _Placeholder(shape, dtype) for _, dtype, shape in m.inputs]
    py = outcome(lambda: klr.gather(str(source), *args, name=m.kernel, grid=m.grid, **m.kwargs))
    if isinstance(py, KlrError):
        return
    traced = outcome(lambda: klr.trace(py))
    if isinstance(traced, KlrError) or arrays is None:
        return
    named = {spec[0]: a for spec, a in zip(m.inputs, arrays, strict=True)}
    outcome(lambda: klr.eval(traced, **named), positioned=False)
