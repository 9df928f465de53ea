"""Sets iterate in insertion order, so Core never depends on the hash seed (issue 8)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from klr.errors import TraceError
from tests.tracer.util import error_of, run_src, where

SETS = """
def kernel():
    s = set(["delta", "alpha", "charlie", "bravo", "alpha"])
    t = set(["echo", "bravo"])
    s.add("foxtrot")
    s.discard("charlie")
    u = set(range(5))
    u.remove(0)
    return (list(s), list(s | t), list(s & t), list(s - t), list(t ^ s), sorted(s), s.pop(), list(s),
            len(u), 3 in u, 0 in u, s <= (s | t), s < s, u == set([4, 3, 2, 1]), repr(t), repr(set()),
            list(s.union(t, ["golf"])), s.issubset(s | t), t.isdisjoint(["x"]), [x for x in t])
"""


def test_set_operations_keep_insertion_order(tmp_path: Path) -> None:
    assert run_src(tmp_path, SETS) == (
        ["delta", "alpha", "bravo", "foxtrot"],
        ["delta", "alpha", "bravo", "foxtrot", "echo"],
        ["bravo"],
        ["delta", "alpha", "foxtrot"],
        ["echo", "delta", "alpha", "foxtrot"],
        ["alpha", "bravo", "delta", "foxtrot"],
        "delta",
        ["alpha", "bravo", "foxtrot"],
        4, True, False, True, False, True, "{'echo', 'bravo'}", "set()",
        ["alpha", "bravo", "foxtrot", "echo", "golf"], True, True, ["echo", "bravo"])


def test_sets_are_sets(tmp_path: Path) -> None:
    src = ("def kernel():\n    s = set([1, 2])\n    s |= set([3])\n    s -= set([1])\n"
           "    return isinstance(s, set), type(s) is set, sorted(s), bool(set()), s == set([2, 3]),\n")
    assert run_src(tmp_path, src.rstrip(",\n") + "\n") == (True, True, [2, 3], False, True)


def test_set_errors(tmp_path: Path) -> None:
    for expr, message, column in (("set([[1]])", "unhashable type: 'list'", 12),
                                  ("set().pop()", "set.pop(): the set is empty", 12),
                                  ("set([1]).remove(2)", "set.remove(): 2 is not in the set", 12),
                                  ("set([1]) + set([2])", "unsupported operand types for +: 'set' and 'set'",
                                   12),
                                  ("{set([1]): 1}", "unhashable type: 'set'", 13)):
        err = error_of(tmp_path, f"def kernel():\n    return {expr}\n", error=TraceError)
        assert (err.message, where(err)) == (message, (2, column)), expr


def test_dict_views(tmp_path: Path) -> None:
    src = ("def kernel():\n    d = {'b': 1, 'a': 2}\n    k = d.keys()\n    d['c'] = 3\n"
           "    return (list(k), list(d.values()), list(d.items()), len(k), 'c' in k,\n"
           "            ('a', 2) in d.items(),\n"
           "            list(k & set(['a', 'z'])), list(k | ['z']), repr(k), k == set(['a', 'b', 'c']))\n")
    assert run_src(tmp_path, src) == (
        ["b", "a", "c"], [1, 2, 3], [("b", 1), ("a", 2), ("c", 3)], 3, True, True, ["a"],
        ["b", "a", "c", "z"], "dict_keys(['b', 'a', 'c'])", True)


def test_changing_a_set_while_iterating(tmp_path: Path) -> None:
    src = "def kernel():\n    s = set([1, 2])\n    for x in s:\n        s.add(x + 10)\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert (err.message, where(err)) == ("the loop's set changed size during iteration", (3, 14))
    src = "def kernel():\n    d = {1: 2}\n    return [d.pop(k) for k in d]\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert (err.message, where(err)) == ("the comprehension's dict changed size during iteration", (3, 31))


KERNEL = """
import neuronxcc.nki.language as nl

def kernel(x):
    names = set(["gamma", "alpha", "omega", "beta", "delta", "epsilon", "zeta", "eta"])
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    t = nl.load(x)
    for i, name in enumerate(names):
        tile = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf, name=name)
        tile[...] = nl.add(t, i)
        t = tile
    nl.store(out, value=t)
    return out
"""

TRACE = """
import sys
import numpy as np
import klr
from klr.format.file import to_bytes
py = klr.gather(sys.argv[1], np.zeros((128, 4), np.float32), name="kernel")
sys.stdout.write(to_bytes(klr.trace(py).kernel).hex())
"""


def test_core_bytes_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    kern = tmp_path / "kern.py"
    kern.write_text(textwrap.dedent(KERNEL))
    outputs = set()
    for seed in ("0", "1", "12345", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        got = subprocess.run([sys.executable, "-c", TRACE, str(kern)], capture_output=True, text=True,
                             env=env, check=True)
        outputs.add(got.stdout)
    assert len(outputs) == 1 and len(next(iter(outputs))) > 100
