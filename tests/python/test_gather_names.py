"""Name resolution and rewriting, positions, function sources and decorators."""

from __future__ import annotations

from conftest import Writer, names, walk
from klr.pos import Pos
from klr.python import ast as K


def test_library_aliases_become_qualified_names(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import numpy as np
        import math
        import nki
        import nki.isa as nisa
        import neuronxcc.nki.language as nl
        from neuronxcc import nki as legacy
        from neuronxcc.nki.language import par_dim, tile_size as ts

        def kernel(a):
            t = nl.exp(a, dtype=np.float32)
            u = nki.language.add(t, nisa.reduce_cmd.reset)
            return par_dim(ts.pmax), legacy.jit, math.ceil(len(range(3))), print
    """})
    assert names(k.funcs[0].body) == [
        "t", "neuronxcc.nki.language.exp", "a", "numpy.float32",
        "u", "nki.language.add", "t", "nki.isa.reduce_cmd.reset",
        "neuronxcc.nki.language.par_dim", "neuronxcc.nki.language.tile_size.pmax", "neuronxcc.nki.jit",
        "math.ceil", "len", "range", "print",
    ]


def test_attribute_chains_fuse_only_through_modules(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import neuronxcc.nki.language as nl

        def kernel(a):
            return nl.arange(4)[:, None], a.shape[0], nl.tile_size.pmax.bit_length
    """})
    ret = k.funcs[0].body[0].stmt
    assert isinstance(ret, K.Ret)
    first, second, third = ret.e.expr.xs
    call = first.expr.tensor.expr
    assert call.f.expr == K.Name("neuronxcc.nki.language.arange")
    assert second.expr.tensor.expr == K.Attr(K.Expr(K.Name("a")), "shape")
    assert third.expr == K.Name("neuronxcc.nki.language.tile_size.pmax.bit_length")


def test_fused_name_spans_the_chain(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import numpy as np

        def kernel(a):
            return np.float32
    """})
    ret = k.funcs[0].body[0].stmt
    assert ret.e.pos == Pos(4, 11, 4, 21, "kern.py")


def test_positions_are_absolute(kernel_of: Writer) -> None:
    k = kernel_of({"sub/kern.py": """
        # a comment

        class Unused:
            pass

        def kernel(a, b):
            if a:
                x = a + b
            return x
    """})
    fun = k.funcs[0]
    assert fun.fileName == "sub/kern.py"
    assert fun.line == 6
    if_stmt = fun.body[0]
    assert if_stmt.pos == Pos(7, 4, 8, 17, "sub/kern.py")
    assign = if_stmt.stmt.thn[0]
    assert assign.pos == Pos(8, 8, 8, 17, "sub/kern.py")
    binop = assign.stmt.e
    assert binop.pos == Pos(8, 12, 8, 17, "sub/kern.py")
    assert binop.expr.right.pos == Pos(8, 16, 8, 17, "sub/kern.py")


def test_columns_count_characters(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        def kernel(a):
            return "ünï" + a
    """})
    right = k.funcs[0].body[0].stmt.e.expr.right
    assert right.pos == Pos(2, 19, 2, 20, "kern.py")


def test_source_is_verbatim_and_indexed_by_absolute_line(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import neuronxcc.nki as nki

        @nki.jit(
            mode="simulation")
        def kernel(a):
            y = a * 2  # double it
            return y
    """})
    fun = k.funcs[0]
    assert fun.line == 3
    assert fun.source == (
        '@nki.jit(\n    mode="simulation")\ndef kernel(a):\n    y = a * 2  # double it\n    return y\n')
    for node in walk(fun.body):
        if isinstance(node, (K.Expr, K.Stmt)):
            line = fun.source.splitlines()[node.pos.line - fun.line]
            assert line[node.pos.column:].startswith(("y", "a", "2", "return"))


def test_decorators_are_recorded_not_followed(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import neuronxcc.nki as nki
        from neuronxcc.nki import baremetal
        import pytest

        @pytest.mark.parametrize("x", [1])
        @nki.compiler.skip_middle_end_transformations
        @baremetal(artifacts_dir="out")
        @nki.benchmark(warmup=2, iters=10)
        @nki.jit(mode="trace")
        @undefined_decorator
        def kernel(a):
            return a
    """})
    decorators = k.funcs[0].decorators
    assert [dotted(d.expr.f if isinstance(d.expr, K.Call) else d) for d in decorators] == [
        "pytest.mark.parametrize",
        "neuronxcc.nki.compiler.skip_middle_end_transformations",
        "neuronxcc.nki.baremetal",
        "neuronxcc.nki.benchmark",
        "neuronxcc.nki.jit",
        "undefined_decorator",
    ]
    assert isinstance(decorators[0].expr.f.expr, K.Attr)  # unknown module: kept as written
    assert decorators[4].expr.keywords == (K.Keyword("mode", K.Expr(K.ConstExpr(K.CString("trace")))),)
    assert [f.name for f in k.funcs] == ["kern.kernel"]


def dotted(e: K.Expr) -> str:
    match e.expr:
        case K.Attr(value=value, id=attr):
            return f"{dotted(value)}.{attr}"
        case K.Name(id=name):
            return name
    raise AssertionError(e)


def test_locals_shadow_globals_and_builtins(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        SIZE = 4
        def helper(x):
            return x

        def kernel(a, *rest, len=3, **opts):
            for SIZE in range(2):
                pass
            with open_ctx() as helper:
                pass
            return SIZE, helper, len, rest, opts

        def open_ctx():
            return None
    """})
    assert names(k.funcs[0].body[-1]) == ["SIZE", "helper", "len", "rest", "opts"]
    assert k.globals == ()
    assert [f.name for f in k.funcs] == ["kern.kernel", "kern.open_ctx"]


def test_kernel_entry_and_function_order(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        def c():
            return 1
        def b():
            return c() + b()
        def kernel(a):
            return b() + c()
    """})
    assert k.entry == "kern.kernel"
    assert [f.name for f in k.funcs] == ["kern.kernel", "kern.b", "kern.c"]


def test_jit_by_assignment_names_the_function(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import neuronxcc.nki as nki
        def impl(a):
            return a
        kernel = nki.jit(impl)
        def other(a):
            return a
        other = nki.jit(other, mode="simulation")
        def caller(a):
            return kernel(a) + other(a)
    """}, "caller")
    assert names(k.funcs[0].body) == ["kern.impl", "a", "kern.other", "a"]
    assert k.globals == ()


def test_function_local_imports_bind_names(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        def kernel(a):
            import numpy as np
            from helpers import twice
            return twice(np.float32)
    """, "helpers.py": """
        def twice(x):
            return x + x
    """})
    body = k.funcs[0].body
    assert [type(s.stmt) for s in body] == [K.Pass, K.Pass, K.Ret]
    assert names(body) == ["helpers.twice", "numpy.float32"]


def test_fstrings_and_constants(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        def kernel(a):
            return f"a={a!r} {a:>4}", ..., None, 1.5, -2, True
    """})
    joined, ellipsis, none, flt, neg, true = k.funcs[0].body[0].stmt.e.expr.xs
    parts = joined.expr.es
    assert parts[0].expr == K.ConstExpr(K.CString("a="))
    assert parts[1].expr == K.Format(K.Expr(K.Name("a")), ord("r"))
    spec_call = parts[3].expr
    assert spec_call.f.expr == K.Name("format") and spec_call.args[0].expr == K.Name("a")
    assert ellipsis.expr == K.ConstExpr(K.CEllipsis())
    assert none.expr == K.ConstExpr(K.CNone()) and flt.expr == K.ConstExpr(K.CFloat(1.5))
    assert neg.expr == K.UnaryOpExpr(K.UnaryOp.usub, K.Expr(K.ConstExpr(K.CInt(2))))
    assert true.expr == K.ConstExpr(K.CBool(True))


def test_raise_try_global_and_nonlocal_are_kept(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        N = 0
        def kernel(a):
            global N
            def inner():
                nonlocal a
                a = 1
            try:
                raise ValueError(f"bad {a}") from None
            except (KeyError, IndexError) as e:
                N = 2
            finally:
                raise
    """})
    body = k.funcs[0].body
    assert body[0].stmt == K.GlobalStm(("kern.N",))
    assert body[1].stmt.fun.body[0].stmt == K.NonlocalStm(("a",))
    tri = body[2].stmt
    assert isinstance(tri, K.TryStm)
    raised = tri.body[0].stmt
    assert isinstance(raised, K.RaiseStm) and isinstance(raised.exc.expr, K.Call)
    assert raised.cause.expr == K.ConstExpr(K.CNone())
    (handler,) = tri.handlers
    assert handler.name == "e" and handler.pos == Pos(9, 4, 10, 13, "kern.py")
    assert [x.expr.id for x in handler.type.expr.xs] == ["KeyError", "IndexError"]
    assert handler.body[0].stmt.xs[0].expr == K.Name("kern.N", K.Ctx.store)
    assert tri.finalbody[0].stmt == K.RaiseStm()


def test_statements_map_to_the_reference_forms(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        def kernel(a, /, b=1, *, c, d=2):
            x: int = 1
            x += a
            while x < 3:
                x = x + 1
                continue
            else:
                pass
            for i in range(2):
                break
            with ctx() as (p, q):
                assert p, "msg"
            del_me = a is not b and not c or a in [1] or b not in {1: 2}
            return
        def ctx():
            return None
    """})
    fun = k.funcs[0]
    assert fun.args == K.Args(("a",), ("b",), (K.Expr(K.ConstExpr(K.CInt(1))),), None, ("c", "d"),
                              (K.Keyword("d", K.Expr(K.ConstExpr(K.CInt(2)))),), None)
    kinds = [type(s.stmt) for s in fun.body]
    assert kinds == [K.AnnAssign, K.AugAssign, K.WhileLoop, K.ForLoop, K.WithBlock, K.Assign, K.Ret]
    assert fun.body[-1].stmt == K.Ret(K.Expr(K.ConstExpr(K.CNone())))
    with_block = fun.body[4].stmt
    assert with_block.items[0].var.expr.ctx is K.Ctx.store
    assert isinstance(with_block.body[0].stmt, K.Assert)
