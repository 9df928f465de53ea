"""Regressions found by tests/fuzz: huge tensors and accesses, endless branches, device prints
of big views and strided float8_e5m2 reads fail fast with a clear error (or just work)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from klr.core import BrCmpOp, CmpBranch, DevicePrint, PrintOutputBuffer
from klr.dtypes import Dtype
from klr.errors import LimitError
from klr.interp import random_inputs, run
from tests.interp.builder import FILE, ap, block, dma, full, hbm, kernel, sbuf


def test_a_huge_tensor_is_a_limit_error_at_its_first_use_before_the_run() -> None:
    x, out = hbm("x", (128, 4)), hbm("out", (10**6, 10**6))
    with pytest.raises(LimitError) as info:
        run(kernel([x], [out], [dma(ap(out, 0, (10**6, 128), (1, 4)), x)]),
            {"x": np.zeros((128, 4), np.float32)})
    assert info.value.message == ("tensor 'out' needs 4000000000000 bytes, more than the limit of "
                                  "1073741824 bytes per tensor (--limit max-tensor-bytes=N raises it)")
    assert info.value.pos is not None and (info.value.pos.filename, info.value.pos.line) == (FILE, 10)


def test_random_inputs_refuse_a_huge_tensor_before_allocating() -> None:
    x = hbm("x", (10**6, 10**6))
    with pytest.raises(LimitError) as info:
        random_inputs(kernel([x], [], []), 0)
    assert info.value.message == ("tensor 'x' needs 4000000000000 bytes, more than the limit of "
                                  "1073741824 bytes per tensor (--limit max-tensor-bytes=N raises it)")


def test_a_huge_access_to_a_small_tensor_is_a_limit_error() -> None:
    a, b = sbuf("a", (4, 6)), sbuf("b", (4, 6))
    huge = ap(a, 0, (0, 2**14), (0, 2**14))   # step 0: in bounds, but 2**28 elements
    with pytest.raises(LimitError) as info:
        run(kernel([], [b], [dma(full(b), huge)]), {})
    assert info.value.message == ("an access to 'a' has 268435456 elements, more than the "
                                  "interpreter's limit of 67108864")
    assert info.value.pos is not None and info.value.pos.line == 10


def test_an_endless_branch_stops_within_the_default_budget() -> None:
    blocks = [block("main", [CmpBranch("", "", 0, BrCmpOp.always, "main", "")])]
    with pytest.raises(LimitError) as info:
        run(kernel([], [], [], blocks=blocks), {})
    assert info.value.message == ("the kernel ran more than 1000001 instructions (an endless loop?); "
                                  "--limit max-extra-instructions=N raises it")


def test_a_big_device_print_is_summarised() -> None:
    a = hbm("a", (128, 512))
    result = run(kernel([a], [], [DevicePrint(full(a), "a = ", PrintOutputBuffer.stdout)]),
                 {"a": np.zeros((128, 512), np.float32)})
    assert "..." in result.prints[0].text and len(result.prints[0].text) < 10_000


def test_a_strided_float8_e5m2_view_reads() -> None:
    x, out = hbm("x", (4, 6), Dtype.float8e5), hbm("out", (4, 3), Dtype.float8e5)
    data = np.arange(24, dtype=np.float32).reshape(4, 6).astype(ml_dtypes.float8_e5m2)
    result = run(kernel([x], [out], [dma(full(out), ap(x, 0, (6, 4), (2, 3)))]), {"x": data})
    np.testing.assert_array_equal(result.outputs["out"], data[:, ::2])


def test_a_slice_with_step_zero_is_an_eval_error() -> None:
    from klr.core import AccessBasic, Slice
    from klr.errors import EvalError

    a, b = sbuf("a", (4, 6)), sbuf("b", (4, 6))
    with pytest.raises(EvalError) as info:
        run(kernel([], [b], [dma(full(b), AccessBasic(a, (Slice(0, 4, 1), Slice(0, 6, 0))))]), {})
    assert info.value.message == "basic access to 'a' has a slice with step 0 in ncDmaCopy inst.1"
    assert info.value.pos is not None and info.value.pos.line == 10
