"""Checking a whole kernel: every statement's rule, every tensor declaration, every branch target."""

from __future__ import annotations

from klr.core.basic import Block, Kernel, LncKernel, Stmt, tensors_of
from klr.core.operators import operator_name
from klr.core.optypes import BrCmpOp
from klr.core.rules.base import RuleError, check, check_tensor
from klr.core.sysops import CmpBranch
from klr.pos import Pos
from klr.schema import record


@record
class Diagnostic:
    """A rule one statement breaks."""

    op: str             # the operator's constructor name
    index: int          # the statement's number, 1-based, counting every block of every body in order
    name: str | None    # the statement's instruction name (``inst.N``)
    pos: Pos
    message: str        # one sentence naming the operand

    def __str__(self) -> str:
        where = f"statement {self.index}" + (f", {self.name}" if self.name else "")
        return f"{self.op} ({where}): {self.message}"


def check_kernel(kernel: LncKernel | Kernel, *, hardware: bool = True) -> list[Diagnostic]:
    """Every rule the kernel's statements break, in program order (the first per statement).

    Besides each operator's rule (``check``), a statement is checked for the declarations of the
    tensors it is the first to use (``check_tensor``, with ``hardware``) and, for ``cmpBranch``,
    for blocks with the labels it jumps to.
    """
    bodies = kernel.bodies if isinstance(kernel, LncKernel) else (kernel.body,)
    found: list[Diagnostic] = []
    seen: set[str] = set()
    index = 0
    for body in bodies:
        labels = {block.label for block in body}
        for stmt in _statements(body):
            index += 1
            try:
                check(stmt.op, hardware=hardware)
                if hardware:
                    for t in tensors_of(stmt.op):
                        if t.name not in seen:
                            seen.add(t.name)
                            check_tensor(t)
                if isinstance(stmt.op, CmpBranch):
                    _targets(stmt.op, labels)
            except RuleError as err:
                found.append(Diagnostic(operator_name(stmt.op), index, stmt.name, stmt.pos, err.message))
    return found


def _statements(body: tuple[Block, ...]) -> list[Stmt]:
    return [stmt for block in body for stmt in block.body]


def _targets(op: CmpBranch, labels: set[str]) -> None:
    targets = [("trueLabel", op.trueLabel)]
    if op.op is not BrCmpOp.always:
        targets.append(("falseLabel", op.falseLabel))
    for field, label in targets:
        if label not in labels:
            raise RuleError(f"{field} '{label}' names no block of this body")
