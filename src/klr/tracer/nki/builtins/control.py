"""Device registers and loops the device runs: ``nisa.register_alloc`` / ``register_move`` /
``register_load`` / ``register_store``, ``nl.dynamic_range``, ``nl.fori_loop`` and
``nl.while_loop`` (``klr.tracer.nki.registers`` emits their blocks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from klr.tracer.nki import operators
from klr.tracer.nki.registers import (
    Register,
    as_int32,
    counted,
    dynamic_bounds,
    fresh_register,
    loop,
    set_register,
    test_of,
)
from klr.tracer.nki.tensors import TensorValue, tile_view
from klr.tracer.nki.views import View, checked
from klr.tracer.registry import Dialect, builtin
from klr.tracer.values import Value, type_name

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

NL = "nki.language."
ISA = "nki.isa."


def _register(ctx: Ctx, v: Value, what: str) -> Register:
    if not isinstance(v, Register):
        raise ctx.error(f"{what} must be a register (from nisa.register_alloc), not {type_name(v)}")
    return v


def _element(ctx: Ctx, v: Value, what: str) -> View:
    view = checked(ctx, tile_view(ctx, v, what))
    if view.partitions * view.free_size != 1:
        raise ctx.error(f"{what} must be a tensor of one element, not of shape {list(view.shape)}")
    return view


def _imm(ctx: Ctx, v: Value, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ctx.error(f"{what} must be an integer, not {type_name(v)}")
    return as_int32(ctx, v, what)


@builtin(ISA + "register_alloc", emits=("registerMove", "tensorLoad", "registerAluOp"),
         dialect=Dialect.beta2)
def register_alloc(ctx: Ctx, x: Value = None) -> Value:
    """A new device register holding ``x``: an integer, a one-element tensor (loaded), another
    register (copied) or nothing (0)."""
    reg = fresh_register(ctx)
    if x is None:
        operators.register_move(ctx, reg.name, 0)
    elif isinstance(x, Register):
        set_register(ctx, reg, x)
    elif isinstance(x, int) and not isinstance(x, bool):
        operators.register_move(ctx, reg.name, as_int32(ctx, x, "the register's value"))
    elif not isinstance(x, TensorValue):
        raise ctx.error(f"nisa.register_alloc takes an integer or a one-element tensor, not {type_name(x)}")
    else:
        operators.tensor_load(ctx, reg.name, _element(ctx, x, "the tensor a register is loaded from"))
    return reg


@builtin(ISA + "register_move", emits=("registerMove",), dialect=Dialect.beta2)
def register_move(ctx: Ctx, dst: Value, imm: Value) -> Value:
    """Set the register ``dst`` to the integer ``imm``."""
    operators.register_move(ctx, _register(ctx, dst, "dst").name, _imm(ctx, imm, "imm"))
    return None


@builtin(ISA + "register_load", emits=("tensorLoad",), dialect=Dialect.beta2)
def register_load(ctx: Ctx, dst: Value, src: Value) -> Value:
    """Load the register ``dst`` from the one-element tensor ``src`` (rounded to an integer)."""
    reg = _register(ctx, dst, "dst")
    operators.tensor_load(ctx, reg.name, _element(ctx, src, "src"))
    return None


@builtin(ISA + "register_store", emits=("tensorStore",), dialect=Dialect.beta2)
def register_store(ctx: Ctx, dst: Value, src: Value) -> Value:
    """Store the register ``src`` into the one-element tensor ``dst``."""
    reg = _register(ctx, src, "src")
    operators.tensor_store(ctx, _element(ctx, dst, "dst"), reg.name)
    return None


@builtin(NL + "dynamic_range", emits=("registerMove", "registerAluOp", "cmpBranch"), dialect=Dialect.beta2)
def dynamic_range(ctx: Ctx, start: Value, stop: Value = None, step: Value = 1) -> Value:
    """A loop the device runs (not unrolled): its bounds may be registers, its variable is a
    register, its body is traced once."""
    return dynamic_bounds(ctx, "nl.dynamic_range", start, stop, step)


@builtin(NL + "fori_loop", emits=("registerMove", "registerAluOp", "cmpBranch"), dialect=Dialect.beta2)
def fori_loop(ctx: Ctx, lower: Value, upper: Value, body_fun: Value, step: Value = 1) -> Value:
    """``body_fun(i)`` for ``i`` from ``lower`` to ``upper`` (exclusive) by ``step``, in a loop
    the device runs; ``i`` is a register."""
    r = dynamic_bounds(ctx, "nl.fori_loop", lower, upper, step)
    counted(ctx, r.start, r.stop, r.step, lambda i: ctx.call(body_fun, (i,)))
    return None


@builtin(NL + "while_loop", emits=("registerAluOp", "cmpBranch"), dialect=Dialect.beta2)
def while_loop(ctx: Ctx, init: Value, body_fun: Value) -> Value:
    """``r = init; while r != 0: r = body_fun(r)``, in a loop the device runs."""
    cond = fresh_register(ctx, "cond")
    set_register(ctx, cond, _register(ctx, init, "the initial condition of nl.while_loop"))
    pos = ctx.pos

    def body() -> None:
        nxt = ctx.call(body_fun, (cond,))
        ctx.pos = pos
        set_register(ctx, cond, _register(ctx, nxt, "what the body of nl.while_loop returns"))

    test = test_of(ctx, cond)
    loop(ctx, test, body, lambda: test)
    return None
