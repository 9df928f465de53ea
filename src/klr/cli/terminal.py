"""The terminal's width, as argparse reads it, for klr.cli.entry and klr.cli.main."""

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
