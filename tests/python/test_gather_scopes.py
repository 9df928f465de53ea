"""Scopes: nested functions and closures, lambdas, comprehensions, classes, dataclasses, enums."""

from __future__ import annotations

from conftest import Writer, names
from klr.python import ast as K


def test_nested_functions_and_closures(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        SCALE = 2
        def kernel(a):
            offset = 1
            def inner(x, k=SCALE):
                def innermost():
                    return x + offset + k
                return innermost() * SCALE
            return inner(a)
    """})
    assert [f.name for f in k.funcs] == ["kern.kernel"]
    fundef = k.funcs[0].body[1].stmt
    assert isinstance(fundef, K.FunDef)
    inner = fundef.fun
    assert inner.name == "kern.kernel.inner" and inner.line == 4 and inner.fileName == "kern.py"
    assert inner.source.startswith("    def inner(x, k=SCALE):\n")
    assert names(inner.args.defaults) == ["kern.SCALE"]
    innermost = inner.body[0].stmt.fun
    assert innermost.name == "kern.kernel.inner.innermost"
    assert names(innermost.body) == ["x", "offset", "k"]
    assert names(inner.body[1]) == ["innermost", "kern.SCALE"]
    assert names(k.funcs[0].body[2]) == ["inner", "a"]


def test_lambdas_and_comprehensions(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        N = 4
        def kernel(a):
            f = lambda x, y=N: x + y + a
            xs = [i * j for i in range(N) for j in range(i) if j != N]
            d = {i: f(i) for i in xs}
            g = sum(x for x in xs)
            i = [i for i in range(i)]
            return f, xs, d, g
    """})
    body = k.funcs[0].body
    lam = body[0].stmt.e.expr
    assert isinstance(lam, K.Lambda) and lam.args.args == ("x", "y")
    assert names(lam.args.defaults) == ["kern.N"] and names(lam.body) == ["x", "y", "a"]
    comp = body[1].stmt.e.expr
    assert isinstance(comp, K.ListComp) and len(comp.generators) == 2
    assert names(comp) == ["i", "j", "i", "range", "kern.N", "j", "range", "i", "j", "kern.N"]
    dict_comp = body[2].stmt.e.expr
    assert isinstance(dict_comp, K.DictComp) and names(dict_comp.value) == ["f", "i"]
    assert isinstance(body[3].stmt.e.expr.args[0].expr, K.GeneratorExp)
    assert [g.id for g in k.globals] == ["kern.N"]


def test_classes_with_methods(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        import neuronxcc.nki.language as nl
        from helpers import Base

        WIDTH = 8

        class Tiler(Base):
            \"\"\"Splits a tensor into tiles.\"\"\"
            size = WIDTH
            count: int = 2
            name: str

            def __init__(self, n):
                self.n = n * Tiler.size

            @staticmethod
            def make(n):
                return Tiler(n)

            def tile(self, t):
                return nl.load(t[0:self.n]), size_of(self)

        def size_of(t):
            return t.n

        def kernel(a):
            return Tiler.make(3).tile(a)
    """, "helpers.py": """
        class Base:
            pass
    """})
    assert [c.name for c in k.classes] == ["kern.Tiler", "helpers.Base"]
    tiler = k.classes[0]
    assert names(tiler.bases) == ["helpers.Base"]
    assert [(f.id, f.value.expr) for f in tiler.fields] == [
        ("size", K.Name("kern.WIDTH")),
        ("count", K.ConstExpr(K.CInt(2))),
        ("name", K.Name("dataclasses.MISSING")),
    ]
    assert [m.name for m in tiler.methods] == ["kern.Tiler.__init__", "kern.Tiler.make", "kern.Tiler.tile"]
    assert names(tiler.methods[1].decorators) == ["staticmethod"]
    assert names(tiler.methods[0].body) == ["self", "n", "kern.Tiler"]
    assert names(tiler.methods[2].body) == [
        "neuronxcc.nki.language.load", "t", "self", "kern.size_of", "self"]
    assert [f.name for f in k.funcs] == ["kern.kernel", "kern.size_of"]
    assert [g.id for g in k.globals] == ["kern.WIDTH"]


def test_class_body_names_are_not_visible_in_methods(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        class C:
            x = 1
            y = x + 1
            def m(self):
                return x
        x = 5
        def kernel(a):
            return C()
    """})
    cls = k.classes[0]
    assert names(cls.fields[1].value) == ["x"]
    assert names(cls.methods[0].body) == ["kern.x"]


def test_dataclass(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        from dataclasses import dataclass, field
        import dataclasses

        @dataclass(frozen=True)
        class Config:
            tile: int
            dtype: str = "bfloat16"
            extra: tuple = field(default=())

            def scaled(self, k):
                return dataclasses.replace(self, tile=self.tile * k)

        def kernel(a, cfg=Config(128)):
            return cfg.scaled(2)
    """})
    cls = k.classes[0]
    assert cls.name == "kern.Config"
    assert cls.decorators[0].expr.f.expr == K.Name("dataclasses.dataclass")
    assert [f.id for f in cls.fields] == ["tile", "dtype", "extra"]
    assert cls.fields[2].value.expr.f.expr == K.Name("dataclasses.field")
    assert names(cls.methods[0].body)[0] == "dataclasses.replace"
    assert names(k.funcs[0].args.defaults) == ["kern.Config"]


def test_enum(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        from enum import Enum, auto
        import enum

        class Mode(Enum):
            FAST = 1
            SLOW = auto()

        class Flag(enum.IntEnum):
            A = 1

        def kernel(a, mode=Mode.FAST):
            if mode == Mode.SLOW:
                return Flag.A
            return a
    """})
    assert [c.name for c in k.classes] == ["kern.Mode", "kern.Flag"]
    mode, flag = k.classes
    assert names(mode.bases) == ["enum.Enum"] and names(flag.bases) == ["enum.IntEnum"]
    assert mode.fields[1].value.expr.f.expr == K.Name("enum.auto")
    default = k.funcs[0].args.defaults[0].expr
    assert default == K.Attr(K.Expr(K.Name("kern.Mode")), "FAST")


def test_recursive_and_mutually_recursive_functions(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": """
        def even(n):
            return True if n == 0 else odd(n - 1)
        def odd(n):
            return False if n == 0 else even(n - 1)
        def kernel(a):
            return even(a)
    """})
    assert [f.name for f in k.funcs] == ["kern.kernel", "kern.even", "kern.odd"]
