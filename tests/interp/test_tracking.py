"""Never-written tracking by written ranges, borrowed inputs, handed-over outputs and freed tiles:
what the interpreter does to save time and memory must not change what a kernel computes."""

import numpy as np

from klr.interp.memory import MAX_RANGES, Spare, Storage
from tests.interp.builder import ap, arg, dma, hbm, run_ops, sbuf

X = np.arange(48, dtype=np.float32).reshape(6, 8)


def test_column_blocks_written_in_any_order_make_the_whole_tensor_clean():
    t = sbuf("t", (6, 8))
    o = hbm("o", (6, 8))
    ops = [dma(ap(t, 4, (8, 6), (1, 4)), ap(arg("x", X), 4, (8, 6), (1, 4))),   # right half
           dma(ap(t, 0, (8, 6), (1, 4)), ap(arg("x", X), 0, (8, 6), (1, 4))),   # then left half
           dma(o, t)]
    r = run_ops({"x": X}, [o], ops)
    np.testing.assert_array_equal(r.outputs["o"], X)
    assert r.warnings == []


def test_a_read_across_a_gap_between_written_ranges_reports_the_gap():
    t = sbuf("t", (6, 8))
    o = hbm("o", (6, 8))
    ops = [dma(ap(t, 0, (8, 6), (1, 3)), ap(arg("x", X), 0, (8, 6), (1, 3))),
           dma(ap(t, 4, (8, 6), (1, 4)), ap(arg("x", X), 4, (8, 6), (1, 4))),
           dma(o, t)]
    r = run_ops({"x": X}, [o], ops)
    assert [w.message for w in r.warnings] == [
        "output 'o' has 6 elements computed from never-written memory (first read by ncDmaCopy "
        "inst.3 at kern.py:12:5)"]
    np.testing.assert_array_equal(r.outputs["o"][:, 3], 0)


def test_a_kernel_writing_its_input_leaves_the_callers_array_alone():
    x = X.copy()
    o = hbm("o", (6, 8))
    ops = [dma(arg("x", X), arg("x", X), add=True), dma(o, arg("x", X))]
    r = run_ops({"x": x}, [o], ops)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(r.outputs["o"], 2 * X)


def test_two_outputs_never_share_their_arrays():
    o1, o2 = hbm("o1", (6, 8)), hbm("o2", (6, 8))
    r = run_ops({"x": X}, [o1, o2], [dma(o1, arg("x", X)), dma(o2, arg("x", X))])
    r.outputs["o1"][...] = -1
    np.testing.assert_array_equal(r.outputs["o2"], X)


def test_tiles_freed_after_their_last_statement_have_passed_their_values_on():
    t, u = sbuf("t", (6, 8)), sbuf("u", (6, 8))
    o = hbm("o", (6, 8))
    r = run_ops({"x": X}, [o], [dma(t, arg("x", X)), dma(u, t), dma(o, u)])
    np.testing.assert_array_equal(r.outputs["o"], X)
    assert r.warnings == []


def test_ranges_merge_and_fall_back_to_codes_when_too_many():
    s = Storage("s", 2**20)
    s.reserve(64, 4)
    assert s.add_runs(np.array([0, 32]), 8)
    assert s.add_runs(np.array([8]), 24)
    assert (s.starts, s.ends) == ([0], [40])
    assert s.runs_clean(np.array([0, 16]), 8) and not s.runs_clean(np.array([36]), 8)
    assert not s.add_runs(np.arange(MAX_RANGES + 1) * 2, 1)
    codes = s.materialise()
    assert codes.tolist() == [np.iinfo(np.int32).max] * 10 + [0] * 6


BIG = np.arange(128 * 128, dtype=np.float32).reshape(128, 128) + 1   # 64 KiB: buffers are recycled


def test_a_recycled_tile_buffer_reads_as_never_written_memory():
    t, u = sbuf("t", (128, 128)), sbuf("u", (128, 128))
    o1, o2 = hbm("o1", (128, 128)), hbm("o2", (128, 128))
    ops = [dma(t, arg("x", BIG)), dma(o1, t),                                  # t dies
           dma(ap(u, 0, (128, 128), (1, 64)), ap(arg("x", BIG), 0, (128, 128), (1, 64))),
           dma(o2, u)]                                                        # u: half written
    r = run_ops({"x": BIG}, [o1, o2], ops)
    np.testing.assert_array_equal(r.outputs["o1"], BIG)
    np.testing.assert_array_equal(r.outputs["o2"][:, :64], BIG[:, :64])
    np.testing.assert_array_equal(r.outputs["o2"][:, 64:], 0)
    assert [w.message for w in r.warnings] == [
        "output 'o2' has 8192 elements computed from never-written memory (first read by ncDmaCopy "
        "inst.4 at kern.py:13:5)"]


def test_a_recycled_buffer_is_zeroed_unless_its_first_write_covers_it():
    spare = Spare()
    old = np.full(2**16, 7, np.uint8)
    spare.give(old)
    s = Storage("s", 2**20, spare)
    s.reserve(2**16, 4)
    assert s.data is old and s.stale
    assert not s.typed(np.dtype(np.float32), 2**14).any() and not s.stale
    spare.give(s.data)
    s.data[...] = 7
    w = Storage("w", 2**20, spare)
    w.reserve(2**16, 4)
    assert w.typed(np.dtype(np.float32), 2**14, whole=True).view(np.uint8).min() == 7
    assert spare.take(2**16) is None
    spare.give(np.zeros(2**10, np.uint8))     # too small to keep
    assert spare.take(2**10) is None
