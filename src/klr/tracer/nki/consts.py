"""NKI constants: dtypes, buffers, tile sizes, ISA enums, and the op-name tables.

Values a kernel can name but not compute with: ``nl.float32`` (a ``DtypeValue``), ``nl.sbuf``
(a ``BufferValue``), ``nl.tile_size.pmax`` (an int), ``nisa.engine.vector`` (an ``EnumValue``).
ALU operations and activation functions are passed to ISA calls as the builtin functions
themselves (``op=nl.add``, ``op=np.exp``); ``alu_of`` / ``activation_of`` map those (and the
few pure constants such as ``nl.bypass``) to Core enums by qualified name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from klr.core import AccumCmd, ActivationFunc, AluOp, Engine, MatmulPerfMode, Memory, rules
from klr.dtypes import NKI_NAMES, Dtype, nki_name
from klr.tracer.registry import BuiltinFn, Dialect, builtin, constant, kernel_constant
from klr.tracer.show import describe
from klr.tracer.values import TraceObject, Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

# --- hardware limits (the machine's are klr.core.rules') -------------------------------------

SBUF_AVAILABLE = {2: 180224, 3: 212984, 4: 245752}
"""``nl.tile_size.total_available_sbuf_size`` per architecture."""

FP32_MAX = 3.4028234663852886e38
"""The largest finite float32."""

TILE_SIZES = {
    "pmax": rules.PMAX, "psum_fmax": rules.PSUM_BANK_BYTES // 4,
    "gemm_stationary_fmax": rules.GEMM_STATIONARY_FMAX, "gemm_moving_fmax": rules.GEMM_MOVING_FMAX,
    "bn_stats_fmax": rules.BN_STATS_FMAX, "psum_min_align": 4, "sbuf_min_align": 1,
}
"""``nl.tile_size.*``."""


# --- dtypes --------------------------------------------------------------------------------


class DtypeValue(TraceObject):
    """An element type as a kernel value (``nl.bfloat16``, ``np.float32``, ``t.dtype``).

    One object per Core dtype, so ``t.dtype == nl.float32`` is identity. Calling it converts
    a Python number (``np.float32(0.5)``).
    """

    __slots__ = ("dtype",)
    type_name = "dtype"

    def __init__(self, dtype: Dtype) -> None:
        self.dtype = dtype

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "itemsize":
            return self.dtype.size
        if name in ("name", "__name__"):
            return nki_name(self.dtype)
        return super().getattr(ctx, name)

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        if len(args) != 1 or kwargs or not isinstance(args[0], (int, float, bool)):
            raise ctx.error(f"{self!r}() converts one Python number")
        try:
            return int(args[0]) if self.dtype.is_int else float(args[0])
        except (OverflowError, ValueError) as e:
            raise ctx.error(f"{self!r}(): {e}") from None

    def __repr__(self) -> str:
        return nki_name(self.dtype)


DTYPES: dict[Dtype, DtypeValue] = {d: DtypeValue(d) for d in Dtype}

_NUMPY_DTYPES = ("float16", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16",
                 "uint32", "uint64", "bfloat16")


def dtype_of(ctx: Ctx, v: Value, what: str = "dtype") -> Dtype:
    """The Core dtype a value denotes (``nl.float32``, ``np.float16``, ``"bfloat16"``)."""
    if isinstance(v, DtypeValue):
        return v.dtype
    if isinstance(v, str):
        got = NKI_NAMES.get(v.rsplit(".", 1)[-1])
        if got is not None:
            return got
    raise ctx.error(f"{what} must be a dtype such as nl.float32, not {describe(v)}")


# --- buffers -------------------------------------------------------------------------------


class BufferValue(TraceObject):
    """A memory kind (``nl.sbuf``, ``nl.psum``, ``nl.shared_hbm``) passed as ``buffer=``."""

    __slots__ = ("memory", "name")
    type_name = "buffer"

    def __init__(self, name: str, memory: Memory) -> None:
        self.name = name
        self.memory = memory

    def __repr__(self) -> str:
        return self.name


BUFFERS = {
    "sbuf": BufferValue("sbuf", Memory.sbuf),
    "psum": BufferValue("psum", Memory.psum),
    "hbm": BufferValue("hbm", Memory.hbm),
    # the reference stores shared_hbm tensors as plain hbm
    "shared_hbm": BufferValue("shared_hbm", Memory.hbm),
    "private_hbm": BufferValue("private_hbm", Memory.private_hbm),
}


def memory_of(ctx: Ctx, v: Value, default: Memory = Memory.sbuf) -> Memory:
    if v is None:
        return default
    if isinstance(v, BufferValue):
        return v.memory
    raise ctx.error(f"buffer must be one of nl.sbuf, nl.psum, nl.hbm, nl.shared_hbm, not {describe(v)}")


def buffer_value(memory: Memory) -> BufferValue:
    return BUFFERS["hbm" if memory is Memory.hbm else memory.name]


# --- ISA enums ----------------------------------------------------------------------------


EnumCore = Engine | AccumCmd | MatmulPerfMode | int
"""What an ISA enum member stands for in Core (modes of DMAs are plain numbers)."""
E = TypeVar("E", Engine, AccumCmd, MatmulPerfMode, int)


class EnumValue(TraceObject):
    """A member of an ISA enum namespace (``nisa.engine.vector``, ``nisa.reduce_cmd.idle``)."""

    __slots__ = ("kind", "name", "value")
    type_name = "enum"

    def __init__(self, kind: str, name: str, value: EnumCore) -> None:
        self.kind = kind
        self.name = name
        self.value = value

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "name":
            return self.name
        if name == "value":
            return self.value if isinstance(self.value, int) else self.name
        return super().getattr(ctx, name)

    def __repr__(self) -> str:
        return f"{self.kind}.{self.name}"


ENGINES = {
    "unknown": Engine.unassigned, "tensor": Engine.pe, "vector": Engine.dve,
    "scalar": Engine.act, "gpsimd": Engine.pool, "sync": Engine.sp, "activation": Engine.act,
}
REDUCE_CMDS = {
    "idle": AccumCmd.Idle, "reset": AccumCmd.Zero, "reduce": AccumCmd.Accumulate,
    "reset_reduce": AccumCmd.ZeroAccumulate, "load_reduce": AccumCmd.LoadAccumulate,
}
PERF_MODES = {
    "none": MatmulPerfMode.None_, "double_row": MatmulPerfMode.DoubleRow,
    "double_row_sw_interleave": MatmulPerfMode.DoubleRowSwInterleave,
    "double_row_gen3": MatmulPerfMode.DoubleRow,    # the trn2 spelling of double_row
}
OOB_MODES = {"error": 0, "skip": 1}
DGE_MODES = {"unknown": 0, "none": 0, "swdge": 1, "hwdge": 2}


def engine_of(ctx: Ctx, v: Value) -> Engine:
    if v is None:
        return Engine.unassigned
    if isinstance(v, EnumValue) and isinstance(v.value, Engine):
        return v.value
    raise ctx.error(f"engine must be one of nisa.engine.*, not {describe(v)}")


def enum_of(ctx: Ctx, v: Value, kind: str, table: dict[str, E], what: str) -> E:
    """The Core value of an ISA enum argument given as a member or by its name."""
    if isinstance(v, EnumValue) and v.kind == kind:
        return cast(E, v.value)  # the members of ``kind`` hold the values of its table
    if isinstance(v, str) and v in table:
        return table[v]
    raise ctx.error(f"{what} must be one of {', '.join(table)}, not {describe(v)}")


def mode_of(ctx: Ctx, v: Value, kind: str, table: dict[str, int]) -> int:
    """A DMA mode (``oob_mode``, ``dge_mode``): a member, its name or its number."""
    if isinstance(v, int) and not isinstance(v, bool):
        n: int = v
        return n
    return enum_of(ctx, v, kind, table, kind)


# --- ALU operations and activation functions -------------------------------------------------

ALU_NAMES: dict[str, AluOp] = {
    "add": AluOp.add, "subtract": AluOp.subtract, "multiply": AluOp.mult, "divide": AluOp.divide,
    "true_divide": AluOp.divide, "maximum": AluOp.max, "minimum": AluOp.min, "max": AluOp.max,
    "min": AluOp.min, "sum": AluOp.add, "prod": AluOp.mult, "power": AluOp.pow, "pow": AluOp.pow,
    "equal": AluOp.is_equal, "not_equal": AluOp.not_equal, "greater_equal": AluOp.is_ge,
    "greater": AluOp.is_gt, "less_equal": AluOp.is_le, "less": AluOp.is_lt,
    "bitwise_and": AluOp.bitwise_and, "bitwise_or": AluOp.bitwise_or, "bitwise_xor": AluOp.bitwise_xor,
    "invert": AluOp.bitwise_not, "bitwise_not": AluOp.bitwise_not,
    "left_shift": AluOp.logical_shift_left, "right_shift": AluOp.logical_shift_right,
    "logical_and": AluOp.logical_and, "logical_or": AluOp.logical_or, "logical_xor": AluOp.logical_xor,
    "abs": AluOp.abs, "rsqrt": AluOp.rsqrt, "mod": AluOp.mod, "fmod": AluOp.mod,
    "average": AluOp.average, "bypass": AluOp.bypass,
    "arith_shift_left": AluOp.arith_shift_left, "arith_shift_right": AluOp.arith_shift_right,
}

ACTIVATION_NAMES: dict[str, ActivationFunc] = {
    f.name: f for f in ActivationFunc
} | {"identity": ActivationFunc.copy, "arctan": ActivationFunc.arctan,
     "prelu": ActivationFunc.relu}   # Core's relu takes activate2's reluParam as its slope below 0


class OpValue(TraceObject):
    """An operation that is only a value (``nl.bypass``, ``nl.average``), never called."""

    __slots__ = ("name",)
    type_name = "operator"

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<operator {self.name}>"


def _op_name(v: Value) -> str | None:
    if isinstance(v, (BuiltinFn, OpValue)):
        return v.name.rsplit(".", 1)[-1]
    if isinstance(v, str):
        return v.rsplit(".", 1)[-1]
    return None


def alu_of(ctx: Ctx, v: Value, what: str = "op") -> AluOp:
    """The ALU operation an ``op=`` argument names (``nl.add``, ``np.maximum``, ``nl.max``)."""
    name = _op_name(v)
    got = ALU_NAMES.get(name) if name is not None else None
    if got is None:
        raise ctx.error(f"{what} must be an ALU operation such as nl.add or np.maximum, not {describe(v)}")
    return got


def activation_of(ctx: Ctx, v: Value, what: str = "op") -> ActivationFunc:
    """The activation function an ``op=`` argument names (``nl.exp``, ``np.tanh``, ``nl.copy``)."""
    name = _op_name(v)
    got = ACTIVATION_NAMES.get(name) if name is not None else None
    if got is None:
        raise ctx.error(f"{what} must be an activation function such as nl.exp or nl.tanh, not {describe(v)}")
    return got


# --- registration --------------------------------------------------------------------------


def _register() -> None:
    for name, dt in NKI_NAMES.items():
        constant(f"nki.language.{name}", DTYPES[dt], doc=f"The {dt.name} element type.")
    for name in _NUMPY_DTYPES:
        constant(f"numpy.{name}", DTYPES[NKI_NAMES[name]], dialect=Dialect.python,
                 doc=f"numpy's {name}, as an NKI dtype.")
    constant("numpy.bool_", DTYPES[Dtype.uint8], dialect=Dialect.python,
             doc="numpy's bool_, stored as uint8.")
    for name, buf in BUFFERS.items():
        constant(f"nki.language.{name}", buf, doc=f"The {name} memory, for ``buffer=``.")
    for name, size in TILE_SIZES.items():
        constant(f"nki.language.tile_size.{name}", size, doc=f"Tile size limit ``{name}``.")
    kernel_constant("nki.language.tile_size.total_available_sbuf_size", _sbuf_available,
                    doc="Usable SBUF bytes per partition on the kernel's architecture.")
    for kind, table in (("engine", ENGINES), ("reduce_cmd", REDUCE_CMDS), ("oob_mode", OOB_MODES),
                        ("dge_mode", DGE_MODES), ("matmul_perf_mode", PERF_MODES)):
        for name, value in table.items():
            member = EnumValue(kind, name, value)
            constant(f"nki.isa.constants.{kind}.{name}", member, aliases=(f"nki.isa.{kind}.{name}",),
                     doc=f"``{kind}`` member ``{name}``.")
    for name, value in ENGINES.items():
        constant(f"nki.isa.{name}_engine", EnumValue("engine", name, value), doc=f"The {name} engine.")
    for gen in range(1, 5):
        constant(f"nki.isa.nc_version.gen{gen}", gen, doc=f"NeuronCore generation {gen}.")
    for bound, limit in (("min", -FP32_MAX), ("max", FP32_MAX)):
        constant(f"nki.language.fp32.{bound}", limit, doc=f"The {bound}imum finite float32.")
    for name in ("bypass", "average"):
        constant(f"nki.language.{name}", OpValue(f"nki.language.{name}"), doc=f"The ALU operation {name}.")
    constant("nki.language.prelu", OpValue("nki.language.prelu"),
             doc="Parametric ReLU for ``op=`` (x above 0, else relu_param * x): Core's relu.")


def _sbuf_available(ctx: Ctx) -> Value:
    return SBUF_AVAILABLE.get(ctx.arch, SBUF_AVAILABLE[2])


_register()


# --- constant builtins -----------------------------------------------------------------------


@builtin("nki.language." + "constants.sizeinbytes", dialect=Dialect.both)
def sizeinbytes(ctx: Ctx, dtype: Value) -> Value:
    """The size of one element of ``dtype`` in bytes."""
    return dtype_of(ctx, dtype).size


@builtin("nki.isa." + "get_nc_version", dialect=Dialect.both)
def get_nc_version(ctx: Ctx) -> Value:
    """The NeuronCore generation the kernel is traced for (``nisa.nc_version.genN``)."""
    return ctx.arch


@builtin("nki.isa." + "get_nc_sub_version", dialect=Dialect.both)
def get_nc_sub_version(ctx: Ctx) -> Value:
    """The silicon revision within the NeuronCore generation: 0, the first revision (NKI's
    default), the one klr models."""
    return 0


# --- the limits of a dtype (finfo, iinfo) ----------------------------------------------------

_FINFO_FLOATS = ("eps", "epsneg", "max", "min", "tiny", "smallest_normal", "smallest_subnormal", "resolution")
_FINFO_INTS = ("bits", "precision", "maxexp", "minexp", "nmant", "nexp", "iexp", "machep", "negep")


class LimitsValue(TraceObject):
    """``nl.finfo(dtype)`` or ``np.iinfo(dtype)``: the limits of an element type, each field a
    plain number (numpy's are scalars of the dtype, which hold the same values)."""

    __slots__ = ("dtype", "fields", "kind")

    def __init__(self, kind: str, dtype: Dtype, fields: dict[str, Value]) -> None:
        self.kind = kind
        self.dtype = dtype
        self.fields = fields

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "dtype":
            return DTYPES[self.dtype]
        if name in self.fields:
            return self.fields[name]
        return super().getattr(ctx, name)

    def __repr__(self) -> str:
        f = self.fields
        return f"{self.kind}(min={f['min']!r}, max={f['max']!r}, dtype={nki_name(self.dtype)})"


_LIMITS: dict[tuple[str, Dtype], LimitsValue] = {}


def _limits(kind: str, dt: Dtype) -> LimitsValue:
    found = _LIMITS.get((kind, dt))
    if found is None:
        import ml_dtypes
        import numpy as np

        if kind == "finfo":
            info = ml_dtypes.finfo(dt.numpy())  # type: ignore[no-untyped-call]  # (ml_dtypes has no hints)
            fields = {f: float(getattr(info, f)) for f in _FINFO_FLOATS}
            fields.update({f: int(getattr(info, f)) for f in _FINFO_INTS})
        else:
            iinfo = np.iinfo(dt.numpy())
            fields = {"bits": int(iinfo.bits), "min": int(iinfo.min), "max": int(iinfo.max)}
        found = _LIMITS[kind, dt] = LimitsValue(kind, dt, fields)
    return found


@builtin("nki.language." + "finfo", "numpy.finfo", dialect=Dialect.both)
def finfo(ctx: Ctx, dtype: Value) -> Value:
    """The limits of a floating-point dtype, as numpy's (ml_dtypes') ``finfo`` gives them:
    ``max``, ``min``, ``eps``, ``tiny``, ``bits``... (plain numbers)."""
    dt = dtype_of(ctx, dtype, "finfo's argument")
    if dt.is_int or dt.is_packed:
        raise ctx.error(f"finfo needs a floating-point dtype, not {nki_name(dt)}")
    return _limits("finfo", dt)


@builtin("numpy." + "iinfo", dialect=Dialect.python)
def iinfo(ctx: Ctx, dtype: Value) -> Value:
    """The limits of an integer dtype, as numpy's ``iinfo`` gives them: ``min``, ``max``,
    ``bits`` (plain numbers)."""
    dt = dtype_of(ctx, dtype, "iinfo's argument")
    if not dt.is_int:
        raise ctx.error(f"iinfo needs an integer dtype, not {nki_name(dt)}")
    return _limits("iinfo", dt)
