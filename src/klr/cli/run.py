"""``klr run [--stats] [--debug] (SCRIPT | -m MODULE) [ARGS...]``: a program with klr's NKI.

Everything after the script or ``-m MODULE`` belongs to the program (``klr run -m pytest -x
tests/``), so the command line is split here before argparse sees klr's own options. The work
is ``klr.sim.script.run``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from klr.errors import UsageError

DESCRIPTION = (
    "Run a Python program (a script, or a module such as pytest) with nki, nki.language, nki.isa, "
    "nki.typing and neuronxcc.nki provided by klr: the program runs as plain Python and every "
    "kernel it calls (nki.jit, nki.baremetal, nki.simulate_kernel, nki.simulate, nki.benchmark, "
    "nki.profile) is gathered from its source, traced and run by klr's interpreter. klr's modules "
    "win over an installed Neuron SDK while the program runs.")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    r: argparse.ArgumentParser = sub.add_parser(
        "run", help="run a Python program or test suite with klr simulating its NKI kernels",
        description=DESCRIPTION,
        usage="klr run [--stats] [--no-cache] [--limit NAME=VALUE] [--debug] (SCRIPT | -m MODULE) "
              "[ARGS ...]")
    r.add_argument("target", nargs="?", metavar="SCRIPT", help="the Python script to run")
    r.add_argument("-m", dest="module", metavar="MODULE", help="run a module as python -m does")
    r.add_argument("args", nargs="*", metavar="ARGS", help="the program's arguments")
    r.add_argument("--stats", action="store_true",
                   help="print, at the end, the kernel calls klr simulated and their time per phase")
    r.add_argument("--no-cache", dest="cache", action="store_false",
                   help="gather and trace every kernel call, without the compile cache (klr cache)")
    return r


def split(argv: Sequence[str]) -> tuple[list[str], str | None, str | None, list[str]]:
    """klr's options, the script, the module and the program's arguments of ``klr run ARGV``."""
    options: list[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-m" and argv[i] != "-":
        options.append(argv[i])
        i += 1
        if options[-1] == "--limit" and i < len(argv):  # its value may not start with '-'
            options.append(argv[i])
            i += 1
    if i == len(argv):
        return options, None, None, []
    if argv[i] == "-m":
        if i + 1 == len(argv):
            raise UsageError("klr run -m needs a module name (klr run -m pytest tests/)")
        return options, None, argv[i + 1], list(argv[i + 2:])
    return options, argv[i], None, list(argv[i + 1:])


def cmd_run(args: argparse.Namespace, limits: dict[str, str]) -> int:
    """Run the program; ``limits`` (from ``--limit``) apply to every kernel it simulates."""
    from klr.sim.script import run

    if args.module is None and args.target is None:
        raise UsageError("klr run needs a script or -m MODULE (klr run kern_test.py, klr run -m pytest)")
    target = args.module if args.module is not None else args.target
    return run(target, args.args, module=args.module is not None, stats=args.stats, debug=args.debug,
               limits=limits, cache=args.cache)
