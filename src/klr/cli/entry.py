"""The ``klr`` command's entry point: the top-level help without importing the command line.

``klr``, ``klr -h`` and ``klr --help`` print ``klr.cli.helptext.TEXT``: what argparse prints
for ``klr.cli.main.build_parser()``, generated for one Python minor version and terminal
width (``python scripts/help_text.py``; tests/cli/test_entry.py keeps it equal). Importing
argparse and the command line would cost more than Python's own start-up. Any other command
line, Python version or width goes to ``klr.cli.main``.

The cyclic collector is paused while the command starts (``klr.cli.collector``).
"""

from __future__ import annotations

import sys

from klr.cli.collector import pause_collection, resume_collection
from klr.cli.terminal import EXIT_BROKEN_PIPE, columns, silence_stdout

HELP_ARGS: tuple[list[str], ...] = ([], ["-h"], ["--help"])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        try:
            return _dispatch(args)
        finally:  # also when argparse exits from inside (--help of a subcommand)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:  # `klr --help | head -1`: stop quietly, as a program killed by SIGPIPE
        silence_stdout()
        return EXIT_BROKEN_PIPE


def _dispatch(args: list[str]) -> int:
    if args in HELP_ARGS:
        from klr.cli import helptext

        if sys.version_info[:2] == helptext.PYTHON and columns() == helptext.COLUMNS:
            sys.stdout.write(helptext.TEXT)
            return 0
    pause_collection()
    try:
        from klr.cli.main import main as run

        return run(args)
    finally:
        resume_collection()
