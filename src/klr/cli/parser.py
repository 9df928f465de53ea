"""The ``klr`` command line's argparse parser: every command line klr.cli.quickparse leaves,
its errors and ``--help``, and the reference the quick parser is tested against."""

from __future__ import annotations

import argparse
from typing import Any

from klr import __version__
from klr.cli.terminal import columns


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")


def _limit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help="set a resource limit (repeatable; values take k/M/G/T or Ki/Mi/Gi/Ti "
                        "suffixes); '--limit help' lists this command's limits and defaults")


def _kernel_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arg", action="append", default=[], metavar="SPEC",
                   help="a kernel argument: NAME=DTYPE[D0,D1,...], NAME=LITERAL, or the same "
                        "without NAME= for the next positional parameter (repeatable)")
    p.add_argument("--args-json", metavar="FILE", help="kernel arguments as a JSON list or object")
    p.add_argument("--grid", metavar="G0,G1,...",
                   help="SPMD launch grid of a legacy kernel (kernel[g0, g1](...))")
    p.add_argument("--lnc", type=int, metavar="N", help="logical NeuronCore count (Kernel.grid)")
    p.add_argument("--arch", type=int, metavar="N", help="target generation (2, 3 or 4; default 2)")


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized as argparse sizes it without importing shutil for that (every
    ``add_argument`` makes one)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser with ``_Formatter``; its subparsers are ``_Parser`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``command``, that subcommand's in full and the others as
    empty placeholders, which is all that parsing a command line starting with it needs (each
    subparser costs its construction, and argparse's message look-ups, at every start)."""
    parser = _Parser(
        prog="klr",
        description="KLR, the Kernel Language Representation: gather NKI kernels into KLR, trace "
                    "them into KLR Core, and run Core on numpy.")
    parser.add_argument("--version", action="version", version=f"klr {__version__}")
    # prog given: argparse would otherwise format a usage line (importing shutil) to find it
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog="klr")
    for name, add in _SUBCOMMANDS.items():
        if command is None or command == name:
            add(sub)
        else:
            sub.add_parser(name, add_help=False)
    return parser


def _gather_parser(sub: Any) -> None:
    g = sub.add_parser("gather", help="parse a kernel and what it references into a KLR Python-AST file",
                       description="Parse FUNC in FILE (and the helpers, classes, constants and user "
                                   "modules it references) into a KLR Python-AST file. The user's "
                                   "code is read, never imported or executed.")
    g.add_argument("file", help="the Python source file")
    g.add_argument("func", help="the kernel function's name")
    g.add_argument("-o", "--output", metavar="OUT", help="output file (default FUNC.klr; - for "
                                                           "standard output)")
    g.add_argument("-I", dest="include", action="append", default=[], metavar="DIR",
                   help="another directory to search for imported user modules")
    _kernel_args(g)
    _limit_option(g)
    _common(g)


def _trace_parser(sub: Any) -> None:
    t = sub.add_parser("trace", help="partially evaluate a gathered kernel into KLR Core",
                       description="Trace a gathered kernel for its (recorded or given) arguments into "
                                   "KLR Core: loops unrolled, Python values computed away, every NKI "
                                   "call turned into Core operators.")
    t.add_argument("input", metavar="IN.klr", help="a file written by klr gather")
    t.add_argument("-o", "--output", metavar="OUT",
                   help="output file (default IN with .core.klr; - for standard output); shared "
                        "constants go to shared_constants/ beside it")
    t.add_argument("--stats", action="store_true",
                   help="print the trace's time, steps, peak memory and Core statements by operator")
    _kernel_args(t)
    _limit_option(t)
    _common(t)


def _eval_parser(sub: Any) -> None:
    from klr.cli import evaluate

    evaluate.add_parser(sub, _common, _limit_option)


def _check_parser(sub: Any) -> None:
    from klr.cli import check

    _common(check.add_parser(sub))


def _run_parser(sub: Any) -> None:
    from klr.cli import run

    r = run.add_parser(sub)
    _limit_option(r)
    _common(r)


def _cache_parser(sub: Any) -> None:
    from klr.cli import cache

    _common(cache.add_parser(sub))


def _info_parser(sub: Any) -> None:
    i = sub.add_parser("info", help="describe a KLR file",
                       description="Print a summary of any KLR file, or dump it whole.")
    i.add_argument("file", help="a .klr file")
    i.add_argument("--dump", choices=("json", "sexp", "pretty"), help="print the whole contents")
    _limit_option(i)
    _common(i)


def _list_parser(sub: Any) -> None:
    ls = sub.add_parser("list", help="list the builtins the tracer knows",
                        description="List every NKI and Python builtin the tracer knows, with its "
                                    "parameters and the Core operators it emits.")
    ls.add_argument("prefix", nargs="?", default="",
                    help="only names starting with this (nl., nisa., nki., neuronxcc.nki., numpy....)")
    ls.add_argument("--json", action="store_true", help="print the entries as JSON")
    _common(ls)


_SUBCOMMANDS = {"gather": _gather_parser, "trace": _trace_parser, "eval": _eval_parser,
                "check": _check_parser, "run": _run_parser, "cache": _cache_parser,
                "info": _info_parser, "list": _list_parser}
