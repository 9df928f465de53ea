"""Rendering diagnostics like a compiler's: ``file:line:col: severity: message``, the source
line and a caret under the span, then any notes.

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

from klr.errors import KlrError, Warning_

if TYPE_CHECKING:  # annotations only: rendering must not import the IR classes
    from klr.pos import Pos

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
    from klr import files  # here, so that `klr --help` (which renders usage errors) stays light

    return files.source_line(pos.filename, pos.line)


# C0 and C1 controls (but tab) and the bidirectional overrides and isolates.
# Patterns are compiled on first use (re keeps them), so that importing compiles nothing.
_UNPRINTABLE = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def printable(text: str) -> str:
    """``text`` with control characters and bidirectional overrides escaped (``\\x1b``)."""
    return re.sub(_UNPRINTABLE, lambda m: repr(m.group())[1:-1] if ord(m.group()) < 0x100
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
