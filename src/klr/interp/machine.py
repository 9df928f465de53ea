"""The machine state an operator implementation sees, and the helpers it uses.

``Machine`` is the whole device: HBM (shared by the logical cores), the poison records,
the random generator, warnings, device prints and counters. ``Core`` is one logical core:
its SBUF/PSUM/register storages, its registers and its engines' accumulators. While a
statement runs, its Core is the ``ctx`` passed to the operator rules: ``ctx.load``,
``ctx.store``, ``ctx.operand``, ``ctx.fail`` ... all name that statement in errors.

Values move between memory and the ALU as ``Tile``s: a [partitions, free elements] array
of the stored element type, the origin codes of the elements (None when all clean), the
view's own N-d shape and, for a DMA operand under ``oobMode = skip``, which elements lie
inside their tensor.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np

from klr.core.dataops import DmaCopy, DmaTranspose, NcDmaCopy
from klr.core.numerics import exact_integers, word_bits
from klr.core.operators import operator_name
from klr.core.optypes import DmaReg, DmaSkip, Engine, OperatorPayload
from klr.core.rules import Arg
from klr.core.tensor import (
    AccessBasic,
    AccessPattern,
    BirAccessPattern,
    ImmFloat,
    ImmInt,
    ImmPointer,
    ImmRegister,
    Memory,
    PsumView,
    RegisterRef,
    SbufView,
    ScalarReg,
    TensorHbm,
    TensorName,
)
from klr.dtypes import Dtype
from klr.errors import EvalError, Warning_
from klr.interp.memory import (
    CLEAN,
    UNWRITTEN,
    CodeBudget,
    Layout,
    MemoryFault,
    Spare,
    Storage,
    View,
    layout_of,
    resolve,
)
from klr.interp.xorwow import Generators
from klr.pos import Pos

F32 = np.float32
I64 = np.int64
ACCESS_TYPES = (TensorName, AccessBasic, AccessPattern, BirAccessPattern)


# --- values ------------------------------------------------------------------------------------


@dataclass
class Tile:
    """Element values read from (or bound for) a view, as a [P, F] array."""

    values: np.ndarray
    origin: np.ndarray | None
    dtype: Dtype
    shape: tuple[int, ...]
    imm: bool = False          # an Immediate operand, as a [1, 1] tile
    valid: np.ndarray | None = None   # [P, F]: elements inside their tensor (None: all)

    @property
    def P(self) -> int:
        return int(self.values.shape[0])

    @property
    def F(self) -> int:
        return int(self.values.shape[1])

    def num(self, kind: type) -> np.ndarray:
        """The values in the compute type ``kind`` (np.float32 or np.int64)."""
        return as_compute(self.values, kind)

    def nd(self, values: np.ndarray | None = None) -> np.ndarray:
        """``values`` (default: this tile's) in the view's N-d shape."""
        return (self.values if values is None else values).reshape(self.shape)


def kept(tile: Tile) -> Tile:
    """A tile that later writes to its storage do not change (for state that outlives a statement)."""
    if tile.values.base is None or tile.values.flags.writeable:
        return tile
    return Tile(tile.values.copy(), tile.origin, tile.dtype, tile.shape, tile.imm, tile.valid)


def pf(shape: tuple[int, ...]) -> tuple[int, int]:
    """(partitions, free elements) of an N-d view shape; an empty pattern is one element."""
    if not shape:
        return (1, 1)
    return shape[0], math.prod(shape[1:])


def as_compute(values: np.ndarray, kind: type) -> np.ndarray:
    if values.dtype == kind:
        return values
    if kind is F32 and values.dtype.kind not in "iuf":
        return values.astype(F32)      # ml_dtypes floats
    return values.astype(kind)


def cast_to(values: np.ndarray, dtype: Dtype, wrap: bool = False) -> np.ndarray:
    """Convert computed values to a storage dtype (``docs/semantics.md`` §1.4): floats round
    to nearest even; float to integer rounds to nearest (ties to even), saturates, and maps NaN
    to 0; integer to a narrower integer saturates. With ``wrap`` (the words of a bitwise
    operator), an integer destination keeps the low bits instead."""
    target = dtype.numpy()
    values = np.asarray(values)
    if values.dtype == target:
        return values
    if wrap and target.kind in "iu" and values.dtype.kind in "iu":
        wrapped: np.ndarray = values.astype(target)
        return wrapped
    if target.kind in "iu":
        info = np.iinfo(target)
        if values.dtype.kind in "iu":
            narrowed: np.ndarray = np.clip(values, max(info.min, np.iinfo(values.dtype).min),
                                           min(info.max, np.iinfo(values.dtype).max)).astype(target)
            return narrowed
        wide = np.rint(np.asarray(values, np.float64))
        wide = np.nan_to_num(wide, nan=0.0, posinf=float(info.max), neginf=float(info.min))
        return np.clip(wide, info.min, info.max).astype(target)
    if values.dtype.kind in "biu" or values.dtype == np.float64:
        values = values.astype(F32)  # the engines' values are fp32 before the write
    with np.errstate(all="ignore"):
        return values.astype(target)


def merge(*origins: np.ndarray | None) -> np.ndarray | None:
    """Combine origin codes element-wise (numpy broadcasting); None means all clean."""
    live = [o for o in origins if o is not None]
    if not live:
        return None
    out = live[0]
    for o in live[1:]:
        out = np.minimum(out, o)
    return out


def select_origin(mask: np.ndarray, a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """Origin codes of ``where(mask, A, B)`` from those of A and B."""
    if a is None and b is None:
        return None
    return np.where(mask, CLEAN if a is None else a, CLEAN if b is None else b)


def immediate_kind(value: float | int) -> type:
    return I64 if isinstance(value, int) else F32


def compute_kind(*dtypes: Dtype | None, imms: tuple[float | int, ...] = ()) -> type:
    """int64 when every tensor dtype and immediate of an instruction is an integer, else float32
    (``klr.core.numerics.exact_integers``)."""
    return I64 if exact_integers(dtypes, imms) else F32


def kind_of(dst: Dtype | None, *tiles: Tile | None) -> type:
    """The compute type of an instruction writing ``dst`` from ``tiles`` (None skipped)."""
    live = [t for t in tiles if t is not None]
    return compute_kind(dst, *(t.dtype for t in live if not t.imm),
                        imms=tuple(t.values.item() for t in live if t.imm))


def bits_of(dst: Dtype | None, *tiles: Tile | None) -> int:
    """The ALU word width of a bitwise instruction writing ``dst`` from ``tiles``."""
    return word_bits([dst, *(t.dtype for t in tiles if t is not None and not t.imm)])


# --- the machine -------------------------------------------------------------------------------


@dataclass
class Stats:
    """What a run did: instructions executed, per operator, and branches taken."""

    instructions: int = 0
    branches: int = 0
    by_operator: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DevicePrintRecord:
    buffer: str        # "stdout" or "stderr"
    text: str


@dataclass(frozen=True)
class PoisonRecord:
    """The first statement that read never-written memory into some value."""

    label: str
    pos: Pos | None

    def describe(self) -> str:
        where = f" at {self.pos}" if self.pos is not None and self.pos.line else ""
        return f"{self.label}{where}"


class Machine:
    """Device-wide state of one run."""

    def __init__(self, seed: int | None, strict: bool, max_tensor_bytes: int,
                 code_bytes: int | None = None) -> None:
        self.hbm: dict[str, Storage] = {}
        self.max_tensor_bytes = max_tensor_bytes
        self.codes = None if code_bytes is None else CodeBudget(code_bytes)   # for origin codes
        self.records: list[PoisonRecord] = [PoisonRecord("<never written>", None)]
        self.seed = 0 if seed is None else seed
        self.cores = 1                     # logical cores of the kernel
        self.mail: dict[tuple[object, ...], deque[list[Tile]]] = {}   # messages between cores and ranks
        self.sent = 0                      # messages posted so far (deadlock detection)
        self.strict = strict
        self.warnings: list[Warning_] = []
        self.prints: list[DevicePrintRecord] = []
        self.stats = Stats()

    def record(self, label: str, pos: Pos | None) -> int:
        self.records.append(PoisonRecord(label, pos))
        return len(self.records) - 1

    def warn(self, message: str, pos: Pos | None) -> None:
        if self.strict:
            raise EvalError(message, pos)
        self.warnings.append(Warning_(message, pos))


@dataclass
class Accumulator:
    """An engine's internal per-partition reduction register; ``spoiled`` names the
    instruction after which its value is undefined."""

    values: np.ndarray         # [P] compute values
    origin: np.ndarray | None  # [P]
    spoiled: str | None = None


class Core:
    """One logical core; while a statement runs it is that statement's ``ctx``."""

    def __init__(self, machine: Machine, index: int) -> None:
        self.machine = machine
        self.index = index
        self.local: dict[str, Storage] = {}
        self.regs: dict[str, int] = {}
        self.reg_origin: dict[str, int] = {}
        self.accumulators: dict[Engine, Accumulator] = {}
        self.engine_state: dict[str, object] = {}   # DVE match values and mask register (never read)
        self.stationary: tuple[Tile | None, bool] | None = None   # the PE array's (matrix, transpose)
        self.received: list[list[Tile]] = []   # what a waiting sendRecvCompute has received
        self.rngs: dict[Engine, Generators] = {}
        self.jump: str | None = None       # set by cmpBranch: the label to continue at
        self.at_barrier = False             # set by coreBarrier: let the other cores catch up
        self.waiting = False                # set by a receive that has nothing yet: run it again later
        self.resuming = False               # the statement runs again after waiting
        self.recording: list[tuple[object, View | str]] | None = None   # writes of the statement
        self._op: OperatorPayload | None = None
        self._name: str | None = None
        self.pos: Pos | None = None
        self._poison = 0
        self._skip: set[int] = set()        # ids of the refs whose out-of-bounds elements are skipped
        self._views: dict[int, tuple[object, View]] = {}
        self.spare = Spare()                # buffers of dead on-chip storages
        self._layouts: dict[int, tuple[object, Layout]] = {}

    # --- statement context ---------------------------------------------------------------------

    def begin(self, op: OperatorPayload, name: str | None, pos: Pos | None) -> None:
        self._op = op
        self._name = name
        self.pos = pos
        self._poison = 0
        self._views.clear()
        if type(op) in _BOUNDED:
            self._skip = {id(getattr(op, f)) for f, mode in _bounds_fields(op) if self._skips(mode)}
        elif self._skip:
            self._skip = set()

    @property
    def label(self) -> str:
        """The running statement, as errors name it: its operator and name."""
        if self._op is None:
            return ""
        name = self._name
        return operator_name(self._op) + (f" {name}" if name else "")

    def _skips(self, mode: object) -> bool:
        """Whether a DMA bounds mode skips out-of-bounds elements (a register holds 0 for error,
        1 for skip, the values of ``nisa.oob_mode``)."""
        match mode:
            case DmaSkip():
                return True
            case DmaReg(reg=reg):
                value = self.reg(str(reg))
                if value not in (0, 1):
                    self.fail(f"register '{reg}' holds {value}, not an out-of-bounds mode (0 error, "
                              f"1 skip)")
                return value == 1
        return False

    def fail(self, message: str) -> NoReturn:
        """Raise an EvalError about the running statement (message without the operator)."""
        raise EvalError(f"{message} in {self.label}", self.pos)

    def poison_code(self) -> int:
        """This statement's poison record, created on first use."""
        if not self._poison:
            self._poison = self.machine.record(self.label, self.pos)
        return self._poison

    # --- storage and views ---------------------------------------------------------------------

    def storage(self, t: TensorName) -> Storage:
        """The bytes of ``t``'s address: HBM and shared HBM are one space for all cores; SBUF,
        PSUM, registers and private HBM belong to this core, one space per memory kind."""
        memory = t.address.memory
        if memory in (Memory.hbm, Memory.shared_hbm):
            space, key = self.machine.hbm, t.address.name
        else:
            space, key = self.local, f"{memory.name}:{t.address.name}"
        found = space.get(key)
        if found is None:
            found = space[key] = Storage(t.address.name, self.machine.max_tensor_bytes, self.spare,
                                         self.machine.codes)
        return found

    def free(self, key: str) -> None:
        """Drop an on-chip storage no later statement names; its buffer may serve a new one."""
        found = self.local.pop(key, None)
        if found is not None:
            found.release()

    def layout(self, access: object) -> Layout:
        cached = self._layouts.get(id(access))
        if cached is not None and cached[0] is access:
            return cached[1]
        try:
            got = layout_of(access)
        except ValueError as err:
            self.fail(str(err))
        self._layouts[id(access)] = (access, got)
        return got

    def view(self, ref: object) -> View:
        """The bounds-checked view a TensorRef denotes."""
        cached = self._views.get(id(ref))
        if cached is not None and cached[0] is ref:
            return cached[1]
        if not isinstance(ref, ACCESS_TYPES):
            self._unsupported_ref(ref)
        layout = self.layout(ref)
        extra, indirect = 0, None
        if isinstance(ref, BirAccessPattern):
            extra, indirect = self._dynamic(ref, layout)
        try:
            got = resolve(self.storage(layout.tensor), layout, extra, indirect, id(ref) in self._skip)
        except MemoryFault as fault:
            self.fail(f"out-of-bounds access to '{fault.tensor}' (flat index {fault.index}, "
                      f"size {fault.size})")
        self._views[id(ref)] = (ref, got)
        return got

    def _unsupported_ref(self, ref: object) -> NoReturn:
        match ref:
            case SbufView() | PsumView() | TensorHbm():
                self.fail("allocated tensor views (sbuf/psum/hbm) are not supported; the "
                          "interpreter runs kernels before allocation")
            case RegisterRef():
                self.fail("register-shaped tensor references are not supported")
        raise AssertionError(f"the operator's rule lets a {type(ref).__name__} through as a tensor")

    def _dynamic(self, ref: BirAccessPattern, layout: Layout) -> tuple[int, tuple[int, np.ndarray] | None]:
        extra = 0
        match ref.scalarOffset:
            case None:
                pass
            case ScalarReg(r=r):
                extra = self.reg(r) * self._row(ref, layout)
            case access:
                extra = int(self.load(access).num(I64).reshape(-1)[0]) * self._row(ref, layout)
        indirect = None
        if ref.vectorOffset is not None:
            axis = ref.indirectDim
            if not 0 <= axis < len(layout.shape):
                self.fail(f"indirectDim {axis} is not an axis of a {len(layout.shape)}-d access "
                          f"pattern")
            index = self.load(ref.vectorOffset)
            if index.values.size != layout.shape[axis]:
                self.fail(f"vectorOffset has {index.values.size} indices for an axis of "
                          f"{layout.shape[axis]}")
            indirect = (axis, index.num(I64).reshape(-1))
        return extra, indirect

    def _row(self, ref: BirAccessPattern, layout: Layout) -> int:
        """Elements (of the access's type) per index of the tensor's dimension ``indirectDim``:
        a scalar offset counts in those (NKI: ``offset + scalar_offset * prod(shape[d+1:])``)."""
        dims = ref.tensor.shape.dims
        d = ref.indirectDim
        if not 0 <= d < len(dims):
            self.fail(f"indirectDim {d} is not a dimension of '{ref.tensor.name}' {list(dims)}")
        row = 1
        for n in dims[d + 1:]:
            row *= n
        return row * ref.tensor.dtype.size // layout.dtype.size

    # --- reading and writing -------------------------------------------------------------------

    def load(self, ref: object) -> Tile:
        """Read a TensorRef as a [P, F] tile. Its values may be a read-only view of the storage:
        what keeps a tile beyond the statement keeps ``kept(tile)``."""
        view = self.view(ref)
        shape = view.shape
        values = view.read(copy=False).reshape(pf(shape))
        origin = view.read_origin()
        if origin is not None:
            origin = origin.reshape(values.shape)
            if (origin == UNWRITTEN).any():
                origin = np.where(origin == UNWRITTEN, np.int32(self.poison_code()), origin)
        valid = None if view.valid is None else view.valid.reshape(values.shape)
        return Tile(values, origin, view.dtype, shape, valid=valid)

    def store(self, ref: object, values: np.ndarray, origin: np.ndarray | None = None, *,
              wrap: bool = False, where: np.ndarray | None = None) -> None:
        """Write computed values (any numeric type, same element count) through a TensorRef,
        converted by ``cast_to`` (``wrap``: bit patterns), at the elements ``where`` (default
        all; any shape with the values' element count)."""
        view = self.view(ref)
        values = np.asarray(values)
        count = view.layout.count
        if values.size != count:
            self.fail(f"{values.size} values cannot be written to a view of {count} elements "
                      f"{list(view.shape)}")
        if origin is not None:
            origin = np.broadcast_to(origin, values.shape)
            if (origin == CLEAN).all():
                origin = None
        view.write(values if values.dtype == view.np_dtype else cast_to(values, view.dtype, wrap),
                   origin, where)
        if self.recording is not None:
            self.recording.append((ref, view))

    def arg(self, name: str, value: object) -> Arg | None:
        """The rules' view of an operand (None for an immediate): its resolved view's shape, dtype
        and memory (``klr.core.rules.Describe``)."""
        if value is None or isinstance(value, (ImmInt, ImmFloat, ImmRegister, ImmPointer)):
            return None
        view = self.view(value)
        return Arg(name, view.shape, view.dtype, view.layout.tensor.address.memory)

    def shape(self, ref: object) -> tuple[int, int]:
        """(partitions, free elements) of a TensorRef's view."""
        return pf(self.view(ref).shape)

    def nd_shape(self, ref: object) -> tuple[int, ...]:
        return self.view(ref).shape

    # --- immediates, operands, registers -------------------------------------------------------

    def imm(self, value: object) -> float | int:
        """The number an Immediate denotes (ints stay ints)."""
        match value:
            case ImmInt(i=i):
                return int(i)
            case ImmFloat(f=f):
                return f  # float32 by construction
            case ImmRegister(reg=reg):
                return self.reg(str(reg))
            case ImmPointer():
                self.fail("pointer immediates are not supported")
        self.fail(f"{type(value).__name__} is not an immediate")

    def operand(self, value: object) -> Tile:
        """An Operand: an immediate as a [1, 1] tile, or a tensor read as a tile."""
        if isinstance(value, (ImmInt, ImmFloat, ImmRegister, ImmPointer)):
            v = self.imm(value)
            kind = immediate_kind(v)
            return Tile(np.full((1, 1), v, kind), None,
                        Dtype.int64 if kind is I64 else Dtype.float32, (1, 1), imm=True)
        return self.load(value)

    # --- engine accumulators --------------------------------------------------------------------

    def accumulator(self, engine: Engine, partitions: int) -> Accumulator:
        """The engine's accumulator, to continue a reduction over ``partitions`` lanes."""
        got = self.accumulators.get(engine)
        if got is None or got.values.shape[0] != partitions:
            self.fail(f"the {engine.name} accumulator holds no {partitions}-partition value to "
                      f"accumulate into")
        if got.spoiled is not None:
            self.fail(f"the {engine.name} accumulator is undefined after {got.spoiled}, which "
                      f"ran with reduce command Idle; reset it (ZeroAccumulate) first")
        return got

    def spoil(self, engine: Engine) -> None:
        """NKI: an Idle vector-engine reduction may change the accumulator ("always use
        reset_reduce after an operation that ran with idle")."""
        got = self.accumulators.get(engine)
        if got is not None:
            self.accumulators[engine] = Accumulator(got.values, got.origin, self.label)

    def generators(self, engine: Engine) -> Generators:
        """The random generators of ``engine`` on this core (GpSimd's for pool, else the
        Vector engine's)."""
        engine = Engine.pool if engine is Engine.pool else Engine.dve
        got = self.rngs.get(engine)
        if got is None:
            got = self.rngs[engine] = Generators(engine, self.machine.seed, self.index)
        return got

    def reg(self, name: str) -> int:
        if name not in self.regs:
            self.fail(f"register '{name}' is read before it is written")
        code = self.reg_origin.get(name)
        if code is not None and code != CLEAN:
            self.machine.warn(f"register '{name}' holds a value computed from never-written memory "
                              f"(first read by {self.machine.records[code].describe()}) and is "
                              f"used by {self.label}", self.pos)
        return self.regs[name]

    def set_reg(self, name: str, value: int, origin: int | None = None) -> None:
        self.regs[name] = (int(value) + 2**31) % 2**32 - 2**31
        if self.recording is not None:
            self.recording.append((name, "register"))
        if origin is None or origin == CLEAN:
            self.reg_origin.pop(name, None)
        else:
            self.reg_origin[name] = origin


_BOUNDED = (NcDmaCopy, DmaTranspose, DmaCopy)


def _bounds_fields(op: OperatorPayload) -> list[tuple[str, object]]:
    """The (operand field, bounds mode) pairs of a DMA operator."""
    match op:
        case NcDmaCopy(oobMode=mode) | DmaTranspose(oobMode=mode):
            return [("dst", mode), ("src", mode)]
        case DmaCopy(dstBoundsCheck=d, srcBoundsCheck=s):
            return [("dst", d), ("src", s)]
    return []
