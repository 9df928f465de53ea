"""Element types: Core ``Dtype`` (tag 111), its NKI spellings and its numpy types.

| Core Dtype        | NKI names                          | numpy / ml_dtypes          | bytes |
|-------------------|------------------------------------|----------------------------|-------|
| bfloat16          | bfloat16                           | ml_dtypes.bfloat16         | 2     |
| float8e3          | float8e3                           | ml_dtypes.float8_e3m4      | 1     |
| float8e4          | float8e4, float8_e4m3              | ml_dtypes.float8_e4m3      | 1     |
| float8e5          | float8e5, float8_e5m2              | ml_dtypes.float8_e5m2      | 1     |
| float16           | float16                            | numpy.float16              | 2     |
| float32           | float32                            | numpy.float32              | 4     |
| float32r          | tfloat32, float32r                 | numpy.float32 (fp32 bits)  | 4     |
| int8..int64       | int8, int16, int32, int64          | numpy.int8 .. numpy.int64  | 1-8   |
| uint8..uint64     | uint8, uint16, uint32, uint64, bool| numpy.uint8 .. numpy.uint64| 1-8   |
| float8_e4m3       | (file-level cast of float8_e4m3fn) | ml_dtypes.float8_e4m3      | 1     |
| float8_e4m3fn     | float8_e4m3fn                      | ml_dtypes.float8_e4m3fn    | 1     |
| float8_e5m2_x4    | float8_e5m2_x4                     | none: 4 packed fp8 (uint32)| 4     |
| float8_e4m3fn_x4  | float8_e4m3fn_x4                   | none: 4 packed fp8 (uint32)| 4     |
| float4_e2m1fn_x4  | float4_e2m1fn_x4                   | none: 4 packed fp4 (uint16)| 2     |

The packed ``*_x4`` types have no numpy element type; the interpreter stores their raw bits in
the unsigned integer of the same width. NKI's ``float8_e4m3`` maps to Core ``float8e4`` and
``float8_e5m2`` to ``float8e5``, as in the reference (``Trace/FromNKI.lean``).
numpy is imported only when a numpy type is asked for, to keep ``import klr`` light.
"""

from __future__ import annotations

from typing import Any

from klr.schema import NodeEnum


class Dtype(NodeEnum):
    __tag__ = 111
    bfloat16 = 0
    float8e3 = 1
    float8e4 = 2
    float8e5 = 3
    float16 = 4
    float32 = 5
    float32r = 6
    int8 = 7
    int16 = 8
    int64 = 9
    int32 = 10
    uint8 = 11
    uint16 = 12
    uint32 = 13
    uint64 = 14
    float8_e4m3 = 15
    float8_e4m3fn = 16
    float8_e5m2_x4 = 17
    float8_e4m3fn_x4 = 18
    float4_e2m1fn_x4 = 19

    @property
    def size(self) -> int:
        return _SIZE[self]

    @property
    def is_int(self) -> bool:
        return self.name.startswith(("int", "uint"))

    @property
    def is_float(self) -> bool:
        return not self.is_int

    @property
    def is_packed(self) -> bool:
        return self.name.endswith("_x4")

    def numpy(self) -> Any:
        """The numpy dtype that holds one element (raw bits for packed types)."""
        return _numpy_types()[self]


_SIZE = {
    Dtype.bfloat16: 2, Dtype.float8e3: 1, Dtype.float8e4: 1, Dtype.float8e5: 1,
    Dtype.float16: 2, Dtype.float32: 4, Dtype.float32r: 4,
    Dtype.int8: 1, Dtype.int16: 2, Dtype.int64: 8, Dtype.int32: 4,
    Dtype.uint8: 1, Dtype.uint16: 2, Dtype.uint32: 4, Dtype.uint64: 8,
    Dtype.float8_e4m3: 1, Dtype.float8_e4m3fn: 1,
    Dtype.float8_e5m2_x4: 4, Dtype.float8_e4m3fn_x4: 4, Dtype.float4_e2m1fn_x4: 2,
}

#: NKI dtype names (``nl.<name>``) and the Core Dtype each denotes.
NKI_NAMES: dict[str, Dtype] = {
    "bfloat16": Dtype.bfloat16,
    "float8e3": Dtype.float8e3,
    "float8e4": Dtype.float8e4,
    "float8e5": Dtype.float8e5,
    "float8_e4m3": Dtype.float8e4,
    "float8_e5m2": Dtype.float8e5,
    "float16": Dtype.float16,
    "float32": Dtype.float32,
    "tfloat32": Dtype.float32r,
    "float32r": Dtype.float32r,
    "int8": Dtype.int8, "int16": Dtype.int16, "int32": Dtype.int32, "int64": Dtype.int64,
    "uint8": Dtype.uint8, "uint16": Dtype.uint16, "uint32": Dtype.uint32, "uint64": Dtype.uint64,
    "bool": Dtype.uint8, "bool_": Dtype.uint8,
    "float8_e4m3fn": Dtype.float8_e4m3fn,
    "float8_e5m2_x4": Dtype.float8_e5m2_x4,
    "float8_e4m3fn_x4": Dtype.float8_e4m3fn_x4,
    "float4_e2m1fn_x4": Dtype.float4_e2m1fn_x4,
}

#: The name NKI code would use for each Core Dtype (inverse of NKI_NAMES, preferred spelling).
NKI_SPELLING: dict[Dtype, str] = {
    Dtype.float8e4: "float8_e4m3", Dtype.float8e5: "float8_e5m2", Dtype.float32r: "tfloat32",
}


def nki_name(dt: Dtype) -> str:
    return NKI_SPELLING.get(dt, dt.name)


def from_name(name: str) -> Dtype | None:
    """Core Dtype for an NKI or numpy dtype name (``float32``, ``np.float16``, ``bfloat16``...)."""
    key = name.rsplit(".", 1)[-1]
    return NKI_NAMES.get(key) or (Dtype[key] if key in Dtype.__members__ else None)


_NUMPY: dict[Dtype, Any] | None = None


def _numpy_types() -> dict[Dtype, Any]:
    global _NUMPY
    if _NUMPY is None:
        import ml_dtypes
        import numpy as np

        _NUMPY = {
            Dtype.bfloat16: np.dtype(ml_dtypes.bfloat16),
            Dtype.float8e3: np.dtype(ml_dtypes.float8_e3m4),
            Dtype.float8e4: np.dtype(ml_dtypes.float8_e4m3),
            Dtype.float8e5: np.dtype(ml_dtypes.float8_e5m2),
            Dtype.float16: np.dtype(np.float16),
            Dtype.float32: np.dtype(np.float32),
            Dtype.float32r: np.dtype(np.float32),
            Dtype.int8: np.dtype(np.int8), Dtype.int16: np.dtype(np.int16),
            Dtype.int32: np.dtype(np.int32), Dtype.int64: np.dtype(np.int64),
            Dtype.uint8: np.dtype(np.uint8), Dtype.uint16: np.dtype(np.uint16),
            Dtype.uint32: np.dtype(np.uint32), Dtype.uint64: np.dtype(np.uint64),
            Dtype.float8_e4m3: np.dtype(ml_dtypes.float8_e4m3),
            Dtype.float8_e4m3fn: np.dtype(ml_dtypes.float8_e4m3fn),
            Dtype.float8_e5m2_x4: np.dtype(np.uint32),
            Dtype.float8_e4m3fn_x4: np.dtype(np.uint32),
            Dtype.float4_e2m1fn_x4: np.dtype(np.uint16),
        }
    return _NUMPY


def from_numpy(dt: Any) -> Dtype | None:
    """Core Dtype of a numpy dtype (None when it has no Core counterpart)."""
    import numpy as np

    dt = np.dtype(dt)
    if dt == np.bool_:
        return Dtype.uint8
    for core, npdt in _numpy_types().items():
        if npdt == dt and not core.is_packed and core not in (Dtype.float32r, Dtype.float8_e4m3):
            return core
    return None
