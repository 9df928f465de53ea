"""Random numbers, registers, control flow, cores, communication and engine state against
docs/semantics.md §2, §3.11-3.13, with a XORWOW written from §3.11."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from klr.core import (
    AllGather,
    AllReduce,
    AllToAll,
    AluOp,
    Block,
    BrCmpOp,
    Broadcast,
    CmpBranch,
    CollectivePermute,
    CollectivePermuteImplicit,
    CollectivePermuteImplicitReduce,
    CoreBarrier,
    CurrentProcessingRankId,
    DevicePrint,
    Dropout,
    DropoutThresholdType,
    Engine,
    ExtendedInst,
    ImmFloat,
    ImmInt,
    LncKernel,
    LoadMaskRegister,
    MatchValueLoad,
    PrintOutputBuffer,
    Rand2,
    RandGetState,
    RandSetState,
    RankId,
    Recv,
    ReduceScatter,
    RegisterAluOp,
    RegisterMove,
    Rng,
    Send,
    SendRecv,
    SendRecvCompute,
    SetRngSeed,
    Stmt,
    TensorLoad,
    TensorStore,
)
from klr.dtypes import Dtype
from klr.interp import run
from tests.interp import oracle as o
from tests.interp.builder import dma, full, hbm, pos, sbuf

EXAMPLES = settings(max_examples=15, deadline=None)
M32 = 0xFFFFFFFF


def xorwow(state: list[int], count: int) -> tuple[list[int], list[int]]:
    """``count`` outputs of one generator and its state afterwards (§3.11)."""
    x0, x1, x2, x3, x4, d = state
    out = []
    for _ in range(count):
        t = x4 ^ (x4 >> 2)
        t = (t ^ (t << 1)) & M32
        t ^= x0 ^ ((x0 << 4) & M32)
        x4, x3, x2, x1, x0 = x3, x2, x1, x0, t
        d = (d + 362437) & M32
        out.append((t + d) & M32)
    return out, [x0, x1, x2, x3, x4, d]


def tensor(name: str, dt: Dtype, dims: tuple[int, ...], data: Any) -> o.Operand:
    t = hbm(name, dims, dt)
    return o.Operand(t, np.asarray(data).astype(o.NP[dt]).reshape(-1), t)


@EXAMPLES
@given(st.data(), st.integers(1, 3), st.integers(1, 9), st.sampled_from([Engine.pool, Engine.dve]))
def test_random_draws_follow_the_lane_states(data: Any, p: int, f: int, engine: Engine) -> None:
    """randSetState, then rng / rand2 / dropout / randGetState, each drawing row-major per lane
    (generator j mod 4 on the vector engine)."""
    gens = 1 if engine is Engine.pool else 4
    words = [[data.draw(st.integers(1, M32)) for _ in range(6 * gens)] for _ in range(p)]
    state = tensor("st", Dtype.uint32, (p, 6 * gens), words)
    bits = tensor("b", Dtype.uint16, (p, f), np.zeros(p * f))
    after = tensor("af", Dtype.uint32, (p, 6 * gens), np.zeros(p * 6 * gens))
    ops = [RandSetState(state.access, engine), Rng(bits.access, engine), RandGetState(after.access, engine)]
    got = o.run_case(ops, [state, bits, after], [bits.tensor, after.tensor])
    want_bits, want_after = [], []
    for lane in words:
        gen_states = [lane[6 * g:6 * g + 6] for g in range(gens)]
        row = []
        for j in range(f):
            (v,), gen_states[j % gens] = xorwow(gen_states[j % gens], 1)
            row.append(v & 0xFFFF)
        want_bits.append(row)
        want_after.append([w for s in gen_states for w in s])
    np.testing.assert_array_equal(got["b"], np.array(want_bits, np.uint16))
    np.testing.assert_array_equal(got["af"], np.array(want_after, np.uint32))


@EXAMPLES
@given(st.data(), st.integers(1, 3), st.integers(1, 9))
def test_rand2_and_dropout_use_the_top_24_bits(data: Any, p: int, f: int) -> None:
    words = [[data.draw(st.integers(1, M32)) for _ in range(24)] for _ in range(p)]
    state = tensor("st", Dtype.uint32, (p, 24), words)
    lo, hi = ImmFloat(data.draw(st.floats(-4, 0, width=32))), ImmFloat(data.draw(st.floats(1, 4, width=32)))
    out = tensor("r", Dtype.float32, (p, f), np.zeros(p * f))
    src = tensor("s", Dtype.float32, (p, f), np.arange(1, p * f + 1))
    kept = tensor("k", Dtype.float32, (p, f), np.zeros(p * f))
    rate = ImmFloat(data.draw(st.floats(0, 1, width=32)))
    ops = [RandSetState(state.access, Engine.dve), Rand2(out.access, lo, hi),
           Dropout(kept.access, src.access, DropoutThresholdType.DropRate, rate, None)]
    got = o.run_case(ops, [state, out, src, kept], [out.tensor, kept.tensor])
    want_r, want_k = [], []
    for i, lane in enumerate(words):
        gen_states = [lane[6 * g:6 * g + 6] for g in range(4)]

        def unit(j: int, gen_states: list[list[int]] = gen_states) -> np.float32:
            (v,), gen_states[j % 4] = xorwow(gen_states[j % 4], 1)
            return np.float32(v >> 8) * np.float32(2.0**-24)
        want_r.append([np.float32(lo.f) + unit(j) * (np.float32(hi.f) - np.float32(lo.f)) for j in range(f)])
        keep_rate = np.float32(1.0) - np.float32(rate.f)
        want_k.append([np.float32(i * f + j + 1) if unit(j) < keep_rate else np.float32(0) for j in range(f)])
    o.same(got["r"], np.array(want_r, np.float32))
    o.same(got["k"], np.array(want_k, np.float32))


def test_seeding_is_deterministic_and_set_rng_seed_restarts() -> None:
    out, seed = tensor("r", Dtype.uint32, (2, 5), np.zeros(10)), tensor("z", Dtype.int32, (1, 1), [7])
    first = o.run_case([SetRngSeed(seed.access), Rng(out.access, Engine.dve)], [out, seed], [out.tensor])
    again = o.run_case([Rng(out.access, Engine.dve), SetRngSeed(seed.access), Rng(out.access, Engine.dve)],
                       [out, seed], [out.tensor])
    np.testing.assert_array_equal(first["r"], again["r"])
    other = o.run_case([Rng(out.access, Engine.dve)], [out, seed], [out.tensor], random_seed=1)
    assert not np.array_equal(first["r"], other["r"])


# --- registers and control flow ------------------------------------------------------------------

REG_OPS = [AluOp.add, AluOp.subtract, AluOp.mult, AluOp.divide, AluOp.max, AluOp.bitwise_xor,
           AluOp.logical_shift_right, AluOp.arith_shift_left]


@EXAMPLES
@given(st.integers(-2**31, 2**31 - 1), st.integers(-1000, 1000), st.sampled_from(REG_OPS),
       st.floats(-1e9, 1e9, width=32))
def test_registers_load_compute_and_store(start: int, imm: int, op: AluOp, loaded: float) -> None:
    if op in (AluOp.logical_shift_right, AluOp.arith_shift_left):
        imm = abs(imm) % 40
    src = tensor("x", Dtype.float32, (1, 1), [loaded])
    out = tensor("o", Dtype.int32, (1, 2), [0, 0])
    ops = [RegisterMove("a", start), RegisterAluOp("b", "a", imm, op), TensorLoad("c", src.access),
           TensorStore(_column(out.tensor, 0), "b"), TensorStore(_column(out.tensor, 1), "c")]
    got = o.run_case(ops, [src, out], [out.tensor])
    if op is AluOp.divide and imm == 0:
        return  # no value: an error (test_messages_system)
    b = int(o.alu(op, start, imm, True))
    b = (b + 2**31) % 2**32 - 2**31
    c = (int(np.rint(np.float64(np.float32(loaded)))) + 2**31) % 2**32 - 2**31
    np.testing.assert_array_equal(got["o"], [[b, c]])


def _column(t: Any, j: int) -> Any:
    from klr.core import APPair, BirAccessPattern
    return BirAccessPattern(t, j, (APPair(2, 1, 0), APPair(1, 1, 0)))


@EXAMPLES
@given(st.integers(0, 6), st.integers(-3, 8),
       st.sampled_from([op for op in BrCmpOp if op is not BrCmpOp.always]))
def test_cmp_branch_loops(n: int, limit: int, cmp: BrCmpOp) -> None:
    """A counter incremented until cmp(counter, limit) fails: the count of loop iterations."""
    count = hbm("cnt", (1, 1), Dtype.int32)
    body = [RegisterAluOp("i", "i", 1, AluOp.add), RegisterAluOp("k", "k", 1, AluOp.add),
            CmpBranch("i", "lim", limit, cmp, "loop", "done")]
    start = [RegisterMove("i", n), RegisterMove("k", 0), RegisterMove("lim", limit)]
    blocks = (Block("main", False, tuple(Stmt(op, None, pos(1 + i)) for i, op in enumerate(start))),
              Block("loop", False, tuple(Stmt(op, None, pos(10 + i)) for i, op in enumerate(body))),
              Block("done", False, (Stmt(TensorStore(full(count), "k"), None, pos(20)),)))
    k = LncKernel("k", (), (count,), (blocks,), (), (), ())
    test = {"lt": int.__lt__, "le": int.__le__, "eq": int.__eq__, "ne": int.__ne__, "ge": int.__ge__,
            "gt": int.__gt__}[cmp.name[:2]]
    i, iterations = n, 0
    while True:
        i += 1
        iterations += 1
        if not test(i, limit) or iterations > 50:
            break
    if iterations > 50:
        return  # an endless loop: the instruction budget (tests/interp/test_budget.py)
    assert run(k, {}).outputs["cnt"].item() == iterations


# --- cores, communication ------------------------------------------------------------------------


def test_send_recv_exchanges_tiles_between_two_cores_after_a_barrier() -> None:
    a, b = hbm("a", (2, 4)), hbm("b", (2, 4))
    sa, sb = sbuf("sa", (2, 4)), sbuf("sb", (2, 4))
    shared = hbm("sh", (2, 4))

    def body(me: int, src: Any, out: Any) -> tuple[Block, ...]:
        ops = [dma(sa, src), SendRecv(full(sb), full(sa), ImmInt(1 - me), ImmInt(1 - me), ImmInt(0), False),
               dma(out, sb), CoreBarrier(full(shared), (0, 1), Engine.unassigned)]
        stmts = tuple(Stmt(op, f"inst.{i}", pos(10 * me + i)) for i, op in enumerate(ops))
        return (Block("main", False, stmts),)
    outa, outb = hbm("oa", (2, 4)), hbm("ob", (2, 4))
    k = LncKernel("k", (a, b), (outa, outb), (body(0, a, outa), body(1, b, outb)), (), (), ())
    x, y = np.arange(8, dtype=np.float32).reshape(2, 4), -np.arange(8, dtype=np.float32).reshape(2, 4)
    got = run(k, {"a": x, "b": y}).outputs
    np.testing.assert_array_equal(got["oa"], y)
    np.testing.assert_array_equal(got["ob"], x)


@EXAMPLES
@given(st.data(), st.sampled_from([AluOp.add, AluOp.max, AluOp.subtract]))
def test_single_rank_communication(data: Any, op: AluOp) -> None:
    """Every collective and point-to-point operator on one rank and one core (§3.13)."""
    x = tensor("x", Dtype.float32, (2, 4), [data.draw(st.floats(-9, 9, width=32)) for _ in range(8)])
    y = tensor("y", Dtype.float32, (2, 4), [data.draw(st.floats(-9, 9, width=32)) for _ in range(8)])
    names = ["ar", "ag", "rs", "bc", "aa", "cp", "cpi", "cpr", "sr", "src", "rv", "zp"]
    outs = {n: tensor(n, Dtype.float32, (2, 4), np.full(8, 5.0)) for n in names}
    X, Y = x.access, y.access
    ops = [AllReduce((outs["ar"].access,), (X,), op), AllGather((outs["ag"].access,), (X,)),
           ReduceScatter((outs["rs"].access,), (X,), op), Broadcast((outs["bc"].access,), (X,)),
           AllToAll((outs["aa"].access,), (X,)),
           CollectivePermute((outs["cp"].access,), (X,), sourceTargetPairs=((0, 0),)),
           CollectivePermute((outs["zp"].access,), (X,), sourceTargetPairs=()),
           CollectivePermuteImplicit((outs["cpi"].access,), (X,)),
           CollectivePermuteImplicitReduce((outs["cpr"].access,), (X, Y), op),
           SendRecv(outs["sr"].access, X, ImmInt(0), ImmInt(0), ImmInt(3), False),
           SendRecvCompute((outs["src"].access,), (X,), (ImmInt(0),), (ImmInt(0),), ImmInt(1), op),
           Send(AluOp.bypass, (Y,), 0), Recv(op, (outs["rv"].access,), (), 0)]
    got = o.run_case(ops, [x, y, *outs.values()], [t.tensor for t in outs.values()])
    xv, yv = np.array(o.memory([x]).read(X)), np.array(o.memory([y]).read(Y))

    def f(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.vectorize(lambda u, v: o.alu(op, float(u), float(v), False))(a, b).astype(np.float32)
    want = {"ar": xv, "ag": xv, "rs": xv, "bc": xv, "aa": xv, "cp": xv, "zp": np.zeros((2, 4)), "cpi": xv,
            "cpr": f(xv, yv), "sr": xv, "src": f(xv, xv), "rv": f(np.full((2, 4), 5.0), yv)}
    for n in names:
        o.same(got[n], np.asarray(want[n], np.float32))


def test_rank_ids_engine_state_and_prints() -> None:
    out = tensor("o", Dtype.int32, (1, 2), [9, 9])
    v = tensor("v", Dtype.float32, (2, 8), np.arange(16))
    ops = [RankId("r"), CurrentProcessingRankId("c", 3, 0, 1, ((0,),)),
           TensorStore(_column(out.tensor, 0), "r"), TensorStore(_column(out.tensor, 1), "c"),
           LoadMaskRegister(4), MatchValueLoad(v.access),
           ExtendedInst(1, True, False, 0, (), ()), DevicePrint(v.access, "v = ", PrintOutputBuffer.stderr)]
    from tests.interp.builder import kernel
    result = run(kernel([out.tensor, v.tensor], [out.tensor], ops),
                 {"o": out.data.reshape(1, 2), "v": v.data.reshape(2, 8)})
    np.testing.assert_array_equal(result.outputs["o"], [[0, 0]])
    assert [(p.buffer, p.text.splitlines()[0]) for p in result.prints] == [
        ("stderr", "v = [[ 0.  1.  2.  3.  4.  5.  6.  7.]")]
