"""The ``klr`` command's entry point: the top-level help without importing the command line.

``klr``, ``klr -h`` and ``klr --help`` print ``klr.cli.helptext.TEXT``: what argparse prints
for ``klr.cli.main.build_parser()``, generated for one Python minor version and terminal
width (``python scripts/help_text.py``; tests/cli/test_entry.py keeps it equal). Importing
argparse and the command line would cost more than Python's own start-up. Any other command
line, Python version or width goes to ``klr.cli.main``.

Starting a command allocates some hundred thousand long-lived objects (classes, functions,
registry entries) and no cyclic garbage; the collector would pass over them a few dozen times
(~5% of a small trace). It is paused until the command has imported what it needs
(``resume_collection``).
"""

from __future__ import annotations

import gc
import sys

from klr.cli.terminal import columns

HELP_ARGS: tuple[list[str], ...] = ([], ["-h"], ["--help"])

_paused = False


def resume_collection() -> None:
    """Turn the cyclic collector back on if ``main`` paused it."""
    global _paused
    if _paused:
        _paused = False
        if not gc.get_freeze_count():
            # what start-up made goes to the oldest generation unscanned, where collections would
            # have moved it; else every young-generation pass would scan all of it
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args in HELP_ARGS:
        from klr.cli import helptext

        if sys.version_info[:2] == helptext.PYTHON and columns() == helptext.COLUMNS:
            sys.stdout.write(helptext.TEXT)
            return 0
    global _paused
    _paused = gc.isenabled()
    gc.disable()
    try:
        from klr.cli.main import main as run

        return run(args)
    finally:
        resume_collection()
