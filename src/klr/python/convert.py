"""Translating CPython ``ast`` nodes of one module into the KLR Python AST.

Scoping follows Python: a name bound anywhere in a function (parameter, assignment
target, loop or ``with`` variable, nested ``def``, local ``import``) is local to it and
stays a bare name, as do closure variables of enclosing functions, comprehension and
lambda variables. Every other name is resolved through the module's bindings
(``klr.python.modules``) and rewritten to its fully qualified name; references to user
functions, classes and constants are reported to the host (the gatherer), which
collects them. Class bodies are visible only directly inside the class body.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from klr.errors import GatherError
from klr.pos import Pos
from klr.python import ast as K
from klr.python.modules import (
    BUILTIN_NAMES,
    ConstRef,
    ImportBinding,
    Indexer,
    LibRef,
    Module,
    ModuleRef,
    Ref,
    Resolver,
)

INT64_MAX = 2**63 - 1

BINOPS = {
    ast.Add: K.BinOp.add, ast.Sub: K.BinOp.sub, ast.Mult: K.BinOp.mul,
    ast.MatMult: K.BinOp.matmul, ast.Div: K.BinOp.div, ast.Mod: K.BinOp.mod,
    ast.Pow: K.BinOp.pow, ast.LShift: K.BinOp.lshift, ast.RShift: K.BinOp.rshift,
    ast.BitOr: K.BinOp.or_, ast.BitXor: K.BinOp.xor, ast.BitAnd: K.BinOp.and_,
    ast.FloorDiv: K.BinOp.floor,
}
_CMPOPS = {
    ast.Eq: K.CmpOp.eq, ast.NotEq: K.CmpOp.ne, ast.Lt: K.CmpOp.lt, ast.LtE: K.CmpOp.le,
    ast.Gt: K.CmpOp.gt, ast.GtE: K.CmpOp.ge, ast.Is: K.CmpOp.is_, ast.IsNot: K.CmpOp.isNot,
    ast.In: K.CmpOp.isIn, ast.NotIn: K.CmpOp.notIn,
}
_UNARYOPS = {
    ast.Invert: K.UnaryOp.invert, ast.Not: K.UnaryOp.not_, ast.UAdd: K.UnaryOp.uadd,
    ast.USub: K.UnaryOp.usub,
}
_CTX = {ast.Load: K.Ctx.load, ast.Store: K.Ctx.store, ast.Del: K.Ctx.del_}

#: Statements kernels cannot contain, with the message naming each.
_UNSUPPORTED_STMTS: dict[type, str] = {
    getattr(ast, "TryStar", ast.Try): "except* clauses are not supported in kernels",  # 3.11+
    ast.Delete: "del statements are not supported in kernels",
    ast.Match: "match statements are not supported in kernels",
    ast.AsyncFunctionDef: "async functions are not supported in kernels",
    ast.AsyncFor: "async for loops are not supported in kernels",
    ast.AsyncWith: "async with statements are not supported in kernels",
    ast.ClassDef: "class definitions inside functions are not supported in kernels",
}
_UNSUPPORTED_EXPRS: dict[type, str] = {
    ast.Set: "set displays are not supported in kernels",
    ast.SetComp: "set comprehensions are not supported in kernels",
    ast.NamedExpr: "assignment expressions (:=) are not supported in kernels",
    ast.Await: "await expressions are not supported in kernels",
    ast.Yield: "yield expressions are not supported in kernels",
    ast.YieldFrom: "yield expressions are not supported in kernels",
}

MISSING = "dataclasses.MISSING"


class Host(Protocol):
    resolver: Resolver

    def use(self, ref: Ref) -> str:
        """The qualified name for ``ref``, collecting the definition it names."""


class ScopeKind(enum.Enum):
    FUNCTION = "function"
    CLASS = "class"
    COMPREHENSION = "comprehension"
    LAMBDA = "lambda"


class Scope:
    __slots__ = ("globals", "imports", "kind", "names")

    def __init__(self, kind: ScopeKind, names: set[str], imports: dict[str, ImportBinding] | None = None,
                 globals: set[str] | None = None) -> None:
        self.kind = kind
        self.names = names
        self.imports = {} if imports is None else imports
        self.globals = set() if globals is None else globals  # names a ``global`` statement declares


class _Local:
    """Marker: the name is a local (or closure, or comprehension) variable."""


class _Builtin:
    """Marker: the name is a Python builtin."""


LOCAL = _Local()
BUILTIN = _Builtin()


def qualified_name(ref: Ref) -> str:
    match ref:
        case LibRef(name=name):
            return name
        case ModuleRef(module=m):
            return m.name
        case _:
            return ref.qualname


class Converter:
    """Converts the definitions of one module; ``host`` collects what they reference."""

    def __init__(self, host: Host, module: Module) -> None:
        self.host = host
        self.module = module
        self.resolver = host.resolver
        self.scopes: list[Scope] = []
        self.qualnames: list[str] = []
        self.lenient = False

    # --- helpers -------------------------------------------------------------------------

    def pos(self, node: ast.AST) -> Pos:
        return self.module.pos(node)

    def fail(self, message: str, node: ast.AST) -> GatherError:
        return GatherError(message, self.pos(node))

    def mk(self, kind: K.ExprKind, node: ast.AST) -> K.Expr:
        return K.Expr(kind, self.pos(node))

    @contextmanager
    def scope(self, scope: Scope) -> Iterator[None]:
        self.scopes.append(scope)
        try:
            yield
        finally:
            self.scopes.pop()

    @contextmanager
    def leniently(self) -> Iterator[None]:
        """Decorators and annotations are recorded, not followed: unknown names stay as written."""
        old, self.lenient = self.lenient, True
        try:
            yield
        finally:
            self.lenient = old

    # --- names ---------------------------------------------------------------------------

    def lookup(self, name: str) -> Ref | _Local | _Builtin | None:
        for depth, scope in enumerate(reversed(self.scopes)):
            if scope.kind is ScopeKind.CLASS and depth > 0:
                continue
            if name in scope.imports:
                return self.resolver.resolve_import(self.module, scope.imports[name])
            if name in scope.names:
                return LOCAL
        ref = self.resolver.resolve_global(self.module, name)
        if ref is not None:
            return ref
        return BUILTIN if name in BUILTIN_NAMES else None

    def used_here(self, error: GatherError, name: str, node: ast.AST) -> GatherError:
        """An import that fails where it is resolved: point also at the use that needed it."""
        pos = self.pos(node)
        if error.pos != pos and not any(n[1] == pos for n in error.notes):
            error.note(f"'{name}' is used here", pos)
        return error

    def use(self, ref: Ref) -> str:
        return qualified_name(ref) if self.lenient else self.host.use(ref)

    def declared_global(self, name: str) -> str | None:
        """The qualified name of ``name`` when the current function declares it ``global``."""
        if not self.scopes or name not in self.scopes[-1].globals:
            return None
        ref = self.resolver.resolve_global(self.module, name)
        return qualified_name(ref) if isinstance(ref, ConstRef) else f"{self.module.name}.{name}"

    def name(self, node: ast.Name) -> K.Expr:
        ctx = _CTX[type(node.ctx)]
        if ctx is not K.Ctx.load:
            return self.mk(K.Name(self.declared_global(node.id) or node.id, ctx), node)
        if self.scopes and node.id in self.scopes[-1].globals:
            ref = self.resolver.resolve_global(self.module, node.id)
            if ref is not None:
                return self.mk(K.Name(self.use(ref)), node)
            return self.mk(K.Name(f"{self.module.name}.{node.id}"), node)
        try:
            found = self.lookup(node.id)
        except GatherError as e:
            if self.lenient:
                return self.mk(K.Name(node.id), node)
            raise self.used_here(e, node.id, node) from None
        match found:
            case _Local() | _Builtin():
                return self.mk(K.Name(node.id), node)
            case None if self.lenient:
                return self.mk(K.Name(node.id), node)
            case None:
                raise self.fail(f"name '{node.id}' is not defined", node)
        return self.mk(K.Name(self.use(found)), node)

    def attribute(self, node: ast.Attribute) -> K.Expr:
        """``a.b.c``: chains through modules fuse into one qualified name (``numpy.float32``)."""
        chain: list[ast.Attribute] = []
        root: ast.expr = node
        while isinstance(root, ast.Attribute):
            chain.append(root)
            root = root.value
        chain.reverse()
        if not isinstance(root, ast.Name) or not isinstance(node.ctx, ast.Load):
            return self.plain_attribute(node)
        try:
            return self.fused_attribute(root, chain)
        except GatherError as e:
            if self.lenient:
                return self.plain_attribute(node)
            raise self.used_here(e, root.id, root) from None

    def fused_attribute(self, root: ast.Name, chain: list[ast.Attribute]) -> K.Expr:
        found = self.lookup(root.id)
        if found is None and not self.lenient:
            raise self.fail(f"name '{root.id}' is not defined", root)
        if not isinstance(found, (LibRef, ModuleRef)):
            return self.plain_attribute(chain[-1])
        ref: Ref = found
        used = 0
        while used < len(chain) and isinstance(ref, (LibRef, ModuleRef)):
            nxt = self.resolver.resolve_attr(ref, chain[used].attr, self.pos(chain[used]))
            assert nxt is not None  # modules resolve or raise
            ref = nxt
            used += 1
        expr = self.mk(K.Name(self.use(ref)), chain[used - 1])
        for attr in chain[used:]:
            expr = self.mk(K.Attr(expr, attr.attr, _CTX[type(attr.ctx)]), attr)
        return expr

    def plain_attribute(self, node: ast.Attribute) -> K.Expr:
        return self.mk(K.Attr(self.expr(node.value), node.attr, _CTX[type(node.ctx)]), node)

    # --- expressions ---------------------------------------------------------------------

    def exprs(self, nodes: Sequence[ast.expr]) -> tuple[K.Expr, ...]:
        return tuple(self.expr(n) for n in nodes)

    def opt(self, node: ast.expr | None) -> K.Expr | None:
        return None if node is None else self.expr(node)

    def expr(self, node: ast.expr) -> K.Expr:
        if type(node) in _UNSUPPORTED_EXPRS:
            raise self.fail(_UNSUPPORTED_EXPRS[type(node)], node)
        match node:
            case ast.Constant(value=value):
                return self.mk(K.ConstExpr(self.const(value, node)), node)
            case ast.Name():
                return self.name(node)
            case ast.Attribute():
                return self.attribute(node)
            case ast.Tuple(elts=elts, ctx=ctx):
                return self.mk(K.TupleExpr(self.exprs(elts), _CTX[type(ctx)]), node)
            case ast.List(elts=elts, ctx=ctx):
                return self.mk(K.ListExpr(self.exprs(elts), _CTX[type(ctx)]), node)
            case ast.Dict(keys=keys, values=values):
                return self.dict_display(node, keys, values)
            case ast.Subscript(value=value, slice=index, ctx=ctx):
                return self.mk(K.Subscript(self.expr(value), self.expr(index), _CTX[type(ctx)]), node)
            case ast.Slice(lower=lower, upper=upper, step=step):
                return self.mk(K.SliceExpr(self.opt(lower), self.opt(upper), self.opt(step)), node)
            case ast.BoolOp(op=op, values=values):
                bop = K.BoolOp.land if isinstance(op, ast.And) else K.BoolOp.lor
                return self.mk(K.BoolOpExpr(bop, self.exprs(values)), node)
            case ast.BinOp(op=op, left=left, right=right):
                return self.mk(K.BinOpExpr(BINOPS[type(op)], self.expr(left), self.expr(right)), node)
            case ast.UnaryOp(op=op, operand=operand):
                return self.mk(K.UnaryOpExpr(_UNARYOPS[type(op)], self.expr(operand)), node)
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                cmp = tuple(_CMPOPS[type(o)] for o in ops)
                return self.mk(K.Compare(self.expr(left), cmp, self.exprs(comparators)), node)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return self.mk(K.IfExp(self.expr(test), self.expr(body), self.expr(orelse)), node)
            case ast.Call(func=func, args=args, keywords=keywords):
                kws = tuple(self.keyword(k) for k in keywords)
                return self.mk(K.Call(self.expr(func), self.exprs(args), kws), node)
            case ast.Starred(value=value, ctx=ctx):
                return self.mk(K.Starred(self.expr(value), _CTX[type(ctx)]), node)
            case ast.JoinedStr(values=values):
                return self.mk(K.Joined(tuple(self.fstring_part(v) for v in values)), node)
            case ast.FormattedValue():
                return self.fstring_part(node)
            case ast.Lambda(args=args, body=body):
                return self.lambda_(node, args, body)
            case ast.ListComp(elt=elt, generators=gens):
                comps, (e,) = self.comprehension(gens, [elt])
                return self.mk(K.ListComp(e, comps), node)
            case ast.GeneratorExp(elt=elt, generators=gens):
                comps, (e,) = self.comprehension(gens, [elt])
                return self.mk(K.GeneratorExp(e, comps), node)
            case ast.DictComp(key=key, value=value, generators=gens):
                comps, (k, v) = self.comprehension(gens, [key, value])
                return self.mk(K.DictComp(k, v, comps), node)
        raise self.fail(f"{type(node).__name__} expressions are not supported in kernels", node)

    def const(self, value: object, node: ast.AST) -> K.Const:
        match value:
            case None:
                return K.CNone()
            case bool():
                return K.CBool(value)
            case int():
                if abs(value) > INT64_MAX:
                    shown = value if value.bit_length() <= 256 else f"of {value.bit_length()} bits"
                    raise self.fail(f"integer literal {shown} does not fit in 64 bits", node)
                return K.CInt(value)
            case float():
                return K.CFloat(value)
            case str():
                lone = next((c for c in value if "\ud800" <= c <= "\udfff"), None)
                if lone is not None:
                    raise self.fail(f"the string literal holds the lone surrogate U+{ord(lone):04X}, which "
                                    "a KLR file (UTF-8) cannot hold", node)
                return K.CString(value)
            case _ if value is Ellipsis:
                return K.CEllipsis()
            case bytes():
                raise self.fail("bytes literals are not supported in kernels", node)
        raise self.fail("complex literals are not supported in kernels", node)

    def dict_display(self, node: ast.Dict, keys: list[ast.expr | None], values: list[ast.expr]) -> K.Expr:
        for key, value in zip(keys, values, strict=True):
            if key is None:
                raise self.fail("dict unpacking (**) is not supported in kernels", value)
        return self.mk(K.DictExpr(self.exprs([k for k in keys if k is not None]), self.exprs(values)), node)

    def keyword(self, node: ast.keyword) -> K.Keyword:
        return K.Keyword(node.arg, self.expr(node.value), self.pos(node))

    def fstring_part(self, node: ast.expr) -> K.Expr:
        """``{e!c}`` becomes ``format(e, conv)``; a format spec becomes a call to builtin ``format``."""
        if not isinstance(node, ast.FormattedValue):
            return self.expr(node)
        conv = None if node.conversion == -1 else node.conversion
        value = self.expr(node.value)
        if node.format_spec is None:
            return self.mk(K.Format(value, conv), node)
        if conv is not None:
            value = self.mk(K.Format(value, conv), node)
        spec = self.expr(node.format_spec)
        return self.mk(K.Call(self.mk(K.Name("format"), node), (value, spec), ()), node)

    def lambda_(self, node: ast.Lambda, args: ast.arguments, body: ast.expr) -> K.Expr:
        params = self.arguments(args)
        with self.scope(Scope(ScopeKind.LAMBDA, set(params.names) | _star_names(args))):
            return self.mk(K.Lambda(params, self.expr(body)), node)

    def comprehension(self, gens: list[ast.comprehension],
                      elts: list[ast.expr]) -> tuple[tuple[K.Comprehension, ...], tuple[K.Expr, ...]]:
        for gen in gens:
            if gen.is_async:
                raise self.fail("async comprehensions are not supported in kernels", gen.iter)
        first_iter = self.expr(gens[0].iter)  # evaluated in the enclosing scope
        names = {n for g in gens for n in _store_names(g.target)}
        with self.scope(Scope(ScopeKind.COMPREHENSION, names)):
            comps = tuple(
                K.Comprehension(self.expr(g.target), first_iter if i == 0 else self.expr(g.iter),
                                self.exprs(g.ifs))
                for i, g in enumerate(gens))
            return comps, self.exprs(elts)

    # --- functions and classes -----------------------------------------------------------

    def arguments(self, node: ast.arguments) -> K.Args:
        """Parameters; defaults are evaluated in the enclosing scope, annotations dropped."""
        kw_defaults = tuple(
            K.Keyword(a.arg, self.expr(d), self.pos(d))
            for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True) if d is not None)
        return K.Args(
            posonlyargs=tuple(a.arg for a in node.posonlyargs),
            args=tuple(a.arg for a in node.args),
            defaults=self.exprs(node.defaults),
            vararg=node.vararg.arg if node.vararg else None,
            kwonlyargs=tuple(a.arg for a in node.kwonlyargs),
            kw_defaults=kw_defaults,
            kwarg=node.kwarg.arg if node.kwarg else None,
        )

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> K.Fun:
        if isinstance(node, ast.AsyncFunctionDef):
            raise self.fail(_UNSUPPORTED_STMTS[ast.AsyncFunctionDef], node)
        with self.leniently():
            decorators = self.exprs(node.decorator_list)
        params = self.arguments(node.args)
        names, imports, globals_, nonlocals = self.function_locals(node)
        for name, decl in nonlocals.items():
            if not any(s.kind is ScopeKind.FUNCTION and name in s.names for s in self.scopes):
                raise self.fail(f"no binding for nonlocal '{name}' found", decl)
        self.qualnames.append(qualname)
        local = names | set(params.names) | _star_names(node.args)
        try:
            with self.scope(Scope(ScopeKind.FUNCTION, local - globals_.keys() - nonlocals.keys(),
                                  imports, set(globals_))):
                body = self.block(node.body)
        finally:
            self.qualnames.pop()
        line, source = self.module.source_of(node)
        return K.Fun(qualname, self.module.path, line, source, decorators, params, body)

    def function_locals(self, node: ast.FunctionDef) -> tuple[
            set[str], dict[str, ImportBinding], dict[str, ast.stmt], dict[str, ast.stmt]]:
        """The names a function binds, its local imports, and the names it declares global
        and nonlocal (each with its declaration)."""
        names: set[str] = set()
        imports: dict[str, ImportBinding] = {}
        globals_: dict[str, ast.stmt] = {}
        nonlocals: dict[str, ast.stmt] = {}
        indexer = Indexer(self.module)
        for sub in _scope_nodes(node.body):
            match sub:
                case ast.Name(ctx=ast.Store() | ast.Del()):
                    names.add(sub.id)
                case ast.ExceptHandler(name=str(name)):
                    names.add(name)
                case ast.Global(names=declared):
                    globals_.update((n, sub) for n in declared)
                case ast.Nonlocal(names=declared):
                    nonlocals.update((n, sub) for n in declared)
                case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
                    names.add(sub.name)
                case ast.Import() | ast.ImportFrom():
                    for name, binding in indexer.bindings_of(sub):
                        assert isinstance(binding, ImportBinding)
                        imports[name] = binding
        return names, imports, globals_, nonlocals

    def class_(self, node: ast.ClassDef, qualname: str) -> K.Class:
        if node.keywords:
            raise self.fail("class keywords are not supported in kernels", node.keywords[0])
        bases = self.exprs(node.bases)
        with self.leniently():
            decorators = self.exprs(node.decorator_list)
        body_names = {n for s in node.body for t in _class_targets(s) for n in _store_names(t)}
        fields: list[K.Keyword] = []
        methods: list[K.Fun] = []
        with self.scope(Scope(ScopeKind.CLASS, body_names)):
            for stmt in node.body:
                match stmt:
                    case ast.Pass() | ast.Expr(value=ast.Constant(value=str())):
                        pass
                    case ast.Assign(targets=[ast.Name(id=name) as target], value=value):
                        fields.append(K.Keyword(name, self.expr(value), self.pos(target)))
                    case ast.AnnAssign(target=ast.Name(id=name) as target, value=value):
                        with self.leniently():
                            default = self.expr(value) if value else self.mk(K.Name(MISSING), target)
                        fields.append(K.Keyword(name, default, self.pos(target)))
                    case ast.Assign() | ast.AnnAssign():
                        raise self.fail(
                            "only assignments to a single name are supported in class bodies", stmt)
                    case ast.FunctionDef() | ast.AsyncFunctionDef():
                        methods.append(self.function(stmt, f"{qualname}.{stmt.name}"))
                    case _:
                        raise self.fail(f"{_describe(stmt)} are not supported in class bodies", stmt)
        return K.Class(qualname, bases, decorators, tuple(fields), tuple(methods))

    # --- statements ----------------------------------------------------------------------

    def block(self, stmts: list[ast.stmt]) -> tuple[K.Stmt, ...]:
        return tuple(self.stmt(s) for s in stmts)

    def stmt(self, node: ast.stmt) -> K.Stmt:
        return K.Stmt(self.stmt_kind(node), self.pos(node))

    def stmt_kind(self, node: ast.stmt) -> K.StmtKind:
        if type(node) in _UNSUPPORTED_STMTS:
            raise self.fail(_UNSUPPORTED_STMTS[type(node)], node)
        match node:
            case ast.Pass() | ast.Import() | ast.ImportFrom():
                return K.Pass()  # local imports only bind names, resolved statically
            case ast.Expr(value=value):
                return K.ExprStmt(self.expr(value))
            case ast.Assert(test=test, msg=msg):
                return K.Assert(self.expr(test), self.opt(msg))
            case ast.Return(value=value):
                ret = self.expr(value) if value else self.mk(K.ConstExpr(K.CNone()), node)
                return K.Ret(ret)
            case ast.Assign(targets=targets, value=value):
                return K.Assign(self.exprs(targets), self.expr(value))
            case ast.AugAssign(target=target, op=op, value=value):
                return K.AugAssign(self.expr(target), BINOPS[type(op)], self.expr(value))
            case ast.AnnAssign(target=target, annotation=annotation, value=value):
                with self.leniently():
                    ann = self.expr(annotation)
                return K.AnnAssign(self.expr(target), ann, self.opt(value))
            case ast.If(test=test, body=body, orelse=orelse):
                return K.IfStm(self.expr(test), self.block(body), self.block(orelse))
            case ast.For(target=target, iter=it, body=body, orelse=orelse):
                return K.ForLoop(self.expr(target), self.expr(it), self.block(body), self.block(orelse))
            case ast.While(test=test, body=body, orelse=orelse):
                return K.WhileLoop(self.expr(test), self.block(body), self.block(orelse))
            case ast.With(items=items, body=body):
                withs = tuple(K.WithItem(self.expr(i.context_expr), self.opt(i.optional_vars)) for i in items)
                return K.WithBlock(withs, self.block(body))
            case ast.Break():
                return K.BreakLoop()
            case ast.Continue():
                return K.ContinueLoop()
            case ast.Raise(exc=exc, cause=cause):
                return K.RaiseStm(self.opt(exc), self.opt(cause))
            case ast.Try(body=body, handlers=handlers, orelse=orelse, finalbody=finalbody):
                return K.TryStm(self.block(body), tuple(self.handler(h) for h in handlers),
                                self.block(orelse), self.block(finalbody))
            case ast.Global(names=names):
                return K.GlobalStm(tuple(self.declared_global(n) or n for n in names))
            case ast.Nonlocal(names=names):
                return K.NonlocalStm(tuple(names))
            case ast.FunctionDef():
                return K.FunDef(self.function(node, f"{self.qualnames[-1]}.{node.name}"))
        raise self.fail(f"{_describe(node)} are not supported in kernels", node)

    def handler(self, node: ast.ExceptHandler) -> K.ExceptHandler:
        return K.ExceptHandler(self.opt(node.type), node.name, self.block(node.body), self.pos(node))


# --- scope analysis ------------------------------------------------------------------------

def _scope_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Nodes of a function body that bind in its scope (not inside nested scopes)."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        match node:
            case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
                continue  # its name binds here; its body is another scope
            case ast.Lambda() | ast.ListComp() | ast.SetComp() | ast.DictComp() | ast.GeneratorExp():
                continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _store_names(target: ast.AST) -> Iterator[str]:
    for sub in ast.walk(target):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            yield sub.id


def _star_names(args: ast.arguments) -> set[str]:
    return {a.arg for a in (args.vararg, args.kwarg) if a is not None}


def _class_targets(stmt: ast.stmt) -> list[ast.expr]:
    match stmt:
        case ast.Assign(targets=targets):
            return list(targets)
        case ast.AnnAssign(target=target):
            return [target]
    return []


def _describe(node: ast.AST) -> str:
    """A plural phrase naming a statement kind, for error messages."""
    words = {
        ast.Expr: "expression statements", ast.If: "if statements", ast.For: "for loops",
        ast.While: "while loops", ast.With: "with statements", ast.Import: "import statements",
        ast.ImportFrom: "import statements", ast.ClassDef: "nested classes",
        ast.AugAssign: "augmented assignments", ast.Raise: "raise statements",
        ast.Return: "return statements", ast.Assert: "assert statements",
    }
    return words.get(type(node), f"{type(node).__name__} statements")
