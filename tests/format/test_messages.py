"""One test per message of the codec and the file envelope: the exact text.

Reading: KLR files edited byte by byte the way a corrupt or hostile file would be. Writing:
nodes built by hand with a field of the wrong type, as a user of the Python API might.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from klr import core
from klr.errors import FormatError
from klr.format.cbor import decode, encode
from klr.format.file import KINDS, from_bytes, to_bytes
from klr.format.text import to_sexp
from klr.pos import Pos
from klr.python import ast as A
from tests.format.test_fuzz_regressions import _nested
from tests.interp.builder import full, hbm

PAIR = encode(core.APPair(1, 4, 0))          # d9 77 00 83 | 01 04 00
BLOCK = encode(core.Block("mé", False, ()))   # the name's bytes start at byte 5
ALU = encode(core.AluOp.add, core.AluOp)      # d9 87 01 80
IMM = encode(core.ImmInt(3), core.Immediate)  # d9 83 02 81 | 03

DECODE = [
    ("truncated KLR data: expected a natural number at byte 6, but the input ends at byte 6",
     lambda: decode(PAIR[:-1], core.APPair)),
    ("malformed KLR data at byte 5: expected a natural number, found byte 0x40",
     lambda: decode(PAIR[:5] + b"\x40" + PAIR[6:], core.APPair)),
    ("malformed KLR data: 1 unexpected bytes after the value, at byte 7",
     lambda: decode(PAIR + b"\x00", core.APPair)),
    ("malformed KLR data at byte 0: APPair should have 3 fields, the header says 2",
     lambda: decode(PAIR[:3] + b"\x82" + PAIR[4:], core.APPair)),
    ("malformed KLR data at byte 5: a string is not valid UTF-8",
     lambda: decode(BLOCK.replace("mé".encode(), b"m\xff"), core.Block)),
    ("malformed KLR data at byte 0: 99 is not a constructor of AluOp",
     lambda: decode(ALU[:2] + b"\x63" + ALU[3:], core.AluOp)),
    ("malformed KLR data at byte 0: 48 is not a constructor of Immediate",
     lambda: decode(IMM[:2] + b"\x30" + IMM[3:], core.Immediate)),
    ("malformed KLR data at byte 0: Immediate.int should have 1 fields, the header says 3",
     lambda: decode(IMM[:3] + b"\x83" + IMM[4:], core.Immediate)),
]


@pytest.mark.parametrize(("message", "read"), DECODE, ids=[c[0][:60] for c in DECODE])
def test_decode(message: str, read: Callable[[], Any]) -> None:
    with pytest.raises(FormatError) as info:
        read()
    assert info.value.message == message


X = full(hbm("x", (2, 2)))

ENCODE = [
    ("expected an integer, got str 'a'", lambda: encode(core.ImmInt("a"), core.Immediate)),
    ("expected a natural number, got -1", lambda: encode(core.APPair(1, -1, 0))),
    ("expected a string, got int", lambda: encode(core.RegisterMove(5, 1))),
    ("expected a bool, got str", lambda: encode(core.Block("main", "yes", ()))),
    ("expected a float, got str", lambda: encode(core.ImmFloat("x"), core.Immediate)),
    ("expected a float, got str", lambda: encode(A.CFloat("x"), A.Const)),
    ("expected a list, got int", lambda: encode(core.Block("main", False, 5))),
    ("expected a AluOp, got 'add'",
     lambda: encode(core.TensorTensor(X, X, X, "add", None, core.Engine.unassigned))),
    ("expected a Pos, got str", lambda: encode(core.Stmt(core.RegisterMove("r", 1), "n", "x"))),
    ("a int is not a Operator", lambda: encode(core.Stmt(5, "n", Pos(1, 0)))),
    ("cannot encode the value: it nests too deeply", lambda: encode(_nested(20_000))),
    ("a string holds the lone surrogate U+DCFF, which a KLR file (UTF-8) cannot hold",
     lambda: encode(core.RegisterMove("r\udcff", 1))),
]


@pytest.mark.parametrize(("message", "write"), ENCODE, ids=[c[0] for c in ENCODE])
def test_encode(message: str, write: Callable[[], Any]) -> None:
    with pytest.raises(FormatError) as info:
        write()
    assert info.value.message == message


def test_decoding_values_nested_too_deeply() -> None:
    file = to_bytes(_nested(0))
    at = file.index(bytes.fromhex("d9070082")) + 4  # inside the first argument's Expr
    deep = file[:at] + bytes.fromhex("d908048281d9070082") * 20_000  # ListExpr((Expr(...),)) again and again
    with pytest.raises(FormatError, match=r"^malformed KLR data: values nest too deeply \(near byte \d+\)$"):
        from_bytes(deep)


def test_an_s_expression_nested_too_deeply() -> None:
    with pytest.raises(FormatError) as info:
        to_sexp(_nested(20_000))
    assert info.value.message == "cannot print the value as an s-expression: it nests too deeply"


# --- the file envelope -----------------------------------------------------------------------

FILE = to_bytes(_nested(1))
CONTENTS = FILE.index(bytes((0xD9, 0xEC)))  # d9 ec <kind> 81, after the metadata


def _kind(kind: str) -> bytes:
    return FILE[:CONTENTS + 2] + bytes((KINDS.index(kind),)) + FILE[CONTENTS + 3:]


ENVELOPE = [
    ("unsupported KLR metadata format 'XYZ'; expected 'NKI'",
     lambda: from_bytes(FILE.replace(b"cNKI", b"cXYZ", 1))),
    ("this KLR file holds a gathered Python AST (klr gather), but a traced Core kernel (klr trace) is "
     "needed here", lambda: from_bytes(FILE, expect="lnc")),
    ("this KLR file holds an NKI AST (Contents.nki), which klr does not read",
     lambda: from_bytes(_kind("nki"))),
    (f"malformed KLR file: 1 unexpected bytes after the contents, at byte {len(FILE)}",
     lambda: from_bytes(FILE + b"\x00")),
    ("this Python-AST file was written by the released klr-lang 0.0.12, whose AST tags differ from the "
     "current format; gather the kernel again with this klr",
     lambda: from_bytes(FILE[:CONTENTS + 4] + bytes.fromhex("d90e0081"))),
]


@pytest.mark.parametrize(("message", "read"), ENVELOPE, ids=[c[0][:60] for c in ENVELOPE])
def test_envelope(message: str, read: Callable[[], Any]) -> None:
    with pytest.raises(FormatError) as info:
        read()
    assert info.value.message == message
