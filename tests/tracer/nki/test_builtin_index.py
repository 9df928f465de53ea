"""The builtin modules are imported on first use: the index the registry declares them by is
exactly what each module registers, and a lookup imports the module that defines the name."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

from klr.tracer import entries, registry
from klr.tracer.nki.builtins import MODULES
from klr.tracer.nki.builtins.index import NAMES

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def test_index_is_what_the_modules_register() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "builtin_index.py"), "--check"], env=ENV)
    assert done.returncode == 0, "regenerate with python scripts/builtin_index.py"


def test_every_indexed_name_is_registered_by_its_module() -> None:
    by_module: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in entries():
        module = getattr(e.impl, "__module__", "")
        if module.startswith("klr.tracer.nki.builtins."):
            by_module[module.rsplit(".", 1)[1]].update(e.names)
    for module, names in by_module.items():
        assert names <= set(NAMES[module]), module


def test_a_small_trace_imports_only_the_modules_it_calls(tmp_path: Path) -> None:
    (tmp_path / "k.py").write_text("import nki.language as nl\n\n\n"
                                   "def k(a, out):\n    nl.store(out, nl.load(a))\n")
    code = f"""if True:
        import sys
        from klr.python.args import parse_arg_specs
        from klr.python.gather import gather_file
        from klr.tracer import trace
        args, _ = parse_arg_specs(["float32[4,8]", "float32[4,8]"])
        trace(gather_file({str(tmp_path / "k.py")!r}, "k", args=args))
        print(sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("klr.tracer.nki.builtins.")),
              "klr.tracer.pybuiltins" in sys.modules, "klr.tracer.pymath" in sys.modules,
              "klr.tracer.nki.hostarrays" in sys.modules)
    """
    done = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['index', 'memory'] False False False"


def test_the_python_builtins_are_imported_when_a_kernel_names_one(tmp_path: Path) -> None:
    (tmp_path / "k.py").write_text("import math\nimport nki.language as nl\n\n\n"
                                   "def k(a, out):\n    for i in range(math.ceil(1.5) - 1):\n"
                                   "        nl.store(out, nl.load(a))\n")
    code = f"""if True:
        import sys
        from klr.python.args import parse_arg_specs
        from klr.python.gather import gather_file
        from klr.tracer import trace
        args, _ = parse_arg_specs(["float32[4,8]", "float32[4,8]"])
        result = trace(gather_file({str(tmp_path / "k.py")!r}, "k", args=args))
        print(len(result.kernel.bodies[0][0].body), "klr.tracer.pybuiltins" in sys.modules,
              "klr.tracer.pymath" in sys.modules)
    """
    done = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2 True True"


def test_lookup_imports_the_defining_module() -> None:
    code = ("import sys; from klr.tracer import nki, registry; "
            "before = 'klr.tracer.nki.builtins.matmul' in sys.modules; "
            "fn = registry.lookup('nki.language.matmul'); "
            "print(before, 'klr.tracer.nki.builtins.matmul' in sys.modules, fn)")
    done = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
    assert done.stdout.strip() == "False True <built-in function nki.language.matmul>", done.stderr


def test_parameters_read_from_code_are_inspect_s() -> None:
    def slow(impl: object) -> tuple[registry.Param, ...]:
        ps = list(inspect.signature(impl).parameters.values())[1:]  # type: ignore[arg-type]
        return tuple(registry.Param(p.name, registry._KINDS[p.kind],
                                    registry.REQUIRED if p.default is p.empty else p.default) for p in ps)

    def every_kind(ctx: object, x: int, /, y: int, z: int = 3, *rest: int, k: int, m: int = 4,
                   **kw: int) -> None: ...

    def keywords(ctx: object, *, k: int = 1) -> None: ...

    def star(*args: object) -> None: ...

    impls = [e.impl for e in entries() if e.impl is not None]
    assert len(impls) > 200
    for impl in [*impls, every_kind, keywords, star]:
        assert registry._params_of(impl) == slow(impl), impl
