"""The evaluator: runs the gathered Python AST with Python's semantics.

Partial evaluation: every Python value is computed at trace time; only builtins emit Core
statements (through ``Ctx.emit``). Loops are unrolled, ``if`` takes the traced branch, calls
into gathered functions are inlined by evaluating their bodies.

Design notes:
* Code runs as closures compiled once per AST node (compiler.py, statements.py); this module
  holds what the closures call back into: name resolution, classes, argument binding, calls.
* A frame's locals are a plain dict; closures keep references to their enclosing frames'
  dicts (innermost first), so a closure sees later rebindings as in Python. Names assigned
  anywhere in a function are local to all of it (``local_names``): reading one before
  assignment is an error rather than a silent fall-through to an outer scope.
* Names that are not local resolve once per kernel body (cached): gathered functions,
  classes and globals by their (qualified) names, then the builtin registry.
* Errors: the evaluator positions every error at the node it evaluates; a KlrError escaping a
  user function gets a ``called from here`` note at the call site.
"""

from __future__ import annotations

from collections.abc import Iterator

from klr.errors import KlrError
from klr.pos import Pos
from klr.python import ast as A
from klr.tracer import pymethods, registry
from klr.tracer.affine import NotAffine
from klr.tracer.compiler import Compiler
from klr.tracer.context import Ctx
from klr.tracer.frame import EMPTY, RETURN, Frame
from klr.tracer.limits import STEPS_PER_CALL
from klr.tracer.objects import (
    NO_DEFAULT,
    AutoValue,
    ClassKind,
    ClassMethod,
    ClassValue,
    EnumMember,
    FailedGlobal,
    FieldSpec,
    Function,
    Instance,
    Property,
    StaticMethod,
    SuperProxy,
)
from klr.tracer.registry import MISSING
from klr.tracer.values import Value

_ENUM_BASES = {"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"}


class Plan:
    """How to bind a call's arguments to a function's parameters (cached per function)."""

    __slots__ = (
        "cost",
        "default_names",
        "kw_allowed",
        "kwarg",
        "local_names",
        "n_pos",
        "positional",
        "required",
        "simple",
        "vararg",
    )

    def __init__(self, args: A.Args, local_names: frozenset[str], cost: int) -> None:
        self.positional = args.posonlyargs + args.args
        self.n_pos = len(self.positional)
        self.kw_allowed = frozenset(args.args + args.kwonlyargs)
        self.vararg = args.vararg
        self.kwarg = args.kwarg
        n_req = self.n_pos - len(args.defaults)
        kw_with_default = {k.id for k in args.kw_defaults}
        self.required = self.positional[:n_req] + tuple(
            k for k in args.kwonlyargs if k not in kw_with_default)
        self.default_names = self.positional[n_req:] + tuple(k.id for k in args.kw_defaults if k.id)
        self.simple = not (args.vararg or args.kwarg or args.kwonlyargs or args.defaults)
        self.local_names = local_names
        self.cost = cost


def _dotted(e: A.Expr) -> str | None:
    """``a.b.c`` for a Name/Attr chain, else None."""
    k = e.expr
    if isinstance(k, A.Name):
        return k.id
    if isinstance(k, A.Attr):
        head = _dotted(k.value)
        return None if head is None else f"{head}.{k.id}"
    if isinstance(k, A.Call):
        return _dotted(k.f)
    return None


def _target_names(e: A.Expr, out: set[str]) -> None:
    k = e.expr
    if isinstance(k, A.Name):
        if "." not in k.id:  # a qualified name is a module global (``global``)
            out.add(k.id)
    elif isinstance(k, (A.TupleExpr, A.ListExpr)):
        for x in k.xs:
            _target_names(x, out)
    elif isinstance(k, A.Starred):
        _target_names(k.e, out)


def assigned_names(stmts: tuple[A.Stmt, ...], out: set[str]) -> set[str]:
    """Names bound by ``stmts`` (not descending into nested defs), i.e. a function's locals."""
    for s in stmts:
        k = s.stmt
        if isinstance(k, A.Assign):
            for x in k.xs:
                _target_names(x, out)
        elif isinstance(k, (A.AugAssign, A.AnnAssign)):
            _target_names(k.x, out)
        elif isinstance(k, A.ForLoop):
            _target_names(k.x, out)
            assigned_names(k.body, out)
            assigned_names(k.orelse, out)
        elif isinstance(k, A.WhileLoop):
            assigned_names(k.body, out)
            assigned_names(k.orelse, out)
        elif isinstance(k, A.IfStm):
            assigned_names(k.thn, out)
            assigned_names(k.els, out)
        elif isinstance(k, A.WithBlock):
            for item in k.items:
                if item.var is not None:
                    _target_names(item.var, out)
            assigned_names(k.body, out)
        elif isinstance(k, A.FunDef):
            out.add(k.fun.name.rsplit(".", 1)[-1])
        elif isinstance(k, A.TryStm):
            assigned_names(k.body, out)
            for h in k.handlers:
                if h.name is not None:
                    out.add(h.name)
                assigned_names(h.body, out)
            assigned_names(k.orelse, out)
            assigned_names(k.finalbody, out)
    return out


def _blocks(stmts: tuple[A.Stmt, ...]) -> Iterator[A.Stmt]:
    """``stmts`` and the statements nested in them, not descending into nested defs."""
    for s in stmts:
        yield s
        k = s.stmt
        if isinstance(k, (A.ForLoop, A.WhileLoop)):
            yield from _blocks(k.body)
            yield from _blocks(k.orelse)
        elif isinstance(k, A.IfStm):
            yield from _blocks(k.thn)
            yield from _blocks(k.els)
        elif isinstance(k, A.WithBlock):
            yield from _blocks(k.body)
        elif isinstance(k, A.TryStm):
            yield from _blocks(k.body)
            for h in k.handlers:
                yield from _blocks(h.body)
            yield from _blocks(k.orelse)
            yield from _blocks(k.finalbody)


def _targets(e: A.Expr) -> Iterator[A.Expr]:
    """The Name targets of an assignment target."""
    k = e.expr
    if isinstance(k, A.Name):
        yield e
    elif isinstance(k, (A.TupleExpr, A.ListExpr)):
        for x in k.xs:
            yield from _targets(x)
    elif isinstance(k, A.Starred):
        yield from _targets(k.e)


def nonlocal_targets(body: tuple[A.Stmt, ...]) -> tuple[set[str], list[A.Expr]]:
    """The names a function declares ``nonlocal`` and the Name targets that store to them."""
    stmts = list(_blocks(body))
    names = {n for s in stmts if isinstance(s.stmt, A.NonlocalStm) for n in s.stmt.names}
    found: list[A.Expr] = []
    if names:
        for s in stmts:
            k = s.stmt
            exprs: tuple[A.Expr, ...] = ()
            if isinstance(k, A.Assign):
                exprs = k.xs
            elif isinstance(k, (A.AugAssign, A.AnnAssign, A.ForLoop)):
                exprs = (k.x,)
            elif isinstance(k, A.WithBlock):
                exprs = tuple(i.var for i in k.items if i.var is not None)
            found += [t for x in exprs for t in _targets(x)
                      if isinstance(t.expr, A.Name) and t.expr.id in names]
    return names, found


class Evaluator:
    """Evaluates one kernel body's Python code against a ``Ctx``."""

    def __init__(self, kernel: A.Kernel, ctx: Ctx) -> None:
        self.kernel = kernel
        self.ctx = ctx
        ctx.resolver = self
        self.dialect = ctx.dialect
        self.bindings: dict[str, Value] = {}
        self.class_asts: dict[str, A.Class] = {c.name: c for c in kernel.classes}
        self.cache: dict[str, Value] = {}
        self.kernel_constants: dict[str, Value] = {}
        self.plans: dict[int, Plan] = {}
        self.depth = 0
        self.generation = 0  # bumped when a ``global`` statement's variable is rebound
        self.handling: list[KlrError] = []  # the exceptions being handled (``except``), innermost last
        self.stack: list[tuple[Function, Frame]] = []
        self.global_frame = Frame({}, (), EMPTY)
        self.compiler = Compiler(self)
        for f in kernel.funcs:
            self.bindings[f.name] = Function(self, f.name, f.args, fun=f)

    # --- kernel set-up -------------------------------------------------------------------

    def bind_globals(self) -> None:
        """Evaluate ``Kernel.globals`` in order; a failing one is an error only when used."""
        for kw in self.kernel.globals:
            if kw.id is None:
                continue
            try:
                value = self.eval(kw.value, self.global_frame)
            except KlrError as e:
                value = FailedGlobal(kw.id, e, kw.pos)
            self.bindings[kw.id] = value
            self.cache.pop(kw.id, None)

    def eval_const(self, e: A.Expr) -> Value:
        """Evaluate an expression in the global scope (kernel arguments, flags, edges)."""
        return self.eval(e, self.global_frame)

    # --- name resolution -----------------------------------------------------------------

    def _binding(self, name: str) -> Value:
        got = self.bindings.get(name, MISSING)
        if got is MISSING and name in self.class_asts:
            got = self._build_class(self.class_asts[name])
        return got

    def _registry(self, name: str) -> Value:
        got = registry.lookup(name, self.dialect)
        if type(got) is registry.Unsupported:
            raise self.ctx.error(got.message())
        if isinstance(got, registry.KernelConstant):
            value = self.kernel_constants.get(got.name, MISSING)
            if value is MISSING:
                value = self.kernel_constants[got.name] = got.fn(self.ctx)
            return value
        return got

    def resolve_qualified(self, ctx: Ctx, name: str) -> Value:
        """A qualified name without attribute fallback (used by ``Module.getattr``)."""
        got = self._registry(name)
        if got is not MISSING and not isinstance(got, registry.ModuleValue):
            return got
        bound = self._binding(name)
        if bound is not MISSING:
            return self._checked(name, bound)
        return got

    def _checked(self, name: str, v: Value) -> Value:
        if type(v) is FailedGlobal:
            err = self.ctx.error(f"global '{name}' could not be evaluated: {v.error.message}")
            raise err.note("the global is defined here", v.error.pos or v.pos)
        return v

    def resolve(self, name: str, pos: Pos) -> Value:
        """A non-local name: gathered binding, registry, or a dotted attribute path."""
        got = self.cache.get(name, MISSING)
        if got is not MISSING:
            return got
        self.ctx.pos = pos
        if "." not in name:
            got = self._binding(name)
            if got is MISSING:
                got = self._registry("builtins." + name)
            got = self._registry(name) if got is MISSING else self._checked(name, got)
        else:
            got = self.resolve_qualified(self.ctx, name)
            if got is MISSING:
                head, _, attr = name.rpartition(".")
                base = self.resolve(head, pos)
                self.ctx.pos = pos
                got = pymethods.getattr_(self.ctx, base, attr)
        if got is MISSING:
            raise self.ctx.error(f"name '{registry.normalise(name)}' is not defined", pos)
        self.cache[name] = got
        return got

    def set_global(self, name: str, value: Value) -> None:
        """Rebind the module global ``name`` (qualified), as a ``global`` statement allows."""
        self.bindings[name] = value
        self.cache.clear()  # dotted paths through the old value are stale too
        self.generation += 1

    # --- classes -------------------------------------------------------------------------

    def _build_class(self, c: A.Class) -> ClassValue:
        base_names = [_dotted(b) or "" for b in c.bases]
        short = {n.rsplit(".", 1)[-1] for n in base_names}
        decos = {(_dotted(d) or "").rsplit(".", 1)[-1] for d in c.decorators}
        bases: list[ClassValue] = []
        for b, n in zip(c.bases, base_names, strict=False):
            last = n.rsplit(".", 1)[-1]
            if last in _ENUM_BASES or last in ("NamedTuple", "NKIObject", "object", "ABC", ""):
                continue
            v = self.resolve(n, b.pos)
            if isinstance(v, ClassValue):
                bases.append(v)
        if short & _ENUM_BASES:
            kind = ClassKind.ENUM
        elif "NamedTuple" in short:
            kind = ClassKind.NAMEDTUPLE
        elif "dataclass" in decos or any(b.kind == ClassKind.DATACLASS for b in bases):
            kind = ClassKind.DATACLASS
        else:
            kind = ClassKind.PLAIN
        cls = ClassValue(c.name, kind, tuple(bases))
        cls.int_like = bool(short & {"IntEnum", "IntFlag"})
        cls.frozen = kind == ClassKind.NAMEDTUPLE or any(_is_frozen(d) for d in c.decorators)
        self.bindings[c.name] = cls
        for base in bases:
            cls.fields.update(base.fields)
        for m in c.methods:
            cls.attrs[m.name.rsplit(".", 1)[-1]] = self._method(m, cls)
        last_int = 0
        for kw in c.fields:
            if kw.id is None:
                continue
            if kind == ClassKind.ENUM:
                value = self._enum_value(kw.value)
                if isinstance(value, AutoValue):
                    value = last_int + 1
                if isinstance(value, int):
                    last_int = value
                member = EnumMember(cls, kw.id, value)
                cls.members[kw.id] = member
                cls.attrs[kw.id] = member
                continue
            value = self.eval(kw.value, self.global_frame)
            if kind == ClassKind.PLAIN:
                cls.attrs[kw.id] = value
            else:
                cls.fields[kw.id] = value
                if not isinstance(value, FieldSpec) and value is not NO_DEFAULT:
                    cls.attrs[kw.id] = value
        return cls

    def super_of_current(self, ctx: Ctx) -> Value:
        """``super()`` in the running method: its class's bases, bound to its first argument."""
        if self.stack:
            fn, frame = self.stack[-1]
            owner = fn.owner
            params = fn.args.positional
            if owner is not None and params and params[0] in frame.locals:
                return SuperProxy(owner, frame.locals[params[0]])
        raise ctx.error("super() is only supported inside a method with a self argument")

    def _method(self, m: A.Fun, owner: ClassValue) -> Value:
        fn = Function(self, m.name, m.args, fun=m)
        fn.owner = owner
        out: Value = fn
        for d in m.decorators:
            last = (_dotted(d) or "").rsplit(".", 1)[-1]
            if last == "staticmethod":
                out = StaticMethod(fn)
            elif last == "classmethod":
                out = ClassMethod(fn)
            elif last == "property":
                out = Property(fn)
        return out

    def _enum_value(self, e: A.Expr) -> Value:
        """An enum member's value; a captured member object contributes its ``_value_``."""
        k = e.expr
        if isinstance(k, A.ObjectExpr):
            for kw in k.fields:
                if kw.id in ("_value_", "value"):
                    return self.eval(kw.value, self.global_frame)
        return self.eval(e, self.global_frame)

    # --- calls ---------------------------------------------------------------------------

    def plan_of(self, fn: Function) -> Plan:
        key = id(fn.fun) if fn.fun is not None else id(fn.expr)
        plan = self.plans.get(key)
        if plan is None:
            names = set(fn.args.names)
            for extra in (fn.args.vararg, fn.args.kwarg):
                if extra:
                    names.add(extra)
            if fn.fun is not None:
                assigned_names(fn.body, names)
                declared, targets = nonlocal_targets(fn.body)
                names -= declared
                self.compiler.nonlocal_targets.update(id(t) for t in targets)
            plan = Plan(fn.args, frozenset(names), STEPS_PER_CALL + max(1, len(fn.body)))
            self.plans[key] = plan
        fn.plan = plan
        return plan

    def eval_defaults(self, args: A.Args, frame: Frame) -> dict[str, Value]:
        out: dict[str, Value] = {}
        positional = args.posonlyargs + args.args
        for name, e in zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=False):
            out[name] = self.eval(e, frame)
        for kw in args.kw_defaults:
            if kw.id is not None:
                out[kw.id] = self.eval(kw.value, frame)
        return out

    def _bind(self, fn: Function, plan: Plan, args: tuple[Value, ...],
              kwargs: dict[str, Value]) -> dict[str, Value]:
        n = len(args)
        if plan.simple and not kwargs and n == plan.n_pos:
            return dict(zip(plan.positional, args, strict=False))
        ctx = self.ctx
        name = fn.short_name
        if n > plan.n_pos and plan.vararg is None:
            raise ctx.error(f"{name}() takes {plan.n_pos} positional argument{'s' * (plan.n_pos != 1)} "
                            f"but {n} {'was' if n == 1 else 'were'} given", python="TypeError")
        loc = dict(zip(plan.positional, args, strict=False))
        if plan.vararg is not None:
            loc[plan.vararg] = tuple(args[plan.n_pos:])
        extra: dict[str, Value] = {}
        for k, v in kwargs.items():
            if k in plan.kw_allowed:
                if k in loc:
                    raise ctx.error(f"{name}() got multiple values for argument '{k}'", python="TypeError")
                loc[k] = v
            elif plan.kwarg is not None:
                extra[k] = v
            else:
                raise ctx.error(f"{name}() got an unexpected keyword argument '{k}'", python="TypeError")
        if plan.kwarg is not None:
            loc[plan.kwarg] = extra
        if plan.default_names:
            if fn.defaults is None:
                fn.defaults = self.eval_defaults(fn.args, self.global_frame)
            for k in plan.default_names:
                if k not in loc:
                    loc[k] = fn.defaults[k]
        for k in plan.required:
            if k not in loc:
                raise ctx.error(f"{name}() missing required argument '{k}'", python="TypeError")
        return loc

    def call_function(self, fn: Function, args: tuple[Value, ...], kwargs: dict[str, Value],
                      *, entry: bool = False) -> Value:
        """Run a user function; ``entry`` (the kernel itself) adds no call-site note."""
        ctx = self.ctx
        if ctx.template is not None and any(env is ctx.template.locals for env in fn.closure):
            # a function defined beside a templated loop may read the loop's locals before the
            # body assigns them (the static check sees only the body's own reads)
            raise NotAffine("a call of a function that sees the loop's locals")
        plan = fn.plan or self.plan_of(fn)
        loc = self._bind(fn, plan, args, kwargs)
        if self.depth >= ctx.limits.max_depth:
            raise ctx.limit(f"call depth exceeds {ctx.limits.max_depth} in a call of {fn.short_name}",
                            "max_depth")
        call_pos = ctx.pos
        saved_target = ctx.target_name
        ctx.target_name = None
        frame = Frame(loc, fn.closure, plan.local_names)
        self.depth += 1
        self.stack.append((fn, frame))
        try:
            budget = ctx.budget
            budget.steps -= plan.cost
            if budget.steps < budget.mark:
                budget.tick(ctx)
            if fn.expr is not None:
                return self.eval(fn.expr, frame)
            sig = self.compiler.body(fn.body)(frame)
        except KlrError as e:
            if not entry:
                _note_call(e, call_pos)
            raise
        finally:
            self.depth -= 1
            self.stack.pop()
            ctx.target_name = saved_target
        return frame.ret if sig is RETURN else None

    # --- evaluation ----------------------------------------------------------------------

    def eval(self, e: A.Expr, frame: Frame) -> Value:
        """Evaluate ``e`` in ``frame``."""
        return self.compiler.expr(e)(frame)

    def store(self, target: A.Expr, v: Value, frame: Frame) -> None:
        """Assign ``v`` to an assignment target in ``frame``."""
        self.compiler.store(target)(frame, v)

    def object_value(self, k: A.ObjectExpr, pos: Pos, frame: Frame) -> Value:
        """A Python object captured by value: an instance of its class, or an enum member."""
        cls = self._binding(k.cls)
        fields = {kw.id: kw for kw in k.fields if kw.id is not None}
        if isinstance(cls, ClassValue) and cls.kind == ClassKind.ENUM:
            for key in ("_name_", "name"):
                if key in fields:
                    name = self.eval(fields[key].value, frame)
                    if name in cls.members:
                        return cls.members[name]
            raise self.ctx.error(f"cannot identify the member of enum '{cls.short_name}'", pos)
        if not isinstance(cls, ClassValue):
            cls = ClassValue(k.cls, ClassKind.PLAIN, ())
            self.bindings[k.cls] = cls
        return Instance(cls, {name: self.eval(kw.value, frame) for name, kw in fields.items()})


MAX_CALL_NOTES = 20
"""Call-site notes kept on one error (recursion would otherwise add one per level)."""


def _note_call(e: KlrError, pos: Pos) -> None:
    """Add a ``called from here`` note, once for directly repeated frames (recursion)."""
    note = ("called from here", pos)
    if len(e.notes) < MAX_CALL_NOTES and (not e.notes or e.notes[-1] != note):
        e.note(*note)


def _is_frozen(d: A.Expr) -> bool:
    k = d.expr
    if isinstance(k, A.Call):
        for kw in k.keywords:
            v = kw.value.expr
            if kw.id == "frozen" and isinstance(v, A.ConstExpr) and isinstance(v.value, A.CBool):
                return v.value.value
    return False


__all__ = ["Evaluator", "Frame", "Plan", "assigned_names"]
