"""Compiling the Python AST into Python closures, the evaluator's unit of execution.

Each expression becomes a closure ``run(frame) -> value`` and each statement list a closure
``run(frame) -> signal | None``, built once per AST node (cached by node identity for the
lifetime of the evaluator) and then called as often as the code runs: loop bodies unrolled a
million times are dispatched once. Everything that does not depend on the frame (constants,
operator symbols, argument shapes, whether a call target is a simple name) is decided at
compile time. Compiling never fails: unsupported constructs compile to closures that raise
their named error when, and only if, they are executed.

Control flow signals (break/continue/return) are return values of statement closures,
never exceptions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from klr.errors import KlrError
from klr.pos import Pos
from klr.python import ast as A
from klr.tracer import ops, pymethods
from klr.tracer.formatting import format_value, to_ascii
from klr.tracer.frame import BINOP_SYMBOLS, EMPTY, Body, Fn, Frame, Signal
from klr.tracer.objects import Function
from klr.tracer.registry import MISSING
from klr.tracer.statements import STMT as _STMT
from klr.tracer.statements import store as _store
from klr.tracer.templates import made
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx
    from klr.tracer.evaluator import Evaluator


_INT_FAST: dict[A.BinOp, Callable[[int, int], int]] = {
    A.BinOp.add: int.__add__, A.BinOp.sub: int.__sub__, A.BinOp.mul: int.__mul__,
    A.BinOp.mod: int.__mod__, A.BinOp.floor: int.__floordiv__,
}
_INT_COMPARE: dict[A.CmpOp, Callable[[int, int], bool]] = {
    A.CmpOp.eq: int.__eq__, A.CmpOp.ne: int.__ne__, A.CmpOp.lt: int.__lt__, A.CmpOp.le: int.__le__,
    A.CmpOp.gt: int.__gt__, A.CmpOp.ge: int.__ge__,
}
CMP_SYMBOLS = {
    A.CmpOp.eq: "==", A.CmpOp.ne: "!=", A.CmpOp.lt: "<", A.CmpOp.le: "<=", A.CmpOp.gt: ">",
    A.CmpOp.ge: ">=",
}
UNARY_SYMBOLS = {A.UnaryOp.usub: "-", A.UnaryOp.uadd: "+", A.UnaryOp.invert: "~"}
_CONV: dict[int, Callable[[Ctx, Value], str]] = {
    ord("r"): ops.to_repr, ord("s"): ops.to_str, ord("a"): to_ascii,
}
def _plain_field(ctx: Ctx, v: Value) -> str:
    """``f"{v}"``: ``format(v, "")``, which is ``str(v)`` unless a user class defines ``__format__``."""
    return v if type(v) is str else format_value(ctx, v, "")


_SMALL = 1 << 62
"""Integer operands the compiled fast path of ``+ - * // %`` takes without charging (ops._charge)."""


def _is_simple(v: Value) -> bool:
    """Values for which ``is`` is decided by value (CPython interns them or they are singletons)."""
    return v is None or isinstance(v, (bool, int, str))


def _same(a: Value, b: Value) -> bool:
    return a is b or (_is_simple(a) and type(a) is type(b) and a == b)


def _fixed_tuple(fns: tuple[Fn, ...]) -> Callable[[Frame], tuple[Value, ...]]:
    """A closure evaluating ``fns`` into a tuple (unrolled for the common small arities)."""
    match fns:
        case ():
            return lambda frame: ()
        case (a,):
            return lambda frame: (a(frame),)
        case (a, b):
            return lambda frame: (a(frame), b(frame))
        case (a, b, c):
            return lambda frame: (a(frame), b(frame), c(frame))
        case (a, b, c, d):
            return lambda frame: (a(frame), b(frame), c(frame), d(frame))
    return lambda frame: tuple([f(frame) for f in fns])


def _fixed_list(fns: tuple[Fn, ...]) -> Callable[[Frame], list[Value]]:
    match fns:
        case ():
            return lambda frame: []
        case (a,):
            return lambda frame: [a(frame)]
        case (a, b):
            return lambda frame: [a(frame), b(frame)]
        case (a, b, c):
            return lambda frame: [a(frame), b(frame), c(frame)]
    return lambda frame: [f(frame) for f in fns]


class Compiler:
    """Builds (and caches) the closures of one evaluator."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.ctx: Ctx = evaluator.ctx
        self.exprs: dict[int, Fn] = {}
        self.bodies: dict[int, Body] = {}
        self.stores: dict[tuple[str, int], Callable[[Frame, Value], None]] = {}
        self.nonlocal_targets: set[int] = set()  # ids of Name targets a ``nonlocal`` rebinds

    # --- entry points --------------------------------------------------------------------

    def expr(self, e: A.Expr, target: str | None = None) -> Fn:
        """The closure of ``e``; ``target`` names the assignment target of a call's result."""
        if target is not None:
            call = e.expr
            assert isinstance(call, A.Call), "only a call's result is named after its target"
            return self._call(call, e.pos, target)
        fn = self.exprs.get(id(e))
        if fn is None:
            fn = _EXPR[type(e.expr)](self, e.expr, e.pos)
            self.exprs[id(e)] = fn
        return fn

    def body(self, stmts: tuple[A.Stmt, ...]) -> Body:
        """The closure running ``stmts``: returns a Signal to stop, else None."""
        got = self.bodies.get(id(stmts))
        if got is not None:
            return got
        fns = tuple(_STMT[type(s.stmt)](self, s.stmt, s.pos) for s in stmts)
        ctx = self.ctx

        def run(frame: Frame) -> Signal | None:
            try:
                for f in fns:
                    r = f(frame)
                    if r is not None:
                        return r
            except KlrError as e:
                if e.pos is None or e.pos.line == 0:
                    ctx.locate(e)
                raise
            return None

        if len(fns) == 1:
            only = fns[0]

            def run1(frame: Frame) -> Signal | None:
                try:
                    return only(frame)
                except KlrError as e:
                    if e.pos is None or e.pos.line == 0:
                        ctx.locate(e)
                    raise

            got = run1
        else:
            got = run
        self.bodies[id(stmts)] = got
        return got

    def store(self, target: A.Expr) -> Callable[[Frame, Value], None]:
        """The closure storing a value into an assignment target."""
        return _store(self, target)

    def fail(self, message: str, pos: Pos) -> Fn:
        """A closure raising ``message`` at ``pos`` when run."""
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            raise ctx.error(message, pos)

        return run

    # --- expressions ---------------------------------------------------------------------

    def _const(self, k: A.ConstExpr, pos: Pos) -> Fn:
        c = k.value
        if isinstance(c, A.CTensor):
            return self.fail("a tensor constant may only appear as a kernel argument", pos)
        value: Value = None if isinstance(c, A.CNone) else Ellipsis if isinstance(c, A.CEllipsis) \
            else c.value
        return lambda frame: value

    def _name(self, k: A.Name, pos: Pos) -> Fn:
        name = k.id
        evaluator = self.evaluator
        ctx = self.ctx
        cached: list[Value] = [MISSING, 0]  # the global's value, and the generation it is of

        def slow(frame: Frame) -> Value:
            if name in frame.local_names:
                raise ctx.error(f"local variable '{name}' is used before it is assigned", pos,
                                python="NameError")
            for env in frame.enclosing:
                got = env.get(name, MISSING)
                if got is not MISSING:
                    return got
            got = cached[0]
            if got is MISSING or cached[1] != evaluator.generation:
                got = cached[0] = evaluator.resolve(name, pos)
                cached[1] = evaluator.generation
            return got

        def run(frame: Frame) -> Value:
            try:
                return frame.locals[name]
            except KeyError:
                return slow(frame)

        return run

    def _attr(self, k: A.Attr, pos: Pos) -> Fn:
        obj_fn = self.expr(k.value)
        name = k.id
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            obj = obj_fn(frame)
            ctx.pos = pos
            if isinstance(obj, TraceObject):
                return obj.getattr(ctx, name)
            return pymethods.getattr_(ctx, obj, name)

        return run

    def elements(self, xs: tuple[A.Expr, ...]) -> Callable[[Frame], list[Value]]:
        """A closure producing the values of ``xs`` with ``*e`` elements spliced in."""
        fns = tuple(self.expr(x) for x in xs)
        stars = tuple(type(x.expr) is A.Starred for x in xs)
        if not any(stars):
            return _fixed_list(fns)
        parts = tuple((self.expr(x.expr.e) if isinstance(x.expr, A.Starred) else f, s, x.pos)
                      for x, f, s in zip(xs, fns, stars, strict=True))
        ctx = self.ctx

        def run(frame: Frame) -> list[Value]:
            out: list[Value] = []
            for f, star, p in parts:
                v = f(frame)
                if star:
                    ctx.pos = p
                    out.extend(ops.materialise(ctx, v, "*"))
                else:
                    out.append(v)
            return out

        return run

    def _tuple(self, k: A.TupleExpr, pos: Pos) -> Fn:
        if k.ctx is A.Ctx.del_:
            return self.fail("deleting a tuple is not supported", pos)
        if not any(type(x.expr) is A.Starred for x in k.xs):
            return _fixed_tuple(tuple(self.expr(x) for x in k.xs))
        els = self.elements(k.xs)
        return lambda frame: tuple(els(frame))

    def _list(self, k: A.ListExpr, pos: Pos) -> Fn:
        if k.ctx is A.Ctx.del_:
            return self.fail("deleting a list is not supported", pos)
        return self.elements(k.xs)

    def _dict(self, k: A.DictExpr, pos: Pos) -> Fn:
        pairs = tuple((self.expr(ke), self.expr(ve), ke.pos) for ke, ve in zip(k.keys, k.values, strict=True))
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            out: dict[Value, Value] = {}
            for kf, vf, kpos in pairs:
                key = kf(frame)
                value = vf(frame)
                if type(key) not in ops.SCALARS:
                    ctx.pos = kpos
                    key = ops.hashable(ctx, key)
                out[key] = value
            return out

        return run

    def _subscript(self, k: A.Subscript, pos: Pos) -> Fn:
        obj_fn = self.expr(k.tensor)
        key_fn = self.expr(k.index)
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            obj = obj_fn(frame)
            key = key_fn(frame)
            ctx.pos = pos
            if isinstance(obj, TraceObject):
                return obj.getitem(ctx, key)
            return ops.getitem(ctx, obj, key)

        return run

    def _slice(self, k: A.SliceExpr, pos: Pos) -> Fn:
        def part(e: A.Expr | None) -> Fn:
            return (lambda frame: None) if e is None else self.expr(e)

        lo, hi, step = part(k.l), part(k.u), part(k.step)
        return lambda frame: slice(lo(frame), hi(frame), step(frame))

    def _boolop(self, k: A.BoolOpExpr, pos: Pos) -> Fn:
        want = k.op is A.BoolOp.lor
        parts = tuple((self.expr(x), x.pos) for x in k.values)
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            v: Value = None
            for f, p in parts:
                v = f(frame)
                if type(v) is bool:
                    if v is want:
                        return v
                    continue
                ctx.pos = p
                if ops.truth(ctx, v) is want:
                    return v
            return v

        return run

    def _binop(self, k: A.BinOpExpr, pos: Pos) -> Fn:
        left, right = self.expr(k.left), self.expr(k.right)
        sym = BINOP_SYMBOLS[k.op]
        maybe_fast = _INT_FAST.get(k.op)
        ctx = self.ctx

        if maybe_fast is not None:
            fast = maybe_fast
            lo, hi = -_SMALL, _SMALL

            def run_fast(frame: Frame) -> Value:
                a = left(frame)
                b = right(frame)
                if type(a) is int and type(b) is int and lo < a < hi and lo < b < hi:
                    return fast(a, b)
                ctx.pos = pos
                return ops.binop(ctx, sym, a, b)

            if k.op in (A.BinOp.mod, A.BinOp.floor):
                def run_divide(frame: Frame) -> Value:
                    a = left(frame)
                    b = right(frame)
                    if type(a) is int and type(b) is int and lo < a < hi and b and lo < b < hi:
                        return fast(a, b)
                    ctx.pos = pos
                    return ops.binop(ctx, sym, a, b)

                return run_divide

            return run_fast

        def run(frame: Frame) -> Value:
            a = left(frame)
            b = right(frame)
            ctx.pos = pos
            return ops.binop(ctx, sym, a, b)

        return run

    def _unaryop(self, k: A.UnaryOpExpr, pos: Pos) -> Fn:
        operand = self.expr(k.operand)
        ctx = self.ctx
        if k.op is A.UnaryOp.not_:
            def run_not(frame: Frame) -> Value:
                v = operand(frame)
                if type(v) is bool:
                    return not v
                ctx.pos = pos
                if isinstance(v, TraceObject) and v.dynamic:  # a test decided at run time
                    return v.unop(ctx, "not")
                return not ops.truth(ctx, v)

            return run_not
        sym = UNARY_SYMBOLS[k.op]

        def run(frame: Frame) -> Value:
            v = operand(frame)
            ctx.pos = pos
            return ops.unop(ctx, sym, v)

        return run

    def _compare1(self, op: A.CmpOp) -> Callable[[Value, Value], Value]:
        ctx = self.ctx
        sym = CMP_SYMBOLS.get(op)
        if sym is not None:
            fast = _INT_COMPARE[op]

            def cmp(a: Value, b: Value) -> Value:
                if type(a) is int and type(b) is int:
                    return fast(a, b)
                return ops.compare(ctx, sym, a, b)

            return cmp
        if op is A.CmpOp.is_:
            return _same
        if op is A.CmpOp.isNot:
            return lambda a, b: not _same(a, b)
        if op is A.CmpOp.isIn:
            return lambda a, b: ops.contains(ctx, b, a)
        return lambda a, b: not ops.contains(ctx, b, a)

    def _compare(self, k: A.Compare, pos: Pos) -> Fn:
        left = self.expr(k.left)
        steps = tuple((self._compare1(op), self.expr(c)) for op, c in zip(k.ops, k.comparators, strict=True))
        ctx = self.ctx
        if len(steps) == 1:
            (cmp, right), = steps

            def run1(frame: Frame) -> Value:
                a = left(frame)
                b = right(frame)
                ctx.pos = pos
                return cmp(a, b)

            return run1

        def run(frame: Frame) -> Value:
            a = left(frame)
            result: Value = True
            for i, (cmp, right) in enumerate(steps):
                b = right(frame)
                ctx.pos = pos
                result = cmp(a, b)
                if i + 1 < len(steps) and not ops.truth(ctx, result):
                    return result
                a = b
            return result

        return run

    def _ifexp(self, k: A.IfExp, pos: Pos) -> Fn:
        test, body, orelse = self.expr(k.test), self.expr(k.body), self.expr(k.orelse)
        tpos = k.test.pos
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            t = test(frame)
            if type(t) is not bool:
                ctx.pos = tpos
                t = ops.truth(ctx, t)
            return body(frame) if t else orelse(frame)

        return run

    def _keywords(self, kws: tuple[A.Keyword, ...]) -> Callable[[Frame], dict[str, Value]]:
        parts = tuple((kw.id, self.expr(kw.value), kw.pos) for kw in kws)
        ctx = self.ctx
        names = [kw.id for kw in kws]
        if None not in names and len(set(names)) == len(names):
            named = tuple((name, f) for name, f, _ in parts if name is not None)
            return lambda frame: {name: f(frame) for name, f in named}

        def run(frame: Frame) -> dict[str, Value]:
            out: dict[str, Value] = {}
            for name, f, p in parts:
                v = f(frame)
                if name is not None:
                    if name in out:
                        raise ctx.error(f"keyword argument '{name}' repeated", p, python="TypeError")
                    out[name] = v
                    continue
                if not isinstance(v, dict) or not all(isinstance(x, str) for x in v):
                    raise ctx.error("argument after ** must be a dict with string keys, "
                                    f"not '{type_name(v)}'", p, python="TypeError")
                for key, x in v.items():
                    if key in out:
                        raise ctx.error(f"got multiple values for keyword argument '{key}'", p,
                                        python="TypeError")
                    out[key] = x
            return out

        return run

    def _call(self, k: A.Call, pos: Pos, target: str | None = None) -> Fn:
        f_fn = self.expr(k.f)
        if any(type(x.expr) is A.Starred for x in k.args):
            as_list = self.elements(k.args)
            args_fn: Callable[[Frame], tuple[Value, ...]] = lambda frame: tuple(as_list(frame))  # noqa: E731
        else:
            args_fn = _fixed_tuple(tuple(self.expr(x) for x in k.args))
        kw_fn = self._keywords(k.keywords) if k.keywords else None
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            f = f_fn(frame)
            args = args_fn(frame)
            kwargs = kw_fn(frame) if kw_fn is not None else {}
            ctx.pos = pos
            if not isinstance(f, TraceObject):
                raise ctx.error(f"'{type_name(f)}' object is not callable", python="TypeError")
            if target is None:
                return f.call(ctx, args, kwargs)
            ctx.target_name = target
            try:
                return f.call(ctx, args, kwargs)
            finally:
                ctx.target_name = None

        return run

    def _starred(self, k: A.Starred, pos: Pos) -> Fn:
        return self.fail("a starred expression is only allowed in a call, list, tuple or assignment target",
                         pos)

    def _object(self, k: A.ObjectExpr, pos: Pos) -> Fn:
        evaluator = self.evaluator
        return lambda frame: evaluator.object_value(k, pos, frame)

    def _format(self, k: A.Format, pos: Pos) -> Fn:
        value = self.expr(k.e)
        ctx = self.ctx
        found = _plain_field if k.conv is None else _CONV.get(k.conv)
        if found is None:
            return self.fail(f"unknown f-string conversion '!{chr(k.conv or 0)}'", pos)
        conv: Callable[[Ctx, Value], Value] = found

        def run(frame: Frame) -> Value:
            v = value(frame)
            ctx.pos = pos
            return conv(ctx, v)

        return run

    def _joined(self, k: A.Joined, pos: Pos) -> Fn:
        parts = tuple(self.expr(x) for x in k.es)
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            out = []
            for f in parts:
                v = f(frame)
                out.append(v if type(v) is str else ops.to_str(ctx, v))
            ctx.pos = pos
            ctx.alloc(ops.str_bytes(*out))
            return "".join(out)

        return run

    def _lambda(self, k: A.Lambda, pos: Pos) -> Fn:
        evaluator = self.evaluator
        has_defaults = bool(k.args.defaults or k.args.kw_defaults)

        def run(frame: Frame) -> Value:
            defaults = evaluator.eval_defaults(k.args, frame) if has_defaults else {}
            return Function(evaluator, "<lambda>", k.args, expr=k.body,
                            closure=(frame.locals, *frame.enclosing), defaults=defaults)

        return run

    def comprehension(self, gens: tuple[A.Comprehension, ...],
                      emit: Callable[[Frame], None]) -> Callable[[Frame], None]:
        """A closure running ``emit`` once per element of the comprehension clauses."""
        ctx = self.ctx
        clauses = tuple((self.expr(g.iter), g.iter.pos, self.store(g.target),
                         tuple(self.expr(c) for c in g.ifs)) for g in gens)
        steps = ctx.budget

        def run(frame: Frame) -> None:
            inner = Frame({}, (frame.locals, *frame.enclosing), EMPTY)
            start = min(ctx.limits.max_iterations, ctx.iterations_left)
            # [iterations left (of the loop limits), left when the steps paid for run out (one
            # per element: settled in bulk), left when last settled]
            st = [start, max(0, start - steps.prepay(1)), start]

            def level(i: int) -> None:
                src_fn, src_pos, target, ifs = clauses[i]
                src = src_fn(frame if i == 0 else inner)
                ctx.pos = src_pos
                try:
                    for v in ops.iterate(ctx, src):
                        st[0] -= 1
                        if st[0] < st[1]:
                            if st[0] < 0:
                                raise ctx.loop_limit("comprehension", start - st[0], src_pos)
                            steps.settle(ctx, st[2] - st[0])
                            st[2] = st[0]
                            st[1] = max(0, st[0] - steps.prepay(1))
                        target(inner, v)
                        if all(ops.truth(ctx, c(inner)) for c in ifs):
                            if i + 1 == len(clauses):
                                emit(inner)
                            else:
                                level(i + 1)
                except RuntimeError as e:
                    raise ops.changed_size(ctx, e, f"the comprehension's {type_name(src)}", src_pos) from None

            try:
                level(0)
            finally:
                ctx.iterations_left -= start - max(0, st[0])
                steps.steps -= st[2] - max(0, st[0])

        return run

    def _listcomp(self, k: A.ListComp, pos: Pos) -> Fn:
        elt = self.expr(k.elt)
        out: list[list[Value]] = []
        loop = self.comprehension(k.generators, lambda f: out[-1].append(elt(f)))

        def run(frame: Frame) -> Value:
            out.append([])
            try:
                loop(frame)
                return out[-1]
            finally:
                out.pop()

        return run

    def _genexp(self, k: A.GeneratorExp, pos: Pos) -> Fn:
        as_list = self._listcomp(A.ListComp(k.elt, k.generators), pos)
        ctx = self.ctx

        def run(frame: Frame) -> Value:
            it = iter(as_list(frame))
            if ctx.template is not None:   # a loop template's probe may consume what it makes
                made(ctx.template, it)
            return it

        return run

    def _dictcomp(self, k: A.DictComp, pos: Pos) -> Fn:
        key_fn, value_fn = self.expr(k.key), self.expr(k.value)
        ctx = self.ctx
        out: list[dict[Value, Value]] = []

        kpos = k.key.pos

        def emit(f: Frame) -> None:
            key = key_fn(f)
            if type(key) not in ops.SCALARS:
                ctx.pos = kpos
                key = ops.hashable(ctx, key)
            out[-1][key] = value_fn(f)

        loop = self.comprehension(k.generators, emit)

        def run(frame: Frame) -> Value:
            out.append({})
            try:
                loop(frame)
                return out[-1]
            finally:
                out.pop()

        return run


_EXPR: dict[type, Callable[[Compiler, Any, Pos], Fn]] = {  # (Any: the node of the key's class)
    A.ConstExpr: Compiler._const, A.Name: Compiler._name, A.Attr: Compiler._attr,
    A.TupleExpr: Compiler._tuple, A.ListExpr: Compiler._list, A.DictExpr: Compiler._dict,
    A.Subscript: Compiler._subscript, A.SliceExpr: Compiler._slice, A.BoolOpExpr: Compiler._boolop,
    A.BinOpExpr: Compiler._binop, A.UnaryOpExpr: Compiler._unaryop, A.Compare: Compiler._compare,
    A.IfExp: Compiler._ifexp, A.Call: Compiler._call, A.Starred: Compiler._starred,
    A.ObjectExpr: Compiler._object, A.Format: Compiler._format, A.Joined: Compiler._joined,
    A.Lambda: Compiler._lambda, A.ListComp: Compiler._listcomp, A.DictComp: Compiler._dictcomp,
    A.GeneratorExp: Compiler._genexp,
}
