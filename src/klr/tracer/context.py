"""``Ctx``: the state of tracing one kernel body (one logical core).

Builtins receive a ``Ctx`` as their first argument. What they may use:

* ``pos``: the Pos of the expression or call being evaluated (set by the evaluator before it
  calls any builtin or TraceObject method). ``error``/``warn`` position themselves there.
* ``emit(op)``: append ``Stmt(op, name="inst.<n>", pos)`` to the current block.
* ``fresh_name(hint=None)``: a unique tensor name. Without a hint, the target variable of the
  assignment whose right-hand side is being evaluated (``ctx.target_name``, set for the
  outermost call of ``x = f(...)``) is used; the name is then ``x``, or ``x.<n>`` once ``x``
  is taken. Without either it is
  ``tensor<N>``. ``claim_name(name)`` reserves a user-given name (a kernel argument's -> error).
* ``fresh_label(hint)``, ``begin_block(label, no_reorder=False)``, ``end_block()``: basic
  blocks for dynamic control flow and ``no_reorder``; ``loop_jumps``: how the loops run by
  the device trace ``break`` and ``continue``.
* ``arch``, ``dialect`` (a ``registry.Dialect``), ``grid`` (SPMD launch grid, ``()`` when
  none), ``program_id`` (this SPMD instance's index, one int per grid dim, ``()`` when no
  grid), ``instance`` (the row-major index of ``program_id``), ``lnc`` (number of logical
  cores), ``core`` (this body's core index) and ``flags`` (the kernel's flags by name).
* ``state``: the library's state of this body (``Library.new_state``, e.g. the NKI layer's
  ``klr.tracer.nki.state.State``); it lives for the whole body, i.e. across all SPMD
  instances (so, e.g., an output allocated by every instance can be created once).
* ``call(f, args, kwargs)``, ``truth(v)``, ``iterate(v)``, ``binop(op, a, b)``,
  ``compare(op, a, b)``, ``getattr(v, name)``, ``getitem(v, key)``, ``to_str(v)``:
  Python semantics on any traced value, including calls into user functions.
* Limits (``klr.tracer.limits``): ``limits`` holds them; ``iterations_left`` counts down the
  body's ``max_total_iterations``; ``budget`` is the trace's step and memory budget, shared
  by its cores. A builtin that builds a large value charges it first with ``alloc(nbytes)``,
  and host work with ``spend(steps)``; ``limit(message, name)`` makes the LimitError of
  limit ``name``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from klr import core
from klr.errors import KlrError, LimitError, TraceError, Warning_
from klr.pos import NOPOS, Pos
from klr.tracer import ops, pymethods
from klr.tracer.affine import NotAffine
from klr.tracer.limits import STEPS_PER_STMT, Budget, Limits, limit_note
from klr.tracer.registry import Dialect
from klr.tracer.templates import Log, mode
from klr.tracer.values import Value

__all__ = ["Ctx", "Limits", "Resolver"]


class Resolver(Protocol):
    """What a Ctx asks of the evaluator running the kernel (``klr.tracer.evaluator``)."""

    def resolve_qualified(self, ctx: Ctx, name: str) -> Value: ...

    def super_of_current(self, ctx: Ctx) -> Value: ...


class Ctx:
    """Per-body tracing state (see the module docstring for the builtin-facing API)."""

    def __init__(self, *, arch: int = 2, dialect: Dialect = Dialect.beta2, grid: tuple[int, ...] = (),
                 lnc: int = 1, core_index: int = 0, limits: Limits | None = None,
                 sources: dict[tuple[str | None, int], str] | None = None,
                 budget: Budget | None = None, loop_templates: str | None = None) -> None:
        self.pos: Pos = NOPOS
        self.target_name: str | None = None
        self.arch = arch
        self.dialect = Dialect(dialect)
        self.grid = grid
        self.program_id: tuple[int, ...] = tuple(0 for _ in grid)
        self.instance = 0  # row-major index of program_id in the grid (0 without a grid)
        self.lnc = lnc
        self.core = core_index
        self.limits = limits or Limits()
        self.iterations_left = self.limits.max_total_iterations
        self.budget = budget or Budget(self.limits)
        self.state: object = None
        self.flags: dict[str, Value] = {}
        self.warnings: list[Warning_] = []
        self.messages: list[Warning_] = []
        self.blocks: list[core.Block] = []
        self._label: str | None = None
        self._no_reorder = False
        self._stmts: list[core.Stmt] = []
        self._counter = 0
        self._labels = 0
        self._tensor_index = 0
        self._tensor_names: set[str] = set()
        self._claimed: dict[str, Pos | None] = {}
        """Where each user-supplied name was claimed (None: a kernel argument's)."""
        self._stmt_count = 0
        self._sources = sources or {}
        self.resolver: Resolver | None = None  # set by the evaluator running the kernel
        self.used: set[str] = set()
        """The primary name of every registered builtin the body called (``BuiltinFn.tracked``),
        in the kernel's dialect; ``used_forms`` has the builtins with two dialect forms, with the
        form each call chose (``TraceResult.builtins`` joins the two)."""
        self.used_forms: set[tuple[str, Dialect]] = set()
        self.loop_jumps: list[Callable[[str], None] | None] = []
        """While a loop run by the device is open: for each enclosing loop, innermost last, what
        traces its ``break``/``continue`` (called with 'break' or 'continue'), or None for a
        loop unrolled at trace time."""
        self.template: Log | None = None
        """While a loop template's probe runs (``klr.tracer.templates``): its record. Errors,
        warnings, messages and blocks then raise ``NotAffine`` instead."""
        self.loop_templates = mode() if loop_templates is None else loop_templates
        """``on``, ``off`` or ``check`` (``klr.tracer.templates``)."""
        self.templated_loops = 0
        self.templated_iterations = 0

    # --- instructions and blocks --------------------------------------------------------

    def emit(self, op: core.Operator) -> core.Stmt:
        """Append ``op`` as the next statement of the current block and return the Stmt."""
        if self._label is None:
            raise AssertionError("emit outside of a block")
        self._stmt_count += 1
        if self._stmt_count > self.limits.max_stmts:
            raise self.limit(f"the kernel emits more than {self.limits.max_stmts} statements", "max_stmts")
        budget = self.budget
        budget.steps -= STEPS_PER_STMT
        if budget.steps < budget.mark:
            budget.tick(self)
        self._counter += 1
        stmt = core.Stmt(op, f"inst.{self._counter}", self.pos)
        self._stmts.append(stmt)
        if self.template is not None:
            self.template.events.append(stmt.name)
        return stmt

    def begin_block(self, label: str, no_reorder: bool = False) -> None:
        """Close the current block (if any) and start a new one."""
        if self.template is not None:
            raise NotAffine("a block")
        self.end_block()
        self._label = label
        self._no_reorder = no_reorder

    def end_block(self) -> None:
        """Close the current block, appending it to ``blocks``."""
        if self._label is not None:
            self.blocks.append(core.Block(self._label, self._no_reorder, tuple(self._stmts)))
            self._label = None
            self._stmts = []

    @property
    def label(self) -> str | None:
        """The label of the open block."""
        return self._label

    @property
    def stmt_count(self) -> int:
        return self._stmt_count

    def fresh_label(self, hint: str) -> str:
        """``<hint>.<n>`` with a per-body label counter."""
        if self.template is not None:
            raise NotAffine("a label")
        self._labels += 1
        return f"{hint}.{self._labels}"

    # --- names -------------------------------------------------------------------------

    def fresh_name(self, hint: str | None = None) -> str:
        """A new tensor name (see the module docstring)."""
        hint = hint or self.target_name
        name = self._fresh(hint)
        if self.template is not None:
            self.template.events.append(("f", hint, name))
            self.template.fresh.add(name)
        return name

    def _fresh(self, hint: str | None) -> str:
        if hint:
            name = hint
            while name in self._tensor_names:  # the first tensor of a variable keeps its name
                self._counter += 1
                name = f"{hint}.{self._counter}"
        else:
            while True:
                name = f"tensor{self._tensor_index}"
                self._tensor_index += 1
                if name not in self._tensor_names:
                    break
        self._tensor_names.add(name)
        return name

    def claim_name(self, name: str, argument: bool = False) -> str:
        """Reserve a user-supplied tensor name (NKI's names are hints). A kernel argument's
        name is an error; any other name in use gives ``<name>.<n>``: the same allocation run
        again (a loop's next iteration, a helper's next call) silently, another allocation
        that chose the same name with a warning."""
        if name in self._tensor_names:
            first = self._claimed.get(name, self.pos)
            if first is None or argument:
                raise self.error(f"tensor name '{name}' is already in use")
            renamed = self._fresh(name)
            if self.template is not None:
                if first != self.pos:
                    raise NotAffine("a renamed tensor")
                self.template.events.append(("c", name, self.pos, renamed))
                self.template.fresh.add(renamed)
            if first != self.pos:
                self.warn(f"tensor name '{name}' is already in use; this tensor is named '{renamed}'")
            return renamed
        self._tensor_names.add(name)
        self._claimed[name] = None if argument else self.pos
        if self.template is not None:
            self.template.events.append(("c", name, self.pos, name))
            self.template.fresh.add(name)
            self.template.claimed.append(name)
        return name

    # --- diagnostics -------------------------------------------------------------------

    def source_line(self, pos: Pos | None) -> str | None:
        """The source text of ``pos``'s line, when it lies inside a gathered function."""
        if pos is None:
            return None
        return self._sources.get((pos.filename, pos.line))

    def error(self, msg: str, pos: Pos | None = None, *, python: str | None = None) -> TraceError:
        """A TraceError at ``pos`` (default: ``self.pos``) with its source line; raise it.
        ``python`` names the Python exception it models (then a kernel's ``except`` may catch
        it; see docs/trace.md "Exceptions")."""
        if self.template is not None:
            raise NotAffine(f"an error: {msg}")
        pos = pos or self.pos
        err = TraceError(msg, pos, source_line=self.source_line(pos))
        err.python = python
        return err

    def limit(self, msg: str, name: str, pos: Pos | None = None) -> LimitError:
        """The LimitError of limit ``name`` (a ``Limits`` field) at ``pos`` (default:
        ``self.pos``); raise it."""
        if self.template is not None:
            raise NotAffine(f"a limit: {msg}")
        pos = pos or self.pos
        return LimitError(f"{msg} ({limit_note(name)})", pos, source_line=self.source_line(pos))

    def alloc(self, nbytes: int) -> None:
        """Charge a value of about ``nbytes`` bytes to the memory budget before building it."""
        self.budget.alloc(self, nbytes)

    def spend(self, steps: int) -> None:
        """Charge ``steps`` steps of host work to the step budget before doing it."""
        self.budget.spend(self, steps)

    def loop_limit(self, kind: str, count: int, pos: Pos) -> LimitError:
        """The LimitError of a loop stopped at its ``count``-th iteration: its own limit or the
        body's total (``kind`` is 'for loop', 'while loop' or 'comprehension')."""
        if count > self.limits.max_iterations:
            if kind == "while loop":
                return self.limit(f"while loop does not finish within {self.limits.max_iterations} "
                                  f"iterations", "max_iterations", pos)
            return self.limit(f"{kind} exceeds {self.limits.max_iterations} iterations", "max_iterations",
                              pos)
        return self.limit(f"{kind} stopped: the kernel's loops run more than "
                          f"{self.limits.max_total_iterations} iterations in total", "max_total_iterations",
                          pos)

    def locate(self, err: KlrError, pos: Pos | None = None) -> KlrError:
        """Give ``err`` a position (default ``self.pos``) when it has none."""
        if self.template is not None:
            raise NotAffine(f"an error: {err}")
        pos = pos or self.pos
        return err.at(pos, self.source_line(pos))

    def warn(self, msg: str, pos: Pos | None = None) -> None:
        if self.template is not None:
            raise NotAffine("a warning")
        pos = pos or self.pos
        self.warnings.append(Warning_(msg, pos, self.source_line(pos)))

    def message(self, msg: str, pos: Pos | None = None) -> None:
        """Record a trace message (``print``)."""
        if self.template is not None:
            raise NotAffine("a message")
        pos = pos or self.pos
        self.messages.append(Warning_(msg, pos, self.source_line(pos)))

    # --- Python semantics on traced values ---------------------------------------------

    def call(self, f: Value, args: tuple[Value, ...] = (), kwargs: dict[str, Value] | None = None) -> Value:
        return ops.call(self, f, args, kwargs or {})

    def truth(self, v: Value) -> bool:
        return ops.truth(self, v)

    def iterate(self, v: Value) -> Iterator[Value]:
        return ops.iterate(self, v)

    def binop(self, op: str, a: Value, b: Value) -> Value:
        return ops.binop(self, op, a, b)

    def compare(self, op: str, a: Value, b: Value) -> Value:
        return ops.compare(self, op, a, b)

    def getattr(self, v: Value, name: str) -> Value:
        return pymethods.getattr_(self, v, name)

    def getitem(self, v: Value, key: Value) -> Value:
        return ops.getitem(self, v, key)

    def to_str(self, v: Value) -> str:
        return ops.to_str(self, v)

    def resolve_qualified(self, name: str) -> Value:
        """The value of a fully qualified name (gathered function/class/global, then the
        builtin registry), or ``registry.MISSING``."""
        assert self.resolver is not None, "no evaluator runs this Ctx"
        return self.resolver.resolve_qualified(self, name)

    def super_of_current(self) -> Value:
        """``super()`` in the running method."""
        assert self.resolver is not None, "no evaluator runs this Ctx"
        return self.resolver.super_of_current(self)
