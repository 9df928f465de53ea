"""What the KLR encoder (``klr.format.cbor``) reuses, and where it hands its bytes on.

* Encodings cached by identity. A traced kernel shares many sub-nodes between statements (a
  tile's ``TensorName``, access patterns, positions, the pair lists of one shape; operators, once
  loop iterations are stamped out of a template). IR nodes are frozen, so the bytes of a node
  never change: the encoder keeps them under the node's ``id`` (holding the node, so the id is
  not reused) and writes them again for the next occurrence. The tables are bounded and emptied
  after each file.
* Writing in pieces. ``Chunks`` is an encoder output that hands its bytes on to a sink (the
  temporary file of ``klr.files.write_output``) between statements, so a file of any size is
  written holding about ``CHUNK`` bytes of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from klr.errors import FormatError

Encoder = Callable[[Any, bytearray], None]


#: Where a streaming encoder (``Chunks``) hands its bytes on: between the items of a list of
#: these (statements of Core and of the Python AST, blocks, functions, classes). None of them
#: occurs inside a struct whose encoding is cached (``SHARED``), whose bytes must stay whole.
SPILL_AT = frozenset({"Stmt", "Block", "Fun", "Class"})

#: Bytes a streaming encoder collects before handing them on.
CHUNK = 1 << 20


class Chunks(bytearray):
    """An encoder's output that hands its bytes to ``sink`` whenever it holds ``size`` bytes
    or more at the end of an item of a ``SPILL_AT`` list, then starts empty again: encoding a
    large kernel into a file holds about ``size`` bytes instead of the whole file. ``sink``
    must use the bytes before it returns (they are overwritten afterwards)."""

    __slots__ = ("sink", "size")

    def __init__(self, sink: Callable[[bytearray], None], size: int = CHUNK) -> None:
        super().__init__()
        self.sink = sink
        self.size = size

    def spill(self) -> None:
        if self:
            self.sink(self)
            del self[:]


def spilling_list_encoder(item: Encoder, head: Callable[[int, int, bytearray], None]) -> Encoder:
    """The encoder of a list of ``SPILL_AT`` items (``item`` encodes one; ``head`` writes a
    CBOR head): a ``Chunks`` output may hand its bytes on after each item."""

    def enc_list(v: Any, out: bytearray) -> None:
        if not isinstance(v, (tuple, list)):
            raise FormatError(f"expected a list, got {type(v).__name__}")
        head(4, len(v), out)
        if type(out) is Chunks:
            size = out.size
            for x in v:
                item(x, out)
                if len(out) >= size:
                    out.spill()
        else:
            for x in v:
                item(x, out)

    return enc_list


#: Structs that a traced kernel repeats many times (every access names its tensor): their
#: encodings are cached by object identity, their decodings by byte span.
SHARED = frozenset({"TensorName", "BirAccessPattern", "AccessPattern", "AccessBasic", "Pos"})

#: Sums whose constructors' payloads (the operators) are cached from their second occurrence:
#: a tracer that stamps out loop iterations from a template shares them between statements.
SECOND_SIGHT = frozenset({"Operator", "TGROperator"})

#: Lists of these that the tracer shares between values (every tile's access pattern has the
#: same pairs): their encodings are cached by identity too.
SHARED_LISTS = frozenset({"APPair"})

#: The encodings of shared values by identity: (value, its bytes) under id(value); holding the
#: value keeps its id from being reused. Nodes are frozen, so an entry never goes stale; the
#: table is emptied when it reaches its limit and after each file (``forget``).
MEMO: dict[int, tuple[Any, bytearray]] = {}
MEMO_LIMIT = 1 << 12


def memo_encoder(enc: Encoder) -> Encoder:
    """``enc`` with its encodings cached by identity from a value's first occurrence."""
    memo = MEMO

    def enc_memo(v: Any, out: bytearray) -> None:
        hit = memo.get(id(v))
        if hit is not None and hit[0] is v:
            out += hit[1]
            return
        start = len(out)
        enc(v, out)
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[id(v)] = (v, out[start:])

    enc_memo.memo = enc  # type: ignore[attr-defined]  # marks a cached encoder for its callers
    return enc_memo


#: Values seen once by a ``second_sight`` encoder, by identity.
SEEN: dict[int, Any] = {}


def second_sight(enc: Encoder) -> Encoder:
    """``memo_encoder`` for values that are rarely shared today (operator payloads): a value's
    bytes are cached the second time it is written, so a value written once costs a look-up,
    not a copy of its bytes."""
    cached, seen = memo_encoder(enc), SEEN

    def enc_memo(v: Any, out: bytearray) -> None:
        if seen.get(id(v)) is v:
            cached(v, out)
            return
        if len(seen) >= MEMO_LIMIT:
            seen.clear()
        seen[id(v)] = v
        enc(v, out)

    enc_memo.memo = enc  # type: ignore[attr-defined]
    return enc_memo


def forget() -> None:
    """Empty the caches of encodings (the values they hold are freed with them)."""
    MEMO.clear()
    SEEN.clear()


def memo_hit(env: dict[str, Any], enc: str) -> list[str]:
    """Lines writing ``x`` from the cache when it holds it, through ``enc`` (which caches it)
    otherwise: a hit costs no call."""
    env["MEMO"] = MEMO
    return ["hit = MEMO.get(id(x))", "if hit is not None and hit[0] is x:", "    out += hit[1]",
            "else:", f"    {enc}(x, out)"]
