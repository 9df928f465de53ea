"""The total loop-iteration limit: nested loops whose product is huge stop with a LimitError
(found by tests/fuzz: 10**7 iterations of nested loops ran for many seconds)."""

from __future__ import annotations

from pathlib import Path

from klr.errors import LimitError
from klr.tracer.context import Limits
from tests.tracer.util import error_of, run_src, where

NOTE = " (--limit max-total-iterations=N raises it)"


def test_nested_loops_hit_the_total_limit(tmp_path: Path) -> None:
    src = ("def kernel():\n    s = 0\n    for i in range(100):\n        for j in range(100):\n"
           "            s += 1\n    return s\n")
    err = error_of(tmp_path, src, error=LimitError, limits=Limits(max_total_iterations=1000))
    assert err.message == ("for loop stopped: the kernel's loops run more than 1000 iterations "
                           "in total" + NOTE)
    assert where(err) == (4, 9)


def test_ten_million_nested_iterations_stop_at_the_default_limit(tmp_path: Path) -> None:
    src = ("def kernel():\n    s = 0\n    for i in range(10 ** 4):\n        for j in range(10 ** 3):\n"
           "            s += 1\n    return s\n")
    err = error_of(tmp_path, src, error=LimitError)
    assert err.message == ("for loop stopped: the kernel's loops run more than 2000000 iterations "
                           "in total" + NOTE)


def test_while_and_comprehensions_count_too(tmp_path: Path) -> None:
    src = ("def kernel():\n    n = 0\n    for i in range(10):\n        k = 0\n        while k < 10:\n"
           "            k += 1\n        n += len([j for j in range(10)])\n    return n\n")
    err = error_of(tmp_path, src, error=LimitError, limits=Limits(max_total_iterations=25))
    assert err.message == ("while loop stopped: the kernel's loops run more than 25 iterations "
                           "in total" + NOTE)
    assert where(err) == (5, 9)
    err = error_of(tmp_path, src.replace("10:", "0:"), error=LimitError,
                   limits=Limits(max_total_iterations=25))
    assert err.message == ("comprehension stopped: the kernel's loops run more than 25 iterations "
                           "in total" + NOTE)
    assert where(err) == (7, 30)


def test_loops_within_the_total_run(tmp_path: Path) -> None:
    src = "def kernel():\n    return sum(1 for i in range(30) for j in range(30))\n"
    assert run_src(tmp_path, src, limits=Limits(max_total_iterations=1000)) == 900
