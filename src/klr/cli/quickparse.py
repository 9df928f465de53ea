"""The common command lines of gather, trace and info, parsed without argparse.

Importing argparse and building a command's parser cost ~2 ms of every command, more than
parsing takes. ``parse`` reads a command line made only of a command's own option strings
spelled in full, each followed by its value, and the command's positional arguments: what
argparse gives for it, as a namespace with the same attributes in the same order. Anything
else (``--help``, ``--output=X``, an abbreviated option, ``--``, a value starting with ``-``,
an invalid value, a missing or extra argument: every error) is left to argparse
(``parse`` returns None). tests/cli/test_quickparse.py checks ``SPECS`` against the argparse
parser's actions and the namespaces against argparse's on a corpus of command lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

STORE, APPEND, TRUE, INT = "store", "append", "store_true", "int"

# (dest, option strings, kind): positionals have no option strings; a tuple kind is choices
Spec = tuple[tuple[str, tuple[str, ...], Any], ...]

_KERNEL: Spec = (("arg", ("--arg",), APPEND), ("args_json", ("--args-json",), STORE),
                 ("grid", ("--grid",), STORE), ("lnc", ("--lnc",), INT), ("arch", ("--arch",), INT))
_LAST: Spec = (("limit", ("--limit",), APPEND), ("debug", ("--debug",), TRUE))

#: Each command's arguments in the order the argparse parser declares them.
SPECS: dict[str, Spec] = {
    "gather": (("file", (), STORE), ("func", (), STORE), ("output", ("-o", "--output"), STORE),
               ("include", ("-I",), APPEND), *_KERNEL, *_LAST),
    "trace": (("input", (), STORE), ("output", ("-o", "--output"), STORE), ("stats", ("--stats",), TRUE),
              *_KERNEL, *_LAST),
    "info": (("file", (), STORE), ("dump", ("--dump",), ("json", "sexp", "pretty")), *_LAST),
}


def parse(argv: Sequence[str]) -> Any:
    """argparse's namespace for ``argv``, or None where argparse is needed to read it."""
    spec = SPECS.get(argv[0]) if argv else None
    if spec is None:
        return None
    values: dict[str, Any] = {"command": argv[0]}
    positionals: list[str] = []
    options: dict[str, tuple[str, Any]] = {}
    for dest, strings, kind in spec:
        if not strings:
            positionals.append(dest)
            values[dest] = None
            continue
        values[dest] = [] if kind == APPEND else False if kind == TRUE else None
        for s in strings:
            options[s] = (dest, kind)
    given: list[str] = []
    i, end = 1, len(argv)
    while i < end:
        token = argv[i]
        i += 1
        if token[:1] != "-" or token == "-":
            given.append(token)
            continue
        found = options.get(token)
        if found is None or (found[1] != TRUE and i == end):
            return None
        dest, kind = found
        if kind == TRUE:
            values[dest] = True
            continue
        value: Any = argv[i]
        i += 1
        if value[:1] == "-" and value != "-":
            return None
        if kind == INT:
            try:
                value = int(value)
            except ValueError:
                return None
        elif type(kind) is tuple and value not in kind:
            return None
        values[dest] = [*values[dest], value] if kind == APPEND else value
    if len(given) != len(positionals):
        return None
    values.update(zip(positionals, given))
    return SimpleNamespace(**values)
