"""Eval limits, and the memory budget of a run, checked before anything is allocated.

For every address a kernel names, the interpreter keeps its bytes: an HBM address once, an
SBUF, PSUM or register address once per logical core whose body names it. HBM storages live for
the whole run; an on-chip storage lives from the first to the last statement naming it (``dead``
lists when to free it), except in a body that may branch, where all of them are counted at
once. Inputs and shared constants are the caller's arrays (borrowed, not copied), outputs are
handed over without a copy unless they share their address with an input or another output.
``estimate`` adds up, from the kernel's declarations alone, the HBM bytes, the largest sum of
on-chip bytes alive at one statement (per body), the buffers of dead tiles kept for reuse
(``SPARE_BYTES`` at most) and the copies of shared outputs; drawing random inputs (one at a
time, floats as float32 and integers as int64 first) may need more, and then that is the
estimate.
``check`` compares each address with ``EvalLimits.max_tensor_bytes`` and the total with
``EvalLimits.max_memory``; ``run`` and ``random_inputs`` call it before they allocate. What is
left of ``max_memory`` pays, during the run, for the int32 origin codes per granule (the
smallest element size any access uses) that never-written tracking materialises for a storage
written irregularly or from never-written memory (``memory.CodeBudget``). Operator temporaries (one
access of at most ``MAX_ACCESS_ELEMENTS`` elements at a time) are not counted.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from klr import schema
from klr.core.basic import LncKernel
from klr.core.sysops import CmpBranch
from klr.core.tensor import BirAccessPattern, Memory, TensorName
from klr.errors import LimitError
from klr.interp.memory import SPARE_BYTES, SPARE_MIN_BYTES, tensor_too_big
from klr.limits import raise_hint
from klr.pos import Pos


@dataclass
class EvalLimits:
    """Resource limits of one eval; each is a LimitError when exceeded."""

    max_memory: int = field(default=4 * 2**30, metadata={
        "doc": "bytes of all tensors of a run together, with the interpreter's bookkeeping"})
    max_tensor_bytes: int = field(default=2**30, metadata={"doc": "bytes of one tensor (address)"})
    max_extra_instructions: int = field(default=1_000_000, metadata={
        "doc": "instructions a run may execute beyond one pass over its statements"})
    max_dump_bytes: int = field(default=2**32, metadata={
        "doc": "bytes of arrays klr eval --dump-intermediates writes in all"})


@dataclass
class _Space:
    """One storage the interpreter will create: its name, size, granule and first use."""

    name: str
    nbytes: int = 0
    granule: int = 8
    pos: Pos | None = None
    key: str = ""
    first: tuple[int, int] | None = None  # (block, statement) of the first statement naming it
    last: tuple[int, int] | None = None   # and of the last


@dataclass
class Estimate:
    """What a run of a kernel will hold in memory, in bytes."""

    total: int
    spaces: list[_Space] = field(default_factory=list)
    #: per body, the on-chip storages (by key) no statement after a given one names, by the
    #: (block, statement) index of that one; empty for a body that may branch (a block can
    #: run again)
    dead: list[dict[tuple[int, int], list[str]]] = field(default_factory=list)


def estimate(kernel: LncKernel) -> Estimate:
    """The memory a run of ``kernel`` needs (see the module docstring)."""
    cached = _cache.get(id(kernel))
    if cached is not None and cached[0] is kernel:
        return cached[1]
    hbm: dict[str, _Space] = {}
    spaces: list[_Space] = []
    dead: list[dict[tuple[int, int], list[str]]] = []
    declared = (*kernel.inputs, *kernel.outputs, *kernel.sharedBuffers)
    _collect(declared, None, hbm, {})
    on_chip = spare = 0
    for body in kernel.bodies:
        local: dict[str, _Space] = {}
        branches = False
        for b, block in enumerate(body):
            for i, stmt in enumerate(block.body):
                _collect(stmt.op, stmt.pos, hbm, local, (b, i))
                branches = branches or type(stmt.op) is CmpBranch
        spaces += local.values()
        after: dict[tuple[int, int], list[str]] = {}
        if not branches:
            for s in local.values():
                if s.last is not None:
                    after.setdefault(s.last, []).append(s.key)
        dead.append(after)
        on_chip += _peak(list(local.values()), branches)
        if not branches:
            spare += sum(s.nbytes for s in local.values() if s.nbytes >= SPARE_MIN_BYTES)
    spaces += hbm.values()
    total = on_chip + min(spare, SPARE_BYTES) + sum(s.nbytes for s in hbm.values())
    seen = {t.address.name for t in kernel.inputs}
    for t in kernel.outputs:
        if t.address.name in seen:   # handed over as a copy
            total += t.dtype.size * math.prod(t.shape.dims)
        seen.add(t.address.name)
    inputs = sum(t.dtype.size * math.prod(t.shape.dims) for t in kernel.inputs)
    drawing = inputs + max((_draw_bytes(t) for t in kernel.inputs), default=0)
    result = Estimate(max(total, drawing), spaces, dead)
    _cache.clear()
    _cache[id(kernel)] = (kernel, result)
    return result


def _draw_bytes(t: TensorName) -> int:
    """The bytes ``random_inputs`` holds while drawing ``t`` besides ``t`` itself: floats are
    drawn as float32 and integers as int64, then converted."""
    if t.dtype.is_packed:
        return 0
    wide = 8 if t.dtype.is_int else 4
    return 0 if t.dtype.size == wide else wide * math.prod(t.shape.dims)


def _peak(spaces: list[_Space], branches: bool) -> int:
    """The most bytes of ``spaces`` alive at once: each from its first to its last statement, or
    all of them in a body that may branch."""
    if branches:
        return sum(s.nbytes for s in spaces)
    events: list[tuple[tuple[int, int], int, int]] = []
    for s in spaces:
        if s.first is not None and s.last is not None:
            events += [(s.first, 0, s.nbytes), (s.last, 1, -s.nbytes)]
    alive = peak = 0
    for _, _, change in sorted(events):   # at one statement, new storages before freed ones
        alive += change
        peak = max(peak, alive)
    return peak


_cache: dict[int, tuple[LncKernel, Estimate]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _collect(value: Any, pos: Pos | None, hbm: dict[str, _Space], local: dict[str, _Space],
             at: tuple[int, int] | None = None) -> None:
    """Record the storage of every TensorName inside ``value`` (and dtype overrides of accesses),
    named by the statement at ``pos`` and index ``at``."""
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind is TensorName:
            _use(v, v.dtype.size, pos, at, hbm, local)
        elif kind is tuple:
            stack.extend(reversed(v))  # first occurrence first
        elif v is not None:
            names = _FIELDS.get(kind)
            if names is None:
                names = _FIELDS[kind] = _tensor_fields(kind)
            if kind is BirAccessPattern and v.dtypeOverride is not None:
                _use(v.tensor, v.dtypeOverride.size, pos, at, hbm, local)
            stack.extend(getattr(v, n) for n in reversed(names))


def _tensor_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class whose declared types can hold a TensorName (by the schema);
    every field of any other dataclass; none of a value that is not a dataclass."""
    if not dataclasses.is_dataclass(kind) or issubclass(kind, Pos):
        return ()
    if not hasattr(kind, "__klr__"):
        return tuple(f.name for f in dataclasses.fields(kind))
    graph: dict[type, set[type]] = {}
    todo = [kind]
    while todo:
        cls = todo.pop()
        if cls not in graph:
            graph[cls] = {c for f in schema.fields_of(cls) for c in _classes(schema.describe(f.type))}
            todo.extend(graph[cls])
    holds: set[type] = {TensorName}
    while True:  # the classes that reach a TensorName, to a fixpoint (node types may recur)
        more = {cls for cls, refs in graph.items() if cls not in holds and refs & holds}
        if not more:
            break
        holds |= more
    return tuple(f.name for f in schema.fields_of(kind) if _classes(schema.describe(f.type)) & holds)


def _classes(desc: schema.TypeDesc) -> set[type]:
    """The node classes a field type names directly (through options, lists, pairs and sums)."""
    if desc.kind in (schema.Kind.STRUCT, schema.Kind.CTOR):
        return {desc.cls}
    out: set[type] = set()
    for arg in desc.args:
        out |= _classes(arg)
    return out


def _use(t: TensorName, itemsize: int, pos: Pos | None, at: tuple[int, int] | None,
         hbm: dict[str, _Space], local: dict[str, _Space]) -> None:
    memory = t.address.memory
    if memory in (Memory.hbm, Memory.shared_hbm):
        space, key = hbm, t.address.name
    else:
        space, key = local, f"{memory.name}:{t.address.name}"
    found = space.get(key)
    if found is None:
        found = space[key] = _Space(t.address.name, pos=pos, key=key, first=at)
    elif found.pos is None:
        found.pos = pos
    found.last = at
    found.nbytes = max(found.nbytes, t.shape.parDim * t.shape.freeElements * t.dtype.size)
    found.granule = max(1, min(found.granule, itemsize))


def check(kernel: LncKernel, limits: EvalLimits | None = None) -> None:
    """A LimitError when a run of ``kernel`` would exceed ``limits``' memory limits."""
    limits = limits or EvalLimits()
    est = estimate(kernel)
    for s in est.spaces:
        if s.nbytes > limits.max_tensor_bytes:
            raise LimitError(tensor_too_big(s.name, s.nbytes, limits.max_tensor_bytes), s.pos)
    if est.total > limits.max_memory:
        err = LimitError(f"running this kernel needs about {est.total} bytes (its tensors and the "
                         f"interpreter's bookkeeping), more than the eval memory limit of "
                         f"{limits.max_memory} ({raise_hint('max_memory')})")
        if est.spaces:
            big = max(est.spaces, key=lambda s: s.nbytes)
            err.note(f"the largest tensor, '{big.name}', needs {big.nbytes} of them", big.pos)
        raise err

