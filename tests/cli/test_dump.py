"""``klr eval --dump-intermediates DIR``: one .npy per write of every executed statement and an
index, written inside DIR only, also when the run fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import klr
from klr.cli import main as cli
from klr.core import AluOp, Engine, RegisterMove, TensorScalar, TensorScalarReverseOps, TensorTensor
from tests.interp.builder import dma, fimm, full, hbm, kernel, sbuf

X = hbm("x", (4, 8))
OUT = hbm("out", (4, 8))


def setup(tmp_path: Path, ops: list[object]) -> tuple[str, str]:
    klr.save(str(tmp_path / "k.klr"), kernel([X], [OUT], ops))
    np.save(tmp_path / "x.npy", np.arange(32, dtype=np.float32).reshape(4, 8))
    return str(tmp_path / "k.klr"), str(tmp_path / "x.npy")


def rows(directory: Path) -> list[list[str]]:
    lines = (directory / "index.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["step", "core", "statement", "instruction", "operator", "position",
                                    "field", "file", "shape", "dtype"]
    return [line.split("\t") for line in lines[1:]]


def test_every_statement_is_dumped_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = sbuf("s", (4, 8))
    plus = TensorScalar(full(s), full(s), fimm(1.0), AluOp.add, None, None, TensorScalarReverseOps.none,
                        Engine.unassigned, None)
    k, x = setup(tmp_path, [dma(s, X), plus, dma(OUT, s)])
    assert cli.main(["eval", k, x, "--output-dir", str(tmp_path / "out"), "--dump-intermediates",
                     str(tmp_path / "dump")]) == 0
    got = rows(tmp_path / "dump")
    assert [r[:8] for r in got] == [
        ["1", "0", "1", "inst.1", "ncDmaCopy", "kern.py:10:5", "dst", "000001-0-ncDmaCopy-dst.npy"],
        ["2", "0", "2", "inst.2", "tensorScalar", "kern.py:11:5", "dst", "000002-0-tensorScalar-dst.npy"],
        ["3", "0", "3", "inst.3", "ncDmaCopy", "kern.py:12:5", "dst", "000003-0-ncDmaCopy-dst.npy"],
    ]
    assert [r[8:] for r in got] == [["4x8", "float32"]] * 3
    base = np.arange(32, dtype=np.float32).reshape(4, 8)
    for name, want in (("000001-0-ncDmaCopy-dst.npy", base), ("000002-0-tensorScalar-dst.npy", base + 1),
                       ("000003-0-ncDmaCopy-dst.npy", base + 1)):
        np.testing.assert_array_equal(np.load(tmp_path / "dump" / name), want)
    capsys.readouterr()


def test_names_from_the_kernel_are_escaped_and_stay_inside_dir(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    k, x = setup(tmp_path, [RegisterMove("../up", 1), RegisterMove("a\tb", 2), dma(OUT, X)])
    assert cli.main(["eval", k, x, "--output-dir", str(tmp_path / "out"), "--dump-intermediates",
                     str(tmp_path / "dump")]) == 0
    got = rows(tmp_path / "dump")
    assert [(r[6], r[7]) for r in got[:2]] == [("reg.../up", "000001-0-registerMove-reg...%2Fup.npy"),
                                              ("reg.a\\tb", "000002-0-registerMove-reg.a%09b.npy")]
    assert sorted(p.name for p in (tmp_path / "dump").iterdir()) == sorted(
        ["index.tsv", *(r[7] for r in got)])
    assert not (tmp_path / "up.npy").exists()
    assert int(np.load(tmp_path / "dump" / got[1][7])) == 2
    capsys.readouterr()


def test_a_failing_run_keeps_what_was_dumped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = TensorTensor(full(OUT), full(X), full(hbm("y", (4, 4))), AluOp.add, None, Engine.unassigned)
    k, x = setup(tmp_path, [dma(OUT, X), bad])
    assert cli.main(["eval", k, x, "--output-dir", str(tmp_path / "out"), "--dump-intermediates",
                     str(tmp_path / "dump")]) == 1
    assert "src1 has shape [4, 4] but dst has [4, 8] in tensorTensor inst.2" in capsys.readouterr().err
    assert [r[:5] for r in rows(tmp_path / "dump")] == [["1", "0", "1", "inst.1", "ncDmaCopy"]]


def test_the_dump_has_a_byte_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    k, x = setup(tmp_path, [dma(OUT, X)])
    assert cli.main(["eval", k, x, "--output-dir", str(tmp_path / "out"), "--dump-intermediates",
                     str(tmp_path / "dump"), "--limit", "max-dump-bytes=100"]) == 1
    assert ("error: --dump-intermediates would write more than 100 bytes (--limit max-dump-bytes=N raises "
            "it)") in capsys.readouterr().err
    assert rows(tmp_path / "dump") == []
