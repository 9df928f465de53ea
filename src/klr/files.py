"""Reading and writing files safely: every file klr reads or writes goes through here.

Reading. An input must be a regular file no larger than a limit. ``stat`` checks it before it is
opened, so a FIFO, a directory or a device is refused without blocking on it or reading it; the
file is then opened non-blocking and checked again with ``fstat`` (it may have been replaced in
between), and at most one byte more than the limit is ever read.

Writing (``write_output``), to a path the user named:

* ``-`` is standard output, unless it is a terminal;
* an existing character device or FIFO (``/dev/null``, a named pipe) is written in place;
* a symbolic link is resolved once and its target is written;
* a regular file, or a new one, is written to a temporary file beside it and renamed over it,
  so a failed write leaves no partial file; the file gets the permissions a new file gets from
  the umask. Data made in pieces (``Data``: the KLR encoder's) goes into the temporary file
  piece by piece, and a failure while making it removes the temporary file;
* a directory or any other kind of file is an error, and so is overwriting a file this command
  read (see ``tracking``).

Directories klr fills with files named after data (``OutputDir``: eval's ``--output-dir``,
trace's ``shared_constants/``) are opened once; each file is created inside that open directory
with exclusive creation, never following a symbolic link, and renamed into place, which
replaces a planted symbolic link itself, never its target.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import functools
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import BinaryIO, Union

from klr.errors import FileError, KlrError, UsageError
from klr.limits import FileLimits, raise_hint
from klr.pos import Pos

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

#: Longest file name most file systems accept, in bytes.
NAME_MAX = 255

_read_files: ContextVar[set[tuple[int, int]] | None] = ContextVar("klr_read_files", default=None)


@contextlib.contextmanager
def tracking() -> Iterator[set[tuple[int, int]]]:
    """Record every file read inside the block (by device and inode), so that writing an
    output over one of them is an error. The CLI runs each command inside one."""
    seen: set[tuple[int, int]] = set()
    token = _read_files.set(seen)
    try:
        yield seen
    finally:
        _read_files.reset(token)


def _note_read(st: os.stat_result) -> None:
    seen = _read_files.get()
    if seen is not None:
        seen.add((st.st_dev, st.st_ino))


def _is_input(st: os.stat_result) -> bool:
    seen = _read_files.get()
    return seen is not None and (st.st_dev, st.st_ino) in seen


def kind_of(mode: int) -> str:
    """What kind of file ``mode`` describes, as a noun phrase."""
    for test, name in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "a special file"


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


# --- reading -----------------------------------------------------------------------------------


def open_input(path: str | os.PathLike[str], *, limit: int, limit_name: str,
               error: type[KlrError] = FileError, pos: Pos | None = None) -> BinaryIO:
    """Open a regular file of at most ``limit`` bytes for reading (binary), or raise ``error``
    saying why not; ``limit_name`` names the limit in the message."""
    shown = os.fspath(path)
    try:
        if "\0" in shown:
            raise error(f"cannot read {shown!r}: a file name cannot contain a NUL character", pos)
        before = os.stat(path)
        _check_input(shown, before, limit, limit_name, error, pos)
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC)
    except OSError as e:
        raise error(f"cannot read {shown}: {_reason(e)}", pos) from None
    try:
        st = os.fstat(fd)
        _check_input(shown, st, limit, limit_name, error, pos)
        if _O_NONBLOCK:
            os.set_blocking(fd, True)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    _note_read(st)
    return f


def _check_input(shown: str, st: os.stat_result, limit: int, limit_name: str,
                 error: type[KlrError], pos: Pos | None) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise error(f"cannot read {shown}: it is {kind_of(st.st_mode)}, not a regular file", pos)
    if st.st_size > limit:
        raise error(_too_big(shown, st.st_size, limit, limit_name), pos)


def _too_big(shown: str, size: int, limit: int, limit_name: str) -> str:
    return (f"cannot read {shown}: it has {size} bytes, more than the limit of {limit} "
            f"({raise_hint(limit_name)})")


def read_input(path: str | os.PathLike[str], *, limit: int, limit_name: str,
               error: type[KlrError] = FileError, pos: Pos | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see ``open_input``)."""
    shown = os.fspath(path)
    with open_input(path, limit=limit, limit_name=limit_name, error=error, pos=pos) as f:
        try:
            # read(n) allocates n bytes first: ask for the size fstat saw, then one byte more to
            # notice a file that grew since
            data = f.read(os.fstat(f.fileno()).st_size + 1)
            while len(data) <= limit and (more := f.read(min(1 << 20, limit + 1 - len(data)))):
                data += more
        except OSError as e:
            raise error(f"cannot read {shown}: {_reason(e)}", pos) from None
    if len(data) > limit:  # the file grew after the size check
        raise error(_too_big(shown, len(data), limit, limit_name), pos)
    return data


# --- writing to a path the user named --------------------------------------------------------


#: Bytes to write: all of them, or a function that hands them to the sink it is given, in
#: pieces, and may fail half-way (the pieces already written are then discarded).
Data = Union[bytes, bytearray, Callable[[Callable[[bytes | bytearray], None]], None]]


def whole(data: Data) -> bytes | bytearray:
    """All the bytes of ``data``."""
    if not callable(data):
        return data
    out = bytearray()
    data(out.extend)
    return out


def write_output(path: str | os.PathLike[str], data: Data) -> None:
    """Write ``data`` (a binary file) to ``path`` as the module docstring describes. Pieces go
    straight into the temporary file; standard output, a device or a FIFO is written only once
    all the pieces are made, so a failure leaves nothing written anywhere."""
    shown = os.fspath(path)
    if shown == "-":
        write_stdout(whole(data))
        return
    if "\0" in shown:
        raise UsageError(f"cannot write {shown!r}: a file name cannot contain a NUL character")
    if not shown or shown.endswith(os.sep) or os.path.basename(shown) in (".", ".."):
        raise UsageError(f"cannot write {shown!r}: it does not name a file")
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise FileError(f"cannot write {shown}: {_reason(e)}") from None
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        data = whole(data)
        if _write_in_place(path, shown, data):
            return
        try:
            st = os.stat(path)  # it became a regular file meanwhile: replace it as one
        except OSError as e:
            raise FileError(f"cannot write {shown}: {_reason(e)}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise FileError(f"cannot write {shown}: it is {kind_of(st.st_mode)}")
    if st is not None and _is_input(st):
        raise FileError(f"cannot write {shown}: it is an input of this command; "
                        "choose another output file")
    directory, name = os.path.split(os.path.realpath(path))
    try:
        fd = os.open(directory or ".", os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    except OSError as e:
        raise FileError(f"cannot write {shown}: {_reason(e)}") from None
    with OutputDir(fd, os.path.dirname(shown)) as out:
        out.replace(name, data, shown)


def is_special(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is standard output (``-``), an existing FIFO or a character device:
    outputs written in place, with no directory beside them."""
    if os.fspath(path) == "-":
        return True
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def write_stdout(data: bytes | bytearray) -> None:
    """Binary data to standard output, which must not be a terminal."""
    stream = sys.stdout
    if stream.isatty():
        raise UsageError("refusing to write a binary KLR file to a terminal; redirect standard "
                         "output or give -o FILE")
    stream.flush()
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # not a real file (a test's capture)
        stream.buffer.write(data)
        stream.buffer.flush()
        return
    _write_all(fd, data)


def write_text(text: str) -> None:
    """Print ``text`` to standard output in pieces: one big write that a closed pipe cuts short
    is dropped without an error by Python's buffered writer, pieces raise BrokenPipeError."""
    for i in range(0, len(text), _PIECE):
        sys.stdout.write(text[i:i + _PIECE])


_PIECE = 1 << 14


def _write_in_place(path: str | os.PathLike[str], shown: str, data: bytes | bytearray) -> bool:
    """Write into an existing character device or FIFO; False when it turned out to be a
    regular file by the time it was opened."""
    try:
        fd = os.open(path, os.O_WRONLY | _O_NOCTTY | _O_CLOEXEC)
    except OSError as e:
        raise FileError(f"cannot write {shown}: {_reason(e)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):
            return False
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise FileError(f"cannot write {shown}: it is {kind_of(mode)}")
        _write_all(fd, data)
    except OSError as e:
        raise FileError(f"cannot write {shown}: {_reason(e)}") from None
    finally:
        os.close(fd)
    return True


def _write_all(fd: int, data: bytes | bytearray) -> None:
    """Write all of ``data``, however the descriptor cuts it short (a closed pipe: EPIPE)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view[:1 << 20])
        view = view[n:]


# --- directories klr fills ---------------------------------------------------------------------


class OutputDir:
    """An open directory that klr writes files into, by name relative to it (see the module
    docstring). Use as a context manager, or call ``close``."""

    def __init__(self, fd: int, shown: str) -> None:
        self.fd = fd
        self.shown = shown

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> OutputDir:
        """The directory the user named, created with its parents when missing (a symbolic
        link the user named is followed: it is the user's choice)."""
        shown = os.fspath(path)
        if "\0" in shown:
            raise UsageError(f"cannot create {shown!r}: a file name cannot contain a NUL character")
        try:
            os.makedirs(path, exist_ok=True)
        except FileExistsError:
            raise FileError(f"cannot create the directory {shown}: it exists and is not a "
                            "directory") from None
        except OSError as e:
            raise FileError(f"cannot create the directory {shown}: {_reason(e)}") from None
        return cls.open(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str], shown: str | None = None) -> OutputDir:
        """An existing directory the user named (or the one holding a file the user named);
        ``shown`` is how messages name it (default ``path``)."""
        shown = os.fspath(path) if shown is None else shown
        try:
            fd = os.open(path or ".", os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
        except OSError as e:
            raise FileError(f"cannot write into {shown}: {_reason(e)}") from None
        return cls(fd, shown)

    def subdir(self, name: str) -> OutputDir:
        """The directory ``name`` inside this one, created when missing; refused when it is a
        symbolic link or anything but a directory."""
        shown = os.path.join(self.shown, name)
        try:
            os.mkdir(name, 0o777, dir_fd=self.fd)
        except FileExistsError:
            pass
        except OSError as e:
            raise FileError(f"cannot create the directory {shown}: {_reason(e)}") from None
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise FileError(f"cannot write into {shown}: it is a symbolic link, and klr does not "
                                "follow symbolic links inside the directories it fills")
            if not stat.S_ISDIR(st.st_mode):
                raise FileError(f"cannot write into {shown}: it is {kind_of(st.st_mode)}, not a "
                                "directory")
            fd = os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=self.fd)
        except OSError as e:
            raise FileError(f"cannot write into {shown}: {_reason(e)}") from None
        return OutputDir(fd, shown)

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of the regular file ``name`` in this directory (at most ``limit``), never
        following a symbolic link: klr reading back files it wrote here (the compile cache)."""
        shown = os.path.join(self.shown, name)
        flags = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC
        try:
            fd = os.open(name, flags, dir_fd=self.fd)
        except OSError as e:
            raise FileError(f"cannot read {shown}: {_reason(e)}") from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            _check_input(shown, st, limit, "the size limit", FileError, None)
            try:
                data = f.read(limit + 1)
            except OSError as e:
                raise FileError(f"cannot read {shown}: {_reason(e)}") from None
        if len(data) > limit:
            raise FileError(_too_big(shown, len(data), limit, "the size limit"))
        return data

    def replace(self, name: str, data: Data, shown: str | None = None) -> None:
        """Write one file (see ``write_all``)."""
        self.write_all({name: data}, {name: shown} if shown else None)

    def write_all(self, files: Mapping[str, Data], shown: Mapping[str, str] | None = None) -> None:
        """Create or replace every file of ``files`` (name -> bytes, or a function making them
        in pieces: see ``Data``): first all are checked and written to temporary files, then
        each is renamed into place."""
        names = {name: (shown or {}).get(name) or os.path.join(self.shown, name) for name in files}
        for name, where in names.items():
            self._check_entry(name, where)
        temps: dict[str, str] = {}
        try:
            for name, data in files.items():
                temps[name] = self._temp(name, data, names[name])
            for name in files:
                try:
                    os.rename(temps[name], name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
                except OSError as e:
                    raise FileError(f"cannot write {names[name]}: {_reason(e)}") from None
                del temps[name]
        finally:
            for tmp in temps.values():
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=self.fd)

    def _check_entry(self, name: str, shown: str) -> None:
        if not name or name in (".", "..") or "/" in name or "\0" in name or (
                len(os.fsencode(name)) > NAME_MAX):
            raise FileError(f"cannot write {shown!r}: not a valid file name")
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as e:
            raise FileError(f"cannot write {shown}: {_reason(e)}") from None
        if stat.S_ISLNK(st.st_mode):
            return  # the rename replaces the link itself
        if not stat.S_ISREG(st.st_mode):
            raise FileError(f"cannot write {shown}: it is {kind_of(st.st_mode)}")
        if _is_input(st):
            raise FileError(f"cannot write {shown}: it is an input of this command; "
                            "choose another output file")

    def _temp(self, name: str, data: Data, shown: str) -> str:
        """A new temporary file beside ``name`` holding ``data``; mode 0666 minus the umask."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
        for _ in range(100):
            tmp = f".{name[:64]}.{os.urandom(4).hex()}.tmp"
            try:
                fd = os.open(tmp, flags, 0o666, dir_fd=self.fd)
                break
            except FileExistsError:
                continue
            except OSError as e:
                raise FileError(f"cannot write {shown}: {_reason(e)}") from None
        else:
            raise FileError(f"cannot write {shown}: {os.strerror(errno.EEXIST)}")
        try:
            if callable(data):
                data(functools.partial(_write_all, fd))
            else:
                _write_all(fd, data)
        except OSError as e:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self.fd)
            raise FileError(f"cannot write {shown}: {_reason(e)}") from None
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self.fd)
            raise
        os.close(fd)
        return tmp


# --- Python sources ----------------------------------------------------------------------------

# Patterns are compiled on first use (re keeps them), so that importing compiles nothing.
_COOKIE = rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)"
_BLANK = rb"^[ \t\f]*(?:[#\r\n]|$)"
_ASCII = bytes(range(128))


def decode_source(data: bytes, shown: str, error: type[KlrError], pos: Pos | None = None) -> str:
    """The text of a Python source file: UTF-8, or the encoding its coding declaration names
    (PEP 263), which must be a text encoding that encodes ASCII as ASCII, as CPython requires
    of source files (so ``rot13``, ``hex``, ``zlib_codec`` and ``utf-16`` are refused)."""
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        data = data[len(codecs.BOM_UTF8):]
    declared = _declared_encoding(data)
    encoding = "utf-8"
    if declared is not None:
        try:
            info = codecs.lookup(declared)
        except LookupError:
            raise error(f"cannot read {shown}: its coding declaration names an unknown encoding, "
                        f"{declared!r}", pos) from None
        if not getattr(info, "_is_text_encoding", True):
            raise error(f"cannot read {shown}: its coding declaration names {declared!r}, which is "
                        "not a text encoding", pos)
        if not _ascii_compatible(info):
            raise error(f"cannot read {shown}: its coding declaration names {declared!r}, which "
                        "does not encode ASCII as ASCII, as Python source files must", pos)
        if bom and info.name != "utf-8":
            raise error(f"cannot read {shown}: it starts with a UTF-8 byte order mark but declares "
                        f"the encoding {declared!r}", pos)
        encoding = info.name
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        offset = e.start + (len(codecs.BOM_UTF8) if bom else 0)
        raise error(f"cannot read {shown}: the bytes at offset {offset} are not valid {encoding} "
                    f"({e.reason})", pos) from None


_NEWLINE = r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)"


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of Python source as CPython numbers them: ends are \\n, \\r\\n and \\r only
    (``str.splitlines`` also splits at form feeds and other separators)."""
    lines = re.split(_NEWLINE, text)
    if lines and not lines[-1]:
        lines.pop()
    return lines if keepends else [line.rstrip("\r\n") for line in lines]


def _declared_encoding(data: bytes) -> str | None:
    lines = data.split(b"\n", 2)
    for i, line in enumerate(lines[:2]):
        match = re.match(_COOKIE, line)
        if match:
            return match.group(1).decode("ascii")
        if i == 0 and not re.match(_BLANK, line):
            break
    return None


def _ascii_compatible(info: codecs.CodecInfo) -> bool:
    try:
        return bool(info.encode(_ASCII.decode("ascii"))[0] == _ASCII
                    and info.decode(_ASCII)[0] == _ASCII.decode("ascii"))
    except Exception:  # a codec that cannot even handle ASCII
        return False


def source_line(filename: str, line: int) -> str | None:
    """Line ``line`` of a source file named by a position that klr did not read itself: only a
    ``.py`` file below the current directory, named by a relative path without ``..``;
    otherwise None (a position in a hostile KLR file must not make klr print other files)."""
    if (not filename.endswith(".py") or os.path.isabs(filename) or "\0" in filename
            or os.pardir in filename.replace("\\", "/").split("/") or line < 1):
        return None
    try:
        here = os.path.realpath(os.getcwd())
        real = os.path.realpath(filename)
        if os.path.commonpath((here, real)) != here:
            return None
        data = read_input(real, limit=FileLimits().max_source_bytes, limit_name="max_source_bytes")
        lines = split_lines(decode_source(data, filename, FileError))
    except (OSError, ValueError, KlrError):
        return None
    return lines[line - 1] if line <= len(lines) else None
