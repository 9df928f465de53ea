"""``.npy`` files: reading them without trusting them, writing them, and shared constants.

Reading parses the header itself (format versions 1.0, 2.0 and 3.0) and checks everything
before any data is read or allocated: the magic; a header of at most ``MAX_HEADER`` bytes that
is a dict literal with exactly ``descr``, ``fortran_order`` and ``shape``; a numeric dtype
(booleans, integers, floats, complex, or raw bytes ``|V1``/``|V2`` for bfloat16 and fp8; never
objects, which would be unpickled, nor strings or structured types); a shape of non-negative
integers; and a file size of exactly header plus data.

Shared constants (``LncKernel.sharedConstants``) live in ``shared_constants/<sha256>.npy``
beside the Core file; the digest is taken over ``f"{dtype.str}:{shape}"`` and the array's
bytes in C order (as ``klr trace`` names them), and is checked when the file is read.
"""

from __future__ import annotations

import ast
import hashlib
import io
import math
import os
import re
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

from klr import files
from klr.errors import FileError, FormatError

MAGIC = b"\x93NUMPY"
MAX_HEADER = 65536
CONSTANT_FILE = re.compile(r"shared_constants/[0-9a-f]{64}\.npy")
_DESCR = re.compile(r"[<>|=]?[A-Za-z?][0-9]{0,5}")
_KINDS = "biufcV"


def read_npy(path: str | os.PathLike[str], *, max_bytes: int,
             shape: tuple[int, ...] | None = None, what: str = "") -> np.ndarray:
    """The array in the .npy file at ``path``; with ``shape``, a different shape in the header is
    an error (naming ``what``) before any data is read."""
    shown = os.fspath(path)
    with files.open_input(path, limit=max_bytes, limit_name="max_file_bytes") as f:
        size = os.fstat(f.fileno()).st_size
        dtype, order, dims, start = _header(f, shown, size)
        count = math.prod(dims)
        nbytes = count * dtype.itemsize
        if shape is not None and dims != tuple(shape):
            raise FileError(f"{shown}: holds an array of shape {dims}, but {what} has shape "
                            f"{tuple(shape)}")
        if start + nbytes != size:
            raise FileError(_wrong_size(shown, count, dtype, size - start))
        data = np.empty(nbytes, np.uint8)
        got = f.readinto(data.data) if nbytes else 0  # type: ignore[attr-defined]  # BinaryIO lacks it
        if got != nbytes:  # the file shrank after its size was taken
            raise FileError(_wrong_size(shown, count, dtype, got))
    array = data.view(dtype)
    return array.reshape(dims[::-1]).T if order else array.reshape(dims)


def npy_from_bytes(data: bytes, shown: str) -> np.ndarray:
    """The array held by the bytes of a .npy file (checked as ``read_npy`` checks a file)."""
    f = io.BytesIO(data)
    dtype, order, dims, start = _header(f, shown, len(data))
    count = math.prod(dims)
    if start + count * dtype.itemsize != len(data):
        raise FileError(_wrong_size(shown, count, dtype, len(data) - start))
    raw = bytearray(data[start:])  # writable, as an array read from a file is
    array = (np.frombuffer(raw, np.uint8) if raw else np.empty(0, np.uint8)).view(dtype)
    return array.reshape(dims[::-1]).T if order else array.reshape(dims)


def _wrong_size(shown: str, count: int, dtype: np.dtype, held: int) -> str:
    return (f"{shown}: malformed .npy file: its header declares {count} elements of {dtype} "
            f"({count * dtype.itemsize} bytes) but the file holds {held} bytes of data")


def _header(f: Any, shown: str, size: int) -> tuple[np.dtype, bool, tuple[int, ...], int]:
    """(dtype, fortran order, shape, offset of the data) from a .npy header."""
    prefix = f.read(10)
    if not prefix:
        raise FileError(f"{shown}: not a .npy file: it is empty")
    if prefix.startswith(b"PK\x03\x04") or prefix.startswith(b"PK\x05\x06"):
        raise FileError(f"{shown}: not a .npy file: it is a .npz (zip) archive; give each array as "
                        "its own .npy file")
    if not prefix.startswith(MAGIC) or len(prefix) < 8:
        raise FileError(f"{shown}: not a .npy file: it does not start with the .npy magic "
                        "(93 4e 55 4d 50 59)")
    major, minor = prefix[6], prefix[7]
    if (major, minor) not in ((1, 0), (2, 0), (3, 0)):
        raise FileError(f"{shown}: unsupported .npy format version {major}.{minor}")
    if major == 1:
        if len(prefix) < 10:
            raise FileError(f"{shown}: malformed .npy file: it ends inside the header length at byte 8")
        length, start = struct.unpack("<H", prefix[8:10])[0], 10
    else:
        more = f.read(2)
        if len(prefix) + len(more) < 12:
            raise FileError(f"{shown}: malformed .npy file: it ends inside the header length at byte 8")
        length, start = struct.unpack("<I", prefix[8:10] + more)[0], 12
    if length > MAX_HEADER or start + length > size:
        why = f"more than {MAX_HEADER}" if length > MAX_HEADER else "beyond the end of the file"
        raise FileError(f"{shown}: malformed .npy file: the header length at byte 8 is {length}, {why}")
    raw = f.read(length)
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeDecodeError):
        raise FileError(f"{shown}: malformed .npy header at byte {start}: it is not a Python "
                        "literal") from None
    return (*_fields(header, shown, start), start + length)


def _fields(header: Any, shown: str, at: int) -> tuple[np.dtype, bool, tuple[int, ...]]:
    bad = f"{shown}: malformed .npy header at byte {at}"
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise FileError(f"{bad}: it must be a dict of exactly 'descr', 'fortran_order' and 'shape'")
    descr, order, dims = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(order, bool):
        raise FileError(f"{bad}: 'fortran_order' must be True or False")
    if not (isinstance(dims, tuple) and len(dims) <= 32
            and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims)):
        raise FileError(f"{bad}: 'shape' must be a tuple of at most 32 non-negative integers")
    if descr in ("|O", "O", "<O", ">O"):
        raise FileError(f"{shown}: holds Python objects (dtype object), which klr does not read: "
                        "loading them would unpickle arbitrary data")
    if not isinstance(descr, str) or not _DESCR.fullmatch(descr):
        raise FileError(f"{shown}: has the dtype {_short(descr)}, which klr does not read "
                        "(it reads numeric arrays only)")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise FileError(f"{bad}: unknown dtype {descr!r}") from None
    if dtype.kind not in _KINDS or dtype.itemsize == 0 or dtype.fields is not None:
        raise FileError(f"{shown}: has the dtype {descr!r}, which klr does not read "
                        "(it reads numeric arrays only)")
    return dtype, order, dims


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` as the bytes of a .npy file (never pickled)."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


# --- shared constants --------------------------------------------------------------------------


def constant_digest(array: np.ndarray) -> str:
    """The hex SHA-256 that names a shared constant's file."""
    return hashlib.sha256(f"{array.dtype.str}:{array.shape}".encode() + array.tobytes()).hexdigest()


def check_constant_names(kernel: Any, shown: str) -> None:
    """Every shared constant of ``kernel`` (read from ``shown``) must be named
    ``shared_constants/<64 lowercase hex digits>.npy``."""
    for c in kernel.sharedConstants:
        if not CONSTANT_FILE.fullmatch(c.fileName):
            raise FormatError(f"{shown}: shared constant {c.name!r} has the file name {c.fileName!r}; "
                              "it must be shared_constants/<64 lowercase hex digits>.npy")


def load_constants(kernel: Any, path: str | os.PathLike[str], *, max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays of ``kernel``'s shared constants, read from beside the KLR file at ``path``
    (beside its target when it is a symbolic link, where ``klr trace`` wrote them) and checked
    against the digests in their names."""
    shown = os.fspath(path)
    check_constant_names(kernel, shown)
    directory = os.path.dirname(shown)
    if os.path.islink(shown):
        directory = os.path.dirname(os.path.realpath(shown))
    out: dict[str, np.ndarray] = {}
    read: dict[str, np.ndarray] = {}
    for c in kernel.sharedConstants:
        if c.fileName not in read:
            where = os.path.join(directory, c.fileName)
            array = read_npy(where, max_bytes=max_bytes)
            if constant_digest(array) != c.fileName[len("shared_constants/"):-len(".npy")]:
                raise FileError(f"{where}: the contents of shared constant {c.name!r} do not match "
                                "the digest in its file name (the file was changed or replaced)")
            read[c.fileName] = array
        out[c.name] = read[c.fileName]
    return out


def constant_files(constants: Mapping[str, np.ndarray]) -> dict[str, bytes]:
    """``TraceResult.constants`` (file name -> array) as .npy bytes by bare file name, after
    checking each name has the required form."""
    out = {}
    for name, array in constants.items():
        if not CONSTANT_FILE.fullmatch(name):
            raise FormatError(f"shared constant file name {name!r} is not "
                              "shared_constants/<64 lowercase hex digits>.npy")
        out[name.split("/", 1)[1]] = npy_bytes(array)
    return out
