"""Module-level constants: captured by defining expression, transitively, in dependency order."""

from __future__ import annotations

from conftest import Writer, names
from klr.pos import Pos
from klr.python import ast as K


def test_constants_are_captured_transitively_in_order(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import numpy as np
        from sizes import TILE

        UNUSED = 1 / 0
        DTYPE = np.float32
        ROWS = TILE * 2
        SHAPE = (ROWS, COLS) if TILE else None
        COLS = 512

        def kernel(a):
            return SHAPE, DTYPE, ROWS
    """, "sizes.py": """
        BASE = 64
        TILE = BASE + 64
    """})
    assert [g.id for g in k.globals] == [
        "sizes.BASE", "sizes.TILE", "kern.ROWS", "kern.COLS", "kern.SHAPE", "kern.DTYPE",
    ]
    shape = k.globals[4]
    assert names(shape.value) == ["sizes.TILE", "kern.ROWS", "kern.COLS"]
    assert shape.pos == Pos(7, 0, 7, 5, "kern.py")
    assert k.globals[5].value.expr == K.Name("numpy.float32")


def test_reassigned_and_augmented_constants_keep_every_assignment(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        X = 1
        X = X + 1
        X *= 3
        def kernel(a):
            return X
    """})
    assert [g.id for g in k.globals] == ["kern.X"] * 3
    assert names(k.globals[1].value) == ["kern.X"]
    aug = k.globals[2].value.expr
    assert aug == K.BinOpExpr(K.BinOp.mul, K.Expr(K.Name("kern.X")), K.Expr(K.ConstExpr(K.CInt(3))))


def test_tuple_unpacking_constants(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        A, (B, C) = 1, (2, 3)
        D, E = make()
        def make():
            return 4, 5
        def kernel(a):
            return A + C + E
    """})
    values = {g.id: g.value.expr for g in k.globals}
    assert values["kern.A"] == K.ConstExpr(K.CInt(1))
    assert values["kern.C"] == K.ConstExpr(K.CInt(3))
    e = values["kern.E"]
    assert isinstance(e, K.Subscript) and e.index.expr == K.ConstExpr(K.CInt(1))
    assert names(e.tensor) == ["kern.make"]
    assert [f.name for f in k.funcs] == ["kern.kernel", "kern.make"]


def test_constants_referencing_functions_and_lambdas(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import neuronxcc.nki.language as nl
        def helper(x):
            return x
        ACTS = {"exp": nl.exp, "id": helper}
        SQUARE = lambda v: v * v
        TABLE = [SQUARE(i) for i in range(4)]
        def kernel(a):
            return ACTS["id"](a), TABLE
    """})
    assert [g.id for g in k.globals] == ["kern.ACTS", "kern.SQUARE", "kern.TABLE"]
    assert names(k.globals[0].value) == ["neuronxcc.nki.language.exp", "kern.helper"]
    assert names(k.globals[2].value) == ["kern.SQUARE", "i", "i", "range"]
    assert [f.name for f in k.funcs] == ["kern.kernel", "kern.helper"]


def test_conditional_and_guarded_definitions(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        try:
            import neuronxcc.nki.language as nl
        except ImportError:
            nl = None
        if True:
            MODE = "fast"
        else:
            MODE = "slow"
            OTHER = 1
        def kernel(a):
            return nl.exp(a), MODE, OTHER
        if __name__ == "__main__":
            MODE = "main"
    """})
    assert names(k.funcs[0].body) == ["neuronxcc.nki.language.exp", "a", "kern.MODE", "kern.OTHER"]
    assert [(g.id, g.value.expr) for g in k.globals] == [
        ("kern.MODE", K.ConstExpr(K.CString("fast"))), ("kern.OTHER", K.ConstExpr(K.CInt(1))),
    ]


def test_module_level_code_that_is_not_referenced_is_ignored(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import torch
        data = torch.randn(3)
        for i in range(3):
            print(i)
        try:
            raise ValueError
        except ValueError:
            pass
        def kernel(a):
            return a
        async def unused():
            await thing
    """})
    assert k.globals == () and [f.name for f in k.funcs] == ["kern.kernel"]
