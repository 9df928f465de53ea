"""Reading or writing a KLR file imports the IR classes of its kind only: gather never builds
Core's classes, reading a Core file never builds the Python AST's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from klr.format.file import Hlo, kind_of

ROOT = Path(__file__).resolve().parents[2]
KERNEL = "import nki.language as nl\n\n\ndef k(a, out):\n    nl.store(out, nl.load(a))\n"


def _loaded(code: str, cwd: Path) -> list[str]:
    probe = f"{code}; import sys; print(sorted({{'klr.core', 'klr.python.ast'}} & set(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_each_kind_imports_its_own_classes(tmp_path: Path) -> None:
    (tmp_path / "k.py").write_text(KERNEL)
    run = "from klr.cli.main import main; main({})"
    argv = ["gather", "k.py", "k", "--arg", "float32[4,8]", "--arg", "float32[4,8]", "-o", "k.klr"]
    assert _loaded(run.format(argv), tmp_path) == ["klr.python.ast"]
    both = ["klr.core", "klr.python.ast"]
    assert _loaded(run.format(["trace", "k.klr", "-o", "k.core.klr"]), tmp_path) == both
    assert _loaded(run.format(["info", "k.core.klr"]), tmp_path) == ["klr.core"]
    assert _loaded(run.format(["info", "k.klr"]), tmp_path) == ["klr.python.ast"]


def test_kind_of_other_contents() -> None:
    assert kind_of(Hlo("m")) == "hlo"
    with pytest.raises(TypeError, match="int is not KLR file contents"):
        kind_of(3)
