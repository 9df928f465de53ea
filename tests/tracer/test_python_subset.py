"""The Python subset the tracer evaluates, end to end: source -> gather -> engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from klr.errors import TraceError
from tests.tracer.util import error_of, run_ctx, run_src, where


def expr_value(tmp_path: Path, expr: str, prelude: str = "") -> Any:
    body = "".join(f"    {line}\n" for line in prelude.strip("\n").splitlines())
    return run_src(tmp_path, f"import math\nimport functools\n\ndef kernel():\n{body}    return {expr}\n")


@pytest.mark.parametrize(("expr", "expected"), [
    ("7 // 2, -7 // 2, 7 // -2, -7 % 2, 7 % -2, 7.5 // 2", (3, -4, -4, 1, -1, 3.0)),
    ("7 / 2, 2 ** 10, 2 ** -1, 1 << 4, 255 >> 3, 6 & 3, 6 | 3, 6 ^ 3, ~5",
     (3.5, 1024, 0.5, 16, 31, 2, 7, 5, -6)),
    ("-(3), +3, not 0, not [1]", (-3, 3, True, False)),
    ("1 < 2 < 3, 1 < 3 < 2, 1 == 1.0, 'a' != 'b', 2 >= 2 > 1", (True, False, True, True, True)),
    ("0 or [] or 'x', 1 and 0 and 2, None or 5, 3 and 4", ("x", 0, 5, 4)),
    ("1 if 0 else 2, 'y' if [0] else 'n'", (2, "y")),
    ("3 in [1, 2, 3], 'k' in {'k': 1}, 'b' in 'abc', 4 not in (1, 2), None is None, 1 is not None",
     (True, True, True, True, True, True)),
    ("[1, 2] + [3], (1,) * 3, 'ab' * 2, [0] * 2", ([1, 2, 3], (1, 1, 1), "abab", [0, 0])),
    ("(1, 2, 3)[-1], [1, 2, 3, 4][::-2], 'hello'[1:3], (1, 2, 3, 4)[1:None], [1, 2, 3][::]",
     (3, [4, 2], "el", (2, 3, 4), [1, 2, 3])),
    ("len((1, 2)), len('abc'), len({1: 2}), len(range(0, 10, 3))", (2, 3, 1, 4)),
    ("min(3, 1, 2), max([4, 9, 2]), min([], default=7), max('a', 'bb', key=len), sum([1, 2, 3], 10)",
     (1, 9, 7, "bb", 16)),
    ("any([0, 0, 1]), all([1, 0]), all([]), any(x > 2 for x in (1, 2, 3))", (True, False, True, True)),
    ("list(enumerate('ab', 1)), list(zip((1, 2), 'xy')), list(reversed([1, 2, 3]))",
     ([(1, "a"), (2, "b")], [(1, "x"), (2, "y")], [3, 2, 1])),
    ("sorted([3, 1, 2]), sorted(['bb', 'a'], key=len), sorted((1, 3, 2), reverse=True)",
     ([1, 2, 3], ["a", "bb"], [3, 2, 1])),
    ("list(map(lambda x: x * 2, [1, 2])), list(filter(None, [0, 1, 2])), list(map(max, [1, 5], [3, 2]))",
     ([2, 4], [1, 2], [3, 5])),
    ("abs(-3), divmod(7, 2), divmod(-7, 2), round(2.567, 2), round(2.5), pow(2, 5), pow(3, 2, 5)",
     (3, (3, 1), (-4, 1), 2.57, 2, 32, 4)),
    ("int('12'), int(3.9), float(2), bool([]), str(12), str(None), tuple([1, 2]), list('ab')",
     (12, 3, 2.0, False, "12", "None", (1, 2), ["a", "b"])),
    ("dict(a=1), dict([('x', 2)]), set([1, 1, 2]) == set([2, 1])", ({"a": 1}, {"x": 2}, True)),
    ("isinstance(3, int), isinstance(True, int), isinstance(3, (str, float)), isinstance([], list)",
     (True, True, False, True)),
    ("type(3) == int, type('s') is str, type([]).__name__", (True, True, "list")),
    ("getattr(slice(1, 5), 'stop'), hasattr((1,), 'count'), hasattr(3, 'nope'), getattr(3, 'x', 'd')",
     (5, True, False, "d")),
    ("math.ceil(7 / 2), math.floor(-0.5), math.sqrt(16), math.log2(8), math.prod([2, 3, 4]), "
     "math.gcd(12, 18)",
     (4, -1, 4.0, 3.0, 24, 6)),
    ("math.isqrt(17), math.pow(2, 3), math.exp(0), math.log(math.e), math.inf > 1e308, round(math.pi, 2)",
     (4, 8.0, 1.0, 1.0, True, 3.14)),
    ("functools.reduce(lambda a, b: a * b, [1, 2, 3, 4]), functools.reduce(lambda a, b: a + b, [], 5)",
     (24, 5)),
    ("functools.partial(lambda a, b, c=0: a - b + c, 10)(3, c=1)", 8),
    ("f'{1 + 1}-{\"s\"!r}-{3.5}-{[1]}', f'{7:>3}', f'{2.5:.2f}', f'{None}'",
     ("2-'s'-3.5-[1]", "  7", "2.50", "None")),
    ("[x * y for x in range(3) for y in (1, 10) if x]", [1, 10, 2, 20]),
    ("{k: len(k) for k in ('a', 'bb')}, tuple(i for i in range(3))", ({"a": 1, "bb": 2}, (0, 1, 2))),
    ("[*[1, 2], *(3,)], (0, *range(2))", ([1, 2, 3], (0, 0, 1))),
    ("'a,b'.split(','), '-'.join(['x', 'y']), 'Ab'.upper(), 'x{}'.format(3), 'abc'.startswith('a')",
     (["a", "b"], "x-y", "AB", "x3", True)),
    ("(1, 2, 2).count(2), [5, 6].index(6), range(10)[2:8:3], slice(1, None).start",
     (2, 1, range(2, 8, 3), 1)),
    ("{'a': 1}.get('b', 0), list({'a': 1, 'b': 2}.items()), list({'a': 1}.keys())",
     (0, [("a", 1), ("b", 2)], ["a"])),
])
def test_expressions(tmp_path: Path, expr: str, expected: Any) -> None:
    assert expr_value(tmp_path, expr) == expected


def test_dict_truthiness_is_pythons(tmp_path: Path) -> None:
    # The reference treats every dict as true; we follow Python.
    assert expr_value(tmp_path, "(bool({}), bool({1: 2}), 1 if {} else 2)") == (False, True, 2)


def test_assignment_forms(tmp_path: Path) -> None:
    src = """
    def kernel():
        a, (b, c), *d = 1, (2, 3), 4, 5
        e = f = [0, 0]
        e[0] = 9
        g: int = 3
        h: int
        [i, *j, k] = range(5)
        xs = [1, 2, 3]
        xs[1] += 10
        xs[0:2] = [7]
        n = 5
        n -= 2
        n *= 3
        n //= 2
        n **= 2
        s = 'a'
        s += 'b'
        d2 = {}
        d2['k'] = 1
        d2['k'] += 1
        return a, b, c, d, f, g, i, j, k, xs, n, s, d2
    """
    assert run_src(tmp_path, src) == (1, 2, 3, [4, 5], [9, 0], 3, 0, [1, 2, 3], 4, [7, 3], 16, "ab", {"k": 2})


def test_list_plus_equals_mutates_in_place(tmp_path: Path) -> None:
    src = """
    def kernel():
        xs = [1]
        ys = xs
        xs += [2]
        t = (1,)
        u = t
        t += (2,)
        return ys, u
    """
    assert run_src(tmp_path, src) == ([1, 2], (1,))


def test_control_flow(tmp_path: Path) -> None:
    src = """
    def kernel(n):
        out = []
        for i in range(n):
            if i == 1:
                continue
            elif i == 4:
                break
            else:
                out.append(i)
        else:
            out.append('no-break')
        for x in []:
            pass
        else:
            out.append('else')
        j = 0
        while j < 3:
            j += 1
        else:
            out.append(j)
        while True:
            j += 1
            if j > 5:
                break
        return out, j
    """
    assert run_src(tmp_path, src, 10) == ([0, 2, 3, "else", 3], 6)
    assert run_src(tmp_path, src, 3) == ([0, 2, "no-break", "else", 3], 6)


def test_iteration_over_any_iterable(tmp_path: Path) -> None:
    src = """
    def kernel():
        out = []
        for k in {'a': 1, 'b': 2}:
            out.append(k)
        for ch in 'xy':
            out.append(ch)
        for i, (a, b) in enumerate(zip((1, 2), (3, 4))):
            out.append(i + a * b)
        for v in reversed(range(2)):
            out.append(v)
        for k, v in {'z': 0}.items():
            out.append(k + str(v))
        return out
    """
    assert run_src(tmp_path, src) == ["a", "b", "x", "y", 3, 9, 1, 0, "z0"]


def test_return_from_nested_loops(tmp_path: Path) -> None:
    src = """
    def find(target):
        for i in range(5):
            for j in range(5):
                if i * j == target:
                    return i, j
        return None

    def kernel():
        return find(6), find(100)
    """
    assert run_src(tmp_path, src) == ((2, 3), None)


def test_calls_and_parameters(tmp_path: Path) -> None:
    src = """
    def f(a, b=2, *args, c, d=4, **kw):
        return a, b, args, c, d, kw

    def g(x, /, y):
        return x - y

    def kernel():
        return (f(1, c=3), f(1, 5, 6, 7, c=8, e=9), f(*[1, 2], **{'c': 0, 'd': 1}),
                g(5, y=1), g(*(9, 3)))
    """
    assert run_src(tmp_path, src) == (
        (1, 2, (), 3, 4, {}), (1, 5, (6, 7), 8, 4, {"e": 9}), (1, 2, (), 0, 1, {}), 4, 6)


def test_defaults_are_evaluated_once(tmp_path: Path) -> None:
    src = """
    def append(x, acc=[]):
        acc.append(x)
        return acc

    def kernel():
        append(1)
        return append(2)
    """
    assert run_src(tmp_path, src) == [1, 2]


def test_closures_see_later_bindings(tmp_path: Path) -> None:
    src = """
    def kernel():
        scale = 2
        def mul(x):
            return x * scale
        adders = [lambda x, k=k: x + k for k in range(3)]
        scale = 10
        def outer():
            n = 1
            def inner():
                return n + 1
            return inner
        return mul(3), [a(1) for a in adders], outer()()
    """
    assert run_src(tmp_path, src) == (30, [1, 2, 3], 2)


def test_recursion(tmp_path: Path) -> None:
    src = """
    def fact(n):
        return 1 if n <= 1 else n * fact(n - 1)

    def kernel():
        return fact(20)
    """
    assert run_src(tmp_path, src) == 2432902008176640000


def test_globals_and_cross_module_helpers(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("BASE = 100\n\ndef div_ceil(a, b):\n    return (a + b - 1) // b\n")
    src = """
    from helpers import div_ceil, BASE
    import helpers

    TILE = 128
    SHAPES = [(TILE, 2 * TILE)]
    TOTAL = TILE + BASE

    def kernel(n):
        return div_ceil(n, TILE), helpers.div_ceil(n, 2), SHAPES[0][1], TOTAL
    """
    assert run_src(tmp_path, src, 300) == (3, 150, 256, 228)


def test_global_lists_are_shared(tmp_path: Path) -> None:
    src = """
    REG = []

    def add(x):
        REG.append(x)

    def kernel():
        add(1)
        add(2)
        return REG
    """
    assert run_src(tmp_path, src) == [1, 2]


def test_plain_classes(tmp_path: Path) -> None:
    src = """
    class Acc:
        start = 10

        def __init__(self, k):
            self.k = k
            self.items = []

        def add(self, x):
            self.items.append(x * self.k)
            return self

        @property
        def total(self):
            return sum(self.items) + self.start

        @staticmethod
        def twice(x):
            return 2 * x

        @classmethod
        def make(cls):
            return cls(3)

        def __add__(self, other):
            return self.total + other

        def __getitem__(self, i):
            return self.items[i]

        def __len__(self):
            return len(self.items)

    class Sub(Acc):
        def __init__(self):
            super().__init__(5)

        def add(self, x):
            return super().add(x + 1)

    def kernel():
        a = Acc.make().add(1).add(2)
        s = Sub().add(0)
        a.k = 0
        return (a.total, Acc.twice(4), a + 1, a[1], len(a), Acc.start, s.items, isinstance(s, Acc),
                isinstance(a, Sub), a.k)
    """
    assert run_src(tmp_path, src) == (19, 8, 20, 6, 2, 10, [5], True, False, 0)


def test_dataclasses(tmp_path: Path) -> None:
    src = """
    from dataclasses import dataclass, field

    @dataclass
    class Config:
        tile: int
        bufs: int = 2
        names: list = field(default_factory=list)

        def __post_init__(self):
            self.size = self.tile * self.bufs

    @dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0

    def kernel():
        c = Config(128)
        d = Config(tile=64, bufs=3)
        c.names.append('a')
        return c.size, d.size, d.names, Point(1) == Point(1, 0), Point(1) == Point(2), repr(Point(1, 2))
    """
    assert run_src(tmp_path, src) == (256, 192, [], True, False, "Point(x=1, y=2)")


def test_dataclass_fields_outside_init_and_frozen_post_init(tmp_path: Path) -> None:
    src = """
    from dataclasses import dataclass, field

    @dataclass(frozen=True)
    class Ring:
        pairs: list = field(default_factory=list)
        ranks: list = field(init=False)
        hops: int = field(default=0, init=False)

        def __post_init__(self):
            object.__setattr__(self, 'ranks', sorted(set(a for p in self.pairs for a in p)))

    def kernel():
        r = Ring([(1, 0), (0, 2)])
        return r.ranks, r.hops, r.pairs, Ring().ranks
    """
    assert run_src(tmp_path, src) == ([0, 1, 2], 0, [(1, 0), (0, 2)], [])
    err = error_of(tmp_path, src.replace("Ring([(1, 0), (0, 2)])", "Ring([], [1])"), error=TraceError)
    assert err.message == "Ring() takes 1 positional arguments but 2 were given"
    err = error_of(tmp_path, src.replace("__setattr__(self,", "__setattr__(3,"), error=TraceError)
    assert err.message == "object.__setattr__(): cannot set attributes of a 'int' value"
    assert where(err) == (11, 9)


def test_enums(tmp_path: Path) -> None:
    src = """
    from enum import Enum, IntEnum, auto

    class Norm(Enum):
        NONE = 0
        RMS = 1
        LAYER = auto()

    class Level(IntEnum):
        LOW = 1
        HIGH = 5

    def kernel(n):
        m = Norm.RMS
        return (m.name, m.value, m == Norm.RMS, m is Norm.RMS, m != Norm.NONE, Norm.LAYER.value,
                Norm(0).name, Norm['RMS'] is m, [x.name for x in Norm], len(Norm),
                Level.HIGH + 1, Level.LOW < 3, isinstance(Level.LOW, int), n is Norm.NONE,
                {Norm.RMS: 'r'}[m], f'{m}')
    """
    assert run_src(tmp_path, src, None) == (
        "RMS", 1, True, True, True, 2, "NONE", True, ["NONE", "RMS", "LAYER"], 3, 6, True, True, False, "r",
        "Norm.RMS")


def test_namedtuple(tmp_path: Path) -> None:
    src = """
    from typing import NamedTuple

    class Shape(NamedTuple):
        p: int
        f: int = 1

    def kernel():
        s = Shape(128, 4)
        p, f = s
        return s.p, s[1], p * f, len(s), tuple(s), Shape(2)
    """
    value = run_src(tmp_path, src)
    assert value[:5] == (128, 4, 512, 2, (128, 4))
    assert repr(value[5]) == "Shape(p=2, f=1)"


def test_print_records_a_message(tmp_path: Path) -> None:
    _, ctx = run_ctx(tmp_path, "def kernel(n):\n    print('n is', n, sep=' = ')\n", 4)
    assert [m.message for m in ctx.messages] == ["n is = 4"]
    assert ctx.messages[0].pos is not None and ctx.messages[0].pos.line == 2


def test_an_uncaught_raise_is_an_error_at_the_raise(tmp_path: Path) -> None:
    from tests.tracer.util import error_of, where

    err = error_of(tmp_path, "def kernel(n):\n    if n > 1:\n        raise ValueError(f'n={n}')\n", 3)
    assert err.message == "ValueError: n=3"
    assert where(err) == (3, 9)


def test_builtins_stored_on_classes_are_not_bound(tmp_path: Path) -> None:
    src = """
    class Ops:
        reduce = max
        twice = lambda self, x: 2 * x

    def kernel():
        o = Ops()
        return o.reduce(1, 3), o.twice(4)
    """
    assert run_src(tmp_path, src) == (3, 8)


def test_collections_namedtuple(tmp_path: Path) -> None:
    src = """
    from collections import namedtuple
    import collections

    Skip = namedtuple('Skip', ['token', 'weight'])
    Pt = collections.namedtuple('Pt', 'x, y z', defaults=(0, 1))

    def kernel():
        s = Skip(False, True)
        p = Pt(5)
        a, b = s
        return s.token, s.weight, s == Skip(False, True), (p.x, p.y, p.z), a, b, len(s), s[1], repr(p)
    """
    assert run_src(tmp_path, src) == (False, True, True, (5, 0, 1), False, True, 2, True,
                                      "Pt(x=5, y=0, z=1)")
    for bad, message in (("namedtuple('Skip', [1])",
                          "namedtuple() takes a type name and field names (strings)"),
                         ("namedtuple('Skip', 'a', defaults=(1, 2))",
                          "namedtuple(): got more default values than field names")):
        bad_src = src.replace("namedtuple('Skip', ['token', 'weight'])", bad)
        err = error_of(tmp_path, bad_src, error=TraceError)
        assert err.message == f"global 'kern.Skip' could not be evaluated: {message}"
        assert where(err) == (9, 9)
