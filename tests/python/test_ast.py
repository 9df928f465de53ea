"""The Python AST schema: tags, constructor order and field names of the reference, plus extensions."""

from __future__ import annotations

import pytest

from klr.pos import Pos
from klr.python import ast as K
from klr.schema import Kind, NodeEnum, describe, fields_of, info_of

# Constructor names in the reference's order (KLR/Python.lean at HEAD); ours append after them.
EXPR_CTORS = ("const", "name", "attr", "tuple", "list", "dict", "subscript", "slice", "boolOp", "binOp",
              "unaryOp", "compare", "ifExp", "call", "starred", "object", "format", "joined")
STMT_CTORS = ("pass", "expr", "assert", "ret", "assign", "augAssign", "annAssign", "ifStm", "forLoop",
              "breakLoop", "continueLoop", "whileLoop", "withBlock")
CONST_CTORS = ("none", "bool", "int", "float", "string", "ellipsis", "tensor")


def test_sum_constructor_order() -> None:
    expr = describe(K.ExprKind)
    assert expr.sum is not None and expr.sum.tag == 8
    assert expr.ctor_names[:len(EXPR_CTORS)] == EXPR_CTORS
    assert expr.ctor_names[len(EXPR_CTORS):] == ("lambda", "listComp", "dictComp", "generatorExp")
    stmt = describe(K.StmtKind)
    assert stmt.sum is not None and stmt.sum.tag == 12
    assert stmt.ctor_names == (*STMT_CTORS, "funDef", "tryStm", "raiseStm", "globalStm", "nonlocalStm")
    const = describe(K.Const)
    assert const.sum is not None and const.sum.tag == 1
    assert const.ctor_names == CONST_CTORS


@pytest.mark.parametrize(("cls", "tag", "fields"), [
    (K.Expr, 7, ("expr", "pos")),
    (K.Keyword, 9, ("id", "value", "pos")),
    (K.WithItem, 10, ("item", "var")),
    (K.Stmt, 11, ("stmt", "pos")),
    (K.Args, 13, ("posonlyargs", "args", "defaults", "vararg", "kwonlyargs", "kw_defaults", "kwarg")),
    (K.Fun, 14, ("name", "fileName", "line", "source", "decorators", "args", "body")),
    (K.Class, 15, ("name", "bases", "decorators", "fields", "methods")),
    (K.Kernel, 16, ("entry", "funcs", "classes", "args", "kwargs", "globals", "arch", "grid",
                    "scheduleEdges", "flags")),
    (K.Comprehension, 17, ("target", "iter", "ifs")),
])
def test_struct_tags_and_fields(cls: type, tag: int, fields: tuple[str, ...]) -> None:
    assert info_of(cls).tag == tag
    assert tuple(f.lean for f in fields_of(cls)) == fields


@pytest.mark.parametrize(("enum", "tag", "members"), [
    (K.Ctx, 2, ("load", "store", "del")),
    (K.BoolOp, 3, ("land", "lor")),
    (K.CmpOp, 4, ("eq", "ne", "lt", "le", "gt", "ge", "is", "isNot", "isIn", "notIn")),
    (K.UnaryOp, 5, ("invert", "not", "uadd", "usub")),
    (K.BinOp, 6, ("add", "sub", "mul", "matmul", "div", "mod", "pow", "lshift", "rshift", "or", "xor",
                  "and", "floor")),
])
def test_enums(enum: type[NodeEnum], tag: int, members: tuple[str, ...]) -> None:
    assert enum.__tag__ == tag
    assert tuple(m.lean for m in enum) == members
    assert [m.ctor for m in enum] == list(range(len(members)))


def test_ctor_field_names() -> None:
    expected = {
        K.Attr: ("value", "id", "ctx"), K.Subscript: ("tensor", "index", "ctx"),
        K.SliceExpr: ("l", "u", "step"),
        K.Compare: ("left", "ops", "comparators"), K.Call: ("f", "args", "keywords"),
        K.ObjectExpr: ("cls", "fields"), K.Format: ("e", "conv"), K.CTensor: ("shape", "dtype"),
        K.AnnAssign: ("x", "annotation", "value"), K.IfStm: ("e", "thn", "els"),
        K.ForLoop: ("x", "iter", "body", "orelse"), K.Lambda: ("args", "body"),
        K.DictComp: ("key", "value", "generators"),
    }
    for cls, fields in expected.items():
        assert tuple(f.lean for f in fields_of(cls)) == fields, cls


def test_every_field_has_a_schema_type() -> None:
    for name in K.__all__:
        cls = getattr(K, name)
        if isinstance(cls, type) and hasattr(cls, "__klr__"):
            for f in fields_of(cls):
                assert describe(f.type).kind in Kind


def test_positions_do_not_take_part_in_equality() -> None:
    a = K.Expr(K.Name("x"), Pos(1, 2, 1, 3, "a.py"))
    b = K.Expr(K.Name("x"), Pos(9, 0, None, None, "b.py"))
    assert a == b and hash(a) == hash(b)


def test_fun_source_line() -> None:
    fun = K.Fun("m.f", "m.py", 10, "def f():\n    return 1\n", (), K.Args(), ())
    assert fun.source_line(Pos(11, 4)) == "    return 1"
    assert fun.source_line(Pos(9, 0)) is None
