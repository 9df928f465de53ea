"""Diagnostics: one positioned error type with a subclass per phase, rendered like a compiler's.

    kern.py:12:5: error: store of a [128, 256] tile into a [128, 512] region
       12 |     nl.store(out[i], t)
          |     ^~~~~~~~~~~~~~~~~~~

A ``KlrError`` is a problem with the user's input; anything else escaping klr is a bug in klr
and is reported by the CLI as an internal error.

Positions come from data (a KLR file names any file it likes), so the source line under a
message is only ever taken from the error itself, from a source file klr read in this process
(``remember_source``), or from a ``.py`` file below the current directory named by a relative
path (``klr.files.source_line``); never from any other file. Control characters and
bidirectional-text overrides in what is printed are shown escaped.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
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
    phase = "trace"


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


_SOURCES: OrderedDict[str, list[str]] = OrderedDict()
_MAX_SOURCES = 64


def remember_source(filename: str, lines: list[str]) -> None:
    """Keep the lines of a source file klr read, to show them under errors at its positions
    (by absolute path: a relative name means another file once the directory changes)."""
    key = _absolute(filename)
    if key is None:
        return
    _SOURCES[key] = lines
    _SOURCES.move_to_end(key)
    while len(_SOURCES) > _MAX_SOURCES:
        _SOURCES.popitem(last=False)


def _absolute(filename: str) -> str | None:
    try:
        return os.path.abspath(filename)
    except OSError:  # the current directory is gone
        return None


def _line_text(pos: Pos, source_line: str | None) -> str | None:
    if source_line is not None:
        return source_line
    if not pos.filename:
        return None
    lines = _SOURCES.get(_absolute(pos.filename) or "")
    if lines is not None:
        return lines[pos.line - 1].rstrip("\r\n") if 0 < pos.line <= len(lines) else None
    from klr import files

    return files.source_line(pos.filename, pos.line)


# C0 and C1 controls (but tab) and the bidirectional overrides and isolates.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control characters and bidirectional overrides escaped (``\\x1b``)."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1] if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", text)


def render(severity: str, message: str, pos: Pos | None, source_line: str | None = None,
           notes: tuple[tuple[str, Pos | None], ...] = ()) -> str:
    """``file:line:col: severity: message``, the source line and a caret under the span."""
    if pos is None or pos.line == 0:
        out = [printable(f"{severity}: {message}")]
    else:
        out = [printable(f"{pos}: {severity}: {message}")]
        text = _line_text(pos, source_line)
        if text is not None:
            out += _excerpt(pos, text.expandtabs(1))
    for msg, npos in notes:
        out.append(render("note", msg, npos))
    return "\n".join(out)


#: Characters of a source line shown under a message; a longer line is cut around the caret.
SHOWN_LINE = 160


def _excerpt(pos: Pos, text: str) -> list[str]:
    """The source line (cut to ``SHOWN_LINE`` characters around the span) and the carets."""
    column = pos.column
    if pos.lineEnd in (None, pos.line) and pos.columnEnd is not None:
        width = max(1, pos.columnEnd - column)
    else:
        width = max(1, len(text.rstrip()) - column)
    if len(text) > SHOWN_LINE:
        start = max(0, min(column - 40, len(text) - SHOWN_LINE))
        end = start + SHOWN_LINE
        head = "..." if start else ""
        text = head + text[start:end] + ("..." if end < len(text) else "")
        width = max(1, min(width, end - column))
        column = column - start + len(head)
    gutter = f"{pos.line:>5} | "
    return [gutter + printable(text),
            " " * (len(gutter) - 2) + "| " + " " * column + "^" + "~" * (width - 1)]


def render_error(err: KlrError) -> str:
    return render("error", err.message, err.pos, err.source_line, err.notes)


def render_warning(w: Warning_) -> str:
    return render("warning", w.message, w.pos, w.source_line, w.notes)
