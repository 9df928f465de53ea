"""Core tensors: memories, immediates, shapes, addresses, tensor names and the ways to access them.

Grammar (serde tag in parentheses; ``?`` = Option, ``[T]`` = List)::

    Memory (110)          = hbm | sbuf | psum | reg | shared_hbm | private_hbm
    Immediate (131)       = register(reg: Nat) | pointer | int(i: Int) | float(f: Float32)
    Dtype (111)           = see klr.dtypes
    Shape (112)           = {parDim: Nat, freeDims: [Nat]}
    Address (113)         = {name, memory, parSize: Nat, freeSize: Nat,
                             parOffset: ?Nat = none, freeOffset: ?Nat = none, isShared: Bool = false}
    TensorName (114)      = {name, dtype, shape, address, freeElements: Nat, addressRotation: Bool} + 2 proofs
    Slice (115)           = {l: Nat, u: Nat, step: Int} + 1 proof
    Index (117)           = coord(e: Nat) | slice(Slice)
    AccessBasic (118)     = {tensor, indexes: [Index]} + 1 proof
    APPair (119)          = {step: Int = 1, num: Nat = 1, offset: Nat = 1}
    AccessPattern (120)   = {tensor, parNum, pattern: [APPair], parOffset = 0, freeOffset = 0,
                             fixedAxis: [Nat] = []}
    ScalarOffset (123)    = reg(r: String) | acc(Access)
    BirAccessPattern (124)= {tensor, offset: Nat, pattern: [APPair], scalarOffset: ?ScalarOffset,
                             vectorOffset: ?Access, indirectDim: Int, dtypeOverride: ?Dtype = none}
    Access (125)          = simple(TensorName) | basic(AccessBasic) | pattern(AccessPattern)
                          | birPattern(BirAccessPattern)
    TensorHbm (126)       = {name, dtype, address: Nat, dims: [APPair]}
    TensorSram (127)      = {name, dtype, parNum, pattern: [APPair], parOffset = 0, freeOffset = 0}
    TensorRef (128)       = abstract(Access) | sbuf(view: TensorSram) | psum(view: TensorSram)
                          | hbm(TensorHbm) | register(reg: Nat)

A constructor whose only field is a struct or another sum is represented by that value itself
(``abstract(Access)`` is any Access value, ``simple(TensorName)`` a TensorName).
Access-pattern offsets and steps count elements, row-major over the whole tensor; the first
pair is the partition dimension.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from klr.dtypes import Dtype
from klr.schema import F32, Int, Nat, NodeEnum, Sum, node

__all__ = [
    "Memory", "Reg", "Immediate", "ImmRegister", "ImmPointer", "ImmInt", "ImmFloat", "Dtype",
    "Shape", "Address", "TensorName", "Slice", "Index", "Coord", "AccessBasic", "APPair",
    "AccessPattern", "ScalarOffset", "ScalarReg", "BirAccessPattern", "Access", "TensorHbm",
    "TensorSram", "TensorRef", "SbufView", "PsumView", "RegisterRef", "full_access",
    "access_tensor",
]

Reg: TypeAlias = Nat
"""A hardware register number."""


class Memory(NodeEnum):
    """Where a tensor lives: device DRAM (three HBM kinds), on-chip SBUF/PSUM, or a register."""

    __tag__ = 110
    hbm = 0
    sbuf = 1
    psum = 2
    reg = 3
    shared_hbm = 4
    private_hbm = 5

    @property
    def is_hbm(self) -> bool:
        return self in (Memory.hbm, Memory.shared_hbm, Memory.private_hbm)


# --- Immediate (131) ---------------------------------------------------------------------------


@node(name="register")
class ImmRegister:
    """The value held in a register."""

    reg: Reg


@node(name="pointer")
class ImmPointer:
    """A pointer immediate (unused by the reference)."""


@node(name="int")
class ImmInt:
    """A 32-bit signed integer constant."""

    i: Int


@node(name="float")
class ImmFloat:
    """A 32-bit float constant."""

    f: F32


Immediate = Annotated[ImmRegister | ImmPointer | ImmInt | ImmFloat, Sum("Immediate", 131)]


# --- Shapes and addresses ----------------------------------------------------------------------


def _product(xs: tuple[int, ...]) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


@node(tag=112)
class Shape:
    """Tensor dimensions: the partition dimension first, then the free dimensions."""

    parDim: Nat
    freeDims: tuple[Nat, ...]

    @staticmethod
    def of(dims: tuple[int, ...] | list[int]) -> Shape:
        """The Shape of a non-empty dimension list ``[par, free...]``."""
        if not dims:
            raise ValueError("a shape needs at least the partition dimension")
        return Shape(dims[0], tuple(dims[1:]))

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.parDim, *self.freeDims)

    @property
    def freeElements(self) -> int:
        return _product(self.freeDims)

    def __str__(self) -> str:
        return "[" + ", ".join(map(str, self.dims)) + "]"


@node(tag=113)
class Address:
    """A 2-D memory region: partitions x bytes per partition; offsets are none until allocated."""

    name: str
    memory: Memory
    parSize: Nat
    freeSize: Nat
    parOffset: Nat | None = None
    freeOffset: Nat | None = None
    isShared: bool = False


@node(tag=114, proofs=2)
class TensorName:
    """A named runtime tensor: dtype, shape and the address that holds it."""

    name: str
    dtype: Dtype
    shape: Shape
    address: Address
    freeElements: Nat
    addressRotation: bool

    @staticmethod
    def make(name: str, dtype: Dtype, dims: tuple[int, ...] | list[int], memory: Memory,
             *, address_rotation: bool = False) -> TensorName:
        """A tensor with a fresh, unallocated address of the default size, named like the tensor."""
        shape = Shape.of(dims)
        free = shape.freeElements
        address = Address(name, memory, shape.parDim, free * dtype.size)
        return TensorName(name, dtype, shape, address, free, address_rotation)

    @property
    def memory(self) -> Memory:
        return self.address.memory

    @property
    def dims(self) -> tuple[int, ...]:
        return self.shape.dims

    def fits(self) -> bool:
        """The reference's two proof obligations: the tensor fits within its address."""
        return (self.shape.parDim <= self.address.parSize
                and self.shape.freeElements * self.dtype.size <= self.address.freeSize)


# --- Basic indexing ----------------------------------------------------------------------------


@node(tag=115, proofs=1)
class Slice:
    """``l:u:step`` over one dimension; the step is never 0."""

    l: Nat
    u: Nat
    step: Int

    @property
    def size(self) -> int:
        if self.step < 0:
            return max(0, self.l - self.u) // -self.step
        return -(-max(0, self.u - self.l) // self.step)


@node(name="coord")
class Coord:
    """A single position in one dimension."""

    e: Nat


Index = Annotated[Coord | Slice, Sum("Index", 117, names=("coord", "slice"))]


@node(tag=118, proofs=1)
class AccessBasic:
    """Basic indexing: exactly one Index per tensor dimension."""

    tensor: TensorName
    indexes: tuple[Index, ...]


# --- Access patterns ---------------------------------------------------------------------------


@node(tag=119)
class APPair:
    """One hardware access-pattern pair: ``num`` steps of ``step`` elements (first pair slowest)."""

    step: Int = 1
    num: Nat = 1
    offset: Nat = 1


@node(tag=120)
class AccessPattern:
    """A complete access pattern: elements ``offset + p + sum(x_i*step_i)``, partition pair included."""

    tensor: TensorName
    parNum: Nat
    pattern: tuple[APPair, ...]
    parOffset: Nat = 0
    freeOffset: Nat = 0
    fixedAxis: tuple[Nat, ...] = ()


@node(name="reg")
class ScalarReg:
    """A dynamic offset held in the named register."""

    r: str


@node(tag=124)
class BirAccessPattern:
    """The lowered access form: a row-major element offset into the whole tensor and [step,num] pairs."""

    tensor: TensorName
    offset: Nat
    pattern: tuple[APPair, ...]
    scalarOffset: ScalarOffset | None = None
    vectorOffset: Access | None = None
    indirectDim: Int = 0
    dtypeOverride: Dtype | None = None

    @property
    def shape(self) -> Shape:
        """The accessed shape: the nums of the pairs, the first being the partition count."""
        if not self.pattern:
            return Shape(0, ())
        return Shape(self.pattern[0].num, tuple(p.num for p in self.pattern[1:]))

    @property
    def dtype(self) -> Dtype:
        return self.dtypeOverride or self.tensor.dtype


Access = Annotated[
    TensorName | AccessBasic | AccessPattern | BirAccessPattern,
    Sum("Access", 125, names=("simple", "basic", "pattern", "birPattern")),
]

ScalarOffset = Annotated[ScalarReg | Access, Sum("ScalarOffset", 123, names=("reg", "acc"))]


def access_tensor(access: TensorName | AccessBasic | AccessPattern | BirAccessPattern) -> TensorName:
    """The tensor an Access reads or writes."""
    if isinstance(access, TensorName):
        return access
    return access.tensor


def full_access(t: TensorName) -> BirAccessPattern:
    """The whole tensor, row-major, as trace emits it: partition pair, then one pair per free dim."""
    dims = t.shape.dims
    pairs = tuple(APPair(step=_product(dims[i + 1:]), num=dim, offset=0) for i, dim in enumerate(dims))
    return BirAccessPattern(t, 0, pairs)


# --- Physical views and tensor references -------------------------------------------------------


@node(tag=126)
class TensorHbm:
    """An allocated HBM view: a byte address and access-pattern dims."""

    name: str
    dtype: Dtype
    address: Nat
    dims: tuple[APPair, ...]


@node(tag=127)
class TensorSram:
    """An allocated SBUF/PSUM view: partition count and start, free pattern and byte offset."""

    name: str
    dtype: Dtype
    parNum: Nat
    pattern: tuple[APPair, ...]
    parOffset: Nat = 0
    freeOffset: Nat = 0


@node(name="sbuf")
class SbufView:
    """An allocated view into SBUF."""

    view: TensorSram


@node(name="psum")
class PsumView:
    """An allocated view into PSUM."""

    view: TensorSram


@node(name="register")
class RegisterRef:
    """A tensor whose shape is held in a register."""

    reg: Reg


TensorRef = Annotated[
    Access | SbufView | PsumView | TensorHbm | RegisterRef,
    Sum("TensorRef", 128, names=("abstract", "sbuf", "psum", "hbm", "register")),
]
