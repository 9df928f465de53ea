"""The KLR CBOR encoding, driven by the schema: one generic encoder and one type-directed decoder.

Encoders and decoders are compiled once per type description (``klr.schema.describe``) into
closures, so encoding a value is a walk with no per-node type inspection. See docs/format.md
for the byte-level rules; in short:

* Nat/Int: shortest CBOR integer head (major type 0, or 1 for negatives); Bool ``f4``/``f5``;
  Float32 ``fa`` + 4 bytes, Float ``fb`` + 8 bytes; String: major type 3; List: major type 4;
  pair: ``82 a b``; Option: ``d9 ff 00 80`` / ``d9 ff 01 81 x``.
* tagged values: ``d9 <type tag> <ctor> <80|n>`` then the n fields. Types with proof fields count
  them in n but never write them, so the decoder never trusts n beyond checking it.

The encoder writes into a ``bytearray``; shared nodes come from a cache by identity, and a
``Chunks`` output hands its bytes on between statements (``klr.format.reuse``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import keyword
import math
import struct
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

from klr.errors import FormatError
from klr.format import reuse
from klr.format.reuse import (
    MEMO,
    SECOND_SIGHT,
    SHARED,
    SHARED_LISTS,
    SPILL_AT,
    forget,
    memo_encoder,
    memo_hit,
    second_sight,
    spilling_list_encoder,
)
from klr.schema import Kind, NodeEnum, Prim, TypeDesc, describe, fields_of, info_of

Encoder = Callable[[Any, bytearray], None]
Decoder = Callable[["Reader"], Any]

_F32 = struct.Struct(">f")
_F64 = struct.Struct(">d")
_NAT_MAX = 2**64 - 1


#: The heads of numbers below 256, by major type: most numbers in a kernel are small.
_SMALL_HEADS = tuple(tuple(bytes((m << 5 | n,)) if n < 24 else bytes((m << 5 | 24, n)) for n in range(256))
                     for m in range(8))


def _head(major: int, n: int, out: bytearray) -> None:
    if n < 0x100:
        out += _SMALL_HEADS[major][n]
        return
    m = major << 5
    if n < 0x10000:
        out.append(m | 25)
        out += n.to_bytes(2, "big")
    elif n < 0x100000000:
        out.append(m | 26)
        out += n.to_bytes(4, "big")
    else:
        out.append(m | 27)
        out += n.to_bytes(8, "big")


def _enc_int(v: Any, out: bytearray) -> None:
    if type(v) is not int and (isinstance(v, bool) or not isinstance(v, int)):
        raise FormatError(f"expected an integer, got {type(v).__name__} {v!r}")
    if v >= 0:
        if v > _NAT_MAX:
            raise FormatError(f"integer {v} does not fit in 64 bits")
        _head(0, v, out)
    else:
        if v < -(2**63):
            raise FormatError(f"integer {v} does not fit in 64 bits")
        _head(1, -1 - v, out)


def _enc_nat(v: Any, out: bytearray) -> None:
    if isinstance(v, int) and not isinstance(v, bool) and v < 0:
        raise FormatError(f"expected a natural number, got {v}")
    _enc_int(v, out)


def _enc_str(v: Any, out: bytearray) -> None:
    if not isinstance(v, str):
        raise FormatError(f"expected a string, got {type(v).__name__}")
    try:
        b = v.encode("utf-8")
    except UnicodeEncodeError as e:
        raise FormatError(f"a string holds the lone surrogate U+{ord(v[e.start]):04X}, which a KLR "
                          "file (UTF-8) cannot hold") from None
    _head(3, len(b), out)
    out += b


def _enc_bool(v: Any, out: bytearray) -> None:
    if not isinstance(v, bool):
        raise FormatError(f"expected a bool, got {type(v).__name__}")
    out.append(0xF5 if v else 0xF4)


def _enc_f32(v: Any, out: bytearray) -> None:
    out.append(0xFA)
    try:
        out += _F32.pack(v)
    except (struct.error, OverflowError):
        if isinstance(v, (int, float)) and not isinstance(v, bool):  # out of float32 range
            out += _F32.pack(math.copysign(math.inf, v))
        else:
            raise FormatError(f"expected a float, got {type(v).__name__}") from None


def _enc_f64(v: Any, out: bytearray) -> None:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise FormatError(f"expected a float, got {type(v).__name__}")
    out.append(0xFB)
    out += _F64.pack(v)


_PRIM_ENC: dict[Prim, Encoder] = {
    Prim.NAT: _enc_nat, Prim.INT: _enc_int, Prim.STR: _enc_str, Prim.BOOL: _enc_bool,
    Prim.F32: _enc_f32, Prim.F64: _enc_f64,
}

_ENCODERS: dict[TypeDesc, Encoder] = {}


def encoder(desc: TypeDesc) -> Encoder:
    enc = _ENCODERS.get(desc)
    if enc is None:
        # A placeholder breaks cycles (Expr contains Expr): it forwards to the final closure,
        # held in a cell (looking it up by desc would hash the whole type tree on every call).
        final: list[Encoder] = []

        def forward(v: Any, out: bytearray) -> None:
            final[0](v, out)

        _ENCODERS[desc] = forward
        enc = _build_encoder(desc)
        final.append(enc)
        _ENCODERS[desc] = enc
    return enc


def _tag_head(tag: int, ctor: int, n: int) -> bytes:
    if n >= 24:
        raise TypeError(f"a tagged value holds at most 23 fields (tag {tag} has {n})")
    return bytes((0xD9, tag, ctor, 0x80 | n))


def _build_encoder(desc: TypeDesc) -> Encoder:
    kind = desc.kind
    if kind is Kind.PRIM:
        assert desc.prim is not None
        return _PRIM_ENC[desc.prim]
    if kind is Kind.OPTION:
        inner = encoder(desc.args[0])

        def enc_option(v: Any, out: bytearray) -> None:
            if v is None:
                out += b"\xd9\xff\x00\x80"
            else:
                out += b"\xd9\xff\x01\x81"
                inner(v, out)

        return enc_option
    if kind is Kind.LIST:
        item = encoder(desc.args[0])
        if desc.args[0].kind in (Kind.STRUCT, Kind.SUM) and desc.args[0].name in SPILL_AT:
            return spilling_list_encoder(item, _head)

        def enc_list(v: Any, out: bytearray) -> None:
            if not isinstance(v, (tuple, list)):
                raise FormatError(f"expected a list, got {type(v).__name__}")
            _head(4, len(v), out)
            for x in v:
                item(x, out)

        return enc_list
    if kind is Kind.PAIR:
        first, second = encoder(desc.args[0]), encoder(desc.args[1])

        def enc_pair(v: Any, out: bytearray) -> None:
            out.append(0x82)
            first(v[0], out)
            second(v[1], out)

        return enc_pair
    if kind is Kind.ENUM:
        # By identity: members are singletons the class keeps alive, and Enum.__hash__ is a
        # Python-level call per value.
        heads = {id(m): _tag_head(desc.cls.__tag__, i, 0) for i, m in enumerate(desc.cls)}
        cls = desc.cls

        def enc_enum(v: Any, out: bytearray) -> None:
            head = heads.get(id(v))
            if head is None or type(v) is not cls:
                raise FormatError(f"expected a {cls.__name__}, got {v!r}")
            out += head

        return enc_enum
    if kind is Kind.STRUCT:
        info = info_of(desc.cls)
        assert info.tag is not None
        return _fields_encoder(desc.cls, _tag_head(info.tag, 0, len(fields_of(desc.cls)) + info.proofs),
                               cached=info.lean in SHARED)
    if kind is Kind.SUM:
        return _sum_encoder(desc)
    raise TypeError(f"cannot encode {desc}")


def _fields_encoder(cls: type, head: bytes, cached: bool = False) -> Encoder:
    """A straight-line encoder for ``cls``, compiled once: one statement per field, with the
    common cases (small numbers, bools, enum members, absent options, short lists, ASCII
    strings) written in place and everything else through the field type's encoder. A
    ``cached`` encoder looks its value up in ``MEMO`` first and keeps its bytes there after
    (the cache in the encoder itself: no wrapping call)."""
    env: dict[str, Any] = {"cls": cls, "head": head, "wrong": _wrong_struct, "id": id, "type": type,
                           "isinstance": isinstance, "len": len, "int": int, "str": str, "tuple": tuple,
                           "H0": _SMALL_HEADS[0], "H3": _SMALL_HEADS[3], "H4": _SMALL_HEADS[4]}
    lines = ["def enc(v, out):"]
    if cached:
        env["MEMO"], env["reuse"] = MEMO, reuse
        lines += ["    hit = MEMO.get(id(v))", "    if hit is not None and hit[0] is v:",
                  "        out += hit[1]", "        return"]
    lines += ["    if type(v) is not cls and not isinstance(v, cls):",
              "        wrong(cls, v)"]
    lines += ["    start = len(out)"] if cached else []
    lines += ["    out += head"]
    for i, f in enumerate(fields_of(cls)):
        desc = describe(f.type)
        env[f"e{i}"] = encoder(desc)
        plain = f.name.isidentifier() and not keyword.iskeyword(f.name)
        lines.append(f"    x = v.{f.name}" if plain else f"    x = getattr(v, {f.name!r})")
        lines.extend("    " + line for line in _inline_field(desc, i, env))
    if cached:
        lines += ["    if len(MEMO) >= reuse.MEMO_LIMIT:", "        MEMO.clear()",
                  "    MEMO[id(v)] = (v, out[start:])"]
    enc = _define("\n".join(lines), cls, env)
    if cached:
        enc.memo = enc  # type: ignore[attr-defined]  # marks a cached encoder for its callers
    return enc


def _define(source: str, cls: type, env: dict[str, Any]) -> Encoder:
    """The function ``enc`` that ``source`` defines, with globals ``env``: its code taken from
    klr.format.encoders (generated by scripts/encoders.py) when it holds that source, else
    compiled (compiling a dozen encoders was most of the time of writing a small file). Each
    kind of file has its table (``encoder_table``), so that writing one loads one."""
    table = encoder_table(cls.__module__)
    code = (sys.modules.get(table) or __import__(table, fromlist=["CODES"])).CODES.get(source)
    if code is not None:
        return types.FunctionType(code, env, "enc")
    exec(compile(source, f"<klr encoder of {cls.__name__}>", "exec"), env)  # klr's own schema only
    enc: Encoder = env["enc"]
    return enc


def encoder_table(module: str) -> str:
    """The generated module that holds the encoders of the classes of ``module``: those of a
    Python-AST file, of a Core file, or of both (``Pos``)."""
    if module.startswith("klr.python."):
        return "klr.format.encoders_py"
    return "klr.format.encoders" if module.startswith("klr.core.") else "klr.format.encoders_shared"


def _wrong_struct(cls: type, v: Any) -> None:
    raise FormatError(f"expected a {cls.__name__}, got {type(v).__name__}")


def _inline_field(desc: TypeDesc, i: int | str, env: dict[str, Any]) -> list[str]:
    """Lines encoding the field value ``x`` of type ``desc`` (whose encoder is ``e{i}``)."""
    kind = desc.kind
    if kind is Kind.PRIM and desc.prim in (Prim.NAT, Prim.INT):
        return ["if type(x) is int and 0 <= x < 256:", "    out += H0[x]",
                "elif type(x) is int and 0 <= x < 0x10000:", "    out.append(0x19)",
                "    out += x.to_bytes(2, 'big')",
                "elif type(x) is int and 0 <= x < 0x100000000:", "    out.append(0x1A)",
                "    out += x.to_bytes(4, 'big')",
                "else:", f"    e{i}(x, out)"]
    if kind is Kind.PRIM and desc.prim is Prim.BOOL:
        return ["if x is True:", "    out.append(0xF5)", "elif x is False:", "    out.append(0xF4)",
                "else:", f"    e{i}(x, out)"]
    if kind is Kind.PRIM and desc.prim is Prim.STR:
        return ["if type(x) is str and len(x) < 256 and x.isascii():", "    out += H3[len(x)]",
                "    out += x.encode()", "else:", f"    e{i}(x, out)"]
    if kind is Kind.ENUM:
        env[f"c{i}"] = desc.cls
        env[f"h{i}"] = {id(m): _tag_head(desc.cls.__tag__, n, 0) for n, m in enumerate(desc.cls)}
        return [f"if type(x) is c{i}:", f"    out += h{i}[id(x)]", "else:", f"    e{i}(x, out)"]
    if kind is Kind.OPTION:
        inner = desc.args[0]
        env[f"e{i}o"] = encoder(inner)
        some = _inline_field(inner, f"{i}o", env) if inner.kind is Kind.PRIM else [f"e{i}o(x, out)"]
        return ["if x is None:", "    out += b'\\xd9\\xff\\x00\\x80'", "else:",
                "    out += b'\\xd9\\xff\\x01\\x81'", *("    " + line for line in some)]
    item = desc.args[0] if kind is Kind.LIST else None
    if item is not None and item.kind is Kind.STRUCT and info_of(item.cls).lean in SHARED_LISTS:
        env[f"m{i}"] = memo_encoder(encoder(desc))
        return memo_hit(env, f"m{i}")
    if hasattr(env[f"e{i}"], "memo"):
        return memo_hit(env, f"e{i}")
    if kind is Kind.SUM:
        by_class = getattr(env[f"e{i}"], "by_class", None)
        if by_class is not None:  # the constructor's encoder without the call of the sum's
            env[f"b{i}"] = by_class
            return [f"f = b{i}.get(type(x))", "if f is None:", f"    e{i}(x, out)", "else:", "    f(x, out)"]
    if kind is Kind.LIST:
        env[f"s{i}"] = encoder(desc.args[0])
        if item is not None and item.kind is Kind.PRIM and item.prim in (Prim.NAT, Prim.INT):
            each = ["        if type(y) is int and 0 <= y < 256:", "            out += H0[y]",
                    "        elif type(y) is int and 0 <= y < 0x10000:", "            out.append(0x19)",
                    "            out += y.to_bytes(2, 'big')",
                    "        else:", f"            s{i}(y, out)"]
        else:
            each = [f"        s{i}(y, out)"]
        return ["if type(x) is tuple and len(x) < 24:", "    out += H4[len(x)]", "    for y in x:", *each,
                "else:", f"    e{i}(x, out)"]
    return [f"e{i}(x, out)"]


def _sum_encoder(desc: TypeDesc) -> Encoder:
    assert desc.sum is not None
    tag, what = desc.sum.tag, desc.sum.name
    # As for decoding, a constructor's encoder is built when the first value of it is written.
    makers: dict[type, Callable[[], Encoder]] = {}
    for ctor, member in enumerate(desc.args):
        if member.kind is Kind.CTOR:
            makers[member.cls] = functools.partial(_ctor_encoder, tag, ctor, member.cls)
        else:
            head = _tag_head(tag, ctor, 1)
            makers.update({c: functools.partial(_wrap_encoder, head, member, c, what in SECOND_SIGHT)
                           for c in _classes_of(member)})
    by_class: dict[type, Encoder] = {}

    def enc_sum(v: Any, out: bytearray) -> None:
        enc = by_class.get(type(v))
        if enc is None:
            make = makers.get(type(v))
            if make is None:
                raise FormatError(f"a {type(v).__name__} is not a {what}")
            enc = by_class[type(v)] = make()
        enc(v, out)

    def for_class(cls: type) -> Encoder:
        enc = by_class.get(cls)
        if enc is None:
            enc = by_class[cls] = makers[cls]()
        return enc

    enc_sum.by_class = by_class  # type: ignore[attr-defined]  # for the generated encoders
    enc_sum.for_class = for_class  # type: ignore[attr-defined]  # for the encoders of wrapping sums
    return enc_sum


def _ctor_encoder(tag: int, ctor: int, cls: type) -> Encoder:
    return _fields_encoder(cls, _tag_head(tag, ctor, len(fields_of(cls)) + info_of(cls).proofs))


def _wrap_encoder(head: bytes, member: TypeDesc, cls: type, cached: bool) -> Encoder:
    """The encoder of a ``cls`` value as the one field of a constructor with the tag head
    ``head`` (its encoding ``cached`` from the second time a value is written, unless it is
    cached anyway). Chains of such constructors (``TensorRef.abstract(Access.birPattern(...))``)
    become one head and one call, and a cached value is written without a call."""
    inner = encoder(member)
    for_class = getattr(inner, "for_class", None)
    if for_class is not None:  # a sum: its constructor's encoder for cls
        inner = for_class(cls)
    elif cached and not hasattr(inner, "memo"):
        inner = second_sight(inner)
    chained = getattr(inner, "wrapped", None)
    if chained is not None:
        head, inner = head + chained[0], chained[1]
    enc: Encoder
    if hasattr(inner, "memo"):
        memo, caching = MEMO, inner

        def enc(v: Any, out: bytearray) -> None:
            out += head
            hit = memo.get(id(v))
            if hit is not None and hit[0] is v:
                out += hit[1]
            else:
                caching(v, out)
    else:
        def enc(v: Any, out: bytearray) -> None:
            out += head
            inner(v, out)

    enc.wrapped = (head, inner)  # type: ignore[attr-defined]
    return enc


def _classes_of(desc: TypeDesc) -> list[type]:
    """The Python classes whose instances inhabit a struct, enum or sum type."""
    match desc.kind:
        case Kind.STRUCT | Kind.CTOR | Kind.ENUM:
            return [desc.cls]
        case Kind.SUM:
            return [c for a in desc.args for c in _classes_of(a)]
    raise TypeError(f"a {desc.name} cannot be a sum member")


#: Python frames the codec may nest: each level of a value takes a few, and gathered
#: expressions may legitimately nest hundreds of levels deep.
RECURSION_LIMIT = 20_000


@contextlib.contextmanager
def deep_recursion() -> Iterator[None]:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def encode(value: Any, tp: Any = None) -> bytes:
    """Encode a value of type ``tp`` (default: the value's own struct or enum type)."""
    out = bytearray()
    try:
        with deep_recursion(), no_collection():
            encoder(describe(tp if tp is not None else type(value)))(value, out)
    except RecursionError:
        raise FormatError("cannot encode the value: it nests too deeply") from None
    finally:
        forget()
    return bytes(out)


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """The cyclic collector paused: encoding and decoding build no cycles, and its passes over a
    large kernel's tree of nodes would cost a large share of the time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


# ---------------------------------------------------------------------------------------------
# Decoding


class Reader:
    """A cursor over CBOR bytes; every failure is a FormatError naming the byte offset."""

    __slots__ = ("data", "memo", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.memo: dict[bytes, list[tuple[bytes, Any]]] = {}  # shared structs by leading bytes

    def fail(self, what: str, at: int | None = None) -> FormatError:
        where = self.pos if at is None else at
        if where >= len(self.data):
            return FormatError(f"truncated KLR data: expected {what} at byte {where}, "
                               f"but the input ends at byte {len(self.data)}")
        return FormatError(f"malformed KLR data at byte {where}: expected {what}, "
                           f"found byte 0x{self.data[where]:02x}")

    def byte(self, what: str) -> int:
        p = self.pos
        if p >= len(self.data):
            raise self.fail(what)
        self.pos = p + 1
        return self.data[p]

    def take(self, n: int, what: str) -> bytes:
        p = self.pos
        if p + n > len(self.data):
            raise self.fail(what, len(self.data))
        self.pos = p + n
        return self.data[p:p + n]

    def head(self, major: int, what: str) -> int:
        data, p = self.data, self.pos
        if p >= len(data):
            raise self.fail(what)
        b = data[p]
        if b >> 5 != major:
            raise self.fail(what, p)
        info = b & 0x1F
        if info < 24:
            self.pos = p + 1
            return info
        if info > 27:
            raise self.fail(what, p)
        end = p + 1 + (1 << (info - 24))
        if end > len(data):
            raise self.fail(what, len(data))
        self.pos = end
        return int.from_bytes(data[p + 1:end], "big")

    def tagged(self, tag: int, n: int, what: str) -> int:
        """Read ``d9 tag ctor (80|n)``; return ctor. n < 0 means: any count, checked by caller."""
        data, p = self.data, self.pos
        if p + 4 > len(data):
            raise self.fail(what, min(len(data), p + 4))
        if data[p] != 0xD9 or data[p + 1] != tag or data[p + 3] & 0xE0 != 0x80:
            raise self.fail(what, p)
        if n >= 0 and data[p + 3] != 0x80 | n:
            raise FormatError(f"malformed KLR data at byte {p}: {what} should have "
                              f"{n} fields, the header says {data[p + 3] & 0x1F}")
        self.pos = p + 4
        return data[p + 2]

    def at_end(self) -> bool:
        return self.pos >= len(self.data)


def _dec_nat(r: Reader) -> int:
    data, p = r.data, r.pos
    if p + 2 < len(data):  # the common cases inline: a number below 2**16
        b = data[p]
        if b < 24:
            r.pos = p + 1
            return b
        if b == 0x18:
            r.pos = p + 2
            return data[p + 1]
        if b == 0x19:
            r.pos = p + 3
            return data[p + 1] << 8 | data[p + 2]
    return r.head(0, "a natural number")


def _dec_int(r: Reader) -> int:
    data, p = r.data, r.pos
    if p < len(data):
        b = data[p]
        if b < 24:
            r.pos = p + 1
            return b
        if b >> 5 == 1:
            return -1 - r.head(1, "an integer")
    return r.head(0, "an integer")


def _dec_str(r: Reader) -> str:
    data, p = r.data, r.pos
    if p < len(data) and 0x60 <= data[p] < 0x78 and p + 1 + data[p] - 0x60 <= len(data):  # under 24 bytes
        n = data[p] - 0x60
        raw = data[p + 1:p + 1 + n]
        r.pos = p + 1 + n
    else:
        n = r.head(3, "a string")
        raw = r.take(n, "string bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"malformed KLR data at byte {r.pos - n}: a string is not valid UTF-8") from None


def _dec_bool(r: Reader) -> bool:
    data, start = r.data, r.pos
    if start < len(data) and data[start] in (0xF4, 0xF5):
        r.pos = start + 1
        return data[start] == 0xF5
    b = r.byte("a bool")
    if b == 0xF5:
        return True
    if b == 0xF4:
        return False
    raise r.fail("a bool (f4 or f5)", start)


def _dec_f32(r: Reader) -> float:
    start = r.pos
    if r.byte("a Float32") != 0xFA:
        raise r.fail("a Float32 (fa)", start)
    return float(_F32.unpack(r.take(4, "Float32 bytes"))[0])


def _dec_f64(r: Reader) -> float:
    start = r.pos
    b = r.byte("a Float")
    if b == 0xFB:
        return float(_F64.unpack(r.take(8, "Float bytes"))[0])
    if b == 0xFA:  # the reference's Float reader widens Float32
        return float(_F32.unpack(r.take(4, "Float32 bytes"))[0])
    raise r.fail("a Float (fb)", start)


_PRIM_DEC: dict[Prim, Decoder] = {
    Prim.NAT: _dec_nat, Prim.INT: _dec_int, Prim.STR: _dec_str, Prim.BOOL: _dec_bool,
    Prim.F32: _dec_f32, Prim.F64: _dec_f64,
}

_DECODERS: dict[TypeDesc, Decoder] = {}


def decoder(desc: TypeDesc) -> Decoder:
    dec = _DECODERS.get(desc)
    if dec is None:
        final: list[Decoder] = []   # see encoder()

        def forward(r: Reader) -> Any:
            return final[0](r)

        _DECODERS[desc] = forward
        dec = _build_decoder(desc)
        final.append(dec)
        _DECODERS[desc] = dec
    return dec


def _build_decoder(desc: TypeDesc) -> Decoder:
    kind = desc.kind
    if kind is Kind.PRIM:
        assert desc.prim is not None
        return _PRIM_DEC[desc.prim]
    if kind is Kind.OPTION:
        inner = decoder(desc.args[0])
        what = desc.name

        def dec_option(r: Reader) -> Any:
            data, p = r.data, r.pos
            if p + 4 <= len(data) and data[p] == 0xD9 and data[p + 1] == 0xFF:
                if data[p + 2] == 0 and data[p + 3] == 0x80:
                    r.pos = p + 4
                    return None
                if data[p + 2] == 1 and data[p + 3] == 0x81:
                    r.pos = p + 4
                    return inner(r)
            raise r.fail(what, min(p, len(data)))

        return dec_option
    if kind is Kind.LIST:
        item = decoder(desc.args[0])
        what = desc.name

        def dec_list(r: Reader) -> tuple[Any, ...]:
            data, p = r.data, r.pos
            if p < len(data) and 0x80 <= data[p] < 0x98:  # the common case: under 24 elements
                n = data[p] - 0x80
                r.pos = p + 1
            else:
                n = r.head(4, what)
            if n > len(r.data) - r.pos:  # every element takes at least one byte
                raise r.fail(f"{n} list elements", len(r.data))
            return tuple([item(r) for _ in range(n)])

        return dec_list
    if kind is Kind.PAIR:
        first, second = decoder(desc.args[0]), decoder(desc.args[1])
        what = desc.name

        def dec_pair(r: Reader) -> tuple[Any, Any]:
            start = r.pos
            if r.byte(what) != 0x82:
                raise r.fail(what, start)
            return (first(r), second(r))

        return dec_pair
    if kind is Kind.ENUM:
        members: tuple[NodeEnum, ...] = tuple(desc.cls)
        tag = desc.cls.__tag__
        what = desc.cls.__name__

        by_head = {_tag_head(tag, i, 0): m for i, m in enumerate(members)}

        def dec_enum(r: Reader) -> NodeEnum:
            start = r.pos
            got = by_head.get(r.data[start:start + 4])
            if got is not None:
                r.pos = start + 4
                return got
            ctor = r.tagged(tag, 0, what)
            if ctor >= len(members):
                raise FormatError(f"malformed KLR data at byte {start}: {ctor} is not a "
                                  f"constructor of {what}")
            return members[ctor]

        return dec_enum
    if kind is Kind.STRUCT:
        info = info_of(desc.cls)
        assert info.tag is not None
        n = len(fields_of(desc.cls)) + info.proofs
        body = _fields_decoder(desc.cls)
        tag, what = info.tag, info.lean
        head = _tag_head(tag, 0, n)

        def dec_struct(r: Reader) -> Any:
            if r.data.startswith(head, r.pos):
                r.pos += 4
            else:
                r.tagged(tag, n, what)  # raises the precise error
            return body(r)

        return _memo_decoder(dec_struct) if info.lean in SHARED else dec_struct
    if kind is Kind.SUM:
        return _sum_decoder(desc)
    raise TypeError(f"cannot decode {desc}")


_MEMO_KEY = 24       # leading bytes that select candidate spans (the name is among them)
_MEMO_CANDIDATES = 8


def _memo_decoder(dec: Decoder) -> Decoder:
    """Reuse the value of an identical byte span seen earlier in the same input."""

    def dec_memo(r: Reader) -> Any:
        data, start = r.data, r.pos
        key = data[start:start + _MEMO_KEY]
        spans = r.memo.get(key)
        if spans is not None:
            for span, value in spans:
                if data.startswith(span, start):
                    r.pos = start + len(span)
                    return value
        value = dec(r)
        if spans is None:
            r.memo[key] = [(data[start:r.pos], value)]
        elif len(spans) < _MEMO_CANDIDATES:
            spans.append((data[start:r.pos], value))
        return value

    return dec_memo


def _fields_decoder(cls: type) -> Callable[[Reader], Any]:
    fields = fields_of(cls)
    if not fields:  # a constructor without fields: its one (immutable) value
        value = cls()
        return lambda r: value
    if hasattr(cls, "__post_init__"):  # a node that checks itself is built through __init__
        decs = tuple(decoder(describe(f.type)) for f in fields)
        return lambda r: cls(*[d(r) for d in decs])
    # Nodes are frozen slotted dataclasses whose __init__ sets each field through
    # object.__setattr__; decoding writes the slots directly instead (the fields are complete
    # and already typed), which builds a node in about half the time.
    slots = tuple((_slot(cls, f.name).__set__, decoder(describe(f.type))) for f in fields)
    new = object.__new__

    def dec_fields(r: Reader) -> Any:
        obj: Any = new(cls)
        for put, dec in slots:
            put(obj, dec(r))
        return obj

    return dec_fields


def _slot(cls: type, name: str) -> Any:
    """The slot descriptor of field ``name`` (declared by ``cls`` or a base class)."""
    for klass in cls.__mro__:
        got = klass.__dict__.get(name)
        if got is not None:
            if not hasattr(got, "__set__"):
                raise TypeError(f"{cls.__name__}.{name} is not a slot")
            return got
    raise TypeError(f"{cls.__name__} has no slot {name}")


def _sum_decoder(desc: TypeDesc) -> Decoder:
    assert desc.sum is not None
    tag, what = desc.sum.tag, desc.sum.name
    members = desc.args
    # A file names few of a sum's constructors (Operator has 76): each constructor's decoder is
    # built when the first value of it is read, which keeps reading a small file fast.
    arity = [len(m.cls.__match_args__) + info_of(m.cls).proofs if m.kind is Kind.CTOR else 1
             for m in members]
    built: list[Decoder | None] = [None] * len(members)

    def member_decoder(ctor: int) -> Decoder:
        dec = built[ctor]
        if dec is None:
            member = members[ctor]
            dec = built[ctor] = (_fields_decoder(member.cls) if member.kind is Kind.CTOR
                                 else decoder(member))
        return dec

    by_head = {_tag_head(tag, ctor, n): ctor for ctor, n in enumerate(arity)}

    def dec_sum(r: Reader) -> Any:
        start = r.pos
        ctor = by_head.get(r.data[start:start + 4])
        if ctor is not None:
            r.pos = start + 4
            return (built[ctor] or member_decoder(ctor))(r)
        ctor = r.tagged(tag, -1, what)
        if ctor >= len(members):
            raise FormatError(f"malformed KLR data at byte {start}: {ctor} is not a "
                              f"constructor of {what}")
        n = arity[ctor]
        if r.data[start + 3] != 0x80 | n:
            raise FormatError(f"malformed KLR data at byte {start}: {what}.{desc.ctor_names[ctor]} "
                              f"should have {n} fields, the header says {r.data[start + 3] & 0x1F}")
        return member_decoder(ctor)(r)

    return dec_sum


def decode(data: bytes, tp: Any, *, whole: bool = True) -> Any:
    """Decode one value of type ``tp``; with ``whole``, trailing bytes are an error."""
    r = Reader(bytes(data))
    value = decode_from(r, tp)
    if whole and not r.at_end():
        raise FormatError(f"malformed KLR data: {len(r.data) - r.pos} unexpected bytes after "
                          f"the value, at byte {r.pos}")
    return value


def decode_from(r: Reader, tp: Any) -> Any:
    # Decoding allocates one object per node and none of them can be cyclic garbage: the
    # cyclic collector's passes over the growing tree would cost up to half the time.
    try:
        with deep_recursion(), no_collection():
            return decoder(describe(tp))(r)
    except RecursionError:
        raise FormatError(f"malformed KLR data: values nest too deeply (near byte {r.pos})") from None
