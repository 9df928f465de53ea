"""What klr.cli.entry and klr.cli.main share about standard output: the terminal's width, as
argparse reads it, and how a closed pipe ends the command (``klr list | head -1``)."""

from __future__ import annotations

import os
import sys


def columns() -> int:
    """The terminal width argparse formats help for (``shutil.get_terminal_size().columns``,
    without importing shutil)."""
    try:
        width = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        width = 0
    if width <= 0:
        try:
            width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            width = 0
        width = width or 80
    return width


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `cat` in the same place


def silence_stdout() -> None:
    """Point standard output at /dev/null, so the final flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
