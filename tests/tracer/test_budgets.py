"""Budgets instead of exhaustion: issue 8's resource reproducers each stop with a LimitError
that names the limit, at the line at fault.

Tests that would take long with the default limits give a smaller limit: the error is the
same, only the number in it changes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from klr.errors import LimitError, TraceError, UsageError
from klr.tracer.context import Limits
from tests.tracer.nki.util import trace_kernel
from tests.tracer.util import error_of, gather_src, run_src, trace_src, where

MB = 1 << 20


def note(name: str) -> str:
    return f" (--limit {name.replace('_', '-')}=N raises it)"


def memory(n: int = 2 << 30) -> str:
    return f"the trace needs more than {n} bytes of memory" + note("max_memory")


def steps(n: int = 30_000_000) -> str:
    return f"the trace takes more than {n} steps" + note("max_steps")


def limit_error(tmp_path: Path, body: str, limits: Limits | None = None, header: str = "") -> LimitError:
    err = error_of(tmp_path, header + "def kernel():\n" + body, error=LimitError, limits=limits)
    assert isinstance(err, LimitError)
    return err


# --- the Limits API ------------------------------------------------------------------------------


def test_every_limit_is_a_field_with_a_default_and_a_description() -> None:
    fields = Limits.fields()
    assert [name for name, _, _ in fields] == [
        "max_steps", "max_memory", "max_stmts", "max_iterations", "max_total_iterations", "max_depth",
        "max_nesting", "max_grid"]
    defaults = Limits()
    for name, default, doc in fields:
        assert getattr(defaults, name) == default and default > 0 and doc, name
    assert Limits(max_steps=7).max_steps == 7


def test_limits_are_checked_when_made() -> None:
    with pytest.raises(UsageError) as info:
        Limits(max_nesting=0)
    assert info.value.message == "limit max-nesting must be a positive integer, not 0"


def test_docs_list_every_limit_with_its_default() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "trace.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line.split("|")[2].strip() for line in doc.splitlines()
            if line.startswith("| `max_")}
    assert list(rows) == [name for name, _, _ in Limits.fields()]
    for name, default, _ in Limits.fields():
        assert rows[name] == ("2 GiB" if name == "max_memory" else f"{default:,}"), name


# --- steps ---------------------------------------------------------------------------------------


def test_a_loop_of_calls_runs_out_of_steps(tmp_path: Path) -> None:
    src = ("def f(x):\n    y = x + 1\n    return y\n\n"
           "def kernel():\n    t = 0\n    for i in range(100000):\n        t = f(t)\n    return t\n")
    err = error_of(tmp_path, src, error=LimitError, limits=Limits(max_steps=100_000))
    assert (err.message, where(err)) == (steps(100_000), (8, 13))  # the call that spends the last step


def test_squaring_a_big_integer_in_a_loop_is_charged_by_its_size(tmp_path: Path) -> None:
    err = limit_error(tmp_path, "    x = 2 ** 500000\n    for i in range(100):\n        x = x * x\n")
    assert (err.message, where(err)) == (steps(), (4, 13))


def test_huge_powers_and_factorials(tmp_path: Path) -> None:
    err = limit_error(tmp_path, "    return 10 ** 10 ** 9\n")
    assert (err.message, where(err)) == (steps(), (2, 12))
    err = limit_error(tmp_path, "    return math.factorial(10 ** 9)\n", header="import math\n")
    assert (err.message, where(err)) == (memory(), (3, 12))
    err = limit_error(tmp_path, "    return math.comb(10 ** 8, 5 * 10 ** 7)\n", header="import math\n")
    assert (err.message, where(err)) == (steps(), (3, 12))
    err = limit_error(tmp_path, "    return math.perm(10 ** 9)\n", header="import math\n")
    assert (err.message, where(err)) == (memory(), (3, 12))
    src = "import math\ndef kernel():\n    return math.factorial(20), math.comb(10, 3)\n"
    assert run_src(tmp_path, src) == (2432902008176640000, 120)


# --- memory --------------------------------------------------------------------------------------


def test_doubling_a_string(tmp_path: Path) -> None:
    err = limit_error(tmp_path, "    s = 'ab'\n    for i in range(40):\n        s = s + s\n",
                      Limits(max_memory=16 * MB))
    assert (err.message, where(err)) == (memory(16 * MB), (4, 13))


@pytest.mark.parametrize("expr, column", [
    ("'1'.zfill(10 ** 11)", 12), ("'1'.ljust(10 ** 11)", 12), ("'1'.center(10 ** 11, '-')", 12),
    ("'{:>100000000000}'.format(1)", 12), ("f'{1:>100000000000}'", 12), ("format(1.5, '.100000000000f')", 12),
    ("'%100000000000d' % 1", 12), ("[0] * 10 ** 9", 12), ("'ab' * 10 ** 10", 12), ("1 << 10 ** 11", 12),
    ("list(range(10 ** 9))", 12), ("''.join(['x' * 10 ** 4] * 10 ** 6)", 12),
])
def test_single_huge_values(tmp_path: Path, expr: str, column: int) -> None:
    err = limit_error(tmp_path, f"    return {expr}\n")
    assert (err.message, where(err)) == (memory(), (2, column)), expr


@pytest.mark.parametrize("body, column", [
    ("    return [*range(10 ** 9)]\n", 13), ("    print(*range(10 ** 9))\n", 11),
    ("    a, *b = range(10 ** 9)\n", 5), ("    a, b = range(10 ** 9)\n", 5),
])
def test_unpacking_a_huge_range(tmp_path: Path, body: str, column: int) -> None:
    err = limit_error(tmp_path, body)
    assert (err.message, where(err)) == (memory(), (2, column)), body


def test_repeated_replace(tmp_path: Path) -> None:
    err = limit_error(tmp_path, "    s = 'aa'\n    for i in range(30):\n        s = s.replace('a', s)\n")
    assert (err.message, where(err)) == (memory(), (4, 13))


def test_a_comprehension_of_large_lists(tmp_path: Path) -> None:
    err = limit_error(tmp_path, "    return [[0] * 10 ** 7 for _ in range(200)]\n",
                      Limits(max_memory=200 * MB))
    assert (err.message, where(err)) == (memory(200 * MB), (2, 13))


def test_print_of_a_long_text(tmp_path: Path) -> None:
    src = "    s = 'x' * 10 ** 6\n    for i in range(100):\n        print(s, s, s, s)\n"
    err = limit_error(tmp_path, src, Limits(max_memory=64 * MB))
    assert (err.message, where(err)) == (memory(64 * MB), (4, 9))


def test_shared_identity_matrix_and_host_arrays(tmp_path: Path) -> None:
    x = np.zeros((128, 4), np.float32)
    for expr in ("nl.shared_identity_matrix(10 ** 6)", "np.zeros((10 ** 5, 10 ** 5))", "np.eye(10 ** 6)",
                 "np.arange(10 ** 12)"):
        with pytest.raises(LimitError) as info:
            trace_kernel(tmp_path, f"def kernel(x):\n    t = {expr}\n    return x\n", x)
        assert (info.value.message, info.value.pos.line) == (memory(), 6), expr


def test_memory_growing_by_small_pieces_is_measured(tmp_path: Path) -> None:
    """Values under 1 KiB are not charged one by one; the process's growth is measured every
    65,536 steps (here, loop iterations), at the loop."""
    src = "    xs = []\n    for i in range(10 ** 6):\n        xs.append('x' * 1000)\n"
    err = limit_error(tmp_path, src, Limits(max_memory=32 * MB))
    assert (err.message, where(err)) == (memory(32 * MB), (3, 5))


def test_small_values_are_not_charged_one_by_one(tmp_path: Path) -> None:
    src = "    xs = []\n    for i in range(100000):\n        xs.append(str(i) + '-')\n    return len(xs)\n"
    assert run_src(tmp_path, "def kernel():\n" + src, limits=Limits(max_memory=64 * MB)) == 100000


def test_printing_a_huge_integer(tmp_path: Path) -> None:
    err = error_of(tmp_path, "def kernel():\n    print(str(10 ** 100000))\n", error=TraceError)
    message = "cannot convert an integer of more than 4300 digits to a string"
    assert (err.message, where(err)) == (message, (2, 11))
    assert run_src(tmp_path, "def kernel():\n    return len(str(10 ** 4299))\n") == 4300


def test_to_bytes_is_not_available(tmp_path: Path) -> None:
    err = error_of(tmp_path, "def kernel():\n    return (1).to_bytes(10 ** 11, 'big')\n", error=TraceError)
    assert (err.message, where(err)) == ("'int' object has no attribute 'to_bytes'", (2, 12))


def test_tensors_beyond_64_bit_sizes(tmp_path: Path) -> None:
    x = np.zeros((128, 4), np.float32)
    with pytest.raises(TraceError) as info:
        trace_kernel(tmp_path, "def kernel(x):\n    t = nl.ndarray((128, 10 ** 5000), dtype=nl.float32, "
                     "buffer=nl.shared_hbm)\n    return x\n", x)
    assert (info.value.message, where(info.value)) == (
        "a tensor of dimensions [128, <int of 16610 bits>] has more than 2**63 bytes", (6, 9))
    with pytest.raises(TraceError) as info:
        trace_kernel(tmp_path, "def kernel(x):\n    t = nl.load(x) * 10 ** 400\n    return x\n", x)
    message = "the integer operand of 1329 bits is too large for a float"
    assert (info.value.message, where(info.value)) == (message, (6, 9))


# --- nesting -------------------------------------------------------------------------------------

DEEP = ("    t, t2, u, u2 = (), (), [], []\n    for i in range(100000):\n        t, t2 = (t,), (t2,)\n"
        "        u, u2 = [u], [u2]\n")


@pytest.mark.parametrize("use, what, column", [
    ("print(t)", "print", 5), ("return repr(u)", "print", 12), ("return f'{u}'", "print", 12),
    ("return t == t2", "compare", 12), ("return u < u2", "compare", 12), ("return t in [t2]", "compare", 12),
    ("return {t: 1}", "hash", 13), ("return set([t])", "hash", 12), ("return sorted([u, u2])", "compare", 12),
])
def test_values_nested_100000_deep(tmp_path: Path, use: str, what: str, column: int) -> None:
    err = limit_error(tmp_path, DEEP + f"    {use}\n")
    message = f"cannot {what} a value nested more than 1000 deep" + note("max_nesting")
    assert (err.message, where(err)) == (message, (6, column)), use


def test_returning_a_deeply_nested_list(tmp_path: Path) -> None:
    with pytest.raises(LimitError) as info:
        trace_src(tmp_path, "def kernel():\n" + DEEP + "    return u\n")
    message = "cannot return a value nested more than 1000 deep" + note("max_nesting")
    assert (info.value.message, where(info.value)) == (message, (6, 5))


def test_a_list_that_contains_itself(tmp_path: Path) -> None:
    assert run_src(tmp_path, "def kernel():\n    a = [1]\n    a.append(a)\n    return repr(a)\n") \
        == "[1, [...]]"
    with pytest.raises(TraceError) as info:
        trace_src(tmp_path, "def kernel():\n    a = []\n    a.append(a)\n    return a\n")
    assert (info.value.message, where(info.value)) == ("a kernel cannot return a list that contains itself",
                                                      (4, 5))


def test_deep_recursion_with_many_calls_per_line(tmp_path: Path) -> None:
    """Each level nests 120 expressions: Python's stack runs out before ``max_depth``; the
    error is at the innermost call being made."""
    minus = "-(" * 120 + "f(n - 1, n > 1)" + ")" * 120
    src = f"def f(n, more):\n    return {minus} if more else 0\n\ndef kernel():\n    return f(190, True)\n"
    err = error_of(tmp_path, src, error=LimitError)
    assert err.message == ("the kernel nests calls and expressions too deeply: the tracer's stack of 20000 "
                           "frames is exhausted")
    assert where(err) == (2, 12 + 2 * 120)


# --- grid and statements -------------------------------------------------------------------------

GRID = ("import neuronxcc.nki.language as nl\n\ndef kernel(x):\n"
        "    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)\n"
        "    nl.store(out, value=nl.load(x))\n    return out\n")


def test_a_huge_launch_grid(tmp_path: Path) -> None:
    x = np.zeros((128, 4), np.float32)
    message = ("the kernel would be traced 10000000000 times (SPMD grid 100000 x 100000)"
               + note("max_grid"))
    with pytest.raises(LimitError) as info:
        trace_src(tmp_path, GRID, grid=(100000, 100000), gather={"args": (x,)})
    assert (info.value.message, where(info.value)) == (message, (3, 1))
    stored = gather_src(tmp_path, GRID, args=(x,), grid=(100000, 100000))
    from klr.tracer import trace

    with pytest.raises(LimitError) as info:
        trace(stored)
    assert (info.value.message, where(info.value)) == (message, (3, 1))
    with pytest.raises(LimitError) as info:
        trace(stored, grid=(4, 4), lnc=2, limits=Limits(max_grid=16))
    assert info.value.message == ("the kernel would be traced 32 times (SPMD grid 4 x 4 on 2 logical cores)"
                                  + note("max_grid"))
    assert len(trace(stored, grid=(4, 4)).kernel.bodies[0]) == 16


@pytest.mark.parametrize("expr", ["repr(s)", "f'{s!a}'", "f'{s!r}'", "str([s])"])
def test_the_repr_of_a_string_is_charged_before_it_is_built(tmp_path: Path, expr: str) -> None:
    """Each NUL prints as four characters: the repr of a 1 GB string needs 4 GB."""
    src = f"def kernel():\n    s = '\\x00' * 10**9\n    return len({expr})\n"
    err = error_of(tmp_path, src, error=LimitError)
    assert err.message == memory()
    assert where(err)[0] == 3


def _full_collection(budget: object) -> None:
    from klr.tracer.limits import Budget
    assert isinstance(budget, Budget)
    budget.ticks = 63  # the next check runs a full collection
    budget.tick(None)  # type: ignore[arg-type]  # the context is only used to report errors


def test_survivors_of_full_collections_are_frozen_during_a_trace_and_given_back_after() -> None:
    import gc

    from klr.tracer.limits import Budget, frozen_survivors
    assert gc.get_freeze_count() == 0
    with frozen_survivors():
        _full_collection(Budget(Limits()))
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    _full_collection(Budget(Limits()))  # outside a trace: nothing is frozen
    assert gc.get_freeze_count() == 0


def test_objects_the_process_froze_itself_stay_frozen() -> None:
    import gc

    from klr.tracer.limits import Budget, frozen_survivors
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with frozen_survivors():
            _full_collection(Budget(Limits()))
            assert gc.get_freeze_count() == before  # no freeze of its own: it could not undo it
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
