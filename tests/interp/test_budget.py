"""The memory budget of a run: computed from the kernel's declarations and checked before any
input is drawn or any storage allocated."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from klr.core import BirAccessPattern, Block, LncKernel, Stmt, TensorName
from klr.dtypes import Dtype
from klr.errors import LimitError
from klr.interp import EvalLimits, random_inputs, run
from klr.interp.budget import check, estimate
from tests.format.schema_strategies import values
from tests.interp.builder import FILE, ap, dma, full, hbm, kernel, sbuf, stmts

U8 = Dtype.uint8


def test_the_estimate_adds_storages_spare_buffers_and_one_draw() -> None:
    a, out, tile = hbm("a", (128, 64)), hbm("out", (128, 64)), sbuf("t", (128, 64))
    k = kernel([a], [out], [dma(full(tile), full(a)), dma(full(out), full(tile))])
    data = 128 * 64 * 4
    # a, out and the tile (its buffer too small to keep for reuse)
    assert estimate(k).total == 3 * data
    big = kernel([a], [out], [dma(full(sbuf("t", (128, 128))), full(a)),
                              dma(full(out), full(sbuf("t", (128, 128))))])
    assert estimate(big).total == 2 * data + 2 * (2 * data)   # a 64 KiB tile and its buffer kept
    bf16 = hbm("a", (128, 64), Dtype.bfloat16)
    assert estimate(kernel([bf16], [], [])).total == data // 2 + data   # drawn as float32 first


def test_tiles_count_while_alive_unless_the_body_may_branch() -> None:
    from klr.core import BrCmpOp, CmpBranch
    from tests.interp.builder import block

    a, out = hbm("a", (128, 64)), hbm("out", (128, 64))
    tiles = [sbuf(f"t{i}", (128, 64)) for i in range(8)]
    ops = [op for t in tiles for op in (dma(full(t), full(a)), dma(full(out), full(t)))]
    data = 128 * 64 * 4
    assert estimate(kernel([a], [out], ops)).total == 3 * data
    branch = CmpBranch("", "", 0, BrCmpOp.always, "end", "")
    blocks = [block("main", [*ops, branch]), block("end", [])]
    assert estimate(kernel([a], [out], [], blocks=blocks)).total == 2 * data + 8 * data


def test_origin_codes_are_paid_from_what_the_estimate_leaves() -> None:
    t, out = sbuf("t", (128, 64)), hbm("out", (128, 64))
    k = kernel([], [out], [dma(full(out), full(t))])   # reads never-written memory
    total = estimate(k).total
    assert run(k, {}, limits=EvalLimits(max_memory=total + 2 * 128 * 64 * 4)).warnings   # t and out
    with pytest.raises(LimitError) as info:
        run(k, {}, limits=EvalLimits(max_memory=total + 1000))
    assert info.value.message == (
        "never-written tracking of tensor 't' needs 32768 more bytes, more than the eval memory "
        "limit leaves (--limit max-memory=N raises it)")


def test_the_granule_is_the_smallest_element_any_access_uses() -> None:
    a, out = hbm("a", (4, 8)), hbm("out", (4, 32), U8)
    bytes_view = BirAccessPattern(a, 0, full(out).pattern, dtypeOverride=U8)
    k = kernel([a], [out], [dma(full(out), bytes_view)])
    spaces = {s.name: s for s in estimate(k).spaces}
    assert spaces["a"].granule == 1 and spaces["a"].nbytes == 128


def test_local_storages_count_once_per_core() -> None:
    a, t = hbm("a", (128, 64)), sbuf("t", (128, 64))
    body = (Block("main", False, stmts([dma(full(t), full(a))])),)
    one = LncKernel("k", (a,), (), (body,), (), (), ())
    two = LncKernel("k", (a,), (), (body, body), (), (), ())
    assert estimate(two).total - estimate(one).total == 128 * 64 * 4


def test_four_huge_random_inputs_are_refused_before_any_is_drawn() -> None:
    inputs = [hbm(n, (32768, 32768), U8) for n in "abcd"]
    out = hbm("out", (128, 4), U8)
    k = kernel(inputs, [out], [dma(full(out), ap(inputs[0], 0, (32768, 128), (1, 4)))])
    # four inputs of 1 GiB, and one drawn as int64 before its conversion to uint8
    assert 4 * 2**30 + 8 * 2**30 == 12884901888
    for attempt in (lambda: random_inputs(k, 0), lambda: run(k, {})):
        with pytest.raises(LimitError) as info:
            attempt()
        assert info.value.message == (
            "running this kernel needs about 12884901888 bytes (its tensors and the interpreter's "
            "bookkeeping), more than the eval memory limit of 4294967296 (--limit max-memory=N raises it)")
        ((note, where),) = info.value.notes
        assert note == "the largest tensor, 'a', needs 1073741824 of them"
        assert where is not None and (where.filename, where.line) == (FILE, 10)


def test_a_huge_input_is_used_as_it_is_or_refused_when_it_would_be_copied() -> None:
    k = kernel([hbm("a", (8193, 8192), U8)], [], [])
    run(k, {"a": np.zeros((8193, 8192), np.uint8)})
    with pytest.raises(LimitError) as info:
        run(k, {"a": np.zeros((8193, 8192), np.uint8, order="F")})
    assert info.value.message == (
        "input 'a' has 67117056 elements, more than the interpreter's limit of 67108864 per access, "
        "and is not a C-contiguous array of its dtype (which would be used without a copy)")


def test_the_per_tensor_limit_can_be_raised_and_lowered() -> None:
    a, out = hbm("a", (128, 64)), hbm("out", (128, 64))
    k = kernel([a], [out], [dma(full(out), full(a))])
    with pytest.raises(LimitError) as info:
        run(k, {"a": np.zeros((128, 64), np.float32)}, limits=EvalLimits(max_tensor_bytes=1000))
    assert info.value.message == ("tensor 'a' needs 32768 bytes, more than the limit of 1000 bytes per "
                                  "tensor (--limit max-tensor-bytes=N raises it)")
    big = hbm("big", (2**15, 2**15), U8)
    check(kernel([], [], [dma(ap(big, 0, (1, 1)), ap(big, 1, (1, 1)))]),
          EvalLimits(max_tensor_bytes=2**31, max_memory=2**40))


def test_a_real_sized_kernel_is_far_below_the_default() -> None:
    a, b, out = hbm("a", (4096, 4096)), hbm("b", (4096, 4096)), hbm("out", (4096, 4096))
    check(kernel([a, b], [out], [dma(full(out), full(a))]))
    assert estimate(kernel([a, b], [out], [])).total < EvalLimits().max_memory // 4


def test_the_extra_instruction_limit() -> None:
    from klr.core import BrCmpOp, CmpBranch
    from tests.interp.builder import block

    blocks = [block("main", [CmpBranch("", "", 0, BrCmpOp.always, "main", "")])]
    with pytest.raises(LimitError) as info:
        run(kernel([], [], [], blocks=blocks), {}, limits=EvalLimits(max_extra_instructions=10))
    assert info.value.message == ("the kernel ran more than 11 instructions (an endless loop?); "
                                  "--limit max-extra-instructions=N raises it")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(values(Stmt, depth=5))
def test_the_pruned_walk_finds_every_tensor_a_full_walk_finds(stmt: Stmt) -> None:
    """The estimate skips fields whose declared types cannot hold a tensor; on any statement the
    schema allows, it still finds every address a walk of all fields finds."""
    found = sorted((s.name, s.nbytes) for s in estimate(kernel([], [], [stmt.op])).spaces)
    want: dict[tuple[str, str], int] = {}
    for t in _all_tensors(stmt.op):
        memory = t.address.memory.name
        key = ("hbm" if memory in ("hbm", "shared_hbm") else memory, t.address.name)
        want[key] = max(want.get(key, 0), t.shape.parDim * t.shape.freeElements * t.dtype.size)
    assert found == sorted((name, nbytes) for (_, name), nbytes in want.items())


def _all_tensors(value: object) -> list[TensorName]:
    if isinstance(value, TensorName):
        return [value]
    if isinstance(value, tuple):
        return [t for item in value for t in _all_tensors(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [t for f in dataclasses.fields(value) for t in _all_tensors(getattr(value, f.name))]
    return []


@pytest.mark.parametrize("seed", [-1, 1.5, True, "7"])
def test_a_bad_random_seed_is_a_usage_error(seed: object) -> None:
    from klr.errors import UsageError

    k = kernel([hbm("a", (2, 2))], [], [])
    for attempt in (lambda: random_inputs(k, seed), lambda: run(k, {}, random_seed=seed)):  # type: ignore[arg-type]
        with pytest.raises(UsageError) as info:
            attempt()
        assert info.value.message == f"a random seed must be a non-negative integer, got {seed!r}"


def test_progress_is_reported_every_so_many_statements() -> None:
    from klr.core import BrCmpOp, CmpBranch
    from klr.interp.runner import PROGRESS_EVERY
    from tests.interp.builder import block

    blocks = [block("main", [CmpBranch("", "", 0, BrCmpOp.always, "main", "")])]
    seen: list[tuple[int, int]] = []
    with pytest.raises(LimitError):
        run(kernel([], [], [], blocks=blocks), {},
            limits=EvalLimits(max_extra_instructions=3 * PROGRESS_EVERY),
            progress=lambda done, total: seen.append((done, total)))
    assert seen == [(PROGRESS_EVERY + 1, 1), (2 * PROGRESS_EVERY + 1, 1), (3 * PROGRESS_EVERY + 1, 1)]
