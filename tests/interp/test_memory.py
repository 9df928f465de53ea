"""Accesses as views of memory: every Access form, aliasing, bounds, dynamic offsets."""

import numpy as np
import pytest

from klr.core import (
    AccessBasic,
    AccessPattern,
    Address,
    APPair,
    BirAccessPattern,
    Coord,
    Engine,
    Memory,
    NcCopy,
    RegisterMove,
    ScalarReg,
    Shape,
    Slice,
    TensorName,
)
from klr.dtypes import Dtype
from klr.errors import EvalError
from tests.interp.builder import FILE, ap, arg, dma, full, hbm, run_ops

X = np.arange(48, dtype=np.float32).reshape(6, 8)


def copy_out(src, dims):
    o = hbm("o", dims)
    r = run_ops({"x": X}, [o], [dma(o, src)])
    assert r.warnings == []
    return r.outputs["o"]


def test_a_tensor_name_is_the_whole_tensor():
    np.testing.assert_array_equal(copy_out(arg("x", X), (6, 8)), X)


def test_basic_access_with_coordinates_and_slices():
    x = arg("x", X)
    access = AccessBasic(x, (Slice(1, 5, 2), Slice(7, 1, -3)))
    np.testing.assert_array_equal(copy_out(access, (2, 2)), X[1:5:2, 7:1:-3])
    access = AccessBasic(x, (Coord(4), Slice(2, 6, 1)))
    np.testing.assert_array_equal(copy_out(access, (1, 4)), X[4:5, 2:6])


def test_access_pattern_offsets_count_in_steps():
    x = arg("x", X)
    access = AccessPattern(x, 3, (APPair(8, 3, 2), APPair(2, 4, 0)))
    np.testing.assert_array_equal(copy_out(access, (3, 4)), X[2:5, 0:8:2])


def test_bir_pattern_with_negative_steps_reads_backwards():
    access = ap(arg("x", X), 47, (-8, 6), (-1, 8))
    np.testing.assert_array_equal(copy_out(access, (6, 8)), X[::-1, ::-1])


def test_bir_pattern_with_zero_step_broadcasts():
    access = ap(arg("x", X), 3, (8, 6), (0, 5))
    np.testing.assert_array_equal(copy_out(access, (6, 5)), np.repeat(X[:, 3:4], 5, axis=1))


def test_out_of_bounds_is_an_error_naming_tensor_index_operator_and_position():
    x = arg("x", X)
    o = hbm("o", (6, 8))
    with pytest.raises(EvalError) as info:
        run_ops({"x": X}, [o], [dma(o, x), NcCopy(full(o), ap(x, 8, (8, 6), (1, 8)), None,
                                                  Engine.unassigned)])
    err = info.value
    assert err.message == "out-of-bounds access to 'x' (flat index 55, size 48) in ncCopy inst.2"
    assert (err.pos.filename, err.pos.line) == (FILE, 11)
    assert str(err) == "kern.py:11:5: out-of-bounds access to 'x' (flat index 55, size 48) in ncCopy inst.2"


def test_negative_flat_index_is_out_of_bounds():
    with pytest.raises(EvalError, match=r"'x' \(flat index -1, size 48\)"):
        copy_out(ap(arg("x", X), 0, (8, 6), (-1, 2)), (6, 2))


def test_tensors_on_one_address_alias_like_reshape():
    t = hbm("t", (6, 8))
    flat = TensorName("t_flat", Dtype.float32, Shape(48, ()), t.address, 1, False)
    o = hbm("o", (48,))
    r = run_ops({"x": X}, [o], [dma(t, arg("x", X)), dma(o, flat)])
    np.testing.assert_array_equal(r.outputs["o"], X.reshape(-1))


def test_dtype_override_reinterprets_the_bytes():
    x = arg("x", X)
    as_int = BirAccessPattern(x, 0, (APPair(8, 6, 0), APPair(1, 8, 0)), None, None, 0, Dtype.int32)
    o = hbm("o", (6, 8), Dtype.int32)
    r = run_ops({"x": X}, [o], [dma(o, as_int)])
    np.testing.assert_array_equal(r.outputs["o"], X.view(np.int32))


def test_scalar_offset_register_counts_indices_of_the_indirect_dimension():
    # NKI (nki-aps): the access starts at offset + scalar_offset * prod(shape[indirect_dim+1:])
    x = arg("x", X)
    o = hbm("o", (1, 8))
    shifted = BirAccessPattern(x, 0, (APPair(8, 1, 0), APPair(1, 8, 0)), ScalarReg("r"), None, 0)
    r = run_ops({"x": X}, [o], [RegisterMove("r", 3), dma(o, shifted)])
    np.testing.assert_array_equal(r.outputs["o"], X[3:4])
    along_columns = BirAccessPattern(x, 0, (APPair(8, 1, 0), APPair(1, 4, 0)), ScalarReg("r"), None, 1)
    o4 = hbm("o", (1, 4))
    r = run_ops({"x": X}, [o4], [RegisterMove("r", 3), dma(o4, along_columns)])
    np.testing.assert_array_equal(r.outputs["o"], X[0:1, 3:7])


def test_vector_offset_gathers_rows_by_index():
    index = np.array([[5], [0], [3]], np.int32)
    x, i = arg("x", X), arg("i", index)
    rows = BirAccessPattern(x, 0, (APPair(8, 3, 0), APPair(1, 8, 0)), None, full(i), 0)
    o = hbm("o", (3, 8))
    r = run_ops({"x": X, "i": index}, [o], [dma(o, rows)])
    np.testing.assert_array_equal(r.outputs["o"], X[[5, 0, 3]])


def test_per_core_memory_is_private_and_hbm_is_shared():
    from klr.core import Block, LncKernel
    from klr.interp import run
    from tests.interp.builder import sbuf, stmts

    a, out = hbm("a", (2, 4)), hbm("out", (4, 4))
    t = sbuf("t", (2, 4))
    body0 = (Block("main", False, stmts([dma(t, a), dma(ap(out, 0, (4, 2), (1, 4)), t)])),)
    body1 = (Block("main", False, stmts([dma(ap(out, 8, (4, 2), (1, 4)), t)])),)
    kernel = LncKernel("k", (a,), (out,), (body0, body1), (), (), ())
    r = run(kernel, {"a": X[:2, :4].copy()})
    np.testing.assert_array_equal(r.outputs["out"][:2], X[:2, :4])
    assert [w.message for w in r.warnings] == ["output 'out' has 8 elements computed from never-written "
                                               "memory (first read by ncDmaCopy inst.1 at kern.py:10:5)"]


def test_sbuf_tensor_smaller_than_its_address():
    addr = Address("buf", Memory.sbuf, 6, 64)
    t = TensorName("t", Dtype.float32, Shape(6, (8,)), addr, 8, False)
    o = hbm("o", (6, 8))
    r = run_ops({"x": X}, [o], [dma(t, arg("x", X)), dma(o, t)])
    np.testing.assert_array_equal(r.outputs["o"], X)
