"""Device registers and the control flow they decide at run time.

A ``Register`` is a traced 32-bit integer living in an engine register
(``nisa.register_alloc``): its value is only known when the kernel runs. Where the Python
evaluator meets one (``klr.tracer.values.TraceObject.dynamic``), it hands the construct over
instead of deciding it at trace time, and this module emits Core blocks:

* ``if r:`` / ``if r < n:``: ``cmpBranch`` to ``then.N`` / ``else.N``, each jumping to ``end.N``;
* ``for i in nl.dynamic_range(l, u, s)`` (and the other ranges when a bound is a register):
  the loop variable is a register set to ``l``; a guard branches to ``body.N`` or ``exit.N``;
  ``next.N`` steps it with ``registerAluOp add`` and branches back while ``i < u``;
* ``while r:``: the same blocks, ``next.N`` re-evaluating the test;
* ``break`` / ``continue`` in a dynamic loop jump to ``exit.N`` / ``next.N``.

Each body is traced once, so the tensors it allocates are allocated once and reused by every
iteration. Owed tiles (``klr.tracer.nki.results``) are settled before a block closes: their
rescue must not run in another block. Inside a dynamic loop, a PSUM tensor allocated outside it
is never taken as fresh: a matmul into it accumulates, whatever iteration runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.core import AluOp, BrCmpOp
from klr.tracer.affine import NotAffine
from klr.tracer.nki import operators
from klr.tracer.nki.emit import ready
from klr.tracer.nki.state import state
from klr.tracer.show import describe
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = ["Condition", "DynamicRange", "Register", "RegisterSlice", "as_int32", "counted", "dynamic_bounds",
           "fresh_register", "if_", "loop", "set_register", "test_of"]

_RUNTIME = "a register's value is only known when the kernel runs"

_CMP = {"<": "lt", "<=": "le", "==": "eq", "!=": "ne", ">=": "ge", ">": "gt"}
_ALU = {"+": AluOp.add, "-": AluOp.subtract, "*": AluOp.mult}
_OPPOSITE = {"lt": "ge", "le": "gt", "eq": "ne", "ne": "eq", "ge": "lt", "gt": "le"}
_NEGATED = {BrCmpOp[f"{a}_{k}"]: BrCmpOp[f"{b}_{k}"] for a, b in _OPPOSITE.items() for k in ("imm", "reg")}


class Register(TraceObject):
    """A device register (NKI's ``VirtualRegister``), named in Core by ``name``. ``r + 1`` is a
    new register; ``r += 1`` updates ``r`` itself, unless it is ``frozen`` (a loop's variable,
    which the loop steps: then it rebinds the name to a new register, as Python would)."""

    __slots__ = ("frozen", "name")
    type_name = "register"
    dynamic = True

    def __init__(self, name: str, frozen: bool = False) -> None:
        self.name = name
        self.frozen = frozen

    def __repr__(self) -> str:
        return f"<register {self.name}>"

    def truth(self, ctx: Ctx) -> bool:
        raise ctx.error(f"{_RUNTIME}: it can be the test of an if or while statement, not a Python "
                        "truth value")

    def branch(self, ctx: Ctx, then_: Callable[[], None], else_: Callable[[], None]) -> None:
        if_(ctx, test_of(ctx, self), then_, else_)

    def repeat(self, ctx: Ctx, retest: Callable[[], Value], body: Callable[[], None]) -> None:
        _while(ctx, test_of(ctx, self), retest, body)

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        alu = _ALU.get(op)
        if alu is None or isinstance(other, bool) or not isinstance(other, int) or (reflected and op == "-"):
            if isinstance(other, Register):
                raise ctx.error(f"{_RUNTIME}: '{op}' of two registers has no register instruction "
                                "(registerAluOp takes a register and an integer)")
            return NotImplemented
        out = fresh_register(ctx)
        operators.register_alu(ctx, out.name, self.name, alu, as_int32(ctx, other, f"the operand of '{op}'"))
        return out

    def unop(self, ctx: Ctx, op: str) -> Value:
        if op == "not":
            return Condition(BrCmpOp.eq_imm, self.name, "", 0)
        return super().unop(ctx, op)

    def inplace(self, ctx: Ctx, op: str, other: Value) -> Value:
        if self.frozen:
            return self.binop(ctx, op, other, False)
        alu = _ALU.get(op)
        if alu is None or isinstance(other, bool) or not isinstance(other, int):
            return self.binop(ctx, op, other, False)
        value = as_int32(ctx, other, f"the operand of '{op}='")
        operators.register_alu(ctx, self.name, self.name, alu, value)
        return self

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        kind = _CMP[op]
        if isinstance(other, Register):
            return Condition(BrCmpOp[kind + "_reg"], self.name, other.name, 0)
        if isinstance(other, bool) or not isinstance(other, int):
            raise ctx.error(f"a register can only be compared with an integer or a register, not "
                            f"{type_name(other)}")
        return Condition(BrCmpOp[kind + "_imm"], self.name, "", as_int32(ctx, other, "the compared value"))

    def iterate(self, ctx: Ctx) -> Value:
        raise ctx.error(f"{_RUNTIME}: loop over it with nl.dynamic_range, not range()")

    def loop(self, ctx: Ctx, body: Callable[[Value], None]) -> None:
        self.iterate(ctx)

    def length(self, ctx: Ctx) -> int:
        raise ctx.error(f"{_RUNTIME}: it has no len()")


class Condition(TraceObject):
    """A register compared with an integer or another register (``r < 4``): a test decided at
    run time, by one ``cmpBranch``."""

    __slots__ = ("imm", "op", "reg1", "reg2")
    type_name = "register comparison"
    dynamic = True

    def __init__(self, op: BrCmpOp, reg1: str, reg2: str, imm: int) -> None:
        self.op = op
        self.reg1 = reg1
        self.reg2 = reg2
        self.imm = imm

    def truth(self, ctx: Ctx) -> bool:
        raise ctx.error("a comparison of a register is only decided when the kernel runs: it can be "
                        "the test of an if or while statement, not a Python truth value")

    def unop(self, ctx: Ctx, op: str) -> Value:
        if op == "not":
            return Condition(_NEGATED[self.op], self.reg1, self.reg2, self.imm)
        return super().unop(ctx, op)

    def branch(self, ctx: Ctx, then_: Callable[[], None], else_: Callable[[], None]) -> None:
        if_(ctx, self, then_, else_)

    def repeat(self, ctx: Ctx, retest: Callable[[], Value], body: Callable[[], None]) -> None:
        _while(ctx, self, retest, body)


class RegisterSlice(TraceObject):
    """``nl.ds(r, size)`` with ``r`` a register: ``size`` elements from ``r``, an index for the
    first dimension of a whole tensor."""

    __slots__ = ("reg", "size")
    type_name = "dynamic slice"

    def __init__(self, reg: Register, size: int) -> None:
        self.reg = reg
        self.size = size

    def __repr__(self) -> str:
        return f"nl.ds({self.reg!r}, {self.size})"


class DynamicRange(TraceObject):
    """``nl.dynamic_range(start, stop, step)``: a loop run by the device, whose bounds may be
    registers; its variable is a register."""

    __slots__ = ("start", "step", "stop", "what")
    type_name = "dynamic range"
    dynamic = True

    def __init__(self, what: str, start: int | Register, stop: int | Register, step: int) -> None:
        self.what = what
        self.start = start
        self.stop = stop
        self.step = step

    def __repr__(self) -> str:
        return f"{self.what}({self.start!r}, {self.stop!r}, {self.step})"

    def iterate(self, ctx: Ctx) -> Value:
        raise ctx.error(f"{self.what} runs on the device: it can only be the iterable of a for statement")

    def length(self, ctx: Ctx) -> int:
        raise ctx.error(f"{self.what} runs on the device: its length is only known when the kernel runs")

    def loop(self, ctx: Ctx, body: Callable[[Value], None]) -> None:
        counted(ctx, self.start, self.stop, self.step, body)


def counted(ctx: Ctx, start: int | Register, stop: int | Register, step: int,
            body: Callable[[Register], None]) -> None:
    """A device loop of ``body(i)`` for ``i`` from ``start`` while ``i < stop``, by ``step``."""
    i = fresh_register(ctx, "iv", frozen=True)
    set_register(ctx, i, start)
    if isinstance(stop, Register):
        bound = fresh_register(ctx, "bound")   # as range(): the bound is read once
        set_register(ctx, bound, stop)
        test = Condition(BrCmpOp.lt_reg, i.name, bound.name, 0)
    else:
        test = Condition(BrCmpOp.lt_imm, i.name, "", stop)

    def step_() -> Condition:
        operators.register_alu(ctx, i.name, i.name, AluOp.add, step)
        return test

    loop(ctx, test, lambda: body(i), step_)


def dynamic_bounds(ctx: Ctx, what: str, start: Value, stop: Value, step: Value) -> DynamicRange:
    """The range of a device loop: bounds that are integers or registers, a positive int step."""
    if stop is None:
        start, stop = 0, start
    if isinstance(step, Register):
        raise ctx.error(f"the step of {what} must be an integer known when tracing, not a register")
    if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
        raise ctx.error(f"the step of {what} must be a positive integer, not {describe(step)}")
    return DynamicRange(what, bound_of(ctx, start, f"the start of {what}"),
                        bound_of(ctx, stop, f"the stop of {what}"),
                        as_int32(ctx, step, f"the step of {what}"))


def bound_of(ctx: Ctx, v: Value, what: str) -> int | Register:
    """A loop bound: a register or an int32."""
    if isinstance(v, Register):
        return v
    if isinstance(v, bool) or not isinstance(v, int):
        raise ctx.error(f"{what} must be an integer or a register, not {type_name(v)}")
    return as_int32(ctx, v, what)


def as_int32(ctx: Ctx, v: int, what: str) -> int:
    if not -2**31 <= v < 2**31:
        raise ctx.error(f"{what} {describe(v)} does not fit a 32-bit register")
    return v


def fresh_register(ctx: Ctx, hint: str | None = None, *, frozen: bool = False) -> Register:
    """A register with a fresh name: the assigned variable's when there is one, ``name.N`` once
    taken (registers have their own names in Core, apart from tensors')."""
    taken = state(ctx).registers
    base = hint or ctx.target_name or "reg"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}.{n}"
    taken.add(name)
    return Register(name, frozen)


def set_register(ctx: Ctx, dst: Register, value: int | Register) -> None:
    if isinstance(value, Register):
        operators.register_alu(ctx, dst.name, value.name, AluOp.add, 0)
    else:
        operators.register_move(ctx, dst.name, value)


def test_of(ctx: Ctx, v: Value) -> Condition:
    """The branch condition of a dynamic test: a register (non-zero) or a comparison."""
    if isinstance(v, Condition):
        return v
    if isinstance(v, Register):
        return Condition(BrCmpOp.ne_imm, v.name, "", 0)
    raise ctx.error(f"the test of a loop on a register must stay a register or a comparison of "
                    f"one, not become {type_name(v)}")


# --- blocks ----------------------------------------------------------------------------------


def _settle(ctx: Ctx) -> None:
    """Run the rescues of owed tiles now, in the open block."""
    watch = state(ctx).watch
    if ctx.template is not None and watch:
        raise NotAffine("owed tiles settled for control flow")
    while watch:
        _, owed = watch.popitem()
        for r in owed:
            buf = r()
            if buf is not None:
                ready(ctx, buf)


def _branch(ctx: Ctx, c: Condition, then: str, other: str) -> None:
    operators.branch(ctx, c.op, c.reg1, c.reg2, c.imm, then, other)


def _unordered(ctx: Ctx) -> None:
    """Refuse control flow decided at run time inside ``with nl.no_reorder():``, whose
    statements must stay in one Core block (as in the reference KLR)."""
    if state(ctx).no_reorder:
        raise ctx.error("control flow decided at run time (an if, while or loop on a register) cannot be "
                        "inside nl.no_reorder(), whose statements stay in one block")


def if_(ctx: Ctx, test: Condition, then_: Callable[[], None], else_: Callable[[], None]) -> None:
    """``if test: then_() else: else_()`` decided at run time."""
    _unordered(ctx)
    pos = ctx.pos
    _settle(ctx)
    then, other, end = ctx.fresh_label("then"), ctx.fresh_label("else"), ctx.fresh_label("end")
    _branch(ctx, test, then, other)
    for label, run in ((then, then_), (other, else_)):
        ctx.begin_block(label)
        run()
        _settle(ctx)
        ctx.pos = pos
        operators.jump(ctx, end)
    ctx.begin_block(end)


def loop(ctx: Ctx, test: Condition, body: Callable[[], None], step: Callable[[], Condition]) -> None:
    """A device loop: ``while test: body(); test = step()``."""
    _unordered(ctx)
    pos = ctx.pos
    _settle(ctx)
    start, again, end = ctx.fresh_label("body"), ctx.fresh_label("next"), ctx.fresh_label("exit")
    _branch(ctx, test, start, end)
    ctx.begin_block(start)
    st = state(ctx)

    def jump(kind: str) -> None:
        operators.jump(ctx, end if kind == "break" else again)

    st.loop_allocs.append(set())
    ctx.loop_jumps.append(jump)
    try:
        body()
        _settle(ctx)
    finally:
        ctx.loop_jumps.pop()
        st.loop_allocs.pop()
    ctx.begin_block(again)
    ctx.pos = pos
    _branch(ctx, step(), start, end)
    ctx.begin_block(end)


def _while(ctx: Ctx, first: Condition, retest: Callable[[], Value], body: Callable[[], None]) -> None:
    loop(ctx, first, body, lambda: test_of(ctx, retest()))
