"""Writing KLR files in pieces, and encodings cached by identity: the streaming encoder writes
exactly the bytes of the one-buffer encoder and hands them on only between statements; a failure
half-way leaves no file; a kernel whose nodes are shared encodes as its unshared copy does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import klr.core as core
import klr.python.ast as pyast
from klr import files
from klr.errors import FormatError
from klr.format import cbor, reuse
from klr.format import file as kfile
from klr.pos import Pos
from klr.schema import Kind, TypeDesc, describe, field_names, fields_of, info_of

from .schema_strategies import values

SETTINGS = settings(max_examples=30, suppress_health_check=list(HealthCheck), deadline=None)


def pieces(contents: Any, size: int) -> list[bytes]:
    got: list[bytes] = []
    kfile.stream(contents, lambda b: got.append(bytes(b)), size)
    return got


@st.composite
def long_kernels(draw: st.DrawFn) -> core.LncKernel:
    """LncKernels whose blocks hold enough statements (some of them the same objects, as the
    tracer shares nodes) for the encoder to leave its inline path for short lists."""
    stmts = draw(st.lists(values(core.Stmt, 3), min_size=1, max_size=4))
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        repeat = draw(st.integers(1, 40))
        body = tuple(stmts[i % len(stmts)] for i in range(repeat * len(stmts)))
        blocks.append(core.Block(draw(st.text(max_size=4)), draw(st.booleans()), body))
    kernel = draw(values(core.LncKernel, 2))
    return core.LncKernel(kernel.name, kernel.inputs, kernel.outputs, (tuple(blocks),),
                          kernel.sharedConstants, kernel.sharedBuffers, kernel.edges)


@SETTINGS
@given(long_kernels(), st.sampled_from([1, 7, 100, 4096, reuse.CHUNK]))
def test_streamed_core_is_the_one_buffer_encoding(kernel: core.LncKernel, size: int) -> None:
    whole = kfile.to_bytes(kernel)
    got = pieces(kernel, size)
    assert b"".join(got) == whole
    assert all(got)
    # a piece is handed on once it reaches the size, at the end of a statement
    assert all(len(p) >= size for p in got[:-1])
    if size == 1:  # a piece after each statement of a long block, after each block, and the rest
        assert len(got) == 1 + sum(len(b.body) if len(b.body) >= 24 else 1 for b in kernel.bodies[0])


def unshared(v: Any) -> Any:
    """A copy of ``v`` in which no node is shared: every node occurs once, so no cached
    encoding is ever reused."""
    if isinstance(v, tuple):
        return tuple(unshared(x) for x in v)
    names = field_names(type(v)) if hasattr(type(v), "__klr__") else None
    if not names:
        return v  # a number, a string, an enum member, or a node without fields
    return type(v)(*(unshared(getattr(v, n)) for n in names))


@SETTINGS
@given(long_kernels(), st.sampled_from([2, 5, 1 << 12]))
def test_cached_encodings_are_the_unshared_encoding(kernel: core.LncKernel, limit: int) -> None:
    copy = unshared(kernel)
    assert copy == kernel
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reuse, "MEMO_LIMIT", limit)  # small: the caches are emptied half-way
        shared = kfile.to_bytes(kernel)
        assert b"".join(pieces(kernel, 100)) == shared
    assert shared == kfile.to_bytes(copy)
    assert cbor.encode(kernel) == shared[len(kfile.HEADER + kfile.METADATA) + 4:]


def test_the_caches_are_emptied_after_each_file(tmp_path: Path) -> None:
    import klr

    kernel = klr.load(_traced(tmp_path))
    kfile.write(tmp_path / "out.klr", kernel)
    assert not reuse.MEMO and not reuse.SEEN


@SETTINGS
@given(values(pyast.Kernel), st.sampled_from([1, 64]))
def test_streamed_python_ast_is_the_one_buffer_encoding(kernel: pyast.Kernel, size: int) -> None:
    assert b"".join(pieces(kernel, size)) == kfile.to_bytes(kernel)


def test_a_traced_kernel_streams_in_pieces(tmp_path: Path) -> None:
    import klr

    kernel = klr.load(_traced(tmp_path))
    whole = kfile.to_bytes(kernel)
    got = pieces(kernel, 1000)
    assert b"".join(got) == whole
    assert len(got) > 2 and max(map(len, got)) < 1000 + 1000


def _traced(tmp_path: Path) -> Path:
    import numpy as np

    import klr

    src = tmp_path / "k.py"
    src.write_text("import neuronxcc.nki.language as nl\n\n"
                   "def add(a, b):\n"
                   "    out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)\n"
                   "    for i in nl.affine_range(a.shape[0] // 128):\n"
                   "        x = nl.load(a[i * 128:(i + 1) * 128, :])\n"
                   "        y = nl.load(b[i * 128:(i + 1) * 128, :])\n"
                   "        nl.store(out[i * 128:(i + 1) * 128, :], x + y)\n"
                   "    return out\n")
    a = np.zeros((128 * 40, 64), np.float32)
    path = tmp_path / "k.core.klr"
    klr.save(path, klr.trace(klr.gather(str(src), a, a, name="add")).kernel)
    return path


def test_save_writes_the_one_buffer_encoding(tmp_path: Path) -> None:
    import klr

    kernel = klr.load(_traced(tmp_path))
    out = tmp_path / "again.klr"
    klr.save(out, kernel)
    assert out.read_bytes() == kfile.to_bytes(kernel)


class Broken:
    """An operator payload no encoder knows: encoding fails when it reaches it."""


def _failing_kernel(tmp_path: Path) -> core.LncKernel:
    import klr

    kernel = klr.load(_traced(tmp_path))
    (block,) = kernel.bodies[0]
    bad = core.Stmt(Broken(), None, Pos(1, 0))  # type: ignore[arg-type]
    body = (*block.body, bad)
    return core.LncKernel(kernel.name, kernel.inputs, kernel.outputs,
                          ((core.Block(block.label, block.noReorder, body),),),
                          kernel.sharedConstants, kernel.sharedBuffers, kernel.edges)


def test_a_failure_half_way_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kernel = _failing_kernel(tmp_path)
    monkeypatch.setattr(kfile, "CHUNK", 100)  # many pieces are written before the failure
    written: list[int] = []
    real = files._write_all
    monkeypatch.setattr(files, "_write_all", lambda fd, data: (written.append(len(data)), real(fd, data)))
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(FormatError, match="a Broken is not a Operator"):
        kfile.write(tmp_path / "new.klr", kernel)
    assert len(written) > 10
    (tmp_path / "old.klr").write_bytes(b"old")
    with pytest.raises(FormatError):
        kfile.write(tmp_path / "old.klr", kernel)
    assert (tmp_path / "old.klr").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == sorted([*before, "old.klr"])


def test_a_failure_writes_nothing_to_standard_output(tmp_path: Path,
                                                     capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    kernel = _failing_kernel(tmp_path)
    with pytest.raises(FormatError):
        kfile.write("-", kernel)
    assert capfdbinary.readouterr().out == b""


def test_pieces_reach_standard_output_whole(tmp_path: Path,
                                            capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    import klr

    kernel = klr.load(_traced(tmp_path))
    kfile.write("-", kernel)
    assert capfdbinary.readouterr().out == kfile.to_bytes(kernel)


def test_write_output_takes_pieces(tmp_path: Path) -> None:
    def make(sink: Any) -> None:
        for piece in (b"one ", b"two ", b"three"):
            sink(bytearray(piece))

    files.write_output(tmp_path / "out", make)
    assert (tmp_path / "out").read_bytes() == b"one two three"
    assert files.whole(make) == b"one two three"


def _reaches(d: TypeDesc, seen: set[TypeDesc]) -> set[str]:
    """The names of the struct and sum types whose lists a value of ``d`` may hold."""
    if d in seen:
        return set()
    seen.add(d)
    found: set[str] = set()
    if d.kind is Kind.LIST and d.args[0].kind in (Kind.STRUCT, Kind.SUM):
        found.add(d.args[0].name)
    if d.kind in (Kind.STRUCT, Kind.CTOR):
        for f in fields_of(d.cls):
            found |= _reaches(describe(f.type), seen)
    for a in d.args:
        found |= _reaches(a, seen)
    return found


def test_no_cached_encoding_holds_a_place_where_pieces_are_handed_on() -> None:
    """A struct whose encoding is cached must be encoded whole: none may hold a list where the
    streaming encoder hands its bytes on."""
    shared = [c for c in (*vars(core).values(), Pos) if isinstance(c, type) and hasattr(c, "__klr__")
              and info_of(c).lean in reuse.SHARED]
    assert {info_of(c).lean for c in shared} == reuse.SHARED
    for cls in shared:
        assert not _reaches(describe(cls), set()) & reuse.SPILL_AT, cls


def test_a_list_of_statements_that_is_not_a_list() -> None:
    block = core.Block("b", False, 5)  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="^expected a list, got int$"):
        cbor.encode(core.Kernel("k", (), (), (block,) * 30))
    with pytest.raises(FormatError, match="^expected a list, got int$"):
        pieces(core.LncKernel("k", (), (), ((block,) * 30,), (), (), ()), 10)
