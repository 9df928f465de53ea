"""Print a gathered Python-AST kernel back as readable Python-like source (``klr info --dump pretty``).

The output is deterministic and shows what the tracer will see: fully qualified names,
captured globals, recorded arguments. It is for reading; precedence is made explicit with
parentheses around every compound operand.
"""

from __future__ import annotations

import sys

from klr.errors import KlrError
from klr.python.ast import (
    AnnAssign,
    Args,
    Assert,
    Assign,
    Attr,
    AugAssign,
    BinOp,
    BinOpExpr,
    BoolOp,
    BoolOpExpr,
    BreakLoop,
    Call,
    CBool,
    CEllipsis,
    CFloat,
    CInt,
    Class,
    CmpOp,
    CNone,
    Compare,
    Comprehension,
    ConstExpr,
    ContinueLoop,
    CString,
    CTensor,
    DictComp,
    DictExpr,
    Expr,
    ExprStmt,
    ForLoop,
    Format,
    Fun,
    FunDef,
    GeneratorExp,
    GlobalStm,
    IfExp,
    IfStm,
    Joined,
    Kernel,
    Keyword,
    Lambda,
    ListComp,
    ListExpr,
    Name,
    NonlocalStm,
    ObjectExpr,
    Pass,
    RaiseStm,
    Ret,
    SliceExpr,
    Starred,
    Stmt,
    Subscript,
    TryStm,
    TupleExpr,
    UnaryOp,
    UnaryOpExpr,
    WhileLoop,
    WithBlock,
)

_BIN = {BinOp.add: "+", BinOp.sub: "-", BinOp.mul: "*", BinOp.matmul: "@", BinOp.div: "/",
        BinOp.mod: "%", BinOp.pow: "**", BinOp.lshift: "<<", BinOp.rshift: ">>", BinOp.or_: "|",
        BinOp.xor: "^", BinOp.and_: "&", BinOp.floor: "//"}
_CMP = {CmpOp.eq: "==", CmpOp.ne: "!=", CmpOp.lt: "<", CmpOp.le: "<=", CmpOp.gt: ">", CmpOp.ge: ">=",
        CmpOp.is_: "is", CmpOp.isNot: "is not", CmpOp.isIn: "in", CmpOp.notIn: "not in"}
_UNARY = {UnaryOp.invert: "~", UnaryOp.not_: "not ", UnaryOp.uadd: "+", UnaryOp.usub: "-"}
_SIMPLE = (Name, ConstExpr, Attr, Call, Subscript, TupleExpr, ListExpr, DictExpr)


def pretty(kernel: Kernel) -> str:
    """The kernel as Python-like text."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, RECURSION_LIMIT))  # expressions may nest hundreds deep
    try:
        return _pretty(kernel)
    except RecursionError:
        raise KlrError("cannot print the kernel: an expression in it nests too deeply") from None
    finally:
        sys.setrecursionlimit(old)


RECURSION_LIMIT = 20_000


def _pretty(kernel: Kernel) -> str:
    out = [f"# kernel {kernel.entry} (arch {kernel.arch}, lnc {kernel.grid})"]
    if kernel.args or kernel.kwargs:
        parts = [expr(a) for a in kernel.args] + [_keyword(k) for k in kernel.kwargs]
        out.append(f"# arguments: {', '.join(parts)}")
    for flag in kernel.flags:
        out.append(f"# flag: {expr(flag)}")
    for g in kernel.globals:
        out.append(f"{g.id} = {expr(g.value)}")
    for cls in kernel.classes:
        out.extend(["", *_class(cls)])
    for fun in kernel.funcs:
        out.extend(["", *_fun(fun, "")])
    return "\n".join(out) + "\n"


def _class(cls: Class) -> list[str]:
    lines = [f"@{expr(d)}" for d in cls.decorators]
    bases = f"({', '.join(expr(b) for b in cls.bases)})" if cls.bases else ""
    lines.append(f"class {cls.name}{bases}:")
    lines.extend(f"    {f.id} = {expr(f.value)}" for f in cls.fields)
    for m in cls.methods:
        lines.extend(_fun(m, "    "))
    if not cls.fields and not cls.methods:
        lines.append("    pass")
    return lines


def _fun(fun: Fun, indent: str) -> list[str]:
    lines = [f"{indent}@{expr(d)}" for d in fun.decorators]
    lines.append(f"{indent}def {fun.name}({_args(fun.args)}):  # {fun.fileName}:{fun.line}")
    lines.extend(_block(fun.body, indent + "    "))
    return lines


def signature(a: Args) -> str:
    """A function's parameters as its ``def`` spells them (``x, n_rows=4, *, eps``)."""
    return _args(a)


def _args(a: Args) -> str:
    parts: list[str] = []
    positional = [*a.posonlyargs, *a.args]
    first_default = len(positional) - len(a.defaults)
    for i, name in enumerate(positional):
        parts.append(name if i < first_default else f"{name}={expr(a.defaults[i - first_default])}")
        if a.posonlyargs and i == len(a.posonlyargs) - 1:
            parts.append("/")
    if a.vararg is not None:
        parts.append(f"*{a.vararg}")
    elif a.kwonlyargs:
        parts.append("*")
    defaults = {k.id: k.value for k in a.kw_defaults}
    for name in a.kwonlyargs:
        parts.append(f"{name}={expr(defaults[name])}" if name in defaults else name)
    if a.kwarg is not None:
        parts.append(f"**{a.kwarg}")
    return ", ".join(parts)


def _block(body: tuple[Stmt, ...], indent: str) -> list[str]:
    if not body:
        return [f"{indent}pass"]
    out: list[str] = []
    for s in body:
        out.extend(stmt(s, indent))
    return out


def stmt(s: Stmt, indent: str = "") -> list[str]:
    match s.stmt:
        case Pass():
            return [f"{indent}pass"]
        case ExprStmt(e):
            return [indent + expr(e)]
        case Assert(e, msg):
            return [f"{indent}assert {expr(e)}" + (f", {expr(msg)}" if msg is not None else "")]
        case Ret(e):
            return [f"{indent}return {expr(e)}"]
        case Assign(xs, e):
            return [indent + " = ".join([*(expr(x) for x in xs), expr(e)])]
        case AugAssign(x, op, e):
            return [f"{indent}{expr(x)} {_BIN[op]}= {expr(e)}"]
        case AnnAssign(x, ann, value):
            return [f"{indent}{expr(x)}: {expr(ann)}" + (f" = {expr(value)}" if value is not None else "")]
        case IfStm(e, thn, els):
            lines = [f"{indent}if {expr(e)}:", *_block(thn, indent + "    ")]
            if els:
                lines += [f"{indent}else:", *_block(els, indent + "    ")]
            return lines
        case ForLoop(x, it, body, orelse):
            lines = [f"{indent}for {expr(x)} in {expr(it)}:", *_block(body, indent + "    ")]
            if orelse:
                lines += [f"{indent}else:", *_block(orelse, indent + "    ")]
            return lines
        case WhileLoop(test, body, orelse):
            lines = [f"{indent}while {expr(test)}:", *_block(body, indent + "    ")]
            if orelse:
                lines += [f"{indent}else:", *_block(orelse, indent + "    ")]
            return lines
        case BreakLoop():
            return [f"{indent}break"]
        case ContinueLoop():
            return [f"{indent}continue"]
        case WithBlock(items, body):
            heads = ", ".join(expr(i.item) + (f" as {expr(i.var)}" if i.var is not None else "")
                              for i in items)
            return [f"{indent}with {heads}:", *_block(body, indent + "    ")]
        case FunDef(fun):
            return _fun(fun, indent)
        case TryStm(body, handlers, orelse, finalbody):
            inner = indent + "    "
            lines = [f"{indent}try:", *_block(body, inner)]
            for h in handlers:
                head = "except" + (f" {expr(h.type)}" if h.type is not None else "") \
                    + (f" as {h.name}" if h.name is not None else "")
                lines += [f"{indent}{head}:", *_block(h.body, inner)]
            if orelse:
                lines += [f"{indent}else:", *_block(orelse, inner)]
            if finalbody:
                lines += [f"{indent}finally:", *_block(finalbody, inner)]
            return lines
        case RaiseStm(exc, cause):
            text = "raise" + (f" {expr(exc)}" if exc is not None else "")
            return [indent + text + (f" from {expr(cause)}" if cause is not None else "")]
        case GlobalStm(names):
            return [f"{indent}global {', '.join(names)}"]
        case NonlocalStm(names):
            return [f"{indent}nonlocal {', '.join(names)}"]
    raise TypeError(f"unknown statement {type(s.stmt).__name__}")


def _keyword(k: Keyword) -> str:
    return f"**{expr(k.value)}" if k.id is None else f"{k.id}={expr(k.value)}"


def _operand(e: Expr) -> str:
    text = expr(e)
    return text if isinstance(e.expr, _SIMPLE) else f"({text})"


def _comprehensions(gens: tuple[Comprehension, ...]) -> str:
    return " ".join(f"for {expr(g.target)} in {expr(g.iter)}" + "".join(f" if {expr(c)}" for c in g.ifs)
                    for g in gens)


def expr(e: Expr) -> str:
    match e.expr:
        case ConstExpr(CNone()):
            return "None"
        case ConstExpr(CBool(v)) | ConstExpr(CInt(v)) | ConstExpr(CFloat(v)) | ConstExpr(CString(v)):
            return repr(v)
        case ConstExpr(CEllipsis()):
            return "..."
        case ConstExpr(CTensor(shape, dtype)):
            return f"tensor[{', '.join(map(str, shape))}]:{dtype}"
        case Name(id):
            return id
        case Attr(value, id):
            return f"{_operand(value)}.{id}"
        case TupleExpr(xs):
            return "(" + ", ".join(expr(x) for x in xs) + ("," if len(xs) == 1 else "") + ")"
        case ListExpr(xs):
            return "[" + ", ".join(expr(x) for x in xs) + "]"
        case DictExpr(keys, values):
            return "{" + ", ".join(f"{expr(k)}: {expr(v)}" for k, v in zip(keys, values)) + "}"
        case Subscript(tensor, index):
            inner = expr(index)
            if isinstance(index.expr, TupleExpr) and index.expr.xs:
                inner = ", ".join(expr(x) for x in index.expr.xs)
            return f"{_operand(tensor)}[{inner}]"
        case SliceExpr(lo, hi, step):
            text = f"{expr(lo) if lo else ''}:{expr(hi) if hi else ''}"
            return text + (f":{expr(step)}" if step is not None else "")
        case BoolOpExpr(op, values):
            return f" {'and' if op is BoolOp.land else 'or'} ".join(_operand(v) for v in values)
        case BinOpExpr(op, left, right):
            return f"{_operand(left)} {_BIN[op]} {_operand(right)}"
        case UnaryOpExpr(op, operand):
            return f"{_UNARY[op]}{_operand(operand)}"
        case Compare(left, ops, comparators):
            return _operand(left) + "".join(f" {_CMP[o]} {_operand(c)}" for o, c in zip(ops, comparators))
        case IfExp(test, body, orelse):
            return f"{_operand(body)} if {_operand(test)} else {_operand(orelse)}"
        case Call(f, args, keywords):
            return f"{_operand(f)}({', '.join([*(expr(a) for a in args), *(_keyword(k) for k in keywords)])})"
        case Starred(inner):
            return f"*{_operand(inner)}"
        case ObjectExpr(cls, fields):
            return f"<{cls} object {', '.join(_keyword(k) for k in fields)}>"
        case Format(inner, conv):
            return "{" + expr(inner) + (f"!{chr(conv)}" if conv is not None and conv >= 0 else "") + "}"
        case Joined(es):
            parts = (expr(x) if isinstance(x.expr, Format) else str(_literal(x)) for x in es)
            return "f" + repr("".join(parts))
        case Lambda(args, body):
            return f"lambda {_args(args)}: {expr(body)}"
        case ListComp(elt, gens):
            return f"[{expr(elt)} {_comprehensions(gens)}]"
        case GeneratorExp(elt, gens):
            return f"({expr(elt)} {_comprehensions(gens)})"
        case DictComp(key, value, gens):
            return f"{{{expr(key)}: {expr(value)} {_comprehensions(gens)}}}"
    raise TypeError(f"unknown expression {type(e.expr).__name__}")


def _literal(e: Expr) -> object:
    match e.expr:
        case ConstExpr(CString(v)):
            return v
    return "{" + expr(e) + "}"
