"""``klr.simulate``: run an NKI kernel on numpy arrays, as NKI's simulator does, with klr.

    out = klr.simulate(kernel)(a, b)             # or klr.simulate(kernel)[2, 2](a, b)

Each call gathers the kernel from its source file (the function object is asked only for its
file and name; nothing of the kernel runs in Python), traces it for the arguments (arrays
become tensors of their shape and dtype, other values are passed as they are) and evaluates
the traced Core with the reference interpreter. Results come only from that evaluation:

* the return value has the form of the kernel's ``return``: one array, or a tuple or list of
  them (a returned parameter is the caller's own array);
* an input the kernel writes (an output of the Core kernel named like an input) is written
  back into the caller's array, as NKI writes its arguments in place.

A call whose kernel sources, arguments and options match an earlier one reuses its gathered
kernel and trace from the compile cache (``klr.sim.cache``: on disk, across processes); without
it, a trace of the same gathered kernel with the same options is reused within the process.
The kernel's ``print`` output and ``nl.device_print`` go to standard output; klr's warnings are
``SimulationWarning`` Python warnings. Failures raise ``KernelError``, whose text is klr's
diagnostic with the kernel's file, line and caret.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import sys
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from klr.diagnostics import render_error, render_warning
from klr.errors import KlrError, UsageError, Warning_
from klr.python import ast as A
from klr.python.args import value_expr
from klr.sim.evaluate import Evaluation, Prepared, bind_inputs, execute

__all__ = ["Simulated", "KernelError", "KernelAssertionError", "KernelIndexError", "SimulationWarning", "Run",
           "totals"]

_CACHE_SIZE = 32


class KernelError(Exception):
    """A kernel run by ``klr.simulate`` failed to gather, trace or run. ``str()`` is klr's
    diagnostic (``file:line:col: error: ...``, the source line and a caret); ``error`` is the
    ``KlrError`` itself."""

    def __init__(self, error: KlrError) -> None:
        super().__init__(render_error(error))
        self.error = error


class KernelAssertionError(KernelError, AssertionError):
    """A kernel's own ``assert`` failed while it was traced: an AssertionError too, as under NKI,
    so ``pytest.raises(AssertionError)`` around a kernel call holds."""


class KernelIndexError(KernelError, IndexError):
    """A kernel read or wrote outside a tensor while it ran (a DMA in ``oob_mode.error``): an
    IndexError too, as under NKI's simulator, so ``pytest.raises(IndexError)`` holds."""


for _cls in (KernelError, KernelAssertionError, KernelIndexError):
    _cls.__module__ = "klr"  # tracebacks show klr.KernelError


def _kernel_error(err: KlrError) -> KernelError:
    if err.message == "assertion failed" or err.message.startswith("assertion failed: "):
        return KernelAssertionError(err)
    if err.message.startswith("out-of-bounds access to "):
        return KernelIndexError(err)
    return KernelError(err)

class SimulationWarning(UserWarning):
    """A warning klr reports about a simulated kernel (its text is klr's rendered warning)."""


@dataclass
class Run:
    """What one call of a simulated kernel did."""

    gathered: A.Kernel
    traced: Any
    """The TraceResult: ``traced.kernel`` is the Core kernel that was evaluated."""
    evaluation: Evaluation
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of ``gather`` (looking in the compile cache, on a hit), ``trace`` (0 when a
    cached trace was reused) and ``eval``."""
    cached: bool = False
    """Whether the gathered kernel and its trace came from the compile cache."""


@dataclass
class Totals:
    """Every simulated call in this process, for ``klr run --stats`` and the pytest summary."""

    calls: int = 0
    failures: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: {"gather": 0.0, "trace": 0.0, "eval": 0.0})


totals = Totals()
default_limits: dict[str, Any] = {}
"""Limits for every simulated kernel that does not set its own (``klr run --limit``)."""
default_cache = True
"""Whether kernels that do not say use the compile cache (``klr run --no-cache`` clears it)."""
_traces: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


class Simulated:
    """A kernel function wrapped to run with klr: call it, or index it with an SPMD grid first."""

    __test__ = False  # a kernel named test_* is not a pytest test

    def __init__(self, func: Any, *, grid: Any = None, arch: int | None = None, lnc: int | None = None,
                 limits: Mapping[str, Any] | None = None, cache: bool | None = None) -> None:
        self.func = func
        self.cache = cache
        self.grid = grid
        self.arch = arch
        self.lnc = lnc
        self.limits = dict(limits or {})
        self.last: Run | None = None
        """The last call's gathered kernel, trace, evaluation and timings."""
        functools.update_wrapper(self, func, updated=())

    @classmethod
    def of(cls, kernel: Any, **options: Any) -> Simulated:
        """``kernel`` (a function, or a Simulated whose options the given ones override)."""
        if isinstance(kernel, Simulated):
            mine = {"grid": kernel.grid, "arch": kernel.arch, "lnc": kernel.lnc, "limits": kernel.limits,
                    "cache": kernel.cache}
            mine.update({k: v for k, v in options.items() if v is not None})
            return cls(kernel.func, **mine)
        return cls(kernel, **options)

    @property
    def name(self) -> str:
        return str(getattr(self.func, "__qualname__", self.func))

    def __getitem__(self, grid: Any) -> Simulated:
        return Simulated.of(self, grid=grid)

    def __repr__(self) -> str:
        grid = f"[{self.grid}]" if self.grid is not None else ""
        return f"<klr simulated kernel {self.name!r}{grid}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest shows the caller's line, not klr's
        totals.calls += 1
        try:
            run = self._run(args, kwargs)
        except KlrError as err:
            totals.failures += 1
            raise _kernel_error(err) from None
        self.last = run
        for phase, took in run.seconds.items():
            totals.seconds[phase] += took
        return _results(run, args, kwargs)

    def _run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Run:
        from klr.interp import EvalLimits
        from klr.limits import FileLimits, build
        from klr.python.gather import function_source, gather_file
        from klr.python.modules import recording
        from klr.sim import cache
        from klr.tracer.context import Limits

        tlimits, elimits, flimits = build([Limits, EvalLimits, FileLimits], {**default_limits, **self.limits},
                                          "klr.simulate")
        start = time.perf_counter()
        path, name = function_source(self.func)
        home = _Home(path, flimits.max_source_bytes)
        values = [home.value(a) for a in args]
        keywords = {k: home.value(v) for k, v in kwargs.items()}
        grid = _grid(self.grid)
        use = (default_cache if self.cache is None else self.cache) and cache.enabled()
        store = cache.Cache() if use else None
        key = entry = None
        if store is not None:
            key = _cache_key(path, name, values, keywords, {
                "grid": grid, "lnc": self.lnc, "arch": self.arch, "trace": tlimits, "file": flimits})
            entry = store.load(key, flimits.max_source_bytes) if key is not None else None
        if entry is not None:
            gathered, traced = entry.gathered, entry.traced
            took_gather, took_trace = time.perf_counter() - start, 0.0
        else:
            with recording() as sources:
                gathered = gather_file(path, name, args=values, kwargs=keywords, grid=grid, lnc=self.lnc,
                                       arch=self.arch, max_source_bytes=flimits.max_source_bytes)
            took_gather = time.perf_counter() - start
            start = time.perf_counter()
            traced = _trace(gathered, tlimits)
            took_trace = time.perf_counter() - start
            if store is not None and key is not None:
                store.store(key, sources, cache.Entry(gathered, traced))
        for m in traced.messages:
            print(m.message)
        _warn(traced.warnings)
        tensors = list(_tensors(args, kwargs))
        inputs = bind_inputs(traced.kernel, [np.asarray(t) for t in tensors], {})
        start = time.perf_counter()
        evaluation = execute(Prepared(traced.kernel, by_file=dict(traced.constants)), inputs, limits=elimits)
        took_eval = time.perf_counter() - start
        for p in evaluation.result.prints:
            print(p.text, file=sys.stderr if p.buffer == "stderr" else sys.stdout)
        _warn(evaluation.result.warnings)
        seconds = {"gather": took_gather, "trace": took_trace, "eval": took_eval}
        return Run(gathered, traced, evaluation, seconds, cached=entry is not None)


def _cache_key(path: str, name: str, args: list[Any], kwargs: dict[str, Any],
               options: dict[str, Any]) -> str | None:
    """The compile cache's key of a call, or None when an argument is not one gather takes
    (gather then says why)."""
    from klr.sim.cache import lookup_key

    try:
        return lookup_key(path, name, [value_expr(a) for a in args],
                          {k: value_expr(v) for k, v in kwargs.items()}, options)
    except KlrError:
        return None


class _Home:
    """The kernel's own module, whose dataclass instances and enum members a caller may pass
    (``config=FlashConfig(...)``): they become the expressions that build them, which gather
    follows to the class (``klr.python.gather.Gatherer.use_names_in``)."""

    def __init__(self, path: str, max_source_bytes: int) -> None:
        self.path = path
        self.max_source_bytes = max_source_bytes
        self._name: str | None = None

    def name(self) -> str:
        if self._name is None:
            from klr.python.modules import Resolver

            self._name = Resolver((), self.max_source_bytes).load_top(self.path).name
        return self._name

    def owns(self, cls: type) -> bool:
        import inspect
        import os

        try:
            where = inspect.getsourcefile(cls)
        except TypeError:
            return False
        return where is not None and os.path.exists(where) and os.path.samefile(where, self.path)

    def value(self, value: Any) -> Any:
        if type(value) in (tuple, list):
            return type(value)(self.value(v) for v in value)
        cls = type(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and self.owns(cls):
            keywords = tuple(A.Keyword(f.name, value_expr(self.value(getattr(value, f.name))))
                             for f in dataclasses.fields(value) if f.init)
            return A.Expr(A.Call(A.Expr(A.Name(f"{self.name()}.{cls.__qualname__}")), (), keywords))
        if isinstance(value, enum.Enum) and self.owns(cls):
            return A.Expr(A.Attr(A.Expr(A.Name(f"{self.name()}.{cls.__qualname__}")), value.name))
        return value


def _grid(grid: Any) -> Any:
    """A launch grid as ``kernel[g]`` or ``kernel[g0, g1]`` gives it (``nl.nc(2) * 2`` is 4)."""
    if grid is None:
        return None
    dims = grid if isinstance(grid, tuple) else (grid,)
    try:
        return tuple(int(d) for d in dims)
    except (TypeError, ValueError):
        raise UsageError(f"a launch grid takes positive integers, got {grid!r}") from None


def _trace(gathered: A.Kernel, limits: Any) -> Any:
    """The trace of ``gathered`` (reused when the same gathered kernel was traced before), with
    the output warnings; on failure the kernel's ``print`` output is shown first."""
    from klr.format.file import to_buffer
    from klr.sim.tracing import entry_line, entry_pos, output_warnings, printed_before
    from klr.tracer import trace

    key = (hashlib.sha256(to_buffer(gathered)).digest(), repr(limits))
    cached = _traces.get(key)
    if cached is not None:
        _traces.move_to_end(key)
        return cached
    try:
        traced = trace(gathered, limits=limits)
    except KlrError as err:
        for m in printed_before(err):
            print(m.message)
        raise
    traced.warnings.extend(output_warnings(traced.kernel, entry_pos(gathered), entry_line(gathered)))
    _traces[key] = traced
    while len(_traces) > _CACHE_SIZE:
        _traces.popitem(last=False)
    return traced


def _warn(found: list[Warning_]) -> None:
    for w in found:
        warnings.warn(SimulationWarning(render_warning(w)), stacklevel=4)


def _is_tensor(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return True
    return (not isinstance(value, (type, np.generic)) and hasattr(value, "shape")
            and hasattr(value, "dtype") and not hasattr(value, "__klr_name__"))


def _tensors(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[Any]:
    """The tensor arguments in the order the tracer makes them the kernel's inputs: positional
    arguments, then keyword arguments, tuples and lists entered depth first."""
    def walk(value: Any) -> Iterator[Any]:
        if _is_tensor(value):
            yield value
        elif isinstance(value, (tuple, list)):
            for v in value:
                yield from walk(v)

    for value in (*args, *kwargs.values()):
        yield from walk(value)


def _results(run: Run, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Write the inputs the kernel wrote back into the caller's arrays and build the value the
    kernel returns."""
    core = run.traced.kernel
    outputs = run.evaluation.result.outputs
    by_input = dict(zip((t.name for t in core.inputs), _tensors(args, kwargs)))
    for t in core.outputs:
        target = by_input.get(t.name)
        if isinstance(target, np.ndarray) and target.flags.writeable:
            np.copyto(target, outputs[t.name].astype(target.dtype, copy=False), casting="unsafe")
    returned = {t.name: outputs[t.name] for t in core.outputs if t.name not in by_input}
    fun = run.gathered.function(run.gathered.entry)
    params = _params(fun, args, kwargs) if fun is not None else {}
    form = _return_form(fun.body) if fun is not None else None
    return _shape(form, returned, params)


def _params(fun: A.Fun, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    names = (*fun.args.posonlyargs, *fun.args.args)
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def _return_form(body: tuple[A.Stmt, ...]) -> A.Expr | None:
    """The first ``return`` with a value in a function body (not in nested functions)."""
    for s in body:
        match s.stmt:
            case A.Ret(e) if not (isinstance(e.expr, A.ConstExpr) and isinstance(e.expr.value, A.CNone)):
                return e
            case A.IfStm(_, thn, els):
                inner = _return_form(thn) or _return_form(els)
            case A.ForLoop(_, _, loop, orelse) | A.WhileLoop(_, loop, orelse):
                inner = _return_form(loop) or _return_form(orelse)
            case A.WithBlock(_, inner_body):
                inner = _return_form(inner_body)
            case _:
                inner = None
        if inner is not None:
            return inner
    return None


def _shape(form: A.Expr | None, returned: dict[str, np.ndarray], params: dict[str, Any]) -> Any:
    """The kernel's return value from its ``return`` expression and the returned outputs (by
    Core tensor name, in order): a returned parameter is the caller's array; the other items
    take the outputs in order, or by name when the tracer merged repeated ones (``return x, x``)."""
    arrays = list(returned.values())
    if form is None and not arrays:
        return None
    kind = form.expr if form is not None else None
    if isinstance(kind, A.Name) and kind.id in params and _is_tensor(params[kind.id]):
        return params[kind.id]
    if isinstance(kind, (A.TupleExpr, A.ListExpr)) and not any(isinstance(x.expr, A.Starred)
                                                                for x in kind.xs):
        ids = [x.expr.id if isinstance(x.expr, A.Name) else None for x in kind.xs]
        mine = [i if i in params and _is_tensor(params[i]) else None for i in ids]
        items: list[Any] = arrays
        if sum(m is None for m in mine) == len(arrays):
            rest = iter(arrays)
            items = [params[m] if m is not None else next(rest) for m in mine]
        elif all(m is not None or i in returned for i, m in zip(ids, mine)):
            items = [params[m] if m is not None else returned[str(i)] for i, m in zip(ids, mine)]
        return tuple(items) if isinstance(kind, A.TupleExpr) else items
    if len(arrays) == 1:
        return arrays[0]
    return tuple(arrays)
