"""Attack kernels for bench/fuzz.py: programs that try to leave the tracer's sandbox or to
exhaust its memory, time or stack, and programs whose result could depend on the hash seed.

A kernel may only ever reach klr's own values (docs/trace.md). An escape shows as a host
object in what the trace produces: ``HOST_MARKERS`` (addresses, host module and klr-internal
names, dictionary keys of a module's globals), the value of the canary environment variable,
or the canary file a library's constructor creates when it is loaded. Every generator takes a
seeded ``random.Random`` and returns ``(source, grid, tag)``; the tag names the attack family.
"""

from __future__ import annotations

import random
import re

CANARY_ENV = "KLR_FUZZ_CANARY"
"""Planted in the environment of every case; its value must never show in anything klr writes."""

HOST_MARKERS = re.compile(
    r" at 0x[0-9a-fA-F]{4,}|<module '[^']*' (?:from|\(built-in\)|\(frozen\))|'__(?:builtins|loader|spec|"
    r"file|doc|name|package)__':|\bklr\.(?:tracer|interp|python|format|core|cli|errors|schema)\b|"
    r"<(?:CDLL|bound method|cell|code object|frame|slot wrapper|method-wrapper|mappingproxy|"
    r"wrapper_descriptor|function \w+\.<locals>)|site-packages|environ\(\{|<class 'klr\.|"
    r"<class '(?:type|object|function|builtin_function_or_method)'>")
"""Text only a host Python object prints as (klr's own values print differently)."""

PRELUDE = """\
import math
import numpy as np
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


def helper(x):
    return x


class Box:
    def __init__(self):
        self.v = 1


@nki.jit
def kernel():
"""

OBJECTS = ("print", "len", "helper", "Box", "Box()", "nl", "np", "math", "nl.add", "np.zeros", "[1]",
           "{'a': 1}", "'s'", "1", "1.5", "range(3)", "type(1)", "(lambda: 0)", "nl.float32", "str",
           "getattr", "[].append", "'s'.format", "nki.jit", "kernel", "super", "nl.sbuf", "True", "None",
           "np.zeros((1,))", "nl.ndarray((1, 1), dtype=nl.float32, buffer=nl.sbuf)", "Ellipsis")
ATTRS = ("__init__", "__globals__", "__class__", "__mro__", "__subclasses__", "__base__", "__bases__",
         "__dict__", "__module__", "__self__", "__func__", "__code__", "co_consts", "co_filename",
         "__builtins__", "__closure__", "cell_contents", "__doc__", "__name__", "__qualname__",
         "__spec__", "__loader__", "__call__", "__getattribute__", "__reduce_ex__", "__wrapped__",
         "f_globals", "gi_frame", "__objclass__", "shape", "dtype", "os", "sys", "modules", "environ",
         "__defaults__", "__kwdefaults__", "__annotations__", "real", "__format__", "__repr__")
ITEMS = ("0", "1", "-1", "inspect", "sys", "os", "ctypes", "__builtins__", "__import__", "open",
         "numpy", "builtins", "klr", "a")


def _chains(canary_lib: str | None) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Walks known to reach the host from ``print`` (issue 8) and their relatives."""
    a, i = "attr", "item"
    chains = [
        ((a, "__init__"), (a, "__globals__"), (i, "inspect"), (a, "os"), (a, "environ"), (i, CANARY_ENV)),
        ((a, "__init__"), (a, "__globals__"), (i, "sys"), (a, "modules"), (i, "os"), (a, "environ"),
         (i, CANARY_ENV)),
        ((a, "__init__"), (a, "__globals__")),
        ((a, "__class__"), (a, "__mro__"), (i, "1"), (a, "__subclasses__")),
        ((a, "__globals__"), (i, "__builtins__")),
        ((a, "__self__"),),
        ((a, "__call__"), (a, "__self__")),
        ((a, "__func__"), (a, "__globals__")),
        ((a, "__code__"), (a, "co_filename")),
        ((a, "__class__"), (a, "__init__"), (a, "__globals__")),
        ((a, "__spec__"),),
        ((a, "__dict__"),),
    ]
    if canary_lib:
        chains.append(((a, "__init__"), (a, "__globals__"), (i, "inspect"), (a, "sys"), (a, "modules"),
                       (i, "ctypes"), (a, "cdll"), (i, canary_lib)))
    return tuple(chains)


def _field(chain: tuple[tuple[str, str], ...]) -> str:
    """The chain in str.format field syntax: ``.attr`` and ``[key]`` (keys unquoted)."""
    return "".join(f".{v}" if k == "attr" else f"[{v}]" for k, v in chain)


def _python(obj: str, chain: tuple[tuple[str, str], ...]) -> str:
    """The chain as a Python expression."""
    out = obj
    for k, v in chain:
        out += f".{v}" if k == "attr" else (f"[{v}]" if v.lstrip("-").isdigit() else f"[{v!r}]")
    return out


def _walk(rng: random.Random, canary_lib: str | None) -> tuple[list[str], str]:
    if rng.random() < 0.5:   # the walks issue 8 found, from the object they start at, in format fields
        obj, chain = "print", rng.choice(_chains(canary_lib))
        spelling = rng.choice(("format", "format-kw", "format-auto", "format-spec", "nested-spec"))
    else:
        obj = rng.choice(OBJECTS)
        chain = tuple(("attr", rng.choice(ATTRS)) if rng.random() < 0.7 else ("item", rng.choice(ITEMS))
                      for _ in range(rng.randint(1, 5)))
        spelling = rng.choice(("format", "format-kw", "format-auto", "format-map", "format-spec",
                               "nested-spec", "fstring", "getattr", "percent", "builtin-format", "str",
                               "repr", "type"))
    fld = _field(chain)
    py = _python(obj, chain)
    expr = {
        "format": f"'{{0{fld}}}'.format({obj})",
        "format-kw": f"'{{x{fld}!r}}'.format(x={obj})",
        "format-auto": f"'{{{fld}}}'.format({obj})" if fld[:1] in ".[" else f"'{{0{fld}}}'.format({obj})",
        "format-map": f"'{{x{fld}}}'.format_map({{'x': {obj}}})",
        "format-spec": f"'{{0{fld}!s:>12}}'.format({obj})",
        "nested-spec": f"'{{0:{{1{fld}}}}}'.format(1, {obj})",
        "fstring": f"f'{{{py}!r}}'",
        "getattr": _getattrs(obj, chain),
        "percent": f"'%s %r' % ({py}, {obj})",
        "builtin-format": f"format({py}, '')",
        "str": f"str({py})",
        "repr": f"repr({py})",
        "type": f"str(type({obj}).__mro__)",
    }[spelling]
    sink = rng.choice(("print(v)", "print(repr(v))",
                       "t = nl.ndarray((1, 1), dtype=nl.float32, buffer=nl.shared_hbm, name=str(v))",
                       "assert False, v", "print(len(str(v)))"))
    return [f"v = {expr}", sink], f"walk-{spelling}"


def _getattrs(obj: str, chain: tuple[tuple[str, str], ...]) -> str:
    out = obj
    for k, v in chain:
        out = f"getattr({out}, {v!r})" if k == "attr" else f"{out}[{v!r}]"
    return out


ESCAPES = (  # direct reaches for host functionality
    "v = __import__('os').environ", "v = globals()", "v = locals()", "v = vars(helper)", "v = dir(print)",
    "v = eval('1 + 1')", "exec('v = 1')", "v = open('/etc/hostname').read()", "v = compile('1', 'f', 'eval')",
    "v = ().__class__.__base__.__subclasses__()", "v = type('X', (), {})", "v = object.__subclasses__()",
    "v = id(print)", "v = hash('abc')", "v = np.load", "v = np.lib", "v = np.ctypeslib", "v = nl.__dict__",
    "v = math.__loader__", "v = getattr(np, 'fromfile')", "v = super().__self__", "v = print.__self__",
    "setattr(nl, 'add', print)\n    v = nl.add", "nl.add = len\n    v = nl.add", "v = kernel.__globals__",
    "v = helper.__code__", "v = Box.__dict__", "v = Box().__dict__", "v = Box.__init__.__globals__",
    "v = type(Box())", "v = type(print)", "v = type(nl)", "v = memoryview(b'x')", "v = bytearray(4)",
    "v = input()", "v = help", "v = breakpoint()", "v = iter([1]).__reduce__()", "v = [].__class__",
    "v = np.zeros((1,)).__array_interface__", "v = np.zeros((1,)).ctypes", "v = nl.ndarray.__init__",
)


# Blow-ups: {n} is a size (SIZES in the fuzzer), {k} a repeat count (COUNTS).
BLOWUPS = {
    "concat": "s = 'ab'\nfor _ in range({k}):\n    s = s + s\nprint(len(s))",
    "concat-list": "x = [1, 2]\nfor _ in range({k}):\n    x = x + x\nprint(len(x))",
    "imul-list": "x = [1]\nfor _ in range({k}):\n    x *= 2\nprint(len(x))",
    "zfill": "print(len('1'.zfill({n})))", "ljust": "print(len('x'.ljust({n})))",
    "center": "print(len('x'.center({n}, '-')))", "rjust": "print(len('x'.rjust({n})))",
    "expandtabs": "print(len('\\t'.expandtabs({n})))",
    "to-bytes": "print(len((1).to_bytes({n}, 'big')))",
    "format-width": "print(len('{{:>{n}}}'.format(1)))", "fstring-width": "print(len(f'{{1:>{n}}}'))",
    "format-nested-width": "print(len('{{0:{{1}}}}'.format(1, {n})))",
    "builtin-format-width": "print(len(format(1, '>{n}')))", "percent-width": "print(len('%{n}d' % 1))",
    "percent-star": "print(len('%*d' % ({n}, 1)))", "percent-precision": "print(len('%.{n}f' % 1.5))",
    "format-precision": "print(len('{{:.{n}f}}'.format(1.5)))",
    "replace": "s = 'aa'\nfor _ in range({k}):\n    s = s.replace('a', s)\nprint(len(s))",
    "replace-empty": "print(len('ab'.replace('', 'x' * {n})))",
    "join": "print(len(','.join(['ab'] * {n})))", "str-mul": "print(len('ab' * {n}))",
    "list-mul": "print(len([0] * {n}))", "tuple-mul": "print(len((0,) * {n}))",
    "grid-list": "x = [[0] * 10**7 for _ in range(200)]\nprint(len(x))",
    "square": "x = 2 ** 500000\nfor _ in range({k}):\n    x = x * x\nprint(x % 7)",
    "power": "print(10 ** {n} % 7)", "shift": "print((1 << {n}) % 7)", "pow": "print(pow(10, {n}) % 7)",
    "factorial": "print(math.factorial({n}) % 7)", "comb": "print(math.comb({n}, {n} // 2) % 7)",
    "prod": "print(math.prod(range(1, {n})) % 7)", "lcm": "print(math.lcm(*range(1, {n})) % 7)",
    "int-str": "print(len(str(10 ** 100000)))", "str-int": "print(int('9' * {n}) % 7)",
    "range-list": "print(len(list(range({n}))))", "range-sum": "print(sum(range({n})))",
    "sorted": "print(len(sorted(range({n}))))", "dict-comp": "print(len({{i: i for i in range({n})}}))",
    "str-list": "print(len(str(list(range({n})))))",
    "deep-list": "x = []\nfor _ in range({n}):\n    x = [x]\nprint(x)",
    "deep-list-eq": "x = []\ny = []\nfor _ in range({n}):\n    x = [x]\n    y = [y]\nprint(x == y)",
    "deep-tuple": "x = ()\nfor _ in range({n}):\n    x = (x,)\nprint(len(str(x)))",
    "deep-dict": "x = {{}}\nfor _ in range({n}):\n    x = {{1: x}}\nprint(x)",
    "self-list": "x = []\nx.append(x)\nprint(x)\nprint(x == x)",
    "self-dict": "d = {{}}\nd['a'] = d\nprint(d)",
    "recursion": "def f(n):\n    return f(n - 1) + 1 if n else 0\nprint(f({n}))",
    "recursion-wide": "def f(n):\n    return 0 if n == 0 else f(n - 1) + f(n - 1) + f(n - 1)\nprint(f(40))",
    "recursion-lambda": "f = lambda n: f(n - 1) if n else 0\nprint(f({n}))",
    "while-true": "while True:\n    pass", "range-loop": "for i in range({n}):\n    pass",
    "while-count": "i = 0\nwhile i < {n}:\n    i += 1",
    "nested-loops": "c = 0\nfor i in range(3000):\n    for j in range(3000):\n        c += 1\nprint(c)",
    "identity": "t = nl.shared_identity_matrix({n})",
    "ndarray": "t = nl.ndarray(({n}, {n}), dtype=nl.float32, buffer=nl.shared_hbm)",
    "affine-range": "for i in nl.affine_range({n}):\n    t = nl.ndarray((1, 1), dtype=nl.float32)",
    "np-zeros": "x = np.zeros(({n}, {n}))\nprint(x.shape)",
    "np-arange": "x = np.arange({n})\nprint(x.shape)",
    "sum-lists": "print(len(sum([[1]] * 10**5, [])))",
    "repr-nul": "print(len(repr('\\x00' * {n})))",
}
SIZES = (10**3, 10**5, 10**7, 10**9, 10**11)
COUNTS = (10, 30, 40, 64)
HUGE_GRIDS = ((100000, 100000), (2**31,), (10**4, 10**4, 10**4))


def blowup(name: str, n: int = 10**11, k: int = 40) -> list[str]:
    """The statements of blow-up ``name`` for size ``n`` and count ``k``."""
    return BLOWUPS[name].format(n=n, k=k).split("\n")


def kernel_source(lines: list[str] | tuple[str, ...]) -> str:
    """An attack kernel (no arguments) with these statements."""
    return PRELUDE + "".join(f"    {ln}\n" for ln in lines)


NAMED_OUTPUT = """\
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


@nki.jit
def kernel(x):
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm, name={name!r})
    nl.store(out, value=nl.load(x))
    return out
"""
"""A kernel whose output tensor, and so ``klr eval``'s output file, is named ``{name}``."""

HOSTILE_NAMES = ("../escaped", "../../escaped", "a/b", "a\x00b", "a\nb", "", ".", "..", "x" * 300,
                 "out.npy", ".hidden", "~", "a/../../b", "..\\x", " ", "-", "x.npy/..", "sub/", "/", "\udcff")

BIG_INPUTS = """\
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl


@nki.jit
def kernel(a, b, c, d):
    out = nl.ndarray((1, 1), dtype=nl.float32, buffer=nl.shared_hbm)
    return out
"""
"""Four inputs of any size for ``klr eval --random``; the kernel never reads them."""


def attack(rng: random.Random, canary_lib: str | None = None) -> tuple[str, tuple[int, ...] | None, str]:
    """One attack kernel: a host walk, a direct reach, a blow-up, or a huge launch grid."""
    lines = ["np.zeros((1,))"] if rng.random() < 0.5 else []
    grid = None
    kind = rng.choice(("walk", "walk", "escape", "blowup", "blowup", "blowup", "grid"))
    if kind == "walk":
        more, tag = _walk(rng, canary_lib)
    elif kind == "escape":
        more = [rng.choice(ESCAPES), "print(v)"]
        tag = "escape"
    elif kind == "blowup":
        name = rng.choice(list(BLOWUPS))
        more = blowup(name, rng.choice(SIZES), rng.choice(COUNTS))
        tag = f"blowup-{name}"
    else:
        grid = rng.choice(HUGE_GRIDS)
        more = ["t = nl.ndarray((1, 1), dtype=nl.float32, buffer=nl.sbuf)"]
        tag = "grid"
    return kernel_source(lines + more), grid, tag


SET_EXPRS = ("{S}", "set({L})", "frozenset({L})", "{S} | {{'zz'}}", "{S} - {{'a'}}", "set('kernel')",
             "{{s.upper() for s in {S}}}", "set({{k: 1 for k in {L}}})", "{S} & set({L})")
SET_SINKS = ("print(list(X))", "print(X)", "print(', '.join(X))", "print([s for s in X])",
             "print(str(X))", "print(next(iter(X)))", "print(X.pop())", "print(list(enumerate(X)))",
             "print(tuple(X))", "print(sorted(X))", "print(hash('abc'))", "print(max(X))",
             "for s in X:\n    t = nl.ndarray((1, 1), dtype=nl.float32, buffer=nl.shared_hbm, name=s)")


def set_program(rng: random.Random) -> tuple[str, str]:
    """A kernel that builds a set of strings and lets its iteration order show (prints, tensor
    names); its Core file and output must not depend on ``PYTHONHASHSEED``."""
    words = rng.sample(("a", "b", "c", "x", "y", "zz", "alpha", "beta", "w1", "w2", "tile", "acc"), 6)
    expr = rng.choice(SET_EXPRS).format(S="{" + ", ".join(map(repr, words)) + "}", L=repr(words))
    sink = rng.randrange(len(SET_SINKS))
    return kernel_source([f"X = {expr}", *SET_SINKS[sink].split("\n")]), "set"
