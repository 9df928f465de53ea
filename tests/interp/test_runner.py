"""Running kernels: inputs, never-written memory, control flow, cores, limits, constants."""

import ml_dtypes
import numpy as np
import pytest

from klr.core import (
    AluOp,
    APPair,
    BirAccessPattern,
    Block,
    BrCmpOp,
    CmpBranch,
    CoreBarrier,
    DevicePrint,
    Engine,
    LncKernel,
    PrintOutputBuffer,
    RegisterAluOp,
    RegisterMove,
    ScalarReg,
    SharedConstantFile,
    TensorLoad,
    TensorStore,
    TensorTensor,
)
from klr.diagnostics import render_warning
from klr.dtypes import Dtype
from klr.errors import EvalError, LimitError
from klr.interp import random_inputs, run
from tests.interp.builder import FILE, ap, block, dma, full, hbm, kernel, sbuf, stmts

U = Engine.unassigned


def add(dst, a, b):
    return TensorTensor(dst, a, b, AluOp.add, None, U)


def doubling_kernel(rows=4, cols=8):
    a, out, t = hbm("a", (rows, cols)), hbm("out", (rows, cols)), sbuf("t", (rows, cols))
    return kernel([a], [out], [dma(t, a), add(full(t), full(t), full(t)), dma(out, t)])


# --- inputs and outputs ------------------------------------------------------------------------


def test_outputs_have_the_full_shape_and_dtype():
    a, out = hbm("a", (4, 2, 3), Dtype.bfloat16), hbm("out", (4, 2, 3), Dtype.bfloat16)
    x = np.arange(24, dtype=np.float32).reshape(4, 2, 3).astype(ml_dtypes.bfloat16)
    r = run(kernel([a], [out], [dma(out, a)]), {"a": x})
    assert r.outputs["out"].shape == (4, 2, 3)
    assert r.outputs["out"].dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(r.outputs["out"], x)


def test_input_shape_mismatch():
    with pytest.raises(EvalError) as info:
        run(doubling_kernel(128, 512), {"a": np.zeros((128, 256), np.float32)})
    assert str(info.value) == "input 'a' has shape (128, 256) but the kernel expects (128, 512)"


def test_missing_and_unexpected_inputs():
    with pytest.raises(EvalError, match=r"^missing input 'a' \(shape \(4, 8\), float32\)$"):
        run(doubling_kernel(), {})
    with pytest.raises(EvalError, match=r"^unexpected input 'b'; the kernel's inputs are 'a'$"):
        run(doubling_kernel(), {"a": np.zeros((4, 8), np.float32), "b": np.zeros(1)})


def test_inputs_convert_when_values_survive():
    x = np.arange(32, dtype=np.float64).reshape(4, 8)
    got = run(doubling_kernel(), {"a": x}).outputs["out"]
    np.testing.assert_array_equal(got, 2 * x)
    ints = np.arange(32, dtype=np.int64).reshape(4, 8)
    a, out = hbm("a", (4, 8), Dtype.int8), hbm("out", (4, 8), Dtype.int8)
    got = run(kernel([a], [out], [dma(out, a)]), {"a": ints}).outputs["out"]
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, ints)


def test_inputs_that_would_change_are_rejected():
    a, out = hbm("a", (4, 8), Dtype.int32), hbm("out", (4, 8), Dtype.int32)
    k = kernel([a], [out], [dma(out, a)])
    with pytest.raises(EvalError) as info:
        run(k, {"a": np.zeros((4, 8), np.float32)})
    assert info.value.message == ("input 'a' has dtype float32 but the kernel expects int32, and "
                                  "converting would change its values")
    a8, out8 = hbm("a", (1, 2), Dtype.int8), hbm("out", (1, 2), Dtype.int8)
    with pytest.raises(EvalError, match="has dtype int64 but the kernel expects int8"):
        run(kernel([a8], [out8], [dma(out8, a8)]), {"a": np.array([[1, 300]])})


def test_random_inputs_are_deterministic_and_typed():
    a, b = hbm("a", (4, 8), Dtype.bfloat16), hbm("b", (4, 2), Dtype.uint16)
    k = LncKernel("k", (a, b), (), (), (), (), ())
    first, again = random_inputs(k, 5), random_inputs(k, 5)
    assert first["a"].dtype == ml_dtypes.bfloat16 and first["b"].dtype == np.uint16
    assert first["a"].shape == (4, 8) and first["b"].shape == (4, 2)
    np.testing.assert_array_equal(first["a"], again["a"])
    assert not np.array_equal(first["a"], random_inputs(k, 6)["a"])


# --- never-written memory ----------------------------------------------------------------------


def partial_kernel():
    """Loads half of t, then adds all of t: the other half was never written."""
    a, out, t = hbm("a", (4, 8)), hbm("out", (4, 8)), sbuf("t", (4, 8))
    half = ap(t, 0, (8, 2), (1, 8))
    return kernel([a], [out], [dma(half, ap(a, 0, (8, 2), (1, 8))),
                               add(full(t), full(t), full(t)), dma(out, t)])


def test_reading_never_written_memory_into_an_output_warns():
    r = run(partial_kernel(), {"a": np.ones((4, 8), np.float32)})
    assert len(r.warnings) == 1
    w = r.warnings[0]
    assert w.message == ("output 'out' has 16 elements computed from never-written memory "
                         "(first read by tensorTensor inst.2 at kern.py:11:5)")
    assert (w.pos.filename, w.pos.line, w.pos.column) == (FILE, 11, 4)
    assert render_warning(w).startswith("kern.py:11:5: warning: output 'out' has 16 elements")
    np.testing.assert_array_equal(r.outputs["out"][:2], 2 * np.ones((2, 8)))


def test_strict_mode_makes_it_an_error():
    with pytest.raises(EvalError) as info:
        run(partial_kernel(), {"a": np.ones((4, 8), np.float32)}, strict=True)
    assert info.value.message.startswith("output 'out' has 16 elements computed from never-written")
    assert info.value.pos.line == 11


def test_the_first_reader_is_reported_through_a_chain_of_operators():
    a, out, t, u = hbm("a", (4, 8)), hbm("out", (4, 8)), sbuf("t", (4, 8)), sbuf("u", (4, 8))
    k = kernel([a], [out], [dma(ap(t, 0, (8, 2), (1, 8)), ap(a, 0, (8, 2), (1, 8))),
                            add(full(u), full(t), full(a)),    # inst.2 reads the unwritten half
                            add(full(u), full(u), full(u)), dma(out, u)])
    r = run(k, {"a": np.ones((4, 8), np.float32)})
    assert [w.message for w in r.warnings] == [
        "output 'out' has 16 elements computed from never-written memory (first read by tensorTensor "
        "inst.2 at kern.py:11:5)"]


def test_output_elements_never_written_at_all_warn():
    a, out = hbm("a", (4, 8)), hbm("out", (4, 8))
    r = run(kernel([a], [out], [dma(ap(out, 0, (8, 3), (1, 8)), ap(a, 0, (8, 3), (1, 8)))]),
            {"a": np.ones((4, 8), np.float32)})
    assert [(w.message, w.pos) for w in r.warnings] == [
        ("output 'out' has 8 elements that were never written", None)]


def test_a_masked_tail_tile_that_reads_only_written_memory_is_clean():
    rows, tile = 6, 4
    a, out, t = hbm("a", (rows, 8)), hbm("out", (rows, 8)), sbuf("t", (tile, 8))
    ops = []
    for start in range(0, rows, tile):
        n = min(tile, rows - start)
        part = ap(t, 0, (8, n), (1, 8))
        ops += [dma(part, ap(a, start * 8, (8, n), (1, 8))), add(part, part, part),
                dma(ap(out, start * 8, (8, n), (1, 8)), part)]
    x = np.arange(48, dtype=np.float32).reshape(rows, 8)
    r = run(kernel([a], [out], ops), {"a": x}, strict=True)
    assert r.warnings == []
    np.testing.assert_array_equal(r.outputs["out"], 2 * x)


# --- control flow and registers ----------------------------------------------------------------


def test_a_register_loop_with_branches_and_dynamic_offsets():
    a, out = hbm("a", (4, 8)), hbm("out", (4, 8))
    row_in = BirAccessPattern(a, 0, (APPair(8, 1, 0), APPair(1, 8, 0)), ScalarReg("off"), None, 0)
    row_out = BirAccessPattern(out, 0, (APPair(8, 1, 0), APPair(1, 8, 0)), ScalarReg("off"), None, 0)
    blocks = [
        block("main", [RegisterMove("i", 0), RegisterMove("off", 0)]),
        block("loop", [add(row_out, row_in, row_in),
                       RegisterAluOp("i", "i", 1, AluOp.add),
                       RegisterAluOp("off", "off", 1, AluOp.add),
                       CmpBranch("i", "", 4, BrCmpOp.lt_imm, "loop", "done")], 20),
        block("done", [], 30),
    ]
    x = np.arange(32, dtype=np.float32).reshape(4, 8)
    r = run(kernel([a], [out], [], blocks=blocks), {"a": x})
    np.testing.assert_array_equal(r.outputs["out"], 2 * x)
    assert r.warnings == []
    assert r.stats.branches == 4
    assert r.stats.by_operator["tensorTensor"] == 4


def test_registers_load_from_and_store_to_tensors():
    a, out = hbm("a", (1, 1), Dtype.int32), hbm("out", (1, 1), Dtype.int32)
    ops = [TensorLoad("r", full(a)), RegisterAluOp("r", "r", 3, AluOp.mult), TensorStore(full(out), "r")]
    r = run(kernel([a], [out], ops), {"a": np.array([[7]], np.int32)})
    np.testing.assert_array_equal(r.outputs["out"], [[21]])


def test_branch_to_an_unknown_block_is_an_error():
    ops = [CmpBranch("", "", 0, BrCmpOp.always, "nowhere", "")]
    with pytest.raises(EvalError) as info:
        run(kernel([], [], ops), {})
    assert info.value.message == "branch to unknown block 'nowhere' in cmpBranch inst.1"


def test_reading_an_unset_register_is_an_error():
    ops = [RegisterAluOp("x", "y", 1, AluOp.add)]
    with pytest.raises(EvalError) as info:
        run(kernel([], [], ops), {})
    assert str(info.value) == ("kern.py:10:5: register 'y' is read before it is written in "
                               "registerAluOp inst.1")


def test_an_endless_loop_hits_the_instruction_limit():
    blocks = [block("main", [CmpBranch("", "", 0, BrCmpOp.always, "main", "")])]
    with pytest.raises(LimitError, match="more than 100 instructions"):
        run(kernel([], [], [], blocks=blocks), {}, max_instructions=100)


# --- cores, constants, prints ------------------------------------------------------------------


def test_a_core_barrier_lets_another_core_produce_data_first():
    a, out, shared = hbm("a", (2, 4)), hbm("out", (2, 4)), hbm("shared", (2, 4))
    barrier = CoreBarrier(full(shared), (0, 1), U)
    reader = (Block("main", False, stmts([barrier, dma(out, shared)])),)
    writer = (Block("main", False, stmts([add(full(shared), full(a), full(a)), barrier])),)
    k = LncKernel("k", (a,), (out,), (reader, writer), (), (shared,), ())
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    r = run(k, {"a": x}, strict=True)
    np.testing.assert_array_equal(r.outputs["out"], 2 * x)


def test_shared_constants_are_initialised_from_the_given_arrays():
    c, out = hbm("c", (2, 3), Dtype.int32), hbm("out", (2, 3), Dtype.int32)
    k = LncKernel("k", (), (out,), ((block("main", [dma(out, c)]),),),
                  (SharedConstantFile("c", "shared_constants/c.npy"),), (c,), ())
    values = np.arange(6, dtype=np.int32).reshape(2, 3)
    np.testing.assert_array_equal(run(k, {}, constants={"c": values}).outputs["out"], values)
    with pytest.raises(EvalError, match=r"^shared constant 'c' \(shared_constants/c.npy\) was not provided$"):
        run(k, {})


def test_device_print_records_the_tensor():
    a = hbm("a", (2, 2))
    k = kernel([a], [], [DevicePrint(full(a), "a = ", PrintOutputBuffer.stderr)])
    r = run(k, {"a": np.array([[1, 2], [3, 4]], np.float32)})
    assert [(p.buffer, p.text) for p in r.prints] == [("stderr", "a = [[1. 2.]\n [3. 4.]]")]
