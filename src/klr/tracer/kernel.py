"""The kernel driver: trace a gathered ``Kernel`` into a Core ``LncKernel`` with a ``Library``.

The driver knows Python and Core, not NKI: what a library adds (tensor arguments, outputs,
per-body state) it asks the ``klr.tracer.library.Library`` it is given.

One body per logical core (``lnc``, the reference's ``Kernel.grid``); inside a body, the entry
function runs once per legacy SPMD instance (the product of the launch grid, from
``trace(grid=...)`` or the gathered flag ``("spmd_grid", dims)``), each instance's statements
in its own block: ``main`` without a grid, else ``spmd.<i0>.<i1>...``.
Each body has its own ``Ctx``: instruction and name counters restart per core, so the
cores' programs name things identically, as the reference's per-core traces do.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from klr import core
from klr.errors import LimitError, UsageError, Warning_
from klr.pos import Pos
from klr.python import ast as A
from klr.tracer.affine import NotAffine
from klr.tracer.context import Ctx, Limits
from klr.tracer.evaluator import Evaluator
from klr.tracer.library import PYTHON, BodyOutputs, Library
from klr.tracer.limits import Budget, frozen_survivors
from klr.tracer.objects import Function
from klr.tracer.registry import Dialect
from klr.tracer.show import describe
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["TraceResult", "trace", "run_python"]

RECURSION_LIMIT = 20_000
"""Python frames the evaluator may use (deeply nested user calls and expressions)."""
INT_MAX_STR_DIGITS = 4300
"""The most digits ``str(int)`` and ``int(str)`` handle in a trace (Python's default limit,
fixed here so a trace does not depend on the host's setting)."""


@contextlib.contextmanager
def host_settings() -> Iterator[None]:
    """Python as a trace needs it, restored after: a deep recursion limit, a fixed limit on
    integer-string conversion, and the cyclic garbage collector off (the step budget runs it
    at points that depend only on the kernel: see ``Budget.tick``, which may freeze what survives)."""
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    get_digits = getattr(sys, "get_int_max_str_digits", None)
    old_digits = get_digits() if get_digits is not None else None
    if old_digits is not None:
        sys.set_int_max_str_digits(INT_MAX_STR_DIGITS)
    collecting = gc.isenabled()
    gc.disable()
    try:
        with frozen_survivors():
            yield
    finally:
        sys.setrecursionlimit(old_limit)
        if old_digits is not None:
            sys.set_int_max_str_digits(old_digits)
        if collecting:
            gc.enable()


@contextlib.contextmanager
def stack_guard(ctx: Ctx) -> Iterator[None]:
    """Python's stack running out (calls within expressions within calls, up to
    ``max_depth`` deep) is a LimitError where the trace was."""
    try:
        yield
    except RecursionError:
        raise LimitError(f"the kernel nests calls and expressions too deeply: the tracer's stack of "
                         f"{RECURSION_LIMIT} frames is exhausted", ctx.pos,
                         source_line=ctx.source_line(ctx.pos)) from None


class TraceResult:
    """What a trace made. ``constants``: shared constant tensors by their file name
    (``shared_constants/<sha256>.npy``); ``messages``: output of ``print`` in the kernel;
    ``steps``: steps the trace spent (``Limits.max_steps``); ``memory``: bytes the trace's values
    needed at their peak, as charged and measured (``Limits.max_memory``); ``builtins``: (primary
    name, form) of every registered builtin the trace called: the form is the kernel's dialect,
    or for a builtin with two dialect forms the one each call chose (``Ctx.used``);
    ``templated``: how many loops, and iterations of them, were stamped out from a loop
    template (``klr.tracer.templates``). (A plain class: a dataclass would import
    ``dataclasses`` at every start.)"""

    __slots__ = ("builtins", "constants", "kernel", "memory", "messages", "steps", "templated", "warnings")

    def __init__(self, kernel: core.LncKernel, warnings: list[Warning_] | None = None,
                 constants: dict[str, NDArray[np.generic]] | None = None,
                 messages: list[Warning_] | None = None, steps: int = 0, memory: int = 0,
                 builtins: set[tuple[str, Dialect]] | None = None) -> None:
        self.kernel = kernel
        self.warnings = [] if warnings is None else warnings
        self.constants = {} if constants is None else constants
        self.messages = [] if messages is None else messages
        self.steps = steps
        self.memory = memory
        self.builtins = set() if builtins is None else builtins
        self.templated = (0, 0)

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in
                          ("kernel", "warnings", "constants", "messages", "steps", "memory", "builtins"))
        return f"TraceResult({shown})"


def _sources(kernel: A.Kernel) -> dict[tuple[str | None, int], str]:
    """Source lines of every gathered function, by (file, line), for error excerpts."""
    out: dict[tuple[str | None, int], str] = {}
    funs = list(kernel.funcs) + [m for c in kernel.classes for m in c.methods]
    for f in funs:
        for i, text in enumerate(f.source.splitlines()):
            out[(f.fileName, f.line + i)] = text
    return out


def _fun_pos(fun: A.Fun) -> Pos:
    return Pos(fun.line, 0, filename=fun.fileName)


class _Setup:
    """What every core's trace shares: options resolved once."""

    def __init__(self, kernel: A.Kernel, library: Library, args: Iterable[Any] | None,
                 kwargs: Mapping[str, Any] | None, grid: object, lnc: int | None, arch: int | None,
                 dialect: Dialect | str | None, limits: Limits | None,
                 loop_templates: str | None = None) -> None:
        self.kernel = kernel
        self.loop_templates = loop_templates
        self.library = library
        entry = kernel.function(kernel.entry)
        if entry is None:
            raise UsageError(f"the kernel file has no function '{kernel.entry}'")
        self.entry = entry
        self.arch = kernel.arch if arch is None else arch
        self.lnc = max(1, kernel.grid) if lnc is None else lnc
        if self.lnc < 1:
            raise UsageError(f"lnc must be at least 1, got {self.lnc}")
        self.dialect = Dialect(dialect) if dialect else library.dialect(kernel)
        self.limits = limits or Limits()
        self.budget = Budget(self.limits)
        self.sources = _sources(kernel)
        if args is not None or kwargs:
            from klr.python.args import value_expr  # only for arguments given here, not gathered

        self.args = kernel.args if args is None else tuple(value_expr(a) for a in args)
        kw = {k.id: k.value for k in kernel.kwargs if k.id is not None}
        for key, v in (kwargs or {}).items():
            kw[key] = value_expr(v)
        self.kwargs = kw
        self.grid_arg = grid

    def new_ctx(self, core_index: int, grid: tuple[int, ...]) -> Ctx:
        ctx = Ctx(arch=self.arch, dialect=self.dialect, grid=grid, lnc=self.lnc, core_index=core_index,
                  limits=self.limits, sources=self.sources, budget=self.budget,
                  loop_templates=self.loop_templates)
        ctx.state = self.library.new_state(ctx)
        return ctx


def _grid(value: object) -> tuple[int, ...]:
    if value is None:
        return ()
    dims = (value,) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else None
    if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise UsageError(f"grid must be a positive integer or a tuple of them, got {describe(value)}")
    return dims


def _check_instances(ctx: Ctx, grid: tuple[int, ...], lnc: int) -> None:
    """Refuse a launch grid (times the logical cores) with more instances than ``max_grid``."""
    count = lnc * math.prod(grid)
    if count > ctx.limits.max_grid:
        shown = " x ".join(map(str, grid)) or "1"
        cores = f" on {lnc} logical cores" if lnc > 1 else ""
        raise ctx.limit(f"the kernel would be traced {count} times (SPMD grid {shown}{cores})", "max_grid")


def _flags(evaluator: Evaluator) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for e in evaluator.kernel.flags:
        v = evaluator.eval_const(e)
        if not (isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str)):
            raise evaluator.ctx.error(f"a kernel flag must be a (name, value) pair, got {describe(v)}", e.pos)
        out[v[0]] = v[1]
    return out


def _edges(evaluator: Evaluator) -> tuple[core.Edges, ...]:
    """User schedule edges ``(x, y | [y...])``: each y must run after x (``y -> [x]``)."""
    out: list[core.Edges] = []
    for e in evaluator.kernel.scheduleEdges:
        v = evaluator.eval_const(e)
        ok = isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str)
        tos = [v[1]] if ok and isinstance(v[1], str) else list(v[1]) if ok else []
        if not ok or not all(isinstance(t, str) for t in tos):
            raise evaluator.ctx.error("a schedule edge must be a pair of a name and a name or list of names",
                                   e.pos)
        out.extend(core.Edges(t, (v[0],)) for t in tos)
    return tuple(out)


class _Inputs:
    """Kernel arguments as values: a tensor argument becomes the library's input tensor
    (``Library.argument``), once per body, shared by all SPMD instances."""

    def __init__(self, evaluator: Evaluator, setup: _Setup) -> None:
        self.library = setup.library
        self.tensors: list[Value] = []
        fn = evaluator.bindings[setup.entry.name]
        assert isinstance(fn, Function)
        plan = evaluator.plan_of(fn)
        names = list(plan.positional)
        self.args = tuple(self._value(evaluator, e, names[i] if i < len(names) else f"{plan.vararg}_{i}")
                          for i, e in enumerate(setup.args))
        self.kwargs = {k: self._value(evaluator, e, k) for k, e in setup.kwargs.items()}

    def _value(self, evaluator: Evaluator, e: A.Expr, name: str) -> Value:
        k = e.expr
        if isinstance(k, A.ConstExpr) and isinstance(k.value, A.CTensor):
            ctx = evaluator.ctx
            ctx.pos = e.pos
            t = self.library.argument(ctx, name, tuple(k.value.shape), k.value.dtype)
            self.tensors.append(t)
            return t
        if isinstance(k, (A.TupleExpr, A.ListExpr)) and any(_has_tensor(x) for x in k.xs):
            items = [self._value(evaluator, x, f"{name}_{i}") for i, x in enumerate(k.xs)]
            return tuple(items) if isinstance(k, A.TupleExpr) else items
        return evaluator.eval_const(e)


def _has_tensor(e: A.Expr) -> bool:
    k = e.expr
    if isinstance(k, A.ConstExpr):
        return isinstance(k.value, A.CTensor)
    return isinstance(k, (A.TupleExpr, A.ListExpr)) and any(_has_tensor(x) for x in k.xs)


def _flatten(v: Value, out: list[Value]) -> list[Value]:
    if isinstance(v, (tuple, list)):
        for x in v:
            _flatten(x, out)
    elif isinstance(v, dict):
        for x in v.values():
            _flatten(x, out)
    elif v is not None:
        out.append(v)
    return out


def _check_returned(ctx: Ctx, v: Value, depth: int = 0, path: set[int] | None = None) -> None:
    """A returned value must nest at most ``max_nesting`` deep and not contain itself (it is
    walked to find its tensors)."""
    if type(v) not in (tuple, list, dict):
        return
    if depth >= ctx.limits.max_nesting:
        raise ctx.limit(f"cannot return a value nested more than {ctx.limits.max_nesting} deep",
                        "max_nesting")
    path = set() if path is None else path
    if id(v) in path:
        raise ctx.error(f"a kernel cannot return a {type_name(v)} that contains itself")
    path.add(id(v))
    for x in (v.values() if type(v) is dict else v):
        _check_returned(ctx, x, depth + 1, path)
    path.discard(id(v))


def _tensor_name(library: Library, ctx: Ctx, v: Value) -> core.TensorName:
    got = library.output_of(ctx, v)
    if got is None:
        raise ctx.error(f"a kernel can only return tensors, but it returns a '{type_name(v)}'")
    return got


def _unique(ts: Iterable[core.TensorName]) -> tuple[core.TensorName, ...]:
    seen: dict[str, core.TensorName] = {}
    for t in ts:
        seen.setdefault(t.name, t)
    return tuple(seen.values())


class _Body:
    """One traced body and what the driver keeps of it."""

    __slots__ = ("blocks", "constant_files", "evaluator", "extras", "inputs", "outputs")

    def __init__(self, blocks: tuple[core.Block, ...], inputs: tuple[core.TensorName, ...],
                 outputs: tuple[core.TensorName, ...], evaluator: Evaluator, extras: BodyOutputs,
                 constant_files: dict[str, str]) -> None:
        self.blocks = blocks
        self.inputs = inputs
        self.outputs = outputs
        self.evaluator = evaluator
        self.extras = extras
        self.constant_files = constant_files


def _trace_core(setup: _Setup, core_index: int, result: TraceResult) -> _Body:
    ctx = setup.new_ctx(core_index, ())
    with stack_guard(ctx):
        return _trace_body(setup, ctx, result)


def _trace_body(setup: _Setup, ctx: Ctx, result: TraceResult) -> _Body:
    library = setup.library
    evaluator = Evaluator(setup.kernel, ctx)
    ctx.pos = _fun_pos(setup.entry)
    evaluator.bind_globals()
    flags = _flags(evaluator)
    ctx.flags = flags
    ctx.grid = _grid(setup.grid_arg if setup.grid_arg is not None else flags.get("spmd_grid"))
    grid = ctx.grid
    _check_instances(ctx, grid, setup.lnc)
    inputs = _Inputs(evaluator, setup)
    fn = evaluator.bindings[setup.entry.name]
    assert isinstance(fn, Function)
    returned: Value = None
    for n, idx in enumerate(itertools.product(*(range(d) for d in grid))):
        ctx.program_id = idx
        ctx.instance = n
        ctx.begin_block("spmd." + ".".join(map(str, idx)) if grid else "main")
        ctx.pos = _fun_pos(setup.entry)
        value = evaluator.call_function(fn, inputs.args, inputs.kwargs, entry=True)
        _check_returned(ctx, value)
        value = library.returned(ctx, value)
        ctx.end_block()
        if n == 0:
            returned = value
    ctx.pos = _fun_pos(setup.entry)
    outputs = [_tensor_name(library, ctx, v) for v in _flatten(returned, [])]
    extras = library.finish(ctx)
    in_names = _unique(_tensor_name(library, ctx, t) for t in inputs.tensors)
    outputs += [t for t in in_names if t.name in extras.written]
    result.warnings.extend(ctx.warnings)
    result.messages.extend(ctx.messages)
    result.templated = (result.templated[0] + ctx.templated_loops,
                        result.templated[1] + ctx.templated_iterations)
    result.builtins |= {(n, ctx.dialect) for n in ctx.used} | ctx.used_forms
    files = _collect_constants(extras, result)
    return _Body(tuple(ctx.blocks), in_names, _unique(outputs), evaluator, extras, files)


def _collect_constants(extras: BodyOutputs, result: TraceResult) -> dict[str, str]:
    """The body's shared constants (name -> ndarray) become files named by a hash of their
    dtype, shape and bytes; returns the file of each constant tensor."""
    files = {}
    for name, array in extras.constants.items():
        import hashlib  # here: only kernels with shared constants need it

        digest = hashlib.sha256(f"{array.dtype.str}:{array.shape}".encode() + array.tobytes()).hexdigest()
        file_name = f"shared_constants/{digest}.npy"
        result.constants[file_name] = array
        files[name] = file_name
    return files


def trace(py_kernel: A.Kernel, *, library: Library, args: Iterable[Any] | None = None,
          kwargs: Mapping[str, Any] | None = None, grid: object = None, lnc: int | None = None,
          arch: int | None = None, dialect: Dialect | str | None = None,
          limits: Limits | None = None, loop_templates: str | None = None) -> TraceResult:
    """Trace ``py_kernel`` into an ``LncKernel`` with ``library`` (``klr.tracer.trace`` is this
    with the NKI library).

    ``args`` replaces ``Kernel.args`` (Python values, numpy arrays or AST Exprs);
    ``kwargs`` entries replace the same-named ``Kernel.kwargs``. ``grid`` is the legacy SPMD
    launch grid (default: the kernel's ``spmd_grid`` flag), ``lnc`` the number of logical
    cores (default ``Kernel.grid``), ``arch`` defaults to ``Kernel.arch``, ``dialect`` to
    ``library.dialect(py_kernel)``. ``loop_templates`` is ``on``, ``off`` or ``check``
    (``klr.tracer.templates``; default: the environment variable KLR_LOOP_TEMPLATES, else on).
    """
    if loop_templates not in (None, "on", "off", "check"):
        raise UsageError(f"loop_templates must be 'on', 'off' or 'check', not {loop_templates!r}")
    setup = _Setup(py_kernel, library, args, kwargs, grid, lnc, arch, dialect, limits, loop_templates)
    result = TraceResult(core.LncKernel(setup.entry.name, (), (), (), (), (), ()))
    with host_settings():
        bodies = []
        inputs: tuple[core.TensorName, ...] = ()
        outputs: tuple[core.TensorName, ...] = ()
        shared: list[core.TensorName] = []
        files: dict[str, str] = {}
        edges: tuple[core.Edges, ...] = ()
        for i in range(setup.lnc):
            try:
                body = _trace_core(setup, i, result)
            except NotAffine as e:   # only a probe may raise it (klr.tracer.templates): a bug
                raise AssertionError(f"a loop template's symbolic value escaped its probe: {e}") from None
            bodies.append(body.blocks)
            if i == 0:
                inputs, outputs, edges = body.inputs, body.outputs, _edges(body.evaluator)
            shared.extend(body.extras.shared_buffers)
            files.update(body.constant_files)
    budget = setup.budget
    budget.measure_now()
    result.steps = setup.limits.max_steps - budget.steps
    result.memory = budget.peak
    out_names = {t.name for t in outputs}
    result.kernel = core.LncKernel(
        name=setup.entry.name.rsplit(".", 1)[-1],
        inputs=inputs,
        outputs=outputs,
        bodies=tuple(bodies),
        sharedConstants=tuple(core.SharedConstantFile(n, f) for n, f in files.items()),
        sharedBuffers=tuple(t for t in _unique(shared) if t.name not in out_names),
        edges=edges,
    )
    return result


def run_python(py_kernel: A.Kernel, name: str | None = None, args: Iterable[Any] = (),
               kwargs: Mapping[str, Any] | None = None, *, library: Library = PYTHON,
               limits: Limits | None = None,
               dialect: Dialect | str | None = None) -> tuple[Value, Ctx]:
    """Run one gathered function (default: the entry) on Python values with ``library``'s
    builtins (default: Python's alone) and return its result and the Ctx (warnings, messages,
    emitted blocks). For tests and debugging of pure Python code; tensor arguments are not
    supported here."""
    ctx = Ctx(arch=py_kernel.arch, dialect=Dialect(dialect) if dialect else library.dialect(py_kernel),
              limits=limits, sources=_sources(py_kernel))
    ctx.state = library.new_state(ctx)
    evaluator = Evaluator(py_kernel, ctx)
    with host_settings(), stack_guard(ctx):
        evaluator.bind_globals()
        fn = evaluator.bindings.get(name or py_kernel.entry)
        if not isinstance(fn, Function):
            raise UsageError(f"no gathered function '{name or py_kernel.entry}'")
        assert fn.fun is not None
        ctx.pos = _fun_pos(fn.fun)
        ctx.begin_block("main")
        value = evaluator.call_function(fn, tuple(args), dict(kwargs or {}), entry=True)
        ctx.end_block()
    return value, ctx

