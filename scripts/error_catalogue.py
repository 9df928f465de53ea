"""The catalogue of klr's user-facing messages, read from klr's source and matched to its tests.

    python scripts/error_catalogue.py           # rewrite docs/error-catalogue.md
    python scripts/error_catalogue.py --check   # exit 1 when the file is stale or a message is untested

Nothing is imported or run: the modules of src/klr are parsed. A message is the text given to a
KlrError subclass or ``Warning_`` (found in the source, so new classes count), to ``.note(...)``,
or to a helper that passes its parameter on, such as ``ctx.error(msg)``, ``ctx.limit(msg)``,
``ctx.warn(msg)`` or the interpreter's ``fail(msg)``. Helpers are found by a fixed point: a
function whose message is essentially one of its parameters (fewer than four letters of its own)
is a wrapper, and each call of it contributes the message its caller passes. A message with text
of its own around a parameter (``f"{fn}: {what} must be a tensor"``) stays one template where it
is written, the parameter shown as ``<what>``. A message passed in a variable is followed to the
strings assigned to it and into small functions returning strings; when it cannot be followed
(the text of a caught exception, say) it is listed as forwarded, with its origin.

A template is tested when a test asserts its text: some string in tests/ (a constant, a sum of
strings, an f-string whose fields match anything, or the text a ``match=`` pattern spells)
holds a line that is the message, or that ends with ``: `` and the message (a rendered error,
an error quoted in another). The message is the template's literal parts in order, each
``<...>`` matching a non-empty run of characters (or an empty one, for a conditional such as a
plural's ``s``). Text alone cannot tell two templates of the same shape apart.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = "docs/error-catalogue.md"
COMMAND = "python scripts/error_catalogue.py"
# The generator's own tests: their made-up messages must not count as tests of klr's.
SELF_TEST = "tests/test_error_catalogue.py"

# Wrapper calls whose text is not a diagnostic: ``print`` in a kernel becomes a trace message.
NOT_MESSAGES = {"klr.tracer.context.Ctx.message"}
PHASES = ("usage", "file", "format", "gather", "trace", "limit", "check", "eval", "warning", "note", "klr")
MIN_LETTERS = 4  # a message with fewer letters of its own is a wrapper's or a forwarded text
LITERAL = (ast.Constant, ast.JoinedStr, ast.IfExp, ast.BinOp)  # arguments whose text is followed


# --- message parts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Hole:
    """A parameter of a function, filled in by the caller when the function is a wrapper."""

    param: str
    owner: int  # id() of the FunctionDef


@dataclass(frozen=True)
class Field:
    """Text computed at run time: an f-string field or an argument that is not a string."""

    expr: str
    optional: bool = False  # may be empty, as a plural's "s" is



Part = str | Hole | Field


@dataclass(frozen=True)
class Msg:
    parts: tuple[Part, ...]
    where: tuple[str, int]  # (module path, line) of the text


@dataclass(frozen=True)
class Forward:
    """A message that cannot be followed to its text."""

    origin: str
    where: tuple[str, int]


def _letters(parts: Iterable[Part]) -> int:
    return sum(c.isalpha() for p in parts if isinstance(p, str) for c in p)


def _concat(a: Msg | Forward, b: Msg | Forward) -> Msg | Forward:
    if isinstance(a, Forward):
        return a
    if isinstance(b, Forward):
        return b
    return Msg(a.parts + b.parts, a.where if _letters(a.parts) or not _letters(b.parts) else b.where)


def render(parts: Iterable[Part]) -> str:
    out = []
    for p in parts:
        out.append(p if isinstance(p, str) else f"<{p.param}>" if isinstance(p, Hole) else f"<{p.expr}>")
    return "".join(out)


# --- the source model ------------------------------------------------------------------------

@dataclass(eq=False)
class Func:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    module: Module
    cls: str | None  # the class of a method, or of the method a nested function is in
    parent: Func | None
    locals: dict[str, list[ast.expr]] = field(default_factory=dict)
    loops: set[str] = field(default_factory=set)
    caught: set[str] = field(default_factory=set)
    nested: dict[str, Func] = field(default_factory=dict)  # functions defined directly inside
    nodes: list[ast.AST] = field(default_factory=list)     # its own nodes, not those of nested ones

    @property
    def qualname(self) -> str:
        return f"{self.module.name}.{self.cls}.{self.node.name}" if self.cls else \
            f"{self.module.name}.{self.node.name}"

    def params(self) -> list[str]:
        a = self.node.args
        return [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]

    def default(self, name: str) -> ast.expr | None:
        a = self.node.args
        positional = [*a.posonlyargs, *a.args]
        pairs = [*zip(positional[len(positional) - len(a.defaults):], a.defaults),
                 *zip(a.kwonlyargs, a.kw_defaults)]
        return next((d for p, d in pairs if p.arg == name), None)

    @property
    def is_method(self) -> bool:
        return self.cls is not None and self.parent is None and \
            "staticmethod" not in {ast.unparse(d) for d in self.node.decorator_list}


@dataclass(eq=False)
class Module:
    name: str
    path: str
    tree: ast.Module
    funcs: dict[str, Func] = field(default_factory=dict)                 # module level
    methods: dict[tuple[str, str], Func] = field(default_factory=dict)   # (class, name)
    every: dict[int, Func] = field(default_factory=dict)                 # id(node) -> Func, nested too
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # alias -> (module, attr)
    consts: dict[str, ast.expr] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return ".".join(self.name.split(".")[:2])


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function body, not descending into nested functions and classes."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield child
            yield from _own_nodes(child)


def _scan_locals(func: Func) -> None:
    func.nodes = list(_own_nodes(func.node))
    for node in func.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            func.locals.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            func.locals.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            func.caught.add(node.name)
        elif isinstance(node, (ast.For, ast.comprehension, ast.NamedExpr, ast.withitem)):
            target = node.optional_vars if isinstance(node, ast.withitem) else node.target
            func.loops |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} if target else set()
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Call)):
            # problem, shape = _storage(...)
            for i, elt in enumerate(node.targets[0].elts):
                if isinstance(elt, ast.Name):
                    item = ast.Subscript(node.value, ast.Constant(i), ast.Load())
                    func.locals.setdefault(elt.id, []).append(ast.copy_location(item, node.value))
        elif isinstance(node, ast.Assign):
            func.loops |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _index(mod: Module) -> None:
    def add(node: ast.AST, cls: str | None, parent: Func | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                f = Func(child, mod, cls, parent)
                _scan_locals(f)
                mod.every[id(child)] = f
                if parent is not None:
                    parent.nested[child.name] = f
                if parent is None and cls is None:
                    mod.funcs[child.name] = f
                elif parent is None and cls is not None:
                    mod.methods[(cls, child.name)] = f
                add(child, cls, f)
            elif isinstance(child, ast.ClassDef):
                add(child, child.name if parent is None else cls, parent)
            else:
                add(child, cls, parent)

    add(mod.tree, None, None)
    for node in mod.tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            mod.consts[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            mod.consts[node.target.id] = node.value
    for n in ast.walk(mod.tree):
        if isinstance(n, ast.ImportFrom) and n.module:
            for a in n.names:
                mod.imports[a.asname or a.name] = (n.module, a.name)
        elif isinstance(n, ast.Import):
            for a in n.names:
                mod.imports[a.asname or a.name.split(".")[0]] = (a.name if a.asname else a.name.split(".")[0],
                                                                None)


def load_modules(root: Path) -> list[Module]:
    """Every module of ``root``/src/klr, parsed and indexed."""
    mods = []
    src = root / "src"
    for path in sorted((src / "klr").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        tree = ast.parse(path.read_text(), str(path))
        mod = Module(".".join(parts), path.relative_to(root).as_posix(), tree)
        _index(mod)
        mods.append(mod)
    return mods


def error_classes(mods: list[Module]) -> dict[str, str]:
    """Class name -> phase, for KlrError and its subclasses anywhere in klr, and ``Warning_``."""
    classes = {n.name: n for m in mods for n in ast.walk(m.tree) if isinstance(n, ast.ClassDef)}

    def bases(name: str) -> list[str]:
        return [ast.unparse(b).split(".")[-1] for b in classes[name].bases] if name in classes else []

    def own_phase(name: str) -> str | None:
        for stmt in classes[name].body:
            if (isinstance(stmt, ast.Assign) and [ast.unparse(t) for t in stmt.targets] == ["phase"]
                    and isinstance(stmt.value, ast.Constant)):
                return str(stmt.value.value)
        return None

    found = {"KlrError"}
    while more := {n for n in classes if n not in found and any(b in found for b in bases(n))}:
        found |= more
    phases = {"Warning_": "warning"}
    for name in found:
        c: str | None = name
        while c is not None and own_phase(c) is None:
            c = next((b for b in bases(c) if b in found), None)
        phases[name] = (own_phase(c) if c else None) or "klr"
    return phases


# --- finding messages ------------------------------------------------------------------------

@dataclass
class Site:
    kinds: tuple[str, ...]
    msg: Msg | Forward


class Finder:
    """Finds the message sites of every module, given the wrappers known so far."""

    def __init__(self, mods: list[Module]) -> None:
        self.mods = {m.name: m for m in mods}
        self.classes = error_classes(mods)
        self.wrappers: dict[int, list[tuple[tuple[str, ...], Msg]]] = {}  # id(FunctionDef) -> templates
        self.calls: dict[int, int] = {}  # id(FunctionDef) of a wrapper -> resolved calls of it
        self.methods: dict[str, list[Func]] = {}
        self.every: dict[int, Func] = {}
        for m in mods:
            self.every.update(m.every)
            for (_, name), f in m.methods.items():
                self.methods.setdefault(name, []).append(f)

    # which function a call reaches

    def resolve(self, call: ast.Call, scope: Func) -> tuple[Func | None, bool]:
        """The klr function ``call`` reaches, and whether it is called as a bound method."""
        f, mod = call.func, scope.module
        if isinstance(f, ast.Name):
            s: Func | None = scope
            while s is not None:
                if f.id in s.nested:
                    return s.nested[f.id], False
                s = s.parent
            if f.id in mod.funcs:
                return mod.funcs[f.id], False
            src, attr = mod.imports.get(f.id, ("", None))
            if attr and src in self.mods:
                return self.mods[src].funcs.get(attr), False
            return None, False
        if not isinstance(f, ast.Attribute):
            return None, False
        recv = f.value
        if isinstance(recv, ast.Name) and recv.id in mod.imports:
            src, attr = mod.imports[recv.id]
            target = f"{src}.{attr}" if attr else src
            return (self.mods[target].funcs.get(f.attr) if target in self.mods else None), False
        if isinstance(recv, ast.Name) and recv.id == "self" and scope.cls:
            own = mod.methods.get((scope.cls, f.attr))
            if own:
                return own, True
        candidates = [c for c in self.methods.get(f.attr, []) if id(c.node) in self.wrappers]
        for same in (lambda c: c.module is mod, lambda c: c.module.package == mod.package, lambda c: True):
            chosen = [c for c in candidates if same(c)]
            if len(chosen) == 1:
                return chosen[0], True
        return None, False

    # the text of an expression

    def text(self, e: ast.expr, scope: Func, depth: int = 0) -> list[Msg | Forward]:
        where = (scope.module.path, e.lineno)
        if depth > 8:
            return [Forward(ast.unparse(e), where)]
        match e:
            case ast.Constant(value=str(s)):
                return [Msg((s,), where)]
            case ast.Constant(value=None):
                return []  # no message on this path
            case ast.JoinedStr(values=values):
                parts: list[Part] = []
                for v in values:
                    if isinstance(v, ast.Constant):
                        parts.append(str(v.value))
                    elif isinstance(v, ast.FormattedValue):
                        optional = isinstance(v.value, ast.IfExp) or (
                            isinstance(v.value, ast.BinOp) and isinstance(v.value.op, ast.Mult))
                        parts.append(self._hole(v.value, scope) or Field(ast.unparse(v.value), optional))
                return [Msg(tuple(parts), where)]
            case ast.IfExp(body=body, orelse=orelse):
                return self.text(body, scope, depth + 1) + self.text(orelse, scope, depth + 1)
            case ast.BinOp(left=left, op=ast.Add(), right=right):
                return [_concat(a, b) for a in self.text(left, scope, depth + 1)
                        for b in self.text(right, scope, depth + 1)]
            case ast.Name(id=name):
                return self._name(e, name, scope, depth)
            case ast.Subscript(value=ast.Name(id=name)) if isinstance(scope.module.consts.get(name),
                                                                      ast.Dict):
                table = scope.module.consts[name]  # MESSAGES[kind]: any of the table's values
                assert isinstance(table, ast.Dict)
                return [m for v in table.values for m in self.text(v, scope, depth + 1)]
            case ast.Call():
                func, bound = self.resolve(e, scope)
                if func is not None:
                    returned = self._returned(func, e, bound, scope, depth)
                    if returned is not None:
                        return returned
            case ast.Subscript(value=ast.Call() as call, slice=ast.Constant(value=int(i))):
                func, bound = self.resolve(call, scope)
                if func is not None:
                    returned = self._returned(func, call, bound, scope, depth, i)
                    if returned is not None:
                        return returned
        return [Forward(ast.unparse(e), where)]

    def _name(self, e: ast.Name, name: str, scope: Func, depth: int) -> list[Msg | Forward]:
        where = (scope.module.path, e.lineno)
        hole = self._hole(e, scope)
        if hole:
            return [Msg((hole,), where)]
        s: Func | None = scope
        while s is not None:
            if name in s.caught:
                return [Forward(f"{name}, a caught exception", where)]
            if name in s.locals and name not in s.loops:
                return [m for v in s.locals[name] for m in self.text(v, s, depth + 1)]
            if name in s.loops or name in s.locals:
                return [Forward(name, where)]
            s = s.parent
        if name in scope.module.consts:
            return self.text(scope.module.consts[name], scope, depth + 1)
        return [Forward(name, where)]

    def _hole(self, e: ast.expr, scope: Func) -> Hole | None:
        if not isinstance(e, ast.Name):
            return None
        s: Func | None = scope
        while s is not None:
            if e.id in s.locals or e.id in s.caught or e.id in s.loops:
                return None
            if e.id in s.params():
                return Hole(e.id, id(s.node))
            s = s.parent
        return None

    def _returned(self, func: Func, call: ast.Call, bound: bool, scope: Func, depth: int,
                  item: int | None = None) -> list[Msg | Forward] | None:
        """The strings a small function returns (or item ``item`` of the tuples it returns), its
        parameters filled in from ``call``."""
        returns = [r.value for r in func.nodes if isinstance(r, ast.Return) and r.value is not None]
        if item is not None:
            returns = [r.elts[item] for r in returns if isinstance(r, ast.Tuple) and item < len(r.elts)]
        if not returns or depth > 4:
            return None
        texts = [m for r in returns for m in self.text(r, func, depth + 1)]
        if any(isinstance(m, Forward) for m in texts):
            return None
        return [m for t in texts for m in self.fill(t, func, call, bound, scope, depth)]

    def fill(self, msg: Msg | Forward, func: Func, call: ast.Call, bound: bool, scope: Func,
             depth: int = 0) -> list[Msg | Forward]:
        """``msg`` written in ``func``, its parameters' holes filled from ``call`` made in ``scope``."""
        if isinstance(msg, Forward):
            return [msg]
        args = self.arguments(func, call, bound)
        own = _letters(p for p in msg.parts if isinstance(p, str))
        options: list[list[Msg | Forward]] = []
        for p in msg.parts:
            if isinstance(p, Hole) and p.owner == id(func.node):
                arg = args.get(p.param)
                if arg is None:
                    options.append([Msg((Field(p.param),), msg.where)])
                elif own < MIN_LETTERS or isinstance(arg, LITERAL):
                    options.append(self.text(arg, scope, depth + 1))
                else:  # a value shown inside a sentence of the callee's
                    options.append([Msg((Field(ast.unparse(arg)),), (scope.module.path, arg.lineno))])
            else:
                options.append([Msg((p,), msg.where)])
        out: list[Msg | Forward] = []
        for combo in itertools.product(*options):
            forward = next((c for c in combo if isinstance(c, Forward)), None)
            if forward is not None:
                out.append(forward)
                continue
            msgs = [c for c in combo if isinstance(c, Msg)]
            parts = tuple(p for c in msgs for p in c.parts)
            # a wrapper's message is written where its caller's text is
            filled = sorted((not _letters(c.parts), c.where) for c in msgs
                            if c.where != msg.where and any(isinstance(p, str) for p in c.parts))
            out.append(Msg(parts, filled[0][1] if filled and own < MIN_LETTERS else msg.where))
        return out

    def arguments(self, func: Func, call: ast.Call, bound: bool) -> dict[str, ast.expr]:
        a = func.node.args
        positional = [p.arg for p in (*a.posonlyargs, *a.args)]
        if bound and func.is_method:
            positional = positional[1:]
        got: dict[str, ast.expr] = {}
        for name, value in zip(positional, call.args):
            if isinstance(value, ast.Starred):
                break
            got[name] = value
        got.update({kw.arg: kw.value for kw in call.keywords if kw.arg})
        for name in func.params():
            d = func.default(name)
            if name not in got and d is not None:
                got[name] = d
        return got

    # construction sites

    def constructions(self, call: ast.Call,
                      scope: Func) -> Iterator[tuple[tuple[str, ...], list[Msg | Forward]]]:
        """(kinds, messages) of an error, warning or note ``call`` creates, directly or through a wrapper."""
        f = call.func
        if isinstance(f, ast.IfExp):  # (ctx.limit if limit else ctx.error)(message)
            for branch in (f.body, f.orelse):
                yield from self.constructions(ast.Call(branch, call.args, call.keywords, lineno=call.lineno),
                                              scope)
            return
        named = [k.value for k in call.keywords if k.arg in ("message", "msg")]
        message = call.args[0] if call.args and not isinstance(call.args[0], ast.Starred) else \
            named[0] if named else None
        cls = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
        if isinstance(f, ast.Name) and cls not in self.classes:
            cls = self._class_default(f.id, scope) or cls
        if cls in self.classes or (cls == "note" and isinstance(f, ast.Attribute)):
            if message is not None:
                yield (cls,), self.text(message, scope)
            return
        func, bound = self.resolve(call, scope)
        if func is None or id(func.node) not in self.wrappers or func.qualname in NOT_MESSAGES:
            return
        self.calls[id(func.node)] = self.calls.get(id(func.node), 0) + 1
        for kinds, template in self.wrappers[id(func.node)]:
            yield kinds, self.fill(template, func, call, bound, scope)

    def _class_default(self, name: str, scope: Func) -> str | None:
        """The error class a parameter such as ``error: type[Exception] = GatherError`` defaults to."""
        s: Func | None = scope
        while s is not None:
            if name in s.params():
                d = s.default(name)
                return d.id if isinstance(d, ast.Name) and d.id in self.classes else None
            s = s.parent
        return None

    def sites(self, mod: Module) -> Iterator[Site]:
        for func in mod.every.values():
            for node in func.nodes:
                if isinstance(node, ast.Call):
                    for kinds, msgs in self.constructions(node, func):
                        for m in msgs:
                            yield Site(kinds, m)


# --- the catalogue ---------------------------------------------------------------------------

@dataclass
class Template:
    phase: str
    kinds: tuple[str, ...]
    parts: tuple[Part, ...]
    module: str
    lines: list[int]
    tests: list[str] = field(default_factory=list)
    example: str | None = None
    example_test: str | None = None  # the test the example comes from

    @property
    def text(self) -> str:
        return render(self.parts)

    @property
    def where(self) -> str:
        return f"{self.module}:{', '.join(map(str, self.lines))}"


@dataclass
class Forwarded:
    phase: str
    kinds: tuple[str, ...]
    module: str
    line: int
    origin: str  # the message as far as it is known
    note: str = ""


@dataclass
class Catalogue:
    templates: list[Template]
    forwarded: list[Forwarded]


def _phase(kinds: Iterable[str], classes: dict[str, str]) -> str:
    phases = [classes.get(k, k) for k in kinds]
    return min(phases, key=lambda p: PHASES.index(p) if p in PHASES else len(PHASES))


def find_messages(root: Path = ROOT) -> Catalogue:
    """Every message template and forwarded message of ``root``/src/klr."""
    mods = load_modules(root)
    finder = Finder(mods)
    for _ in range(12):  # wrappers of wrappers: a few rounds reach the fixed point
        finder.calls = {}
        sites = [s for m in mods for s in finder.sites(m)]
        wrappers: dict[int, list[tuple[tuple[str, ...], Msg]]] = {}
        for s in sites:
            if isinstance(s.msg, Msg) and _letters(s.msg.parts) < MIN_LETTERS:
                for owner in {p.owner for p in s.msg.parts if isinstance(p, Hole)}:
                    got = wrappers.setdefault(owner, [])
                    if (s.kinds, s.msg) not in got:
                        got.append((s.kinds, s.msg))
        if wrappers == finder.wrappers:
            break
        finder.wrappers = wrappers
    else:
        raise RuntimeError("the wrappers of klr's messages did not reach a fixed point")

    templates: dict[tuple[str, str], Template] = {}
    forwarded: dict[tuple[str, int, str], Forwarded] = {}

    def forward(kinds: tuple[str, ...], where: tuple[str, int], origin: str, note: str = "") -> None:
        key = (*where, origin)
        got = forwarded.setdefault(key, Forwarded(_phase(kinds, finder.classes), (), *where, origin, note))
        got.kinds = tuple(sorted({*got.kinds, *kinds}))

    for s in sites:
        if isinstance(s.msg, Forward):
            forward(s.kinds, s.msg.where, s.msg.origin)
            continue
        holes = [p for p in s.msg.parts if isinstance(p, Hole)]
        if (holes and _letters(s.msg.parts) < MIN_LETTERS) or not _letters(s.msg.parts):
            if not holes:
                forward(s.kinds, s.msg.where, render(s.msg.parts))
            elif not any(finder.calls.get(h.owner) for h in holes):
                wrapper = finder.every[holes[0].owner]
                if wrapper.qualname not in NOT_MESSAGES:
                    forward(s.kinds, s.msg.where, render(s.msg.parts),
                            f"no call of {wrapper.qualname} passes its parameters as strings")
            continue
        key = (s.msg.where[0], render(s.msg.parts))
        t = templates.setdefault(key, Template("", (), s.msg.parts, s.msg.where[0], []))
        t.kinds = tuple(sorted({*t.kinds, *s.kinds}))
        t.phase = _phase(t.kinds, finder.classes)
        if s.msg.where[1] not in t.lines:
            t.lines = sorted([*t.lines, s.msg.where[1]])
    # Sorted by text, not line, so that editing a module does not reorder the document.
    return Catalogue(sorted(templates.values(), key=lambda t: (PHASES.index(t.phase), t.module, t.text)),
                     sorted(forwarded.values(), key=lambda f: (PHASES.index(f.phase), f.module, f.origin)))


# --- the tests asserting each template --------------------------------------------------------

WILD = "\x00"  # an f-string field in a test string: matches any text


@dataclass(frozen=True)
class TestString:
    text: str
    test: str


def test_strings(root: Path = ROOT) -> list[TestString]:
    """The string constants of tests/**, each with the test (file::function) it belongs to."""
    out: list[TestString] = []
    for path in sorted((root / "tests").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == SELF_TEST:
            continue
        tree = ast.parse(path.read_text(), rel)
        consts: dict[str, list[str]] = {}
        names = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                 for t in node.targets if isinstance(t, ast.Name)}
        used: set[str] = set()
        units: list[tuple[str, ast.AST]] = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                units.append((node.name, node))
            elif isinstance(node, ast.ClassDef):
                units += [(f"{node.name}::{m.name}", m) for m in node.body
                          if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        consts[t.id] = list(_strings(node.value, names))
        for name, unit in units:
            texts = list(_strings(unit, names))
            for n in ast.walk(unit):
                if isinstance(n, ast.Name) and n.id in consts:
                    used.add(n.id)
                    texts += consts[n.id]
            out += [TestString(t, f"{rel}::{name}") for t in dict.fromkeys(texts)]
        out += [TestString(t, rel) for name, texts in consts.items() if name not in used for t in texts]
    return out


def _strings(node: ast.AST, names: dict[str, str]) -> Iterator[str]:
    """String constants, f-strings (fields as WILD), sums of strings (``"a" + L + "b"``, names of
    the module's string constants filled in) and the text of ``match=`` patterns under ``node``."""
    inside = {id(v) for n in ast.walk(node) if isinstance(n, ast.JoinedStr) for v in n.values}
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in inside:
            yield n.value
        elif isinstance(n, ast.JoinedStr):
            yield "".join(str(v.value) if isinstance(v, ast.Constant) else WILD for v in n.values)
        elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            folded = _fold(n, names)
            if folded is not None:
                yield folded
        elif (isinstance(n, ast.keyword) and n.arg == "match" and isinstance(n.value, ast.Constant)
              and isinstance(n.value.value, str)):  # pytest.raises(..., match=r"^text \(escaped\)$")
            yield re.sub(r"\\(.)", r"\1", n.value.value.removeprefix("^").removesuffix("$"))


def _fold(e: ast.expr, names: dict[str, str]) -> str | None:
    """The text of a string expression, WILD standing for what is computed; None if not a string."""
    match e:
        case ast.Constant(value=str(text)):
            return text
        case ast.JoinedStr(values=values):
            return "".join(str(v.value) if isinstance(v, ast.Constant) else WILD for v in values)
        case ast.Name(id=name) if name in names:
            return names[name]
        case ast.BinOp(left=left, op=ast.Add(), right=right):
            a, b = _fold(left, names), _fold(right, names)
            if a is None and b is None:
                return None
            return (WILD if a is None else a) + (WILD if b is None else b)
    return None


def pattern(parts: Iterable[Part]) -> re.Pattern[str]:
    """A whole message: from the start of a line or after ': ' (a position, 'error: ', or the
    message around it) to the end of the line."""
    parts = list(parts)
    prefix = ""
    if len(parts) > 1 and not isinstance(parts[0], str) and isinstance(parts[1], str) \
            and parts[1].startswith(": "):
        # '<file>: message': a test may build the file-name prefix itself, so it is optional
        prefix, parts[1] = r"(?:([^\n]+?): )?", parts[1][2:]
        parts = parts[1:]
    suffix = ""
    if len(parts) > 2 and isinstance(parts[-2], Field) and "limit_note" in parts[-2].expr \
            and isinstance(parts[-3], str) and parts[-3].endswith(" (") and parts[-1] == ")":
        # ' (--limit NAME=N raises it)': one helper writes it for every limit; a test may build
        # it with a call (a WILD in the test's text) or leave it out
        suffix = rf"(?: \(([^\n]+?)\)|{WILD})?"
        parts = [*parts[:-3], parts[-3][:-2]]
    body = prefix + "".join(re.escape(p) if isinstance(p, str) else
                            r"([^\n]*?)" if isinstance(p, Field) and p.optional else r"([^\n]+?)"
                            for p in parts) + suffix
    return re.compile(rf"(?:^|(?<=: )){body}$", re.MULTILINE)


def match_tests(catalogue: Catalogue, strings: list[TestString]) -> None:
    """Fill in each template's tests and an example of its text."""
    big = "\x1e".join(s.text for s in strings)
    starts = list(itertools.accumulate((len(s.text) + 1 for s in strings), initial=0))
    for t in catalogue.templates:
        anchor = max((p for p in t.parts if isinstance(p, str)), key=len).removeprefix(": ")
        regex = pattern(t.parts)
        hits: dict[int, re.Match[str]] = {}
        at = big.find(anchor)
        while at >= 0:
            i = _bisect(starts, at)
            if i not in hits and (m := regex.search(strings[i].text)):
                hits[i] = m
            at = big.find(anchor, starts[i + 1])
        t.tests = sorted({strings[i].test for i in hits})
        if hits:
            # the closest match: least text under placeholders, a full diagnostic line if any
            _, example, test = min(((WILD in e, sum(len(g or "") for g in m.groups()),
                                     "error: " not in e and "warning: " not in e, len(e), e, strings[i].test),
                                    e, strings[i].test)
                                   for i, m in hits.items() for e in [_example(strings[i].text, m)])
            t.example, t.example_test = example.replace(WILD, "…"), test


def _bisect(starts: list[int], at: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= at:
            lo = mid
        else:
            hi = mid
    return lo


def _example(text: str, m: re.Match[str]) -> str:
    begin = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    return text[begin:end if end >= 0 else len(text)].strip()


# --- the document ----------------------------------------------------------------------------

# Templates no input can produce, each with the reason. Keep it short: a message no input can
# produce is better an assertion (an InternalError), or gone.
UNTESTABLE: dict[str, str] = {
    "<name> needs at least one tensor operand":
        "every caller has a tile operand or computes two numbers in Python first",
    "<values.size> values cannot be written to a view of <count> elements <list(view.shape)> in <self.label>":
        "every operator's check rules fix the element count of dst before it runs",
}


def catalogue(root: Path = ROOT) -> Catalogue:
    """The messages of ``root``/src/klr with the tests of ``root``/tests asserting them."""
    cat = find_messages(root)
    match_tests(cat, test_strings(root))
    return cat


def untested(cat: Catalogue) -> list[Template]:
    return [t for t in cat.templates if not t.tests and t.text not in UNTESTABLE]


def _code(text: str) -> str:
    ticks = max((len(m) for m in re.findall("`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if ticks or text.startswith(" ") or text.endswith(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def document(cat: Catalogue) -> str:
    out = [
        "# Error catalogue",
        "",
        f"<!-- Generated by `{COMMAND}` from src/klr and tests/; do not edit. -->",
        "",
        "Every message klr can report, found by reading klr's source: the text given to an error",
        "class, a warning or a note, directly or through a helper such as `ctx.error`. In a template,",
        "`<...>` is text computed when the message is made (the expression in the source). Each",
        "template names where it is raised, the test asserting its text and an example of the full",
        "text from that test (`…` marks text a test computes). Messages are grouped by phase:",
        "`usage` (command line and API arguments), `format` (KLR files), `gather`, `trace`, `limit`",
        "(resource limits in any phase), `eval`, then warnings, notes and `klr` (the base error",
        "class).",
        "",
        f"Regenerate with `{COMMAND}` after changing a message or its tests;",
        "tests/test_error_catalogue.py checks that this file is current and that every template has",
        "a test.",
        "",
        "| phase | templates | tested |",
        "|---|---:|---:|",
    ]
    phases = [p for p in PHASES if any(t.phase == p for t in cat.templates)]
    for p in phases:
        ts = [t for t in cat.templates if t.phase == p]
        out.append(f"| {p} | {len(ts)} | {sum(bool(t.tests) for t in ts)} |")
    out.append(f"| all | {len(cat.templates)} | {sum(bool(t.tests) for t in cat.templates)} |")
    exempt = [t for t in cat.templates if not t.tests and t.text in UNTESTABLE]
    if exempt:
        out += ["", f"{len(exempt)} template(s) that no input can produce are marked \"not tested\", "
                "with the reason."]
    for p in phases:
        out += ["", f"## {p}"]
        module = None
        for t in (t for t in cat.templates if t.phase == p):
            if t.module != module:
                module = t.module
                out += ["", f"### {module}", ""]
            kinds = ", ".join(k for k in t.kinds if k != "note") or "note"
            out.append(f"- {_code(t.text)}")
            out.append(f"  - raised as: {kinds}")
            if t.tests:
                out.append(f"  - example: {_code(t.example or '')}")
                more = f" and {len(t.tests) - 1} more" if len(t.tests) > 1 else ""
                out.append(f"  - test: {_code(t.example_test or '')}{more}")
            elif t.text in UNTESTABLE:
                out.append(f"  - not tested: {UNTESTABLE[t.text]}")
            else:
                out.append("  - **no test asserts this message**")
    if cat.forwarded:
        out += ["", "## Forwarded messages", "",
                "Messages whose text comes from elsewhere (a caught exception, a variable the",
                "generator cannot follow), where they are raised and what they forward.", ""]
        for f in cat.forwarded:
            note = f"; {f.note}" if f.note else ""
            out.append(f"- {f.module} ({', '.join(f.kinds)}): {_code(f.origin)}{note}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help=f"do not write; exit 1 when {DOC} is stale or a message has no test")
    args = parser.parse_args(argv)
    cat = catalogue(ROOT)
    text = document(cat)
    path = ROOT / DOC
    missing = untested(cat)
    for t in missing:
        print(f"{t.module}:{t.lines[0]}: no test asserts: {t.text}", file=sys.stderr)
    if args.check:
        stale = not path.exists() or path.read_text() != text
        if stale:
            print(f"{DOC} is stale: run `{COMMAND}`", file=sys.stderr)
        return int(stale or bool(missing))
    path.write_text(text)
    n = len(cat.templates)
    print(f"wrote {DOC}: {n} templates, {n - len(missing)} tested or exempt, {len(cat.forwarded)} forwarded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
