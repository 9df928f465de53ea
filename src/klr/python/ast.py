"""The KLR Python AST: what gather produces and trace consumes (reference ``KLR.Python``).

Grammar (serde tag in parentheses; constructors numbered from 0 in the order listed;
``+`` marks our extensions, appended after the reference constructors so reference
constructor numbers stay valid)::

    Const (1)      = none | bool(value) | int(value) | float(value) | string(value)
                   | ellipsis | tensor(shape: [Nat], dtype: str)
    Ctx (2)        = load | store | del
    BoolOp (3)     = land | lor
    CmpOp (4)      = eq | ne | lt | le | gt | ge | is | isNot | isIn | notIn
    UnaryOp (5)    = invert | not | uadd | usub
    BinOp (6)      = add | sub | mul | matmul | div | mod | pow | lshift | rshift
                   | or | xor | and | floor
    Expr (7)       = (expr: Expr', pos: Pos)
    Expr' (8)      = const(value) | name(id, ctx) | attr(value, id, ctx) | tuple(xs, ctx)
                   | list(xs, ctx) | dict(keys, values) | subscript(tensor, index, ctx)
                   | slice(l?, u?, step?) | boolOp(op, values) | binOp(op, left, right)
                   | unaryOp(op, operand) | compare(left, ops, comparators)
                   | ifExp(test, body, orelse) | call(f, args, keywords) | starred(e, ctx)
                   | object(cls, fields) | format(e, conv?) | joined(es)
                   | +lambda(args, body) | +listComp(elt, generators)
                   | +dictComp(key, value, generators) | +generatorExp(elt, generators)
    Keyword (9)    = (id?: str, value: Expr, pos: Pos)          -- id None: ``**value``
    WithItem (10)  = (item: Expr, var?: Expr)
    Stmt (11)      = (stmt: Stmt', pos: Pos)
    Stmt' (12)     = pass | expr(e) | assert(e, msg?) | ret(e) | assign(xs, e)
                   | augAssign(x, op, e) | annAssign(x, annotation, value?)
                   | ifStm(e, thn, els) | forLoop(x, iter, body, orelse) | breakLoop
                   | continueLoop | whileLoop(test, body, orelse) | withBlock(items, body)
                   | +funDef(fun) | +tryStm(body, handlers, orelse, finalbody)
                   | +raiseStm(exc?, cause?) | +globalStm(names) | +nonlocalStm(names)
    Args (13)      = (posonlyargs, args, defaults, vararg?, kwonlyargs, kw_defaults, kwarg?)
    Fun (14)       = (name, fileName, line, source, decorators, args, body)
    Class (15)     = (name, bases, decorators, fields, methods)
    Kernel (16)    = (entry, funcs, classes, args, kwargs, globals, arch, grid,
                      scheduleEdges, flags)
    +Comprehension (17) = (target: Expr, iter: Expr, ifs: [Expr])
    +ExceptHandler (18) = (type?: Expr, name?: str, body: [Stmt], pos: Pos)

Positions are absolute: ``Pos.line`` is the 1-based line in ``Pos.filename`` and
``Fun.source`` is the verbatim (not dedented) text of the ``def`` starting at line
``Fun.line``, so ``fun.source.splitlines()[pos.line - fun.line]`` is the source line of
``pos``. The reference uses lines relative to the dedented def; see docs/gather.md.
"""

from __future__ import annotations

from typing import Annotated

from klr.pos import NOPOS, Pos
from klr.schema import F64, Int, Nat, NodeEnum, Sum, node

__all__ = [
    "Const", "CNone", "CBool", "CInt", "CFloat", "CString", "CEllipsis", "CTensor",
    "Ctx", "BoolOp", "CmpOp", "UnaryOp", "BinOp",
    "Expr", "ExprKind", "ConstExpr", "Name", "Attr", "TupleExpr", "ListExpr", "DictExpr",
    "Subscript", "SliceExpr", "BoolOpExpr", "BinOpExpr", "UnaryOpExpr", "Compare", "IfExp",
    "Call", "Starred", "ObjectExpr", "Format", "Joined",
    "Lambda", "ListComp", "DictComp", "GeneratorExp", "Comprehension",
    "Keyword", "WithItem",
    "Stmt", "StmtKind", "Pass", "ExprStmt", "Assert", "Ret", "Assign", "AugAssign", "AnnAssign",
    "IfStm", "ForLoop", "BreakLoop", "ContinueLoop", "WhileLoop", "WithBlock", "FunDef",
    "TryStm", "ExceptHandler", "RaiseStm", "GlobalStm", "NonlocalStm",
    "Args", "Fun", "Class", "Kernel",
]


# --- Constants ---------------------------------------------------------------------------

@node(name="none")
class CNone:
    pass


@node(name="bool")
class CBool:
    value: bool


@node(name="int")
class CInt:
    value: Int


@node(name="float")
class CFloat:
    value: F64


@node(name="string")
class CString:
    value: str


@node(name="ellipsis")
class CEllipsis:
    pass


@node(name="tensor")
class CTensor:
    """A tensor argument: only its shape and NKI dtype name, never its data."""

    shape: tuple[Nat, ...]
    dtype: str


Const = Annotated[CNone | CBool | CInt | CFloat | CString | CEllipsis | CTensor, Sum("Const", 1)]


# --- Operator enums ----------------------------------------------------------------------

class Ctx(NodeEnum):
    __tag__ = 2
    load = 0
    store = 1
    del_ = 2


class BoolOp(NodeEnum):
    __tag__ = 3
    land = 0
    lor = 1


class CmpOp(NodeEnum):
    __tag__ = 4
    eq = 0
    ne = 1
    lt = 2
    le = 3
    gt = 4
    ge = 5
    is_ = 6
    isNot = 7
    isIn = 8
    notIn = 9


class UnaryOp(NodeEnum):
    __tag__ = 5
    invert = 0
    not_ = 1
    uadd = 2
    usub = 3


class BinOp(NodeEnum):
    __tag__ = 6
    add = 0
    sub = 1
    mul = 2
    matmul = 3
    div = 4
    mod = 5
    pow = 6
    lshift = 7
    rshift = 8
    or_ = 9
    xor = 10
    and_ = 11
    floor = 12


# --- Expressions -------------------------------------------------------------------------

@node(tag=7)
class Expr:
    expr: ExprKind
    pos: Pos = NOPOS


@node(name="const")
class ConstExpr:
    value: Const


@node(name="name")
class Name:
    id: str
    ctx: Ctx = Ctx.load


@node(name="attr")
class Attr:
    value: Expr
    id: str
    ctx: Ctx = Ctx.load


@node(name="tuple")
class TupleExpr:
    xs: tuple[Expr, ...]
    ctx: Ctx = Ctx.load


@node(name="list")
class ListExpr:
    xs: tuple[Expr, ...]
    ctx: Ctx = Ctx.load


@node(name="dict")
class DictExpr:
    keys: tuple[Expr, ...]
    values: tuple[Expr, ...]


@node(name="subscript")
class Subscript:
    tensor: Expr
    index: Expr
    ctx: Ctx = Ctx.load


@node(name="slice")
class SliceExpr:
    l: Expr | None  # the reference's field name
    u: Expr | None
    step: Expr | None


@node(name="boolOp")
class BoolOpExpr:
    op: BoolOp
    values: tuple[Expr, ...]


@node(name="binOp")
class BinOpExpr:
    op: BinOp
    left: Expr
    right: Expr


@node(name="unaryOp")
class UnaryOpExpr:
    op: UnaryOp
    operand: Expr


@node(name="compare")
class Compare:
    left: Expr
    ops: tuple[CmpOp, ...]
    comparators: tuple[Expr, ...]


@node(name="ifExp")
class IfExp:
    test: Expr
    body: Expr
    orelse: Expr


@node(name="call")
class Call:
    f: Expr
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...]


@node(name="starred")
class Starred:
    e: Expr
    ctx: Ctx = Ctx.load


@node(name="object")
class ObjectExpr:
    """A Python object captured by value (the reference's gather makes these; ours does not)."""

    cls: str
    fields: tuple[Keyword, ...]


@node(name="format")
class Format:
    """One ``{e!conv}`` field of an f-string; conv is the character code of r, s or a."""

    e: Expr
    conv: Nat | None


@node(name="joined")
class Joined:
    es: tuple[Expr, ...]


@node(name="lambda")
class Lambda:
    args: Args
    body: Expr


@node(name="listComp")
class ListComp:
    elt: Expr
    generators: tuple[Comprehension, ...]


@node(name="dictComp")
class DictComp:
    key: Expr
    value: Expr
    generators: tuple[Comprehension, ...]


@node(name="generatorExp")
class GeneratorExp:
    elt: Expr
    generators: tuple[Comprehension, ...]


ExprKind = Annotated[
    ConstExpr | Name | Attr | TupleExpr | ListExpr | DictExpr | Subscript | SliceExpr
    | BoolOpExpr | BinOpExpr | UnaryOpExpr | Compare | IfExp | Call | Starred | ObjectExpr
    | Format | Joined | Lambda | ListComp | DictComp | GeneratorExp,
    Sum("Expr'", 8),
]


@node(tag=9)
class Keyword:
    id: str | None
    value: Expr
    pos: Pos = NOPOS


@node(tag=10)
class WithItem:
    item: Expr
    var: Expr | None = None


@node(tag=17)
class Comprehension:
    """One ``for target in iter if ...`` clause of a comprehension (extension)."""

    target: Expr
    iter: Expr
    ifs: tuple[Expr, ...] = ()


# --- Statements --------------------------------------------------------------------------

@node(tag=11)
class Stmt:
    stmt: StmtKind
    pos: Pos = NOPOS


@node(name="pass")
class Pass:
    pass


@node(name="expr")
class ExprStmt:
    e: Expr


@node(name="assert")
class Assert:
    e: Expr
    msg: Expr | None = None


@node(name="ret")
class Ret:
    e: Expr


@node(name="assign")
class Assign:
    xs: tuple[Expr, ...]
    e: Expr


@node(name="augAssign")
class AugAssign:
    x: Expr
    op: BinOp
    e: Expr


@node(name="annAssign")
class AnnAssign:
    x: Expr
    annotation: Expr
    value: Expr | None


@node(name="ifStm")
class IfStm:
    e: Expr
    thn: tuple[Stmt, ...]
    els: tuple[Stmt, ...]


@node(name="forLoop")
class ForLoop:
    x: Expr
    iter: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()


@node(name="breakLoop")
class BreakLoop:
    pass


@node(name="continueLoop")
class ContinueLoop:
    pass


@node(name="whileLoop")
class WhileLoop:
    test: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()


@node(name="withBlock")
class WithBlock:
    items: tuple[WithItem, ...]
    body: tuple[Stmt, ...]


@node(name="funDef")
class FunDef:
    """A nested ``def`` (extension): binds ``fun.name``'s last component as a local closure."""

    fun: Fun


@node(tag=18)
class ExceptHandler:
    """``except type as name:`` (extension); no type: a bare ``except:``."""

    type: Expr | None
    name: str | None
    body: tuple[Stmt, ...]
    pos: Pos = NOPOS


@node(name="tryStm")
class TryStm:
    """``try``/``except``/``else``/``finally`` (extension)."""

    body: tuple[Stmt, ...]
    handlers: tuple[ExceptHandler, ...]
    orelse: tuple[Stmt, ...] = ()
    finalbody: tuple[Stmt, ...] = ()


@node(name="raiseStm")
class RaiseStm:
    """``raise exc from cause`` (extension); no exc: re-raise the exception being handled."""

    exc: Expr | None = None
    cause: Expr | None = None


@node(name="globalStm")
class GlobalStm:
    """``global`` (extension): ``names`` are the qualified names of the module globals; the
    function's loads and stores of them use those names."""

    names: tuple[str, ...]


@node(name="nonlocalStm")
class NonlocalStm:
    """``nonlocal`` (extension): stores to ``names`` rebind the enclosing function's variables."""

    names: tuple[str, ...]


StmtKind = Annotated[
    Pass | ExprStmt | Assert | Ret | Assign | AugAssign | AnnAssign | IfStm | ForLoop
    | BreakLoop | ContinueLoop | WhileLoop | WithBlock | FunDef | TryStm | RaiseStm | GlobalStm
    | NonlocalStm,
    Sum("Stmt'", 12),
]


# --- Functions, classes, kernels ---------------------------------------------------------

@node(tag=13)
class Args:
    """Parameters; ``kw_defaults`` holds only the keyword-only parameters that have defaults."""

    posonlyargs: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    defaults: tuple[Expr, ...] = ()
    vararg: str | None = None
    kwonlyargs: tuple[str, ...] = ()
    kw_defaults: tuple[Keyword, ...] = ()
    kwarg: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return self.posonlyargs + self.args + self.kwonlyargs

    @property
    def positional(self) -> tuple[str, ...]:
        return self.posonlyargs + self.args


@node(tag=14)
class Fun:
    name: str
    fileName: str
    line: Nat
    source: str
    decorators: tuple[Expr, ...]
    args: Args
    body: tuple[Stmt, ...]

    def source_line(self, pos: Pos) -> str | None:
        """The text of the source line ``pos`` points at, when it lies inside this def."""
        lines = self.source.splitlines()
        index = pos.line - self.line
        return lines[index] if 0 <= index < len(lines) else None


@node(tag=15)
class Class:
    name: str
    bases: tuple[Expr, ...]
    decorators: tuple[Expr, ...]
    fields: tuple[Keyword, ...]
    methods: tuple[Fun, ...]


@node(tag=16)
class Kernel:
    entry: str
    funcs: tuple[Fun, ...]
    classes: tuple[Class, ...] = ()
    args: tuple[Expr, ...] = ()
    kwargs: tuple[Keyword, ...] = ()
    globals: tuple[Keyword, ...] = ()
    arch: Nat = 2
    grid: Nat = 1
    scheduleEdges: tuple[Expr, ...] = ()
    flags: tuple[Expr, ...] = ()

    def function(self, name: str) -> Fun | None:
        return next((f for f in self.funcs if f.name == name), None)
