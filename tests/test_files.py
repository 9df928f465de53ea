"""klr.files: what klr reads (regular files below a limit, checked before reading) and how it
writes (in place for devices and FIFOs, atomically otherwise, never through planted symlinks).

No test touches a real device: FIFOs, directories, sockets and sparse files stand in for them.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from klr import files
from klr.errors import FileError, UsageError

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def read(path: Path | str, limit: int = 1000) -> bytes:
    return files.read_input(path, limit=limit, limit_name="max_file_bytes")


# --- reading ---------------------------------------------------------------------------------


def test_reading_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"abc")
    assert read(tmp_path / "a") == b"abc"


def test_reading_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FileError) as info:
        read(fifo)  # no writer: opening it for reading would block forever
    assert info.value.message == f"cannot read {fifo}: it is a FIFO, not a regular file"


def test_reading_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        read(tmp_path)
    assert info.value.message == f"cannot read {tmp_path}: it is a directory, not a regular file"


def test_reading_a_socket_is_refused(tmp_path: Path) -> None:
    where = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(where))
        with pytest.raises(FileError) as info:
            read(where)
    assert info.value.message == f"cannot read {where}: it is a socket, not a regular file"


def test_reading_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse"
    with open(sparse, "wb") as f:
        f.truncate(5 * 2**30)  # 5 GiB of holes: reading it would take the memory
    with pytest.raises(FileError) as info:
        read(sparse, limit=2**31)
    assert info.value.message == (f"cannot read {sparse}: it has 5368709120 bytes, more than the limit of "
                                  "2147483648 (--limit max-file-bytes=N raises it)")


def test_a_missing_file_and_a_nul_in_a_name(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        read(tmp_path / "nope")
    assert info.value.message == f"cannot read {tmp_path / 'nope'}: No such file or directory"
    with pytest.raises(FileError) as info:
        read("a\0b")
    assert info.value.message == "cannot read 'a\\x00b': a file name cannot contain a NUL character"


def test_a_symlink_to_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    with pytest.raises(FileError, match="it is a FIFO, not a regular file"):
        read(tmp_path / "link")


def test_the_error_class_and_position_are_the_callers() -> None:
    with pytest.raises(UsageError):
        files.read_input("/nonexistent/x", limit=1, limit_name="max_file_bytes", error=UsageError)


# --- writing to a named path -------------------------------------------------------------------


def test_writing_a_new_file_uses_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        files.write_output(tmp_path / "out.klr", b"data")
    finally:
        os.umask(old)
    assert (tmp_path / "out.klr").read_bytes() == b"data"
    assert stat.S_IMODE((tmp_path / "out.klr").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.klr"]


def test_replacing_a_file_is_atomic_and_breaks_hard_links(tmp_path: Path) -> None:
    (tmp_path / "victim").write_bytes(b"precious")
    os.link(tmp_path / "victim", tmp_path / "out.klr")
    files.write_output(tmp_path / "out.klr", b"new")
    assert (tmp_path / "out.klr").read_bytes() == b"new"
    assert (tmp_path / "victim").read_bytes() == b"precious"


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    files.write_output(fifo, b"through the pipe")
    reader.join(timeout=60)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_symlink_output_is_resolved_once_and_its_target_written(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "target.klr").write_bytes(b"old")
    link = tmp_path / "link.klr"
    link.symlink_to(tmp_path / "real" / "target.klr")
    files.write_output(link, b"new")
    assert link.is_symlink()
    assert (tmp_path / "real" / "target.klr").read_bytes() == b"new"


def test_a_symlink_to_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append((tmp_path / "fifo").read_bytes()))
    reader.start()
    files.write_output(tmp_path / "link", b"x")
    reader.join(timeout=60)
    assert got == [b"x"] and (tmp_path / "link").is_symlink()


def test_writing_onto_a_directory_or_a_socket_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        files.write_output(tmp_path, b"x")
    assert info.value.message == f"cannot write {tmp_path}: it is a directory"
    where = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(where))
        with pytest.raises(FileError) as info:
            files.write_output(where, b"x")
    assert info.value.message == f"cannot write {where}: it is a socket"


def test_writing_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        files.write_output(tmp_path / "no" / "out.klr", b"x")
    assert info.value.message == f"cannot write {tmp_path / 'no' / 'out.klr'}: No such file or directory"


def test_a_nul_in_an_output_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        files.write_output("a\0b", b"x")
    assert info.value.message == "cannot write 'a\\x00b': a file name cannot contain a NUL character"


@pytest.mark.parametrize("name", ["", "new/", ".", "sub/..", "/"])
def test_an_output_path_must_name_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as info:
        files.write_output(name, b"x")
    assert info.value.message == f"cannot write {name!r}: it does not name a file"
    assert list(tmp_path.iterdir()) == []


def test_overwriting_a_file_read_by_the_command_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "in.klr").write_bytes(b"input")
    os.link(tmp_path / "in.klr", tmp_path / "alias.klr")
    with files.tracking():
        read(tmp_path / "in.klr")
        for target in ("in.klr", "alias.klr"):
            with pytest.raises(FileError) as info:
                files.write_output(tmp_path / target, b"x")
            assert info.value.message == (f"cannot write {tmp_path / target}: it is an input of this "
                                          "command; choose another output file")
    assert (tmp_path / "in.klr").read_bytes() == b"input"
    files.write_output(tmp_path / "in.klr", b"x")  # outside the command: allowed


@pytest.mark.skipif(AS_ROOT, reason="root writes into a read-only directory anyway")
def test_a_read_only_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        with pytest.raises(FileError) as info:
            files.write_output(tmp_path / "ro" / "out.klr", b"x")
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert info.value.message == f"cannot write {tmp_path / 'ro' / 'out.klr'}: Permission denied"


def test_standard_output_refuses_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    leader, follower = os.openpty()
    try:
        with open(follower, "w", closefd=False) as tty:
            monkeypatch.setattr("sys.stdout", tty)
            with pytest.raises(UsageError) as info:
                files.write_output("-", b"\xd9\xd9\xf7")
    finally:
        os.close(leader)
        os.close(follower)
    assert info.value.message == ("refusing to write a binary KLR file to a terminal; redirect standard "
                                  "output or give -o FILE")


def test_is_special(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    assert files.is_special("-") and files.is_special(tmp_path / "fifo")
    assert not files.is_special(tmp_path) and not files.is_special(tmp_path / "missing")


# --- directories klr fills ---------------------------------------------------------------------


def test_a_planted_symlink_entry_is_replaced_not_followed(tmp_path: Path) -> None:
    (tmp_path / "victim").write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.npy").symlink_to(tmp_path / "victim")
    with files.OutputDir.create(out) as d:
        d.write_all({"x.npy": b"new", "y.npy": b"other"})
    assert (tmp_path / "victim").read_bytes() == b"precious"
    assert not (out / "x.npy").is_symlink() and (out / "x.npy").read_bytes() == b"new"
    assert sorted(p.name for p in out.iterdir()) == ["x.npy", "y.npy"]


def test_a_planted_symlinked_subdirectory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "shared_constants").symlink_to(tmp_path / "elsewhere")
    with files.OutputDir.open(tmp_path / "out") as d, pytest.raises(FileError) as info:
        d.subdir("shared_constants")
    assert info.value.message == (f"cannot write into {tmp_path / 'out' / 'shared_constants'}: it is a "
                                  "symbolic link, and klr does not follow symbolic links inside the "
                                  "directories it fills")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_subdirectory_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shared_constants").write_bytes(b"")
    with files.OutputDir.open(tmp_path) as d, pytest.raises(FileError) as info:
        d.subdir("shared_constants")
    assert info.value.message == (f"cannot write into {tmp_path / 'shared_constants'}: it is a regular "
                                  "file, not a directory")


@pytest.mark.skipif(AS_ROOT, reason="root creates directories in a read-only directory anyway")
def test_a_subdirectory_in_a_read_only_directory(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        with files.OutputDir.open(tmp_path) as d, pytest.raises(FileError) as info:
            d.subdir("shared_constants")
    finally:
        tmp_path.chmod(0o755)
    assert info.value.message == (f"cannot create the directory {tmp_path / 'shared_constants'}: "
                                  "Permission denied")


def test_an_entry_that_is_a_directory_or_fifo_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "d.npy").mkdir()
    os.mkfifo(tmp_path / "f.npy")
    with files.OutputDir.open(tmp_path) as d:
        for name, kind in (("d.npy", "a directory"), ("f.npy", "a FIFO")):
            with pytest.raises(FileError) as info:
                d.write_all({"a.npy": b"a", name: b"x"})
            assert info.value.message == f"cannot write {tmp_path / name}: it is {kind}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npy", "f.npy"]


def test_file_names_must_be_single_components(tmp_path: Path) -> None:
    with files.OutputDir.open(tmp_path) as d:
        for bad in ("../x", "", ".", "..", "a\0b", "x" * 256):
            with pytest.raises(FileError) as info:
                d.write_all({bad: b""})
            shown = os.path.join(str(tmp_path), bad)
            assert info.value.message == f"cannot write {shown!r}: not a valid file name"


def test_the_output_directory_is_created_or_refused(tmp_path: Path) -> None:
    with files.OutputDir.create(tmp_path / "a" / "b") as d:
        d.replace("x", b"1")
    assert (tmp_path / "a" / "b" / "x").read_bytes() == b"1"
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(FileError) as info:
        files.OutputDir.create(tmp_path / "file")
    assert info.value.message == (f"cannot create the directory {tmp_path / 'file'}: it exists and is not a "
                                  "directory")
    with pytest.raises(FileError) as info:
        files.OutputDir.create(tmp_path / "file" / "sub")
    assert info.value.message == f"cannot create the directory {tmp_path / 'file' / 'sub'}: Not a directory"
    with pytest.raises(FileError) as info:
        files.OutputDir.open(tmp_path / "missing")
    assert info.value.message == f"cannot write into {tmp_path / 'missing'}: No such file or directory"


# --- Python sources ------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "message"), [
    (b"# coding: rot13\nx = 1\n", "its coding declaration names 'rot13', which is not a text encoding"),
    (b"# coding: hex\n", "its coding declaration names 'hex', which is not a text encoding"),
    (b"# coding: uu\n", "its coding declaration names 'uu', which is not a text encoding"),
    (b"# coding: zlib_codec\n", "its coding declaration names 'zlib_codec', which is not a text encoding"),
    (b"#!/usr/bin/env python\n# -*- coding: utf-16 -*-\n",
     "its coding declaration names 'utf-16', which does not encode ASCII as ASCII, as Python source "
     "files must"),
    (b"# vim: set fileencoding=punycode :\n",
     "its coding declaration names 'punycode', which does not encode ASCII as ASCII, as Python source "
     "files must"),
    (b"# coding: klingon\n", "its coding declaration names an unknown encoding, 'klingon'"),
    (b"\xef\xbb\xbf# coding: latin-1\n",
     "it starts with a UTF-8 byte order mark but declares the encoding 'latin-1'"),
    (b"x = 1\ny = '\xff'\n", "the bytes at offset 11 are not valid utf-8 (invalid start byte)"),
    (b"# coding: ascii\nx = '\xc3\xa9'\n",
     "the bytes at offset 21 are not valid ascii (ordinal not in range(128))"),
])
def test_source_encodings(source: bytes, message: str) -> None:
    with pytest.raises(FileError) as info:
        files.decode_source(source, "k.py", FileError)
    assert info.value.message == f"cannot read k.py: {message}"


def test_accepted_source_encodings() -> None:
    assert files.decode_source(b"# coding: latin-1\nx = '\xe9'\n", "k.py", FileError).endswith("'\u00e9'\n")
    assert files.decode_source(b"\xef\xbb\xbfx = 1\n", "k.py", FileError) == "x = 1\n"
    assert files.decode_source(b"x = 1\n# coding: rot13\n", "k.py", FileError) == "x = 1\n# coding: rot13\n"
    # the declaration counts on the second line only after a blank or comment line (PEP 263)
    assert files.decode_source(b"\n# coding: cp1252\nx = '\x80'\n", "k.py", FileError).endswith("'\u20ac'\n")


def test_split_lines_numbers_lines_as_python_does() -> None:
    assert files.split_lines("a\r\nb\rc\nd\x0ce\x1cf\n") == ["a", "b", "c", "d\x0ce\x1cf"]
    assert files.split_lines("a\nb", keepends=True) == ["a\n", "b"]


def test_a_nul_in_an_output_directory_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        files.OutputDir.create("out\0dir")
    assert info.value.message == "cannot create 'out\\x00dir': a file name cannot contain a NUL character"
