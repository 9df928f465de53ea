"""The tree is the pipeline: imports go one way, from higher layers to lower ones."""

from __future__ import annotations

import ast
from pathlib import Path

import klr

SRC = Path(klr.__file__).resolve().parent

# What each layer may import (besides itself and the standard library / numpy).
ALLOWED = {
    "base": set(),
    "core": {"base"},
    "python": {"base", "core"},
    "format": {"base", "core", "python"},
    "tracer": {"base", "core", "python", "format"},
    "interp": {"base", "core"},
    "sim": {"base", "core", "python", "format", "tracer", "interp"},
    "cli": {"base", "core", "python", "format", "tracer", "interp", "sim", "api"},
}
BASE = {"schema", "pos", "dtypes", "errors", "files", "limits"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "klr":
        raise ValueError(module)
    if len(parts) == 1 or parts[1] in ("__main__", "pytest_plugin"):
        return "api"
    return "base" if parts[1] in BASE else parts[1]


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "klr":  # from klr import core
            found.update(f"klr.{a.name}" if (SRC / a.name).exists() or (SRC / f"{a.name}.py").exists()
                         else "klr" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m == "klr" or m.startswith("klr.")}


def test_imports_go_one_way() -> None:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(("klr", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        here = layer_of(module)
        if here == "api":
            continue
        for imported in imports_of(path):
            there = layer_of(imported)
            if there != here and there not in ALLOWED[here]:
                bad.append(f"{module} ({here}) imports {imported} ({there})")
    assert bad == []


def test_interpreter_does_not_depend_on_the_tracer() -> None:
    for path in (SRC / "interp").rglob("*.py"):
        assert not any(m.startswith("klr.tracer") for m in imports_of(path)), path
