"""klr.simulate: gather from source, trace for the arguments, evaluate the Core; NKI's results."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

import klr
from klr.format.file import to_bytes
from klr.sim.simulate import KernelError, SimulationWarning

from .conftest import Loader

ROOT = Path(__file__).resolve().parents[2]

ADD = """
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl


    @nki.jit
    def add(a, b):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        nl.store(out, value=nl.add(nl.load(a), nl.load(b)))
        return out
"""


def test_simulate_returns_what_the_core_computes(load: Loader) -> None:
    kern = load(ADD)
    a = np.arange(128 * 64, dtype=np.float32).reshape(128, 64)
    b = np.ones((128, 64), np.float32)
    sim = klr.simulate(kern.add)
    out = sim(a, b)
    assert out.dtype == np.float32 and out.shape == (128, 64)
    np.testing.assert_array_equal(out, a + b)
    assert sim.last is not None
    run = sim.last
    # the value returned is the interpreter's output, computed from the traced Core
    np.testing.assert_array_equal(klr.eval(run.traced.kernel, a, b).outputs["out"], out)
    assert set(run.seconds) == {"gather", "trace", "eval"}


def test_the_evaluated_core_is_byte_identical_to_gather_and_trace_on_the_command_line(
        tmp_path: Path) -> None:
    import sys as _sys

    _sys.path.insert(0, str(ROOT / "examples"))
    try:
        klr.install_nki()
        from tiled_matmul import tiled_matmul_kernel  # type: ignore[import-not-found]

        lhsT = np.ones((256, 256), ml_dtypes.bfloat16)
        rhs = np.ones((256, 512), ml_dtypes.bfloat16)
        sim = klr.simulate(tiled_matmul_kernel)
        sim(lhsT, rhs)
    finally:
        _sys.path.remove(str(ROOT / "examples"))
        _sys.modules.pop("tiled_matmul", None)
        from klr.sim import shim

        shim.uninstall()
    assert sim.last is not None
    cli = [sys.executable, "-m", "klr"]
    subprocess.run([*cli, "gather", "examples/tiled_matmul.py", "tiled_matmul_kernel", "--arg",
                    "bfloat16[256,256]", "--arg", "bfloat16[256,512]", "-o", str(tmp_path / "m.klr")],
                   cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*cli, "trace", str(tmp_path / "m.klr"), "-o", str(tmp_path / "m.core.klr")],
                   cwd=ROOT, check=True, capture_output=True)
    assert to_bytes(sim.last.gathered) == (tmp_path / "m.klr").read_bytes()
    assert to_bytes(sim.last.traced.kernel) == (tmp_path / "m.core.klr").read_bytes()


def test_a_grid_by_indexing(load: Loader) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl


        @nki.jit
        def copy_rows(a):
            out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
            i = nl.program_id(0)
            nl.store(out[i], value=nl.load(a[i]))
            return out
    """)
    a = np.random.default_rng(0).standard_normal((4, 2, 8)).astype(np.float32)
    np.testing.assert_array_equal(klr.simulate(kern.copy_rows)[4](a), a)
    np.testing.assert_array_equal(klr.simulate(kern.copy_rows, grid=4)(a), a)
    with pytest.warns(SimulationWarning, match="output 'out' has 32 elements that were never written"):
        half = klr.simulate(kern.copy_rows)[2](a)
    np.testing.assert_array_equal(half[:2], a[:2])


def test_return_forms_and_arguments_written_in_place(load: Loader) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl


        @nki.jit
        def pair(a):
            x = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
            y = nl.ndarray(a.shape, dtype=nl.bfloat16, buffer=nl.shared_hbm)
            t = nl.load(a)
            nl.store(x, value=t)
            nl.store(y, value=nl.copy(t, dtype=nl.bfloat16))
            return x, y


        @nki.jit
        def as_list(a):
            x = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
            nl.store(x, value=nl.load(a))
            return [x]


        @nki.jit
        def in_place(a, out):
            nl.store(out, value=nl.load(a))


        @nki.jit
        def twice(a):
            x = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
            nl.store(x, value=nl.load(a))
            return x, x


        @nki.jit
        def returns_its_argument(a, out):
            nl.store(out, value=nl.load(a))
            return a, out
    """)
    a = np.full((128, 16), 1.5, np.float32)
    x, y = klr.simulate(kern.pair)(a)
    assert y.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(x, a)
    assert isinstance(klr.simulate(kern.as_list)(a), list)
    first, second = klr.simulate(kern.twice)(a)
    assert first is second
    np.testing.assert_array_equal(first, a)
    out = np.zeros_like(a)
    assert klr.simulate(kern.in_place)(a, out) is None
    np.testing.assert_array_equal(out, a)
    out = np.zeros_like(a)
    first, second = klr.simulate(kern.returns_its_argument)(a, out=out)
    assert first is a and second is out
    np.testing.assert_array_equal(out, a)


def test_a_dataclass_of_the_kernel_module_is_an_argument(load: Loader) -> None:
    kern = load("""
        from dataclasses import dataclass
        from enum import Enum

        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl


        class Mode(Enum):
            DOUBLE = 2
            TRIPLE = 3


        @dataclass(frozen=True)
        class Config:
            mode: Mode = Mode.DOUBLE
            bias: float = 0.0


        @nki.jit
        def scale(a, config):
            out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
            t = nl.load(a)
            nl.store(out, value=nl.add(nl.multiply(t, config.mode.value), config.bias))
            return out
    """)
    a = np.ones((128, 8), np.float32)
    out = klr.simulate(kern.scale)(a, config=kern.Config(kern.Mode.TRIPLE, 0.5))
    np.testing.assert_array_equal(out, np.full_like(a, 3.5))


def test_numpy_and_nki_objects_as_arguments(load: Loader) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.isa as nisa
        import neuronxcc.nki.language as nl


        @nki.jit
        def apply(a, op, dtype):
            out = nl.ndarray(a.shape, dtype=dtype, buffer=nl.shared_hbm)
            t = nl.load(a)
            nl.store(out, value=nisa.tensor_scalar(t, op, 2.0, dtype=dtype))
            return out
    """)
    import neuronxcc.nki.language as nl  # klr's, from the fixture

    a = np.full((128, 8), 3.0, np.float32)
    assert klr.simulate(kern.apply)(a, np.add, nl.float32)[0, 0] == 5.0
    out = klr.simulate(kern.apply)(a, nl.multiply, nl.bfloat16)
    assert out.dtype == ml_dtypes.bfloat16 and float(out[0, 0]) == 6.0


def test_errors_point_into_the_kernel(load: Loader) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl


        @nki.jit
        def bad(a):
            out = nl.ndarray((128, 64), dtype=a.dtype, buffer=nl.shared_hbm)
            print("tile of", a.shape)
            nl.store(out, value=nl.load(a))
            return out
    """)
    with pytest.raises(KernelError) as info:
        klr.simulate(kern.bad)(np.zeros((128, 32), np.float32))
    assert str(info.value) == (
        "kern.py:10:5: error: store of a [128, 32] tile into a [128, 64] region\n"
        "   10 |     nl.store(out, value=nl.load(a))\n"
        "      |     ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~")
    assert isinstance(info.value.error, klr.errors.KlrError)
    assert info.value.__suppress_context__


def test_print_output_is_shown_even_when_the_trace_fails(load: Loader,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl


        @nki.jit
        def bad(a):
            print("shape is", a.shape)
            for i in range(2):
                print("round", i)
            return nl.load(a[:, 500])
    """)
    with pytest.raises(KernelError):
        klr.simulate(kern.bad)(np.zeros((128, 32), np.float32))
    assert capsys.readouterr().out == "shape is (128, 32)\nround 0\nround 1\n"


def test_warnings_are_python_warnings(load: Loader) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl


        @nki.jit
        def nothing(a):
            t = nl.load(a)
    """)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert klr.simulate(kern.nothing)(np.zeros((128, 4), np.float32)) is None
    assert [str(w.message) for w in caught if w.category is SimulationWarning] == [
        "kern.py:6:1: warning: the kernel returns no tensor and writes none of its inputs, so it has "
        "no outputs\n"
        "    6 | @nki.jit\n"
        "      | ^~~~~~~~"]


def test_a_trace_is_reused_for_the_same_gathered_kernel(load: Loader) -> None:
    kern = load(ADD)
    a = np.ones((128, 8), np.float32)
    sim = klr.simulate(kern.add)
    sim(a, a)
    assert sim.last is not None
    first = sim.last.traced
    sim(a * 2, a)
    assert sim.last.traced is first
    sim(np.ones((128, 16), np.float32), np.ones((128, 16), np.float32))
    assert sim.last.traced is not first


def test_bad_arguments_are_kernel_errors(load: Loader) -> None:
    kern = load(ADD)
    with pytest.raises(KernelError, match=r"^error: kernel 'add' takes 2 positional arguments but 3 were"):
        klr.simulate(kern.add)(1, 2, 3)
    with pytest.raises(KernelError, match=r"^error: a launch grid takes positive integers, got 'x'$"):
        klr.simulate(kern.add)["x"](np.ones((128, 8), np.float32), np.ones((128, 8), np.float32))
    with pytest.raises(KernelError, match="unknown limit 'nope' for klr.simulate"):
        klr.simulate(kern.add, limits={"nope": 1})(1, 2)


def test_a_function_defined_in_a_function_is_refused() -> None:
    def local(a):  # type: ignore[no-untyped-def]
        return a

    with pytest.raises(KernelError, match="is not defined at module level"):
        klr.simulate(local)(1)


def test_a_failed_assert_in_the_kernel_is_an_assertion_error(load: Loader) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl


        @nki.jit
        def checked(a):
            assert a.shape[0] <= nl.tile_size.pmax, "too many rows"
            out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
            nl.store(out, value=nl.load(a))
            return out
    """)
    with pytest.raises(AssertionError) as info:
        klr.simulate(kern.checked)(np.zeros((256, 4), np.float32))
    assert isinstance(info.value, KernelError)
    assert str(info.value).startswith("kern.py:8:5: error: assertion failed: too many rows\n")


def test_an_out_of_bounds_dma_is_an_index_error(load: Loader) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.isa as nisa
        import neuronxcc.nki.language as nl


        @nki.jit
        def gather_rows(table, rows):
            out = nl.ndarray((4, 8), dtype=table.dtype, buffer=nl.shared_hbm)
            idx = nl.load(rows)
            tile = nl.ndarray((4, 8), dtype=table.dtype, buffer=nl.sbuf)
            iy = nl.arange(8)[None, :]
            nisa.dma_copy(src=table[idx, iy], dst=tile, oob_mode=nisa.oob_mode.error)
            nl.store(out, value=tile)
            return out
    """)
    table = np.arange(16 * 8, dtype=np.float32).reshape(16, 8)
    inside = klr.simulate(kern.gather_rows)(table, np.array([[3], [0], [15], [7]], np.int32))
    np.testing.assert_array_equal(inside, table[[3, 0, 15, 7]])
    with pytest.raises(IndexError) as info:
        klr.simulate(kern.gather_rows)(table, np.array([[3], [16], [0], [1]], np.int32))
    assert isinstance(info.value, KernelError)
    assert str(info.value).startswith("kern.py:13:5: error: out-of-bounds access to 'table' (flat index ")
