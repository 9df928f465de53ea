"""The kernel driver: blocks, bodies, SPMD instances, statement naming and limits.

Tensors belong to the NKI layer; these tests use small test builtins that emit register
moves, so they exercise only the engine and the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from klr import core
from klr.errors import LimitError, TraceError
from klr.tracer import trace
from klr.tracer.context import Ctx, Limits
from klr.tracer.nki import detect_dialect
from klr.tracer.registry import builtin
from klr.tracer.values import TraceObject
from tests.tracer.util import gather_src, run_ctx, trace_src


@builtin("nki._test.emit", dialect="both", emits=("registerMove",))
def _emit(ctx: Ctx, value: int = 0) -> None:
    ctx.emit(core.RegisterMove("r", value))


@builtin("nki._test.pid", dialect="both")
def _pid(ctx: Ctx) -> tuple[int, ...]:
    return ctx.program_id


@builtin("nki._test.fresh", dialect="both")
def _fresh(ctx: Ctx) -> str:
    return ctx.fresh_name()


@builtin("nki._test.info", dialect="both")
def _info(ctx: Ctx) -> tuple[object, ...]:
    return ctx.arch, ctx.grid, ctx.lnc, ctx.core, ctx.dialect


HEADER = "import nki\n\n"


def ops_of(block: core.Block) -> list[int]:
    return [s.op.imm for s in block.body]


def test_single_body_main_block(tmp_path: Path) -> None:
    src = HEADER + "def kernel(n):\n    for i in range(n):\n        nki._test.emit(i * 10)\n"
    res = trace_src(tmp_path, src, gather={"args": (3,)})
    k = res.kernel
    assert k.name == "kernel"
    assert (k.inputs, k.outputs, k.sharedConstants, k.sharedBuffers, k.edges) == ((), (), (), (), ())
    assert len(k.bodies) == 1
    (block,) = k.bodies[0]
    assert (block.label, block.noReorder) == ("main", False)
    assert ops_of(block) == [0, 10, 20]
    assert [s.name for s in block.body] == ["inst.1", "inst.2", "inst.3"]
    assert {(s.pos.line, s.pos.column) for s in block.body} == {(5, 8)}


def test_args_override_gathered_args(tmp_path: Path) -> None:
    src = HEADER + "def kernel(n, k=1):\n    for i in range(n):\n        nki._test.emit(k)\n"
    kernel = gather_src(tmp_path, src, args=(3,))
    assert ops_of(trace(kernel).kernel.bodies[0][0]) == [1, 1, 1]
    assert ops_of(trace(kernel, args=(2,), kwargs={"k": 7}).kernel.bodies[0][0]) == [7, 7]


def test_spmd_grid_instances_are_blocks(tmp_path: Path) -> None:
    src = HEADER + "def kernel():\n    i, j = nki._test.pid()\n    nki._test.emit(10 * i + j)\n"
    res = trace_src(tmp_path, src, grid=(2, 3))
    (body,) = res.kernel.bodies
    assert [b.label for b in body] == [f"spmd.{i}.{j}" for i in range(2) for j in range(3)]
    assert [ops_of(b) for b in body] == [[0], [1], [2], [10], [11], [12]]
    assert [b.body[0].name for b in body] == [f"inst.{n}" for n in range(1, 7)]


def test_spmd_grid_from_gather(tmp_path: Path) -> None:
    src = HEADER + "def kernel():\n    (i,) = nki._test.pid()\n    nki._test.emit(i)\n"
    res = trace_src(tmp_path, src, gather={"grid": 2})
    assert [(b.label, ops_of(b)) for b in res.kernel.bodies[0]] == [("spmd.0", [0]), ("spmd.1", [1])]


def test_lnc_cores_are_bodies(tmp_path: Path) -> None:
    src = HEADER + "def kernel():\n    a, g, lnc, c, d = nki._test.info()\n    nki._test.emit(c)\n"
    res = trace_src(tmp_path, src, gather={"lnc": 2})
    bodies = res.kernel.bodies
    assert len(bodies) == 2
    assert [[(b.label, ops_of(b), b.body[0].name) for b in body] for body in bodies] == [
        [("main", [0], "inst.1")], [("main", [1], "inst.1")]]


def test_ctx_options(tmp_path: Path) -> None:
    src = HEADER + "def kernel():\n    return nki._test.info()\n"
    value, _ = run_ctx(tmp_path, src)
    assert value == (2, (), 1, 0, "beta2")
    legacy = "import neuronxcc.nki.language as nl\n\ndef kernel():\n    return nl.tile_size\n"
    kernel = gather_src(tmp_path, legacy, name="legacy.py")
    assert detect_dialect(kernel) == "legacy"


def test_fresh_names_follow_the_assignment_target(tmp_path: Path) -> None:
    src = HEADER + (
        "def helper():\n    inner = nki._test.fresh()\n    return nki._test.fresh()\n\n"
        "def kernel():\n"
        "    x = nki._test.fresh()\n"
        "    y = [nki._test.fresh()]\n"
        "    z = helper()\n"
        "    nki._test.emit()\n"
        "    w = nki._test.fresh()\n"
        "    x = nki._test.fresh()\n"
        "    return x, y, z, w\n")
    value, _ = run_ctx(tmp_path, src)
    # a variable's first tensor keeps its name; a second one under that name is numbered
    assert value == ("x.2", ["tensor0"], "tensor1", "w")


def test_statement_limit(tmp_path: Path) -> None:
    src = HEADER + "def kernel():\n    for i in range(100):\n        nki._test.emit(i)\n"
    with pytest.raises(LimitError) as info:
        trace_src(tmp_path, src, limits=Limits(max_stmts=10))
    assert info.value.message == ("the kernel emits more than 10 statements (--limit max-stmts=N "
                                   "raises it)")
    assert (info.value.pos.line, info.value.pos.column) == (5, 8)


class _Runtime(TraceObject):
    """A runtime value: `if`/`for` on it open blocks instead of deciding at trace time."""

    type_name = "runtime"
    dynamic = True

    def branch(self, ctx: Ctx, then_: Callable[[], None], else_: Callable[[], None]) -> None:
        ctx.begin_block(ctx.fresh_label("then"))
        then_()
        ctx.begin_block(ctx.fresh_label("else"))
        else_()
        ctx.begin_block(ctx.fresh_label("end"))

    def loop(self, ctx: Ctx, body: Callable[[object], None]) -> None:
        ctx.begin_block(ctx.fresh_label("body"))
        body(-1)
        ctx.begin_block(ctx.fresh_label("exit"))


class _NoReorder(TraceObject):
    type_name = "no_reorder"

    def enter(self, ctx: Ctx) -> object:
        ctx.begin_block(ctx.fresh_label("noreorder"), no_reorder=True)
        return 5

    def exit(self, ctx: Ctx) -> None:
        ctx.begin_block(ctx.fresh_label("after"))


@builtin("nki._test.runtime", dialect="both")
def _runtime(ctx: Ctx) -> _Runtime:
    return _Runtime()


@builtin("nki._test.no_reorder", dialect="both")
def _no_reorder(ctx: Ctx) -> _NoReorder:
    return _NoReorder()


def test_dynamic_control_flow_protocol(tmp_path: Path) -> None:
    src = HEADER + (
        "def kernel():\n"
        "    r = nki._test.runtime()\n"
        "    if r:\n        nki._test.emit(1)\n    else:\n        nki._test.emit(2)\n"
        "    for i in r:\n        nki._test.emit(i)\n"
        "    with nki._test.no_reorder() as v:\n        nki._test.emit(v)\n")
    body = trace_src(tmp_path, src).kernel.bodies[0]
    assert [(b.label, b.noReorder, ops_of(b)) for b in body] == [
        ("main", False, []), ("then.1", False, [1]), ("else.2", False, [2]), ("end.3", False, []),
        ("body.4", False, [-1]), ("exit.5", False, []), ("noreorder.6", True, [5]), ("after.7", False, [])]


def test_break_inside_runtime_control_flow_is_an_error(tmp_path: Path) -> None:
    src = HEADER + "def kernel():\n    for i in nki._test.runtime():\n        break\n"
    with pytest.raises(TraceError) as info:
        trace_src(tmp_path, src)
    assert info.value.message == "'break' inside control flow on a runtime value is not supported"
    assert (info.value.pos.line, info.value.pos.column) == (4, 4)


def test_missing_kernel_argument(tmp_path: Path) -> None:
    src = HEADER + "def kernel(n):\n    nki._test.emit(n)\n"
    with pytest.raises(TraceError) as info:
        trace_src(tmp_path, src)
    assert info.value.message == "kernel() missing required argument 'n'"
    assert (info.value.pos.line, info.value.pos.column) == (3, 0)


def test_prints_are_recorded_per_core(tmp_path: Path) -> None:
    src = HEADER + "X = 3\nprint('global', X)\n\ndef kernel():\n    print('in kernel', X)\n"
    res = trace_src(tmp_path, src, lnc=2)
    assert [m.message for m in res.messages] == ["in kernel 3", "in kernel 3"]


def test_the_driver_takes_its_library(tmp_path: Path) -> None:
    """The driver knows no kernel language: with the Python library alone a tensor argument
    is an error (the NKI library makes it an HBM input tensor)."""
    import numpy as np

    from klr.tracer import kernel as driver
    from klr.tracer.library import PYTHON

    py = gather_src(tmp_path, HEADER + "def kernel(x):\n    nki._test.emit(1)\n",
                    args=(np.zeros((4, 4), np.float32),))
    with pytest.raises(TraceError) as info:
        driver.trace(py, library=PYTHON)
    assert info.value.message == "kernel argument 'x' is a tensor, which Python code alone cannot take"
    assert [t.name for t in trace(py).kernel.inputs] == ["x"]


@builtin("nki._test.ill_formed", dialect="both", emits=("tensorTensor",))
def _ill_formed(ctx: Ctx) -> None:
    a = core.TensorName.make("a", core.Dtype.float32, (4, 4), core.Memory.sbuf)
    b = core.TensorName.make("b", core.Dtype.float32, (4, 8), core.Memory.sbuf)
    ctx.emit(core.TensorTensor(dst=a, src0=a, src1=b, op=core.AluOp.add, dtype=None,
                               engine=core.Engine.unassigned))


def test_every_trace_of_the_test_suite_is_checked(tmp_path: Path) -> None:
    """tests/conftest.py runs the shape-level rules on every kernel a test traces."""
    broken = r"ill-formed Core:\n.*tensorTensor .*: src1 has shape \[4, 8\] but dst has \[4, 4\]"
    with pytest.raises(AssertionError, match=broken):
        trace_src(tmp_path, HEADER + "def kernel():\n    nki._test.ill_formed()\n")
