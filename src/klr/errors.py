"""Diagnostics: one positioned error type with a subclass per phase, rendered like a compiler's.

    kern.py:12:5: error: store of a [128, 256] tile into a [128, 512] region
       12 |     nl.store(out[i], t)
          |     ^~~~~~~~~~~~~~~~~~~

A ``KlrError`` is a problem with the user's input; anything else escaping klr is a bug in klr
and is reported by the CLI as an internal error.

Rendering (the source line and carets under a message) is ``klr.diagnostics``', which reads
source files through ``klr.files``; this module imports neither, so file I/O can raise these
errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations: `klr --help` imports this module and no IR class
    from klr.pos import Pos


class KlrError(Exception):
    """An error in the user's input, at an optional source position."""

    phase = "klr"

    def __init__(self, message: str, pos: Pos | None = None, *, source_line: str | None = None,
                 notes: tuple[tuple[str, Pos | None], ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.source_line = source_line
        self.notes = notes

    def at(self, pos: Pos | None, source_line: str | None = None) -> KlrError:
        """Attach a position if this error has none yet (the innermost position wins)."""
        if self.pos is None or self.pos.line == 0:
            self.pos = pos
            self.source_line = source_line
        return self

    def note(self, message: str, pos: Pos | None = None) -> KlrError:
        self.notes = (*self.notes, (message, pos))
        return self

    def __str__(self) -> str:
        if self.pos is not None and self.pos.line:
            return f"{self.pos}: {self.message}"
        return self.message


class UsageError(KlrError):
    """Bad command-line or API arguments."""

    phase = "usage"


class FormatError(KlrError):
    """A KLR file that cannot be read: wrong magic, version, kind, or malformed bytes."""

    phase = "format"


class FileError(KlrError):
    """A file that cannot be read or written: missing, not a regular file, too large, malformed
    (.npy), or in the way of an output."""

    phase = "file"


class GatherError(KlrError):
    phase = "gather"


class TraceError(KlrError):
    """``python`` names the Python exception class the error models (``KeyError``, ...), which
    a kernel's ``except`` may catch (with ``python_args`` as its args, default the message);
    None for klr's own errors, which no kernel can catch."""

    phase = "trace"
    python: str | None = None
    python_args: tuple[object, ...] | None = None  # the exception's args, when not (message,)


class EvalError(KlrError):
    phase = "eval"


class LimitError(KlrError):
    """A resource limit (unrolling, recursion, output size) was reached."""

    phase = "limit"


class InternalError(Exception):
    """A bug in klr, with the place in the user's program where it showed. Deliberately not a
    KlrError: the CLI reports it as an internal error (exit 70), never as the user's fault."""

    def __init__(self, message: str, pos: Pos | None = None) -> None:
        super().__init__(f"{message} (while running {pos})" if pos is not None and pos.line else message)
        self.pos = pos


class Warning_:
    """A message that does not stop the command, at an optional source position (a plain
    class, not a dataclass: importing dataclasses doubles the start-up time of `klr --help`)."""

    __slots__ = ("message", "notes", "pos", "source_line")

    def __init__(self, message: str, pos: Pos | None = None, source_line: str | None = None,
                 notes: tuple[tuple[str, Pos | None], ...] = ()) -> None:
        self.message, self.pos, self.source_line, self.notes = message, pos, source_line, notes

    def _key(self) -> tuple[object, ...]:
        return (self.message, self.pos, self.source_line, self.notes)

    def __eq__(self, other: object) -> bool:
        return type(other) is Warning_ and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Warning_(message={self.message!r}, pos={self.pos!r}, "
                f"source_line={self.source_line!r}, notes={self.notes!r})")
