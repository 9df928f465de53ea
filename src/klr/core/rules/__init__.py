"""The static rules of KLR Core: one per operator, checked without running anything.

Every Operator class has exactly one rule (``RULES``). A rule has two levels:

* **shape rules**, which an operator needs to have a meaning at all: operands that agree in
  shape, per-partition scalars that are [P, 1] columns, a matmul's contraction and result, the
  sizes a reduction or a gather implies. The interpreter enforces them before running an
  operator (with the views it resolved), so they are part of Core's semantics.
* **hardware rules**, what a NeuronCore and NKI's documentation accept: which memories each
  operand may be in (engines read and write SBUF and PSUM, DMA reaches HBM and SBUF, GpSimd
  never touches PSUM), which engines run an operator, at most 128 partitions, PSUM bank and
  Tensor Engine limits, allowed and matching dtypes, and operator choices (bitwise operators on
  integers, comparisons where a comparison is needed). ``klr check`` adds them.

A broken rule raises ``RuleError``: ``message`` is one sentence naming the operand ("stationary
has 256 partitions, at most 128"), ``op`` the operator's constructor name, and ``str(err)`` is
"ncMatMul: stationary has 256 partitions, at most 128". Rules never know positions: callers
add them.

API::

    check(op, hardware=True, describe=static_arg)    # raise RuleError for the first broken rule
    check_kernel(kernel, hardware=True) -> list[Diagnostic]   # every statement, in order
    check_tensor(t)                                   # a tensor declaration fits its memory

    # Before an operator exists (a front end checking a call), rules are facts about Args:
    a = Arg("data1", shape=(128, 512), dtype=Dtype.bfloat16, memory=Memory.sbuf)
    same_shape(dst, a, b); per_partition(scale, data); same_count(dst, src)
    m, n = matmul_shape(None, stationary, moving, perf_mode, transpose)   # and its result shape
    matmul_limits(dst, stationary, moving, perf_mode, transpose, tile_position, tile_size)
    in_memory(a, *SBUF); not_both_in_psum(a, b); dtype_in(a, allowed); integers(op, a, b)
    at_most_partitions(a); free_at_most(a, GEMM_MOVING_FMAX, why)

``describe`` maps (field name, field value) to the operand's ``Arg`` (None for an immediate):
``static_arg`` reads it from the IR (and checks static accesses stay inside their tensor); the
interpreter passes the views it resolved, so dynamic offsets count.
"""

from __future__ import annotations

from klr.core.rules import arith, data, matmul, misc  # noqa: F401  (they fill RULES)
from klr.core.rules.base import (
    ANYWHERE,
    BN_STATS_FMAX,
    DMA,
    GEMM_MOVING_FMAX,
    GEMM_STATIONARY_FMAX,
    GPSIMD_PARTITIONS,
    HBM,
    ON_CHIP,
    PMAX,
    PSUM_BANK_BYTES,
    PSUM_PARTITION_BYTES,
    RULES,
    SBUF,
    SBUF_PARTITION_BYTES,
    Arg,
    Check,
    Describe,
    Rule,
    RuleError,
    at_most_partitions,
    check,
    check_tensor,
    dtype_in,
    free_at_most,
    free_size,
    in_memory,
    integers,
    not_both_in_psum,
    operand_fields,
    per_partition,
    same_count,
    same_partitions,
    same_shape,
    static_arg,
)
from klr.core.rules.kernel import Diagnostic, check_kernel
from klr.core.rules.matmul import DOUBLE_ROW, matmul_limits, matmul_shape

__all__ = [
    "ANYWHERE", "BN_STATS_FMAX", "DMA", "GEMM_MOVING_FMAX", "GEMM_STATIONARY_FMAX", "GPSIMD_PARTITIONS",
    "HBM", "ON_CHIP", "PMAX", "PSUM_BANK_BYTES", "PSUM_PARTITION_BYTES", "SBUF", "SBUF_PARTITION_BYTES",
    "RULES", "Arg", "Check", "Describe", "Rule", "RuleError", "at_most_partitions", "check", "check_tensor",
    "dtype_in", "free_at_most", "free_size", "in_memory", "integers", "not_both_in_psum", "operand_fields",
    "per_partition", "same_count", "same_partitions", "same_shape", "static_arg", "Diagnostic",
    "check_kernel", "DOUBLE_ROW", "matmul_limits", "matmul_shape",
]
