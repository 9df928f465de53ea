"""Loop templates: an unrolled loop's body traced once with a symbolic loop variable, then
stamped out for the iterations.

A ``for`` loop over a ``range`` of at least ``MIN_ITERATIONS`` iterations (``range``,
``nl.affine_range``, ``nl.sequential_range``, ``nl.static_range``: all give a ``range``) whose
body passes a static check (``refusal``) runs as:

1. the first iteration, concretely (ordinary tracing: it warms what the next iterations
   reuse, such as a name's first tensor);
2. a *probe*: the body once more with the loop variable bound to a ``Sym``, the affine integer
   ``const + coef * j`` over the iterations ``j`` in ``[1, n-2]``, in *template mode*
   (``Ctx.template``); then everything the probe did is rolled back;
3. the iterations ``1 .. n-2`` instantiated from the probe's statements (``Template``): names
   through the same ``fresh_name``/``claim_name`` calls in the same order, every field that
   holds a ``Sym`` evaluated at ``j``, every other sub-node shared;
4. the last iteration, concretely, which leaves the locals and the library's state exactly
   as a full unroll would.

Soundness. A ``Sym`` is a klr value (a TraceObject) whose every operation is exact for the
whole range or raises ``NotAffine``: ``+ - *`` with ints, ``//`` and ``%`` when exact,
comparisons and truth when constant over the range (affine: the two ends decide). Anything
else (``int()``, hashing, printing, a builtin's int parameter, a shape) raises ``NotAffine`` or
a TraceError, and in template mode every TraceError, warning, message or block becomes
``NotAffine`` (``Ctx.error`` and friends): the probe is then abandoned and the rest of the loop
runs concretely, exactly as without templates. The NKI layer's indexing takes a ``Sym`` as an
index, slice bound or ``nl.ds`` start (``views``): access-pattern offsets become ``Sym``s, and
their bounds checks compare over the range.

Template mode forbids changing anything that existed before the probe began. The mutation
sites, each of which raises ``NotAffine`` in template mode (``forbid``):

* a name the body only updates with ``x op= e`` (``inplace_names``) given a new value
  (``statements._augassign``): only an update in place (a tensor's) keeps it the same object;
* plain values: ``list``/``dict`` mutating methods (``pymethods.python_attr``), set mutating
  methods and in-place operators (``sets.KlrSet``), ``x[i] = v`` on lists and dicts and
  ``list +=`` (``ops.setitem``, ``ops.inplace``);
* ``x.attr = v`` on any object (``statements.set_attr``), global and nonlocal stores
  (``statements``); calling a function defined beside the loop, which could read the loop's
  locals before the body assigns them (``Evaluator.call_function``);
* iterators: consuming one the probe did not make (``ops.iterate``, ``ops.contains``,
  ``next``); those it makes are noted (``ops.iterate``, ``BuiltinFn.call``, generator
  expressions);
* the Ctx: blocks and labels (``begin_block``, ``fresh_label``), warnings, messages, errors;
* the NKI layer: settling a tile from before the loop (``emit.ready``, ``registers._settle``),
  taking back statements emitted before the probe (``results._retract``), a first write into
  a PSUM region of a tensor from before the probe (``emit.emit``), writing a watched tensor
  from before it (``emit._before_write``), a watch or a rescue on one (``results.retarget``);
  the other ``State`` fields are compared with a copy after the probe
  (``State.template_changes``): ``hbm_written`` may only gain names it holds already
  (idempotent: the first iteration added them); allocating HBM, registers, identities or
  constants, or any other change, aborts. The entries the probe made for its own tensors in
  ``psum_written`` and ``watch`` are dropped with it (no later statement can name them).

Caches that hold the same value whoever fills them (``Buf.lowered``, ``View._ok``, mask
regions) are not state. Iterations are charged as the concrete run charges them: statements,
steps, loop iterations; when the budgets do not cover the whole loop it runs concretely, so
that limit errors are the ones a full unroll reports.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from klr.errors import KlrError
from klr.python import ast as A
from klr.tracer.affine import NotAffine, Sym
from klr.tracer.limits import CHECK_EVERY
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr import core
    from klr.tracer.context import Ctx
    from klr.tracer.frame import Frame, Signal

__all__ = ["MIN_ITERATIONS", "Log", "Template", "consume", "forbid", "inplace_names", "made", "mode",
           "refusal", "run"]

MIN_ITERATIONS = 4
"""Loops shorter than this are unrolled concretely (a template costs about two iterations)."""

_It = TypeVar("_It")

def mode() -> str:
    """``on`` (default), ``off`` or ``check``, from the environment variable
    KLR_LOOP_TEMPLATES; read when a trace starts (``Ctx``), never at import."""
    got = os.environ.get("KLR_LOOP_TEMPLATES", "on").strip().lower()
    return got if got in ("on", "off", "check") else "on"


def forbid(what: str) -> NotAffine:
    return NotAffine(what)


def made(log: Log, it: _It) -> _It:
    """Note that the probe made iterator ``it`` (consuming it changes nothing from before)."""
    log.iterators.add(id(it))
    return it


def consume(log: Log, it: object) -> None:
    """A probe consumes iterator ``it``: only one it made."""
    if id(it) not in log.iterators:
        raise NotAffine("an iterator from before the loop consumed")


# --- the static check ---------------------------------------------------------------------------


class _Refuse(Exception):
    pass


_SCOPES = (A.ListComp, A.DictComp, A.GeneratorExp)


def refusal(loop: A.ForLoop) -> str | None:
    """Why the loop's body cannot be a template, or None: a local the body may read before it
    assigns it (a value carried from one iteration to the next), a nested function, class or
    lambda, ``global``/``nonlocal``, ``try``, ``return``, or ``break``/``continue`` of the loop
    itself. Conservative: a name assigned in a branch counts as assigned only when both
    branches assign it; one assigned in a nested loop's body is not assigned after it."""
    target = loop.x.expr
    if not isinstance(target, A.Name) or "." in target.id:
        return "the loop target is not a plain name"
    if loop.orelse:
        return "the loop has an else clause"
    local: set[str] = set()
    try:
        for s in loop.body:
            _stores(s, local)
        local -= inplace_names(loop)
        local.add(target.id)
        _block(loop.body, {target.id}, local, 0)
    except _Refuse as e:
        return str(e)
    return None


def inplace_names(loop: A.ForLoop) -> frozenset[str]:
    """The names the body assigns only with ``x op= e`` (at any depth): when each of those
    updates its value in place (a tensor's ``acc += ...``), the name keeps one value across the
    iterations, so reading it is no value carried from one to the next. A probe checks that
    every one of them does (``statements._augassign``)."""
    aug: set[str] = set()
    other: set[str] = set()
    for s in loop.body:
        _split_stores(s, aug, other)
    other.add(loop.x.expr.id if isinstance(loop.x.expr, A.Name) else "")
    return frozenset(aug - other)


def _split_stores(node: object, aug: set[str], other: set[str]) -> None:
    """As ``_stores``, with the names of ``x op= e`` apart."""
    if isinstance(node, A.Stmt):
        k = node.stmt
        if isinstance(k, A.AugAssign):
            _names_of(k.x, aug)
        else:
            for x in _targets(k):
                _names_of(x, other)
        for child in _walk(k):
            if isinstance(child, (A.Stmt, A.ExceptHandler)):
                _split_stores(child, aug, other)
    elif isinstance(node, A.ExceptHandler):
        if node.name:
            other.add(node.name)
        for child in node.body:
            _split_stores(child, aug, other)


def _targets(k: object) -> list[A.Expr]:
    """The assignment targets of one statement (not of the statements inside it)."""
    if isinstance(k, A.Assign):
        return list(k.xs)
    if isinstance(k, (A.AugAssign, A.AnnAssign, A.ForLoop)):
        return [k.x]
    if isinstance(k, A.WithBlock):
        return [item.var for item in k.items if item.var is not None]
    return []


def _walk(node: object) -> Iterator[object]:
    """The children of an AST node (fields of nodes, elements of tuples)."""
    for f in getattr(type(node), "__match_args__", ()):
        v = getattr(node, f)
        if type(v) is tuple:
            yield from v
        elif v is not None:
            yield v


def _stores(node: object, out: set[str]) -> None:
    """Every plain name the statements assign (as targets: comprehension variables are their
    own scope, and an expression assigns nothing)."""
    _split_stores(node, out, out)


def _names_of(x: A.Expr, out: set[str]) -> None:
    k = x.expr
    if isinstance(k, A.Name):
        out.add(k.id)
    elif isinstance(k, (A.TupleExpr, A.ListExpr)):
        for e in k.xs:
            _names_of(e, out)
    elif isinstance(k, A.Starred):
        _names_of(k.e, out)


def _reads(node: object, definite: set[str], local: set[str], masked: frozenset[str] = frozenset()) -> None:
    if isinstance(node, A.Lambda):
        raise _Refuse("the body has a lambda")
    if isinstance(node, A.Name):
        if node.id in local and node.id not in definite and node.id not in masked:
            raise _Refuse(f"'{node.id}' may be read before the body assigns it")
        return
    if isinstance(node, _SCOPES):
        names: set[str] = set()
        for g in node.generators:
            _names_of(g.target, names)
        masked = masked | names
    for child in _walk(node):
        _reads(child, definite, local, masked)


def _target(x: A.Expr, definite: set[str], local: set[str]) -> None:
    k = x.expr
    if isinstance(k, A.Name):
        definite.add(k.id)
    elif isinstance(k, (A.TupleExpr, A.ListExpr)):
        for e in k.xs:
            _target(e, definite, local)
    elif isinstance(k, A.Starred):
        _target(k.e, definite, local)
    else:   # x[i] = v, x.a = v: reads x and i
        _reads(x, definite, local)


def _block(body: tuple[A.Stmt, ...], definite: set[str], local: set[str], loops: int) -> set[str]:
    d = set(definite)
    for s in body:
        k = s.stmt
        if isinstance(k, (A.ExprStmt, A.Assert, A.RaiseStm)):
            _reads(k, d, local)
        elif isinstance(k, A.Assign):
            _reads(k.e, d, local)
            for x in k.xs:
                _target(x, d, local)
        elif isinstance(k, A.AugAssign):
            _reads(k.x, d, local)
            _reads(k.e, d, local)
            _target(k.x, d, local)
        elif isinstance(k, A.AnnAssign):
            if k.value is not None:
                _reads(k.value, d, local)
                _target(k.x, d, local)
        elif isinstance(k, A.IfStm):
            _reads(k.e, d, local)
            d = _block(k.thn, d, local, loops) & _block(k.els, d, local, loops)
        elif isinstance(k, A.ForLoop):
            _reads(k.iter, d, local)
            inner = set(d)
            _target(k.x, inner, local)
            _block(k.body, inner, local, loops + 1)
            _block(k.orelse, d, local, loops)
        elif isinstance(k, A.WhileLoop):
            _reads(k.test, d, local)
            _block(k.body, d, local, loops + 1)
            _block(k.orelse, d, local, loops)
        elif isinstance(k, A.WithBlock):
            for item in k.items:
                _reads(item.item, d, local)
                if item.var is not None:
                    _target(item.var, d, local)
            d = _block(k.body, d, local, loops)
        elif isinstance(k, (A.BreakLoop, A.ContinueLoop)):
            if not loops:
                raise _Refuse("the body has a break or continue")
        elif not isinstance(k, A.Pass):
            raise _Refuse(f"the body has a {type(k).__name__} statement")
    return d


# --- the probe's record and the instantiation plans ------------------------------------------


class Log:
    """What a probe did that an instantiation repeats: emitted statement names (a str) and
    name requests, in order; the tensor names it made (``fresh``)."""

    __slots__ = ("claimed", "events", "fresh", "inplace", "iterators", "locals", "start")

    def __init__(self, start: int, locals_: dict[str, Value], inplace: frozenset[str] = frozenset()) -> None:
        self.inplace = inplace             # names the body may only update in place (``inplace_names``)
        self.iterators: set[int] = set()   # ids of the iterators the probe made: it may consume them
        self.start = start            # the open block's length when the probe began
        self.locals = locals_         # the loop's frame's locals
        self.events: list[Any] = []   # "inst.N" | ("f", hint, got) | ("c", name, pos, got)
        self.fresh: set[str] = set()
        self.claimed: list[str] = []


GENERATE = 16
"""Iterations to instantiate from a template from which its code is generated (compiling it
costs about as much as rebuilding its statements a dozen times by walking the template)."""


class Template:
    """A probe's statements and how to rebuild them for an iteration ``j``: only the nodes on
    a path to a ``Sym`` or to a tensor the probe allocated are rebuilt, every other sub-node is
    shared. For many statements, the rebuilding is generated Python (``_Gen``), one expression
    per statement; generated code names only values it is given (``k<n>``), never text from the
    kernel. Otherwise ``_rebuild`` walks the template."""

    __slots__ = ("_stmt_cls", "emits", "events", "gen", "make", "order", "stmts")

    def __init__(self, log: Log, stmts: list[core.Stmt], stmt_cls: type) -> None:
        self.events = log.events
        self.emits = sum(1 for e in log.events if type(e) is str)
        self.order = {e: i for i, e in enumerate(e for e in log.events if type(e) is str)}
        self.stmts = stmts
        self.gen = _Gen(log.fresh, stmts)
        for st in stmts:
            self.gen.check(st.op)
        self.make: Callable[[int, dict[str, str], list[str], Callable[[Any], None]], None] = self._walk
        self._stmt_cls = stmt_cls

    def generate(self, count: int) -> None:
        """Generate the rebuilding code when ``count`` iterations are to be instantiated."""
        if count < GENERATE:
            return
        gen = self.gen
        for st in self.stmts:
            gen._count(st.op)
        lines = [f"    A({gen.stmt(s, self.order[s.name or ''], self._stmt_cls)})" for s in self.stmts]
        code = "def make(j, N, I, A):\n" + "\n".join(gen.lines + lines or ["    pass"]) + "\n"
        space: dict[str, Any] = dict(gen.consts)
        exec(compile(code, "<loop template>", "exec"), space)
        self.make = space["make"]

    def _walk(self, j: int, names: dict[str, str], inst: list[str], append: Callable[[Any], None]) -> None:
        memo: dict[int, Any] = {}
        parts, cls, order = self.gen.parts, self._stmt_cls, self.order
        for st in self.stmts:
            op = st.op
            if id(op) in parts:
                op = _rebuild(op, j, names, memo, parts)
            append(cls(op, inst[order[st.name or ""]], st.pos))

    def instantiate(self, ctx: Ctx, j: int, out: list[core.Stmt]) -> None:
        """Append iteration ``j``'s statements to ``out``, naming as the concrete run would."""
        names: dict[str, str] = {}
        inst: list[str] = []
        for ev in self.events:
            if type(ev) is str:
                ctx._counter += 1
                inst.append(f"inst.{ctx._counter}")
            elif ev[0] == "f":
                names[ev[2]] = ctx.fresh_name(ev[1])
            else:
                ctx.pos = ev[2]
                names[ev[3]] = ctx.claim_name(ev[1])
        ctx._stmt_count += self.emits
        self.make(j, names, inst, out.append)


Parts = dict[int, "tuple[Any, list[Any], list[tuple[int, Any, bool]]] | None"]
"""Per rebuilt node (by id): its class, its field values, and the fields to rebuild (index,
child or tensor name, whether it is a name); None for a Sym."""


def _rebuild(node: Any, j: int, names: dict[str, str], memo: dict[int, Any], parts: Parts) -> Any:
    key = id(node)
    got = memo.get(key)
    if got is None:
        p = parts[key]
        if p is None:
            return node.const + node.coef * j
        cls, values, dyn = p
        vals = list(values)
        for i, child, is_name in dyn:
            vals[i] = names[child] if is_name else _rebuild(child, j, names, memo, parts)
        got = memo[key] = cls(vals) if cls is tuple else cls(*vals)
    return got


class _Gen:
    """Generates the expressions that rebuild template nodes (see ``Template``)."""

    def __init__(self, fresh: set[str], stmts: list[core.Stmt]) -> None:
        self.fresh = fresh
        self.consts: dict[str, Any] = {}
        self.const_ids: dict[int, str] = {}
        self.lines: list[str] = []
        self.dynamic: dict[int, bool] = {}
        self.built: dict[int, str] = {}
        self.uses: dict[int, int] = {}
        self.parts: Parts = {}
        self.stmts = stmts

    def _count(self, node: Any) -> None:
        if not self.is_dynamic(node):
            return
        key = id(node)
        self.uses[key] = self.uses.get(key, 0) + 1
        if self.uses[key] == 1:
            for child in _children(node):
                self._count(child)

    def const(self, v: Any) -> str:
        key = id(v)
        got = self.const_ids.get(key)
        if got is None:
            got = self.const_ids[key] = f"k{len(self.consts)}"
            self.consts[got] = v
        return got

    def is_dynamic(self, node: Any) -> bool:
        key = id(node)
        got = self.dynamic.get(key)
        if got is None:
            t = type(node)
            if t is Sym:
                got = True
            elif t is str:
                got = node in self.fresh
            elif t in (list, dict, set, frozenset):   # (no IR node holds one: never look inside)
                raise NotAffine("a mutable container in a statement")
            else:
                got = any([self.is_dynamic(c) for c in _children(node)])
            self.dynamic[key] = got
        return got

    def check(self, node: Any) -> None:
        """Record how to rebuild ``node`` (``parts``); refuse a tensor name of the probe's
        anywhere but in a ``name`` field."""
        key = id(node)
        if key in self.parts or not self.is_dynamic(node):
            return
        t = type(node)
        if t is str:
            raise NotAffine("a tensor name outside a tensor")
        if t is Sym:
            self.parts[key] = None
            return
        values = list(node) if t is tuple else [getattr(node, f) for f in t.__match_args__]
        names = (None,) * len(values) if t is tuple else t.__match_args__
        dyn = []
        for i, (f, v) in enumerate(zip(names, values)):
            if f == "name" and type(v) is str and v in self.fresh:
                dyn.append((i, v, True))
            elif self.is_dynamic(v):
                self.check(v)
                dyn.append((i, v, False))
        self.parts[key] = (t, values, dyn)

    def stmt(self, s: core.Stmt, index: int, stmt_cls: type) -> str:
        return f"{self.const(stmt_cls)}({self.expr(s.op)}, I[{index}], {self.const(s.pos)})"

    def expr(self, node: Any) -> str:
        if not self.is_dynamic(node):
            return self.const(node)
        key = id(node)
        got = self.built.get(key)
        if got is not None:
            return got
        t = type(node)
        if t is Sym:
            return f"({int(node.const)} + {int(node.coef)} * j)"
        if t is str:
            raise NotAffine("a tensor name outside a tensor")
        if t is tuple:
            code = "(" + "".join(f"{self.expr(x)}, " for x in node) + ")"
        else:
            args = []
            for f in t.__match_args__:
                v = getattr(node, f)
                if type(v) is str and v in self.fresh:
                    if f != "name":
                        raise NotAffine("a tensor name outside a tensor")
                    args.append(f"N[{self.const(v)}]")
                else:
                    args.append(self.expr(v))
            code = f"{self.const(t)}({', '.join(args)})"
        if self.uses.get(key, 1) > 1:   # shared within the iteration: build it once
            var = f"v{len(self.built)}"
            self.lines.append(f"    {var} = {code}")
            self.built[key] = var
            return var
        return code


def _children(node: Any) -> list[Any]:
    t = type(node)
    if t is tuple:
        return list(node)
    if getattr(t, "__klr__", None) is not None:
        return [getattr(node, f) for f in t.__match_args__]
    return []


# --- the driver -----------------------------------------------------------------------------

DECLINED = object()
"""What ``run`` returns when it did nothing (the caller unrolls the loop itself)."""

Unroll = Callable[[range], "tuple[bool, Signal | None]"]
"""Runs iterations concretely as the loop does; (stopped by break/return, the signal)."""


def run(ctx: Ctx, frame: Frame, src: range, name: str, body: Callable[[Frame], Signal | None],
        cost: int, unroll: Unroll, failed: list[str], inplace: frozenset[str] = frozenset()) -> object:
    """Run the loop ``for name in src: body`` with a template (see the module docstring); its
    result, or DECLINED before any iteration ran. ``failed`` collects why a probe failed (the
    loop is not tried again)."""
    n = len(src)
    lib = ctx.state
    if lib is not None and not getattr(lib, "template_ready", lambda: False)():
        return DECLINED
    stopped, r = unroll(src[:1])
    if stopped:
        return r
    got = _probe(ctx, frame, src, name, body, inplace)
    if isinstance(got, str):
        failed.append(got)
        return unroll(src[1:])[1]
    template, steps, stmts, iters = got
    budget = ctx.budget
    steps += cost
    middle = n - 2
    need = (middle + 2) * steps
    # the budgets must cover the whole loop with room to spare: then no limit can stop it
    # before its last iteration, and a limit that stops that one is reported as without templates
    if (budget.steps - need < 2 * CHECK_EVERY or ctx._stmt_count + (middle + 1) * stmts
            > ctx.limits.max_stmts or (middle + 1) * (iters + 1) > ctx.iterations_left):
        return unroll(src[1:])[1]
    if ctx.loop_templates == "check":
        _check(ctx, template, src, unroll)
    elif not _stamp(ctx, template, middle, steps, iters):
        failed.append("a tensor name that warns")
        return unroll(src[1:])[1]
    ctx.templated_loops += 1
    ctx.templated_iterations += middle
    return unroll(src[n - 1:])[1]


def _stamp(ctx: Ctx, template: Template, middle: int, steps: int, iters: int) -> bool:
    """Instantiate iterations 1 .. middle; False (and nothing done) when a name would warn."""

    template.generate(middle)
    out = ctx._stmts
    saved = _names(ctx)
    warned = len(ctx.warnings)
    pos, target = ctx.pos, ctx.target_name
    ctx.target_name = None
    try:
        for j in range(1, middle + 1):
            template.instantiate(ctx, j, out)
    finally:
        ctx.pos, ctx.target_name = pos, target
    if len(ctx.warnings) != warned:
        del ctx.warnings[warned:]
        _restore_names(ctx, saved)
        return False
    budget = ctx.budget
    for _ in range(middle):
        budget.steps -= steps
        if budget.steps < budget.mark:
            budget.tick(ctx)
    ctx.iterations_left -= middle * (iters + 1)
    return True


def _names(ctx: Ctx) -> tuple[Any, ...]:
    return (len(ctx._stmts), ctx._counter, ctx._stmt_count, ctx._tensor_index, set(ctx._tensor_names),
            dict(ctx._claimed))


def _restore_names(ctx: Ctx, saved: tuple[Any, ...]) -> None:
    del ctx._stmts[saved[0]:]
    ctx._counter, ctx._stmt_count, ctx._tensor_index = saved[1:4]
    ctx._tensor_names = saved[4]
    ctx._claimed = saved[5]


def _check(ctx: Ctx, template: Template, src: range, unroll: Unroll) -> None:
    """Check mode: run the middle iterations concretely, then instantiate them from the
    template in their place and require the same statements, names and counters."""

    template.generate(len(src) - 2)
    before = _names(ctx)
    warned = len(ctx.warnings)
    unroll(src[1:len(src) - 1])
    after = _names(ctx)
    concrete = ctx._stmts[before[0]:]
    _restore_names(ctx, before)
    pos, target = ctx.pos, ctx.target_name
    ctx.target_name = None
    try:
        for j in range(1, len(src) - 1):
            template.instantiate(ctx, j, ctx._stmts)
    finally:
        ctx.pos, ctx.target_name = pos, target
    stamped = ctx._stmts[before[0]:]
    same = (len(stamped) == len(concrete) and all(
        a == b and a.name == b.name and a.pos == b.pos for a, b in zip(stamped, concrete)))
    if not same or _names(ctx)[1:] != after[1:] or len(ctx.warnings) != warned:
        raise AssertionError(f"loop template differs from the concrete unroll at {ctx.pos}")
    ctx._stmts[before[0]:] = concrete


def _probe(ctx: Ctx, frame: Frame, src: range, name: str, body: Callable[[Frame], Signal | None],
           inplace: frozenset[str]) -> str | tuple[Template, int, int, int]:
    """Run the body once with a Sym loop variable and roll back everything it did: the
    template and the steps, statements and inner iterations of one iteration, or why not."""
    budget = ctx.budget
    lib = ctx.state
    stmts = ctx._stmts
    log = Log(len(stmts), frame.locals, inplace)
    saved = (ctx._counter, ctx._stmt_count, ctx._tensor_index, ctx._labels, ctx.iterations_left,
             budget.steps, budget.mark, budget.ticks, budget.charged, budget.peak, ctx.pos, ctx.target_name,
             set(ctx.used), set(ctx.used_forms), len(ctx.warnings), len(ctx.messages), len(ctx.blocks),
             ctx._label, ctx._no_reorder)
    snap = lib.template_snapshot() if lib is not None else None  # type: ignore[attr-defined]
    locals_ = dict(frame.locals)
    result: str | tuple[Template, int, int, int]
    sym = Sym(src.start, src.step, 1, len(src) - 2)
    ctx.template = log
    try:
        frame.locals[name] = sym
        if body(frame) is not None:
            raise NotAffine("the body stopped the loop")
        if ctx._stmts is not stmts or len(stmts) < log.start:
            raise NotAffine("the body changed blocks")
        if lib is not None:
            why = lib.template_changes(snap, log.fresh)  # type: ignore[attr-defined]
            if why:
                raise NotAffine(why)
        from klr.core import Stmt

        template = Template(log, stmts[log.start:], Stmt)
        result = (template, saved[5] - budget.steps, ctx._stmt_count - saved[1],
                  saved[4] - ctx.iterations_left)
    except NotAffine as e:
        result = str(e) or "not affine"
    except KlrError as e:
        result = f"an error: {e}"
    except Exception as e:   # a Python error a Sym caused in the library: trace concretely
        if ctx.loop_templates == "check":
            raise
        result = f"{type(e).__name__}: {e}"
    finally:
        ctx.template = None
        ctx._stmts = stmts
        del stmts[log.start:]
        (ctx._counter, ctx._stmt_count, ctx._tensor_index, ctx._labels, ctx.iterations_left,
         budget.steps, budget.mark, budget.ticks, budget.charged, budget.peak, ctx.pos, ctx.target_name,
         ctx.used, ctx.used_forms) = saved[:14]
        del ctx.warnings[saved[14]:]
        del ctx.messages[saved[15]:]
        del ctx.blocks[saved[16]:]
        ctx._label, ctx._no_reorder = saved[17:19]
        ctx._tensor_names -= log.fresh
        for c in log.claimed:
            ctx._claimed.pop(c, None)
        if lib is not None:
            lib.template_restore(snap, log.fresh)  # type: ignore[attr-defined]
        frame.locals.clear()
        frame.locals.update(locals_)
    return result
