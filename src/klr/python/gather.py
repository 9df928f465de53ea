"""gather: Python source of a kernel -> ``klr.python.ast.Kernel``, without running user code.

Starting from the kernel function, gather converts it and, transitively, every user
function, class and module-level constant it references, in this file or in the user's
own modules (found as described in ``klr.python.modules``). Functions and classes are
collected in discovery order (the kernel first); constants become ``Kernel.globals``
keywords holding their defining expressions, each after the constants it depends on.
Module-level code that the kernel does not reference is never converted.
"""

from __future__ import annotations

import ast
import os
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from klr.errors import GatherError, LimitError, UsageError
from klr.pos import NOPOS, Pos
from klr.python import ast as K
from klr.python.args import LIBRARY_ROOTS, value_expr
from klr.python.convert import BINOPS, Converter, qualified_name
from klr.python.modules import (
    ClassRef,
    ConstBinding,
    ConstRef,
    DefBinding,
    FuncRef,
    LibRef,
    Module,
    ModuleRef,
    Ref,
    Resolver,
)
from klr.schema import field_names

__all__ = ["gather", "gather_file", "function_source", "Gatherer"]

DEFAULT_ARCH = 2
ARCHS = range(2, 5)
MAX_LNC = 8


class Gatherer:
    """Collects the definitions reachable from a kernel; the ``Host`` of the converters."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.queue: deque[FuncRef | ClassRef] = deque()
        self.queued: set[str] = set()
        self.captured: set[str] = set()
        self.funcs: list[K.Fun] = []
        self.classes: list[K.Class] = []
        self.globals: list[K.Keyword] = []

    def use(self, ref: Ref) -> str:
        name = qualified_name(ref)
        match ref:
            case FuncRef() | ClassRef() if name not in self.queued:
                self.queued.add(name)
                self.queue.append(ref)
            case ConstRef() if name not in self.captured:
                self.captured.add(name)
                self.capture(ref)
        return name

    def capture(self, ref: ConstRef) -> None:
        """Record each module-level assignment of a constant, after what it references."""
        converter = Converter(self, ref.module)
        for binding in ref.bindings:
            value = converter.expr(_unpacked(binding))
            value = _index(value, _remaining_path(binding))
            if binding.op is not None:
                target = K.Expr(K.Name(ref.qualname), ref.module.pos(binding.target))
                op = _binop(binding.op)
                value = K.Expr(K.BinOpExpr(op, target, value), value.pos)
            self.globals.append(K.Keyword(ref.qualname, value, ref.module.pos(binding.target)))

    def run(self, entry: FuncRef) -> None:
        self.use(entry)
        self.drain()

    def use_names_in(self, module: Module, exprs: Iterable[K.Expr]) -> None:
        """Gather the definitions of ``module`` that argument expressions name (a config
        object built as ``module.Class(...)`` that the kernel body itself never names)."""
        prefix = module.name + "."
        for name in _names(exprs):
            if name.startswith(prefix):
                ref = self.resolver.resolve_global(module, name[len(prefix):])
                if isinstance(ref, (FuncRef, ClassRef)):
                    self.use(ref)
        self.drain()

    def drain(self) -> None:
        while self.queue:
            ref = self.queue.popleft()
            converter = Converter(self, ref.module)
            if isinstance(ref, FuncRef):
                self.funcs.append(converter.function(ref.node, ref.qualname))
            else:
                self.classes.append(converter.class_(ref.node, ref.qualname))


def _names(nodes: Iterable[Any]) -> Iterable[str]:
    """The ids of every ``Name`` inside AST nodes (frozen dataclasses and tuples of them)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, K.Name):
            yield node.id
        elif isinstance(node, tuple):
            stack.extend(node)
        else:
            stack.extend(getattr(node, f) for f in field_names(node) or ())


def _unpacked(binding: ConstBinding) -> ast.expr:
    """The value a tuple-unpacking target receives, when the right side is a literal tuple."""
    value = binding.value
    for i in binding.path:
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) > i and not any(
                isinstance(e, ast.Starred) for e in value.elts):
            value = value.elts[i]
        else:
            break
    return value


def _remaining_path(binding: ConstBinding) -> tuple[int, ...]:
    value, path = binding.value, binding.path
    while path and isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) > path[0] and not any(
            isinstance(e, ast.Starred) for e in value.elts):
        value, path = value.elts[path[0]], path[1:]
    return path


def _index(value: K.Expr, path: tuple[int, ...]) -> K.Expr:
    for i in path:
        value = K.Expr(K.Subscript(value, K.Expr(K.ConstExpr(K.CInt(i)), value.pos)), value.pos)
    return value


def _binop(op: ast.operator) -> K.BinOp:
    return BINOPS[type(op)]


# --- entry points --------------------------------------------------------------------------

def gather_file(path: str, func: str, *, args: Iterable[Any] = (), kwargs: Mapping[str, Any] | None = None,
                grid: Any = None, lnc: int | None = None, arch: int | None = None,
                include_dirs: Iterable[str] = (), max_source_bytes: int | None = None) -> K.Kernel:
    """Gather kernel function ``func`` of the Python file ``path``.

    ``args``/``kwargs`` are the kernel's arguments (Python values, numpy arrays, or Exprs
    from ``klr.python.args``); ``grid`` is a legacy SPMD launch grid such as ``(2, 2)``;
    ``lnc`` the number of logical cores (``Kernel.grid``); ``arch`` the target generation;
    ``max_source_bytes`` the largest source file read (``FileLimits.max_source_bytes``).
    """
    resolver = Resolver(tuple(include_dirs), max_source_bytes)
    module = resolver.load_top(path)
    entry = _entry(resolver, module, func)
    gatherer = Gatherer(resolver)
    try:
        gatherer.run(entry)
        pos_args, kw_args = _bind_args(entry, tuple(args), dict(kwargs or {}))
        pos_args = tuple(_user_names(gatherer, entry.module, a) for a in pos_args)
        kw_args = tuple(K.Keyword(k.id, _user_names(gatherer, entry.module, k.value), k.pos) for k in kw_args)
        gatherer.use_names_in(entry.module, (*pos_args, *(k.value for k in kw_args)))
    except RecursionError:
        pos = entry.module.pos(entry.node)
        raise LimitError(f"the source of '{func}' is nested too deeply to gather", pos) from None
    return K.Kernel(
        entry=entry.qualname,
        funcs=tuple(gatherer.funcs),
        classes=tuple(gatherer.classes),
        args=pos_args,
        kwargs=kw_args,
        globals=tuple(gatherer.globals),
        arch=_arch(arch),
        grid=_lnc(lnc),
        flags=_flags(grid),
    )


def gather(fn_or_path: Any, *args: Any, name: str | None = None, grid: Any = None, lnc: int | None = None,
           arch: int | None = None, include_dirs: Iterable[str] = (), max_source_bytes: int | None = None,
           **kwargs: Any) -> K.Kernel:
    """Gather a kernel given as a function object or as a path (then ``name`` is required).

    A function object is only asked for its source file and name: its module is read
    from disk and parsed again, never imported or run.
    """
    if isinstance(fn_or_path, (str, os.PathLike)):
        if name is None:
            raise UsageError("gather of a file needs name= the kernel function's name")
        path = os.fspath(fn_or_path)
    else:
        path, fn_name = function_source(fn_or_path)
        name = name or fn_name
    return gather_file(path, name, args=args, kwargs=kwargs, grid=grid, lnc=lnc, arch=arch,
                       include_dirs=include_dirs, max_source_bytes=max_source_bytes)


def function_source(fn: Any) -> tuple[str, str]:
    """The source file (relative to the current directory when below it) and the name of a
    kernel function, or of an object wrapping one (``__wrapped__``, ``func`` or ``fn``)."""
    import inspect  # not on the command line's path

    for attr in ("__wrapped__", "func", "fn"):
        if not inspect.isfunction(fn) and hasattr(fn, attr):
            fn = getattr(fn, attr)
    if not inspect.isfunction(fn):
        raise UsageError(f"gather needs a function or a path, got {type(fn).__name__}")
    fn = inspect.unwrap(fn)
    if "<locals>" in fn.__qualname__:
        raise UsageError(f"function '{fn.__qualname__}' is not defined at module level")
    try:
        path = inspect.getsourcefile(fn)
    except TypeError:
        path = None
    if path is None or not os.path.isfile(path):
        raise UsageError(f"cannot find the source file of function '{fn.__name__}'")
    rel = os.path.relpath(path)
    return (path if rel.startswith(os.pardir) else rel), fn.__name__


def _entry(resolver: Resolver, module: Module, func: str) -> FuncRef:
    ref = resolver.resolve_global(module, func) if func.isidentifier() else None
    if isinstance(ref, FuncRef):
        return ref
    error = GatherError(f"no function '{func}' in {module.path}")
    defined = [n for n, b in module.bindings.items() if isinstance(b[-1], DefBinding)]
    if defined:
        error.note(f"functions defined there: {', '.join(defined)}")
    raise error


def _bind_args(entry: FuncRef, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> tuple[tuple[K.Expr, ...], tuple[K.Keyword, ...]]:
    """Check arguments against the kernel's parameters; each value takes its parameter's position."""
    params = entry.node.args
    positional = params.posonlyargs + params.args
    name = entry.node.name
    if len(args) > len(positional) and params.vararg is None:
        raise UsageError(f"kernel '{name}' takes {len(positional)} positional arguments "
                         f"but {len(args)} were given")
    by_name = {a.arg: a for a in params.args + params.kwonlyargs}
    bound = {a.arg for a in positional[:len(args)]}
    for key in kwargs:
        if key in bound:
            raise UsageError(f"kernel '{name}' got two values for parameter '{key}'")
        if key not in by_name and params.kwarg is None:
            raise UsageError(f"kernel '{name}' has no parameter '{key}'")
    module = entry.module
    pos_exprs = tuple(
        value_expr(v, _param_pos(module, positional[i] if i < len(positional) else None))
        for i, v in enumerate(args))
    kw_exprs = tuple(
        K.Keyword(k, value_expr(v, _param_pos(module, by_name.get(k))), _param_pos(module, by_name.get(k)))
        for k, v in kwargs.items())
    return pos_exprs, kw_exprs


def _user_names(gatherer: Gatherer, module: Module, e: K.Expr) -> K.Expr:
    """An argument with each name that is not a library's (``Mode.POST``) resolved in the
    kernel's module, as the kernel's own code would see it, and its definition gathered."""
    k = e.expr
    match k:
        case K.Name(id=name) if name.split(".", 1)[0] not in LIBRARY_ROOTS:
            return K.Expr(K.Name(_resolve_user_name(gatherer, module, name)), e.pos)
        case K.TupleExpr(xs=xs):
            return K.Expr(K.TupleExpr(tuple(_user_names(gatherer, module, x) for x in xs)), e.pos)
        case K.ListExpr(xs=xs):
            return K.Expr(K.ListExpr(tuple(_user_names(gatherer, module, x) for x in xs)), e.pos)
        case K.DictExpr(keys=keys, values=values):
            return K.Expr(K.DictExpr(tuple(_user_names(gatherer, module, x) for x in keys),
                                     tuple(_user_names(gatherer, module, x) for x in values)), e.pos)
    return e


def _resolve_user_name(gatherer: Gatherer, module: Module, dotted: str) -> str:
    parts = dotted.split(".")
    ref = gatherer.resolver.resolve_global(module, parts[0])
    if ref is None:
        raise UsageError(f"'{dotted}' is not a known NKI or numpy name, nor a name defined in {module.path}; "
                         "write a library object as nl.NAME, nisa.NAME, np.NAME or nki.PATH")
    used = 1
    while used < len(parts) and isinstance(ref, (ModuleRef, LibRef)):
        nxt = gatherer.resolver.resolve_attr(ref, parts[used], None)
        assert nxt is not None  # modules resolve or raise
        ref, used = nxt, used + 1
    return ".".join((gatherer.use(ref), *parts[used:]))


def _param_pos(module: Module, param: ast.arg | None) -> Pos:
    return module.pos(param) if param is not None else NOPOS


def _arch(arch: int | None) -> int:
    if arch is None:
        return DEFAULT_ARCH
    if not isinstance(arch, int) or arch not in ARCHS:
        raise UsageError(f"arch must be between {ARCHS.start} and {ARCHS.stop - 1}, got {arch!r}")
    return arch


def _lnc(lnc: int | None) -> int:
    if lnc is None:
        return 1
    if not isinstance(lnc, int) or isinstance(lnc, bool) or not 1 <= lnc <= MAX_LNC:
        raise UsageError(f"lnc must be between 1 and {MAX_LNC}, got {lnc!r}")
    return lnc


def _flags(grid: Any) -> tuple[K.Expr, ...]:
    """A legacy SPMD launch grid travels as the flag ``("spmd_grid", (d0, d1, ...))``."""
    if grid is None:
        return ()
    dims = (grid,) if isinstance(grid, int) else tuple(grid) if isinstance(grid, (tuple, list)) else None
    if dims is None or not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise UsageError(f"grid must be a positive integer or a tuple of them, got {grid!r}")
    flag = (K.Expr(K.ConstExpr(K.CString("spmd_grid"))), value_expr(dims))
    return (K.Expr(K.TupleExpr(flag)),)
