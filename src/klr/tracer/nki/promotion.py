"""The dtype of a computed result: the one place the NKI layer decides it from its operands'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.dtypes import Dtype

if TYPE_CHECKING:
    pass


_FLOAT_RANK = {Dtype.float8e3: 0, Dtype.float8e4: 0, Dtype.float8e5: 0, Dtype.float8_e4m3: 0,
               Dtype.float8_e4m3fn: 0, Dtype.bfloat16: 1, Dtype.float16: 1, Dtype.float32: 2,
               Dtype.float32r: 2}


def promote(a: Dtype, b: Dtype) -> Dtype:
    """The dtype of a binary result: the wider float, float over int, the wider int."""
    if a == b:
        return a
    if a.is_float and b.is_float:
        ra, rb = _FLOAT_RANK.get(a, 2), _FLOAT_RANK.get(b, 2)
        if ra == rb:
            return Dtype.float32
        return a if ra > rb else b
    if a.is_float or b.is_float:
        return a if a.is_float else b
    if a.size != b.size:
        return a if a.size > b.size else b
    return a if a.name.startswith("int") else b


def scalar_dtype(t: Dtype, s: float | int | bool) -> Dtype:
    return Dtype.float32 if isinstance(s, float) and t.is_int else t
