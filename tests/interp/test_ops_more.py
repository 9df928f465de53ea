"""Interpreter semantics of shuffles from fewer partitions and of sequence bounds."""

from __future__ import annotations

import numpy as np
import pytest

from klr.core import SequenceBounds, Shuffle
from klr.dtypes import Dtype
from klr.errors import EvalError
from tests.interp.builder import arg, full, hbm, iimm, run_ops


def test_shuffle_broadcasts_rows_of_a_smaller_src():
    x = np.arange(8, dtype=np.float32).reshape(1, 8)
    o = hbm("o", (32, 8))
    zeros = tuple(iimm(0) for _ in range(32))
    got = run_ops({"x": x}, [o], [Shuffle(full(o), full(arg("x", x)), zeros, None)])
    assert got.warnings == []
    np.testing.assert_array_equal(got.outputs["o"], np.repeat(x, 32, axis=0))


def test_shuffle_rejects_a_partition_beyond_src():
    x = np.zeros((2, 4), np.float32)
    o = hbm("o", (32, 4))
    with pytest.raises(EvalError) as info:
        run_ops({"x": x}, [o], [Shuffle(full(o), full(arg("x", x)), (iimm(3),), None)])
    assert "shuffleMask[0] = 3 names partition 3 of a 2-partition src" in info.value.message


def test_sequence_bounds_marks_runs_and_padding():
    ids = np.array([[5, 5, 5, 0, 0, 2, 7, 7], [0, 1, 1, 1, 1, 1, 1, 0]], np.int32)
    o = hbm("o", (2, 2, 8), Dtype.int32)
    got = run_ops({"ids": ids}, [o], [SequenceBounds(full(o), full(arg("ids", ids)), Dtype.int32)])
    np.testing.assert_array_equal(got.outputs["o"][0], [[0, 0, 0, 8, 8, 5, 6, 6], [3, 3, 3, -1, -1, 6, 8, 8]])
    np.testing.assert_array_equal(got.outputs["o"][1], [[8, 1, 1, 1, 1, 1, 1, 8], [-1, 7, 7, 7, 7, 7, 7, -1]])


def test_sequence_bounds_needs_two_values_per_id():
    ids = np.ones((1, 4), np.float32)
    o = hbm("o", (1, 4))
    with pytest.raises(EvalError) as info:
        run_ops({"ids": ids}, [o], [SequenceBounds(full(o), full(arg("ids", ids)), None)])
    assert "dst must hold [1, 2, 4] elements (start and end per segment id) but has shape [1, 4]" in \
        info.value.message
