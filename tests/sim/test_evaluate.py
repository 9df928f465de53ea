"""klr.sim.evaluate, the one home of binding inputs, drawing random ones, finding constants and
noting conversions, shared by klr.eval, klr eval and klr.simulate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import klr
from klr.errors import UsageError
from klr.interp import random_inputs
from klr.sim.evaluate import bind_inputs, complete, conversion_notes, evaluate, prepare

from .conftest import Loader

SCALE = """
    import numpy as np
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl


    @nki.jit
    def scale(a, b):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        w = nl.shared_constant(np.full((4, 1), 2.0, dtype=np.float32), dtype=nl.float32)
        nl.store(out, value=nl.multiply(nl.add(nl.load(a), nl.load(b)), nl.load(w)))
        return out
"""


@pytest.fixture
def traced(load: Loader) -> object:
    kern = load(SCALE)
    a = np.ones((4, 8), np.float32)
    return klr.trace(klr.gather(kern.scale, a, a))


def test_binding_by_position_then_name(traced: object) -> None:
    kernel = prepare(traced).kernel
    assert bind_inputs(kernel, [1], {"b": 2}) == {"a": 1, "b": 2}
    with pytest.raises(UsageError) as info:
        bind_inputs(kernel, [1, 2, 3], {})
    assert info.value.message == "too many inputs: the kernel takes 2 (a, b)"
    with pytest.raises(UsageError) as info:
        bind_inputs(kernel, [], {"c": 1})
    assert info.value.message == "the kernel has no input named 'c' (inputs: a, b)"
    with pytest.raises(UsageError) as info:
        bind_inputs(kernel, [1], {"a": 1})
    assert info.value.message == "input 'a' is given twice, by position and by name"


def test_missing_inputs_are_drawn_or_named(traced: object) -> None:
    kernel = prepare(traced).kernel
    given = {"a": np.zeros((4, 8), np.float32)}
    assert complete(kernel, given, 5, None, "") == ["b"]
    np.testing.assert_array_equal(given["b"], random_inputs(kernel, 5)["b"])  # as if all were drawn
    with pytest.raises(UsageError) as info:
        complete(kernel, {}, None, None, "pass the arrays or random=SEED")
    assert info.value.message == "missing inputs 'a', 'b'; pass the arrays or random=SEED"


def test_conversions_are_noted(traced: object) -> None:
    kernel = prepare(traced).kernel
    assert conversion_notes(kernel, {"a": np.zeros((4, 8)), "b": np.zeros((4, 8), np.float32)}) == [
        "input 'a' is float64; it was converted to the kernel's float32"]


def test_constants_come_from_memory_or_from_beside_the_file(traced: object, tmp_path: Path) -> None:
    a = np.ones((4, 8), np.float32)
    in_memory = evaluate(traced, [a, a])
    np.testing.assert_array_equal(in_memory.result.outputs["out"], np.full((4, 8), 4.0, np.float32))
    assert in_memory.drawn == [] and set(in_memory.seconds) == {"inputs", "run"}
    from klr.cli import main as cli

    klr.save(tmp_path / "scale.klr", klr.gather("kern.py", a, a, name="scale"))
    assert cli.main(["trace", str(tmp_path / "scale.klr")]) == 0
    from_file = evaluate(tmp_path / "scale.core.klr", [a], {"b": a})
    np.testing.assert_array_equal(from_file.result.outputs["out"], in_memory.result.outputs["out"])


def test_klr_eval_is_the_same_binding(traced: object) -> None:
    a = np.ones((4, 8), np.float32)
    with pytest.raises(UsageError, match=r"^too many inputs: the kernel takes 2 \(a, b\)$"):
        klr.eval(traced, a, a, a)
    with pytest.raises(UsageError, match=r"^missing input 'b'; pass the arrays or random=SEED$"):
        klr.eval(traced, a)
    drawn = klr.eval(traced, a, random=3).outputs["out"]
    np.testing.assert_array_equal(drawn, (a + random_inputs(prepare(traced).kernel, 3)["b"]) * 2)
    with pytest.raises(UsageError) as info:
        klr.eval(object())
    assert info.value.message == ("eval needs a traced kernel (LncKernel, TraceResult or a .klr path), "
                                  "got object")
