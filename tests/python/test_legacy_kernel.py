"""A real-world style legacy (NKI beta 1) kernel with its helpers in another module."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, names, walk
from klr.python import ast as K
from klr.python.args import parse_arg_specs
from klr.python.gather import gather_file


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> K.Kernel:
    monkeypatch.chdir(FIXTURES / "legacy")
    args, kwargs = parse_arg_specs(["float16[256,1024]", "b_input=float16[256,1024]"])
    return gather_file("tiled_add.py", "tiled_add", args=args, kwargs=kwargs, grid=(2, 2))


def test_everything_the_kernel_needs_is_gathered(kernel: K.Kernel) -> None:
    assert kernel.entry == "tiled_add.tiled_add"
    assert [f.name for f in kernel.funcs] == ["tiled_add.tiled_add", "tiles.ceil_div", "tiles.add_tile"]
    assert [(g.id, g.value.expr) for g in kernel.globals] == [
        ("tiles.PMAX", K.Name("neuronxcc.nki.language.tile_size.pmax")),
        ("tiles.FMAX", K.ConstExpr(K.CInt(512))),
    ]
    assert kernel.args[0].expr == K.ConstExpr(K.CTensor((256, 1024), "float16"))
    assert kernel.kwargs[0].id == "b_input"


def test_library_names(kernel: K.Kernel) -> None:
    user = ("tiles.", "tiled_add.")
    library = sorted({n for n in names(kernel.funcs) if "." in n and not n.startswith(user)})
    assert library == [
        "neuronxcc.nki.isa.memset", "neuronxcc.nki.jit", "neuronxcc.nki.language.add",
        "neuronxcc.nki.language.affine_range",
        "neuronxcc.nki.language.arange", "neuronxcc.nki.language.load", "neuronxcc.nki.language.mgrid",
        "neuronxcc.nki.language.ndarray", "neuronxcc.nki.language.par_dim", "neuronxcc.nki.language.sbuf",
        "neuronxcc.nki.language.shared_hbm", "neuronxcc.nki.language.store", "neuronxcc.nki.language.zeros",
        "numpy.float32",
    ]


def test_indexing_masks_and_asserts(kernel: K.Kernel) -> None:
    body = kernel.funcs[0].body
    assert isinstance(body[0].stmt, K.ExprStmt)  # the docstring
    check = body[3].stmt
    assert isinstance(check, K.Assert) and isinstance(check.msg.expr, K.Joined)
    grid = body[7].stmt
    assert isinstance(grid, K.Assign) and grid.xs[0].expr.ctx is K.Ctx.store
    mgrid = grid.e.expr
    assert isinstance(mgrid, K.Subscript) and isinstance(mgrid.index.expr, K.TupleExpr)
    assert all(isinstance(s.expr, K.SliceExpr) for s in mgrid.index.expr.xs)
    store = K.Name("neuronxcc.nki.language.store")
    stores = [n for n in walk(body) if isinstance(n, K.Call) and n.f.expr == store]
    assert [kw.id for kw in stores[0].keywords] == ["value", "mask"]


def test_parameter_annotations_are_dropped(kernel: K.Kernel) -> None:
    assert kernel.funcs[0].args == K.Args(args=("a_input", "b_input"))
