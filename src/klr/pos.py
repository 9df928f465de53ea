"""Source positions, shared by the Python AST and Core (the reference's ``Core.Pos``, tag 100).

Lines are 1-based and absolute in ``filename``; columns are 0-based, as in CPython's ``ast``.
"""

from __future__ import annotations

from klr.schema import Nat, node


@node(tag=100)
class Pos:
    line: Nat
    column: Nat = 0
    lineEnd: Nat | None = None
    columnEnd: Nat | None = None
    filename: str | None = None

    def __str__(self) -> str:
        return f"{self.filename or '<unknown>'}:{self.line}:{self.column + 1}"


NOPOS = Pos(0)
