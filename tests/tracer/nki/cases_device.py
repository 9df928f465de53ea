"""Differential cases of the newer ``nki.isa`` instructions (exponential, activate2, nc_n_gather,
dma_compute, MX quantization and matmul), the engines' random generators, and the device's
registers and control flow (``nisa.register_*``, ``nl.dynamic_range``, ``fori_loop``,
``while_loop``).

The numpy models are the independent ones of the builtins' own tests (``xorwow`` of
test_isa_rng, ``quantize`` of test_isa_mx), imported rather than copied. The generators are
checked from a state the kernel writes (``rand_set_state``), since NKI documents XORWOW but not
how a seed becomes a state: ``set_rng_seed`` is checked by reproducibility (a seed written twice
draws the same numbers).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.tracer.nki.cases_isa import T5, C, dst
from tests.tracer.nki.cases_lang import X, Y, ints, uniform
from tests.tracer.nki.differential import Case, b2, case, lg
from tests.tracer.nki.test_isa_mx import quantize
from tests.tracer.nki.test_isa_rng import xorwow


def _engines() -> list[Case]:
    exp = dst() + "nisa.exponential(res, a_t, max_value=c_t)"
    act2 = dst() + "nisa.activate2(res, nl.tanh, a_t, 2.0, c_t, nl.multiply, nl.add, reverse0=False)"
    gather = dst("(8, 5)") + "nisa.nc_n_gather(res, a_t, i_t)"
    compute = dst() + "nisa.dma_compute(res, [a, b_t], nl.add, scales=[2.0, -1.0])"
    sub = dst() + "nisa.tensor_scalar(res, a_t, nl.add, 1.0 if nisa.get_nc_sub_version() == 0 else 2.0)"
    idx = ints(0, 12, (8, 5), np.uint32, seed=5)
    return [
        case("exponential", b2(exp, "a", "c"), [X, C], lambda x, c: np.exp(x - c), rtol=T5, beta2=True),
        case(
            "activate2", lg(act2, "a", "c"), [X, C], lambda x, c: np.tanh(2 * x + c), rtol=T5, atol=1e-6
        ),
        case(
            "nc_n_gather",
            b2(gather, "a", "i"),
            [uniform(-1, 1, (8, 3, 4)), idx],
            lambda x, i: np.take_along_axis(x.reshape(8, 12), i.astype(np.int64), axis=1),
            beta2=True,
        ),
        case(
            "dma_compute", b2(compute, "a", "b"), [X, Y], lambda a, b: 2 * a - b, rtol=T5, atol=T5, beta2=True
        ),
        case("get_nc_sub_version", lg(sub, "a"), [X], lambda x: x + 1),
    ]


MX = """
def kernel(a, b):
    sa = nl.ndarray((32, 16), dtype=nl.float16, buffer=nl.sbuf)
    sb = nl.ndarray((32, 32), dtype=nl.float16, buffer=nl.sbuf)
    nisa.dma_copy(dst=sa, src=a)
    nisa.dma_copy(dst=sb, src=b)
    qa = nl.ndarray((32, 4), dtype=nl.float8_e4m3fn_x4, buffer=nl.sbuf)
    qb = nl.ndarray((32, 8), dtype=nl.float8_e5m2_x4, buffer=nl.sbuf)
    ca = nl.ndarray((32, 4), dtype=nl.uint8, buffer=nl.sbuf)
    cb = nl.ndarray((32, 8), dtype=nl.uint8, buffer=nl.sbuf)
    nisa.quantize_mx(qa, sa, ca)
    nisa.quantize_mx(dst=qb, src=sb, dst_scale=cb)
    acc = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.psum)
    nisa.nc_matmul_mx(acc, qa, qb, ca, cb)
    words = nl.ndarray((32, 4), dtype=nl.uint32, buffer=nl.shared_hbm)
    prod = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.shared_hbm)
    nisa.dma_copy(dst=words, src=qa.view(nl.uint32))
    nisa.dma_copy(dst=prod, src=acc)
    return words, prod
"""


def _mx(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    words, _, da = quantize(a, "float8_e4m3fn_x4")
    _, _, db = quantize(b, "float8_e5m2_x4")
    return [words, np.einsum("kmq,knq->mn", da.reshape(32, 4, 4), db.reshape(32, 8, 4))]


# the vector engine's 4 generators per lane, written, read back, then drawn from by rng and rand2
RANDOM = """
def kernel(s, lo, hi):
    st = nl.ndarray((4, 24), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.dma_copy(dst=st, src=s)
    l = nl.ndarray((4, 1), dtype=nl.float32, buffer=nl.sbuf)
    h = nl.ndarray((4, 1), dtype=nl.float32, buffer=nl.sbuf)
    nisa.dma_copy(dst=l, src=lo)
    nisa.dma_copy(dst=h, src=hi)
    nisa.rand_set_state(st, engine=nisa.engine.vector)
    back = nl.ndarray((4, 24), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.rand_get_state(back, engine=nisa.engine.vector)
    bits = nl.ndarray((4, 8), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.rng(bits, engine=nisa.engine.vector)
    nisa.rand_set_state(src_seeds=st, engine=nisa.engine.vector)
    f = nl.ndarray((4, 8), dtype=nl.float32, buffer=nl.sbuf)
    nisa.rand2(f, l, h)
    outs = []
    for t in (back, bits, f):
        o = nl.ndarray(t.shape, dtype=t.dtype, buffer=nl.shared_hbm)
        nisa.dma_copy(dst=o, src=t)
        outs.append(o)
    return outs[0], outs[1], outs[2]
"""


def _draws(state: np.ndarray, count: int) -> np.ndarray:
    """[lanes, count] bits of the vector engine, element j from generator j mod 4."""
    out = np.zeros((len(state), count), np.uint32)
    for p, row in enumerate(state.tolist()):
        gens = [row[6 * g : 6 * g + 6] for g in range(4)]
        for j in range(count):
            (out[p, j],), gens[j % 4] = xorwow(gens[j % 4], 1)
    return out


def _random(s: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
    bits = _draws(s, 8)
    unit = (bits >> 8).astype(np.float32) * np.float32(2.0**-24)  # NKI: uniform on [min, max)
    return [s, bits, lo + unit * (hi - lo)]


SEEDED = b2(
    """
    a = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.sbuf)
    b = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.set_rng_seed(s_t)
    nisa.rng(a, engine=nisa.engine.vector)
    nisa.set_rng_seed(src_seeds=s_t)
    nisa.rng(b, engine=nisa.engine.vector)
    res = nl.ndarray((8, 16), dtype=nl.uint32, buffer=nl.sbuf)
    nisa.tensor_tensor(dst=res, data1=a, data2=b, op=nl.bitwise_xor)
    """,
    "s",
)

# rows of x scaled into out by three device loops and a while_loop, then a register's arithmetic
# stored: rows 0, 3 (x1, dynamic_range step 3), 4, 5 (x2, fori_loop), 2, 1 (x3, while_loop)
LOOPS = """
def kernel(x, n):
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    zero = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)
    nisa.memset(dst=zero, value=0.0)
    nisa.dma_copy(dst=out, src=zero)
    cnt = nl.ndarray((1, 1), dtype=nl.int32, buffer=nl.sbuf)
    nisa.dma_copy(dst=cnt, src=n)
    stop = nisa.register_alloc(cnt)
    for i in nl.dynamic_range(0, stop, 3):
        row(x, out, i, 1.0)
    nl.fori_loop(4, stop, lambda i: row(x, out, i, 2.0))
    c = nisa.register_alloc()
    nisa.register_move(c, 2)

    def step(c):
        row(x, out, c, 3.0)
        return c - 1

    nl.while_loop(c, step)
    nisa.register_load(c, cnt)
    k = nl.ndarray((1, 1), dtype=nl.int32, buffer=nl.sbuf)
    nisa.register_store(k, c * 3 - 6)
    kout = nl.ndarray((1, 1), dtype=nl.int32, buffer=nl.shared_hbm)
    nisa.dma_copy(dst=kout, src=k)
    return out, kout


def row(x, out, i, scale):
    t = nl.ndarray((1, x.shape[1]), dtype=x.dtype, buffer=nl.sbuf)
    nisa.dma_copy(dst=t, src=x[i, :])
    nisa.tensor_scalar(dst=t, data=t, op0=nl.multiply, operand0=scale)
    nisa.dma_copy(dst=out[i, :], src=t)
"""


def _loops(x: np.ndarray, n: np.ndarray) -> list[np.ndarray]:
    stop = int(n[0, 0])
    out = np.zeros_like(x)
    for i in range(0, stop, 3):
        out[i] = x[i]
    for i in range(4, stop):
        out[i] = 2 * x[i]
    c = 2
    while c:
        out[c] = 3 * x[c]
        c -= 1
    return [out, np.array([[3 * stop - 6]], np.int32)]


def _device() -> list[Case]:
    rng = np.random.default_rng(11)
    state = rng.integers(0, 1 << 32, (4, 24), dtype=np.uint32)
    lo = np.arange(4, dtype=np.float32)[:, None] - 2
    hi = lo + np.float32(0.5)
    a, b = (rng.standard_normal(s).astype(np.float16) for s in ((32, 16), (32, 32)))
    return [
        case("quantize_mx-nc_matmul_mx", MX, [a, b], _mx, rtol=1e-5, atol=1e-5, beta2=True),
        case("rng-state", RANDOM, [state, lo, hi], _random, rtol=1e-6, beta2=True),
        case(
            "set_rng_seed-reproduces",
            SEEDED,
            [np.array([[42]], np.uint32)],
            lambda s: np.zeros((8, 16), np.uint32),
            beta2=True,
        ),
        case(
            "registers-loops", LOOPS, [uniform(-1, 1, (8, 16)), np.array([[6]], np.int32)], _loops, beta2=True
        ),
    ]


CASES: list[Case] = [replace(c, name="device." + c.name) for c in (*_engines(), *_device())]
