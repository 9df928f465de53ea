"""Differential cases of the ``nki.language`` builtins (and the ``nki.compiler`` hints).

The element-wise tables run each function in both dialects; numpy computes what NKI documents.
Tolerances: float32 results of one ALU or activation instruction are compared at rtol 1e-5 (the
interpreter computes transcendental functions in float64 or float32 and rounds once); bfloat16
results at rtol 2**-7 (one rounding to 8 significant bits, plus one of the input).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np

from tests.tracer.nki.differential import Case, b2, case, lg

BF16 = ml_dtypes.bfloat16
F32 = np.float32
_erf = np.vectorize(math.erf, otypes=[np.float64])


def uniform(
    lo: float, hi: float, shape: tuple[int, ...] = (8, 16), dtype: Any = F32, seed: int = 0
) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


def ints(
    lo: int, hi: int, shape: tuple[int, ...] = (8, 16), dtype: Any = np.int32, seed: int = 0
) -> np.ndarray:
    return np.random.default_rng(seed).integers(lo, hi, shape).astype(dtype)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def softplus(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(x))


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def gelu_dx(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gelu_sigmoid_dx(x: np.ndarray) -> np.ndarray:
    s = sigmoid(1.702 * x)
    return s + 1.702 * x * s * (1 - s)


def silu_dx(x: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


X = uniform(-2, 2)
POS = uniform(0.1, 4)
AWAY = uniform(0.5, 2) * np.sign(uniform(-1, 1, seed=1))  # away from zero

# name -> (numpy reference, input)
UNARY: dict[str, tuple[Callable[[np.ndarray], np.ndarray], np.ndarray]] = {
    "abs": (np.abs, X),
    "arctan": (np.arctan, X),
    "ceil": (np.ceil, X * 3),
    "cos": (np.cos, X),
    "erf": (_erf, X),
    "erf_dx": (lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x), X),
    "exp": (np.exp, X),
    "floor": (np.floor, X * 3),
    "gelu": (gelu, X),
    "gelu_apprx_sigmoid": (lambda x: x * sigmoid(1.702 * x), X),
    "gelu_apprx_sigmoid_dx": (gelu_sigmoid_dx, X),
    "gelu_apprx_tanh": (gelu_tanh, X),
    "gelu_dx": (gelu_dx, X),
    "log": (np.log, POS),
    "logical_not": (lambda x: (x == 0).astype(F32), np.round(X / 2)),
    "mish": (lambda x: x * np.tanh(softplus(x)), X),
    "negative": (np.negative, X),
    "reciprocal": (np.reciprocal, AWAY),
    "relu": (lambda x: np.maximum(x, 0), X),
    "rsqrt": (lambda x: 1 / np.sqrt(x), POS),
    "sigmoid": (sigmoid, X),
    "sign": (np.sign, np.round(X)),
    "silu": (lambda x: x * sigmoid(x), X),
    "silu_dx": (silu_dx, X),
    "sin": (np.sin, X),
    "softplus": (softplus, X),
    "sqrt": (np.sqrt, POS),
    "square": (np.square, X),
    "tan": (np.tan, X / 2),
    "tanh": (np.tanh, X),
    "trunc": (np.trunc, X * 3),
    "invert": (np.invert, ints(-100, 100)),
}

Y = uniform(-2, 2, seed=1)
_BOOLS = (np.round(uniform(0, 1)), np.round(uniform(0, 1, seed=1)))
_INTS = (ints(0, 1 << 20), ints(0, 1 << 20, seed=1))
_SHIFTS = (ints(0, 1 << 20), ints(0, 8, seed=1))

# name -> (numpy reference, (x, y))
BINARY: dict[str, tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "add": (np.add, (X, Y)),
    "subtract": (np.subtract, (X, Y)),
    "multiply": (np.multiply, (X, Y)),
    "divide": (np.divide, (X, AWAY)),
    "maximum": (np.maximum, (X, Y)),
    "minimum": (np.minimum, (X, Y)),
    "power": (np.power, (POS, Y)),
    "mod": (np.mod, (X * 3, AWAY)),
    "fmod": (np.fmod, (X * 3, AWAY)),
    "equal": (np.equal, (np.round(X), np.round(Y))),
    "not_equal": (np.not_equal, (np.round(X), np.round(Y))),
    "less": (np.less, (X, Y)),
    "less_equal": (np.less_equal, (np.round(X), np.round(Y))),
    "greater": (np.greater, (X, Y)),
    "greater_equal": (np.greater_equal, (np.round(X), np.round(Y))),
    "logical_and": (np.logical_and, _BOOLS),
    "logical_or": (np.logical_or, _BOOLS),
    "logical_xor": (np.logical_xor, _BOOLS),
    "bitwise_and": (np.bitwise_and, _INTS),
    "bitwise_or": (np.bitwise_or, _INTS),
    "bitwise_xor": (np.bitwise_xor, _INTS),
    "left_shift": (np.left_shift, _SHIFTS),
    "right_shift": (np.right_shift, _SHIFTS),
}


def _tol(dtype: Any) -> dict[str, float]:
    return {"rtol": 2**-7, "atol": 1e-6} if dtype == BF16 else {"rtol": 1e-5, "atol": 1e-6}


def _elementwise() -> list[Case]:
    out = []
    for name, (fn, x) in UNARY.items():
        out.append(case(name, lg(f"res = nl.{name}(a_t)", "a"), [x], fn, **_tol(x.dtype)))
        out.append(case(name, b2(f"res = nl.{name}(a_t)", "a"), [x], fn, beta2=True, **_tol(x.dtype)))
    for name, (fn2, (x, y)) in BINARY.items():
        out.append(case(name, lg(f"res = nl.{name}(a_t, b_t)", "a", "b"), [x, y], fn2, **_tol(x.dtype)))
        out.append(
            case(name, b2(f"res = nl.{name}(a_t, b_t)", "a", "b"), [x, y], fn2, beta2=True, **_tol(x.dtype))
        )
    # a tile and a number; bfloat16 operands and results
    out.append(case("multiply-number", lg("res = nl.multiply(a_t, 3.0)", "a"), [X], lambda x: x * 3))
    xb = X.astype(BF16)
    out.append(
        case("exp-bf16", lg("res = nl.exp(a_t)", "a"), [xb], lambda x: np.exp(x.astype(F32)), **_tol(BF16))
    )
    out.append(
        case(
            "add-bf16",
            lg("res = nl.add(a_t, b_t)", "a", "b"),
            [xb, Y.astype(BF16)],
            lambda x, y: x.astype(F32) + y.astype(F32),
            **_tol(BF16),
        )
    )
    out.append(
        case(
            "fmod-number",
            lg("res = nl.fmod(a_t, 0.75)", "a"),
            [X * 3],
            lambda x: np.fmod(x, F32(0.75)),
            rtol=1e-5,
            atol=1e-6,
        )
    )
    return out


R = uniform(-2, 2, (8, 4, 6))


def _reductions() -> list[Case]:
    kd = "axis=1, keepdims=True"
    return [
        case("sum", lg(f"res = nl.sum(a_t, {kd})", "a"), [X], lambda x: x.sum(1, keepdims=True), rtol=1e-5),
        case("sum-2axes", lg("res = nl.sum(a_t, axis=(1, 2))", "a"), [R], lambda x: x.sum((1, 2)), rtol=1e-5),
        case("max", lg(f"res = nl.max(a_t, {kd})", "a"), [X], lambda x: x.max(1, keepdims=True)),
        case("min", b2(f"res = nl.min(a_t, {kd})", "a"), [X], lambda x: x.min(1, keepdims=True), beta2=True),
        case(
            "mean", lg(f"res = nl.mean(a_t, {kd})", "a"), [X], lambda x: x.mean(1, keepdims=True), rtol=1e-5
        ),
        case(
            "prod",
            lg(f"res = nl.prod(a_t, {kd})", "a"),
            [POS[:, :6]],
            lambda x: x.prod(1, keepdims=True),
            rtol=1e-5,
        ),
        case(
            "all",
            lg(f"res = nl.all(a_t, {kd})", "a"),
            [np.round(uniform(0.3, 1))],
            lambda x: x.all(1, keepdims=True),
        ),
        # legacy NKI removes the reduced axes, beta 2 keeps them whatever keepdims says
        case("var", lg("res = nl.var(a_t, axis=1)", "a"), [X], lambda x: x.var(1), rtol=1e-5),
        case(
            "var-keepdims",
            lg("res = nl.var(a_t, axis=1, keepdims=True)", "a"),
            [X],
            lambda x: x.var(1, keepdims=True),
            rtol=1e-5,
        ),
        case(
            "var",
            b2("res = nl.var(a_t, axis=1)", "a"),
            [X],
            lambda x: x.var(1, keepdims=True),
            rtol=1e-5,
            beta2=True,
        ),
        case(
            "softmax",
            lg("res = nl.softmax(a_t, axis=1)", "a"),
            [X],
            lambda x: np.exp(x - x.max(1, keepdims=True))
            / np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True),
            rtol=1e-5,
        ),
        case(
            "rms_norm",
            lg("res = nl.rms_norm(a_t, w_t, axis=1, n=16)", "a", "w"),
            [X, uniform(0, 1, (1, 16))],
            lambda x, w: x / np.sqrt((x * x).sum(1, keepdims=True) / 16 + 1e-6) * w,
            rtol=1e-5,
        ),
    ]


A = uniform(-1, 1, (16, 32))
B = uniform(-1, 1, (32, 8), seed=1)


def _layout() -> list[Case]:
    return [
        case(
            "matmul",
            lg("res = nl.matmul(a_t, b_t)", "a", "b"),
            [A, B],
            lambda a, b: a @ b,
            rtol=1e-5,
            atol=1e-5,
        ),
        case(
            "matmul-transpose_x",
            lg("res = nl.matmul(a_t, b_t, transpose_x=True)", "a", "b"),
            [A.T.copy(), B],
            lambda a, b: a.T @ b,
            rtol=1e-5,
            atol=1e-5,
        ),
        case("transpose", lg("res = nl.transpose(a_t)", "a"), [A], lambda a: a.T),
        case("load_transpose2d", lg("res = nl.load_transpose2d(a)", "a", load=False), [A], lambda a: a.T),
        case("copy", lg("res = nl.copy(a_t, dtype=nl.bfloat16)", "a"), [X], lambda x: x.astype(BF16)),
        case("static_cast", lg("res = nl.static_cast(a_t, nl.bfloat16)", "a"), [X], lambda x: x.astype(BF16)),
        case(
            "broadcast_to",
            lg("res = nl.broadcast_to(a_t, shape=(8, 16))", "a"),
            [X[:, :1].copy()],
            lambda x: np.broadcast_to(x, (8, 16)),
        ),
        case("expand_dims", lg("res = nl.expand_dims(a_t, 1)", "a"), [X], lambda x: x[:, None, :]),
        case(
            "where",
            lg("res = nl.where(c_t, a_t, b_t)", "c", "a", "b"),
            [np.round(uniform(0, 1)), X, Y],
            lambda c, x, y: np.where(c != 0, x, y),
        ),
        case(
            "gather_flattened",
            lg("res = nl.gather_flattened(a_t, i_t)", "a", "i"),
            [R, ints(0, 24, (8, 5), np.uint32)],
            lambda a, i: np.take_along_axis(a.reshape(8, 24), i, axis=1),
        ),
    ]


def _creation() -> list[Case]:
    zeros = """
    res = nl.zeros((8, 16), dtype=nl.float32)
    o = nl.ones((8, 16), dtype=nl.float32, buffer=nl.sbuf)
    f = nl.full((8, 16), 2.5, dtype=nl.float32)
    z = nl.zeros_like(a_t)
    e = nl.empty_like(a_t)
    e[...] = nl.multiply(a_t, 3.0)
    res[...] = nl.add(nl.add(nl.add(o, f), nl.add(z, e)), res)
    """
    indexing = """
    i_p = nl.arange(4)[:, None]
    i_f = nl.arange(16)[None, :]
    t = nl.ndarray((nl.par_dim(4), 16), dtype=a.dtype, buffer=nl.sbuf)
    t[...] = nl.load(a[i_p + 2, i_f])
    res = nl.add(t, nl.load(a[nl.ds(4, 4), :]))
    """
    sizes = """
    res = nl.multiply(a_t, nl.constants.sizeinbytes(nl.bfloat16) * 10 + nl.constants.sizeinbytes(a.dtype))
    """
    memories = """
    p = nl.ndarray((8, 16), dtype=nl.float32, buffer=nl.psum)
    k = nl.is_hbm(a) + 2 * nl.is_sbuf(a_t) + 4 * nl.is_psum(buffer=p)
    k = k + 8 * nl.is_on_chip(a_t) + 16 * nl.is_hbm(a_t)
    res = nl.add(a_t, k)
    """
    consts = """
    ident = nl.load(nl.shared_identity_matrix(8, dtype=nl.float32))
    ramp = nl.load(nl.shared_constant(np.arange(128, dtype=np.int32).reshape(8, 16), dtype=nl.float32))
    res = nl.add(nl.matmul(ident, a_t), ramp)
    """
    return [
        case("creation", lg(zeros, "a"), [X], lambda x: 1 + 2.5 + 3 * x),
        case("indexing", lg(indexing, "a"), [X], lambda x: x[2:6] + x[4:8]),
        case("sizeinbytes", lg(sizes, "a"), [X], lambda x: x * 24),
        case("memories", lg(memories, "a"), [X], lambda x: x + 15),
        case(  # nl.finfo's fields are plain numbers: fp16's largest finite value, bf16's epsilon
            "finfo",
            lg("res = a_t * nl.finfo(nl.float16).max + nl.finfo(nl.bfloat16).eps", "a"),
            [X],
            lambda x: x * 65504.0 + 2.0**-7,
        ),
        case(
            "shared_identity_matrix-sbuf",  # nki's page: "an identity matrix in SBUF"
            b2("i = nl.shared_identity_matrix(n=8, dtype=nl.bfloat16)\nres = nl.add(i, a_t[:, 0:8])", "a"),
            [X],
            lambda x: np.eye(8) + x[:, :8],
            beta2=True,
        ),
        case(
            "shared_identity_matrix-dst",  # NKI: written into dst, which is returned
            b2(
                "i = nl.ndarray((8, 8), dtype=nl.float32, buffer=nl.sbuf)\n"
                "j = nl.shared_identity_matrix(8, nl.bfloat16, dst=i)\n"
                "res = nl.add(nl.add(i, j), a_t[:, 0:8])",
                "a",
            ),
            [X],
            lambda x: 2 * np.eye(8) + x[:, :8],
            beta2=True,
        ),
        case(
            "shared_constants", lg(consts, "a"), [X], lambda x: x + np.arange(128).reshape(8, 16), rtol=1e-6
        ),
    ]


def _loops() -> list[Case]:
    ranges = """
    def kernel(x):
        acc = nl.zeros((8, 4), dtype=nl.float32)
        for i in nl.affine_range(2):
            for j in nl.sequential_range(1, 4, 2):
                for k in nl.static_range(2):
                    acc += nl.load(x[i * 8:(i + 1) * 8, j + k:j + k + 4])
        out = nl.ndarray((8, 4), dtype=nl.float32, buffer=nl.shared_hbm)
        nl.store(out, value=acc)
        return out
    """
    loop_reduce = """
    def kernel(x):
        acc = nl.zeros((8, 16), dtype=nl.float32, buffer=nl.sbuf)
        for i in nl.affine_range(3):
            acc[...] = nl.loop_reduce(nl.load(x[i]), op=np.add, loop_indices=(i,), dtype=nl.float32)
        out = nl.ndarray((8, 16), dtype=x.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=acc)
        return out
    """
    spmd = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        r = nl.program_id(0) * 4
        c = nl.program_id(axis=1) * 8
        k = nl.num_programs() * 100 + nl.num_programs(1) * 10 + nl.program_ndim()
        nl.store(out[r:r + 4, c:c + 8], value=nl.add(nl.load(x[r:r + 4, c:c + 8]), r + c + k))
        return out
    """
    atomic = """
    def kernel(a, b):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.load(a))
        nl.atomic_rmw(out[0:4, :], value=nl.load(b[0:4, :]), op=np.add)
        return out
    """
    hinted = """
    def kernel(x):
        out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
        tiles = nl.ndarray((4, nl.par_dim(8), 4), dtype=x.dtype,
                           buffer=ncc.sbuf.mod_alloc(base_addr=0, num_free_tiles=(2,)))
        acc = nl.ndarray((nl.par_dim(8), 4), dtype=nl.float32,
                         buffer=ncc.psum.alloc(ncc.psum.mod_alloc(base_bank=1, num_bank_tiles=(1,))))
        more = nl.ndarray((nl.par_dim(8), 4), dtype=x.dtype, buffer=ncc.sbuf.alloc(ncc.sbuf.auto_alloc()))
        last = nl.ndarray((nl.par_dim(8), 4), dtype=nl.float32, buffer=ncc.psum.auto_alloc())
        for i in nl.sequential_range(4, directives=ncc.no_reorder()):
            tiles[i] = nl.load(x[:, nl.ds(i * 4, 4)])
            acc[...] = nl.multiply(tiles[i], 2.0)
            nl.store(out[:, nl.ds(i * 4, 4)], value=acc)
        for j in nl.affine_range(2, directives=ncc.multi_buffer(2)):
            more[...] = nl.load(x[:, nl.ds(j * 4, 4)])
            last[...] = nl.add(more, 1.0)
            nl.store(out[:, nl.ds(j * 4, 4)], value=last)
        return out
    """
    twice = X.copy() * 2
    twice[:, :8] = X[:, :8] + 1
    return [
        case("no_reorder", NO_REORDER, [X], lambda x: (x + 1) * 2, beta2=True),
        case(
            "ranges",
            ranges,
            [uniform(-1, 1, (16, 8))],
            lambda x: sum(
                x[i * 8 : (i + 1) * 8, j + k : j + k + 4] for i in range(2) for j in (1, 3) for k in range(2)
            ),
            rtol=1e-5,
        ),
        case("loop_reduce", loop_reduce, [uniform(-1, 1, (3, 8, 16))], lambda x: x.sum(0), rtol=1e-5),
        case("spmd", spmd, [uniform(-1, 1, (8, 24))], _spmd, grid=(2, 3)),
        case("atomic_rmw", atomic, [X, Y], lambda a, b: np.concatenate([a[:4] + b[:4], a[4:]]), rtol=1e-6),
        case("compiler_hints", hinted, [X], lambda x: np.concatenate([x[:, :8] + 1, x[:, 8:] * 2], axis=1)),
    ]


NO_REORDER = b2("with nl.no_reorder():\n    t = nl.add(a_t, 1.0)\n    res = nl.multiply(t, 2.0)", "a")


def _spmd(x: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(x.shape)
    return x + (rows // 4) * 4 + (cols // 8) * 8 + 632


CASES: list[Case] = [*_elementwise(), *_reductions(), *_layout(), *_creation(), *_loops()]
