"""klr's nki and neuronxcc.nki modules: what a host program sees, and how they are installed."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from klr.errors import UsageError
from klr.sim import shim
from klr.sim.simulate import Simulated

from .conftest import Loader

ROOT = Path(__file__).resolve().parents[2]


def test_nothing_is_provided_without_install() -> None:
    code = "import klr, klr.sim.simulate, importlib.util; print(importlib.util.find_spec('nki'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"


def test_both_spellings_and_their_submodules(nki: None) -> None:
    import neuronxcc.nki as legacy
    import neuronxcc.nki.isa as legacy_isa
    import nki
    import nki.language as nl
    from neuronxcc import nki as from_package

    assert from_package is legacy
    assert legacy.language.float32 is nl.float32 is np.float32
    assert nki.isa is importlib.import_module("nki.isa")
    assert legacy_isa.nc_matmul == nki.isa.nc_matmul
    assert importlib.import_module("neuronxcc.nki.isa.constants").oob_mode.skip.__klr_name__ == \
        "nki.isa.constants.oob_mode.skip"
    assert importlib.import_module("nki.compiler.backends.neuron").__name__ == "nki.compiler.backends.neuron"
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("neuronxcc.starfish")


def test_dtypes_are_numpy_types(nki: None) -> None:
    import neuronxcc.nki.language as nl

    assert nl.bfloat16 is ml_dtypes.bfloat16
    assert nl.float8_e4m3 is ml_dtypes.float8_e4m3
    assert nl.float8_e5m2 is ml_dtypes.float8_e5m2
    assert nl.float16 is np.float16 and nl.int32 is np.int32 and nl.uint8 is np.uint8
    assert nl.bool_ is np.bool_
    assert np.zeros((2, 2), dtype=nl.bfloat16).dtype == ml_dtypes.bfloat16
    assert nl.tfloat32.__klr_name__ == "nki.language.tfloat32"  # no numpy type
    assert nl.float8_e4m3fn_x4.__klr_name__ == "nki.language.float8_e4m3fn_x4"


def test_constants_are_numbers_in_a_fresh_process() -> None:
    """In a process that has traced nothing yet (the NKI library not loaded), the shim's
    constants are still numbers: a host computation like ``n // nl.tile_size.pmax`` works."""
    code = ("import klr; klr.install_nki(); import neuronxcc.nki.language as nl; "
            "print(1024 // nl.tile_size.pmax, nl.fp32.min < 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["8", "True"]


def test_constants_and_buffers(nki: None) -> None:
    import neuronxcc.nki.language as nl

    assert nl.tile_size.pmax == 128
    assert nl.tile_size.psum_fmax == 512
    assert nl.tile_size.gemm_stationary_fmax == 128
    assert nl.tile_size.gemm_moving_fmax == 512
    assert nl.fp32.min == -np.finfo(np.float32).max
    for buffer in ("sbuf", "psum", "hbm", "shared_hbm", "private_hbm"):
        assert getattr(nl, buffer).__klr_name__ == f"nki.language.{buffer}"


def test_host_helpers(nki: None) -> None:
    import neuronxcc.nki.language as nl

    cast = nl.static_cast(np.array([1.0, 2.5]), nl.bfloat16)
    assert cast.dtype == ml_dtypes.bfloat16 and cast.tolist() == [1.0, 2.5]
    assert nl.nc(2) * 2 == 4
    assert nl.spmd_dim(nl.nc(2), 3) == 6


def test_kernel_language_calls_on_the_host_are_errors(nki: None) -> None:
    import neuronxcc.nki.isa as nisa
    import neuronxcc.nki.language as nl

    with pytest.raises(UsageError) as info:
        nl.exp(np.ones(3))
    assert info.value.message == (
        "nl.exp can only be called inside a kernel: under klr, kernels are read from their source and "
        "traced, and the program that calls them runs as plain Python")
    with pytest.raises(UsageError, match=r"^nisa\.nc_matmul can only be called inside a kernel"):
        nisa.nc_matmul(1, 2)
    assert repr(nl.add) == "<nki name nki.language.add>"
    assert nl.add == nl.add and nl.add != nl.multiply and len({nl.add, nl.add}) == 1
    assert nl.ndarray[128, 64] is nl.ndarray


def test_compiler_names_are_decorators_that_change_nothing(nki: None) -> None:
    import neuronxcc.nki as nki_

    def kernel() -> None:
        pass

    assert nki_.compiler.skip_middle_end_transformations(kernel) is kernel
    assert nki_.compiler.enable_stack_allocator(log_level=20)(kernel) is kernel


def test_every_jit_spelling_makes_a_simulated_kernel(load: Loader) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import nki as nki2


        def f(a):
            return a

        bare = nki.jit(f)
        called = nki.jit()(f)
        moded = nki.jit(mode="simulation", platform_target="trn2")(f)
        direct = nki.jit(f, mode="baremetal")
        rejit = nki.jit(bare, mode="simulation", platform_target="trn3")
        baremetal = nki.baremetal(f)
        baremetal_opts = nki.baremetal(artifacts_dir="debug")(f)
        traced = nki2.trace(f)
        simulated = nki2.simulate(f)
    """)
    for name in ("bare", "called", "moded", "direct", "rejit", "baremetal", "baremetal_opts", "traced",
                 "simulated"):
        value = getattr(kern, name)
        assert isinstance(value, Simulated), name
        assert value.func is kern.f, name
    assert kern.bare.arch is None and kern.moded.arch == 3 and kern.rejit.arch == 4
    assert kern.bare.__name__ == "f" and kern.bare.__wrapped__ is kern.f
    assert repr(kern.bare[2, 2]) == "<klr simulated kernel 'f'[(2, 2)]>"


def test_simulate_kernel_benchmark_and_profile(load: Loader, capsys: pytest.CaptureFixture[str]) -> None:
    kern = load("""
        import neuronxcc.nki as nki
        import neuronxcc.nki.language as nl


        @nki.jit
        def double(a):
            out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
            nl.store(out, value=nl.multiply(nl.load(a), 2.0))
            return out
    """)
    import neuronxcc.nki as nki

    a = np.ones((128, 8), np.float32)
    np.testing.assert_array_equal(nki.simulate_kernel(kern.double, a), a * 2)
    np.testing.assert_array_equal(nki.simulate_kernel(kern.double[1], a), a * 2)
    bench = nki.benchmark(warmup=5, iters=10)(kern.double)
    np.testing.assert_array_equal(bench(a), a * 2)
    assert bench.benchmark_result.nc_latency.get_latency_percentile(50) > 0
    np.testing.assert_array_equal(nki.simulate_kernel(bench, a), a * 2)
    profiled = nki.profile(working_directory="/nonexistent", num_execs=3)(kern.double)
    np.testing.assert_array_equal(profiled[1](a), a * 2)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[0].startswith("klr: nki.benchmark of double ran once in klr's interpreter (gather ")
    assert err[1].startswith("klr: nki.profile of double ran once in klr's interpreter (gather ")
    assert err[0].endswith(" in all); klr's times say nothing about a device's")


def test_install_refuses_when_the_sdk_is_already_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "neuronxcc", type(sys)("neuronxcc"))
    with pytest.raises(UsageError) as info:
        shim.install()
    assert info.value.message == ("cannot provide klr's NKI modules: neuronxcc is already imported from "
                                  "the Neuron SDK; call klr.install_nki() before importing NKI")
    assert not shim.installed()


def test_an_installed_sdk_is_hidden_and_named(tmp_path: Path) -> None:
    sdk = tmp_path / "site"
    (sdk / "neuronxcc" / "nki").mkdir(parents=True)
    (sdk / "neuronxcc" / "__init__.py").write_text("")
    (sdk / "neuronxcc" / "nki" / "__init__.py").write_text("REAL = True\n")
    (tmp_path / "nki" / "test").mkdir(parents=True)  # a directory named nki (a namespace) is no SDK
    (tmp_path / "prog.py").write_text(textwrap.dedent("""
        import neuronxcc.nki as nki
        print(hasattr(nki, "jit"), "REAL" in vars(nki))
    """))
    env = {"PYTHONPATH": f"{sdk}:{ROOT / 'src'}", "PATH": "/usr/bin:/bin"}
    plain = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert plain.stdout == "False True\n"  # without klr the SDK is what Python finds
    run = subprocess.run([sys.executable, "-m", "klr", "run", "prog.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert run.stdout == "True False\n"
    assert run.stderr == (f"note: klr run provides nki and neuronxcc.nki itself; the installed Neuron SDK "
                          f"(neuronxcc ({sdk / 'neuronxcc' / '__init__.py'})) is hidden while it runs\n")
