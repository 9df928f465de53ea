"""KLR files: three CBOR items, ``KLRFile`` header, ``KLRMetaData`` and ``Contents``.

    d9 d9 f7 83 00 00 0c        KLRFile{major 0, minor 0, patch 12} (tag 55799 as magic)
    d9 eb 00 81 63 4e 4b 49     KLRMetaData{format "NKI"}
    d9 ec <ctor> 81 <kernel>    Contents: python 0 | nki 1 | kernel 2 | lnc 3 | hlo 4

Reading and writing go through ``klr.files``: an input must be a regular file below
``FileLimits.max_file_bytes``; an output is written through a temporary file renamed into
place (so a failed write never leaves a partial file), in place for a device or FIFO, or to
standard output for ``-``.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union

from klr import files
from klr.errors import FormatError
from klr.format.cbor import Reader, decode_from, deep_recursion, encoder, no_collection
from klr.format.reuse import CHUNK, Chunks, forget
from klr.limits import FileLimits
from klr.schema import Nat, describe, record

if TYPE_CHECKING:
    from klr.core import Kernel as CoreKernel
    from klr.core import LncKernel
    from klr.python.ast import Kernel as PyKernel

    # for type checkers only: made at run time, this Union of forward references took ~1 ms
    Contents = Union[PyKernel, CoreKernel, LncKernel, "Hlo"]

VERSION = (0, 0, 12)
HEADER = bytes((0xD9, 0xD9, 0xF7, 0x83, *VERSION))
METADATA = b"\xd9\xeb\x00\x81\x63NKI"
CONTENTS_TAG = 0xEC

KINDS = ("python", "nki", "kernel", "lnc", "hlo")


@record
class Hlo:
    """``Contents.hlo``: a reference to an HLO module by name (no body)."""

    name: str


def kind_of(contents: Any) -> str:
    # The IR classes are imported only for a file of their kind (gather never needs Core's):
    # an instance of one means its module is imported.
    py, core = sys.modules.get("klr.python.ast"), sys.modules.get("klr.core.basic")
    if py is not None and isinstance(contents, py.Kernel):
        return "python"
    if core is not None and isinstance(contents, core.LncKernel):
        return "lnc"
    if core is not None and isinstance(contents, core.Kernel):
        return "kernel"
    if isinstance(contents, Hlo):
        return "hlo"
    raise TypeError(f"{type(contents).__name__} is not KLR file contents")


def _type(kind: str) -> type:
    """The class of the contents of ``kind`` (python, kernel or lnc)."""
    if kind == "python":
        from klr.python.ast import Kernel as PyKernel

        return PyKernel
    from klr.core import Kernel as CoreKernel
    from klr.core import LncKernel

    return LncKernel if kind == "lnc" else CoreKernel


def to_bytes(contents: Any) -> bytes:
    return bytes(to_buffer(contents))


def to_buffer(contents: Any) -> bytearray:
    """``to_bytes`` without the final copy."""
    out = bytearray()
    _encode(contents, kind_of(contents), out)
    return out


def stream(contents: Any, sink: Callable[[bytearray], None], size: int | None = None) -> None:
    """Encode ``contents`` into ``sink`` in pieces of about ``size`` bytes (default ``CHUNK``;
    at least one piece; see ``reuse.Chunks``): the same bytes as ``to_bytes``, without holding
    them all."""
    out = Chunks(sink, CHUNK if size is None else size)
    _encode(contents, kind_of(contents), out)
    out.spill()


def _encode(contents: Any, kind: str, out: bytearray) -> None:
    out += HEADER + METADATA
    out += bytes((0xD9, CONTENTS_TAG, KINDS.index(kind), 0x81))
    try:
        with deep_recursion(), no_collection():
            if isinstance(contents, Hlo):
                encoder(describe(str))(contents.name, out)
            else:
                encoder(describe(_type(kind)))(contents, out)
    except RecursionError:
        raise FormatError(f"cannot encode {_describe_kind(kind)}: it nests too deeply") from None
    finally:
        forget()  # the cache holds nodes of this kernel: they are freed with it


def from_bytes(data: bytes, *, expect: str | None = None) -> Any:
    """Decode a whole KLR file; ``expect`` names the required contents kind."""
    r = Reader(bytes(data))
    if len(data) < 4 or data[:4] != HEADER[:4]:
        raise FormatError("not a KLR file: it does not start with the KLR header (d9 d9 f7 83)")
    r.take(4, "the header")
    version = tuple(decode_from(r, Nat) for _ in range(3))
    if version != VERSION:
        raise FormatError("unsupported KLR file version "
                          f"{'.'.join(map(str, version))}; this klr reads {'.'.join(map(str, VERSION))}")
    start = r.pos
    if r.take(4, "the metadata header") != METADATA[:4]:
        raise r.fail("the KLRMetaData item (d9 eb 00 81)", start)
    fmt = decode_from(r, str)
    if fmt != "NKI":
        raise FormatError(f"unsupported KLR metadata format {fmt!r}; expected 'NKI'")
    start = r.pos
    head = r.take(4, "the contents header")
    if head[0] != 0xD9 or head[1] != CONTENTS_TAG or head[3] != 0x81 or head[2] >= len(KINDS):
        raise r.fail("the Contents item (d9 ec <kind> 81)", start)
    kind = KINDS[head[2]]
    if expect is not None and kind != expect:
        raise FormatError(f"this KLR file holds {_describe_kind(kind)}, but {_describe_kind(expect)} "
                          "is needed here")
    if kind == "nki":
        raise FormatError("this KLR file holds an NKI AST (Contents.nki), which klr does not read")
    if kind == "python":
        _reject_r12(r)
    value = Hlo(decode_from(r, str)) if kind == "hlo" else decode_from(r, _type(kind))
    if not r.at_end():
        raise FormatError(f"malformed KLR file: {len(r.data) - r.pos} unexpected bytes after the "
                          f"contents, at byte {r.pos}")
    return value


def _reject_r12(r: Reader) -> None:
    """klr-lang 0.0.12 (R12) wrote Python ASTs with other tag numbers under the same version."""
    data = r.data
    if len(data) >= r.pos + 3 and data[r.pos] == 0xD9 and data[r.pos + 1] == 14 and data[r.pos + 2] == 0:
        raise FormatError("this Python-AST file was written by the released klr-lang 0.0.12, whose "
                          "AST tags differ from the current format; gather the kernel again with this klr")


def _describe_kind(kind: str) -> str:
    return {
        "python": "a gathered Python AST (klr gather)",
        "nki": "an NKI AST",
        "kernel": "a single-core Core kernel",
        "lnc": "a traced Core kernel (klr trace)",
        "hlo": "an HLO reference",
    }[kind]


def read(path: str | os.PathLike[str], *, expect: str | None = None,
         max_bytes: int | None = None) -> Any:
    """Decode the KLR file at ``path`` (at most ``max_bytes``, default
    ``FileLimits.max_file_bytes``)."""
    limit = FileLimits().max_file_bytes if max_bytes is None else max_bytes
    data = files.read_input(path, limit=limit, limit_name="max_file_bytes", error=FormatError)
    try:
        return from_bytes(data, expect=expect)
    except FormatError as e:
        e.message = f"{os.fspath(path)}: {e.message}"
        raise


def write(path: str | os.PathLike[str], contents: Any) -> None:
    """Encode ``contents`` and write it to ``path`` (see ``klr.files.write_output``): into the
    temporary file as it is encoded, a piece at a time, so the whole file is never in memory
    (standard output, a FIFO or a device gets it whole, once it is all encoded)."""
    kind_of(contents)  # not file contents: an error before the output is touched
    files.write_output(path, functools.partial(stream, contents))
