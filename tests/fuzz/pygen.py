"""Random programs in the Python subset the tracer evaluates (docs/trace.md), as source text.

A program is ``def kernel(a, b, xs):`` with a generated body over a few integer, list, tuple,
string and dict variables, ending with ``return (a, b, xs, ...)``. Helper functions
(``def h(p, q=...)``) and lambdas are generated too. Loops are small (``range`` of a few
items, ``while`` with a bounded counter) so CPython evaluates every program quickly.

``check_program`` is the oracle: the tracer gives what CPython gives, and where CPython raises,
the tracer raises a positioned KlrError.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from klr.python.gather import gather_file
from klr.tracer.kernel import run_python
from tests.fuzz.support import KlrError, Mismatch, outcome

INTS = ("a", "b", "c")
SEQS = ("xs", "t")
ALL_VARS = (*INTS, *SEQS, "s", "d")

small_int = st.integers(-5, 12).map(str)


def _ints(depth: int) -> st.SearchStrategy[str]:
    """Integer-valued (usually) expressions."""
    leaf = st.one_of(small_int, st.sampled_from(INTS), st.sampled_from(("len(xs)", "len(t)", "len(s)",
                                                                         "len(d)", "True", "False")))
    if depth <= 0:
        return leaf
    sub = _ints(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda x, op, y: f"({x} {op} {y})", sub,
                  st.sampled_from(("+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>")), sub),
        st.builds(lambda op, x: f"({op}{x})", st.sampled_from(("-", "~", "+", "not ")), sub),
        st.builds(lambda x, y: f"pow({x}, {y} % 4)", sub, sub),
        st.builds(lambda f, x, y: f"{f}({x}, {y})", st.sampled_from(("min", "max", "divmod")), sub, sub),
        st.builds(lambda x: f"abs({x})", sub),
        st.builds(lambda x, ops, y, z: f"({x} {ops} {y} {ops} {z})",
                  sub, st.sampled_from(("<", "<=", "==", "!=", ">", ">=")), sub, sub),
        st.builds(lambda x, op, y: f"({x} {op} {y})", sub, st.sampled_from(("and", "or")), sub),
        st.builds(lambda c, x, y: f"({x} if {c} else {y})", sub, sub, sub),
        st.builds(lambda q, i: f"{q}[{i}]", st.sampled_from(("xs", "t", "s")), sub),
        st.builds(lambda i: f"d.get({i}, 0)", sub),
        st.builds(lambda x: f"(lambda v: v * 2 + 1)({x})", sub),
        st.builds(lambda x, y: f"h({x}, {y})", sub, sub),
        st.builds(lambda x: f"int({x} / 3)", sub),
        st.builds(lambda x: f"round({x} / 7, 2)", sub),
        st.builds(lambda x: f"sum(v for v in xs if v > {x})", sub),
        st.builds(lambda x: f"({x} in xs)", sub),
        st.builds(lambda x: f"int(str({x}))", sub),
    )


def _seqs(depth: int) -> st.SearchStrategy[str]:
    ints = _ints(depth)
    return st.one_of(
        st.sampled_from(("xs", "t", "list(t)", "tuple(xs)", "sorted(xs)", "list(reversed(xs))",
                         "[v * v for v in xs]", "list(range(a % 5))", "list(d)", "list(d.values())",
                         "[i for i, _ in enumerate(s)]", "list(map(abs, t))")),
        st.builds(lambda q, lo, hi, step: f"{q}[{lo}:{hi}:{step}]", st.sampled_from(SEQS),
                  st.one_of(st.just(""), ints), st.one_of(st.just(""), ints),
                  st.one_of(st.just(""), st.sampled_from(("1", "2", "-1", "-2", "0", "a")))),
        st.builds(lambda x, y: f"[{x}, {y}]", ints, ints),
        st.builds(lambda x: f"xs + [{x}]", ints),
        st.builds(lambda x: f"t * ({x} % 3)", ints),
        st.builds(lambda x: f"[*xs, {x}]", ints),
        st.builds(lambda x: f"[p + q for p, q in zip(xs, t)] + [{x}]", ints),
    )


def _stmts(depth: int, loop: bool) -> st.SearchStrategy[list[str]]:
    """A list of statements (each a list of lines, indented relative to the block)."""
    ints = _ints(2)
    simple = st.one_of(
        st.builds(lambda v, e: [f"{v} = {e}"], st.sampled_from(INTS), ints),
        st.builds(lambda v, op, e: [f"{v} {op}= {e}"], st.sampled_from(INTS),
                  st.sampled_from(("+", "-", "*", "//", "%", "|", "&", "^")), ints),
        st.builds(lambda e: [f"xs = {e}"], _seqs(1)),
        st.builds(lambda e: [f"t = tuple({e})"], _seqs(1)),
        st.builds(lambda e: [f"xs.append({e})"], ints),
        st.builds(lambda e: [f"xs.extend(t[:{e}])"], ints),
        st.builds(lambda i, e: [f"xs[{i}] = {e}"], ints, ints),
        st.builds(lambda e: [f"xs.pop({e})"], ints),
        st.builds(lambda k, e: [f"d[{k}] = {e}"], ints, ints),
        st.builds(lambda e: [f"s = s + str({e})"], ints),
        st.builds(lambda e: [f"s = s[{e}:] + 'x'"], ints),
        st.builds(lambda e: [f"a, *rest = [{e}, b, c]", "b = len(rest)"], ints),
        st.builds(lambda e: [f"assert {e}, 'fail'"], ints),
        st.builds(lambda e: [f"c = f'{{{e}}}-{{a!r}}'.count('-') + len(s)"], ints),
    )
    if loop:
        simple = st.one_of(simple, st.sampled_from((["break"], ["continue"])))
    if depth <= 0:
        return st.lists(simple, min_size=1, max_size=3).map(lambda bs: [ln for b in bs for ln in b])
    inner = _stmts(depth - 1, loop)
    inner_loop = _stmts(depth - 1, True)

    def indent(lines: list[str]) -> list[str]:
        return ["    " + ln for ln in lines]

    compound = st.one_of(
        st.builds(lambda c, x, y: [f"if {c}:", *indent(x), "else:", *indent(y)], ints, inner, inner),
        st.builds(lambda v, n, x: [f"for {v} in range({n} % 6):", *indent(x)],
                  st.sampled_from(("i", "a")), ints, inner_loop),
        st.builds(lambda x, y: ["for i in xs[:5]:", *indent(x), "else:", *indent(y)], inner_loop, inner),
        st.builds(lambda c, x: ["k = 0", f"while k < 4 and {c}:", "    k += 1", *indent(x)],
                  ints, inner_loop),
        st.builds(lambda x: ["def g(u, *more, w=2):", *indent(x or ["pass"]), "    return u + w + len(more)",
                             "c = g(a, b) + g(c, w=b)"], st.just([])),
    )
    block = st.one_of(simple, compound)
    return st.lists(block, min_size=1, max_size=4).map(lambda bs: [ln for b in bs for ln in b])


PRELUDE = """\
def h(p, q=3):
    return p * 2 - q


def kernel(a, b, xs):
    c = 1
    t = (4, -2, 9)
    s = 'ab'
    d = {1: 10, 2: 20}
"""

programs = _stmts(2, False).map(
    lambda lines: PRELUDE + "".join(f"    {ln}\n" for ln in lines) + "    return (a, b, c, xs, t, s, d)\n")
arguments = st.tuples(st.integers(-20, 20), st.integers(-20, 20),
                      st.lists(st.integers(-9, 9), max_size=5))


def cpython(source: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    """('ok', value) or ('error', exception) from running ``kernel(*args)`` in CPython."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "prog.py", "exec"), namespace)
    try:
        return "ok", namespace["kernel"](*copy.deepcopy(args))
    except Exception as err:  # the program's own error (ZeroDivisionError, IndexError, ...)
        return "error", err


def traced(workdir: Path, source: str, args: tuple[Any, ...]) -> Any:
    path = workdir / "prog.py"
    path.write_text(source)
    kernel = gather_file(str(path), "kernel")
    return outcome(lambda: run_python(kernel, args=copy.deepcopy(args))[0])


def check_program(workdir: Path, source: str, args: tuple[Any, ...]) -> None:
    """Raise ``Mismatch`` when the tracer and CPython disagree on ``kernel(*args)``."""
    got = traced(workdir, source, args)
    kind, expected = cpython(source, args)
    if kind == "error":
        if not isinstance(got, KlrError):
            raise Mismatch(f"CPython raised {expected!r}, the tracer returned {got!r}")
    elif isinstance(got, KlrError):
        raise Mismatch(f"CPython returned {expected!r}, the tracer raised {got}")
    elif repr(got) != repr(expected):
        raise Mismatch(f"CPython returned {expected!r}, the tracer {got!r}")
