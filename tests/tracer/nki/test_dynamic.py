"""Control flow the device decides: registers (``nisa.register_*``), ``nl.dynamic_range``,
``nl.fori_loop``, ``nl.while_loop``, and ``if``/``while``/``for`` on registers, traced into
Core blocks and evaluated against numpy; one test per error message, at its position."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import klr
from klr.core import BrCmpOp, CmpBranch
from klr.errors import LimitError
from tests.tracer.nki.util import (
    BETA2,
    line_of,
    op_names,
    rand,
    run_kernel,
    stmts,
    trace_error,
    trace_kernel,
    where,
)

# rows of x scaled by 2 into out, for the rows a loop visits; out starts as zeros
ROWS = """
def kernel(x, n):
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    zero = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
    nisa.memset(dst=zero, value=0.0)
    nisa.dma_copy(dst=out, src=zero)
    cnt = nl.ndarray((1, 1), dtype=nl.int32, buffer=nl.sbuf)
    nisa.dma_copy(dst=cnt, src=n)
    stop = nisa.register_alloc(cnt)
    LOOP
    return out


def row(x, out, i):
    t = nl.ndarray((1, x.shape[1]), dtype=x.dtype, buffer=nl.sbuf)
    nisa.dma_copy(dst=t, src=x[i, :])
    r = nl.ndarray((1, x.shape[1]), dtype=x.dtype, buffer=nl.sbuf)
    nisa.tensor_scalar(dst=r, data=t, op0=nl.multiply, operand0=2.0)
    nisa.dma_copy(dst=out[i, :], src=r)
"""


def _rows(tmp_path: Path, loop: str, n: int, rows: int = 6) -> np.ndarray:
    src = ROWS.replace("LOOP", loop.strip().replace("\n", "\n    "))
    x = rand(rows, 16)
    (got,) = run_kernel(tmp_path, src, x, np.array([[n]], np.int32), header=BETA2)
    return got


def _expect(rows: list[int], total: int = 6) -> np.ndarray:
    x = rand(total, 16)
    want = np.zeros_like(x)
    want[rows] = 2 * x[rows]
    return want


@pytest.mark.parametrize("n", [0, 1, 4, 6])
def test_dynamic_range_with_a_register_bound(tmp_path: Path, n: int) -> None:
    got = _rows(tmp_path, "for i in nl.dynamic_range(stop):\n    row(x, out, i)", n)
    np.testing.assert_array_equal(got, _expect(list(range(n))))


def test_dynamic_range_start_stop_step(tmp_path: Path) -> None:
    got = _rows(tmp_path, "for i in nl.dynamic_range(1, stop, 2):\n    row(x, out, i)", 6)
    np.testing.assert_array_equal(got, _expect([1, 3, 5]))


def test_a_register_start_and_an_int_stop(tmp_path: Path) -> None:
    got = _rows(tmp_path, "for i in nl.dynamic_range(stop, 5):\n    row(x, out, i)", 2)
    np.testing.assert_array_equal(got, _expect([2, 3, 4]))


@pytest.mark.parametrize("rng", ["nl.sequential_range", "nl.affine_range", "nl.static_range"])
def test_the_static_ranges_run_on_the_device_when_a_bound_is_a_register(tmp_path: Path, rng: str) -> None:
    got = _rows(tmp_path, f"for i in {rng}(stop):\n    row(x, out, i)", 3)
    np.testing.assert_array_equal(got, _expect([0, 1, 2]))


def test_the_body_is_traced_once_and_its_tiles_allocated_once(tmp_path: Path) -> None:
    src = ROWS.replace("LOOP", "for i in nl.dynamic_range(stop):\n        row(x, out, i)")
    result = trace_kernel(tmp_path, src, rand(6, 16), np.zeros((1, 1), np.int32), header=BETA2)
    blocks = result.kernel.bodies[0]
    assert [b.label for b in blocks] == ["main", "body.1", "next.2", "exit.3"]
    assert [len(b.body) for b in blocks[1:]] == [3, 2, 0]
    names = op_names(result)
    assert names.count("ncDmaCopy") == 4 and names.count("cmpBranch") == 2
    branches = [s.op for s in stmts(result) if isinstance(s.op, CmpBranch)]
    assert all(b.op is BrCmpOp.lt_reg and (b.trueLabel, b.falseLabel) == ("body.1", "exit.3")
               for b in branches)


def test_a_dynamic_loop_computes_what_the_unrolled_loop_does(tmp_path: Path) -> None:
    # tiles of 128 rows through the same body: once unrolled, once run by the device
    src = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        for t in ITER:
            a = nl.ndarray((128, 32), dtype=x.dtype, buffer=nl.sbuf)
            nisa.dma_copy(dst=a, src=x.ap([[32, 128], [1, 32]], scalar_offset=t))
            b = nl.ndarray((128, 32), dtype=x.dtype, buffer=nl.sbuf)
            nisa.activation(dst=b, op=nl.tanh, data=a, scale=2.0)
            nisa.dma_copy(dst=out.ap([[32, 128], [1, 32]], scalar_offset=t), src=b)
        return out
    """
    x = rand(512, 32)
    unrolled = src.replace("ITER", "range(0, 512, 128)").replace(
        "x.ap([[32, 128], [1, 32]], scalar_offset=t)", "x[t:t + 128, :]").replace(
        "out.ap([[32, 128], [1, 32]], scalar_offset=t)", "out[t:t + 128, :]")
    (want,) = run_kernel(tmp_path, unrolled, x, header=BETA2)
    (got,) = run_kernel(tmp_path, src.replace("ITER", "nl.dynamic_range(0, 512, 128)"), x, header=BETA2)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got, np.tanh(2 * x), rtol=1e-6, atol=1e-6)


def test_a_dynamic_slice_of_rows(tmp_path: Path) -> None:
    # nl.ds(i, 2) with i a register: two rows from row i, i stepping by 2
    src = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        n = nisa.register_alloc(x.shape[0])
        for i in nl.dynamic_range(0, n, 2):
            t = nl.ndarray((2, x.shape[1]), dtype=x.dtype, buffer=nl.sbuf)
            nisa.dma_copy(dst=t, src=x[nl.ds(i, 2), :])
            nisa.activation(dst=t, op=nl.exp, data=t)
            nisa.dma_copy(dst=out[nl.ds(i, 2)], src=t)
        return out
    """
    x = rand(6, 8)
    (got,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_allclose(got, np.exp(x), rtol=1e-6)


def test_break_and_continue(tmp_path: Path) -> None:
    loop = """
for i in nl.dynamic_range(stop):
    if i == 1:
        continue
    if i >= 4:
        break
    row(x, out, i)
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 6), _expect([0, 2, 3]))


def test_an_unconditional_break_ends_the_first_iteration(tmp_path: Path) -> None:
    loop = "for i in nl.dynamic_range(stop):\n    row(x, out, i)\n    break"
    np.testing.assert_array_equal(_rows(tmp_path, loop, 5), _expect([0]))


def test_if_else_on_a_register(tmp_path: Path) -> None:
    loop = """
for i in nl.dynamic_range(stop):
    if i < 2:
        row(x, out, i)
    else:
        if i != 4:
            row(x, out, i + 0)
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 6), _expect([0, 1, 2, 3, 5]))


def test_if_on_a_register_itself_tests_non_zero(tmp_path: Path) -> None:
    loop = "for i in nl.dynamic_range(stop):\n    if i:\n        row(x, out, i)"
    np.testing.assert_array_equal(_rows(tmp_path, loop, 3), _expect([1, 2]))


def test_not_of_a_register_and_of_a_comparison(tmp_path: Path) -> None:
    loop = """
for i in nl.dynamic_range(stop):
    if not i:
        row(x, out, i)
    if not (i < 3):
        row(x, out, i)
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 5), _expect([0, 3, 4]))


def test_comparisons_between_registers_and_reflected(tmp_path: Path) -> None:
    loop = """
two = nisa.register_alloc(2)
for i in nl.dynamic_range(stop):
    if two < i:
        row(x, out, i)
    if 1 == i:
        row(x, out, i)
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 5), _expect([1, 3, 4]))


def test_nested_dynamic_loops(tmp_path: Path) -> None:
    # a counter register stepped in the inner loop: rows 0 .. 2n-1
    loop = """
c = nisa.register_alloc(0)
for i in nl.dynamic_range(stop):
    for j in nl.dynamic_range(2):
        row(x, out, c)
        c += 1
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 2), _expect([0, 1, 2, 3]))


def test_a_static_loop_inside_a_dynamic_one_keeps_its_break(tmp_path: Path) -> None:
    loop = """
for i in nl.dynamic_range(stop):
    for j in range(5):
        if j == 1:
            break
        row(x, out, i)
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 2), _expect([0, 1]))


def test_while_on_a_register_counting_down(tmp_path: Path) -> None:
    loop = """
c = nisa.register_alloc(stop)
while c:
    c -= 1
    row(x, out, c)
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 4), _expect([0, 1, 2, 3]))


def test_while_on_a_comparison_with_break(tmp_path: Path) -> None:
    loop = """
c = nisa.register_alloc(0)
while c < stop:
    if c == 3:
        break
    row(x, out, c)
    c += 1
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 5), _expect([0, 1, 2]))


def test_while_on_a_register_loaded_from_a_tile(tmp_path: Path) -> None:
    # the condition lives in SBUF: the body decrements it and reloads the register
    loop = """
flag = nisa.register_alloc(cnt)
k = nisa.register_alloc(0)
while flag:
    row(x, out, k)
    k += 1
    nisa.tensor_scalar(dst=cnt, data=cnt, op0=nl.subtract, operand0=1)
    nisa.register_load(flag, cnt)
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 3), _expect([0, 1, 2]))


def test_fori_loop(tmp_path: Path) -> None:
    loop = "nl.fori_loop(1, stop, lambda i: row(x, out, i))"
    np.testing.assert_array_equal(_rows(tmp_path, loop, 4), _expect([1, 2, 3]))


def test_while_loop(tmp_path: Path) -> None:
    loop = """
def step(c):
    row(x, out, c)
    nxt = c - 1
    return nxt
nl.while_loop(stop, step)
"""
    np.testing.assert_array_equal(_rows(tmp_path, loop, 3), _expect([1, 2, 3]))


def test_register_store_and_move(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray((1, 3), dtype=nl.int32, buffer=nl.shared_hbm)
        t = nl.ndarray((1, 3), dtype=nl.int32, buffer=nl.sbuf)
        r = nisa.register_alloc()
        nisa.register_store(t[0:1, 0:1], r)
        nisa.register_move(r, 41)
        r += 1
        nisa.register_store(t[0:1, 1:2], r)
        s = nisa.register_alloc(r)
        s2 = s * 3 - 6
        nisa.register_store(dst=t[0:1, 2:3], src=s2)
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    (got,) = run_kernel(tmp_path, src, rand(2, 2), header=BETA2)
    np.testing.assert_array_equal(got, [[0, 42, 120]])


def test_a_psum_accumulator_from_before_the_loop_accumulates(tmp_path: Path) -> None:
    # sum over k tiles of a_k.T @ b_k, the k loop run by the device
    src = """
    def kernel(a, b):
        out = nl.ndarray((128, 64), dtype=nl.float32, buffer=nl.shared_hbm)
        acc = nl.ndarray((128, 64), dtype=nl.float32, buffer=nl.psum)
        nisa.memset(dst=acc, value=0.0)
        for k in nl.dynamic_range(0, 384, 128):
            at = nl.ndarray((128, 128), dtype=a.dtype, buffer=nl.sbuf)
            bt = nl.ndarray((128, 64), dtype=b.dtype, buffer=nl.sbuf)
            nisa.dma_copy(dst=at, src=a.ap([[128, 128], [1, 128]], scalar_offset=k))
            nisa.dma_copy(dst=bt, src=b.ap([[64, 128], [1, 64]], scalar_offset=k))
            nisa.nc_matmul(dst=acc, stationary=at, moving=bt)
        res = nl.ndarray((128, 64), dtype=nl.float32, buffer=nl.sbuf)
        nisa.tensor_copy(dst=res, src=acc)
        nisa.dma_copy(dst=out, src=res)
        return out
    """
    a, b = rand(384, 128), rand(384, 64, seed=1)
    (got,) = run_kernel(tmp_path, src, a, b, header=BETA2)
    np.testing.assert_allclose(got, a.T @ b, rtol=1e-4, atol=1e-4)


def test_an_endless_device_loop_stops_with_a_limit(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        one = nisa.register_alloc(1)
        while one:
            nisa.tensor_scalar(dst=t, data=t, op0=nl.add, operand0=1.0)
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    result = trace_kernel(tmp_path, src, rand(2, 2), header=BETA2)
    with pytest.raises(LimitError) as info:
        klr.eval(result, x=rand(2, 2), limits={"max_extra_instructions": 1000})
    assert "the kernel ran more than" in info.value.message and "an endless loop?" in info.value.message


# --- errors --------------------------------------------------------------------------------------

ERR = """
def kernel(x):
    r = nisa.register_alloc(3)
    BODY
    return x
"""

ERRORS = [
    ("for i in nl.dynamic_range(0, 8, r):\n        pass", "dynamic_range(0, 8, r)", 14,
     "the step of nl.dynamic_range must be an integer known when tracing, not a register"),
    ("for i in nl.dynamic_range(0, 8, -2):\n        pass", "dynamic_range(0, 8, -2)", 14,
     "the step of nl.dynamic_range must be a positive integer, not -2"),
    ("for i in nl.dynamic_range(1.5):\n        pass", "dynamic_range(1.5)", 14,
     "the stop of nl.dynamic_range must be an integer or a register, not float"),
    ("for i in nl.dynamic_range(2**40):\n        pass", "dynamic_range(2**40)", 14,
     "the stop of nl.dynamic_range 1099511627776 does not fit a 32-bit register"),
    ("y = 1 if r else 2", "y = 1", 14, "a register's value is only known when the kernel runs: it can be "
     "the test of an if or while statement, not a Python truth value"),
    ("if r < 2 or r > 5:\n        pass", "if r < 2", 8, "a comparison of a register is only decided when "
     "the kernel runs: it can be the test of an if or while statement, not a Python truth value"),
    ("if r < 1.5:\n        pass", "if r < 1.5", 8,
     "a register can only be compared with an integer or a register, not float"),
    ("s = r + r", "s = r + r", 9, "a register's value is only known when the kernel runs: '+' of two "
     "registers has no register instruction (registerAluOp takes a register and an integer)"),
    ("for i in r:\n        pass", "for i in r", 14,
     "a register's value is only known when the kernel runs: loop over it with nl.dynamic_range, "
     "not range()"),
    ("n = len(r)", "n = len(r)", 9, "a register's value is only known when the kernel runs: it has no len()"),
    ("z = list(nl.dynamic_range(r))", "z = list(", 9,
     "nl.dynamic_range runs on the device: it can only be the iterable of a for statement"),
    ("z = len(nl.dynamic_range(r))", "z = len(", 9,
     "nl.dynamic_range runs on the device: its length is only known when the kernel runs"),
    ("t = x[:, r]", "t = x[:, r]", 9, "a register can only index the first dimension of a whole tensor "
     "(t[i, ...] or t[nl.ds(i, n), ...]); for another access use t.ap(pattern, scalar_offset=i)"),
    ("t = x[1:3][nl.ds(r, 1)]", "t = x[1:3]", 9, "a register can only index the first dimension of a "
     "whole tensor (t[i, ...] or t[nl.ds(i, n), ...]); for another access use t.ap(pattern, "
     "scalar_offset=i)"),
    ("t = x[nl.ds(r, 0)]", "t = x[nl.ds", 11, "nl.ds size must be a positive integer, not 0"),
    ("q = nisa.register_alloc(1.5)", "q = nisa", 9,
     "nisa.register_alloc takes an integer or a one-element tensor, not float"),
    ("q = nisa.register_alloc(x)", "q = nisa", 9,
     "the tensor a register is loaded from must be a tensor of one element, not of shape [4, 4]"),
    ("q = nisa.register_alloc(2**31)", "q = nisa", 9,
     "the register's value 2147483648 does not fit a 32-bit register"),
    ("nisa.register_move(3, 4)", "nisa.register_move", 5,
     "dst must be a register (from nisa.register_alloc), not int"),
    ("nisa.register_move(r, 'a')", "nisa.register_move", 5, "imm must be an integer, not str"),
    ("nl.while_loop(3, lambda c: c)", "nl.while_loop", 5,
     "the initial condition of nl.while_loop must be a register (from nisa.register_alloc), not int"),
    ("nl.while_loop(r, lambda c: 1)", "nl.while_loop", 5,
     "what the body of nl.while_loop returns must be a register (from nisa.register_alloc), not int"),
    ("c = nisa.register_alloc(1)\n    while c:\n        c = 2", "while c", 11,
     "the test of a loop on a register must stay a register or a comparison of one, not become int"),
    ("if r:\n        return x", "if r", 5,
     "'return' inside control flow on a runtime value is not supported"),
    ("for j in range(2):\n        if r:\n            break", "if r", 9,
     "'break' inside control flow on a runtime value is not supported"),
]


@pytest.mark.parametrize(("body", "marker", "col", "message"), ERRORS, ids=[e[3][:60] for e in ERRORS])
def test_errors(tmp_path: Path, body: str, marker: str, col: int, message: str) -> None:
    src = ERR.replace("BODY", body)
    err = trace_error(tmp_path, src, rand(4, 4), header=BETA2)
    assert err.message == message
    assert where(err) == (line_of(src, marker, BETA2), col)


def test_a_register_is_no_shape(tmp_path: Path) -> None:
    src = ERR.replace("BODY", "t = nl.ndarray((r, 4), dtype=nl.float32, buffer=nl.sbuf)")
    err = trace_error(tmp_path, src, rand(4, 4), header=BETA2)
    assert err.message == "shape must hold positive integers, not [<register r>, 4]"
    assert where(err) == (line_of(src, "nl.ndarray((r", BETA2), 9)


def test_a_register_is_no_range_bound(tmp_path: Path) -> None:
    src = ERR.replace("BODY", "for i in range(r):\n        pass")
    err = trace_error(tmp_path, src, rand(4, 4), header=BETA2)
    assert err.message == "range() arguments must be integers, not 'register'"
    assert where(err) == (line_of(src, "range(r)", BETA2), 14)


def test_legacy_dialect_loop_over_rows(tmp_path: Path) -> None:
    # the names are found in legacy kernels too; a value owed to a retargeted tile (``keep[...]
    # = e``) is settled inside the body, so reading it after the loop gives the last row's
    src = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        last = nl.ndarray((x.shape[1],), dtype=x.dtype, buffer=nl.shared_hbm)
        n = nisa.register_alloc(x.shape[0])
        keep = nl.ndarray((x.shape[1],), dtype=x.dtype, buffer=nl.sbuf)
        for i in nl.sequential_range(n):
            t = nl.load(x[i, :])
            e = nl.exp(t)
            keep[...] = e
            nl.store(out[i, :], value=t * 2.0)
        nl.store(last, value=e)
        return out, last
    """
    x = rand(4, 64)
    got, last = run_kernel(tmp_path, src, x)
    np.testing.assert_allclose(got, 2 * x, rtol=1e-6)
    np.testing.assert_allclose(last, np.exp(x[-1]), rtol=1e-6)


def test_registers_are_named_apart_from_tensors(tmp_path: Path) -> None:
    # a register takes its variable's name (r, then r.2); a tensor may take the same name
    src = """
    def kernel(x):
        r = nisa.register_alloc(2)
        r = nisa.register_alloc(3)
        t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf, name="r")
        nisa.dma_copy(dst=t, src=x)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    result = trace_kernel(tmp_path, src, rand(2, 2), header=BETA2)
    assert op_names(result)[:3] == ["registerMove", "registerMove", "ncDmaCopy"]
    first, second, copy = stmts(result)[:3]
    assert (first.op.dst, second.op.dst, copy.op.dst.tensor.name) == ("r", "r.2", "r")


# --- inside nl.no_reorder() ----------------------------------------------------------------------

NO_REORDER_ERRORS = [
    ("if r:\n            nisa.register_move(r, 1)", "if r", 12),   # at the register that decides
    ("while r:\n            r -= 1", "while r", 15),
    ("for i in nl.dynamic_range(r):\n            pass", "for i", 18),
    ("nl.fori_loop(0, r, lambda i: None)", "nl.fori_loop", 9),
    ("nl.while_loop(r, lambda c: c - 1)", "nl.while_loop", 9),
]


@pytest.mark.parametrize(("body", "marker", "col"), NO_REORDER_ERRORS, ids=[e[1] for e in NO_REORDER_ERRORS])
def test_no_reorder_cannot_hold_control_flow_the_device_decides(
        tmp_path: Path, body: str, marker: str, col: int) -> None:
    # the block's statements must stay one ordered Core block; a branch would split it
    src = ERR.replace("BODY", "with nl.no_reorder():\n        nisa.register_move(r, 2)\n        " + body)
    err = trace_error(tmp_path, src, rand(4, 4), header=BETA2)
    assert err.message == ("control flow decided at run time (an if, while or loop on a register) cannot be "
                           "inside nl.no_reorder(), whose statements stay in one block")
    assert where(err) == (line_of(src, marker, BETA2), col)


def test_a_static_loop_and_a_nested_no_reorder_stay_in_the_ordered_block(tmp_path: Path) -> None:
    src = """
    def kernel(x):
        t = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
        nisa.dma_copy(dst=t, src=x)
        with nl.no_reorder():
            for k in range(2):
                nisa.tensor_scalar(dst=t, data=t, op0=nl.add, operand0=1.0)
            with nl.no_reorder():
                nisa.tensor_scalar(dst=t, data=t, op0=nl.multiply, operand0=3.0)
            nisa.tensor_scalar(dst=t, data=t, op0=nl.subtract, operand0=1.0)
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=t)
        return out
    """
    x = rand(4, 8)
    result = trace_kernel(tmp_path, src, x, header=BETA2)
    blocks = result.kernel.bodies[0]
    assert [(b.noReorder, len(b.body)) for b in blocks] == [(False, 1), (True, 4), (False, 1)]
    (got,) = run_kernel(tmp_path, src, x, header=BETA2)
    np.testing.assert_allclose(got, (x + 2) * 3 - 1, rtol=1e-6)


def test_no_reorder_inside_a_device_loop(tmp_path: Path) -> None:
    # the ordered block is part of the loop's body: it runs once per iteration
    loop = """
for i in nl.dynamic_range(stop):
    with nl.no_reorder():
        row(x, out, i)
"""
    src = ROWS.replace("LOOP", loop.strip().replace("\n", "\n    "))
    result = trace_kernel(tmp_path, src, rand(6, 16), np.array([[4]], np.int32), header=BETA2)
    assert [b.noReorder for b in result.kernel.bodies[0]].count(True) == 1
    np.testing.assert_array_equal(_rows(tmp_path, loop, 4), _expect([0, 1, 2, 3]))
