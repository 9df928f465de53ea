"""Shared checks of the fuzz tests: what "never crashes, never hangs" means for each phase.

A crash is any exception other than ``KlrError`` escaping the public API (the interpreter
reports its own crashes as ``klr.errors.InternalError``); a hang is a call that does not
return within ``DEADLINE`` seconds. The deadline only catches real hangs (every fuzz case
takes well under a second), so how fast the machine is never changes a test's outcome.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from klr.errors import EvalError, GatherError, KlrError, TraceError

DEADLINE = 60
T = TypeVar("T")


class Hang(Exception):
    """A fuzz input ran longer than ``DEADLINE`` seconds."""


class BadError(AssertionError):
    """A KlrError that is not one sentence, or lacks the position it should have."""


class Mismatch(AssertionError):
    """klr computed something else than the oracle (CPython, or itself under other conditions)."""


@contextlib.contextmanager
def deadline(seconds: int = DEADLINE) -> Iterator[None]:
    """Raise ``Hang`` in the test when the body runs longer than ``seconds``."""

    def expire(_signum: int, _frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_error(err: KlrError, *, positioned: bool = True) -> None:
    """An error we accept: one sentence, and a position for gather/trace errors."""
    if not err.message or "\n" in err.message:
        raise BadError(f"not one line: {err.message!r}")
    if positioned and isinstance(err, (GatherError, TraceError)) and (err.pos is None or err.pos.line <= 0):
        raise BadError(f"error without a position: {err!r}")


def outcome(fn: Callable[[], T], *, positioned: bool = True) -> T | KlrError:
    """``fn()``'s value, or the KlrError it raised (checked); any other exception propagates."""
    try:
        with deadline():
            return fn()
    except KlrError as err:
        check_error(err, positioned=positioned)
        return err


__all__ = ["DEADLINE", "BadError", "EvalError", "Hang", "KlrError", "Mismatch", "check_error", "deadline",
           "outcome"]
