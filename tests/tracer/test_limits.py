"""Resource limits: runaway loops, recursion and huge values stop with a LimitError."""

from __future__ import annotations

from pathlib import Path

from klr.errors import LimitError
from klr.tracer.context import Limits
from tests.tracer.util import error_of, where


def note(name: str) -> str:
    return f" (--limit {name.replace('_', '-')}=N raises it)"


def test_infinite_while_loop(tmp_path: Path) -> None:
    src = "def kernel():\n    i = 0\n    while True:\n        i += 1\n"
    err = error_of(tmp_path, src, error=LimitError, limits=Limits(max_iterations=1000))
    assert err.message == "while loop does not finish within 1000 iterations" + note("max_iterations")
    assert where(err) == (3, 5)


def test_infinite_while_loop_default_limit(tmp_path: Path) -> None:
    src = "def kernel():\n    while 1:\n        pass\n"
    err = error_of(tmp_path, src, error=LimitError)
    assert err.message == "while loop does not finish within 1000000 iterations" + note("max_iterations")


def test_huge_for_loop(tmp_path: Path) -> None:
    src = "def kernel():\n    for i in range(10 ** 12):\n        pass\n"
    err = error_of(tmp_path, src, error=LimitError, limits=Limits(max_iterations=50))
    assert err.message == "for loop exceeds 50 iterations" + note("max_iterations")
    assert where(err) == (2, 5)


def test_huge_comprehension(tmp_path: Path) -> None:
    src = "def kernel():\n    return [i for i in range(10 ** 12)]\n"
    err = error_of(tmp_path, src, error=LimitError, limits=Limits(max_iterations=50))
    assert err.message == "comprehension exceeds 50 iterations" + note("max_iterations")
    assert where(err) == (2, 24)


def test_unbounded_recursion(tmp_path: Path) -> None:
    src = "def f(n):\n    return f(n + 1)\n\ndef kernel():\n    return f(0)\n"
    err = error_of(tmp_path, src, error=LimitError)
    assert err.message == "call depth exceeds 200 in a call of f" + note("max_depth")
    assert where(err) == (2, 12)
    assert [(m, p.line) for m, p in err.notes] == [("called from here", 2), ("called from here", 5)]


def test_huge_values(tmp_path: Path) -> None:
    memory = "the trace needs more than 2147483648 bytes of memory" + note("max_memory")
    err = error_of(tmp_path, "def kernel():\n    return [0] * 10 ** 9\n", error=LimitError)
    assert err.message == memory
    err = error_of(tmp_path, "def kernel():\n    return 10 ** 10 ** 9\n", error=LimitError)
    assert err.message == "the trace takes more than 30000000 steps" + note("max_steps")
    err = error_of(tmp_path, "def kernel():\n    return list(range(10 ** 9))\n", error=LimitError)
    assert err.message == memory
