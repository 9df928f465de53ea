"""The ``klr`` command's entry point: the top-level help without importing the command line.

``klr``, ``klr -h`` and ``klr --help`` print ``klr.cli.helptext.TEXT``: what argparse prints
for ``klr.cli.main.build_parser()``, generated for one Python minor version and terminal
width (``python scripts/help_text.py``; tests/cli/test_entry.py keeps it equal). Importing
argparse and the command line would cost more than Python's own start-up. Any other command
line, Python version or width goes to ``klr.cli.main``.
"""

from __future__ import annotations

import os
import sys

HELP_ARGS: tuple[list[str], ...] = ([], ["-h"], ["--help"])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args in HELP_ARGS:
        from klr.cli import helptext

        if sys.version_info[:2] == helptext.PYTHON and columns() == helptext.COLUMNS:
            sys.stdout.write(helptext.TEXT)
            return 0
    from klr.cli.main import main as run

    return run(args)


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
