"""Every example kernel, end to end: gather -> trace -> eval, compared with its numpy reference,
once through the library API and once through the ``klr`` command line."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .e2e_support import assert_matches, refs, run_api, run_cli

NAMES = refs.names()


def test_every_kernel_file_has_a_reference() -> None:
    helpers = {"common", "kernel_utils", "bad"}  # bad: the README's error example
    kernels = {p.stem for p in refs.EXAMPLES_DIR.glob("*.py")} - helpers
    assert kernels == set(NAMES)


def test_api_entry_points_stay_callable() -> None:
    import klr

    ex = refs.load("transpose2d")
    inputs = ex.make_inputs()
    for _ in range(2):  # the second round uses the entry points after their first use
        py = klr.gather(str(ex.path), *inputs, name=ex.kernel, **ex.kwargs)
        assert callable(klr.trace), "klr.trace stopped being callable after first use"
        traced = klr.trace(py)
        klr.eval(traced.kernel, *inputs)
        assert callable(klr.gather) and callable(klr.trace) and callable(klr.eval)


@pytest.mark.parametrize("name", NAMES)
def test_api(name: str) -> None:
    ex = refs.load(name)
    inputs = ex.make_inputs(seed=1)
    assert_matches(ex, inputs, run_api(ex, inputs))


@pytest.mark.parametrize("name", NAMES)
def test_cli(name: str, tmp_path: Path) -> None:
    ex = refs.load(name)
    inputs = ex.make_inputs(seed=2)
    outputs = run_cli(ex, inputs, tmp_path)
    assert_matches(ex, inputs, outputs)
    # The command line goes through the codec; it must not change a single bit.
    for name_, array in run_api(ex, inputs).items():
        np.testing.assert_array_equal(outputs[name_], array)


@pytest.mark.parametrize("name", NAMES)
def test_traced_core_keeps_every_static_rule(name: str) -> None:
    import klr
    from klr.core.rules import check_kernel

    ex = refs.load(name)
    py = klr.gather(str(ex.path), *ex.make_inputs(seed=3), name=ex.kernel, grid=ex.grid, **ex.kwargs)
    assert [str(d) for d in check_kernel(klr.trace(py).kernel)] == []


def test_api_binds_inputs_as_the_command_line_does() -> None:
    """klr.eval and klr eval share one binding of inputs (klr.sim.evaluate.bind_inputs): the
    same errors, positional inputs in the kernel's order, keywords by name, --random for the rest."""
    import klr
    from klr.errors import UsageError

    ex = refs.load("transpose2d")
    inputs = ex.make_inputs()
    traced = klr.trace(klr.gather(str(ex.path), *inputs, name=ex.kernel, **ex.kwargs))
    names = [t.name for t in traced.kernel.inputs]
    assert names == ["x"]
    with pytest.raises(UsageError) as info:
        klr.eval(traced, *inputs, *inputs)
    assert info.value.message == "too many inputs: the kernel takes 1 (x)"
    with pytest.raises(UsageError) as info:
        klr.eval(traced, nope=inputs[0])
    assert info.value.message == "the kernel has no input named 'nope' (inputs: x)"
    by_name = klr.eval(traced, **dict(zip(names, inputs, strict=True))).outputs
    drawn = klr.eval(traced, random=7).outputs
    given = klr.eval(traced, *inputs, random=7).outputs   # nothing left to draw
    for name, array in klr.eval(traced, *inputs).outputs.items():
        np.testing.assert_array_equal(by_name[name], array)
        np.testing.assert_array_equal(given[name], array)
        assert not np.array_equal(drawn[name], array)
