"""Loop templates (klr.tracer.templates): the symbolic loop variable, the static check, and
traces with templates on, off and in check mode, which must give byte-identical Core, the same
warnings, messages and steps, and the same errors."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import klr
from klr.errors import KlrError
from klr.format.file import to_bytes
from klr.python import ast as A
from klr.python.gather import gather_file
from klr.tracer import templates
from klr.tracer.affine import NotAffine, Sym
from klr.tracer.kernel import TraceResult

from .nki import cases_device, cases_isa, cases_lang
from .nki.differential import trace_case
from .nki.util import LEGACY, trace_kernel

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
import refs  # noqa: E402  (examples/refs)

MODES = ("off", "on", "check")


def _outcome(run: Callable[[], TraceResult]) -> tuple[Any, ...]:
    try:
        r = run()
    except KlrError as e:
        return ("error", type(e).__name__, str(e), e.pos), (0, 0)
    out = (to_bytes(r.kernel), [str(w) for w in r.warnings], [str(m) for m in r.messages], r.steps)
    return out, r.templated


def three_ways(monkeypatch: pytest.MonkeyPatch, run: Callable[[], TraceResult], *,
               fails: bool | None = False) -> tuple[int, int]:
    """Trace with templates off, on and in check mode; require the same outcome (an error when
    ``fails``, none when not, either when None); how many loops and iterations were templated."""
    got = {}
    for m in MODES:
        monkeypatch.setenv("KLR_LOOP_TEMPLATES", m)
        got[m] = _outcome(run)
    if fails is not None:
        assert (got["off"][0][0] == "error") is fails, got["off"][0]
    assert got["on"][0] == got["off"][0]
    assert got["check"][0] == got["off"][0]
    assert got["off"][1] == (0, 0)
    # (check mode also unrolls the middle iterations, whose inner loops are templated in turn)
    assert got["check"][1] >= got["on"][1]
    return got["on"][1]  # type: ignore[no-any-return]


# --- the symbolic loop variable -------------------------------------------------------------

def _sym(p: tuple[int, int, int, int]) -> Sym:
    const, coef, lo, n = p
    return Sym(const, coef, lo, lo + n)


# (a Sym cannot be shown, so hypothesis draws its parameters)
syms = st.tuples(st.integers(-50, 50), st.integers(-9, 9).filter(bool), st.integers(-5, 5),
                 st.integers(1, 12))
ints = st.integers(-40, 40)

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def _value(v: Any, j: int) -> Any:
    return v.at(j) if type(v) is Sym else v


@given(syms, st.sampled_from(sorted(_BINARY)), ints, st.booleans())
def test_sym_operations_agree_with_ints_over_the_whole_range(p: Any, op: str, x: int, left: bool) -> None:
    """Every operation on a Sym either raises NotAffine or, evaluated at each iteration, is the
    operation on that iteration's int."""
    s = _sym(p)
    fn = _BINARY[op]
    if x == 0 and op in ("//", "%") and left:
        return
    try:
        got = fn(s, x) if left else fn(x, s)
    except NotAffine:
        return
    for j in range(s.lo, s.hi + 1):
        k = s.at(j)
        try:
            want = fn(k, x) if left else fn(x, k)
        except ZeroDivisionError:
            pytest.fail("an operation that fails at some iteration was treated as affine")
        assert _value(got, j) == want, (op, j)


@given(syms, syms)
def test_sym_with_sym(pa: Any, pb: Any) -> None:
    a = _sym(pa)
    b = Sym(pb[0], pb[1], a.lo, a.hi)
    for op in ("+", "-", "<", "==", "*"):
        try:
            got = _BINARY[op](a, b)
        except NotAffine:
            continue
        for j in range(a.lo, a.hi + 1):
            assert _value(got, j) == _BINARY[op](a.at(j), b.at(j))


@given(syms)
def test_sym_truth_and_unary(p: Any) -> None:
    s = _sym(p)
    for fn in (lambda v: -v, lambda v: ~v, lambda v: +v):
        got = fn(s)
        assert all(_value(got, j) == fn(s.at(j)) for j in range(s.lo, s.hi + 1))
    try:
        t = bool(s)
    except NotAffine:   # (conservative: refused whenever zero lies between the ends)
        assert min(s.ends()) <= 0 <= max(s.ends())
    else:
        assert all(bool(s.at(j)) == t for j in range(s.lo, s.hi + 1))


@pytest.mark.parametrize("use", [int, hash, str, repr, float, lambda s: [0, 1, 2][s], lambda s: f"{s}",
                                 lambda s: range(s), lambda s: s / 2, lambda s: s ** 2, lambda s: s == 1.0])
def test_sym_refuses_everything_else(use: Callable[[Sym], Any]) -> None:
    with pytest.raises(NotAffine):
        use(Sym(0, 1, 1, 6))


# --- the static check -------------------------------------------------------------------------

def _loop(tmp_path: Path, body: str) -> A.ForLoop:
    path = tmp_path / "k.py"
    path.write_text("def kernel(x, n):\n    acc = 0\n    t = 0\n    for i in range(n):\n"
                    + "".join(f"        {line}\n" for line in body.splitlines()) + "    return x\n")
    py = gather_file(str(path), "kernel", args=(np.zeros((2,), np.float32), 8))
    fn = next(f for f in py.funcs if f.name.endswith("kernel"))
    return next(s.stmt for s in fn.body if isinstance(s.stmt, A.ForLoop))


@pytest.mark.parametrize(("body", "why"), [
    ("acc = acc + i", "'acc' may be read before"),
    ("acc += i\nacc = 0", "'acc' may be read before"),
    ("y = t\nt = i", "'t' may be read before"),
    ("if i > 2:\n    t = i\nacc2 = t", "'t' may be read before"),
    ("for j in range(3):\n    t = j\nu = t", "'t' may be read before"),
    ("global g\ng = i", "GlobalStm"),
    ("def f():\n    return i\nf()", "FunDef"),
    ("f = lambda: i", "lambda"),
    ("try:\n    t = i\nexcept Exception:\n    pass", "TryStm"),
    ("return i", "Ret"),
    ("break", "break or continue"),
    ("if i:\n    continue", "break or continue"),
])
def test_static_refusals(tmp_path: Path, body: str, why: str) -> None:
    got = templates.refusal(_loop(tmp_path, body))
    assert got is not None and why in got


@pytest.mark.parametrize("body", [
    "t = i * 2\nu = t + 1",
    "for j in range(3):\n    t = j\n    u = t + i\n    if u:\n        break",
    "if i > 2:\n    t = i\nelse:\n    t = 0\nu = t",
    "xs = [j * i for j in range(3)]\nu = xs",
    "i = i + 1\nu = i",
])
def test_static_acceptances(tmp_path: Path, body: str) -> None:
    assert templates.refusal(_loop(tmp_path, body)) is None


# --- traces three ways ------------------------------------------------------------------------

ADD_TILES = """
@nki.jit
def kernel(a, b):
    out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
    for r in nl.affine_range(a.shape[0] // 128):
        for c in nl.affine_range(a.shape[1] // 64):
            a_tile = nl.load(a[r * 128:(r + 1) * 128, c * 64:(c + 1) * 64])
            b_tile = nl.load(b[r * 128:(r + 1) * 128, nl.ds(c * 64, 64)])
            nl.store(out[r * 128:(r + 1) * 128, c * 64:(c + 1) * 64], value=nl.add(a_tile, b_tile))
    return out
"""


def _tiles(rows: int, cols: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((rows * 128, cols), dtype=np.float32),
            rng.standard_normal((rows * 128, cols), dtype=np.float32))


def test_add_tiles_is_templated_and_correct(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _tiles(8, 128)
    assert three_ways(monkeypatch, lambda: trace_kernel(tmp_path, ADD_TILES, a, b)) == (1, 6)
    monkeypatch.setenv("KLR_LOOP_TEMPLATES", "on")
    r = trace_kernel(tmp_path, ADD_TILES, a, b)
    out = klr.eval(r, **{t.name: x for t, x in zip(r.kernel.inputs, (a, b), strict=True)})
    np.testing.assert_array_equal(out.outputs[r.kernel.outputs[0].name], a + b)


def test_inner_loops_template_when_the_outer_cannot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = ADD_TILES.replace("    for r in nl.affine_range(a.shape[0] // 128):\n",
                            "    acc = 0\n    for r in nl.affine_range(a.shape[0] // 128):\n"
                            "        acc += r\n")
    a, b = _tiles(2, 64 * 6)
    assert three_ways(monkeypatch, lambda: trace_kernel(tmp_path, src, a, b)) == (2, 8)


def _body(body: str, **extra: str) -> str:
    lines = "".join(f"        {line}\n" for line in body.splitlines())
    return ("\n@nki.jit\ndef kernel(a, b):\n"
            "    out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)\n"
            "    keep = []\n"
            "    count = 0\n"
            "    acc = nl.zeros((64, 64), dtype=nl.float32, buffer=nl.psum)\n"
            "    acc2 = nl.ndarray((64, 64), dtype=nl.float32, buffer=nl.psum)\n"
            "    for i in nl.affine_range(a.shape[0] // 128):\n"
            "        t = nl.load(a[i * 128:(i + 1) * 128, :])\n"
            f"{lines}"
            "        nl.store(out[i * 128:(i + 1) * 128, :], value=t)\n"
            "    return out\n")


ABORTS = {
    "loop-carried": "if i > 0:\n    t = nl.add(t, prev)\nprev = t",
    "outer list": "keep.append(i)",
    "first write into an outer psum": "if i > 0:\n    acc2 += nl.matmul(t, t, transpose_x=True)",
    "branch on i == 3": "if i == 3:\n    t = nl.multiply(t, 2.0)",
    "print": "print(i)",
    "int(i)": "j = int(i)",
    "f-string": "s = f'{i}'",
    "dict key": "d = {i: 1}",
    "range(i)": "for j in range(i):\n    pass",
    "list index": "z = [1, 2, 3, 4, 5, 6, 7, 8, 9][i]",
    "division": "z = i / 2",
    "int +=": "count += 1",
}


@pytest.mark.parametrize("name", sorted(ABORTS))
def test_aborted_templates_trace_as_without(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            name: str) -> None:
    a, b = _tiles(8)
    got = three_ways(monkeypatch, lambda: trace_kernel(tmp_path, _body(ABORTS[name]), a, b))
    # (the inner loops range(4) .. range(7), run concretely, are templated themselves)
    assert got == ((4, 2 + 3 + 4 + 5) if name == "range(i)" else (0, 0))


def test_in_place_accumulation_is_templated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``acc += ...`` on a tensor updates it in place: the name keeps its value across the
    iterations, so the loop is no loop-carried one (the first write into the PSUM region is the
    first iteration's, run concretely)."""
    body = "acc += nl.matmul(t, t, transpose_x=True)"
    result = "    nl.store(out[0:64, :], value=nl.copy(acc, dtype=a.dtype))\n"
    src = _body(body).replace("    return out\n", result + "    return out\n")
    a, b = _tiles(8)
    assert three_ways(monkeypatch, lambda: trace_kernel(tmp_path, src, a, b)) == (1, 6)


def test_affine_uses_are_templated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "j = (i * 4 + 2) // 2 - i * 2\nif i >= 0 and i < 100:\n    t = nl.multiply(t, 2.0)\nq = i % 1"
    a, b = _tiles(8)
    assert three_ways(monkeypatch, lambda: trace_kernel(tmp_path, _body(body), a, b)) == (1, 6)


def test_an_error_in_the_sixth_iteration_is_reported_as_without(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight tiles over an input of five: the load of the sixth is out of bounds. The probe
    cannot prove the bounds over iterations 1 to 6, so the loop runs concretely and reports the
    error where and as a full unroll does."""
    src = ADD_TILES.replace("nl.affine_range(a.shape[0] // 128)", "nl.affine_range(8)")
    a, b = _tiles(5)
    monkeypatch.setenv("KLR_LOOP_TEMPLATES", "on")
    with pytest.raises(KlrError) as info:
        trace_kernel(tmp_path, src, a, b)
    assert "out of bounds" in str(info.value) or "reaches element" in str(info.value)
    three_ways(monkeypatch, lambda: trace_kernel(tmp_path, src, a, b), fails=True)


def test_a_non_affine_index_is_traced_as_without(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = ADD_TILES.replace("a_tile = nl.load(a[r * 128:(r + 1) * 128,",
                            "a_tile = nl.load(a[(r // 5) * 128:(r // 5 + 1) * 128,")
    a, b = _tiles(8)
    assert three_ways(monkeypatch, lambda: trace_kernel(tmp_path, src, a, b)) == (0, 0)


@pytest.mark.parametrize("limit", ["max_stmts", "max_steps", "max_total_iterations"])
def test_budgets_running_out_mid_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str) -> None:
    from klr.tracer import trace
    from klr.tracer.limits import Limits

    path = tmp_path / "kern.py"
    path.write_text(LEGACY + ADD_TILES)
    a, b = _tiles(512 if limit == "max_steps" else 64)   # (steps are checked every 65,536)
    py = gather_file(str(path), "kernel", args=(a, b))
    full = trace(py)
    value = {"max_stmts": 150, "max_steps": full.steps // 2, "max_total_iterations": 40}[limit]
    three_ways(monkeypatch, lambda: trace(py, limits=Limits(**{limit: value})), fails=True)


def _example(ex: Any) -> Callable[[], TraceResult]:
    inputs = ex.make_inputs(seed=0)

    def run() -> TraceResult:
        py = klr.gather(str(ex.path), *inputs, name=ex.kernel, grid=ex.grid, **ex.kwargs)
        return klr.trace(py)

    return run


@pytest.mark.parametrize("ex", refs.load_all(), ids=lambda e: e.name)
def test_examples_three_ways(monkeypatch: pytest.MonkeyPatch, ex: Any) -> None:
    three_ways(monkeypatch, _example(ex), fails=None)   # (bad.py's error is the point)


ALL_CASES = [*cases_lang.CASES, *cases_isa.CASES, *cases_device.CASES]


@pytest.mark.parametrize("c", ALL_CASES, ids=lambda c: c.id)
def test_differential_cases_three_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, c: Any) -> None:
    three_ways(monkeypatch, lambda: trace_case(tmp_path, c), fails=None)


SNEAKY = {
    "closure": ("def peek():\n    return prev\n", "t = nl.add(t, peek())\nprev = t"),
    "outer iterator": ("it = iter(range(100))\n", "t = nl.add(t, float(next(it)))"),
    "outer iterator in a for": ("it = iter([1.0] * 100)\n", "for v in it:\n    t = nl.add(t, v)\n    break"),
    "outer generator": ("it = (float(k) for k in range(100))\n", "z = [v for v, _ in zip(it, range(1))]"),
}


@pytest.mark.parametrize("name", sorted(SNEAKY))
def test_state_read_or_consumed_across_iterations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  name: str) -> None:
    """What the body reaches other than through its own names: a function beside the loop
    reading the loop's locals, an iterator made before the loop."""
    before, body = SNEAKY[name]
    prelude = "    prev = nl.zeros((128, 64), dtype=nl.float32)\n" + "".join(
        f"    {line}\n" for line in before.splitlines())
    src = _body(body).replace("    keep = []\n", "    keep = []\n" + prelude)
    a, b = _tiles(8)
    assert three_ways(monkeypatch, lambda: trace_kernel(tmp_path, src, a, b)) == (0, 0)


def test_the_mode_is_an_argument_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from klr.errors import UsageError
    from klr.tracer import trace

    path = tmp_path / "kern.py"
    path.write_text(LEGACY + ADD_TILES)
    a, b = _tiles(8)
    py = gather_file(str(path), "kernel", args=(a, b))
    monkeypatch.setenv("KLR_LOOP_TEMPLATES", "off")
    assert trace(py, loop_templates="on").templated == (1, 6)
    monkeypatch.setenv("KLR_LOOP_TEMPLATES", "on")
    assert trace(py, loop_templates="off").templated == (0, 0)
    with pytest.raises(UsageError) as info:
        trace(py, loop_templates="sometimes")
    assert str(info.value) == "loop_templates must be 'on', 'off' or 'check', not 'sometimes'"


SPEED = Path(__file__).resolve().parents[2] / "bench" / "speed_kernels.py"


@pytest.mark.parametrize(("kernel", "shapes", "templated"), [
    ("add_tiles", [(128 * 6, 2048), (128 * 6, 2048)], (3, 8)),
    ("beta2_tiled_matmul", [(512, 512), (512, 1024)], (5, 10)),
    ("elementwise_chain", [(128 * 5 + 7, 1024)], (1, 4)),
])
def test_speed_kernels_three_ways(monkeypatch: pytest.MonkeyPatch, kernel: str,
                                  shapes: list[tuple[int, int]], templated: tuple[int, int]) -> None:
    """The benchmark kernels (bench/speed_kernels.py): affine slices, destination-passing
    matmul accumulation, masked legacy index tiles offset by the loop variable."""
    args = [np.zeros(s, np.float32) for s in shapes]
    py = gather_file(str(SPEED), kernel, args=args)
    assert three_ways(monkeypatch, lambda: klr.trace(py)) == templated


@pytest.mark.parametrize(("loop", "templated"), [
    ("range(7, -1, -1)", (1, 6)),
    ("range(0, 8, 2)", (1, 2)),
    ("nl.sequential_range(1, 8)", (1, 5)),
    ("nl.static_range(8)", (1, 6)),
])
def test_ranges_with_steps_and_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loop: str,
                                      templated: tuple[int, int]) -> None:
    src = ADD_TILES.replace("nl.affine_range(a.shape[0] // 128)", loop)
    a, b = _tiles(8)
    assert three_ways(monkeypatch, lambda: trace_kernel(tmp_path, src, a, b)) == templated
