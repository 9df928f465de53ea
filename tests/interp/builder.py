"""A tiny builder for hand-written Core kernels in interpreter tests."""

from __future__ import annotations

from collections.abc import Iterable

from klr.core import (
    APPair,
    BirAccessPattern,
    Block,
    DgeComputeOp,
    DmaError,
    Engine,
    ImmFloat,
    ImmInt,
    LncKernel,
    Memory,
    NcDmaCopy,
    Stmt,
    TensorName,
    full_access,
)
from klr.dtypes import Dtype
from klr.pos import Pos

FILE = "kern.py"


def hbm(name: str, dims: tuple[int, ...], dtype: Dtype = Dtype.float32) -> TensorName:
    return TensorName.make(name, dtype, dims, Memory.hbm)


def sbuf(name: str, dims: tuple[int, ...], dtype: Dtype = Dtype.float32) -> TensorName:
    return TensorName.make(name, dtype, dims, Memory.sbuf)


def psum(name: str, dims: tuple[int, ...], dtype: Dtype = Dtype.float32) -> TensorName:
    return TensorName.make(name, dtype, dims, Memory.psum)


def full(t: TensorName) -> BirAccessPattern:
    return full_access(t)


def ap(t: TensorName, offset: int, *pairs: tuple[int, int]) -> BirAccessPattern:
    """An explicit access pattern: offset and (step, num) pairs, the first pair the partitions."""
    return BirAccessPattern(t, offset, tuple(APPair(step, num, 0) for step, num in pairs))


def fimm(x: float) -> ImmFloat:
    return ImmFloat(x)


def iimm(x: int) -> ImmInt:
    return ImmInt(x)


def dma(dst: object, src: object, add: bool = False) -> NcDmaCopy:
    return NcDmaCopy(dst if not isinstance(dst, TensorName) else full(dst),
                     src if not isinstance(src, TensorName) else full(src),
                     DgeComputeOp.add if add else DgeComputeOp.none, DmaError(), 0, False, None,
                     Engine.unassigned)


def pos(line: int, column: int = 4) -> Pos:
    return Pos(line, column, None, None, FILE)


def stmts(ops: Iterable[object], first_line: int = 10) -> tuple[Stmt, ...]:
    return tuple(Stmt(op, f"inst.{i + 1}", pos(first_line + i)) for i, op in enumerate(ops))


def kernel(inputs: Iterable[TensorName], outputs: Iterable[TensorName], ops: Iterable[object],
           *, blocks: Iterable[Block] | None = None) -> LncKernel:
    body = tuple(blocks) if blocks is not None else (Block("main", False, stmts(ops)),)
    return LncKernel("k", tuple(inputs), tuple(outputs), (body,), (), (), ())


def block(label: str, ops: Iterable[object], first_line: int = 10) -> Block:
    return Block(label, False, stmts(ops, first_line))


def run_ops(ins: dict[str, object], outs: Iterable[TensorName], ops: Iterable[object], **kw: object):
    """Run ops over HBM inputs given as {name: array} (their TensorNames built from the arrays,
    retrievable with ``arg``), returning the EvalResult."""
    import numpy as np

    from klr.dtypes import from_numpy
    from klr.interp import run

    tensors = []
    for name, array in ins.items():
        a = np.asarray(array)
        dtype = from_numpy(a.dtype)
        assert dtype is not None
        tensors.append(hbm(name, a.shape, dtype))
    return run(kernel(tensors, outs, ops), ins, **kw)  # type: ignore[arg-type]


def arg(name: str, array: object) -> TensorName:
    """The HBM TensorName ``run_ops`` makes for an input array."""
    import numpy as np

    from klr.dtypes import from_numpy

    a = np.asarray(array)
    dtype = from_numpy(a.dtype)
    assert dtype is not None
    return hbm(name, a.shape, dtype)
