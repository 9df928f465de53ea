"""The Tensor Engine: ``nl.matmul``, ``nl.transpose``, ``nisa.nc_matmul``, ``nisa.nc_transpose``,
and the MX (microscaling) pair ``nisa.quantize_mx`` (a vector-engine instruction feeding it) and
``nisa.nc_matmul_mx``.

A PE transpose is a matmul against an identity matrix (one per block and dtype); a fresh PSUM
region is zeroed before the first matmul accumulates into it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from klr.core import (
    AluOp,
    Engine,
    ImmFloat,
    MatmulPerfMode,
    Memory,
    rules,
)
from klr.core.rules.base import PACKED
from klr.core.rules.matmul import mx_groups
from klr.dtypes import Dtype
from klr.tracer.nki import operators
from klr.tracer.nki.args import Args, arg, bool_arg, no_mask, out_dtype, rule, view_arg
from klr.tracer.nki.consts import PERF_MODES, dtype_of, engine_of, enum_of
from klr.tracer.nki.dialects import form, isa
from klr.tracer.nki.emit import fresh_psum, taint, tile
from klr.tracer.nki.index import Predicate
from klr.tracer.nki.masks import as_mask, masked, region
from klr.tracer.nki.operators import PLAIN_MATMUL, MatmulFlags
from klr.tracer.nki.state import state
from klr.tracer.nki.tensors import result, tile_view
from klr.tracer.nki.views import Box, View, is_contiguous, reshape_view
from klr.tracer.registry import Dialect, builtin
from klr.tracer.show import describe
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


NL = "nki.language."


def identity(ctx: Ctx, dtype: Dtype) -> View:
    """A 128x128 identity in SBUF (one per block and dtype): memSet 0, then an affine select
    that writes 1.0 where the free index equals the partition index."""
    st = state(ctx)
    key = (ctx.label, dtype)
    got = st.identities.get(key)
    if got is None:
        taint(ctx)
        got = tile(ctx, (rules.PMAX, rules.PMAX), dtype, Memory.sbuf, hint="identity")
        operators.memset(ctx, got, ImmFloat(0.0))
        pattern = operators.data_pattern(0, -1, [(1, rules.PMAX)])
        operators.affine_select(ctx, got, pattern, got, ImmFloat(1.0), AluOp.not_equal)
        st.identities[key] = got
    return got


def pe_transpose(ctx: Ctx, dst: View, src: View) -> None:
    """dst[F, P] = src[P, F]^T on the PE array: a matmul against the identity."""
    eye = identity(ctx, src.dtype)
    parts = src.partitions
    operators.matmul(ctx, dst, eye.box(((0, parts), (0, parts))), src,
                     MatmulFlags(stationary_onezero=True, transpose=True))


def check_transpose(ctx: Ctx, src: View, name: str, what: str = "data") -> tuple[int, int]:
    """The [P, F] of a 2-D tile the PE array transposes."""
    if src.rank != 2 or src.par_dim != 0:
        raise ctx.error(f"{name} needs a 2-D [partition, free] tile, not {list(src.shape)}")
    with rule(ctx, name):
        rules.free_at_most(arg(src, what), rules.PMAX, " (a PE transpose takes at most [128, 128])")
    p, f = src.shape
    return p, f


@builtin(NL + "transpose", emits=("memSet", "ncAffineSelect", "ncMatMul"), dialect=Dialect.both)
def transpose(ctx: Ctx, x: Value, *, dtype: Value = None, mask: Value = None) -> Value:
    """The 2-D tile ``x`` with its partition and free axes swapped, in PSUM (PE transpose)."""
    src = tile_view(ctx, x, "the operand of nl.transpose")
    p, f = check_transpose(ctx, src, "nl.transpose", "x")
    if mask is not None:
        raise ctx.error("nl.transpose does not take a mask")
    out_dt = dtype_of(ctx, dtype) if dtype is not None else src.dtype
    return result(ctx, (f, p), out_dt, lambda c, d, acc: pe_transpose(c, d, src), inputs=[src],
                  memory=Memory.psum, memories=(Memory.psum,))


def matmul_shape(ctx: Ctx, stationary: View, moving: View, name: str,
                 perf_mode: MatmulPerfMode = MatmulPerfMode.None_) -> tuple[int, int]:
    """The [M, N] result of ``stationary[K, M]ᵀ · moving[K, N]`` (double row: [K, 2, M] and
    [K, 2, N]), checked by the rules: the contraction, SBUF operands and the PE array's columns."""
    st, mv = arg(stationary, "stationary"), arg(moving, "moving")
    with rule(ctx, name):
        m, n = rules.matmul_shape(None, st, mv, perf_mode)
        rules.in_memory(st, *rules.SBUF)
        rules.in_memory(mv, *rules.SBUF)
        if perf_mode not in rules.DOUBLE_ROW:
            rules.free_at_most(st, rules.GEMM_STATIONARY_FMAX)
            rules.free_at_most(mv, rules.GEMM_MOVING_FMAX, " (one PSUM bank of float32)")
    return m, n


def matmul_producer(stationary: View, moving: View, pre: Callable[[Ctx], View] | None = None,
                    flags: MatmulFlags = PLAIN_MATMUL) -> Callable[[Ctx, View, bool], None]:
    """memSet 0 then ncMatMul into dst; only the matmul when accumulating."""
    def fn(c: Ctx, dst: View, acc: bool) -> None:
        st = pre(c) if pre is not None else stationary
        if not acc:
            operators.memset(c, dst, ImmFloat(0.0))
        operators.matmul(c, dst, st, moving, flags)
    return fn


def _in_sbuf(ctx: Ctx, v: View) -> View:
    """An operand of the PE array: a PSUM tile (the result of nl.transpose or nl.matmul) is
    copied to SBUF first, as the compiler would."""
    if v.buf.memory is not Memory.psum:
        return v
    copied = tile(ctx, v.shape, v.dtype, Memory.sbuf, par_axis=v.par_dim)
    operators.tensor_copy(ctx, copied, v, v.dtype)
    return copied


@builtin(NL + "matmul", emits=("memSet", "ncMatMul"), dialect=Dialect.both)
def matmul(ctx: Ctx, x: Value, y: Value, *, transpose_x: bool = False, mask: Value = None) -> Value:
    """``x @ y`` (``x.T @ y`` with ``transpose_x``) into a new fp32 PSUM tile; with ``mask``,
    only the result elements it selects (a mask decided at trace time: all or nothing)."""
    xv = _in_sbuf(ctx, tile_view(ctx, x, "x of nl.matmul"))
    yv = _in_sbuf(ctx, tile_view(ctx, y, "y of nl.matmul"))
    pred = as_mask(ctx, mask)
    pre = None
    if transpose_x:
        stationary = xv
    else:
        p, f = check_transpose(ctx, xv, "nl.matmul", "x")
        stationary = View(xv.buf, 0, (p, 1), (f, p), (0, 1), 0)   # its shape, for the checks: xᵀ

        def pre(c: Ctx) -> View:
            t_psum = tile(c, (f, p), xv.dtype, Memory.psum)
            pe_transpose(c, t_psum, xv)
            t_sbuf = tile(c, (f, p), xv.dtype, Memory.sbuf)
            operators.tensor_copy(c, t_sbuf, t_psum, xv.dtype)
            return t_sbuf
    if stationary.rank != 2 or yv.rank != 2:
        raise ctx.error(f"nl.matmul needs 2-D tiles, not {list(stationary.shape)} and {list(yv.shape)}")
    m, n = matmul_shape(ctx, stationary, yv, "nl.matmul")
    fn = matmul_producer(xv, yv, pre)
    if pred is not None:
        def fn(c: Ctx, dst: View, acc: bool) -> None:
            _masked_matmul(pre(c) if pre is not None else xv, yv, PLAIN_MATMUL, pred)(c, dst, acc)
    return result(ctx, (m, n), Dtype.float32, fn, inputs=[xv, yv], memory=Memory.psum,
                  accumulates=True, memories=(Memory.psum,), mask=pred)


def _mm_flags(ctx: Ctx, a: Args) -> MatmulFlags:
    tp, ts = a["tile_position"], a["tile_size"]
    for v, what in ((tp, "tile_position"), (ts, "tile_size")):
        if not isinstance(v, (tuple, list)) or not all(isinstance(x, int) and x >= 0 for x in v):
            raise ctx.error(f"nisa.nc_matmul: {what} must be a list of non-negative integers")
    perf = a["perf_mode"]
    mode = PERF_MODES["none"] if perf is None else \
        enum_of(ctx, perf, "matmul_perf_mode", PERF_MODES, "perf_mode")
    return MatmulFlags(
        stationary_onezero=bool_arg(ctx, a["is_stationary_onezero"], "is_stationary_onezero"),
        moving_zero=bool_arg(ctx, a["is_moving_onezero"], "is_moving_onezero"),
        transpose=bool_arg(ctx, a["is_transpose"], "is_transpose"), tile_position=tuple(tp),
        tile_size=tuple(ts), perf_mode=mode)


@isa("nc_matmul",
     beta2=form("dst", "stationary", "moving", is_stationary_onezero=False, is_moving_onezero=False,
                is_transpose=False, accumulate=None, tile_position=(), tile_size=(), perf_mode=None,
                mask=None, name=None, psumAccumulateFlag=None),
     legacy=form("stationary", "moving", is_stationary_onezero=False, is_moving_onezero=False,
                 is_transpose=False, tile_position=(), tile_size=(), perf_mode=None, mask=None, dtype=None),
     legacy_tensors=2, emits=("ncMatMul", "memSet"))
def nc_matmul(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Matrix multiply on the PE array: ``stationary.T @ moving`` accumulated into PSUM
    (destination passing: onto what ``dst`` holds with ``accumulate=True``, overwriting it with
    False, and by default overwriting only a PSUM region nothing has written yet)."""
    fn = "nisa.nc_matmul"
    pred = None if dps else as_mask(ctx, a["mask"])
    if dps:
        no_mask(ctx, a, fn)
    st = view_arg(ctx, a["stationary"], "stationary")
    mv = view_arg(ctx, a["moving"], "moving")
    if not dps:  # legacy tile code feeds PSUM results (nc_transpose's) straight back in
        st, mv = _in_sbuf(ctx, st), _in_sbuf(ctx, mv)
    flags = _mm_flags(ctx, a)
    if flags.transpose:
        # NKI transposes the stationary tile against an identity moving tile; a Core transpose
        # matmul transposes its moving operand (the stationary one is the identity).
        st, mv = mv, st
        flags = replace(flags, stationary_onezero=flags.moving_zero, moving_zero=flags.stationary_onezero)
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        with rule(ctx, fn):
            rules.matmul_shape(arg(dst, "dst"), arg(st, "stationary"), arg(mv, "moving"), flags.perf_mode,
                               flags.transpose)
        acc = a["accumulate"]
        overwrite = fresh_psum(ctx, dst) if acc is None else not bool_arg(ctx, acc, "accumulate")
        if dst.buf.memory is Memory.psum and not flags.transpose and overwrite:
            operators.memset(ctx, dst, ImmFloat(0.0))
        operators.matmul(ctx, dst, st, mv, flags)
        return None
    if flags.transpose:
        k, n = mv.shape if mv.rank == 2 else (0, 0)
        return result(ctx, (n, k), mv.dtype, lambda c, d, acc: operators.matmul(c, d, st, mv, flags),
                      inputs=[st, mv], memory=Memory.psum, memories=(Memory.psum,))
    if flags.perf_mode is MatmulPerfMode.None_:
        if st.rank != 2 or mv.rank != 2:
            raise ctx.error(f"{fn} needs 2-D tiles, not {list(st.shape)} and {list(mv.shape)}")
    elif st.rank != 3 or mv.rank != 3 or st.shape[1] != 2 or mv.shape[1] != 2:
        raise ctx.error(f"{fn}: a double-row matmul takes stationary [K, 2, M] and moving [K, 2, N], "
                        f"not {list(st.shape)} and {list(mv.shape)}")
    shape = matmul_shape(ctx, st, mv, fn, flags.perf_mode)
    if pred is not None:
        if flags.perf_mode is not MatmulPerfMode.None_:
            no_mask(ctx, a, fn)
        return result(ctx, shape, Dtype.float32, _masked_matmul(st, mv, flags, pred), inputs=[st, mv],
                      memory=Memory.psum, accumulates=True, memories=(Memory.psum,), mask=pred)
    return result(ctx, shape, Dtype.float32, matmul_producer(st, mv, flags=flags), inputs=[st, mv],
                  memory=Memory.psum, accumulates=True, memories=(Memory.psum,))


def flat_free(ctx: Ctx, src: View) -> View:
    """A [P, F1, F2...] tile as the [P, F1*F2...] matrix NKI transposes (its free axes
    flattened, row-major); a non-contiguous view is copied to a fresh tile first."""
    if src.rank <= 2 or src.par_dim != 0:
        return src
    if not is_contiguous(src):
        copied = tile(ctx, src.shape, src.dtype, Memory.sbuf)
        operators.tensor_copy(ctx, copied, src, src.dtype)
        src = copied
    return reshape_view(ctx, src, (src.partitions, src.free_size))


def _masked_matmul(st: View, mv: View, flags: MatmulFlags,
                   pred: Predicate) -> Callable[[Ctx, View, bool], None]:
    """A matmul writing only the [M, N] elements ``pred`` selects: the stationary columns and
    moving columns of each selected box (masked-out operand elements are never read)."""
    def fn(c: Ctx, dst: View, acc: bool) -> None:
        def body(d: View, box: Box) -> None:
            (m0, m1), (n0, n1) = box
            s = st.box(((0, st.shape[0]), (m0, m1)))
            m = mv.box(((0, mv.shape[0]), (n0, n1)))
            if not acc:
                operators.memset(c, d, ImmFloat(0.0))
            operators.matmul(c, d, s, m, flags)
        masked(c, dst, pred, body)
    return fn


@isa("nc_transpose",
     beta2=form("dst", "data", mask=None, engine=None, name=None),
     legacy=form("data", mask=None, dtype=None, engine=None),
     legacy_tensors=1, emits=("transpose", "memSet", "ncAffineSelect", "ncMatMul"))
def nc_transpose(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Swap the partition and free axes of a 2-D tile, on the PE array (into PSUM, against an
    identity matrix) or on the vector engine (32x32 blocks)."""
    fn = "nisa.nc_transpose"
    if dps:
        no_mask(ctx, a, fn)
    pred = None if dps else as_mask(ctx, a["mask"])
    src = flat_free(ctx, view_arg(ctx, a["data"], "data"))
    engine = engine_of(ctx, a["engine"])
    if dps:
        dst = view_arg(ctx, a["dst"], "dst")
        if engine is Engine.pe:
            pe_transpose(ctx, dst, src)
        else:
            operators.vector_transpose(ctx, dst, src, engine)
        return None
    p, f = check_transpose(ctx, src, fn)
    if engine is Engine.unassigned:
        engine = Engine.dve if p <= 32 and f <= 32 else Engine.pe
    dt = out_dtype(ctx, a, src.dtype)
    # a mask selects elements of the [f, p] result; the PE array writes PSUM, never the SBUF
    # scratch tile a non-rectangular mask computes into
    if pred is not None and region(ctx, pred, (f, p))[1]:
        raise ctx.error(f"{fn}: a mask must be rectangular here")

    def produce(c: Ctx, d: View, acc: bool) -> None:
        def body(dv: View, box: Box) -> None:
            (r0, r1), (c0, c1) = box
            s = src.box(((c0, c1), (r0, r1)))
            if engine is Engine.pe:
                pe_transpose(c, dv, s)
            else:
                operators.vector_transpose(c, dv, s, engine)
        masked(c, d, pred, body)
    if engine is Engine.pe:
        return result(ctx, (f, p), dt, produce, inputs=[src], memory=Memory.psum, memories=(Memory.psum,),
                      mask=pred)
    return result(ctx, (f, p), dt, produce, inputs=[src], mask=pred)


# --- MX (microscaling) formats ------------------------------------------------------------------

def _mx_scales(ctx: Ctx, fn: str, data: View, what: str, scale: View, name: str, columns: int) -> None:
    """``scale`` is a uint8 SBUF tile holding a row per 8-partition group of ``data`` (each
    quadrant's groups in its top 4 rows) and a column per packed column."""
    with rule(ctx, fn):
        s = arg(scale, name)
        rules.in_memory(s, Memory.sbuf)
        rules.dtype_in(s, (Dtype.uint8,))
        mx_groups(arg(data, what), s, columns)


@isa("quantize_mx", beta2=form("dst", "src", "dst_scale", name=None), emits=("quantizeMX",))
def quantize_mx(ctx: Ctx, a: Args, dps: bool) -> Value:
    """Quantize ``src`` [P, 4F] to the packed MX tile ``dst`` [P, F] (four values of a partition
    per element) and one E8M0 scale byte per group of 8 partitions x 4 values into
    ``dst_scale``: the group's scale is 2 ** (floor(log2(max |x|)) - (Emax - 1)) (2 ** -127 for
    an all-zero group), each value divided by it and rounded to the element format."""
    fn = "nisa.quantize_mx"
    src, dst = view_arg(ctx, a["src"], "src"), view_arg(ctx, a["dst"], "dst")
    scale = view_arg(ctx, a["dst_scale"], "dst_scale")
    with rule(ctx, fn):
        s, d = arg(src, "src"), arg(dst, "dst")
        rules.in_memory(s, Memory.sbuf)
        rules.in_memory(d, Memory.sbuf)
        rules.dtype_in(d, PACKED)
        rules.same_partitions(s, d)
    if src.free_size % 4 or dst.free_size * 4 != src.free_size:
        raise ctx.error(f"{fn}: dst must have a quarter of src's {src.free_size} elements per partition "
                        f"(packed by four), not {dst.free_size}")
    _mx_scales(ctx, fn, src, "src", scale, "dst_scale", dst.free_size)
    operators.quantize_mx(ctx, dst, src, scale)
    return None


def _pair(ctx: Ctx, v: Value, what: str, fn: str) -> tuple[int, ...] | None:
    if v is None:
        return None
    if not (isinstance(v, (tuple, list)) and len(v) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v)):
        raise ctx.error(f"{fn}: {what} must be a pair of non-negative integers, not {describe(v)}")
    return tuple(v)


@isa("nc_matmul_mx",
     beta2=form("dst", "stationary", "moving", "stationary_scale", "moving_scale", tile_position=None,
                tile_size=None, accumulate=None, name=None),
     emits=("ncMatMulMX", "memSet"))
def nc_matmul_mx(ctx: Ctx, a: Args, dps: bool) -> Value:
    """``dst[m, n] (+)= sum over k, q of S[k, m, q] * M[k, n, q]`` in float32 on the PE array,
    where S and M are the packed SBUF tiles ``stationary`` [K, M] and ``moving`` [K, N] unpacked
    (four values each) and scaled by their groups' E8M0 scales; ``dst`` is in PSUM.
    ``accumulate`` None adds to what an earlier matmul wrote there (a fresh region starts from
    0), True adds, False overwrites."""
    fn = "nisa.nc_matmul_mx"
    dst = view_arg(ctx, a["dst"], "dst")
    st, mv = view_arg(ctx, a["stationary"], "stationary"), view_arg(ctx, a["moving"], "moving")
    sts, mvs = view_arg(ctx, a["stationary_scale"], "stationary_scale"), \
        view_arg(ctx, a["moving_scale"], "moving_scale")
    with rule(ctx, fn):
        d, s, m = arg(dst, "dst"), arg(st, "stationary"), arg(mv, "moving")
        rules.in_memory(d, Memory.psum)
        for x in (s, m):
            rules.in_memory(x, Memory.sbuf)
            rules.dtype_in(x, PACKED)
        rules.same_partitions(s, m)
    if (dst.partitions, dst.free_size) != (st.free_size, mv.free_size):
        raise ctx.error(f"{fn}: dst of shape {list(dst.shape)} must be [{st.free_size}, {mv.free_size}] for "
                        f"stationary {list(st.shape)} and moving {list(mv.shape)}")
    _mx_scales(ctx, fn, st, "stationary", sts, "stationary_scale", st.free_size)
    _mx_scales(ctx, fn, mv, "moving", mvs, "moving_scale", mv.free_size)
    position = _pair(ctx, a["tile_position"], "tile_position", fn)
    size = _pair(ctx, a["tile_size"], "tile_size", fn)
    acc = a["accumulate"]
    if acc is not None:
        bool_arg(ctx, acc, "accumulate")
    if acc is False or (acc is None and fresh_psum(ctx, dst)):
        operators.memset(ctx, dst, ImmFloat(0.0))
    operators.matmul_mx(ctx, dst, st, mv, (sts, mvs), position, size)
    return None
