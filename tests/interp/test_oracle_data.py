"""Rearrangements, gathers, generated values and the PE array against ``oracle.py``
(docs/semantics.md §3.4, §3.5, §3.9), and the laws: transposing twice, multiplying by the
identity, and a copy activation with scale 1 and bias 0 are the write conversion alone."""

from __future__ import annotations

import itertools
from typing import Any

import ml_dtypes
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from klr.core import (
    AccumCmd,
    ActivationFunc,
    AffineSelect,
    AffineSelectCmp,
    AluOp,
    APPair,
    DataPattern,
    DmaError,
    DmaTranspose,
    Engine,
    ImmFloat,
    ImmInt,
    IndexMissSkip,
    Iota,
    LoadStationary,
    LocalGather,
    MatMul,
    MatMulMX,
    MatmulPerfMode,
    NcActivate,
    NcAffineSelect,
    NcLocalGather,
    NcMatMul,
    NcNGather,
    QuantizeMX,
    RegisterMove,
    Shuffle,
    Transpose,
    TransposeOps,
)
from klr.dtypes import Dtype
from tests.interp import oracle as o

EXAMPLES = settings(max_examples=20, deadline=None)
U = Engine.unassigned
ALL = o.FLOATS + o.INTS


def tensor(name: str, dt: Dtype, dims: tuple[int, ...], data: np.ndarray) -> o.Operand:
    from klr.core import Memory
    t = o.TensorName.make(name, dt, dims, Memory.hbm)
    return o.Operand(t, np.asarray(data).astype(o.NP[dt]).reshape(-1), t)


@EXAMPLES
@given(st.data(), st.integers(1, 5), st.integers(1, 5), st.sampled_from(ALL))
def test_transpose_and_the_law_of_transposing_twice(data: Any, p: int, f: int, dt: Dtype) -> None:
    src = data.draw(o.pattern("s", dt, p, f))
    mid = data.draw(o.pattern("m", dt, f, p, steps=False))  # distinct elements, so the law holds
    back = data.draw(o.pattern("b", dt, p, f, steps=False))
    ops = [Transpose(mid.access, src.access, None, U), Transpose(back.access, mid.access, None, U)]
    got = o.run_case(ops, [src, mid, back], [mid.tensor, back.tensor])
    mem = o.memory([src, mid, back])
    x = mem.read(src.access)
    mem.write(mid.access, [[x[i][j] for i in range(p)] for j in range(f)])
    o.same(got["m"], mem.array(mid.tensor))
    want = np.array([[o.convert(v, dt) for v in row] for row in x], o.NP[dt])
    o.same(got["b"], want)


PERMS = {TransposeOps.None_: (0, 1, 2, 3), TransposeOps.WZXY: (0, 1, 3, 2), TransposeOps.ZYXW: (1, 2, 3, 0),
         TransposeOps.XYZW: (3, 2, 1, 0), TransposeOps.YXWZ: (2, 3, 0, 1), TransposeOps.XWZY: (3, 0, 1, 2)}


@EXAMPLES
@given(st.data(), st.lists(st.integers(1, 3), min_size=4, max_size=4),
       st.sampled_from(sorted(PERMS, key=str)))
def test_dma_transpose_permutes_the_four_axes(data: Any, dims: list[int], axes: TransposeOps) -> None:
    dt = data.draw(st.sampled_from(ALL))
    src = data.draw(o.pattern("s", dt, dims[0], dims[1] * dims[2] * dims[3], free=dims[1:]))
    perm = PERMS[axes]
    out = [dims[k] for k in perm]
    d = data.draw(o.pattern("d", dt, out[0], out[1] * out[2] * out[3], steps=False))
    op = DmaTranspose(d.access, src.access, axes, None, 0, DmaError(), None)
    got = o.run_case([op], [src, d], [d.tensor])
    x = np.array(o.memory([src]).read(src.access), dtype=object).reshape(dims)
    want = np.array([o.convert(v, dt) for v in x.transpose(perm).reshape(-1)], o.NP[dt])
    o.same(got["d"].reshape(-1), want)


@EXAMPLES
@given(st.data(), st.integers(1, 70), st.integers(1, 4))
def test_shuffle(data: Any, p: int, f: int) -> None:
    dt = data.draw(st.sampled_from(ALL))
    src = data.draw(o.pattern("s", dt, p, f))
    d = data.draw(o.pattern("d", dt, p, f))
    n = data.draw(st.integers(1, 32))
    mask = [data.draw(st.sampled_from([255, *range(min(32, p))])) for _ in range(n)]
    if any(m != 255 and q + i < p and q + m >= p for q in range(0, p, 32) for i, m in enumerate(mask)):
        return  # a mask entry naming a missing partition is an error (tested in test_ops_more)
    op = Shuffle(d.access, src.access, tuple(ImmInt(m) for m in mask), None)
    got = o.run_case([op], [src, d], [d.tensor])
    mem = o.memory([src, d])
    x, old = mem.read(src.access), mem.read(d.access)
    rows = [list(r) for r in old]
    for q in range(0, p, 32):
        for i, m in enumerate(mask):
            if m != 255 and q + i < p:
                rows[q + i] = x[q + m]
    mem.write(d.access, rows)
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), st.integers(1, 4), st.integers(1, 6), st.integers(1, 6))
def test_n_gather(data: Any, p: int, f: int, k: int) -> None:
    dt = data.draw(st.sampled_from(ALL))
    src = data.draw(o.pattern("s", dt, p, f))
    idx = tensor("i", Dtype.uint32, (p, k), [data.draw(st.integers(0, f - 1)) for _ in range(p * k)])
    d = data.draw(o.pattern("d", dt, p, k))
    got = o.run_case([NcNGather(d.access, src.access, idx.access, None)], [src, idx, d], [d.tensor])
    mem = o.memory([src, idx, d])
    x, ii = mem.read(src.access), mem.read(idx.access)
    mem.write(d.access, [[x[r][int(j)] for j in ii[r]] for r in range(p)])
    o.same(got["d"], mem.array(d.tensor))


@EXAMPLES
@given(st.data(), st.integers(1, 2), st.integers(1, 3), st.sampled_from([1, 2]))
def test_local_gather(data: Any, groups: int, k: int, n: int) -> None:
    p, f = 16 * groups, 6
    dt = data.draw(st.sampled_from(ALL))
    src = data.draw(o.pattern("s", dt, p, f, steps=False))
    total = 16 * k
    valid = data.draw(st.integers(1, total))
    idx = tensor("i", Dtype.uint16, (p, k), [data.draw(st.integers(0, f - n)) for _ in range(p * k)])
    d = data.draw(o.pattern("d", dt, p, valid * n))
    op = NcLocalGather(d.access, src.access, idx.access, ImmInt(n), ImmInt(valid))
    got = o.run_case([op], [src, idx, d], [d.tensor])
    mem = o.memory([src, idx, d])
    x, ii = mem.read(src.access), mem.read(idx.access)
    rows = []
    for r in range(p):
        g = r // 16
        order = [int(ii[g * 16 + q][c]) for c in range(k) for q in range(16)][:valid]
        rows.append([x[r][start + e] for start in order for e in range(n)])
    mem.write(d.access, rows)
    o.same(got["d"], mem.array(d.tensor))


def test_legacy_local_gather_misses_every_index() -> None:
    d = tensor("d", Dtype.float32, (2, 3), np.arange(6))
    got = o.run_case([LocalGather(d.access, d.access, ImmFloat(-1.5), False)], [d], [d.tensor])
    np.testing.assert_array_equal(got["d"], np.full((2, 3), -1.5, np.float32))
    got = o.run_case([LocalGather(d.access, d.access, IndexMissSkip(), False)], [d], [d.tensor])
    np.testing.assert_array_equal(got["d"], np.arange(6, dtype=np.float32).reshape(2, 3))


@st.composite
def data_pattern(draw: Any, f: int) -> DataPattern:
    split = draw(st.sampled_from([[f], *[[a, f // a] for a in range(2, f + 1) if f % a == 0]]))
    big = draw(st.booleans())
    step = st.integers(-2**30, 2**30) if big else st.integers(-5, 5)
    return DataPattern(draw(step), tuple(APPair(draw(step), n, 0) for n in split), draw(step))


def affine(pattern: DataPattern, p: int, f: int) -> list[list[int]]:
    """offset + p*channelMultiplier + sum(i*step) in 32-bit integers."""
    rows = []
    for r in range(p):
        vals = []
        for xs in itertools.product(*(range(q.num) for q in pattern.pattern)):
            v = pattern.offset + r * pattern.channelMultiplier + sum(q.step * x for q, x in
                                                                     zip(pattern.pattern, xs, strict=True))
            vals.append((v + 2**31) % 2**32 - 2**31)
        rows.append(vals)
    return rows


@EXAMPLES
@given(st.data(), st.integers(1, 4), st.integers(1, 6))
def test_iota_and_affine_selects(data: Any, p: int, f: int) -> None:
    dt = data.draw(st.sampled_from(ALL))
    pat = data.draw(data_pattern(f))
    d = data.draw(o.pattern("d", dt, p, f))
    on_true = data.draw(o.pattern("t", dt, p, f))
    e = data.draw(o.pattern("e", dt, p, f))
    g = data.draw(o.pattern("g", dt, p, f))
    cmp = data.draw(st.sampled_from([AluOp.is_equal, AluOp.is_gt, AluOp.is_le, AluOp.not_equal]))
    fill = data.draw(st.integers(-9, 9))
    mode = data.draw(st.sampled_from(list(AffineSelectCmp)))
    ops = [Iota(d.access, pat, None), NcAffineSelect(e.access, pat, on_true.access, ImmInt(fill), None, cmp),
           RegisterMove("3", fill), AffineSelect(g.access, on_true.access, mode, 3, pat)]
    got = o.run_case(ops, [d, on_true, e, g], [d.tensor, e.tensor, g.tensor])
    vals = affine(pat, p, f)
    mem = o.memory([d, on_true, e, g])
    t = mem.read(on_true.access)
    mem.write(d.access, vals)
    mem.write(e.access, [[t[i][j] if o.alu(cmp, vals[i][j], 0, True) else fill for j in range(f)]
                         for i in range(p)])
    test = {AffineSelectCmp.GreaterThan: lambda v: v > 0, AffineSelectCmp.GreaterThanEq: lambda v: v >= 0,
            AffineSelectCmp.Eq: lambda v: v == 0, AffineSelectCmp.NotEq: lambda v: v != 0}[mode]
    mem.write(g.access, [[t[i][j] if test(vals[i][j]) else fill for j in range(f)] for i in range(p)])
    for name, op_ in (("d", d), ("e", e), ("g", g)):
        o.same(got[name], mem.array(op_.tensor))


# --- the PE array --------------------------------------------------------------------------------

PE = [Dtype.float32, Dtype.bfloat16, Dtype.float16, Dtype.float8e4, Dtype.float8e5]


def matmul_rows(st_rows: list[list[float]], mv_rows: list[list[float]]) -> list[list[float]]:
    k, m, n = len(st_rows), len(st_rows[0]), len(mv_rows[0])
    return [[sum(st_rows[q][i] * mv_rows[q][j] for q in range(k)) for j in range(n)] for i in range(m)]


@EXAMPLES
@given(st.data(), st.integers(1, 5), st.integers(1, 5), st.integers(1, 6), st.booleans())
def test_matmul_accumulates_and_the_legacy_pair_agrees(data: Any, k: int, m: int, n: int,
                                                        double: bool) -> None:
    dts, dtm = data.draw(st.sampled_from(PE)), data.draw(st.sampled_from(PE))
    width = 2 if double else 1
    sta = data.draw(o.pattern("s", dts, k, width * m, free=[width, m] if double else None))
    mov = data.draw(o.pattern("v", dtm, k, width * n, free=[width, n] if double else None))
    acc = data.draw(o.pattern("a", Dtype.float32, m, n, steps=False))
    mode = MatmulPerfMode.DoubleRow if double else MatmulPerfMode.None_
    ops: list[object] = [NcMatMul(acc.access, sta.access, mov.access, False, False, False, (), (), mode)]
    if not double:
        ops += [LoadStationary(sta.access, False), MatMul(acc.access, mov.access)]
    got = o.run_case(ops, [sta, mov, acc], [acc.tensor])
    mem = o.memory([sta, mov, acc])
    s_rows, v_rows, old = mem.read(sta.access), mem.read(mov.access), mem.read(acc.access)
    if double:  # row 2k + t is pair element t of partition k
        s_rows = [r[t * m:(t + 1) * m] for r in s_rows for t in range(2)]
        v_rows = [r[t * n:(t + 1) * n] for r in v_rows for t in range(2)]
    prod = matmul_rows(s_rows, v_rows)
    times = 1 if double else 2
    o.close(got["a"], [[old[i][j] + times * prod[i][j] for j in range(n)] for i in range(m)], 2 * k)


@EXAMPLES
@given(st.data(), st.integers(1, 6), st.integers(1, 6), st.sampled_from(PE + o.INTS))
def test_transpose_matmul_and_the_identity_law(data: Any, k: int, n: int, dt: Dtype) -> None:
    """A transpose-mode matmul writes movingᵀ bit for bit; a plain matmul by the identity gives
    moving back (exact: the products are exact in float32)."""
    mov = data.draw(o.pattern("v", dt, k, n))
    t = data.draw(o.pattern("t", dt, n, k, steps=False))
    eye = tensor("e", Dtype.bfloat16, (k, k), np.eye(k))
    acc = tensor("a", Dtype.float32, (k, n), np.zeros(k * n))
    none = MatmulPerfMode.None_
    ops = [NcMatMul(t.access, eye.access, mov.access, True, False, True, (), (), none)]
    if dt in PE:
        ops.append(NcMatMul(acc.access, eye.access, mov.access, True, False, False, (), (), none))
    got = o.run_case(ops, [mov, t, eye, acc], [t.tensor, acc.tensor])
    v = o.memory([mov]).read(mov.access)
    idx, _ = o.indices(mov.access)
    raw = mov.data[idx].reshape(k, n)
    o.same(got["t"], raw.T.copy())
    if dt in PE:
        o.same(got["a"], np.array(v, np.float32))


@EXAMPLES
@given(st.data(), st.integers(1, 4), st.integers(1, 6), st.sampled_from(o.FLOATS + o.INTS),
       st.sampled_from(o.FLOATS + o.INTS))
def test_copy_activation_with_scale_one_and_bias_zero_is_the_conversion(data: Any, p: int, f: int, ds: Dtype,
                                                                        dd: Dtype) -> None:
    src = data.draw(o.pattern("s", ds, p, f))
    d = data.draw(o.pattern("d", dd, p, f, steps=False))
    op = NcActivate(d.access, src.access, AccumCmd.Idle, ActivationFunc.copy, ImmFloat(1.0), None, None, None,
                    None)
    got = o.run_case([op], [src, d], [d.tensor])
    x = o.memory([src]).read(src.access)
    o.same(got["d"], np.array([[o.convert(float(np.float32(v)), dd) for v in row] for row in x], o.NP[dd]))


# --- MX ------------------------------------------------------------------------------------------

MX = {Dtype.float8_e5m2_x4: (ml_dtypes.float8_e5m2, 8, 15),
      Dtype.float8_e4m3fn_x4: (ml_dtypes.float8_e4m3fn, 8, 8)}


def scale_row(g: int) -> int:
    return (g // 4) * 32 + g % 4


@EXAMPLES
@given(st.data(), st.sampled_from([8, 16, 40]), st.integers(1, 3), st.sampled_from(sorted(MX, key=str)))
def test_quantize_mx_then_matmul_mx(data: Any, p: int, cols: int, packed: Dtype) -> None:
    f = 4 * cols
    gen = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    raw = (gen.standard_normal((p, f)) * np.exp2(gen.integers(-6, 6, (p, 1)))).astype(ml_dtypes.bfloat16)
    src = tensor("s", Dtype.bfloat16, (p, f), raw)
    q = tensor("q", packed, (p, cols), np.zeros(p * cols))
    rows = scale_row(p // 8 - 1) + 1
    sc = tensor("c", Dtype.uint8, (rows, cols), np.full(rows * cols, 7))
    mov = tensor("m", packed, (p, cols), gen.integers(0, 2**32, p * cols, dtype=np.uint64))
    msc = tensor("n", Dtype.uint8, (rows, cols), gen.integers(120, 134, rows * cols))
    acc = tensor("a", Dtype.float32, (cols, cols), np.zeros(cols * cols))
    ops = [QuantizeMX(q.access, src.access, sc.access),
           MatMulMX(acc.access, q.access, mov.access, sc.access, msc.access, None, None)]
    got = o.run_case(ops, [src, q, sc, mov, msc, acc], [q.tensor, sc.tensor, acc.tensor])
    fmt, bits, emax = MX[packed]
    x = raw.astype(np.float64)
    want_scale = np.full((rows, cols), 7, np.int64)
    deq_s = np.zeros((p, cols, 4))
    want_q = np.zeros((p, cols), np.uint64)
    for g in range(p // 8):
        for c in range(cols):
            block = x[8 * g:8 * g + 8, 4 * c:4 * c + 4]
            amax = np.float32(np.abs(block).max())
            e = int(amax.view(np.uint32) >> 23) & 0xFF
            byte = min(max(e - (emax - 1), 0), 254)
            want_scale[scale_row(g), c] = byte
            vals = (block / 2.0 ** (byte - 127)).astype(np.float32).astype(fmt)
            deq_s[8 * g:8 * g + 8, c] = vals.astype(np.float64) * 2.0 ** (byte - 127)
            codes = vals.view(np.uint8).astype(np.uint64)
            want_q[8 * g:8 * g + 8, c] = sum(codes[:, i] << (8 * i) for i in range(4))
    np.testing.assert_array_equal(got["q"].astype(np.uint64), want_q)
    np.testing.assert_array_equal(got["c"], want_scale.astype(np.uint8))
    mv_codes = mov.data.reshape(p, cols).astype(np.uint64)
    mv_vals = np.stack([((mv_codes >> (8 * i)) & 0xFF).astype(np.uint8).view(fmt).astype(np.float64)
                        for i in range(4)], axis=-1)
    mscale = msc.data.reshape(rows, cols).astype(np.float64)
    deq_m = np.array([[mv_vals[k, c] * 2.0 ** (mscale[scale_row(k // 8), c] - 127) for c in range(cols)]
                      for k in range(p)])
    want = np.einsum("kmq,knq->mn", deq_s, deq_m)
    finite = np.isfinite(want)
    got_acc = got["a"].astype(np.float64)
    np.testing.assert_array_equal(np.isfinite(got_acc), finite)
    o.close(got_acc[finite], want[finite], 4 * p)
