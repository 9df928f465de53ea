"""Finding, parsing and indexing the user's source files, and resolving global names.

Nothing here imports or executes user code: each file is read and parsed with ``ast``,
and its top-level statements are indexed into *bindings* (what each module-level name
is bound to). Name resolution follows those bindings across ``import`` statements to a
``Ref``: a user function, class, constant or module, or a symbolic library name.

Module search order for ``import m`` in file F: F's directory, the directory that holds
F's top-level package (walking up through ``__init__.py``), the same two for the kernel
file, then the include directories. Library modules (NKI, numpy and the standard
library) are never read: references into them stay symbolic dotted names.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import os
import sys
from collections.abc import Iterator
from contextvars import ContextVar

from klr import files
from klr.diagnostics import remember_source
from klr.errors import GatherError, LimitError
from klr.limits import FileLimits
from klr.pos import Pos
from klr.schema import record

#: Top-level modules that always stay symbolic, even if a file of that name exists.
SYMBOLIC_ROOTS = frozenset({
    "nki", "neuronxcc", "numpy", "math", "functools", "enum", "dataclasses", "typing",
    "builtins", "ml_dtypes", "collections",
})

#: Names that stay bare when no module-level binding shadows them.
BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("__"))

#: Decorator-style wrappers that may be applied by assignment (``k = nki.jit(f)``).
JIT_WRAPPERS = frozenset({"jit", "trace", "baremetal", "benchmark", "profile", "simulate_kernel"})


# --- Bindings: what a module-level name is bound to -------------------------------------

@record
class DefBinding:
    node: ast.FunctionDef | ast.AsyncFunctionDef


@record
class ClassBinding:
    node: ast.ClassDef


@record
class RelativeBase:
    """The package directory the dots of a relative import point to, and its dotted name."""

    directory: str
    name: str  # "" when the dots reach above every known package


@record
class ImportBinding:
    """``import module`` (attr None) or ``from module import attr``, possibly relative to ``base``."""

    stmt: ast.stmt
    module: str
    attr: str | None
    base: RelativeBase | None = None

    @property
    def spelling(self) -> str:
        dots = "." * self.stmt.level if isinstance(self.stmt, ast.ImportFrom) else ""
        return dots + self.module


@record
class ConstBinding:
    """``name = value`` (``path`` indexes into a tuple-unpacking target; ``op`` for ``name op= value``)."""

    stmt: ast.stmt
    target: ast.Name
    value: ast.expr
    path: tuple[int, ...] = ()
    op: ast.operator | None = None


Binding = DefBinding | ClassBinding | ImportBinding | ConstBinding


class Module:
    """A user module as gather read it (compared by identity)."""

    __slots__ = ("bindings", "is_package", "lines", "name", "package", "path", "star_imports", "tree")

    def __init__(self, name: str, path: str, package: str, is_package: bool, lines: list[str],
                 tree: ast.Module) -> None:
        self.name = name                # dotted module name used to qualify its definitions
        self.path = path                # file path as given (relative paths stay relative)
        self.package = package          # package for relative imports ("" when none)
        self.is_package = is_package
        self.lines = lines              # source lines, with line ends
        self.tree = tree
        self.bindings: dict[str, list[Binding]] = {}
        self.star_imports: list[ImportBinding] = []

    def __repr__(self) -> str:
        return f"Module(name={self.name!r}, path={self.path!r})"

    @property
    def directory(self) -> str:
        return self.path if is_dir(self.path) else os.path.dirname(self.path) or "."

    def pos(self, node: ast.AST) -> Pos:
        """The absolute position of ``node``, columns counted in characters."""
        line = getattr(node, "lineno", 0)
        end = getattr(node, "end_lineno", None)
        column = self._column(line, getattr(node, "col_offset", 0)) or 0
        return Pos(line, column, end, self._column(end, getattr(node, "end_col_offset", None)), self.path)

    def _column(self, line: int | None, offset: int | None) -> int | None:
        if line is None or offset is None or not 0 < line <= len(self.lines):
            return offset
        text = self.lines[line - 1]
        if text.isascii():
            return offset
        return len(text.encode("utf-8")[:offset].decode("utf-8", errors="replace"))

    def source_of(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[int, str]:
        """The first line (decorators included) and the verbatim text of a definition."""
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        last = node.end_lineno or node.lineno
        return first, "".join(self.lines[first - 1:last])


# --- Refs: what a resolved name denotes ---------------------------------------------------

@record
class LibRef:
    name: str  # fully qualified dotted name inside a library module


@record
class ModuleRef:
    module: Module


@record
class FuncRef:
    module: Module
    node: ast.FunctionDef | ast.AsyncFunctionDef
    qualname: str


@record
class ClassRef:
    module: Module
    node: ast.ClassDef
    qualname: str


@record
class ConstRef:
    module: Module
    bindings: tuple[ConstBinding, ...]
    qualname: str


Ref = LibRef | ModuleRef | FuncRef | ClassRef | ConstRef


# --- Reading and indexing files ----------------------------------------------------------

class Sources:
    """What a gather read of the file system, so that a cached result can be checked against it:
    the SHA-256 of every source file read, and the answer of every existence check (a module
    created where none was found changes what an import resolves to)."""

    __slots__ = ("digests", "probes")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(self, digests: dict[str, str] | None = None,
                 probes: dict[tuple[str, str], bool] | None = None) -> None:
        self.digests = {} if digests is None else digests  # path as read -> hex SHA-256 of its bytes
        self.probes = {} if probes is None else probes  # ("file" or "dir", path) -> whether it was one

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Sources:
            return NotImplemented
        assert isinstance(other, Sources)
        return (self.digests, self.probes) == (other.digests, other.probes)

    def __repr__(self) -> str:
        return f"Sources(digests={self.digests!r}, probes={self.probes!r})"


_recording: ContextVar[Sources | None] = ContextVar("klr_gather_sources", default=None)


@contextlib.contextmanager
def recording() -> Iterator[Sources]:
    """Record the ``Sources`` of every gather run inside the block."""
    sources = Sources()
    token = _recording.set(sources)
    try:
        yield sources
    finally:
        _recording.reset(token)


def is_file(path: str) -> bool:
    found = os.path.isfile(path)
    sources = _recording.get()
    if sources is not None:
        sources.probes[("file", path)] = found
    return found


def is_dir(path: str) -> bool:
    found = os.path.isdir(path)
    sources = _recording.get()
    if sources is not None:
        sources.probes[("dir", path)] = found
    return found


def read_source(path: str, error: type[GatherError] = GatherError, pos: Pos | None = None,
                max_bytes: int | None = None) -> str:
    """The text of a Python source file (a regular file of at most ``max_bytes``, default
    ``FileLimits.max_source_bytes``, in a text encoding: ``klr.files.decode_source``); its lines
    are kept to show under errors."""
    limit = FileLimits().max_source_bytes if max_bytes is None else max_bytes
    data = files.read_input(path, limit=limit, limit_name="max_source_bytes", error=error, pos=pos)
    sources = _recording.get()
    if sources is not None:
        import hashlib  # only when recording (the compile cache): its import is ~3 ms

        sources.digests[path] = hashlib.sha256(data).hexdigest()
    text = files.decode_source(data, path, error, pos)
    remember_source(path, files.split_lines(text))
    return text


def parse(path: str, text: str) -> ast.Module:
    try:
        return ast.parse(text, filename=path)
    except (RecursionError, MemoryError):  # CPython's parser runs out of stack on deep nesting
        raise LimitError(f"{path} is nested too deeply to parse", Pos(1, 0, None, None, path)) from None
    except ValueError as e:  # e.g. a null byte in the source (Python 3.10)
        raise GatherError(f"syntax error: {e}", Pos(1, 0, None, None, path)) from None
    except SyntaxError as e:
        line = e.lineno or 1
        column = max((e.offset or 1) - 1, 0)
        end_line, end_col = e.end_lineno, (e.end_offset - 1 if e.end_offset else None)
        if end_line is None or end_col is None or (end_line, end_col) <= (line, column):
            end_line = end_col = None
        raise GatherError(f"syntax error: {e.msg}", Pos(line, column, end_line, end_col, path)) from None


def dir_package(directory: str) -> str:
    """The dotted package a directory is, walking up through ``__init__.py`` files."""
    parts: list[str] = []
    here = os.path.abspath(directory)
    while is_file(os.path.join(here, "__init__.py")):
        parts.append(os.path.basename(here))
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    return ".".join(reversed(parts))


def package_root(directory: str) -> str:
    """The directory holding the top-level package that ``directory`` belongs to."""
    package = dir_package(directory)
    depth = len(package.split(".")) if package else 0
    return os.path.normpath(os.path.join(directory or ".", *[os.pardir] * depth))


def is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def join_names(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def relative_base(module: Module, level: int) -> RelativeBase:
    """Where ``level`` dots lead from ``module``: up the directory tree, naming what is known."""
    parts = module.package.split(".") if module.package else []
    up = level - 1
    directory = os.path.normpath(os.path.join(module.directory or ".", *[os.pardir] * up))
    name = ".".join(parts[:len(parts) - up]) if up <= len(parts) else ""
    return RelativeBase(directory, name)


class Indexer:
    """Builds a module's binding table from its top-level statements."""

    def __init__(self, module: Module) -> None:
        self.module = module

    def index(self) -> None:
        self.module.bindings = self.collect(self.module.tree.body)

    def collect(self, body: list[ast.stmt]) -> dict[str, list[Binding]]:
        table: dict[str, list[Binding]] = {}
        for stmt in body:
            for name, binding in self.bindings_of(stmt):
                table.setdefault(name, []).append(binding)
            self.merge_conditional(stmt, table)
        return table

    def merge_conditional(self, stmt: ast.stmt, table: dict[str, list[Binding]]) -> None:
        """Bindings inside if/try/with blocks: the first branch that binds a name wins."""
        branches: list[list[ast.stmt]] = []
        match stmt:
            case ast.If(test=test) if is_main_guard(test):
                return
            case ast.If(body=body, orelse=orelse):
                branches = [body, orelse]
            case ast.Try(body=body, handlers=handlers, orelse=orelse, finalbody=final):
                branches = [body + orelse, *[h.body for h in handlers], final]
            case ast.With(body=body):
                branches = [body]
        seen: set[str] = set()
        for branch in branches:
            found = self.collect(branch)
            for name, bindings in found.items():
                if name not in seen:
                    table.setdefault(name, []).extend(bindings)
            seen |= found.keys()

    def bindings_of(self, stmt: ast.stmt) -> Iterator[tuple[str, Binding]]:
        match stmt:
            case ast.FunctionDef() | ast.AsyncFunctionDef():
                yield stmt.name, DefBinding(stmt)
            case ast.ClassDef():
                yield stmt.name, ClassBinding(stmt)
            case ast.Assign(targets=targets, value=value):
                for target in targets:
                    yield from self.unpack(stmt, target, value, ())
            case ast.AnnAssign(target=ast.Name() as target, value=value) if value is not None:
                yield target.id, ConstBinding(stmt, target, value)
            case ast.AugAssign(target=ast.Name() as target, op=op, value=value):
                yield target.id, ConstBinding(stmt, target, value, (), op)
            case ast.Import(names=names):
                for alias in names:
                    if alias.asname:
                        yield alias.asname, ImportBinding(stmt, alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        yield top, ImportBinding(stmt, top, None)
            case ast.ImportFrom(module=mod, names=names, level=level):
                base = relative_base(self.module, level) if level else None
                for alias in names:
                    binding = ImportBinding(stmt, mod or "", alias.name, base)
                    if alias.name == "*":
                        self.module.star_imports.append(binding)
                    else:
                        yield alias.asname or alias.name, binding

    def unpack(self, stmt: ast.stmt, target: ast.expr, value: ast.expr,
               path: tuple[int, ...]) -> Iterator[tuple[str, Binding]]:
        match target:
            case ast.Name(id=name):
                yield name, ConstBinding(stmt, target, value, path)
            case ast.Tuple(elts=elts) | ast.List(elts=elts) if not any(
                    isinstance(e, ast.Starred) for e in elts):
                for i, elt in enumerate(elts):
                    yield from self.unpack(stmt, elt, value, (*path, i))


# --- Loading modules and resolving names ---------------------------------------------------

class Resolver:
    """Loads user modules on demand and resolves module-level names to Refs."""

    def __init__(self, include_dirs: tuple[str, ...] = (), max_source_bytes: int | None = None) -> None:
        self.include_dirs = tuple(include_dirs)
        self.max_source_bytes = max_source_bytes
        self.by_path: dict[str, Module] = {}
        self.by_name: dict[str, Module] = {}
        self.top: Module | None = None
        self._resolving: set[tuple[int, str]] = set()

    # loading

    def load_top(self, path: str) -> Module:
        if "\0" in path:
            raise GatherError(f"cannot read {path!r}: a file name cannot contain a NUL character")
        if is_dir(path):  # only an imported package may be a directory
            raise GatherError(f"cannot read {path}: it is a directory, not a regular file")
        stem = os.path.splitext(os.path.basename(path))[0]
        directory = os.path.dirname(path) or "."
        self.top = self._load(os.path.normpath(path), stem, dir_package(directory), False)
        return self.top

    def _load(self, path: str, name: str, package: str, is_package: bool, pos: Pos | None = None) -> Module:
        key = os.path.realpath(path)
        if key in self.by_path:
            return self.by_path[key]
        if is_dir(path):
            module = Module(name, path, name, True, [], ast.Module(body=[], type_ignores=[]))
        else:
            text = read_source(path, GatherError, pos, self.max_source_bytes)
            lines = files.split_lines(text, keepends=True)
            module = Module(name, path, package, is_package, lines, parse(path, text))
        module.name = self._unique(name)
        self.by_path[key] = module
        self.by_name[module.name] = module
        Indexer(module).index()
        return module

    def _unique(self, name: str) -> str:
        """Two files reached under one dotted name (from different roots) get distinct names."""
        if not name or name not in self.by_name:
            return name
        n = 2
        while f"{name}_{n}" in self.by_name:
            n += 1
        return f"{name}_{n}"

    def _roots(self, importer: Module) -> Iterator[tuple[str, str]]:
        seen: set[tuple[str, str]] = set()
        dirs = [importer.directory]
        if self.top is not None:
            dirs.append(self.top.directory)
        candidates: list[tuple[str, str]] = []
        for d in dirs:
            candidates.append((d, dir_package(d)))
            candidates.append((package_root(d), ""))
        candidates += [(d, "") for d in self.include_dirs]
        for root, prefix in candidates:
            key = (os.path.realpath(root), prefix)
            if key not in seen:
                seen.add(key)
                yield root, prefix

    def find_module(self, dotted: str, importer: Module, pos: Pos | None) -> Module | None:
        """The user module ``dotted`` as seen from ``importer``.

        Regular modules and packages in every root come first; namespace directories only
        when no root has one and the name is not a standard-library module, as in Python.
        """
        places = [(os.path.normpath(os.path.join(root, *dotted.split("."))), join_names(prefix, dotted))
                  for root, prefix in self._roots(importer)]
        for base, name in places:
            if is_file(base + ".py") or is_file(os.path.join(base, "__init__.py")):
                return self.load_at(base, name, pos)
        if dotted.split(".")[0] in sys.stdlib_module_names:
            return None
        for base, name in places:
            if is_dir(base):
                return self.load_at(base, name, pos)
        return None

    def submodule(self, package: Module, attr: str, pos: Pos | None) -> Module | None:
        return self.load_at(os.path.join(package.directory, attr), join_names(package.name, attr), pos)

    def load_under(self, base: RelativeBase, dotted: str, pos: Pos | None) -> Module | None:
        """The module ``dotted`` below a relative import's base directory (the package itself if empty)."""
        path = os.path.join(base.directory, *dotted.split(".")) if dotted else base.directory
        return self.load_at(path, join_names(base.name, dotted), pos)

    def load_at(self, base: str, name: str, pos: Pos | None) -> Module | None:
        """``base.py``, ``base/__init__.py`` or the namespace package ``base/``."""
        if is_file(base + ".py"):
            return self._load(base + ".py", name, name.rpartition(".")[0], False, pos)
        if is_file(os.path.join(base, "__init__.py")):
            return self._load(os.path.join(base, "__init__.py"), name, name, True, pos)
        if is_dir(base):
            return self._load(base, name, name, True, pos)
        return None

    def module_ref(self, dotted: str, importer: Module, pos: Pos | None) -> ModuleRef | LibRef:
        if dotted.split(".")[0] in SYMBOLIC_ROOTS:
            return LibRef(dotted)
        found = self.find_module(dotted, importer, pos)
        if found is not None:
            return ModuleRef(found)
        if dotted.split(".")[0] in sys.stdlib_module_names:
            return LibRef(dotted)
        raise GatherError(f"cannot find module '{dotted}'", pos)

    # resolving

    def resolve_global(self, module: Module, name: str) -> Ref | None:
        """What module-level ``name`` in ``module`` denotes; None when it is not bound there."""
        key = (id(module), name)
        if key in self._resolving:
            raise GatherError(f"circular import of '{name}' in module '{module.name}'")
        self._resolving.add(key)
        try:
            bindings = module.bindings.get(name)
            if bindings:
                return self._resolve_bindings(module, name, bindings)
            return self._resolve_star(module, name)
        finally:
            self._resolving.discard(key)

    def _resolve_bindings(self, module: Module, name: str, bindings: list[Binding]) -> Ref | None:
        last = bindings[-1]
        qualname = f"{module.name}.{name}"
        match last:
            case DefBinding(node=node):
                return FuncRef(module, node, qualname)
            case ClassBinding(node=node):
                return ClassRef(module, node, qualname)
            case ImportBinding():
                return self.resolve_import(module, last)
        run: list[ConstBinding] = []
        for b in reversed(bindings):
            if not isinstance(b, ConstBinding):
                break
            run.insert(0, b)
        earlier = bindings[:len(bindings) - len(run)]
        wrapped = self._jit_alias(module, name, run[0], earlier) if len(run) == 1 else None
        return wrapped or ConstRef(module, tuple(run), qualname)

    def _jit_alias(self, module: Module, name: str, binding: ConstBinding,
                   earlier: list[Binding]) -> FuncRef | None:
        """``k = nki.jit(f)`` makes ``k`` the function ``f`` (the wrapper is a decorator)."""
        match binding.value:
            case ast.Call(func=wrapper, args=[ast.Name(id=inner)]) if not binding.path:
                pass
            case _:
                return None
        if _last_attr(wrapper) not in JIT_WRAPPERS:
            return None
        if inner == name:
            ref = self._resolve_bindings(module, name, earlier) if earlier else None
        else:
            ref = self.resolve_global(module, inner)
        return ref if isinstance(ref, FuncRef) else None

    def resolve_import(self, module: Module, binding: ImportBinding) -> Ref:
        pos = module.pos(binding.stmt)
        if binding.attr is None:
            return self.module_ref(binding.module, module, pos)
        if binding.base is None:
            base = self.module_ref(binding.module, module, pos)
            if isinstance(base, LibRef):
                return LibRef(f"{base.name}.{binding.attr}")
            source = base.module
        else:
            found = self.load_under(binding.base, binding.module, pos)
            if found is None:
                raise GatherError(f"cannot find module '{binding.spelling}'", pos)
            source = found
        ref = self.member(source, binding.attr, pos, importer=module)
        if ref is None:
            raise GatherError(f"cannot import name '{binding.attr}' from '{binding.spelling}'", pos)
        return ref

    def _resolve_star(self, module: Module, name: str) -> Ref | None:
        for binding in reversed(module.star_imports):
            if name.startswith("_"):
                continue
            pos = module.pos(binding.stmt)
            if binding.base is not None:
                found = self.load_under(binding.base, binding.module, pos)
                if found is None:
                    raise GatherError(f"cannot find module '{binding.spelling}'", pos)
                base: Ref = ModuleRef(found)
            else:
                base = self.module_ref(binding.module, module, pos)
            match base:
                case LibRef(name=lib) if name not in BUILTIN_NAMES:
                    return LibRef(f"{lib}.{name}")
                case ModuleRef(module=m):
                    ref = self.resolve_global(m, name)
                    if ref is not None:
                        return ref
        return None

    def resolve_attr(self, base: Ref, attr: str, pos: Pos | None) -> Ref | None:
        """``base.attr`` when it is known statically; None when it needs the tracer."""
        match base:
            case LibRef(name=lib):
                return LibRef(f"{lib}.{attr}")
            case ModuleRef(module=m):
                ref = self.member(m, attr, pos)
                if ref is None:
                    raise GatherError(f"module '{m.name}' has no attribute '{attr}'", pos)
                return ref
        return None

    def member(self, module: Module, attr: str, pos: Pos | None,
               importer: Module | None = None) -> Ref | None:
        """A module's attribute: a module-level binding, else a submodule of a package.

        A package importing from itself (``from . import sub`` in its ``__init__``) means
        the submodule, as Python's import system falls back to it.
        """
        own = importer is module
        if not own:
            ref = self.resolve_global(module, attr)
            if ref is not None:
                return ref
        sub = self.submodule(module, attr, pos) if module.is_package else None
        if sub is not None:
            return ModuleRef(sub)
        return self.resolve_global(module, attr) if own else None


def _last_attr(e: ast.expr) -> str | None:
    match e:
        case ast.Attribute(attr=attr) | ast.Name(id=attr):
            return attr
        case ast.Call(func=f):
            return _last_attr(f)
    return None
