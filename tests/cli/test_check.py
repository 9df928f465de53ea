"""``klr check FILE.klr``: one positioned error per broken rule, exit 1; exit 0 when clean."""

from __future__ import annotations

from pathlib import Path

import pytest

import klr
from klr.cli import main as cli
from klr.core import (
    APPair,
    BirAccessPattern,
    Block,
    Engine,
    ImmFloat,
    LncKernel,
    Memory,
    MemSet,
    Stmt,
    TensorName,
    TensorTensor,
    full_access,
)
from klr.core.optypes import AluOp
from klr.dtypes import Dtype
from klr.pos import Pos

SOURCE = "def kernel(a):\n    t = nl.ndarray((4, 8))\n    nl.add(t, u)\n"


def sbuf(name: str, *dims: int) -> BirAccessPattern:
    return full_access(TensorName.make(name, Dtype.float32, dims, Memory.sbuf))


def _kernel(source: Path) -> LncKernel:
    here = str(source)
    good = MemSet(sbuf("t", 4, 8), ImmFloat(0.0), Dtype.float32, Engine.dve)
    bad_add = TensorTensor(sbuf("d", 4, 8), sbuf("t", 4, 8), sbuf("u", 4, 4), AluOp.add, None, Engine.dve)
    hbm = TensorName.make("h", Dtype.float32, (4, 8), Memory.hbm)
    bad_set = MemSet(BirAccessPattern(hbm, 0, (APPair(8, 4, 0), APPair(1, 8, 0))), ImmFloat(0.0),
                     Dtype.float32, Engine.dve)
    body = (Block("main", False, (
        Stmt(good, "inst.1", Pos(2, 4, 2, 26, here)),
        Stmt(bad_add, "inst.2", Pos(3, 4, 3, 16, here)),
        Stmt(bad_set, "inst.3", Pos(0)),
    )),)
    return LncKernel("kernel", (), (), (body,), (), (), ())


def test_check_prints_each_broken_rule_with_its_source_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    # source lines are shown only for files below the current directory (klr.errors)
    monkeypatch.chdir(tmp_path)
    source = Path("kern.py")
    source.write_text(SOURCE)
    core = Path("kern.core.klr")
    klr.save(core, _kernel(source))
    assert cli.main(["check", str(core)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.splitlines() == [
        f"{source}:3:5: error: tensorTensor (statement 2, inst.2): src1 has shape [4, 4] but dst has [4, 8]",
        "    3 |     nl.add(t, u)",
        "      |     ^" + "~" * 11,
        f"{core}: error: memSet (statement 3, inst.3): dst is in HBM, but it must be in SBUF or PSUM",
        f"{core}: 2 errors in 3 statements",
    ]


def test_check_of_a_clean_kernel_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.e2e.e2e_support import refs

    ex = refs.load("transpose2d")
    py = klr.gather(str(ex.path), *ex.make_inputs(), name=ex.kernel, **ex.kwargs)
    core = tmp_path / "t.core.klr"
    klr.save(core, klr.trace(py))
    assert cli.main(["check", str(core)]) == 0
    assert capsys.readouterr().out == f"{core}: 3 statements, no errors\n"


def test_check_rejects_a_file_that_is_not_a_traced_kernel(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.klr"
    assert cli.main(["check", str(missing)]) == 1
    assert "none.klr" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        cli.main(["check", "--help"])
    assert done.value.code == 0
    assert "usage: klr check" in capsys.readouterr().out
