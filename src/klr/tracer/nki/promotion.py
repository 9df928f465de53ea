"""The dtype of a computed result: the one place the NKI layer decides it from its operands',
by ``klr.core.numerics`` (NKI's promotion table; Python scalars as int32/float32/uint8).

A combination NKI gives no meaning (a bitwise operator on floats, arithmetic on packed types)
is a trace error at the call, with numerics' message (it names the operator).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.core import AluOp, numerics
from klr.dtypes import Dtype

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


def promote(ctx: Ctx, a: Dtype, b: Dtype) -> Dtype:
    """The dtype of an arithmetic result on tiles of dtypes ``a`` and ``b``."""
    return result_dtype(ctx, AluOp.add, a, b)


def result_dtype(ctx: Ctx, op: AluOp, a: Dtype, b: Dtype | None) -> Dtype:
    """The default dtype of ``op`` on tiles of dtypes ``a`` and ``b`` (None: unary)."""
    try:
        return numerics.result_dtype(op, a, b)
    except numerics.NumericsError as e:
        raise ctx.error(str(e)) from None


def scalar_result_dtype(ctx: Ctx, op: AluOp, a: Dtype, value: float | int | bool) -> Dtype:
    """The default dtype of ``op`` on a tile of dtype ``a`` and the Python number ``value``."""
    try:
        return numerics.scalar_result_dtype(op, a, value)
    except numerics.NumericsError as e:
        raise ctx.error(str(e)) from None
