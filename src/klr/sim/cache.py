"""The compile cache: what gathering and tracing a simulated kernel produced, kept on disk, so
that calling the same kernel with the same arguments again (another ``klr.simulate`` call, the
next test run) skips both.

Where: ``$KLR_CACHE_DIR``, else ``$XDG_CACHE_HOME/klr``, else ``~/.cache/klr``. ``KLR_CACHE=0``
turns it off, as do ``klr.simulate(kernel, cache=False)`` and ``klr run --no-cache``.
``klr cache info`` and ``klr cache clear`` show and empty it.

An entry is named by the SHA-256 of its *lookup key*: klr's version and the fingerprint of its
own source files, the Python version, the current directory, the kernel's file and name, its
arguments (as the expressions gather records: shapes and dtypes of arrays, values of scalars),
grid, lnc, arch and the trace and file limits. The entry records what gather read (the SHA-256
of every source file, the kernel's own and every imported helper module, and the answer of
every existence check that resolved an import: ``klr.python.modules.Sources``); it is used only
while all of them still hold, so it is in effect keyed by the source of every gathered file.

Entries are hostile input like any file: read without following symbolic links and with a size
limit (``klr.files.OutputDir.read``), their parts decoded by the checked decoders (KLR files,
``.npy`` constants checked against their digests, a JSON header checked field by field); an
entry that fails any check is deleted and the kernel gathered and traced again, never an error.
Writes go to a temporary file created exclusively and renamed into place. The directory must
belong to the user and not be writable by others, or the cache is not used. The total size is
bounded (``KLR_CACHE_MAX_MB``, default 1024): the least recently used entries go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from klr.errors import KlrError, Warning_
from klr.pos import Pos
from klr.python import ast as A
from klr.python.modules import Sources

__all__ = ["Cache", "CachedTrace", "Entry", "directory", "enabled", "lookup_key"]

MAGIC = b"klr compile cache 1\n"
SUFFIX = ".klrc"
ENTRY = re.compile(r"[0-9a-f]{64}\.klrc")
TEMP = re.compile(r"\..*\.tmp")
DEFAULT_MAX_MB = 1024
MAX_HEADER = 1 << 24
MEMORY_ENTRIES = 32


def directory() -> str:
    """Where the cache lives (see the module docstring)."""
    given = os.environ.get("KLR_CACHE_DIR")
    if given:
        return given
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "klr")


def enabled() -> bool:
    """False when ``KLR_CACHE`` is ``0`` (or ``off``, ``no``, ``false``)."""
    return os.environ.get("KLR_CACHE", "1").strip().lower() not in ("0", "off", "no", "false")


def max_bytes() -> int:
    text = os.environ.get("KLR_CACHE_MAX_MB", "")
    try:
        mb = int(text) if text else DEFAULT_MAX_MB
    except ValueError:
        mb = DEFAULT_MAX_MB
    return max(mb, 0) << 20


_fingerprint: str | None = None


def fingerprint() -> str:
    """klr's version and its own installed source (each module's path, size and modification
    time): a trace made by other klr code is never reused."""
    global _fingerprint
    if _fingerprint is None:
        # the package is imported before any of its modules; importing it here would make the
        # sim layer import the api layer
        klr = sys.modules["klr"]
        root = os.path.dirname(os.path.abspath(str(klr.__file__)))
        h = hashlib.sha256(f"{klr.__version__}\0".encode())
        for here, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                if name.endswith(".py"):
                    st = os.stat(os.path.join(here, name))
                    rel = os.path.relpath(os.path.join(here, name), root)
                    h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        _fingerprint = h.hexdigest()
    return _fingerprint


def lookup_key(path: str, name: str, args: Iterable[A.Expr], kwargs: Mapping[str, A.Expr],
               options: Mapping[str, Any]) -> str:
    """The hex SHA-256 naming the entry of a kernel call (see the module docstring); ``args``
    and ``kwargs`` are the arguments as gather records them, ``options`` grid, lnc, arch and the
    limits (anything with a stable ``repr``)."""
    from klr.format.cbor import encode

    h = hashlib.sha256()

    def put(*parts: str | bytes) -> None:
        for p in parts:
            b = p.encode("utf-8", "surrogateescape") if isinstance(p, str) else p
            h.update(len(b).to_bytes(8, "big"))
            h.update(b)

    put(MAGIC, fingerprint(), sys.implementation.cache_tag or "", os.getcwd(), path, name)
    for a in args:
        put(encode(a, A.Expr))
    for k, v in kwargs.items():
        put(k, encode(v, A.Expr))
    for k, v in sorted(options.items()):
        put(k, repr(v))
    return h.hexdigest()


@dataclass
class CachedTrace:
    """A trace read from the cache: the fields of ``klr.tracer.kernel.TraceResult`` a run uses
    (building a TraceResult would import the tracer, which a cache hit does not need)."""

    kernel: Any
    warnings: list[Warning_] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    messages: list[Warning_] = field(default_factory=list)
    steps: int = 0
    memory: int = 0


@dataclass
class Entry:
    """One cached kernel call: the gathered kernel and its trace."""

    gathered: A.Kernel
    traced: Any
    """A TraceResult or CachedTrace."""


class Corrupt(Exception):
    """An entry that fails a check: it is deleted and replaced."""


#: Entries this process used last, by key, with the sources they were gathered from: a call
#: repeated in one process gets the very same objects, without reading or decoding the entry.
_memory: OrderedDict[str, tuple[Sources, Entry]] = OrderedDict()


def _remember(key: str, sources: Sources, entry: Entry) -> None:
    _memory[key] = (sources, entry)
    _memory.move_to_end(key)
    while len(_memory) > MEMORY_ENTRIES:
        _memory.popitem(last=False)


class Cache:
    """The cache directory (``root``, default ``directory()``), at most ``limit`` bytes."""

    def __init__(self, root: str | None = None, limit: int | None = None) -> None:
        self.root = directory() if root is None else root
        self.limit = max_bytes() if limit is None else limit

    def problem(self, create: bool = True) -> str | None:
        """Why the directory cannot be used (with ``create``, it is made when missing), or None."""
        try:
            if create:
                os.makedirs(self.root, 0o700, exist_ok=True)
            st = os.stat(self.root)
        except FileNotFoundError:
            return None
        except OSError as e:
            return f"cannot create {self.root}: {e.strerror or e}"
        if not stat.S_ISDIR(st.st_mode):
            return f"{self.root} is not a directory"
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            return f"{self.root} belongs to another user"
        if st.st_mode & 0o022:
            return f"{self.root} is writable by other users"
        return None

    def _open(self, create: bool = True) -> Any:
        from klr.files import OutputDir

        if self.problem(create) is not None or not os.path.isdir(self.root):
            return None
        try:
            return OutputDir.open(self.root)
        except KlrError:
            return None

    def load(self, key: str, max_source_bytes: int) -> Entry | None:
        """The entry named ``key`` if it exists, is sound and every source file it was gathered
        from is unchanged; otherwise None (and an unsound entry is deleted)."""
        known = _memory.get(key)
        if known is not None:
            if _unchanged(known[0], max_source_bytes):
                _memory.move_to_end(key)
                return known[1]
            del _memory[key]
        d = self._open(create=False)
        if d is None:
            return None
        name = key + SUFFIX
        with d:
            try:
                data = d.read(name, self.limit)
            except KlrError:
                return None
            try:
                header, blobs = _split(data)
                if header.get("key") != key:
                    raise Corrupt("the entry is not the one its name says")
                sources = _sources(header)
                if not _unchanged(sources, max_source_bytes):
                    return None
                entry = _entry(header, blobs)
            except (Corrupt, KlrError, ValueError, TypeError, KeyError, IndexError, RecursionError,
                    MemoryError):
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=d.fd)
                return None
            with contextlib.suppress(OSError):  # most recently used: evicted last
                os.utime(name, dir_fd=d.fd, follow_symlinks=False)
        _remember(key, sources, entry)
        return entry

    def store(self, key: str, sources: Sources, entry: Entry) -> bool:
        """Write an entry (replacing any of that name), then evict the least recently used
        beyond the size limit; False when it could not be written (never an error)."""
        _remember(key, sources, entry)
        try:
            pieces = _pack(key, sources, entry)
        except (KlrError, ValueError, TypeError, RecursionError):
            return False
        if sum(map(len, pieces)) > self.limit // 4:
            return False
        d = self._open()
        if d is None:
            return False
        with d:
            try:
                d.replace(key + SUFFIX, lambda sink: _pour(pieces, sink))
            except KlrError:
                return False
            self._evict(d.fd, keep=key + SUFFIX)
        return True

    def _entries(self, fd: int) -> list[tuple[str, os.stat_result]]:
        found = []
        for name in os.listdir(fd):
            if ENTRY.fullmatch(name):
                with contextlib.suppress(OSError):
                    found.append((name, os.stat(name, dir_fd=fd, follow_symlinks=False)))
        return found

    def _evict(self, fd: int, keep: str) -> None:
        entries = sorted(self._entries(fd), key=lambda e: e[1].st_mtime_ns)
        total = sum(st.st_size for _, st in entries)
        for name, st in entries:
            if total <= self.limit:
                break
            if name != keep:
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=fd)
                    total -= st.st_size

    def info(self) -> tuple[int, int]:
        """(entries, bytes) in the cache."""
        d = self._open(create=False)
        if d is None:
            return 0, 0
        with d:
            entries = self._entries(d.fd)
        return len(entries), sum(st.st_size for _, st in entries)

    def clear(self) -> int:
        """Delete every entry (and temporary files of interrupted writes); how many entries."""
        _memory.clear()
        d = self._open(create=False)
        if d is None:
            return 0
        removed = 0
        with d:
            for name in os.listdir(d.fd):
                if ENTRY.fullmatch(name) or TEMP.fullmatch(name):
                    with contextlib.suppress(OSError):
                        os.unlink(name, dir_fd=d.fd)
                        removed += name.endswith(SUFFIX)
        return removed


# --- the entry format: MAGIC, an 8-byte header length, a JSON header, then the blobs it lists


def _pack(key: str, sources: Sources, entry: Entry) -> list[bytes | bytearray]:
    """The pieces of an entry's file (written one after the other, never joined)."""
    from klr.format.file import to_buffer
    from klr.format.npy import npy_bytes

    traced = entry.traced
    blobs: dict[str, bytes | bytearray] = {"python": to_buffer(entry.gathered),
                                           "core": to_buffer(traced.kernel)}
    for name, array in traced.constants.items():
        blobs["constant:" + name] = npy_bytes(array)
    header = {
        "key": key,
        "files": sources.digests,
        "probes": [[kind, path, found] for (kind, path), found in sources.probes.items()],
        "warnings": [_warning(w) for w in traced.warnings],
        "messages": [_warning(m) for m in traced.messages],
        "steps": traced.steps,
        "memory": traced.memory,
        "blobs": [[name, len(b)] for name, b in blobs.items()],
        "digest": _digest(blobs.values()),
    }
    text = json.dumps(header, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return [MAGIC, len(text).to_bytes(8, "big"), text, *blobs.values()]


def _digest(blobs: Iterable[bytes | bytearray]) -> str:
    h = hashlib.sha256()
    for b in blobs:
        h.update(b)
    return h.hexdigest()


def _pour(pieces: list[bytes | bytearray], sink: Callable[[bytes | bytearray], None]) -> None:
    for piece in pieces:
        sink(piece)


def _split(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        raise Corrupt("not a cache entry")
    at = len(MAGIC) + 8
    length = int.from_bytes(data[len(MAGIC):at], "big")
    if length > min(MAX_HEADER, len(data) - at):
        raise Corrupt("the header length is wrong")
    header = json.loads(data[at:at + length].decode("ascii"))
    if not isinstance(header, dict):
        raise Corrupt("the header is not an object")
    at += length
    blobs: dict[str, bytes] = {}
    for name, size in _list(header.get("blobs")):
        if not isinstance(name, str) or type(size) is not int or not 0 <= size <= len(data) - at:
            raise Corrupt("a blob is wrong")
        blobs[name] = data[at:at + size]
        at += size
    if at != len(data):
        raise Corrupt("bytes after the last blob")
    if _digest(blobs.values()) != header.get("digest"):
        raise Corrupt("the blobs do not match their digest")  # a damaged disk, a partial copy
    return header, blobs


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise Corrupt(f"expected a list, got {type(value).__name__}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise Corrupt(f"expected a string, got {type(value).__name__}")
    return value


def _nat(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise Corrupt(f"expected a natural number, got {value!r}")
    return value


def _sources(header: Mapping[str, Any]) -> Sources:
    digests = header.get("files")
    if not isinstance(digests, dict) or not digests:
        raise Corrupt("no source files")
    sources = Sources({_str(path): _str(digest) for path, digest in digests.items()})
    for kind, path, found in _list(header.get("probes")):
        if kind not in ("file", "dir") or not isinstance(found, bool):
            raise Corrupt("a probe is wrong")
        sources.probes[(kind, _str(path))] = found
    return sources


def _unchanged(sources: Sources, max_source_bytes: int) -> bool:
    """Whether every file gather read has its recorded digest and every existence check its
    recorded answer; the sources read are remembered for diagnostics, as gather does."""
    from klr import files
    from klr.diagnostics import remember_source

    for (kind, path), found in sources.probes.items():
        if (os.path.isfile(path) if kind == "file" else os.path.isdir(path)) != found:
            return False
    for path, digest in sources.digests.items():
        try:
            data = files.read_input(path, limit=max_source_bytes, limit_name="max_source_bytes")
        except KlrError:
            return False
        if hashlib.sha256(data).hexdigest() != digest:
            return False
        try:
            remember_source(path, files.split_lines(files.decode_source(data, path, KlrError)))
        except KlrError:
            return False
    return True


def _entry(header: Mapping[str, Any], blobs: Mapping[str, bytes]) -> Entry:
    from klr.format.file import from_bytes
    from klr.format.npy import CONSTANT_FILE, constant_digest, npy_from_bytes

    gathered = from_bytes(blobs["python"], expect="python")
    kernel = from_bytes(blobs["core"], expect="lnc")
    constants = {}
    for name, data in blobs.items():
        if name.startswith("constant:"):
            file = name[len("constant:"):]
            if not CONSTANT_FILE.fullmatch(file):
                raise Corrupt("a constant's name is wrong")
            array = npy_from_bytes(data, file)
            if constant_digest(array) != file[len("shared_constants/"):-len(".npy")]:
                raise Corrupt("a constant does not match its digest")
            constants[file] = array
    if {c.fileName for c in kernel.sharedConstants} != set(constants):
        raise Corrupt("the constants are not the kernel's")
    traced = CachedTrace(kernel, [_unwarning(w) for w in _list(header.get("warnings"))], constants,
                         [_unwarning(m) for m in _list(header.get("messages"))],
                         _nat(header.get("steps")), _nat(header.get("memory")))
    return Entry(gathered, traced)


def _pos(pos: Pos | None) -> list[Any] | None:
    if pos is None:
        return None
    return [pos.line, pos.column, pos.lineEnd, pos.columnEnd, pos.filename]


def _unpos(value: Any) -> Pos | None:
    if value is None:
        return None
    line, column, line_end, column_end, filename = _list(value)
    return Pos(_nat(line), _nat(column), None if line_end is None else _nat(line_end),
               None if column_end is None else _nat(column_end), None if filename is None else _str(filename))


def _warning(w: Warning_) -> list[Any]:
    return [w.message, _pos(w.pos), w.source_line, [[text, _pos(p)] for text, p in w.notes]]


def _unwarning(value: Any) -> Warning_:
    message, pos, line, notes = _list(value)
    return Warning_(_str(message), _unpos(pos), None if line is None else _str(line),
                    tuple((_str(text), _unpos(p)) for text, p in (_list(n) for n in _list(notes))))
