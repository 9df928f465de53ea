"""Random Core kernels for the interpreter: the schema strategies of tests/format, steered
towards programs that get past the first bounds check.

Tensors come mostly from a small pool of small tensors (so statements share memory and read
what earlier ones wrote), numbers are mostly small, and now and then any schema value appears
(huge shapes and offsets, odd enums) to probe the limits.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from klr.core import Block, LncKernel, Memory, Stmt, TensorName
from klr.dtypes import Dtype
from klr.interp import runner as _runner  # noqa: F401  (importing it fills IMPLS)
from klr.interp.registry import IMPLS
from klr.pos import Pos
from klr.schema import Kind, Prim, TypeDesc, describe, fields_of
from tests.format.schema_strategies import min_depth, strategy

POOL = (
    TensorName.make("a", Dtype.float32, (4, 6), Memory.sbuf),
    TensorName.make("b", Dtype.float32, (4, 6), Memory.sbuf),
    TensorName.make("c", Dtype.float32, (4, 1), Memory.sbuf),
    TensorName.make("i", Dtype.int32, (4, 6), Memory.sbuf),
    TensorName.make("p", Dtype.float32, (4, 6), Memory.psum),
    TensorName.make("h", Dtype.bfloat16, (8, 3, 2), Memory.hbm),
    TensorName.make("u", Dtype.uint8, (1, 24), Memory.sbuf),
)

_PRIMS = {
    Prim.NAT: st.integers(0, 6) | st.integers(0, 2**32 - 1),
    Prim.INT: st.integers(-3, 8) | st.integers(-(2**31), 2**31 - 1),
    Prim.F32: st.sampled_from((0.0, 1.0, -1.5, 2.0, 1e30, -0.0)) | st.floats(width=32),
    Prim.F64: st.sampled_from((0.0, 1.0, -1.5, 2.0)) | st.floats(),
    Prim.STR: st.sampled_from(("main", "a", "x"))
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=4),
    Prim.BOOL: st.booleans(),
}


def _steer(d: TypeDesc, depth: int) -> st.SearchStrategy[Any] | None:
    """Pool tensors, one position, and mostly plain accesses (those the interpreter runs)."""
    if d.kind == Kind.STRUCT and d.cls is TensorName:
        return _TENSORS
    if d.kind == Kind.STRUCT and d.cls is Pos:
        return st.just(Pos(1, 0, filename="fuzz.py"))
    if d.kind == Kind.SUM and d.name in ("TensorRef", "Access"):
        members = [a for a in d.args if min_depth(a) <= depth]
        options = [_strategy(a, depth) for a in members]
        plain = [_strategy(a, depth) for a in members if a.name in PLAIN_ACCESSES]
        return st.one_of(plain) | st.one_of(plain) | st.one_of(options)
    return None


def _strategy(d: TypeDesc, depth: int) -> st.SearchStrategy[Any]:
    return strategy(d, depth, prims=_PRIMS, override=_steer, max_list=3)


PLAIN_ACCESSES = ("TensorName", "AccessBasic", "AccessPattern", "BirAccessPattern", "Access")


_TENSORS = st.sampled_from(POOL) | st.builds(
    TensorName, *(_strategy(describe(f.type), 2) for f in fields_of(TensorName)))
IMPLEMENTED = sorted(IMPLS, key=lambda cls: cls.__name__)
operators = st.one_of([_strategy(describe(cls), 5) for cls in IMPLEMENTED])
statements = st.builds(Stmt, operators, st.sampled_from(("inst.1", "inst.2")),
                       st.just(Pos(3, 4, filename="fuzz.py")))
kernels = st.lists(statements, min_size=1, max_size=4).map(
    lambda body: LncKernel("fuzz", (), POOL[:2], ((Block("main", False, tuple(body)),),), (), (), ()))
