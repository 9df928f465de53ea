"""``klr eval`` on disk: its ``.npy`` inputs, and output files named after tensors.

Output file names. A kernel chooses its tensors' names, so a name becomes a file name only
through this mapping: letters, digits, ``_``, ``-`` and ``.`` stay; every other character
becomes ``%XX`` per byte of its UTF-8 encoding (``%`` itself is ``%25``, ``/`` is ``%2F``); a
leading ``.`` is ``%2E`` (so no name gives ``.``, ``..`` or a hidden file); ``.npy`` is
appended. A name whose file name would pass ``NAME_MAX`` bytes keeps its first 200 characters
plus ``~`` and 16 hex digits of the name's SHA-256. The mapping is one-to-one; outputs whose
file names differ only in case are refused, since a case-insensitive file system would write
both to one file.
"""

from __future__ import annotations

import hashlib
import os
import string
from collections.abc import Sequence
from typing import Any

from klr.errors import FileError, LimitError
from klr.files import NAME_MAX, OutputDir
from klr.limits import raise_hint

_KEPT = frozenset(string.ascii_letters + string.digits + "_-.")
_KEEP_CHARS = 200


def output_file_name(name: str) -> str:
    """The file name of output tensor ``name`` (see the module docstring)."""
    escaped = "".join(c if c in _KEPT else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
                      for c in name)
    if escaped.startswith("."):
        escaped = "%2E" + escaped[1:]
    if len(escaped) + len(".npy") > NAME_MAX:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        escaped = f"{escaped[:_KEEP_CHARS]}~{digest}"
    return escaped + ".npy"


def output_file_names(names: Sequence[str]) -> dict[str, str]:
    """Output tensor name -> file name for every output; an error when two would collide."""
    out: dict[str, str] = {}
    folded: dict[str, str] = {}
    for name in names:
        if not name:
            raise FileError("an output tensor has an empty name, which cannot name its .npy file")
        if name in out:
            raise FileError(f"the kernel has two outputs named {name!r}")
        file = out[name] = output_file_name(name)
        other = folded.setdefault(file.casefold(), name)
        if other != name:
            raise FileError(f"outputs {other!r} and {name!r} would be written to {out[other]} and "
                            f"{file}, which differ only in case: a case-insensitive file system "
                            "would write both to one file")
    return out


def load_inputs(kernel: Any, specs: Sequence[str], max_bytes: int) -> dict[str, Any]:
    """The ``[NAME=]FILE.npy`` inputs by name; each file's shape is checked against the kernel's
    input from its header, before its data is read."""
    from klr.format.npy import read_npy
    from klr.interp.runner import bind_inputs

    paths = bind_inputs(kernel, [_name_and_path(spec) for spec in specs])
    by_name = {t.name: t for t in kernel.inputs}
    inputs: dict[str, Any] = {}
    for name, path in paths.items():
        t = by_name[name]
        array = read_npy(path, max_bytes=max_bytes, shape=t.dims, what=f"input {name!r}")
        target = t.dtype.numpy()
        # .npy has no bfloat16/fp8 type: ml_dtypes arrays are saved as raw bytes (|V2, |V1)
        if array.dtype.kind == "V" and array.dtype.itemsize == target.itemsize:
            array = array.view(target)
        inputs[name] = array
    return inputs


def _name_and_path(spec: str) -> tuple[str | None, str]:
    name, sep, path = spec.partition("=")
    if not sep or _exists(spec):   # a file name may hold "="
        return None, spec
    return name or None, path


def _exists(path: str) -> bool:
    try:
        return os.path.lexists(path)
    except ValueError:  # a NUL in the name
        return False


class Dumper:
    """``klr eval --dump-intermediates DIR``: every executed statement's writes, one ``.npy`` per
    written operand, and ``index.tsv`` describing them (written last, also when the run fails).

    File names are ``<step>-<core>-<operator>-<field>.npy`` (6-digit step in execution order)
    escaped like output names; they never leave DIR. ``index.tsv`` has one row per write (a
    statement that writes nothing has a row without a file): step, core, statement (its number
    in the kernel, as ``klr check`` counts), instruction, operator, position, field, file, shape,
    dtype. Tabs, newlines and backslashes in names are written as ``\\t``, ``\\n``, ``\\\\``.
    At most ``max_bytes`` bytes of arrays are written.
    """

    COLUMNS = ("step", "core", "statement", "instruction", "operator", "position", "field", "file",
               "shape", "dtype")

    def __init__(self, directory: str, max_bytes: int) -> None:
        self.dir = OutputDir.create(directory)
        self.max_bytes = max_bytes
        self.written = 0
        self.rows: list[tuple[str, ...]] = []

    def __call__(self, step: Any) -> None:
        from klr.core.operators import operator_name
        from klr.format.npy import npy_bytes

        op = operator_name(step.stmt.op)
        pos = step.stmt.pos
        where = f"{pos.filename}:{pos.line}:{pos.column + 1}" if pos is not None and pos.line else ""
        head = (str(step.number), str(step.core), str(step.index), step.stmt.name or "", op, where)
        if not step.writes:
            self.rows.append((*head, "", "", "", ""))
        for field, array in step.writes:
            name = output_file_name(f"{step.number:06d}-{step.core}-{op}-{field}")
            data = npy_bytes(array)
            self.written += len(data)
            if self.written > self.max_bytes:
                raise LimitError(f"--dump-intermediates would write more than {self.max_bytes} bytes "
                                 f"({raise_hint('max_dump_bytes')})", pos)
            self.dir.replace(name, data)
            self.rows.append((*head, field, name, "x".join(map(str, array.shape)), str(array.dtype)))

    def close(self) -> None:
        """Write ``index.tsv`` and release the directory."""
        lines = ["\t".join(self.COLUMNS)]
        lines += ["\t".join(_cell(c) for c in row) for row in self.rows]
        try:
            self.dir.replace("index.tsv", ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
        finally:
            self.dir.close()


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
