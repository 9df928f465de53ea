"""The engines' random generators from NKI (nisa.rng, rand2, set_rng_seed, rand_get_state,
rand_set_state), traced and run: XORWOW recomputed from a state the kernel reads, ranges,
state round trips and seed reproducibility."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tracer.nki.util import BETA2, op_names, run_kernel, trace_error, trace_kernel, where


def run(tmp_path: Path, src: str, *inputs: np.ndarray) -> list[np.ndarray]:
    return run_kernel(tmp_path, src, *inputs, header=BETA2)


def xorwow(state: list[int], count: int) -> tuple[list[int], list[int]]:
    """``count`` outputs of one generator from its 6 words (x0..x4, d), in plain Python."""
    x, d = list(state[:5]), state[5]
    out = []
    m = 0xFFFFFFFF
    for _ in range(count):
        t = x[4] ^ (x[4] >> 2)
        t = (t ^ (t << 1)) & m
        t ^= x[0] ^ ((x[0] << 4) & m)
        x = [t, x[0], x[1], x[2], x[3]]
        d = (d + 362437) & m
        out.append((t + d) & m)
    return out, [*x, d]


STATE_THEN_BITS = """
def kernel():
    st = nl.ndarray((8, {words}), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.rand_get_state(st, engine=nisa.engine.{engine})
    bits = nl.ndarray((8, 12), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.rng(bits, engine=nisa.engine.{engine})
    out_st = nl.ndarray((8, {words}), dtype=nl.uint32, buffer=nl.shared_hbm)
    out_bits = nl.ndarray((8, 12), dtype=nl.uint32, buffer=nl.shared_hbm)
    nisa.dma_copy(dst=out_st, src=st)
    nisa.dma_copy(dst=out_bits, src=bits)
    return out_st, out_bits
"""


@pytest.mark.parametrize(("engine", "words"), [("gpsimd", 6), ("vector", 24)])
def test_rng_is_xorwow_from_the_state_it_reads(tmp_path: Path, engine: str, words: int) -> None:
    state, bits = run(tmp_path, STATE_THEN_BITS.format(engine=engine, words=words))
    assert state.dtype == bits.dtype == np.uint32
    generators = words // 6
    for p in range(8):
        lanes = [[int(w) for w in state[p, 6 * g:6 * g + 6]] for g in range(generators)]
        want = []
        for j in range(12):   # element j uses generator j mod (generators per lane)
            got, lanes[j % generators] = xorwow(lanes[j % generators], 1)
            want += got
        assert bits[p].tolist() == want
    assert len({tuple(r) for r in state.tolist()}) == 8   # every lane has its own state


def test_rng_narrow_dtypes_keep_the_low_bits(tmp_path: Path) -> None:
    src = """
    def kernel():
        wide = nl.ndarray((4, 8), dtype=nl.uint32, buffer=nl.sbuf)
        narrow = nl.ndarray((4, 8), dtype=nl.uint16, buffer=nl.sbuf)
        st = nl.ndarray((4, 6), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.rand_get_state(st)
        nisa.rng(wide, engine=nisa.engine.gpsimd)
        nisa.rand_set_state(st)
        nisa.rng(narrow, engine=nisa.engine.gpsimd)
        a = nl.ndarray((4, 8), dtype=nl.uint32, buffer=nl.shared_hbm)
        b = nl.ndarray((4, 8), dtype=nl.uint16, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=a, src=wide)
        nisa.dma_copy(dst=b, src=narrow)
        return a, b
    """
    wide, narrow = run(tmp_path, src)
    np.testing.assert_array_equal(narrow, (wide & 0xFFFF).astype(np.uint16))


def test_state_round_trip(tmp_path: Path) -> None:
    src = """
    def kernel():
        saved = nl.ndarray((16, 24), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.rand_get_state(saved, engine=nisa.engine.vector)
        a = nl.ndarray((16, 32), dtype=nl.int32, buffer=nl.sbuf)
        nisa.rng(a)
        nisa.rand_set_state(saved, engine=nisa.engine.vector)
        again = nl.ndarray((16, 24), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.rand_get_state(again, engine=nisa.engine.vector)
        b = nl.ndarray((16, 32), dtype=nl.int32, buffer=nl.sbuf)
        nisa.rng(b)
        outs = []
        for t in (saved, again, a, b):
            o = nl.ndarray(t.shape, dtype=t.dtype, buffer=nl.shared_hbm)
            nisa.dma_copy(dst=o, src=t)
            outs.append(o)
        return outs[0], outs[1], outs[2], outs[3]
    """
    saved, again, a, b = run(tmp_path, src)
    np.testing.assert_array_equal(saved, again)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) > 500   # 512 draws of 32 bits: no visible repetition


def test_a_written_state_is_used(tmp_path: Path) -> None:
    src = """
    def kernel(s):
        st = nl.ndarray((2, 6), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.dma_copy(dst=st, src=s)
        nisa.rand_set_state(src_seeds=st, engine=nisa.engine.gpsimd)
        bits = nl.ndarray((2, 5), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.rng(bits, nisa.engine.gpsimd)
        out = nl.ndarray((2, 5), dtype=nl.uint32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=bits)
        return out
    """
    s = np.array([[123456789, 362436069, 521288629, 88675123, 5783321, 6615241],
                  [1, 2, 3, 4, 5, 6]], np.uint32)
    (bits,) = run(tmp_path, src, s)
    for p in range(2):
        assert bits[p].tolist() == xorwow(s[p].tolist(), 5)[0]


SEEDED = """
def kernel(seed):
    s = nl.ndarray((1, 1), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.dma_copy(dst=s, src=seed)
    first = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.set_rng_seed(s)
    nisa.rng(first)
    second = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.rng(second)
    again = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.set_rng_seed(src_seeds=s)
    nisa.rng(again)
    outs = []
    for t in (first, second, again):
        o = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=o, src=t)
        outs.append(o)
    return outs[0], outs[1], outs[2]
"""


def test_a_seed_reproduces_its_numbers(tmp_path: Path) -> None:
    first, second, again = run(tmp_path, SEEDED, np.array([[42]], np.uint32))
    np.testing.assert_array_equal(first, again)
    assert (first != second).mean() > 0.99
    other, _, _ = run(tmp_path, SEEDED, np.array([[43]], np.uint32))
    assert (first != other).mean() > 0.99
    repeat, _, _ = run(tmp_path, SEEDED, np.array([[42]], np.uint32))
    np.testing.assert_array_equal(first, repeat)   # a run is deterministic


def test_a_fresh_kernel_starts_from_seed_0(tmp_path: Path) -> None:
    src = """
    def kernel(seed):
        bits = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.rng(bits)
        out = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=out, src=bits)
        return out
    """
    (fresh,) = run(tmp_path, src, np.array([[0]], np.uint32))
    zero, _, _ = run(tmp_path, SEEDED, np.array([[0]], np.uint32))
    np.testing.assert_array_equal(fresh, zero)


def test_set_rng_seed_leaves_gpsimd_alone(tmp_path: Path) -> None:
    src = """
    def kernel(seed):
        s = nl.ndarray((1, 1), dtype=nl.int32, buffer=nl.sbuf)
        nisa.dma_copy(dst=s, src=seed)
        before = nl.ndarray((4, 6), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.rand_get_state(before)
        nisa.set_rng_seed(s)
        after = nl.ndarray((4, 6), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.rand_get_state(after)
        a = nl.ndarray((4, 6), dtype=nl.uint32, buffer=nl.shared_hbm)
        b = nl.ndarray((4, 6), dtype=nl.uint32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=a, src=before)
        nisa.dma_copy(dst=b, src=after)
        return a, b
    """
    before, after = run(tmp_path, src, np.array([[9]], np.int32))
    np.testing.assert_array_equal(before, after)


def test_rand2_range_with_numbers_and_tiles(tmp_path: Path) -> None:
    src = """
    def kernel(lo, hi):
        a = nl.ndarray((32, 64), dtype=nl.float32, buffer=nl.sbuf)
        nisa.rand2(a, -2.0, 3.0)
        l = nl.ndarray((32, 1), dtype=nl.float32, buffer=nl.sbuf)
        h = nl.ndarray((32, 1), dtype=nl.float32, buffer=nl.sbuf)
        nisa.dma_copy(dst=l, src=lo)
        nisa.dma_copy(dst=h, src=hi)
        b = nl.ndarray((32, 64), dtype=nl.float32, buffer=nl.sbuf)
        nisa.rand2(dst=b, min=l, max=h)
        oa = nl.ndarray((32, 64), dtype=nl.float32, buffer=nl.shared_hbm)
        ob = nl.ndarray((32, 64), dtype=nl.float32, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=oa, src=a)
        nisa.dma_copy(dst=ob, src=b)
        return oa, ob
    """
    lo = np.arange(32, dtype=np.float32)[:, None]
    hi = lo + np.linspace(0.5, 4, 32, dtype=np.float32)[:, None]
    a, b = run(tmp_path, src, lo, hi)
    assert (a >= -2).all() and (a < 3).all()
    assert abs(float(a.mean()) - 0.5) < 0.1   # 2048 uniform draws on [-2, 3)
    assert (b >= lo).all() and (b < hi).all()
    u = (b - lo) / (hi - lo)
    assert u.min() < 0.05 and u.max() > 0.95


def test_the_operators_emitted(tmp_path: Path) -> None:
    src = """
    def kernel(s):
        t = nl.ndarray((1, 1), dtype=nl.uint32, buffer=nl.sbuf)
        st = nl.ndarray((1, 6), dtype=nl.uint32, buffer=nl.sbuf)
        nisa.set_rng_seed(t)
        nisa.rand_get_state(st)
        nisa.rand_set_state(st)
        nisa.rng(t)
        f = nl.ndarray((1, 4), dtype=nl.float32, buffer=nl.sbuf)
        nisa.rand2(f, 0.0, 1.0)
        return s
    """
    got = op_names(trace_kernel(tmp_path, src, np.zeros((1, 1), np.float32), header=BETA2))
    assert got == ["setRngSeed", "randGetState", "randSetState", "rng", "rand2"]


ERRORS = [
    ("nisa.rng: engine must be nisa.engine.vector or nisa.engine.gpsimd, not nisa.engine.scalar",
     "a = nl.ndarray((4, 4), dtype=nl.uint32, buffer=nl.sbuf)\nnisa.rng(a, engine=nisa.engine.scalar)"),
    ("nisa.rng: dst has dtype float32, but it must be int8, int16, int32, uint8, uint16 or uint32",
     "a = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf)\nnisa.rng(a)"),
    ("nisa.rng: dst is in PSUM, but it must be in SBUF",
     "a = nl.ndarray((4, 4), dtype=nl.uint32, buffer=nl.psum)\nnisa.rng(a, engine=nisa.engine.gpsimd)"),
    ("nisa.rand2: min 1.0 must be below max 1.0",
     "a = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf)\nnisa.rand2(a, 1.0, 1.0)"),
    ("nisa.rand2: max must have one element per partition ([4, 1]) but has shape [4, 2]",
     "a = nl.ndarray((4, 4), dtype=nl.float32, buffer=nl.sbuf)\n"
     "b = nl.ndarray((4, 2), dtype=nl.float32, buffer=nl.sbuf)\nnisa.rand2(a, 0.0, b)"),
    ("nisa.set_rng_seed: src_seeds must be a [1, 1] tile of a 32-bit dtype, not [1, 1] uint16",
     "a = nl.ndarray((1, 1), dtype=nl.uint16, buffer=nl.sbuf)\nnisa.set_rng_seed(a)"),
    ("nisa.set_rng_seed: src_seeds 'x' is in HBM, but it must be in SBUF or PSUM",
     "nisa.set_rng_seed(x)"),
    ("nisa.rand_get_state: dst must have 24 elements per partition but has shape [4, 6]",
     "a = nl.ndarray((4, 6), dtype=nl.uint32, buffer=nl.sbuf)\n"
     "nisa.rand_get_state(a, engine=nisa.engine.vector)"),
    ("nisa.rand_get_state: dst has dtype int32, but it must be uint32",
     "a = nl.ndarray((4, 6), dtype=nl.int32, buffer=nl.sbuf)\nnisa.rand_get_state(a)"),
    ("nisa.rand_get_state: dst is in PSUM, but it must be in SBUF",
     "a = nl.ndarray((4, 6), dtype=nl.uint32, buffer=nl.psum)\nnisa.rand_get_state(a)"),
    ("nisa.rand_set_state: src_seeds is in PSUM, but it must be in SBUF",
     "a = nl.ndarray((4, 6), dtype=nl.uint32, buffer=nl.psum)\nnisa.rand_set_state(a)"),
]


@pytest.mark.parametrize(("message", "body"), ERRORS, ids=[m[:60] for m, _ in ERRORS])
def test_errors(tmp_path: Path, message: str, body: str) -> None:
    lines = body.splitlines()
    src = "def kernel(x):\n" + "".join(f"    {line}\n" for line in lines) + "    return x\n"
    err = trace_error(tmp_path, src, np.zeros((4, 4), np.float32), header=BETA2)
    assert err.message == message
    call = lines[-1]
    assert where(err) == (BETA2.count("\n") + 1 + len(lines), 5 + call.index("nisa."))
