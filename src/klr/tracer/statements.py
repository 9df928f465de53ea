"""Compiling statements and assignment targets into closures (see compiler.py).

A statement closure takes the frame and returns None to continue or a Signal (break,
continue, return) to stop the enclosing body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from klr.errors import TraceError
from klr.pos import Pos
from klr.python import ast as A
from klr.tracer import exceptions, ops, pymethods, templates
from klr.tracer.frame import BINOP_SYMBOLS, BREAK, CONTINUE, RETURN, Frame, Signal
from klr.tracer.objects import Function, Instance
from klr.tracer.values import TraceObject, Value, type_name

if TYPE_CHECKING:
    from klr.tracer.compiler import Compiler
    from klr.tracer.context import Ctx

Stmt = Callable[[Frame], "Signal | None"]
Store = Callable[[Frame, Value], None]


def _describe(k: object) -> str:
    names = {
        A.ConstExpr: "a literal", A.Call: "a function call", A.BinOpExpr: "an expression",
        A.Compare: "a comparison", A.DictExpr: "a dict literal", A.Lambda: "a lambda",
        A.IfExp: "a conditional expression", A.BoolOpExpr: "an expression",
        A.UnaryOpExpr: "an expression", A.Joined: "an f-string",
    }
    return names.get(type(k), type(k).__name__)


# --- assignment targets ------------------------------------------------------------------------

def store(c: Compiler, target: A.Expr) -> Store:
    """A closure storing a value into ``target`` (name, tuple/list pattern, item, attribute)."""
    key = ("store", id(target))
    got = c.stores.get(key)
    if got is None:
        got = _store(c, target)
        c.stores[key] = got
    return got


def _store(c: Compiler, target: A.Expr) -> Store:
    k = target.expr
    pos = target.pos
    ctx = c.ctx
    if isinstance(k, A.Name):
        name = k.id
        if "." in name:  # a module global the function declares ``global``
            evaluator = c.evaluator

            def store_global(frame: Frame, v: Value) -> None:
                if ctx.template is not None:
                    raise templates.forbid("a global store")
                evaluator.set_global(name, v)

            return store_global
        if id(target) in c.nonlocal_targets:
            def store_nonlocal(frame: Frame, v: Value) -> None:
                if ctx.template is not None:
                    raise templates.forbid("a nonlocal store")
                for env in frame.enclosing:
                    if name in env:
                        env[name] = v
                        return
                frame.enclosing[0][name] = v  # (gather checked that an enclosing function binds it)

            return store_nonlocal

        def store_name(frame: Frame, v: Value) -> None:
            frame.locals[name] = v

        return store_name
    if isinstance(k, (A.TupleExpr, A.ListExpr)):
        return _unpack(c, k.xs, pos)
    if isinstance(k, A.Subscript):
        obj_fn, key_fn = c.expr(k.tensor), c.expr(k.index)

        def store_item(frame: Frame, v: Value) -> None:
            obj = obj_fn(frame)
            key = key_fn(frame)
            ctx.pos = pos
            ops.setitem(ctx, obj, key, v)

        return store_item
    if isinstance(k, A.Attr):
        obj_fn, name = c.expr(k.value), k.id

        def store_attr(frame: Frame, v: Value) -> None:
            obj = obj_fn(frame)
            ctx.pos = pos
            set_attr(ctx, obj, name, v)

        return store_attr
    message = "a starred assignment target must be in a list or tuple" if isinstance(k, A.Starred) \
        else f"cannot assign to {_describe(k)}"

    def store_fail(frame: Frame, v: Value) -> None:
        raise ctx.error(message, pos)

    return store_fail


def set_attr(ctx: Ctx, obj: Value, name: str, v: Value) -> None:
    if ctx.template is not None:
        raise templates.forbid("an attribute store")
    if isinstance(obj, TraceObject):
        obj.setattr(ctx, name, v)
    else:
        raise ctx.error(f"cannot set attribute '{name}' of a '{type_name(obj)}' value",
                        python="AttributeError")


def _unpack(c: Compiler, xs: tuple[A.Expr, ...], pos: Pos) -> Store:
    ctx = c.ctx
    stars = [i for i, x in enumerate(xs) if isinstance(x.expr, A.Starred)]
    if len(stars) > 1:
        def too_many(frame: Frame, v: Value) -> None:
            raise ctx.error("multiple starred expressions in assignment", pos)

        return too_many
    n = len(xs)
    if not stars:
        parts = tuple(store(c, x) for x in xs)

        def unpack(frame: Frame, v: Value) -> None:
            if type(v) is tuple or type(v) is list:
                items = v
            else:
                ctx.pos = pos
                items = ops.materialise(ctx, v, "unpacking")
            if len(items) != n:
                ctx.pos = pos
                raise ctx.error(f"cannot unpack {len(items)} value{'s' * (len(items) != 1)} into {n} targets",
                                python="ValueError")
            for part, item in zip(parts, items):  # (lengths checked above; strict=True is slow)
                part(frame, item)

        return unpack
    s = stars[0]
    before = tuple(store(c, x) for x in xs[:s])
    starred = xs[s].expr
    assert isinstance(starred, A.Starred)
    star = store(c, starred.e)
    after = tuple(store(c, x) for x in xs[s + 1:])

    def unpack_star(frame: Frame, v: Value) -> None:
        ctx.pos = pos
        items = ops.materialise(ctx, v, "unpacking")
        if len(items) < n - 1:
            raise ctx.error(f"cannot unpack {len(items)} values into at least {n - 1} targets",
                            python="ValueError")
        for part, item in zip(before, items, strict=False):
            part(frame, item)
        star(frame, items[s:len(items) - len(after)])
        for part, item in zip(after, items[len(items) - len(after):], strict=True):
            part(frame, item)

    return unpack_star


# --- statements --------------------------------------------------------------------------------

def _pass(c: Compiler, k: A.Pass, pos: Pos) -> Stmt:
    return lambda frame: None


def _expr_stmt(c: Compiler, k: A.ExprStmt, pos: Pos) -> Stmt:
    fn = c.expr(k.e)

    def run(frame: Frame) -> None:
        fn(frame)

    return run


def _assert(c: Compiler, k: A.Assert, pos: Pos) -> Stmt:
    test = c.expr(k.e)
    msg = c.expr(k.msg) if k.msg is not None else None
    ctx = c.ctx

    def run(frame: Frame) -> None:
        v = test(frame)
        if v is True:
            return
        ctx.pos = pos
        if not ops.truth(ctx, v):
            raise exceptions.assertion(ctx, None if msg is None else ops.to_str(ctx, msg(frame)), pos)

    return run


def _ret(c: Compiler, k: A.Ret, pos: Pos) -> Stmt:
    fn = c.expr(k.e) if k.e is not None else (lambda frame: None)
    ctx = c.ctx

    def run(frame: Frame) -> Signal:
        frame.ret = fn(frame)
        ctx.pos = pos  # what the caller does with the value is reported here
        return RETURN

    return run


def _plain_name(c: Compiler, target: A.Expr) -> str | None:
    """The name of a target that is a plain local variable (not global or nonlocal)."""
    k = target.expr
    if isinstance(k, A.Name) and "." not in k.id and id(target) not in c.nonlocal_targets:
        return k.id
    return None


def _assign(c: Compiler, k: A.Assign, pos: Pos) -> Stmt:
    xs = k.xs
    if len(xs) == 1 and _plain_name(c, xs[0]) is not None and isinstance(xs[0].expr, A.Name):
        name = xs[0].expr.id
        value = c.expr(k.e, target=name) if isinstance(k.e.expr, A.Call) else c.expr(k.e)

        def run_name(frame: Frame) -> None:
            frame.locals[name] = value(frame)

        return run_name
    value = c.expr(k.e)
    targets = tuple(store(c, x) for x in xs)

    def run(frame: Frame) -> None:
        v = value(frame)
        for t in targets:
            t(frame, v)

    return run


def _augassign(c: Compiler, k: A.AugAssign, pos: Pos) -> Stmt:
    x = k.x.expr
    ctx = c.ctx
    sym = BINOP_SYMBOLS[k.op]
    rhs = c.expr(k.e)
    xpos = k.x.pos
    if isinstance(x, A.Name):
        read = c.expr(k.x)
        write = store(c, k.x)

        def run_name(frame: Frame) -> None:
            cur = read(frame)
            r = rhs(frame)
            ctx.pos = pos
            new = ops.inplace(ctx, sym, cur, r)
            log = ctx.template
            if log is not None and new is not cur and x.id in log.inplace and frame.locals is log.locals:
                raise templates.forbid(f"'{x.id} {sym}=' made a new value")
            write(frame, new)

        return run_name
    if isinstance(x, A.Subscript):
        obj_fn, key_fn = c.expr(x.tensor), c.expr(x.index)

        def run_item(frame: Frame) -> None:
            obj = obj_fn(frame)
            key = key_fn(frame)
            ctx.pos = xpos
            cur = ops.getitem(ctx, obj, key)
            r = rhs(frame)
            ctx.pos = pos
            new = ops.inplace(ctx, sym, cur, r)
            ctx.pos = pos
            ops.setitem(ctx, obj, key, new)

        return run_item
    if isinstance(x, A.Attr):
        obj_fn, attr = c.expr(x.value), x.id

        def run_attr(frame: Frame) -> None:
            obj = obj_fn(frame)
            ctx.pos = xpos
            cur = pymethods.getattr_(ctx, obj, attr)
            r = rhs(frame)
            ctx.pos = pos
            new = ops.inplace(ctx, sym, cur, r)
            ctx.pos = pos
            set_attr(ctx, obj, attr, new)

        return run_attr
    message = f"cannot use augmented assignment on {_describe(x)}"

    def fail(frame: Frame) -> None:
        raise ctx.error(message, xpos)

    return fail


def _annassign(c: Compiler, k: A.AnnAssign, pos: Pos) -> Stmt:
    if k.value is None:
        return lambda frame: None
    return _assign(c, A.Assign((k.x,), k.value), pos)


def _if(c: Compiler, k: A.IfStm, pos: Pos) -> Stmt:
    test = c.expr(k.e)
    thn = c.body(k.thn)
    els = c.body(k.els)
    tpos = k.e.pos
    ctx = c.ctx

    def run(frame: Frame) -> Signal | None:
        t = test(frame)
        if type(t) is bool:
            return thn(frame) if t else els(frame)
        ctx.pos = tpos
        if isinstance(t, TraceObject) and t.dynamic:
            t.branch(ctx, lambda: _dynamic(ctx, thn, frame, pos), lambda: _dynamic(ctx, els, frame, pos))
            return None
        return thn(frame) if ops.truth(ctx, t) else els(frame)

    return run


def _dynamic(ctx: Ctx, body: Callable[[Frame], Signal | None], frame: Frame, pos: Pos) -> None:
    """Run a body under runtime control flow. ``break``/``continue`` are traced by the innermost
    loop when the device runs it (``ctx.loop_jumps``); ``return`` cannot be traced, nor can an
    exception leave the body to be caught (the control flow's blocks would be left open)."""
    try:
        sig = body(frame)
    except TraceError as e:
        e.python = None
        raise
    if sig is not None:
        jump = ctx.loop_jumps[-1] if ctx.loop_jumps and sig is not RETURN else None
        if jump is None:
            raise ctx.error(f"'{sig.name}' inside control flow on a runtime value is not supported", pos)
        jump(sig.name)


def _for(c: Compiler, k: A.ForLoop, pos: Pos) -> Stmt:
    src_fn = c.expr(k.iter)
    target = store(c, k.x)
    name = _plain_name(c, k.x)
    body = c.body(k.body)
    orelse = c.body(k.orelse) if k.orelse else None
    ipos = k.iter.pos
    ctx = c.ctx
    budget = ctx.budget
    cost = len(k.body)  # steps per iteration: its statements
    refused: list[str] = []   # why this loop is not templated (static check or a failed probe)
    static: list[Any] = []   # the static check's verdict and in-place names, once computed

    def run(frame: Frame) -> Signal | None:
        src = src_fn(frame)
        ctx.pos = ipos
        if isinstance(src, TraceObject) and src.dynamic:
            if orelse is not None:
                raise ctx.error("a for-else over a runtime range is not supported", pos)

            def loop_body(v: Value) -> None:
                target(frame, v)
                _dynamic(ctx, body, frame, pos)

            src.loop(ctx, loop_body)
            return None
        if (type(src) is range and len(src) >= templates.MIN_ITERATIONS and not refused
                and ctx.template is None and not ctx.loop_jumps and ctx.loop_templates != "off"
                and len(src) <= min(ctx.limits.max_iterations, ctx.iterations_left)):
            if not static:
                static.append(templates.refusal(k) if name is not None else "the target is not a name")
                static.append(templates.inplace_names(k) if static[0] is None else frozenset())
            why = static[0]
            if why is not None:
                refused.append(why)
            else:
                assert name is not None
                got = templates.run(ctx, frame, src, name, body, cost, lambda r: unroll(frame, r), refused,
                                    static[1])
                if got is not templates.DECLINED:
                    return got  # type: ignore[return-value]
        stopped, r = unroll(frame, src)
        if stopped:
            return r
        return orelse(frame) if orelse is not None else None

    def unroll(frame: Frame, src: Value) -> tuple[bool, Signal | None]:
        limit = min(ctx.limits.max_iterations, ctx.iterations_left)
        stop = min(limit, budget.prepay(cost))
        loc = frame.locals
        n = paid = 0
        jumps = ctx.loop_jumps
        if jumps:  # inside a device loop: this one's break/continue are decided here
            jumps.append(None)
        try:
            for v in ops.iterate(ctx, src):
                n += 1
                if n > stop:
                    if n > limit:
                        raise ctx.loop_limit("for loop", n, pos)
                    ctx.pos = pos   # out of steps: the loop's fault
                    budget.settle(ctx, (n - paid) * cost)
                    paid = n
                    stop = min(limit, n + budget.prepay(cost))
                if name is not None:
                    loc[name] = v
                else:
                    target(frame, v)
                r = body(frame)
                if r is not None:
                    if r is BREAK:
                        return True, None
                    if r is CONTINUE:
                        continue
                    return True, r
        except RuntimeError as e:
            if "changed size during iteration" not in str(e):
                raise
            raise ctx.error(f"the loop's {type_name(src)} changed size during iteration", ipos) from None
        finally:
            if jumps:
                jumps.pop()
            ctx.iterations_left -= n
            budget.steps -= (n - paid) * cost
        return False, None

    return run


def _while(c: Compiler, k: A.WhileLoop, pos: Pos) -> Stmt:
    test = c.expr(k.test)
    body = c.body(k.body)
    orelse = c.body(k.orelse) if k.orelse else None
    tpos = k.test.pos
    ctx = c.ctx
    budget = ctx.budget
    cost = len(k.body) + 1  # steps per iteration: the test and the statements

    def run(frame: Frame) -> Signal | None:
        limit = min(ctx.limits.max_iterations, ctx.iterations_left)
        stop = min(limit, budget.prepay(cost))
        n = paid = 0
        jumps = ctx.loop_jumps
        if jumps:  # inside a device loop: this one's break/continue are decided here
            jumps.append(None)
        try:
            while True:
                t = test(frame)
                if type(t) is not bool:
                    ctx.pos = tpos
                    if isinstance(t, TraceObject) and t.dynamic:
                        if jumps:
                            jumps.pop()
                            jumps = []
                        _repeat(ctx, t, frame, test, body, orelse is not None, pos)
                        return None
                    t = ops.truth(ctx, t)
                if not t:
                    break
                n += 1
                if n > stop:
                    if n > limit:
                        raise ctx.loop_limit("while loop", n, pos)
                    ctx.pos = pos
                    budget.settle(ctx, (n - paid) * cost)
                    paid = n
                    stop = min(limit, n + budget.prepay(cost))
                r = body(frame)
                if r is not None:
                    if r is BREAK:
                        return None
                    if r is CONTINUE:
                        continue
                    return r
        finally:
            if jumps:
                jumps.pop()
            ctx.iterations_left -= n
            budget.steps -= (n - paid) * cost
        return orelse(frame) if orelse is not None else None

    return run


def _repeat(ctx: Ctx, t: TraceObject, frame: Frame, test: Callable[[Frame], Value],
            body: Callable[[Frame], Signal | None], orelse: bool, pos: Pos) -> None:
    """A while loop whose test is a runtime value: the device runs it (``TraceObject.repeat``)."""
    if orelse:
        raise ctx.error("a while-else on a runtime condition is not supported", pos)
    t.repeat(ctx, lambda: test(frame), lambda: _dynamic(ctx, body, frame, pos))


def _break(c: Compiler, k: A.BreakLoop, pos: Pos) -> Stmt:
    return lambda frame: BREAK


def _continue(c: Compiler, k: A.ContinueLoop, pos: Pos) -> Stmt:
    return lambda frame: CONTINUE


def _with(c: Compiler, k: A.WithBlock, pos: Pos) -> Stmt:
    items = tuple((c.expr(i.item), i.item.pos, store(c, i.var) if i.var is not None else None)
                  for i in k.items)
    body = c.body(k.body)
    ctx = c.ctx

    def run(frame: Frame) -> Signal | None:
        entered: list[TraceObject] = []
        for fn, ipos, var in items:
            v = fn(frame)
            ctx.pos = ipos
            if not isinstance(v, TraceObject):
                raise ctx.error(f"'{type_name(v)}' object does not support the context manager protocol")
            got = v.enter(ctx)
            entered.append(v)
            if var is not None:
                var(frame, got)
        try:
            sig = body(frame)
        except TraceError as e:
            if e.python is not None:  # an exception the kernel may catch leaves the block
                for v in reversed(entered):
                    ctx.pos = pos
                    v.exit(ctx)
            raise
        for v in reversed(entered):
            ctx.pos = pos
            v.exit(ctx)
        return sig

    return run


def _fundef(c: Compiler, k: A.FunDef, pos: Pos) -> Stmt:
    fun = k.fun
    evaluator = c.evaluator
    has_defaults = bool(fun.args.defaults or fun.args.kw_defaults)
    short = fun.name.rsplit(".", 1)[-1]

    def run(frame: Frame) -> None:
        defaults = evaluator.eval_defaults(fun.args, frame) if has_defaults else {}
        frame.locals[short] = Function(evaluator, fun.name, fun.args, fun=fun,
                                       closure=(frame.locals, *frame.enclosing), defaults=defaults)

    return run


def _try(c: Compiler, k: A.TryStm, pos: Pos) -> Stmt:
    body = c.body(k.body)
    handlers = tuple((None, h.pos, h.name, c.body(h.body)) if h.type is None
                     else (c.expr(h.type), h.type.pos, h.name, c.body(h.body)) for h in k.handlers)
    orelse = c.body(k.orelse) if k.orelse else None
    final = c.body(k.finalbody) if k.finalbody else None
    ctx = c.ctx
    handling = c.evaluator.handling

    def handle(frame: Frame, e: TraceError) -> Signal | None:
        value = exceptions.catchable(e)
        if value is None:
            raise e
        for typ, tpos, name, hbody in handlers:
            if typ is not None:
                t = typ(frame)
                ctx.pos = tpos
                if not exceptions.matches(ctx, t, value):
                    continue
            if name is not None:
                frame.locals[name] = value
            handling.append(e)
            try:
                return hbody(frame)
            finally:
                handling.pop()
                if name is not None:
                    frame.locals.pop(name, None)  # as in Python, the name is unbound after the clause
        raise e

    def run(frame: Frame) -> Signal | None:
        try:
            try:
                sig = body(frame)
            except TraceError as e:
                sig = handle(frame, e)
            else:
                if orelse is not None:
                    sig = orelse(frame)
        except TraceError as e:
            if final is not None and e.python is not None:  # klr's own errors run no finally
                fsig = final(frame)
                if fsig is not None:
                    return fsig  # break, continue or return in finally discard the exception
            raise
        if final is not None:
            fsig = final(frame)
            if fsig is not None:
                return fsig
        return sig

    return run


def _raise(c: Compiler, k: A.RaiseStm, pos: Pos) -> Stmt:
    exc = c.expr(k.exc) if k.exc is not None else None
    cause = c.expr(k.cause) if k.cause is not None else None
    ctx = c.ctx
    handling = c.evaluator.handling

    def run(frame: Frame) -> None:
        if exc is None:
            if handling:
                raise handling[-1]
            raise ctx.error("no active exception to re-raise", pos, python="RuntimeError")
        v = exc(frame)
        if cause is not None:
            why = cause(frame)
            if why is not None and not exceptions.is_exception_class(why) and not (
                    isinstance(why, Instance) and why.cls.is_subclass(exceptions.BASE)):
                raise ctx.error(f"exception causes must derive from BaseException, not '{type_name(why)}'",
                                k.cause.pos if k.cause is not None else pos, python="TypeError")
        raise exceptions.raised(ctx, v, pos)

    return run


def _declaration(c: Compiler, k: A.GlobalStm | A.NonlocalStm, pos: Pos) -> Stmt:
    return lambda frame: None  # (gather and the function's plan have applied it)


STMT: dict[type, Callable[[Compiler, Any, Pos], Stmt]] = {  # (Any: the node of the key's class)
    A.Pass: _pass, A.ExprStmt: _expr_stmt, A.Assert: _assert, A.Ret: _ret, A.Assign: _assign,
    A.AugAssign: _augassign, A.AnnAssign: _annassign, A.IfStm: _if, A.ForLoop: _for,
    A.BreakLoop: _break, A.ContinueLoop: _continue, A.WhileLoop: _while, A.WithBlock: _with,
    A.FunDef: _fundef, A.TryStm: _try, A.RaiseStm: _raise, A.GlobalStm: _declaration,
    A.NonlocalStm: _declaration,
}
