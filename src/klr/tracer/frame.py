"""What compiled code runs on: frames, control-flow signals and the closure types.

A statement closure takes the frame and returns None to continue or a Signal (break,
continue, return) to stop the enclosing body; an expression closure returns its value.
"""

from __future__ import annotations

from collections.abc import Callable

from klr.python import ast as A
from klr.tracer.values import Value

__all__ = ["BINOP_SYMBOLS", "BREAK", "CONTINUE", "EMPTY", "RETURN", "Body", "Fn", "Frame", "Signal"]


class Signal:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


BREAK = Signal("break")
CONTINUE = Signal("continue")
RETURN = Signal("return")


class Frame:
    """A function activation: its locals, the enclosing frames' locals (innermost first,
    shared by reference so closures see later rebindings), and its local-name set."""

    __slots__ = ("enclosing", "local_names", "locals", "ret")

    def __init__(self, locals_: dict[str, Value], enclosing: tuple[dict[str, Value], ...],
                 local_names: frozenset[str]) -> None:
        self.locals = locals_
        self.enclosing = enclosing
        self.local_names = local_names
        self.ret: Value = None


Fn = Callable[[Frame], Value]
Body = Callable[[Frame], "Signal | None"]

BINOP_SYMBOLS = {
    A.BinOp.add: "+", A.BinOp.sub: "-", A.BinOp.mul: "*", A.BinOp.matmul: "@", A.BinOp.div: "/",
    A.BinOp.mod: "%", A.BinOp.pow: "**", A.BinOp.lshift: "<<", A.BinOp.rshift: ">>",
    A.BinOp.or_: "|", A.BinOp.xor: "^", A.BinOp.and_: "&", A.BinOp.floor: "//",
}

EMPTY: frozenset[str] = frozenset()
