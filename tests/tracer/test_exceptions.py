"""try/except/else/finally, raise, exception classes, global and nonlocal; and what a kernel's
``except`` can never catch: klr's own errors and limits (docs/trace.md "Exceptions")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from klr.errors import LimitError, TraceError
from klr.tracer.context import Limits
from tests.tracer.nki.util import trace_error
from tests.tracer.util import error_of, run_ctx, run_src, where

CLASSES = """
class ConfigError(ValueError):
    def __init__(self, msg, code=3):
        super().__init__(msg)
        self.code = code

class Plain(Exception):
    pass
"""


def test_raise_and_catch_user_and_builtin_classes(tmp_path: Path) -> None:
    src = CLASSES + """
def check(x):
    if x < 0:
        raise ConfigError(f"negative {x}", code=7)
    return x

def kernel():
    out = []
    try:
        check(-1)
    except ValueError as e:
        out.append((type(e).__name__, str(e), e.code, e.args, repr(e), isinstance(e, Exception)))
    try:
        raise Plain
    except (KeyError, Plain) as e:
        out.append(repr(e))
    try:
        raise ConfigError("x")
    except KeyError:
        out.append("wrong")
    except Exception as e:
        out.append(e.code)
    return out
"""
    assert run_src(tmp_path, src) == [
        ("ConfigError", "negative -1", 7, ("negative -1",), "ConfigError('negative -1')", True),
        "Plain()", 3]


def test_python_level_errors_are_catchable(tmp_path: Path) -> None:
    src = """
def kernel():
    out = []
    for make in (lambda: 1 // 0, lambda: {}["k"], lambda: [1][3], lambda: int("x"), lambda: (1).foo,
                 lambda: 1 + "a", lambda: len(3)):
        try:
            make()
        except ZeroDivisionError as e:
            out.append(("zero", str(e)))
        except LookupError as e:
            out.append((type(e).__name__, e.args))
        except (ValueError, TypeError, AttributeError, NameError) as e:
            out.append(type(e).__name__)
    try:
        assert 1 == 2, "sizes differ"
    except AssertionError as e:
        out.append(e.args)
    return out
"""
    assert run_src(tmp_path, src) == [
        ("zero", "division by zero"), ("KeyError", ("k",)),
        ("IndexError", ("index 3 is out of range for a list of length 1",)),
        "ValueError", "AttributeError", "TypeError", "TypeError", ("sizes differ",)]


def test_else_finally_and_reraise(tmp_path: Path) -> None:
    src = """
log = []

def lookup(d, k):
    try:
        return d[k]
    except KeyError:
        return None
    finally:
        log.append(k)

def kernel():
    out = []
    try:
        try:
            raise KeyError("k")
        except KeyError:
            out.append("handled")
            raise
    except Exception as e:
        out.append(repr(e))
    else:
        out.append("not reached")
    try:
        out.append("body")
    except Exception:
        out.append("not reached")
    else:
        out.append("else")
    for i in range(3):
        try:
            if i == 1:
                continue
            if i == 2:
                break
        finally:
            out.append(i)
    for i in range(2):
        try:
            raise ValueError(i)
        finally:
            break  # discards the exception, as in Python
    return out, lookup({"a": 1}, "a"), lookup({}, "b"), log
"""
    assert run_src(tmp_path, src) == (
        ["handled", "KeyError('k')", "body", "else", 0, 1, 2], 1, None, ["a", "b"])


def test_the_handler_name_is_unbound_after_the_clause(tmp_path: Path) -> None:
    src = """
def kernel():
    try:
        raise ValueError("v")
    except ValueError as e:
        pass
    return e
"""
    err = error_of(tmp_path, src)
    assert err.message == "local variable 'e' is used before it is assigned"
    assert where(err) == (7, 12)


@pytest.mark.parametrize(("body", "message", "at"), [
    ("raise ValueError(f'n={n}')", "ValueError: n=2", (3, 5)),
    ("raise NotImplementedError", "NotImplementedError", (3, 5)),
    ("raise 3", "exceptions must derive from BaseException, not 'int'", (3, 5)),
    ("raise ValueError() from n", "exception causes must derive from BaseException, not 'int'", (3, 29)),
    ("raise", "no active exception to re-raise", (3, 5)),
    ("try:\n        1 // 0\n    except n:\n        pass",
     "catching '2' is not allowed: an except clause names exception classes", (5, 12)),
    ("raise ValueError(n, code=1)", "ValueError() takes no keyword arguments", (3, 11)),
    ("ValueError.__init__()", "__init__() needs an instance argument", (3, 5)),
])
def test_error_messages(tmp_path: Path, body: str, message: str, at: tuple[int, int]) -> None:
    err = error_of(tmp_path, f"def kernel(n):\n    x = 1\n    {body}\n", 2, error=TraceError)
    assert err.message == message
    assert where(err) == at


def test_a_caught_error_in_a_helper_still_unwinds_cleanly(tmp_path: Path) -> None:
    src = """
def deep(n):
    if n == 0:
        raise ValueError("bottom")
    return deep(n - 1)

def kernel():
    for _ in range(3):
        try:
            deep(5)
        except ValueError:
            pass
    return deep(2)
"""
    err = error_of(tmp_path, src)
    assert err.message == "ValueError: bottom"
    assert where(err) == (4, 9)
    notes = [(n, p.line if p else 0) for n, p in err.notes]
    assert notes == [("called from here", 5), ("called from here", 13)]


# --- what a kernel cannot catch ----------------------------------------------------------------

def test_a_shape_error_is_never_caught_and_runs_no_finally(tmp_path: Path) -> None:
    body = """
    def kernel(x):
        try:
            t = nl.load(x)
            bad = t.reshape((3, 3))
        except Exception:
            return None
        finally:
            raise ValueError("the finally ran")
    """
    err = trace_error(tmp_path, body, np.zeros((4, 4), np.float32))
    assert err.message.startswith("cannot reshape")
    assert "finally" not in err.message


def test_a_limit_is_never_caught(tmp_path: Path) -> None:
    src = """
def kernel():
    try:
        for i in range(100):
            pass
    except BaseException:
        return "caught"
"""
    err = error_of(tmp_path, src, error=LimitError, limits=Limits(max_iterations=10))
    assert err.message.startswith("for loop exceeds 10 iterations")


# --- global and nonlocal -----------------------------------------------------------------------

def test_global_rebinds_the_module_variable(tmp_path: Path) -> None:
    src = """
COUNT = 0
MODE = "a"

def read():
    return COUNT, MODE

def bump():
    global COUNT, MODE
    COUNT += 1
    MODE = MODE + "b"
    return read()

def kernel():
    first = read()
    bump()
    return first, bump(), read()
"""
    assert run_src(tmp_path, src) == ((0, "a"), (2, "abb"), (2, "abb"))


def test_nonlocal_rebinds_the_enclosing_variable(tmp_path: Path) -> None:
    src = """
def kernel():
    total = 0
    seen = []
    def add(x):
        nonlocal total
        total += x
        for total2 in (total,):
            seen.append(total2)
    def outer():
        def inner():
            nonlocal total
            total = total * 10
        inner()
    add(2)
    add(3)
    outer()
    return total, seen
"""
    value, _ = run_ctx(tmp_path, src)
    assert value == (50, [2, 5])
