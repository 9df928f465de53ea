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
BASE = {"schema", "nodeinits", "pos", "dtypes", "errors", "diagnostics", "files", "limits"}


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


# ---- the module graph: every run-time import, function-local ones included -------------------

def module_name(path: Path) -> str:
    return ".".join(("klr", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def _resolve(name: str) -> str:
    """The module ``name`` denotes (``klr.tracer.ops.add`` -> ``klr.tracer.ops``)."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The nodes under ``if TYPE_CHECKING:``, which never run."""
    guards = [n for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)]
    return {id(n) for guard in guards for stmt in guard.body for n in ast.walk(stmt)}


def run_time_imports(module: str) -> set[str]:
    """The klr modules ``module`` imports when it runs, at the top or inside a function."""
    tree = ast.parse(MODULES[module].read_text())
    skip = _type_checking_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {_resolve(a.name) for a in node.names if a.name.split(".")[0] == "klr"}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: relative import"
            if node.module and node.module.split(".")[0] == "klr":
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                          else _resolve(node.module) for a in node.names}
    return found - {module}


GRAPH = {m: run_time_imports(m) for m in MODULES}


def test_no_import_cycles() -> None:
    """A depth-first walk of the import graph finds no module that leads back to itself."""
    state: dict[str, int] = {}   # 1 on the current path, 2 done
    cycles = []

    def walk(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(GRAPH[m]):
            if state.get(d) == 1:
                cycles.append(" -> ".join([*path[path.index(d):], d]))
            elif d not in state:
                walk(d, [*path, d])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            walk(m, [m])
    assert cycles == []


def test_the_cycle_check_sees_function_local_imports() -> None:
    assert "klr.files" in GRAPH["klr.diagnostics"]   # imported inside _line_text
    assert "klr.tracer.nki" in GRAPH["klr.tracer"]   # imported inside trace()
    assert "klr.tracer.kernel" not in GRAPH["klr.tracer.values"]


# ---- the tracer's layers: the Python evaluator, the NKI infrastructure, the NKI builtins ------

TRACER = "klr.tracer"
NKI = "klr.tracer.nki"
BUILTINS = "klr.tracer.nki.builtins"
# The NKI infrastructure, lowest first: a module imports only the ones before it.
NKI_ORDER = ("promotion", "consts", "index", "views", "state", "emit", "operators", "results",
             "registers", "masks", "indirect", "tensors", "hostarrays", "args", "dialects", "library",
             "apidoc")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_python_evaluator_knows_nothing_of_nki() -> None:
    """The modules of klr.tracer below the front door (the package itself) never import the
    NKI library nor the front door that joins the two."""
    evaluator = [m for m in MODULES if m.startswith(TRACER + ".") and not _within(m, NKI)]
    assert "klr.tracer.evaluator" in evaluator and "klr.tracer.library" in evaluator
    bad = {m: sorted(d for d in GRAPH[m] if _within(d, NKI) or d == TRACER) for m in evaluator}
    assert {m: d for m, d in bad.items() if d} == {}


def test_the_nki_infrastructure_is_in_its_declared_order() -> None:
    infrastructure = {m for m in MODULES if _within(m, NKI) and not _within(m, BUILTINS) and m != NKI}
    assert infrastructure == {f"{NKI}.{n}" for n in NKI_ORDER}
    bad = []
    for i, name in enumerate(NKI_ORDER):
        allowed = {f"{NKI}.{n}" for n in NKI_ORDER[:i]}
        bad += [f"{name} imports {d}" for d in sorted(GRAPH[f"{NKI}.{name}"])
                if _within(d, NKI) and d not in allowed]
    assert bad == []


def test_each_builtin_module_imports_only_the_infrastructure() -> None:
    """A builtin module never imports another; only the package that declares them all (by
    their index, importing each on first use) names them."""
    from klr.tracer.nki.builtins import MODULES as DECLARED

    modules = [m for m in MODULES if m.startswith(BUILTINS + ".")]
    assert len(modules) >= 10
    bad = {m: sorted(d for d in GRAPH[m] if _within(d, BUILTINS)) for m in modules}
    assert {m: d for m, d in bad.items() if d} == {}
    assert GRAPH[BUILTINS] == {f"{BUILTINS}.index", "klr.tracer.registry"}
    assert {f"{BUILTINS}.{m}" for m in DECLARED} == set(modules) - {f"{BUILTINS}.index"}
    users = {m for m, deps in GRAPH.items()
             if any(_within(d, BUILTINS) for d in deps) and not _within(m, BUILTINS)}
    assert users == {NKI}
