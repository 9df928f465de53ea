"""The enums and small auxiliary types that Core operators take as fields.

Grammar (serde tag in parentheses; enum constructors are numbered 0.. in the order shown)::

    MatmulPerfMode (129)         = None | DoubleRow | DoubleRowSwInterleave
    Engine (130)                 = unassigned | act | dma | dve | pe | pool | sp
    ActivationImm (132)          = register(reg: Nat) | pointer | float(f: Float32)
    Operand (133)                = imm(Immediate) | tile(TensorRef)
    DataPattern (134)            = {offset: Int, pattern: [APPair], channelMultiplier: Int}
    AluOp (135)                  = abs | add | ... | subtract            (29 operations)
    DropoutThresholdType (136)   = DropRate | KeepRate
    AccumCmd (137)               = Idle | Zero | Accumulate | ZeroAccumulate | LoadAccumulate
    ActivationFunc (138)         = abs | arctan | ... | gelu_apprx_sigmoid_dx   (25 functions)
    AffineSelectCmp (139)        = GreaterThan | GreaterThanEq | Eq | NotEq
    DgeComputeOp (140)           = none | add
    DmaBounds (141)              = skip | error | reg(reg: Nat)
    MatmulGroupElement (142)     = first | middle | last | whole
    IndexMissBehavior (143)      = imm(value: Immediate) | skip
    TensorScalarReverseOps (144) = none | first | second | both
    TensorSubDim (145)           = X | XY | XYZ | XYZW
    TransposeOps (146)           = None | WZXY | ... | XYWZ              (14 permutations)
    BrCmpOp (189)                = always | lt_imm .. gt_imm | lt_reg .. gt_reg
    ReplicaGroup (198)           = unspecified | named(name: String) | literal(groups: [[Int]])
    PrintOutputBuffer (214)      = stdout | stderr
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, TypeAlias

from klr.core.tensor import APPair, Immediate, Reg, TensorRef
from klr.schema import F32, Int, NodeEnum, Sum, node

__all__ = [
    "MatmulPerfMode", "Engine", "EngineRule", "OperatorPayload", "ActivationImm", "ActivationImmRegister",
    "ActivationImmPointer", "ActivationImmFloat", "Operand", "DataPattern", "AluOp",
    "DropoutThresholdType", "AccumCmd",
    "ActivationFunc", "AffineSelectCmp", "DgeComputeOp", "DmaBounds", "DmaSkip", "DmaError",
    "DmaReg", "MatmulGroupElement", "IndexMissBehavior", "IndexMissSkip", "TensorScalarReverseOps",
    "TensorSubDim", "TransposeOps", "BrCmpOp", "ReplicaGroup", "ReplicaUnspecified",
    "ReplicaNamed", "ReplicaLiteral", "PrintOutputBuffer",
]


class MatmulPerfMode(NodeEnum):
    """PE array performance mode of a matmul."""

    __tag__ = 129
    None_ = 0
    DoubleRow = 1
    DoubleRowSwInterleave = 2


class Engine(NodeEnum):
    """The compute engine that executes an instruction (unassigned = let the compiler choose)."""

    __tag__ = 130
    unassigned = 0
    act = 1
    dma = 2
    dve = 3
    pe = 4
    pool = 5
    sp = 6


EngineRule: TypeAlias = Engine | Literal["field"]
"""An operator's engine: fixed, or ``"field"`` when the operator carries its own ``engine`` field."""


class OperatorPayload:
    """The base of every Operator payload class: what the reference says of an instruction
    besides its fields. ``klr.core.operators`` derives the Operator tables from these."""

    __slots__ = ()
    ENGINE: ClassVar[EngineRule]
    """The engine the reference reports, or ``"field"`` for the operator's own ``engine`` field."""
    TGR: ClassVar[bool] = False
    """Whether the operator is also a constructor of TGROperator (the legacy subset)."""
    CTOR: ClassVar[str | None] = None
    """The constructor name, when it is not the class name with a lower-case first letter."""


@node(name="register")
class ActivationImmRegister:
    """The value held in a register."""

    reg: Reg


@node(name="pointer")
class ActivationImmPointer:
    """A pointer immediate (unused by the reference)."""


@node(name="float")
class ActivationImmFloat:
    """A 32-bit float constant."""

    f: F32


ActivationImm = Annotated[
    ActivationImmRegister | ActivationImmPointer | ActivationImmFloat, Sum("ActivationImm", 132)]

Operand = Annotated[Immediate | TensorRef, Sum("Operand", 133, names=("imm", "tile"))]


@node(tag=134)
class DataPattern:
    """An affine value generator (iota, affine select): ``offset + channelMultiplier*p + sum(x_i*step_i)``."""

    offset: Int
    pattern: tuple[APPair, ...]
    channelMultiplier: Int


class AluOp(NodeEnum):
    """A binary (or unary) ALU operation of the vector/scalar engines."""

    __tag__ = 135
    abs = 0
    add = 1
    arith_shift_left = 2
    arith_shift_right = 3
    average = 4
    bitwise_and = 5
    bitwise_not = 6
    bitwise_or = 7
    bitwise_xor = 8
    bypass = 9
    divide = 10
    is_equal = 11
    is_ge = 12
    is_gt = 13
    is_le = 14
    is_lt = 15
    logical_and = 16
    logical_or = 17
    logical_shift_left = 18
    logical_shift_right = 19
    logical_xor = 20
    max = 21
    min = 22
    mod = 23
    mult = 24
    not_equal = 25
    pow = 26
    rsqrt = 27
    subtract = 28


class DropoutThresholdType(NodeEnum):
    """Whether a dropout threshold is the rate to drop or the rate to keep."""

    __tag__ = 136
    DropRate = 0
    KeepRate = 1


class AccumCmd(NodeEnum):
    """How an instruction's internal accumulator is reset or updated."""

    __tag__ = 137
    Idle = 0
    Zero = 1
    Accumulate = 2
    ZeroAccumulate = 3
    LoadAccumulate = 4


class ActivationFunc(NodeEnum):
    """An element-wise function of the activation engine."""

    __tag__ = 138
    abs = 0
    arctan = 1
    copy = 2
    erf = 3
    erf_dx = 4
    exp = 5
    gelu = 6
    gelu_apprx_tanh = 7
    gelu_dx = 8
    log = 9
    mish = 10
    reciprocal = 11
    relu = 12
    rsqrt = 13
    sigmoid = 14
    sign = 15
    silu = 16
    silu_dx = 17
    sin = 18
    softplus = 19
    sqrt = 20
    square = 21
    tanh = 22
    gelu_apprx_sigmoid = 23
    gelu_apprx_sigmoid_dx = 24


class AffineSelectCmp(NodeEnum):
    """The comparison against 0 of a legacy affine select."""

    __tag__ = 139
    GreaterThan = 0
    GreaterThanEq = 1
    Eq = 2
    NotEq = 3


class DgeComputeOp(NodeEnum):
    """Read-modify-write operation of a DMA transfer."""

    __tag__ = 140
    none = 0
    add = 1


@node(name="skip")
class DmaSkip:
    """Skip out-of-bounds DMA elements."""


@node(name="error")
class DmaError:
    """Fail on out-of-bounds DMA elements."""


@node(name="reg")
class DmaReg:
    """Take the DMA bounds behaviour from a register."""

    reg: Reg


DmaBounds = Annotated[DmaSkip | DmaError | DmaReg, Sum("DmaBounds", 141)]


class MatmulGroupElement(NodeEnum):
    """Position of a matmul in a group accumulating into one PSUM region."""

    __tag__ = 142
    first = 0
    middle = 1
    last = 2
    whole = 3


@node(name="skip")
class IndexMissSkip:
    """Write nothing when a gather index misses."""


IndexMissBehavior = Annotated[
    Immediate | IndexMissSkip, Sum("IndexMissBehavior", 143, names=("imm", "skip"))]


class TensorScalarReverseOps(NodeEnum):
    """Which operations of a tensor-scalar instruction take their operands reversed."""

    __tag__ = 144
    none = 0
    first = 1
    second = 2
    both = 3


class TensorSubDim(NodeEnum):
    """A contiguous group of innermost axes (X = innermost free axis)."""

    __tag__ = 145
    X = 0
    XY = 1
    XYZ = 2
    XYZW = 3

    @property
    def axes(self) -> int:
        """How many innermost free axes it names."""
        return self.ctor + 1


class TransposeOps(NodeEnum):
    """The axis permutation of a DMA transpose."""

    __tag__ = 146
    None_ = 0
    WZXY = 1
    WXZY = 2
    WYXZ = 3
    ZWYX = 4
    ZYWX = 5
    ZYXW = 6
    YXWZ = 7
    YXZW = 8
    YWZX = 9
    XWZY = 10
    XZYW = 11
    XYZW = 12
    XYWZ = 13


class BrCmpOp(NodeEnum):
    """Branch condition: always, or a register compared with an immediate or another register."""

    __tag__ = 189
    always = 0
    lt_imm = 1
    le_imm = 2
    eq_imm = 3
    ne_imm = 4
    ge_imm = 5
    gt_imm = 6
    lt_reg = 7
    le_reg = 8
    eq_reg = 9
    ne_reg = 10
    ge_reg = 11
    gt_reg = 12


@node(name="unspecified")
class ReplicaUnspecified:
    """No replica group given: all ranks."""


@node(name="named")
class ReplicaNamed:
    """A replica group known by name."""

    name: str


@node(name="literal")
class ReplicaLiteral:
    """Explicit replica groups, one list of ranks per group."""

    groups: tuple[tuple[Int, ...], ...]


ReplicaGroup = Annotated[
    ReplicaUnspecified | ReplicaNamed | ReplicaLiteral, Sum("ReplicaGroup", 198)]


class PrintOutputBuffer(NodeEnum):
    """Where a device print goes."""

    __tag__ = 214
    stdout = 0
    stderr = 1
