"""Running an LncKernel: inputs in, blocks and branches executed on every core, outputs out.

Each body of the LncKernel is one logical core. Cores share HBM and run one after the
other; a ``coreBarrier`` suspends a core until every other core has reached its own
barrier (or finished), so cores exchange data through HBM as they would on the device.
Within a core, blocks run in order; ``cmpBranch`` continues at the block it names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from klr.core.basic import Block, LncKernel, Stmt, tensors_of
from klr.core.operators import operator_name
from klr.core.rules import RuleError, check
from klr.core.tensor import TensorName
from klr.dtypes import Dtype, from_numpy, nki_name
from klr.errors import EvalError, InternalError, KlrError, LimitError, UsageError, Warning_
from klr.interp import (  # noqa: F401  (the tables)
    blas,
    budget,
    ops_compute,
    ops_move,
    ops_mx,
    ops_special,
    ops_system,
)
from klr.interp.alu import AluError
from klr.interp.budget import EvalLimits
from klr.interp.machine import Core, DevicePrintRecord, Machine, Stats, cast_to
from klr.interp.memory import CLEAN, MAX_ACCESS_ELEMENTS, UNWRITTEN, View, layout_of, resolve
from klr.interp.registry import IMPLS
from klr.limits import raise_hint


@dataclass(frozen=True)
class Step:
    """One executed statement, as ``run(observe=...)`` reports it: its number in execution order
    (from 1), its core, the statement, its number in the kernel (from 1, counting every block of
    every body in order, as ``klr check`` does) and what it wrote, in order: (operand field or
    ``reg.<name>``, the values of the operand's whole view after the statement)."""

    number: int
    core: int
    stmt: Stmt
    index: int
    writes: tuple[tuple[str, np.ndarray], ...]


Observer = Callable[[Step], None]


@dataclass
class EvalResult:
    """What ``run`` returns: output arrays by name, warnings, counters and device prints."""

    outputs: dict[str, np.ndarray]
    warnings: list[Warning_]
    stats: Stats
    prints: list[DevicePrintRecord] = field(default_factory=list)


def run(kernel: LncKernel, inputs: Mapping[str, np.ndarray], *, strict: bool = False,
        random_seed: int | None = None, constants: Mapping[str, np.ndarray] | None = None,
        limits: EvalLimits | None = None, max_instructions: int | None = None,
        observe: Observer | None = None,
        progress: Callable[[int, int], None] | None = None) -> EvalResult:
    """Execute ``kernel`` on ``inputs`` (matched to ``kernel.inputs`` by name).

    ``observe``, when given, is called after every executed statement with a ``Step``.
    ``constants`` holds the arrays of the kernel's shared constants by name. With
    ``strict``, reading never-written memory into an output is an EvalError instead of a
    warning. ``random_seed`` seeds dropout and the random-number operators. ``limits`` bounds
    memory (checked before anything is allocated, ``klr.interp.budget``) and instructions;
    ``max_instructions`` bounds the statements executed (default: the kernel's statement count
    plus ``limits.max_extra_instructions``; only branches back spend the extra ones, and at a few
    microseconds each an endless loop stops within seconds). ``progress``, when given, is called
    every ``PROGRESS_EVERY`` statements with the statements executed so far and the kernel's
    statement count (a long run shows it on a terminal).
    """
    limits = limits or EvalLimits()
    _check_seed(random_seed)
    budget.check(kernel, limits)
    estimate = budget.estimate(kernel)
    static = sum(len(b.body) for body in kernel.bodies for b in body)
    if max_instructions is None:
        max_instructions = static + limits.max_extra_instructions
    machine = Machine(random_seed, strict, limits.max_tensor_bytes, limits.max_memory - estimate.total)
    cores = [Core(machine, i) for i in range(max(1, len(kernel.bodies)))]
    machine.cores = len(cores)
    with np.errstate(all="ignore"), blas.one_thread():
        for t, array in _checked_inputs(kernel, inputs).items():
            _fill(cores[0], t, array, "input")
        for t, array in _checked_constants(kernel, constants or {}).items():
            _fill(cores[0], t, array, "shared constant")
        spend = _Budget(max_instructions, progress, static)
        watch = None if observe is None else _Watch(kernel, observe)
        dead = estimate.dead
        _interleave([_execute(core, blocks, spend, watch, dead[i]) for i, (core, blocks)
                     in enumerate(zip(cores, kernel.bodies, strict=False))], machine)
        handed: set[int] = set()
        outputs = {t.name: _output(cores[0], t, handed) for t in kernel.outputs}
    return EvalResult(outputs, machine.warnings, machine.stats, machine.prints)


def random_inputs(kernel: LncKernel, seed: int, limits: EvalLimits | None = None) -> dict[str, np.ndarray]:
    """Deterministic random inputs for ``kernel``: standard normal floats, small integers. The
    run's memory budget is checked first, so nothing is drawn for a kernel too big to run."""
    _check_seed(seed)
    budget.check(kernel, limits)
    gen = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for t in kernel.inputs:
        target = t.dtype.numpy()
        if t.dtype.is_packed:
            info = np.iinfo(target)
            out[t.name] = gen.integers(0, info.max, size=t.dims, dtype=target, endpoint=True)
        elif t.dtype.is_int:
            low = 0 if t.dtype.name.startswith("u") else -8
            out[t.name] = gen.integers(low, 16, size=t.dims).astype(target)
        else:
            out[t.name] = gen.standard_normal(t.dims, dtype=np.float32).astype(target, copy=False)
    return out


def _check_seed(seed: object) -> None:
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise UsageError(f"a random seed must be a non-negative integer, got {seed!r}")


# --- inputs ------------------------------------------------------------------------------------


def _checked_inputs(kernel: LncKernel, inputs: Mapping[str, np.ndarray]) -> dict[TensorName, np.ndarray]:
    wanted = {t.name: t for t in kernel.inputs}
    for name in inputs:
        if name not in wanted:
            known = ", ".join(f"'{n}'" for n in wanted) or "none"
            raise EvalError(f"unexpected input '{name}'; the kernel's inputs are {known}")
    out: dict[TensorName, np.ndarray] = {}
    for name, t in wanted.items():
        if name not in inputs:
            raise EvalError(f"missing input '{name}' (shape {t.dims}, {nki_name(t.dtype)})")
        array = np.asarray(inputs[name])
        if array.shape != t.dims:
            raise EvalError(f"input '{name}' has shape {array.shape} but the kernel expects {t.dims}")
        out[t] = _converted(f"input '{name}'", array, t.dtype)
    return out


def _converted(what: str, array: np.ndarray, dtype: Dtype) -> np.ndarray:
    """``array`` in ``dtype`` when that keeps its meaning: same dtype, a safe cast, any float to
    any float (rounded to nearest even), or integers whose values all fit."""
    target = dtype.numpy()
    if array.dtype == target:
        return array
    have = _number_kind(array.dtype)
    if not dtype.is_packed and have is not None:
        if np.can_cast(array.dtype, target, "safe") or (have == "float" and dtype.is_float):
            return cast_to(array, dtype)
        if have == "int" and dtype.is_int:
            info = np.iinfo(target)
            if array.size == 0 or (info.min <= array.min() and array.max() <= info.max):
                return array.astype(target)
    raise EvalError(f"{what} has dtype {array.dtype} but the kernel expects {nki_name(dtype)}, "
                    f"and converting would change its values")


def _number_kind(dt: np.dtype) -> str | None:
    if dt.kind in "biu":
        return "int"
    if dt.kind == "f":
        return "float"
    core = from_numpy(dt)
    return "float" if core is not None and core.is_float else None


def _checked_constants(kernel: LncKernel,
                       constants: Mapping[str, np.ndarray]) -> dict[TensorName, np.ndarray]:
    if not kernel.sharedConstants:
        return {}
    named = {t.name: t for t in (*kernel.sharedBuffers, *tensors_of(kernel.bodies))}
    out: dict[TensorName, np.ndarray] = {}
    for const in kernel.sharedConstants:
        if const.name not in constants:
            raise EvalError(f"shared constant '{const.name}' ({const.fileName}) was not provided")
        t = named.get(const.name)
        if t is None:
            continue  # declared but never used
        array = np.asarray(constants[const.name])
        count = t.shape.parDim * t.shape.freeElements
        if array.size != count:
            raise EvalError(f"shared constant '{const.name}' has {array.size} elements but the "
                            f"kernel uses it as {t.dims}")
        out[t] = _converted(f"shared constant '{const.name}'", array.reshape(t.dims), t.dtype)
    return out


def _fill(core: Core, t: TensorName, array: np.ndarray, kind: str) -> None:
    """The storage of ``t`` holds ``array`` without a copy when it is laid out as the storage
    would be (copied on the first write); otherwise a copy."""
    storage = core.storage(t)
    if storage.data.size == 0 and array.flags.c_contiguous and array.dtype == t.dtype.numpy():
        storage.reserve(0, t.dtype.size)
        storage.borrow(array)
        return
    if array.size > MAX_ACCESS_ELEMENTS:
        raise LimitError(f"{kind} '{t.name}' has {array.size} elements, more than the interpreter's "
                         f"limit of {MAX_ACCESS_ELEMENTS} per access, and is not a C-contiguous "
                         f"array of its dtype (which would be used without a copy)")
    view = resolve(storage, layout_of(t))
    view.write(np.ascontiguousarray(array), None)


# --- execution ---------------------------------------------------------------------------------


PROGRESS_EVERY = 1 << 14


class _Budget:
    def __init__(self, limit: int, progress: Callable[[int, int], None] | None = None,
                 static: int = 0) -> None:
        self.left = limit
        self.limit = limit
        self.progress = progress
        self.static = static
        self.next_report = limit - PROGRESS_EVERY if progress is not None else -1

    def report(self) -> None:
        assert self.progress is not None
        self.next_report -= PROGRESS_EVERY
        self.progress(self.limit - self.left, self.static)


class _Watch:
    """Reports every executed statement to an observer."""

    def __init__(self, kernel: LncKernel, observe: Observer) -> None:
        self.observe = observe
        self.count = 0
        stmts = [stmt for body in kernel.bodies for block in body for stmt in block.body]
        self.index = {id(stmt): i for i, stmt in enumerate(stmts, 1)}

    def report(self, core: Core, stmt: Stmt) -> None:
        self.count += 1
        writes = []
        for ref, view in core.recording or ():
            if isinstance(view, str):
                name = str(ref)
                writes.append((f"reg.{name}", np.asarray(core.regs[name], np.int32)))
            else:
                writes.append((_field_of(stmt.op, ref), view.read()))
        core.recording = []
        self.observe(Step(self.count, core.index, stmt, self.index.get(id(stmt), 0), tuple(writes)))


def _field_of(op: object, ref: object) -> str:
    """The name of the operand field of ``op`` that holds ``ref`` (``srcs[1]`` in a list)."""
    for f in dataclasses.fields(op):  # type: ignore[arg-type]
        value = getattr(op, f.name)
        if value is ref:
            return f.name
        if isinstance(value, tuple):
            for i, item in enumerate(value):
                if item is ref:
                    return f"{f.name}[{i}]"
    return "?"


def _interleave(cores: list[Iterator[Stmt | None]], machine: Machine) -> None:
    """Run each core until its next barrier or until it waits for a message, round after round,
    until all have finished. A round in which every unfinished core waits and none sent anything
    is a deadlock."""
    pending = cores
    while pending:
        still = []
        sent = machine.sent
        waiting: Stmt | None = None
        progress = False
        for core in pending:
            try:
                stmt = next(core)
                still.append(core)
            except StopIteration:
                progress = True
                continue
            if stmt is None:
                progress = True
            elif waiting is None:
                waiting = stmt
        if not progress and still and machine.sent == sent and waiting is not None:
            label = _name(waiting.op) + (f" {waiting.name}" if waiting.name else "")
            raise EvalError(f"every core waits for a message no core will send (deadlock), first at "
                            f"{label}", waiting.pos)
        pending = still


def _execute(core: Core, blocks: tuple[Block, ...], budget: _Budget, watch: _Watch | None,
             dead: dict[tuple[int, int], list[str]]) -> Iterator[Stmt | None]:
    """Run one core; yields None at a barrier and the statement while it waits for a message.
    After a statement, the on-chip storages no later statement names (``dead``) are freed."""
    if watch is not None:
        core.recording = []
    labels: dict[str, int] = {}
    for i, block in enumerate(blocks):
        labels.setdefault(block.label, i)
    i = 0
    while i < len(blocks):
        following = i + 1
        for n, stmt in enumerate(blocks[i].body):
            budget.left -= 1
            if budget.left < budget.next_report:
                budget.report()
            if budget.left < 0:
                raise LimitError(f"the kernel ran more than {budget.limit} instructions (an endless "
                                 f"loop?); {raise_hint('max_extra_instructions')}", stmt.pos)
            _step(core, stmt)
            while core.waiting:
                core.waiting = False
                yield stmt
                core.resuming = True
                _step(core, stmt, again=True)
            core.resuming = False
            if watch is not None:
                watch.report(core, stmt)
            freed = dead.get((i, n)) if dead else None
            if freed:
                for key in freed:
                    core.free(key)
            if core.at_barrier:
                core.at_barrier = False
                yield None
            if core.jump is not None:
                target, core.jump = core.jump, None
                if target not in labels:
                    raise EvalError(f"branch to unknown block '{target}' in {core.label}", stmt.pos)
                core.machine.stats.branches += 1
                following = labels[target]
                break
        i = following


def _step(core: Core, stmt: Stmt, again: bool = False) -> None:
    op = stmt.op
    found = IMPLS.get(type(op))
    if found is None:
        raise InternalError(f"{type(op).__name__} is not a Core operator", stmt.pos)
    core.begin(op, stmt.name, stmt.pos)
    if not again:
        stats = core.machine.stats
        stats.instructions += 1
        stats.by_operator[found.name] = stats.by_operator.get(found.name, 0) + 1
    try:
        try:
            check(op, hardware=False, describe=core.arg)  # the operator's shape rule, on its views
        except RuleError as broken:
            core.fail(broken.message)
        try:
            found.run(core, op)
        except AluError as misuse:
            core.fail(misuse.message)
    except KlrError as err:
        raise err.at(stmt.pos) from None
    except Exception as exc:  # a bug in the interpreter: say which statement it ran
        raise InternalError(f"{type(exc).__name__}: {exc} in {_name(op)} {stmt.name} of block "
                            f"{core.label}", stmt.pos) from exc


def _name(op: object) -> str:
    try:
        return operator_name(op)
    except KeyError:
        return type(op).__name__


# --- outputs -----------------------------------------------------------------------------------


def _output(core: Core, t: TensorName, handed: set[int]) -> np.ndarray:
    """The values of an output: the storage's own bytes when no one else holds them (the run is
    over), else a copy."""
    storage = core.storage(t)
    layout = layout_of(t)
    storage.reserve(layout.tensor_bytes, layout.dtype.size)
    view = View(storage, layout, 0)   # the whole tensor: in bounds, not bound by the access limit
    origin = view.read_origin()
    if origin is not None:
        _report(core.machine, t.name, origin)
    if storage.borrowed or id(storage) in handed or view.index is not None:
        return view.read().reshape(t.dims)
    handed.add(id(storage))
    values = view.read(copy=False).reshape(t.dims)
    values.flags.writeable = True
    return values


def _report(machine: Machine, name: str, origin: np.ndarray) -> None:
    never = origin == UNWRITTEN
    poisoned = (origin != CLEAN) & ~never
    if poisoned.any():
        record = machine.records[int(origin[poisoned].min())]
        machine.warn(f"output '{name}' has {int(poisoned.sum())} elements computed from "
                     f"never-written memory (first read by {record.describe()})", record.pos)
    if never.any():
        machine.warn(f"output '{name}' has {int(never.sum())} elements that were never written", None)
