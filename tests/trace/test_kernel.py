"""The kernel driver: blocks, bodies, SPMD instances, statement naming and limits.

Tensors belong to the NKI layer; these tests use small test builtins that emit register
moves, so they exercise only the engine and the driver.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from klr import core
from klr.errors import LimitError
from klr.trace.context import Ctx, Limits
from klr.trace.kernel import detect_dialect, trace
from klr.trace.registry import builtin
from tests.trace.util import gather_src, run_ctx, trace_src


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
        "    return x, y, z, w\n")
    value, _ = run_ctx(tmp_path, src)
    assert value == ("x.1", ["tensor0"], "tensor1", "w.4")


def test_statement_limit(tmp_path: Path) -> None:
    src = HEADER + "def kernel():\n    for i in range(100):\n        nki._test.emit(i)\n"
    with pytest.raises(LimitError) as info:
        trace_src(tmp_path, src, limits=Limits(max_stmts=10))
    assert info.value.message == "the kernel emits more than 10 statements"
    assert (info.value.pos.line, info.value.pos.column) == (5, 8)
