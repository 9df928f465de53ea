"""Cross-module gathering: every import form, packages, include directories, and no execution."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from conftest import FIXTURES, Writer, names
from klr.errors import GatherError
from klr.pos import Pos
from klr.python import ast as K
from klr.python.gather import gather, gather_file


@pytest.fixture
def proj(monkeypatch: pytest.MonkeyPatch) -> K.Kernel:
    monkeypatch.chdir(FIXTURES / "proj")
    return gather_file("kern.py", "kernel", include_dirs=["../incl"])


def test_every_import_form_resolves(proj: K.Kernel) -> None:
    assert [f.name for f in proj.funcs] == [
        "kern.kernel", "util.double", "lib.deep.core.deep_fn", "lib.ops.scale", "lib.ops.shift",
        "extra_mod.extra",
    ]
    assert names(proj.funcs[0].body) == [
        "x", "util.double", "a",
        "y", "lib.deep.core.deep_fn", "x",
        "z", "lib.deep.core.deep_fn", "y",
        "w", "lib.ops.scale", "z", "lib.ops.shift", "z",
        "extra_mod.extra", "w", "kern.LIMIT", "numpy.float32", "neuronxcc.nki.language.exp",
    ]


def test_relative_imports_and_package_attributes(proj: K.Kernel) -> None:
    deep, scale, shift = proj.funcs[2:5]
    assert names(deep.body) == ["x", "lib.consts.FACTOR", "lib.consts.FACTOR"]
    assert names(scale.body) == ["x", "lib.consts.FACTOR"]
    assert names(shift.body) == ["x", "lib.consts.FACTOR"]


def test_globals_are_shared_across_modules(proj: K.Kernel) -> None:
    assert [g.id for g in proj.globals] == ["lib.consts.FACTOR", "kern.LIMIT"]
    factor, limit = proj.globals
    assert factor.value.expr == K.ConstExpr(K.CInt(3))
    assert factor.pos == Pos(1, 0, 1, 6, "lib/consts.py")
    assert names(limit.value) == ["lib.consts.FACTOR"]


def test_file_names_follow_the_given_path(proj: K.Kernel) -> None:
    assert [f.fileName for f in proj.funcs] == [
        "kern.py", "util.py", "lib/deep/core.py", "lib/ops.py", "lib/ops.py", "../incl/extra_mod.py",
    ]


def test_include_dirs_are_searched_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "proj")
    with pytest.raises(GatherError) as err:
        gather_file("kern.py", "kernel")
    assert err.value.message == "cannot find module 'extra_mod'"
    assert err.value.pos == Pos(11, 0, 11, 27, "kern.py")
    assert err.value.notes == (("'extra' is used here", Pos(22, 11, 22, 16, "kern.py")),)


def test_kernel_file_inside_a_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "pkgtop")
    k = gather_file("mypkg/kern.py", "kernel")
    assert [f.name for f in k.funcs] == ["kern.kernel", "mypkg.helpers.helper"]
    assert [g.id for g in k.globals] == ["mypkg.helpers.OFFSET"]
    assert k.funcs[1].fileName == "mypkg/helpers.py"


def test_gather_never_executes_user_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "canary"
    work.mkdir()
    for name in ("kern.py", "noisy.py"):
        (work / name).write_text((FIXTURES / "canary" / name).read_text())
    monkeypatch.chdir(work)
    k = gather_file("kern.py", "kernel")
    assert [f.name for f in k.funcs] == ["kern.kernel", "noisy.helper"]
    assert sorted(os.listdir(work)) == ["kern.py", "noisy.py"]
    assert "CANARY" not in capsys.readouterr().out
    assert "noisy" not in __import__("sys").modules


def test_gather_of_a_function_object_reads_its_file(kernel_of: Writer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    kernel_of({"plain.py": """
        import importlib
        def kernel(a, b=2):
            return a * b
    """})
    monkeypatch.syspath_prepend(str(tmp_path))
    plain = importlib.import_module("plain")  # the test imports it; gather only reads the file
    k = gather(plain.kernel, 3, b=4)
    assert k.entry == "plain.kernel"
    assert k.funcs[0].fileName == "plain.py"
    assert [a.expr for a in k.args] == [K.ConstExpr(K.CInt(3))]
    assert [(kw.id, kw.value.expr) for kw in k.kwargs] == [("b", K.ConstExpr(K.CInt(4)))]


def test_gather_of_a_path_needs_a_name(kernel_of: Writer) -> None:
    from klr.errors import UsageError

    with pytest.raises(UsageError, match="needs name="):
        gather("kern.py")


def test_module_attribute_errors(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": """
            import helpers

            def kernel(a):
                return helpers.missing(a)
        """, "helpers.py": "X = 1\n"})
    assert err.value.message == "module 'helpers' has no attribute 'missing'"
    assert err.value.pos == Pos(4, 11, 4, 26, "kern.py")


def test_from_import_of_a_missing_name(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": """
            from helpers import nothing

            def kernel(a):
                return nothing(a)
        """, "helpers.py": "X = 1\n"})
    assert err.value.message == "cannot import name 'nothing' from 'helpers'"
    assert err.value.pos == Pos(1, 0, 1, 27, "kern.py")


def test_relative_import_of_a_missing_module(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"src/kern.py": """
            from ..up import f

            def kernel(a):
                return f(a)
        """})
    assert err.value.message == "cannot find module '..up'"
    assert err.value.pos == Pos(1, 0, 1, 18, "src/kern.py")


def test_relative_imports_reach_above_namespace_directories(kernel_of: Writer) -> None:
    k = kernel_of({"ref/quant/kern.py": """
            from ..util.types import Norm
            from .. import tools
            from . import consts

            def kernel(a):
                return Norm(a), tools.scale(a), consts.K
        """,
        "ref/__init__.py": "",
        "ref/util/types.py": "class Norm:\n    pass\n",
        "ref/tools.py": "def scale(x):\n    return x\n",
        "ref/quant/consts.py": "K = 1\n",
    })
    assert names(k.funcs[0].body) == ["util.types.Norm", "a", "tools.scale", "a", "consts.K"]
    assert [c.name for c in k.classes] == ["util.types.Norm"]
    assert k.classes[0].methods == () and k.globals[0].pos.filename == "ref/quant/consts.py"


def test_star_imports(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        from neuronxcc.nki.language import *
        from helpers import *

        def kernel(a):
            return exp(helper(a)), max(a)
    """, "helpers.py": """
        def helper(x):
            return x
    """})
    assert names(k.funcs[0].body) == ["neuronxcc.nki.language.exp", "helpers.helper", "a", "max", "a"]


def test_syntax_error_in_an_imported_module(kernel_of: Writer) -> None:
    with pytest.raises(GatherError) as err:
        kernel_of({"kern.py": """
            import broken

            def kernel(a):
                return broken.f(a)
        """, "broken.py": "def f(x):\n    return x +\n"})
    assert err.value.message == "syntax error: invalid syntax"
    assert err.value.pos is not None and err.value.pos.filename == "broken.py" and err.value.pos.line == 2


def test_unused_imports_of_missing_modules_are_ignored(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import torch
        from torch_xla.core import xla_model as xm
        import this_does_not_exist

        def kernel(a):
            return a

        if __name__ == "__main__":
            kernel(torch.zeros(4, device=xm.xla_device()))
    """})
    assert [f.name for f in k.funcs] == ["kern.kernel"]


def test_same_dotted_name_for_two_files(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import util
        from lib.core import f

        def kernel(a):
            return util.g(f(a))
    """,
        "util.py": "def g(x):\n    return x\n",
        "lib/core.py": "import util\n\ndef f(x):\n    return util.h(x)\n",
        "lib/util.py": "def h(x):\n    return x\n",
    })
    assert [(f.name, f.fileName) for f in k.funcs] == [
        ("kern.kernel", "kern.py"), ("util.g", "util.py"), ("lib.core.f", "lib/core.py"),
        ("util_2.h", "lib/util.py"),
    ]
