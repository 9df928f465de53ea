"""Differential cases of the ``nki.isa`` builtins: each in its legacy value-returning form (``lg``)
and its destination-passing form (``b2``) where it has two.

Tolerances as in cases_lang: rtol 1e-5 for one float32 instruction; exact for copies, selections,
index results and integer arithmetic.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.tracer.nki.cases_lang import AWAY, BF16, F32, POS, X, Y, ints, uniform
from tests.tracer.nki.differential import Case, b2, case, lg

C = uniform(-1, 1, (8, 1), seed=2)  # a per-partition column
P01 = np.round(uniform(0, 1, seed=3))  # a 0/1 predicate
T5 = 1e-5


def dst(shape: str = "a_t.shape", dtype: str = "nl.float32", buffer: str = "nl.sbuf") -> str:
    return f"res = nl.ndarray({shape}, dtype={dtype}, buffer={buffer})\n"


def _compute() -> list[Case]:
    act_l = "res = nisa.activation(op=nl.exp, data=a_t, scale=2.0, bias=c_t)"
    act_b = dst() + "nisa.activation(dst=res, op=nl.tanh, data=a_t, bias=c_t, scale=0.5)"
    red_l = """
    s = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)
    e = nisa.activation_reduce(op=nl.exp, data=a_t, reduce_op=nl.add, reduce_res=s)
    res = nl.add(e, s)
    """
    red_b = (
        "s = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)\n"
        "e = nl.ndarray(a_t.shape, dtype=nl.float32, buffer=nl.sbuf)\n"
        "nisa.activation_reduce(e, nl.exp, a_t, reduce_op=nl.add, reduce_res=s)\n" + dst()
    ) + "nisa.tensor_tensor(dst=res, data1=e, data2=s.broadcast_to((8, 16)), op=nl.subtract)"
    stt = "op0=np.multiply, operand0=c_t, op1=np.add, operand1=b_t"
    ts_red = "op0=np.multiply, operand0=2.0, reduce_op=np.add, reduce_res=s"
    negated = (
        "s = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)\n"
        "t = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)\n"
        "r = nl.ndarray(a_t.shape, dtype=nl.float32, buffer=nl.sbuf)\n"
        f"nisa.tensor_scalar_reduce(dst=r, data=a_t, {ts_red}, reduce_res_negate=True)\n"
        "nisa.tensor_scalar_reduce(r, a_t, nl.multiply, 1.0, nl.add, t, reduce_cmd=nisa.reduce_cmd.reduce)\n"
        "res = nl.ndarray((8, 2), dtype=nl.float32, buffer=nl.sbuf)\n"
        "nisa.tensor_copy(res[:, 0:1], s)\nnisa.tensor_copy(res[:, 1:2], t)"
    )

    def negated_want(x: np.ndarray) -> np.ndarray:  # the accumulator keeps the sum, not its negation
        return np.concatenate([-(2 * x).sum(1, keepdims=True), (3 * x).sum(1, keepdims=True)], 1)

    return [
        case(
            "tensor_scalar_reduce-negate", b2(negated, "a"), [X], negated_want, rtol=T5, atol=1e-5, beta2=True
        ),
        case("activation", lg(act_l, "a", "c"), [X, C], lambda x, c: np.exp(2 * x + c), rtol=T5),
        case(
            "activation",
            b2(act_b, "a", "c"),
            [X, C],
            lambda x, c: np.tanh(0.5 * x + c),
            rtol=T5,
            atol=1e-6,
            beta2=True,
        ),
        case(
            "activation_reduce",
            lg(red_l, "a"),
            [X],
            lambda x: np.exp(x) + np.exp(x).sum(1, keepdims=True),
            rtol=T5,
        ),
        case(
            "activation_reduce",
            b2(red_b, "a"),
            [X],
            lambda x: np.exp(x) - np.exp(x).sum(1, keepdims=True),
            rtol=T5,
            beta2=True,
        ),
        case("reciprocal", lg("res = nisa.reciprocal(a_t)", "a"), [AWAY], np.reciprocal, rtol=T5),
        case(
            "reciprocal",
            b2(dst() + "nisa.reciprocal(res, a_t)", "a"),
            [AWAY],
            np.reciprocal,
            rtol=T5,
            beta2=True,
        ),
        case(
            "tensor_tensor",
            lg("res = nisa.tensor_tensor(a_t, b_t, op=np.multiply)", "a", "b"),
            [X, Y],
            np.multiply,
        ),
        case(
            "tensor_tensor",
            b2(dst() + "nisa.tensor_tensor(res, a_t, b_t, nl.subtract)", "a", "b"),
            [X, Y],
            np.subtract,
            beta2=True,
        ),
        case(
            "tensor_scalar",
            lg("res = nisa.tensor_scalar(a_t, np.subtract, c_t, op1=np.multiply, operand1=2.0)", "a", "c"),
            [X, C],
            lambda x, c: (x - c) * 2,
            rtol=T5,
        ),
        case(
            "tensor_scalar",
            b2(
                dst() + "nisa.tensor_scalar(res, a_t, np.subtract, 1.0, reverse0=True, "
                "op1=nl.multiply, operand1=c_t)",
                "a",
                "c",
            ),
            [X, C],
            lambda x, c: (1 - x) * c,
            rtol=T5,
            beta2=True,
        ),
        case(
            "scalar_tensor_tensor",
            lg(f"res = nisa.scalar_tensor_tensor(data=a_t, {stt})", "a", "c", "b"),
            [X, C, Y],
            lambda x, c, y: x * c + y,
            rtol=T5,
            atol=1e-6,
        ),
        case(
            "scalar_tensor_tensor",
            b2(dst() + f"nisa.scalar_tensor_tensor(dst=res, data=a_t, {stt})", "a", "c", "b"),
            [X, C, Y],
            lambda x, c, y: x * c + y,
            rtol=T5,
            atol=1e-6,
            beta2=True,
        ),
        case(
            "tensor_scalar_reduce",
            lg(
                f"s = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)\n"
                f"r = nisa.tensor_scalar_reduce(data=a_t, {ts_red})\nres = nl.add(r, s)",
                "a",
            ),
            [X],
            lambda x: 2 * x + (2 * x).sum(1, keepdims=True),
            rtol=T5,
            atol=1e-6,
        ),
        case(
            "tensor_scalar_reduce",
            b2(
                "s = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)\n"
                + dst()
                + f"nisa.tensor_scalar_reduce(dst=res, data=a_t, {ts_red})\nres = s",
                "a",
            ),
            [X],
            lambda x: (2 * x).sum(1, keepdims=True),
            rtol=T5,
            atol=1e-6,
            beta2=True,
        ),
        case(
            "tensor_tensor_scan",
            lg("res = nisa.tensor_tensor_scan(a_t, b_t, 0.0, np.multiply, np.add)", "a", "b"),
            [X, Y],
            _scan,
            rtol=T5,
            atol=1e-6,
        ),
        case(
            "tensor_tensor_scan",
            b2(dst() + "nisa.tensor_tensor_scan(res, a_t, b_t, 1.0, nl.multiply, nl.add)", "a", "b"),
            [X, Y],
            lambda x, y: _scan(x, y, 1.0),
            rtol=T5,
            atol=1e-6,
            beta2=True,
        ),
        case(
            "tensor_scalar_cumulative",
            lg("res = nisa.tensor_scalar_cumulative(a_t, np.multiply, np.add, 2.0)", "a"),
            [X],
            _cum,
            rtol=T5,
            atol=1e-5,
        ),
        case(
            "tensor_scalar_cumulative",
            b2(
                dst()
                + "nisa.tensor_scalar_cumulative(dst=res, src=a_t, op0=nl.multiply, op1=nl.add, imm0=2.0, "
                "imm1=3.0, reduce_cmd=nisa.reduce_cmd.load_reduce)",
                "a",
            ),
            [X],
            lambda x: 3 + _cum(x),
            rtol=T5,
            atol=1e-5,
            beta2=True,
        ),
        case(
            "tensor_copy",
            lg("res = nisa.tensor_copy(a_t, dtype=nl.bfloat16)", "a"),
            [X],
            lambda x: x.astype(BF16),
        ),
        case(
            "tensor_copy",
            b2(dst(dtype="nl.bfloat16") + "nisa.tensor_copy(res, a_t)", "a"),
            [X],
            lambda x: x.astype(BF16),
            beta2=True,
        ),
        case(
            "bf16-tensor_tensor",
            lg("res = nisa.tensor_tensor(a_t, b_t, op=np.add, dtype=nl.bfloat16)", "a", "b"),
            [X.astype(BF16), Y.astype(BF16)],
            lambda x, y: (x.astype(F32) + y.astype(F32)).astype(BF16),
        ),
        case("dropout-none", lg("res = nisa.dropout(a_t, prob=0.0)", "a"), [X], lambda x: x),
        case("dropout-all", b2(dst() + "nisa.dropout(res, a_t, 1.0)", "a"), [X], np.zeros_like, beta2=True),
        case("nl-dropout-none", lg("res = nl.dropout(a_t, rate=0.0)", "a"), [X], lambda x: x),
    ]


def _cum(x: np.ndarray) -> np.ndarray:
    return np.cumsum(2 * x, axis=1)


def _scan(x: np.ndarray, y: np.ndarray, initial: float = 0.0) -> np.ndarray:
    out = np.empty_like(x)
    acc = np.full(x.shape[0], initial, F32)
    for i in range(x.shape[1]):
        acc = acc * x[:, i] + y[:, i]
        out[:, i] = acc
    return out


def _reductions() -> list[Case]:
    bn_l = "st = nisa.bn_stats(a_t)\nres = nisa.bn_aggr(st)"
    bn_b = (
        "st = nl.ndarray((8, 6), dtype=nl.float32, buffer=nl.sbuf)\nnisa.bn_stats(st, a_t)\n"
        + dst("(8, 2)")
        + "nisa.bn_aggr(res, st)"
    )
    top = lambda x: -np.sort(-x, axis=1)[:, :8]  # noqa: E731
    idx = lambda x: np.argsort(-x, axis=1, kind="stable")[:, :8]  # noqa: E731

    def replaced(x: np.ndarray) -> np.ndarray:
        out = x.copy()
        np.put_along_axis(out, idx(x), -1.0, axis=1)
        return out

    return [
        case(
            "bn_stats", lg(bn_l, "a"), [X], lambda x: np.stack([x.mean(1), x.var(1)], 1), rtol=T5, atol=1e-6
        ),
        case(
            "bn_stats",
            b2(bn_b, "a"),
            [X],
            lambda x: np.stack([x.mean(1), x.var(1)], 1),
            rtol=T5,
            atol=1e-6,
            beta2=True,
        ),
        case(
            "tensor_reduce",
            lg("res = nisa.tensor_reduce(np.max, a_t, axis=1, keepdims=True, negate=True)", "a"),
            [X],
            lambda x: -x.max(1, keepdims=True),
        ),
        case(
            "tensor_reduce",
            b2(dst("(8, 1)") + "nisa.tensor_reduce(res, nl.add, a_t, axis=1, keepdims=True)", "a"),
            [X],
            lambda x: x.sum(1, keepdims=True),
            rtol=T5,
            beta2=True,
        ),
        case(
            "tensor_partition_reduce",
            lg("res = nisa.tensor_partition_reduce(np.add, a_t)", "a"),
            [X],
            lambda x: x.sum(0, keepdims=True),
            rtol=T5,
            atol=1e-6,
        ),
        case(
            "tensor_partition_reduce",
            b2(dst("(1, 16)") + "nisa.tensor_partition_reduce(res, nl.maximum, a_t)", "a"),
            [X],
            lambda x: x.max(0, keepdims=True),
            beta2=True,
        ),
        case("max8", lg("res = nisa.max8(src=a_t)", "a"), [X], top),
        case("max8", b2(dst("(8, 8)") + "nisa.max8(res, a_t)", "a"), [X], top, beta2=True),
        case(
            "nc_find_index8",
            lg("res = nisa.nc_find_index8(data=a_t, vals=nisa.max8(src=a_t))", "a"),
            [X],
            idx,
        ),
        case(
            "nc_find_index8",
            b2(
                "m = nl.ndarray((8, 8), dtype=nl.float32, buffer=nl.sbuf)\nnisa.max8(m, a_t)\n"
                + dst("(8, 8)", "nl.uint32")
                + "nisa.nc_find_index8(res, a_t, m)",
                "a",
            ),
            [X],
            idx,
            beta2=True,
        ),
        case(
            "nc_match_replace8",
            lg("res = nisa.nc_match_replace8(data=a_t, vals=nisa.max8(src=a_t), imm=-1.0)", "a"),
            [X],
            replaced,
        ),
        case(
            "nc_match_replace8",
            b2(
                "m = nl.ndarray((8, 8), dtype=nl.float32, buffer=nl.sbuf)\nnisa.max8(m, a_t)\n"
                "i = nl.ndarray((8, 8), dtype=nl.uint32, buffer=nl.sbuf)\n"
                + dst()
                + "nisa.nc_match_replace8(res, a_t, m, -1.0, dst_idx=i)\nres = i",
                "a",
            ),
            [X],
            idx,
            beta2=True,
        ),
    ]


A = uniform(-1, 1, (32, 16))
B = uniform(-1, 1, (32, 8), seed=1)


def _movement() -> list[Case]:
    shuffle = [255] + [31 - i for i in range(1, 32)]
    sh_want = lambda a: np.concatenate([np.zeros((1, 16), F32), a[::-1][1:]])  # noqa: E731
    seq = np.array([[1, 1, 0, 2, 2, 2, 3, 0], [4, 4, 4, 4, 0, 0, 5, 5]], F32)
    seq_want = np.array(
        [
            [[0, 0, 8, 3, 3, 3, 6, 8], [2, 2, -1, 6, 6, 6, 7, -1]],
            [[0, 0, 0, 0, 8, 8, 6, 6], [4, 4, 4, 4, -1, -1, 8, 8]],
        ],
        F32,
    )
    gidx = ints(0, 8, (16, 1), np.uint16, seed=4)
    return [
        case(
            "nc_matmul",
            lg("res = nisa.nc_matmul(a_t, b_t)", "a", "b"),
            [A, B],
            lambda a, b: a.T @ b,
            rtol=T5,
            atol=1e-5,
        ),
        case(
            "nc_matmul",
            b2(dst("(16, 8)", buffer="nl.psum") + "nisa.nc_matmul(res, a_t, b_t)", "a", "b"),
            [A, B],
            lambda a, b: a.T @ b,
            rtol=T5,
            atol=1e-5,
            beta2=True,
        ),
        case(
            "nc_matmul-accumulate",
            b2(
                dst("(16, 8)", buffer="nl.psum") + "for i in nl.sequential_range(3):\n"
                "    nisa.nc_matmul(res, a_t, b_t, accumulate=(i > 0))\n"
                "nisa.nc_matmul(res, a_t, b_t)",
                "a",
                "b",
            ),
            [A, B],
            lambda a, b: 4 * (a.T @ b),
            rtol=T5,
            atol=1e-5,
            beta2=True,
        ),
        case(
            "nc_matmul-overwrite",
            b2(
                dst("(16, 8)", buffer="nl.psum") + "nisa.nc_matmul(res, a_t, b_t)\n"
                "nisa.nc_matmul(res, a_t, b_t, accumulate=False)",
                "a",
                "b",
            ),
            [A, B],
            lambda a, b: a.T @ b,
            rtol=T5,
            atol=1e-5,
            beta2=True,
        ),
        case("nc_transpose", lg("res = nisa.nc_transpose(a_t)", "a"), [A], lambda a: a.T),
        case(
            "nc_transpose",
            b2(dst("(32, 32)") + "nisa.nc_transpose(res, a_t, engine=nisa.vector_engine)", "a"),
            [uniform(-1, 1, (32, 32))],
            lambda a: a.T,
            beta2=True,
        ),
        case("dma_transpose", lg("res = nisa.dma_transpose(a[:, :])", "a", load=False), [A], lambda a: a.T),
        case(
            "dma_transpose",
            b2(dst("(16, 32)") + "nisa.dma_transpose(dst=res, src=a)", "a"),
            [A],
            lambda a: a.T,
            beta2=True,
        ),
        case(
            "nc_stream_shuffle",
            lg(
                f"res = nl.zeros((32, 16), dtype=nl.float32)\n"
                f"nisa.nc_stream_shuffle(a_t, res, shuffle_mask={shuffle})",
                "a",
            ),
            [A],
            sh_want,
        ),
        case(
            "nc_stream_shuffle",
            b2(dst("(32, 16)") + f"nisa.memset(res, 0.0)\nnisa.nc_stream_shuffle(res, a_t, {shuffle})", "a"),
            [A],
            sh_want,
            beta2=True,
        ),
        case(
            "local_gather",
            lg("res = nisa.local_gather(a_t, i_t)", "a", "i"),
            [uniform(-1, 1, (16, 8)), gidx],
            lambda x, i: x[:, i[:, 0].astype(np.int64)],
        ),
        case(
            "local_gather",
            b2(dst("(16, 16)") + "nisa.local_gather(res, a_t, i_t)", "a", "i"),
            [uniform(-1, 1, (16, 8)), gidx],
            lambda x, i: x[:, i[:, 0].astype(np.int64)],
            beta2=True,
        ),
        case(
            "sequence_bounds",
            lg("res = nisa.sequence_bounds(segment_ids=a_t)", "a"),
            [seq],
            lambda s: seq_want,
        ),
        case(
            "sequence_bounds",
            b2(dst("(2, 2, 8)") + "nisa.sequence_bounds(res, a_t)", "a"),
            [seq],
            lambda s: seq_want,
            beta2=True,
        ),
        case(
            "tensor_copy_dynamic_src",
            lg("res = nisa.tensor_copy_dynamic_src(a_t[:, 2:6])", "a"),
            [X],
            lambda x: x[:, 2:6],
        ),
        case(
            "tensor_copy_dynamic",
            b2(
                "c = nl.ndarray((8, 4), dtype=nl.float32, buffer=nl.sbuf)\n"
                "nisa.tensor_copy_dynamic_src(dst=c, src=a_t[:, 2:6])\n"
                "res = b_t\nnisa.tensor_copy_dynamic_dst(dst=res[:, 0:4], src=c)",
                "a",
                "b",
            ),
            [X, Y],
            lambda x, y: np.concatenate([x[:, 2:6], y[:, 4:]], 1),
            beta2=True,
        ),
        case(
            "tensor_copy_predicated",
            b2(
                dst()
                + "nisa.memset(dst=res, value=0.0)\n"
                + "nisa.tensor_copy_predicated(dst=res, src=a_t, predicate=p_t)",
                "a",
                "p",
            ),
            [X, P01],
            lambda x, p: np.where(p != 0, x, 0),
            beta2=True,
        ),
        case(
            "tensor_copy_predicated-number",
            b2(
                dst("(8, 16)") + "nisa.memset(res, 1.5)\n"
                "nisa.tensor_copy_predicated(res, -2.0, p_t, reverse_pred=True)",
                "p",
            ),
            [P01.astype(np.uint8)],
            lambda p: np.where(p == 0, -2.0, 1.5),
            beta2=True,
        ),
        case(
            "dma_copy-add",
            b2("res = a_t\nnisa.dma_copy(dst=res, src=b, dst_rmw_op=nl.add)", "a", "b"),
            [X, Y],
            np.add,
            rtol=T5,
            beta2=True,
        ),
    ]


def _selection() -> list[Case]:
    tri = lambda x: np.where(np.tri(8, 16, dtype=bool), x, -9)  # noqa: E731
    rs = (
        "comp_op0=np.greater_equal, comp_op1=np.less, bound0=lo_t, bound1=hi_t, range_start=2, "
        "on_false_value=-5.0"
    )
    lo, hi = ints(0, 8, (8, 1)).astype(F32), ints(8, 18, (8, 1), seed=1).astype(F32)
    cols = np.arange(16) + 2

    def ranged(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return np.where((cols >= lo) & (cols < hi), x, -5)

    return [
        case(
            "affine_select",
            lg(
                "res = nisa.affine_select(pred=(nl.arange(8)[:, None] - nl.arange(16)[None, :] "
                ">= 0), on_true_tile=a_t, on_false_value=-9.0)",
                "a",
            ),
            [X],
            tri,
        ),
        case(
            "affine_select",
            b2(
                dst() + "nisa.affine_select(res, [[-1, 16]], channel_multiplier=1, "
                "on_true_tile=a_t, on_false_value=-9.0, cmp_op=nl.greater_equal)",
                "a",
            ),
            [X],
            tri,
            beta2=True,
        ),
        case(
            "affine_select-positional",  # NKI's order: channel_multiplier, on_true_tile, ..., offset
            b2(dst() + "nisa.affine_select(res, [[-1, 16]], 1, a_t, -9.0, nl.greater_equal, 2)", "a"),
            [X],
            lambda x: np.where(2 + np.arange(8)[:, None] - np.arange(16) >= 0, x, -9),
            beta2=True,
        ),
        case(
            "range_select",
            lg(f"res = nisa.range_select(on_true_tile=a_t, {rs})", "a", "lo", "hi"),
            [X, lo, hi],
            ranged,
        ),
        case(
            "range_select",
            b2(dst() + f"nisa.range_select(res, a_t, {rs})", "a", "lo", "hi"),
            [X, lo, hi],
            ranged,
            beta2=True,
        ),
        case(
            "select_reduce",
            lg("res = nisa.select_reduce(predicate=p_t, on_true=a_t, on_false=c_t)", "p", "a", "c"),
            [P01, X, C],
            lambda p, x, c: np.where(p != 0, x, c),
        ),
        case(
            "select_reduce",
            b2(dst() + "nisa.select_reduce(res, p_t, a_t, 7.0, reverse_pred=True)", "p", "a"),
            [P01, X],
            lambda p, x: np.where(p == 0, x, 7),
            beta2=True,
        ),
        case(
            "iota",
            lg("res = nisa.iota(nl.arange(8)[:, None] * 16 + nl.arange(16)[None, :], dtype=nl.int32)"),
            [],
            lambda: np.arange(128).reshape(8, 16),
        ),
        case(
            "iota",
            b2(dst("(8, 16)", "nl.int32") + "nisa.iota(res, [[1, 16]], offset=5, channel_multiplier=100)"),
            [],
            lambda: 5 + 100 * np.arange(8)[:, None] + np.arange(16),
            beta2=True,
        ),
        case("memset", lg("res = nisa.memset((8, 16), 3.0, nl.float32)"), [], lambda: np.full((8, 16), 3.0)),
        case(
            "memset",
            b2(dst("(8, 16)") + "nisa.memset(dst=res, value=1.5)"),
            [],
            lambda: np.full((8, 16), 1.5),
            beta2=True,
        ),
        case(
            "get_nc_version",
            lg("res = nl.add(a_t, 1.0 if nisa.get_nc_version() == nisa.nc_version.gen2 else 2.0)", "a"),
            [X],
            lambda x: x + 1,
        ),
        case(
            "nonzero_with_count",
            b2(
                dst("(32, 9)", "nl.int32") + "nisa.memset(dst=res, value=0)\n"
                "nisa.nonzero_with_count(dst=res, src=a_t, index_offset=10, padding_val=-1)",
                "a",
            ),
            [(uniform(-1, 1, (32, 8), seed=6) > 0).astype(F32)],
            _nonzero,
            beta2=True,
        ),
        case(
            "positive-pow", lg("res = nisa.tensor_scalar(a_t, np.power, 2.0)", "a"), [POS], np.square, rtol=T5
        ),
    ]


def _local_gather(src: np.ndarray, index: np.ndarray, per: int, valid: int) -> np.ndarray:
    """NKI's numpy semantics: each group of 16 partitions gathers ``per`` elements at each of its
    first ``valid`` indices, read partition by partition (column-major), from its own partitions;
    the kernel's indices count elements (index * per)."""
    parts = src.shape[0]
    rows = src.reshape(parts, -1, per)
    out = np.empty((parts, valid, per), src.dtype)
    for g in range(0, parts, 16):
        order = index[g : g + 16].T.reshape(-1)[:valid] // per
        out[g : g + 16] = rows[g : g + 16][:, order]
    return out


def _bounds(ids: np.ndarray) -> np.ndarray:
    """NKI's numpy semantics of sequence_bounds: each run of equal non-zero ids spans
    [start, end); padding (id 0) gets start n and end -1."""
    n = ids.shape[-1]
    out = np.empty((ids.shape[0], 2, n), ids.dtype)
    for p, row in enumerate(ids):
        start = 0
        for i in range(n + 1):
            if i == n or (i > 0 and row[i] != row[i - 1]):
                pad = row[start] == 0
                out[p, 0, start:i] = n if pad else start
                out[p, 1, start:i] = -1 if pad else i
                start = i
    return out


def _documented() -> list[Case]:
    """Cases after the numpy semantics of NKI's own examples (nki/test in aws-neuron-sdk)."""
    src = uniform(-1, 1, (32, 8, 2), seed=7)
    index = (
        np.concatenate([ints(0, 8, (16, 2), np.uint16, seed=8), ints(0, 8, (16, 2), np.uint16, seed=9)]) * 2
    )
    ids = np.array([[0, 1, 1, 2, 2, 2, 0, 3, 3, 1, 1, 0, 0, 4]], F32)  # 1 twice: two runs
    quads = uniform(-1, 1, (64, 8), seed=10)
    rotate = [(i - 1) % 32 for i in range(32)]

    def rotated(a: np.ndarray) -> np.ndarray:
        return np.concatenate([q[rotate] for q in np.split(a, len(a) // 32)])

    red = "s = nl.ndarray((8, 1), dtype=nl.float32, buffer=nl.sbuf)\n"
    both = "res = nl.ndarray((8, 17), dtype=nl.float32, buffer=nl.sbuf)\nres[:, 0:16] = r\nres[:, 16:17] = s"
    lo, hi = np.zeros((8, 1), F32), np.full((8, 1), 9, F32)

    def selected(p: np.ndarray, x: np.ndarray, c: np.ndarray) -> np.ndarray:
        r = np.where(p != 0, x, c)
        return np.concatenate([r, r.max(1, keepdims=True)], 1)

    def ranged(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        idx = 3 + np.arange(16)
        r = np.where((idx >= lo) & (idx < hi), x, np.finfo(F32).min)
        return np.concatenate([r, r.max(1, keepdims=True)], 1)

    return [
        case(
            "select_reduce-max",
            lg(
                red + "r = nisa.select_reduce(p_t, a_t, c_t, reduce_res=s, "
                "reduce_cmd=nisa.reduce_cmd.reset_reduce)\n" + both,
                "p",
                "a",
                "c",
            ),
            [P01, X, C],
            selected,
        ),
        case(
            "range_select-max",
            b2(
                red + "r = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.sbuf)\n"
                "nisa.range_select(r, a_t, nl.greater_equal, nl.less, lo_t, hi_t, reduce_res=s, "
                "range_start=3, on_false_value=nl.fp32.min)\n" + both,
                "a",
                "lo",
                "hi",
            ),
            [X, lo, hi],
            ranged,
            beta2=True,
        ),
        case(
            "local_gather-documented",
            lg("res = nisa.local_gather(s_t, i_t, 2, 24)", "s", "i"),
            [src, index],
            lambda s, i: _local_gather(s, i, 2, 24).reshape(32, 48),
        ),
        case(
            "sequence_bounds-documented",
            lg("res = nisa.sequence_bounds(segment_ids=a_t)", "a"),
            [ids],
            _bounds,
        ),
        case(
            "nc_stream_shuffle-in-place",
            lg(f"nisa.nc_stream_shuffle(a_t, a_t, {rotate})\nres = a_t", "a"),
            [quads[:32]],
            rotated,
        ),
        case(
            "nc_stream_shuffle-quadrants",
            b2(dst("(64, 8)") + f"nisa.nc_stream_shuffle(res, a_t, {rotate})", "a"),
            [quads],
            rotated,
            beta2=True,
        ),
        case(
            "tensor_scalar_cumulative-max",
            lg("res = nisa.tensor_scalar_cumulative(a_t, np.add, np.maximum, c_t)", "a", "c"),
            [X, C],
            lambda x, c: np.maximum.accumulate(x + c, axis=1),
            rtol=T5,
        ),
        case(
            "tensor_scalar_cumulative-load",
            b2(
                dst() + "nisa.tensor_scalar_cumulative(res, a_t, nl.add, nl.multiply, c_t, imm1=d_t, "
                "reduce_cmd=nisa.reduce_cmd.load_reduce)",
                "a",
                "c",
                "d",
            ),
            [X / 2 + 1, C, C + 1],
            lambda x, c, d: np.multiply.accumulate(x + c, axis=1) * d,
            rtol=T5,
            atol=1e-6,
            beta2=True,
        ),
    ]


def _nonzero(x: np.ndarray) -> np.ndarray:
    out = np.zeros((32, 9), np.int32)
    for p in (0, 16):
        nz = np.flatnonzero(x[p])
        out[p] = -1
        out[p, : len(nz)] = nz + 10
        out[p, 8] = len(nz)
    return out


CASES: list[Case] = [
    replace(c, name="nisa." + c.name)
    for c in (*_compute(), *_reductions(), *_movement(), *_selection(), *_documented())
]
