"""Rules of the Tensor Engine (PE array) operators: matmul in its plain, double-row, transpose and
MX forms, the legacy stationary/moving pair, and MX quantization.

``matmul_shape`` and ``matmul_limits`` take Args, so a front end can check a matmul (and learn
its result shape) before it has built the operator.
"""

from __future__ import annotations

from klr.core.mathops import LoadStationary, MatMul, MatMulMX, NcMatMul, QuantizeMX
from klr.core.optypes import MatmulPerfMode
from klr.core.rules.base import (
    FP8,
    GEMM_MOVING_FMAX,
    GEMM_STATIONARY_FMAX,
    PACKED,
    PMAX,
    SBUF,
    Arg,
    Check,
    RuleError,
    dtype_in,
    free_at_most,
    in_memory,
    rule,
    same_dtype,
    same_partitions,
)
from klr.core.tensor import Memory
from klr.dtypes import Dtype, nki_name

DOUBLE_ROW = (MatmulPerfMode.DoubleRow, MatmulPerfMode.DoubleRowSwInterleave)
"""Perf modes whose operands are [K, 2, M] and [K, 2, N]: each partition feeds two rows."""

PE_INPUTS = FP8 | {Dtype.bfloat16, Dtype.float16, Dtype.float32r, Dtype.float32}
FP32_INPUTS = frozenset({Dtype.float32, Dtype.float32r})
MATMUL_DST = (Dtype.float32, Dtype.bfloat16)
TILE_SIZES = (32, 64, 128)
PSUM = (Memory.psum,)


def matmul_shape(dst: Arg | None, stationary: Arg, moving: Arg,
                 perf_mode: MatmulPerfMode = MatmulPerfMode.None_,
                 transpose: bool = False) -> tuple[int, int]:
    """The [M, N] result of ``stationary[K, M]ᵀ · moving[K, N]`` (with ``transpose``: the
    [N, K] transpose of moving), checked against ``dst`` when given.

    Double-row operands are read as [K, 2, M] and [K, 2, N], the contraction running over 2K rows.
    """
    (k, m), (k2, n) = stationary.pf, moving.pf
    if perf_mode in DOUBLE_ROW and not transpose:
        if m % 2 or n % 2:
            raise RuleError(f"a double-row matmul needs operands [K, 2, M] and [K, 2, N], but "
                            f"{stationary.name} has {m} and {moving.name} {n} elements per partition")
        k, m, k2, n = 2 * k, m // 2, 2 * k2, n // 2
    if transpose:
        if dst is not None and dst.pf != (n, k2):
            raise RuleError(f"{dst.name} must be the [{n}, {k2}] transpose of {moving.name} [{k2}, {n}] "
                            f"but has shape {dst.text}")
        return n, k2
    if k != k2:
        raise RuleError(f"{stationary.name} has {k} partitions but {moving.name} has {k2}; both are the "
                        f"contraction axis")
    if dst is not None and dst.pf != (m, n):
        raise RuleError(f"{dst.name} must be [{m}, {n}] for {stationary.name} [{k}, {m}] and "
                        f"{moving.name} [{k2}, {n}] but has shape {dst.text}")
    return m, n


def matmul_limits(dst: Arg | None, stationary: Arg, moving: Arg,
                  perf_mode: MatmulPerfMode = MatmulPerfMode.None_, transpose: bool = False,
                  tile_position: tuple[int, ...] = (), tile_size: tuple[int, ...] = ()) -> None:
    """What the PE array accepts: SBUF inputs and a PSUM result, at most 128 contraction rows,
    128 stationary columns and 512 moving columns (128 for a transpose), the input and result
    dtypes it multiplies, and a consistent row/column tiling."""
    in_memory(stationary, *SBUF)
    in_memory(moving, *SBUF)
    in_memory(dst, *PSUM)
    rows, columns = _tiling(tile_position, tile_size, perf_mode)
    if transpose:
        free_at_most(moving, PMAX, " (a PE transpose takes at most [128, 128])")
        if dst is not None:
            same_dtype(moving, dst)
        return
    double = 2 if perf_mode in DOUBLE_ROW else 1
    if stationary.partitions > rows:
        raise RuleError(f"{stationary.name} has {stationary.partitions} partitions, at most {rows}"
                        + ("" if rows == PMAX else " (the tile_size row count)"))
    free_at_most(stationary, columns * double, "" if columns == GEMM_STATIONARY_FMAX
                 else " (the tile_size column count)")
    free_at_most(moving, GEMM_MOVING_FMAX * double, " (one PSUM bank of float32)")
    if perf_mode in DOUBLE_ROW:
        for a in (stationary, moving):
            dtype_in(a, FP8, "an fp8 type in a double-row matmul")
    else:
        dtype_in(stationary, PE_INPUTS)
        dtype_in(moving, PE_INPUTS)
        if (stationary.dtype in FP32_INPUTS) != (moving.dtype in FP32_INPUTS):
            raise RuleError(f"{stationary.name} is {nki_name(stationary.dtype)} and {moving.name} is "
                            f"{nki_name(moving.dtype)}; a float32 operand needs a float32 partner")
    legacy = {Dtype.float8e4, Dtype.float8_e4m3}
    if {stationary.dtype, moving.dtype} & legacy and Dtype.float8_e4m3fn in {stationary.dtype, moving.dtype}:
        raise RuleError("float8_e4m3 and float8_e4m3fn operands cannot meet in one matmul")
    dtype_in(dst, MATMUL_DST)


def _tiling(position: tuple[int, ...], size: tuple[int, ...], perf_mode: MatmulPerfMode) -> tuple[int, int]:
    """The (rows, columns) of the PE tile a matmul uses; the whole 128 x 128 array by default."""
    if not position and not size:
        return PMAX, PMAX
    if len(position) != 2 or len(size) != 2:
        raise RuleError(f"tilePosition {list(position)} and tileSize {list(size)} must both have 2 "
                        f"entries (or both be empty)")
    for start, length, axis in zip(position, size, ("row", "column"), strict=True):
        if length not in TILE_SIZES:
            raise RuleError(f"tileSize {axis} count {length} is not 32, 64 or 128")
        if start % length or start + length > PMAX:
            raise RuleError(f"tilePosition {axis} {start} is not a multiple of {length} inside the "
                            f"128 {axis}s")
    if perf_mode in DOUBLE_ROW and size[1] != PMAX:
        raise RuleError("a double-row matmul cannot use column tiling (tileSize column count < 128)")
    return size[0], size[1]


@rule(NcMatMul)
def nc_matmul(c: Check, op: NcMatMul) -> None:
    """dst[M, N] += stationary[K, M]ᵀ · moving[K, N] (double row: [K, 2, M] and [K, 2, N]); a
    transpose writes moving's [N, K] transpose."""
    dst, stationary, moving = c("dst"), c("stationary"), c("moving")
    matmul_shape(dst, stationary, moving, op.perfMode, op.isTranspose)
    if c.hardware:
        matmul_limits(dst, stationary, moving, op.perfMode, op.isTranspose, op.tilePosition, op.tileSize)


@rule(LoadStationary)
def load_stationary(c: Check, op: LoadStationary) -> None:
    """The stationary matrix comes from SBUF and fills at most the 128 x 128 array."""
    if c.hardware:
        in_memory(c("src"), *SBUF)
        free_at_most(c("src"), GEMM_STATIONARY_FMAX)


@rule(MatMul)
def mat_mul(c: Check, op: MatMul) -> None:
    """The moving matrix streams from SBUF into PSUM (its shape pairs with the loaded stationary)."""
    if c.hardware:
        in_memory(c("moving"), *SBUF)
        in_memory(c("dst"), *PSUM)
        free_at_most(c("moving"), GEMM_MOVING_FMAX, " (one PSUM bank of float32)")


MX_GROUP_ROWS = 8
"""Partitions of one MX scaling group (8 partitions x 4 packed values)."""


def mx_scale_rows(partitions: int) -> int:
    """Rows a scale view needs for data of ``partitions`` partitions: group g's scale is in row
    ``(g // 4) * 32 + g % 4`` (each quadrant keeps its groups' scales in its top 4 rows)."""
    last = partitions // MX_GROUP_ROWS - 1
    return 0 if last < 0 else (last // 4) * 32 + last % 4 + 1


def mx_groups(data: Arg, scale: Arg, columns: int) -> None:
    """Packed data of whole 8-partition groups, and a scale view with a row for each group and
    a column for each packed column."""
    if data.partitions % MX_GROUP_ROWS:
        raise RuleError(f"{data.name} has {data.partitions} partitions, not a multiple of "
                        f"{MX_GROUP_ROWS} (an MX scaling group spans {MX_GROUP_ROWS})")
    rows = mx_scale_rows(data.partitions)
    if scale.partitions < rows or scale.free < columns:
        raise RuleError(f"{scale.name} has shape {scale.text}, but the scales of {data.name} need "
                        f"{rows} rows and {columns} columns")


@rule(MatMulMX)
def mat_mul_mx(c: Check, op: MatMulMX) -> None:
    """dst[M, N] from packed stationary[K, M] and moving[K, N], K a multiple of 8, with a scale
    for every 8-partition group; in hardware SBUF inputs and scales, a PSUM result, whole
    quadrants of partitions and the MX dtypes."""
    dst, stationary, moving = c("dst"), c("stationary"), c("moving")
    same_partitions(stationary, moving)
    m, n = stationary.free, moving.free
    if dst.pf != (m, n):
        raise RuleError(f"dst must be [{m}, {n}] for stationary {stationary.text} and moving {moving.text} "
                        f"but has shape {dst.text}")
    dtype_in(stationary, PACKED)
    dtype_in(moving, PACKED)
    scales = (c("stationaryScale"), c("movingScale"))
    mx_groups(stationary, scales[0], m)
    mx_groups(moving, scales[1], n)
    if not c.hardware:
        return
    for a in (stationary, moving, *scales):
        in_memory(a, *SBUF)
    in_memory(dst, *PSUM)
    for s in scales:
        dtype_in(s, (Dtype.uint8,))
    dtype_in(dst, MATMUL_DST)
    if stationary.partitions % 32:
        raise RuleError(f"stationary has {stationary.partitions} partitions, not a multiple of 32")
    if m % 2:
        raise RuleError(f"stationary has {m} elements per partition, an odd number")
    free_at_most(stationary, GEMM_STATIONARY_FMAX)
    free_at_most(moving, 4096 if dst.dtype is Dtype.float32 else 8192, " (the eight PSUM banks)")
    if op.tilePosition is not None or op.tileSize is not None:
        position, size = op.tilePosition or (), op.tileSize or ()
        _tiling(position, size, MatmulPerfMode.None_)
        if size[1] != PMAX or position[1] != 0:
            raise RuleError(f"an MX matmul tiles rows only: tileSize {list(size)} and tilePosition "
                            f"{list(position)} must use all 128 columns from column 0")


@rule(QuantizeMX)
def quantize_mx(c: Check, op: QuantizeMX) -> None:
    """dst packs src's elements by four into a packed MX type, src is whole 8-partition groups
    and dstScale has room for their scales; in hardware fp16/bf16 in, packed fp8 and uint8
    scales out, all in SBUF, whole quadrants of partitions."""
    dst, src, scale = c("dst"), c("src"), c("dstScale")
    same_partitions(src, dst)
    if src.free % 4 or dst.free != src.free // 4:
        raise RuleError(f"dst must have a quarter of src's {src.free} elements per partition (packed by "
                        f"four) but has {dst.free}")
    dtype_in(dst, PACKED)
    mx_groups(src, scale, dst.free)
    if c.hardware:
        for a in (dst, src, scale):
            in_memory(a, *SBUF)
        dtype_in(src, (Dtype.float16, Dtype.bfloat16))
        dtype_in(dst, (Dtype.float8_e5m2_x4, Dtype.float8_e4m3fn_x4))
        dtype_in(scale, (Dtype.uint8,))
        if src.partitions % 32:
            raise RuleError(f"src has {src.partitions} partitions, not a multiple of 32")
