"""Hostile inputs for bench/fuzz.py: mutated KLR files, hostile Python sources, hostile .npy
files and file-system objects that are not regular files.

Every generator takes a seeded ``random.Random`` and returns plain data plus a short tag that
names what it did (the tag groups findings). Nothing here reads the clock or depends on the
hash seed, so a generator gives the same case for the same ``Random`` state on every machine.
"""

from __future__ import annotations

import io
import math
import os
import random
import zipfile
from collections.abc import Sequence
from pathlib import Path

# ---- KLR files (CBOR) -------------------------------------------------------------------------

# Bytes that mean something to a CBOR reader: heads of every major type with 1/2/4/8-byte
# arguments, indefinite lengths, break, simple values, the tags KLR uses.
INTERESTING = (0x00, 0x01, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1F, 0x20, 0x38, 0x3B, 0x40, 0x5B, 0x5F,
               0x60, 0x7B, 0x7F, 0x80, 0x81, 0x9B, 0x9F, 0xA0, 0xBB, 0xBF, 0xC0, 0xD8, 0xD9, 0xDB,
               0xF4, 0xF5, 0xF6, 0xF7, 0xF9, 0xFA, 0xFB, 0xFF)
HUGE = (2**31 - 1, 2**32 - 1, 2**63, 2**64 - 1, 10**9, 10**12)


def _head(major: int, value: int) -> bytes:
    """A CBOR head with an 8-byte argument (or 4 when it fits), however large the value."""
    if value < 2**32:
        return bytes((major << 5 | 26,)) + value.to_bytes(4, "big")
    return bytes((major << 5 | 27,)) + value.to_bytes(8, "big")


def mutate_bytes(data: bytes, rng: random.Random, pool: Sequence[bytes] = ()) -> tuple[bytes, str]:
    """One to four mutations of ``data``: bit flips, interesting bytes, truncation, chunk
    deletion/duplication, splices from ``pool``, huge length heads, deep nesting."""
    out = bytearray(data)
    ops: list[str] = []
    for _ in range(rng.choice((1, 1, 2, 3, 4))):
        op = rng.choice(("flip", "flip", "byte", "truncate", "delete", "duplicate", "insert", "splice",
                         "length", "nest", "tag"))
        ops.append(op)
        at = rng.randrange(len(out) + 1)
        if op == "flip" and out:
            at = min(at, len(out) - 1)
            out[at] ^= 1 << rng.randrange(8)
        elif op == "byte" and out:
            out[min(at, len(out) - 1)] = rng.choice(INTERESTING)
        elif op == "truncate":
            del out[at:]
        elif op == "delete":
            del out[at:at + rng.choice((1, 2, 4, 16, 256))]
        elif op == "duplicate":
            chunk = out[at:at + rng.choice((1, 8, 64, 1024))]
            out[at:at] = chunk * rng.choice((1, 2, 100))
        elif op == "insert":
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.choice((1, 2, 9))))
        elif op == "splice" and pool:
            other = rng.choice(pool)
            start = rng.randrange(len(other) + 1)
            out[at:] = other[start:start + rng.choice((9, 100, len(other)))]
        elif op == "length":
            out[at:at + 1] = _head(rng.choice((2, 3, 4, 5, 6)), rng.choice(HUGE))
        elif op == "nest":
            out[at:at] = rng.choice((b"\x81", b"\x9f", b"\xa1\x00", b"\xd9\xec\x00\x81")) * \
                rng.choice((100, 10_000, 200_000))
        elif op == "tag":
            out[at:at] = bytes((0xD9, rng.choice((0xEB, 0xEC, 0xD9, 0x00)), rng.randrange(256)))
    return bytes(out), "+".join(sorted(set(ops)))


# ---- Python sources --------------------------------------------------------------------------

BODY = "def kernel(a=1):\n    x = [a, 2]\n    return x\n"
ENCODINGS = ("rot13", "hex", "uu", "zlib_codec", "bz2_codec", "base64", "quopri", "utf-16", "utf-16-be",
             "utf-32", "utf-7", "punycode", "idna", "unicode_escape", "raw_unicode_escape", "latin-1",
             "cp037", "ascii", "utf-8-sig", "no-such-codec", "undefined", "mbcs", "x" * 300)


def _encoded(body: str, encoding: str, rng: random.Random) -> bytes:
    """``body`` under a coding cookie, encoded in that encoding when Python can."""
    text = f"# -*- coding: {encoding} -*-\n{body}"
    choice = rng.randrange(3)
    if choice == 0:
        return text.encode("utf-8")
    try:
        return text.encode(encoding) if choice == 1 else b"\xef\xbb\xbf" + text.encode("utf-8")
    except (LookupError, UnicodeError, TypeError, ValueError):
        return text.encode("utf-8")


def _nested(rng: random.Random) -> str:
    n = rng.choice((50, 100, 200, 1000, 5000, 100_000))
    expr = rng.choice((
        "(" * n + "1" + ")" * n, "[" * n + "]" * n, "-" * n + "1", "not " * n + "a",
        "lambda: " * n + "0", "a." * n + "b", "f(" * n + ")" * n, "x" + "[0]" * n,
        "{" * n + "}" * n, "1 + " * n + "1", "(a if a else " * n + "0" + ")" * n,
        "[" * n + "1" + "]" * n, "'{}'.format(" * n + "1" + ")" * n,
    ))
    return f"def kernel(a=1):\n    return {expr}\n"


def _indented(rng: random.Random) -> str:
    n = rng.choice((50, 99, 100, 101, 1000))
    lines = ["def kernel(a=1):"]
    for i in range(n):
        lines.append(" " * (i + 1) + "if a:")
    lines.append(" " * (n + 1) + "return a")
    return "\n".join(lines) + "\n"


def _huge_literal(rng: random.Random) -> str:
    n = rng.choice((4301, 10**5, 10**6, 10**7))
    lit = rng.choice(("1" * n, "'" + "a" * n + "'", "b'" + "a" * n + "'", "1e" + "9" * min(n, 10**5),
                      "0x" + "f" * n, "1" + "_0" * (n // 2), "f'{" + "1" * n + "}'", "'\\x00' * " + "9" * 30))
    return f"def kernel(a=1):\n    return {lit}\n"


def _many(rng: random.Random) -> str:
    """Many statements, functions or list items: big, but linear work (gather takes about a
    millisecond per statement, so sizes stay where a case takes seconds, not minutes)."""
    n = rng.choice((10**3, 10**4))
    kind = rng.randrange(3)
    if kind == 0:
        return "def kernel(a=1):\n" + "    a = a + 1\n" * n + "    return a\n"
    if kind == 1:
        return "".join(f"def f{i}(a):\n    return f{i + 1}(a)\n" for i in range(n // 10)) + \
            f"def f{n // 10}(a):\n    return a\ndef kernel(a=1):\n    return f0(a)\n"
    return "def kernel(a=1):\n    return [" + ", ".join("a" for _ in range(n * 5)) + "]\n"


def _bytes_noise(rng: random.Random) -> bytes:
    body = bytearray(BODY.encode())
    for _ in range(rng.choice((1, 2, 5))):
        at = rng.randrange(len(body) + 1)
        body[at:at] = rng.choice((b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\r", b"\x0c", b"\x0b",
                                  b"\xe2\x80\xa8", b"\t", b"\x1a", b"\xef\xbb\xbf", b"\\"))
    return bytes(body)


SYNTAX = (
    "async def kernel(a=1):\n    return a\n",
    "def kernel(a=1):\n    yield a\n",
    "def kernel(a=1):\n    match a:\n        case 1:\n            return 2\n    return 3\n",
    "type T = int\ndef kernel(a=1):\n    return a\n",
    "def kernel[T](a=1):\n    return a\n",
    "def kernel(a=1):\n    try:\n        pass\n    except* ValueError:\n        pass\n",
    "def kernel(a=1):\n    return (b := a)\n",
    "def kernel(a=1):\n    global kernel\n    kernel = 1\n    return a\n",
    "kernel = lambda a=1: a\n",
    "kernel = 1\n",
    "class kernel:\n    pass\n",
    "def kernel(a=1):\n    return a\ndef kernel(a=1):\n    return a + 1\n",
    "if True:\n    def kernel(a=1):\n        return a\n",
    "@(lambda f: f)\n@undefined.jit(grid=[1] * 10**6)\ndef kernel(a=1):\n    return a\n",
    "def kernel(a=1, /, b=2, *c, d, **e):\n    return a\n",
    "def kernel(a=1):\n    return f'{a!r:{a}}{a=}'\n",
    "def kernel(a=1):\n    del a\n    return a\n",
    "def kernel(a=1):\n    def inner():\n        nonlocal a\n        a = 2\n    inner()\n    return a\n",
    "def kernel(a=1):\n    return __import__('os').system('true')\n",
    "import os\nfrom os import path as kernel\n",
    "from . import nothing\ndef kernel(a=1):\n    return nothing\n",
    "from __future__ import braces\n",
    "import kernel\ndef kernel(a=1):\n    return kernel\n",
    "ﬁ = 1\ndef kernel(a=1):\n    return ﬁ + fi\n",
    "def kernel(a=1):\n\treturn a\n        pass\n",
    "\\\n",
    "def kernel(a=1):\n    return '\\N{NO SUCH NAME}'\n",
    "def kernel(a=1):\n    return 1 if else 2\n",
    "def kernel(a=1):\n    x: int = a\n    return x\n",
    "def kernel(a=1):\n    with a as (b, c):\n        return b\n",
)


def hostile_source(rng: random.Random, canary: str) -> tuple[dict[str, bytes], str]:
    """Files of a kernel directory (``kernel.py`` and maybe user modules) and a tag.

    ``canary`` is a path: a user module whose top level would create it is gathered (gather
    reads modules, it must never run them)."""
    kind = rng.choice(("coding", "nested", "indented", "literal", "many", "bytes", "syntax", "modules"))
    files: dict[str, bytes] = {}
    if kind == "coding":
        enc = rng.choice(ENCODINGS)
        files["kernel.py"] = _encoded(BODY, enc, rng)
        kind = f"coding-{enc[:20]}"
    elif kind == "nested":
        files["kernel.py"] = _nested(rng).encode()
    elif kind == "indented":
        files["kernel.py"] = _indented(rng).encode()
    elif kind == "literal":
        files["kernel.py"] = _huge_literal(rng).encode()
    elif kind == "many":
        files["kernel.py"] = _many(rng).encode()
    elif kind == "bytes":
        files["kernel.py"] = _bytes_noise(rng)
    elif kind == "syntax":
        files["kernel.py"] = rng.choice(SYNTAX).encode()
    else:
        files["helper_a.py"] = (f"import helper_b\nopen({canary!r}, 'w').write('ran')\n"
                                "def f(x):\n    return helper_b.g(x)\n").encode()
        files["helper_b.py"] = b"import helper_a\ndef g(x):\n    return helper_a.f(x) if x else 0\n"
        files["kernel.py"] = rng.choice((
            b"import helper_a\ndef kernel(a=1):\n    return helper_a.f(a)\n",
            b"from helper_a import *\ndef kernel(a=1):\n    return f(a)\n",
            b"import helper_a as kernel\n",
            b"from helper_b import g as kernel\n",
        ))
    return files, kind


def mutate_text(text: str, rng: random.Random) -> tuple[str, str]:
    """Line- and character-level edits of Python source: delete, duplicate or swap lines,
    insert or delete characters, replace a token."""
    lines = text.splitlines(keepends=True)
    ops = []
    for _ in range(rng.choice((1, 2, 3))):
        op = rng.choice(("delete", "duplicate", "swap", "char", "uncomment", "token"))
        ops.append(op)
        i = rng.randrange(len(lines)) if lines else 0
        if op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "char" and lines:
            line = lines[i]
            at = rng.randrange(len(line) + 1)
            if rng.random() < 0.5:
                lines[i] = line[:at] + rng.choice("()[]{}:,.=+-*/'\"\\#@ \t0a_") + line[at:]
            else:
                lines[i] = line[:at] + line[at + 1:]
        elif op == "uncomment" and lines:
            lines[i] = lines[i].replace("#", "", 1).replace('"""', "", 1)
        elif op == "token" and lines:
            old = rng.choice(("x", "nl", "shape", "0", "1", "(", "[", "def", "return", "for", "in", "="))
            new = rng.choice(("None", "...", "*", "lambda", "await", "yield", "nl.nl", "2**64", "-",
                              "__class__"))
            lines[i] = lines[i].replace(old, new, 1)
    return "".join(lines), "+".join(sorted(set(ops)))


# ---- .npy files ------------------------------------------------------------------------------

def npy(header: str, data: bytes = b"", version: tuple[int, int] | None = None,
        hlen: int | None = None) -> bytes:
    """A .npy file with this header text (padded as numpy pads it) and raw data; the version is
    1.0 unless the header needs the 4-byte length of 2.0."""
    version = version or ((1, 0) if len(header) < 65000 else (2, 0))
    text = header.encode("utf-8" if version[0] >= 3 else "latin-1")
    pre = 10 if version[0] == 1 else 12
    text += b" " * ((-(pre + len(text) + 1)) % 64) + b"\n"
    n = len(text) if hlen is None else hlen
    size = n.to_bytes(2 if version[0] == 1 else 4, "little")
    return b"\x93NUMPY" + bytes(version) + size + text + data


def _dict(descr: str, shape: str, fortran: str = "False") -> str:
    return f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}"


def hostile_npy(rng: random.Random, shape: tuple[int, ...], descr: str = "'<f4'") -> tuple[bytes, str]:
    """A hostile stand-in for an input of this shape and dtype."""
    good = _dict(descr, repr(shape))
    size = 4 * math.prod(shape)
    kind = rng.choice(("empty", "magic", "npz", "shape", "hlen", "header", "descr", "version", "data",
                       "fortran", "dims"))
    if kind == "empty":
        return rng.choice((b"", b"\x93", b"\x93NUMPY")), kind
    if kind == "magic":
        return rng.choice((b"PK\x03\x04" + bytes(60), b"\x93NUMPY\x01\x00", b"\x93NUMPX" + bytes(80),
                           b"\x80\x04K\x01.")), kind
    if kind == "npz":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("x.npy", npy(good, bytes(size)))
        return buf.getvalue(), kind
    if kind == "shape":
        bad = rng.choice(("(99999999999,)", "(2**62,)", "(-1,)", f"({2**62}, {2**62})", "(1000000, 1000000)",
                          "(1.5,)", "('a',)", "(" + "1, " * 100 + ")", "()", "(0,)", "None"))
        return npy(_dict(descr, bad), bytes(64)), kind
    if kind == "hlen":
        return npy(good, bytes(16), version=(2, 0), hlen=rng.choice((0, 0xFFFFFFF0, 2**31, 65))), kind
    if kind == "header":
        bad = rng.choice(("{", "", "[1, 2]", "(" * 100_000 + ")" * 100_000, "__import__('os').getcwd()",
                          "{'descr': '<f4'}", good.replace("'shape'", "'shapes'"), "{1: 2}",
                          good + "\x00", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                          "\xff" * 10))
        return npy(bad, bytes(size)), kind
    if kind == "descr":
        bad = rng.choice(("'O'", "'|V2'", "'<U10'", "[('a', '<f4')]", "'|S0'", "'>f4'", "'<f2'", "'|b1'",
                          "'<c8'", "'<M8[s]'", "'<f8'", "'|i1'", "'xyz'", "[('a', '<f4', (2**40,))]"))
        return npy(_dict(bad, repr(shape)), bytes(size * 2)), kind
    if kind == "version":
        version = rng.choice(((2, 0), (3, 0), (9, 9), (0, 0)))
        return npy(good, bytes(size), version=version), kind
    if kind == "data":
        return npy(good, bytes(rng.choice((0, size // 2, size - 1, size + 1, size * 2)))), kind
    if kind == "fortran":
        return npy(_dict(descr, repr(shape), rng.choice(("True", "1", "'yes'"))), bytes(size)), kind
    dims = rng.choice(((), (1,), (*shape, 1), shape[::-1], (0, *shape[1:])))
    count = math.prod(dims)
    return npy(_dict(descr, repr(dims)), bytes(4 * count)), kind


# ---- file-system objects ---------------------------------------------------------------------

SPARSE_SIZE = 8 << 30


HOSTILE_FILES = ("fifo.klr", "huge.klr", "huge.npy", "huge.py", "huge.json", "dir.klr", "dir.npy",
                 "link-fifo.npy", "link-huge.klr", "dangling.klr", "loop-a.klr", "digits.json", "deep.json",
                 "new\nline.py", "-o")


def make_hostile_files(d: Path) -> None:
    """``HOSTILE_FILES`` in ``d``: a FIFO, huge sparse files, directories named like files,
    symlinks (to them, dangling, in a loop), JSON that is too long or too deep, odd names."""
    os.mkfifo(d / "fifo.klr")
    for name in ("huge.klr", "huge.npy", "huge.py", "huge.json"):
        with open(d / name, "wb") as f:
            f.truncate(SPARSE_SIZE)
    (d / "dir.klr").mkdir()
    (d / "dir.npy").mkdir()
    os.symlink("fifo.klr", d / "link-fifo.npy")
    os.symlink("huge.klr", d / "link-huge.klr")
    os.symlink("missing-target", d / "dangling.klr")
    os.symlink("loop-b.klr", d / "loop-a.klr")
    os.symlink("loop-a.klr", d / "loop-b.klr")
    (d / "digits.json").write_text("[" + "9" * 100_000 + "]")
    (d / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (d / "new\nline.py").write_text("def f():\n    return 1\n")
    (d / "-o").write_text("")
