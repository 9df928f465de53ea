"""What the rules are made of: operand types, the rule table, ``check`` and the shared facts.

An operand is seen as an ``Arg``: the name messages call it by, the N-d shape of its access
(partitions first), its element type and its memory. ``static_arg`` derives one from a Core
operand without running anything; the interpreter derives it from the view it resolved.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import TypeVar, cast

from klr.core.numerics import BITVEC
from klr.core.operators import ctor_name, engine_of
from klr.core.optypes import AluOp, Engine, OperatorPayload
from klr.core.tensor import (
    AccessBasic,
    AccessPattern,
    BirAccessPattern,
    Coord,
    ImmFloat,
    ImmInt,
    ImmPointer,
    ImmRegister,
    Memory,
    PsumView,
    RegisterRef,
    SbufView,
    Slice,
    TensorHbm,
    TensorName,
)
from klr.dtypes import Dtype, nki_name
from klr.errors import KlrError
from klr.schema import Kind, describe, fields_of, record

# --- the machine (NKI's nl.tile_size and the reference's memory sizes) -------------------------

PMAX = 128                      # partitions of SBUF and PSUM
SBUF_PARTITION_BYTES = 0x30000  # 192 KiB per partition
PSUM_PARTITION_BYTES = 0x4000   # 16 KiB per partition: 8 banks
PSUM_BANK_BYTES = 2048          # one bank: 512 float32 (nl.tile_size.psum_fmax)
GEMM_STATIONARY_FMAX = 128
GEMM_MOVING_FMAX = PSUM_BANK_BYTES // 4  # a matmul writes one bank of float32
BN_STATS_FMAX = 512
GPSIMD_PARTITIONS = 16          # partitions served by one GpSimd core

HBM = (Memory.hbm, Memory.shared_hbm, Memory.private_hbm)
SBUF = (Memory.sbuf,)
ON_CHIP = (Memory.sbuf, Memory.psum)
DMA = (*HBM, Memory.sbuf)
ANYWHERE = tuple(Memory)

FP8 = frozenset({Dtype.float8e4, Dtype.float8e5, Dtype.float8_e4m3, Dtype.float8_e4m3fn})
FLOATS = frozenset({Dtype.bfloat16, Dtype.float8e3, Dtype.float16, Dtype.float32, Dtype.float32r} | FP8)
PACKED = frozenset({Dtype.float8_e5m2_x4, Dtype.float8_e4m3fn_x4, Dtype.float4_e2m1fn_x4})

class RuleError(KlrError):
    """A static rule an operator breaks: one sentence naming the operand, without the operator
    or a position (``op`` is set by ``check``; ``str`` gives ``"op: message"``)."""

    phase = "check"

    def __init__(self, message: str, op: str | None = None) -> None:
        super().__init__(message)
        self.op = op

    def __str__(self) -> str:
        return f"{self.op}: {self.message}" if self.op else self.message


# --- operands ----------------------------------------------------------------------------------


@record
class Arg:
    """One tensor operand as the rules see it."""

    name: str                   # a Core field ("src1") or, from the tracer, an NKI parameter
    shape: tuple[int, ...]      # the access's dims, partitions first
    dtype: Dtype
    memory: Memory

    @property
    def partitions(self) -> int:
        return self.shape[0] if self.shape else 1

    @property
    def free(self) -> int:
        """Elements per partition."""
        return math.prod(self.shape[1:])

    @property
    def pf(self) -> tuple[int, int]:
        return self.partitions, self.free

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def text(self) -> str:
        return "[" + ", ".join(map(str, self.shape)) + "]"


Describe = Callable[[str, object], "Arg | None"]
"""How a rule learns an operand's type: (field name, field value) -> Arg, None for an immediate."""


def static_arg(name: str, value: object) -> Arg | None:
    """The Arg of a TensorRef or Operand value from the IR alone (None for None or an immediate)."""
    match value:
        case None | ImmInt() | ImmFloat() | ImmRegister() | ImmPointer():
            return None
        case TensorName() | AccessBasic() | AccessPattern() | BirAccessPattern():
            t = value if isinstance(value, TensorName) else value.tensor
            dtype = value.dtype if isinstance(value, BirAccessPattern) else t.dtype
            return Arg(name, _in_bounds(value, dtype), dtype, t.address.memory)
        case SbufView(view=v) | PsumView(view=v):
            memory = Memory.sbuf if isinstance(value, SbufView) else Memory.psum
            return Arg(name, (v.parNum, *(p.num for p in v.pattern)), v.dtype, memory)
        case TensorHbm(dims=dims, dtype=dtype):
            return Arg(name, tuple(p.num for p in dims), dtype, Memory.hbm)
        case RegisterRef():
            raise RuleError(f"{name} is a register-shaped tensor reference, whose shape is not known "
                            f"statically")
    raise RuleError(f"{name} is a {type(value).__name__}, not a tensor")


def _in_bounds(access: TensorName | AccessBasic | AccessPattern | BirAccessPattern,
               dtype: Dtype) -> tuple[int, ...]:
    """The access's shape, after checking that its static elements lie inside its tensor."""
    if isinstance(access, TensorName):
        return access.shape.dims
    t = access.tensor
    if isinstance(access, AccessBasic):
        offset, pairs = _basic_pairs(t, access.indexes)
    elif isinstance(access, AccessPattern):
        offset = sum(p.step * p.offset for p in access.pattern)
        pairs = [(p.step, p.num) for p in access.pattern]
    else:
        offset, pairs = access.offset, [(p.step, p.num) for p in access.pattern]
        if access.scalarOffset is not None or access.vectorOffset is not None:
            return tuple(n for _, n in pairs)  # where it lands is known at run time only
    shape = tuple(n for _, n in pairs)
    if 0 in shape:
        return shape
    size = t.shape.parDim * t.shape.freeElements * t.dtype.size // dtype.size
    lo = offset + sum(min(0, s * (n - 1)) for s, n in pairs)
    hi = offset + sum(max(0, s * (n - 1)) for s, n in pairs)
    if lo < 0 or hi >= size:
        raise RuleError(f"out-of-bounds access to '{t.name}' (flat index {lo if lo < 0 else hi}, "
                        f"size {size})")
    return shape


def _basic_pairs(t: TensorName, indexes: tuple[Coord | Slice, ...]) -> tuple[int, list[tuple[int, int]]]:
    dims = t.shape.dims
    if len(indexes) != len(dims):
        raise RuleError(f"basic access to '{t.name}' has {len(indexes)} indexes for {len(dims)} "
                        f"dimensions")
    offset, pairs = 0, []
    for k, index in enumerate(indexes):
        stride = math.prod(dims[k + 1:])  # row-major
        if isinstance(index, Coord):
            offset += index.e * stride
            pairs.append((stride, 1))
        else:
            if index.step == 0:
                raise RuleError(f"basic access to '{t.name}' has a slice with step 0")
            offset += index.l * stride
            pairs.append((index.step * stride, index.size))
    return offset, pairs


# --- the rule table ----------------------------------------------------------------------------


class Check:
    """What a rule sees: the operator, its operands' Args (described on first use) and whether
    hardware rules apply."""

    __slots__ = ("_args", "_describe", "hardware", "op")

    def __init__(self, op: OperatorPayload, hardware: bool, describe: Describe) -> None:
        self.op = op
        self.hardware = hardware
        self._describe = describe
        self._args: dict[str, Arg | None] = {}

    def opt(self, field: str) -> Arg | None:
        """The Arg of a TensorRef or Operand field; None when absent or an immediate."""
        if field not in self._args:
            self._args[field] = self._describe(field, getattr(self.op, field))
        return self._args[field]

    def __call__(self, field: str) -> Arg:
        """The Arg of a field that must hold a tensor."""
        got = self.opt(field)
        if got is None:
            raise RuleError(f"{field} must be a tensor, not an immediate")
        return got

    def each(self, field: str) -> list[Arg]:
        """The Args of a list-of-TensorRef field, named ``field[i]``."""
        out = []
        for i, value in enumerate(getattr(self.op, field)):
            key = f"{field}[{i}]"
            if key not in self._args:
                self._args[key] = self._describe(key, value)
            got = self._args[key]
            if got is not None:
                out.append(got)
        return out

    def operands(self) -> Iterator[Arg]:
        """Every tensor operand of the operator."""
        for field, many in operand_fields(type(self.op)):
            if many:
                yield from self.each(field)
            else:
                got = self.opt(field)
                if got is not None:
                    yield got


P = TypeVar("P", bound=OperatorPayload)
RuleFn = Callable[[Check, P], None]


@record
class Rule:
    """An operator's static rule, the memories its operands may be in, the engines that run it."""

    cls: type[OperatorPayload]
    fn: Callable[[Check, OperatorPayload], None]
    memories: tuple[Memory, ...]
    engines: frozenset[Engine] | None

    @property
    def name(self) -> str:
        return ctor_name(self.cls)


RULES: dict[type[OperatorPayload], Rule] = {}


def rule(*classes: type[P], memories: tuple[Memory, ...] = ON_CHIP,
         engines: Collection[Engine] | None = None) -> Callable[[RuleFn[P]], RuleFn[P]]:
    """Register the rule of ``classes``. Under hardware rules every tensor operand must be in one
    of ``memories``, and an operator with an ``engine`` field must name one of ``engines`` (or
    leave it unassigned)."""

    def wrap(fn: RuleFn[P]) -> RuleFn[P]:
        for cls in classes:
            assert cls not in RULES, f"{cls.__name__} has two rules"
            # fn takes the payload of cls, the only class it is called with
            RULES[cls] = Rule(cls, cast("Callable[[Check, OperatorPayload], None]", fn), memories,
                              None if engines is None else frozenset(engines))
        return fn

    return wrap


_OPERAND_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def operand_fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """The (field, is_list) of every TensorRef or Operand field of a payload class."""
    got = _OPERAND_FIELDS.get(cls)
    if got is None:
        found = []
        for f in fields_of(cls):
            desc = describe(f.type)
            many = desc.kind is Kind.LIST
            if desc.kind in (Kind.OPTION, Kind.LIST):
                desc = desc.args[0]
            if desc.kind is Kind.SUM and desc.sum is not None and desc.sum.name in ("TensorRef", "Operand"):
                found.append((f.name, many))
        got = _OPERAND_FIELDS[cls] = tuple(found)
    return got


def check(op: OperatorPayload, *, hardware: bool = True, describe: Describe = static_arg) -> None:
    """Raise a RuleError when ``op`` breaks its rule.

    Shape rules (operands that agree, sizes an operator needs to have a meaning) always apply;
    with ``hardware``, so do the NeuronCore's limits: memories, engines, partitions, dtypes.
    """
    got = RULES.get(type(op))
    assert got is not None, f"every Core operator has a rule, {type(op).__name__} has none"
    c = Check(op, hardware, describe)
    try:
        got.fn(c, op)
        if hardware:
            _machine(c, got)
    except RuleError as err:
        err.op = got.name
        raise


def _machine(c: Check, r: Rule) -> None:
    """The hardware rules every operator shares."""
    engine = engine_of(c.op)
    if r.engines is not None and engine is not Engine.unassigned and engine not in r.engines:
        runs = one_of(e.name for e in sorted(r.engines, key=lambda e: e.ctor))
        raise RuleError(f"engine is {engine.name}, but {r.name} runs on {runs}")
    for a in c.operands():
        in_memory(a, *r.memories)
        if engine is Engine.pool and a.memory is Memory.psum:
            raise RuleError(f"{a.name} is in PSUM, which the pool engine (GpSimd) cannot access")
        if a.memory in ON_CHIP:
            at_most_partitions(a)


def check_tensor(t: TensorName) -> None:
    """The hardware rules of a tensor declaration: it fits its address and its memory."""
    if not t.fits():
        raise RuleError(f"tensor '{t.name}' ({t.shape} {nki_name(t.dtype)}) does not fit its address "
                        f"of {t.address.parSize} x {t.address.freeSize} bytes")
    limits = {Memory.sbuf: SBUF_PARTITION_BYTES, Memory.psum: PSUM_PARTITION_BYTES}
    cap = limits.get(t.memory)
    if cap is None:
        return
    if t.shape.parDim > PMAX:
        raise RuleError(f"tensor '{t.name}' has {t.shape.parDim} partitions; {memory_name(t.memory)} "
                        f"has {PMAX}")
    need = t.shape.freeElements * t.dtype.size
    if need > cap:
        raise RuleError(f"tensor '{t.name}' needs {need} bytes per partition; {memory_name(t.memory)} "
                        f"has {cap}")


# --- shape facts -------------------------------------------------------------------------------


def same_shape(first: Arg, *others: Arg | None) -> None:
    """Every other operand has first's partitions and elements per partition."""
    for o in others:
        if o is not None and o.pf != first.pf:
            raise RuleError(f"{o.name} has shape {o.text} but {first.name} has {first.text}")


def same_count(first: Arg, second: Arg) -> None:
    """Both operands have the same number of elements."""
    if first.count != second.count:
        raise RuleError(f"{second.name} has {second.count} elements ({second.text}) but {first.name} "
                        f"has {first.count} ({first.text})")


def same_partitions(first: Arg, *others: Arg | None) -> None:
    for o in others:
        if o is not None and o.partitions != first.partitions:
            raise RuleError(f"{o.name} has {o.partitions} partitions but {first.name} has "
                            f"{first.partitions}")


def per_partition(value: Arg | None, like: Arg) -> None:
    """A per-partition scalar operand (a tile; immediates pass) is a [P, 1] column of like's P."""
    if value is not None and value.pf != (like.partitions, 1):
        raise RuleError(f"{value.name} must have one element per partition ([{like.partitions}, 1]) "
                        f"but has shape {value.text}")


def free_size(value: Arg | None, size: int) -> None:
    if value is not None and value.free != size:
        raise RuleError(f"{value.name} must have {size} elements per partition but has shape "
                        f"{value.text}")


# --- hardware facts ----------------------------------------------------------------------------


def memory_name(memory: Memory) -> str:
    return {Memory.sbuf: "SBUF", Memory.psum: "PSUM", Memory.reg: "a register",
            Memory.shared_hbm: "shared HBM", Memory.private_hbm: "private HBM"}.get(memory, "HBM")


def one_of(names: Iterable[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def in_memory(a: Arg | None, *memories: Memory) -> None:
    if a is not None and a.memory not in memories:
        names = dict.fromkeys(memory_name(Memory.hbm if m in HBM else m) for m in memories)
        raise RuleError(f"{a.name} is in {memory_name(a.memory)}, but it must be in {one_of(names)}")


def not_both_in_psum(a: Arg | None, b: Arg | None) -> None:
    if a is not None and b is not None and a.memory is b.memory is Memory.psum:
        raise RuleError(f"{a.name} and {b.name} are both in PSUM; at most one of them may be")


def at_most_partitions(a: Arg, limit: int = PMAX) -> None:
    if a.partitions > limit:
        raise RuleError(f"{a.name} has {a.partitions} partitions, at most {limit}")


def free_at_most(a: Arg, limit: int, why: str = "") -> None:
    if a.free > limit:
        raise RuleError(f"{a.name} has {a.free} elements per partition, at most {limit}{why}")


def free_at_least(a: Arg, limit: int) -> None:
    if a.free < limit:
        raise RuleError(f"{a.name} has {a.free} elements per partition, at least {limit} are needed")


def dtype_in(a: Arg | None, allowed: Collection[Dtype], what: str = "") -> None:
    """``a``'s dtype is one of ``allowed``; ``what`` describes them (default: the list)."""
    if a is not None and a.dtype not in allowed:
        names = what or one_of(dict.fromkeys(nki_name(d) for d in sorted(allowed, key=lambda d: d.ctor)))
        raise RuleError(f"{a.name} has dtype {nki_name(a.dtype)}, but it must be {names}")


def same_dtype(a: Arg, b: Arg | None) -> None:
    if b is not None and a.dtype is not b.dtype:
        raise RuleError(f"{b.name} has dtype {nki_name(b.dtype)} but {a.name} has {nki_name(a.dtype)}; "
                        f"they must be the same")


def integers(op: AluOp, *args: Arg | None) -> None:
    """A bitwise operator works on integer bit patterns only."""
    for a in args:
        if a is not None and not a.dtype.is_int:
            raise RuleError(f"{a.name} has dtype {nki_name(a.dtype)}, but the bitwise operator "
                            f"{op.name} needs integer operands")


def arithmetic(field: str, op: AluOp | None) -> None:
    if op in BITVEC:
        raise RuleError(f"{field} is the bitwise operator {op.name}, but this operator takes "
                        f"arithmetic ones only")


def op_in(field: str, op: AluOp | None, allowed: Collection[AluOp]) -> None:
    if op is not None and op not in allowed:
        names = one_of(o.name for o in sorted(allowed, key=lambda o: o.ctor))
        raise RuleError(f"{field} is {op.name}, but it must be {names}")


def number(value: object) -> float | int | None:
    """The value of an int or float immediate (None for registers, pointers and tensors)."""
    if isinstance(value, ImmInt):
        return value.i
    if isinstance(value, ImmFloat):
        return value.f
    return None
