"""``klr check FILE.klr``: the static rules of every statement of a traced kernel.

Each broken rule prints as ``file:line:col: error: <op> (statement N, inst.K): message`` with
the source line and a caret when the kernel's source is readable; the exit status is 0 when the
kernel is clean and 1 otherwise. The rules live in ``klr.core.rules``, imported when the command
runs (``klr --help`` stays light).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register the ``check`` subcommand on ``sub`` (the parser's subparsers)."""
    c: argparse.ArgumentParser = sub.add_parser(
        "check", help="check a traced kernel against the static rules of its operators",
        description="Check every statement of a traced KLR Core kernel against its operator's "
                    "static rules: operand shapes, memories, engines, partition and PSUM limits, "
                    "dtypes. Exits 1 when a rule is broken.")
    c.add_argument("input", metavar="IN.klr", help="a file written by klr trace")
    return c


def cmd_check(args: argparse.Namespace) -> int:
    from klr.core.rules import check_kernel
    from klr.diagnostics import render
    from klr.format import file as kfile

    kernel = kfile.read(args.input, expect="lnc")
    found = check_kernel(kernel)
    for d in found:
        if d.pos.line:
            print(render("error", str(d), d.pos), file=sys.stderr)
        else:
            print(f"{args.input}: error: {d}", file=sys.stderr)
    statements = sum(len(block.body) for body in kernel.bodies for block in body)
    if found:
        print(f"{args.input}: {len(found)} error{'s' if len(found) > 1 else ''} in {statements} "
              f"statements", file=sys.stderr)
        return 1
    print(f"{args.input}: {statements} statements, no errors")
    return 0
