"""Core programs: statements, basic blocks, kernels and the multi-core LncKernel that trace emits.

Grammar (serde tag in parentheses)::

    Stmt (103)               = oper(op: Operator, name: ?String, pos: Pos)
    Block (104)              = {label: String, noReorder: Bool, body: [Stmt]}
    Kernel (105)             = {name, inputs: [TensorName], outputs: [TensorName], body: [Block]}
    SharedConstantFile (106) = {name: String, fileName: String}
    Edges (107)              = {fromEdge: String, toEdges: [String]}
    LncKernel (108)          = {name, inputs, outputs, bodies: [[Block]],
                                sharedConstants: [SharedConstantFile], sharedBuffers: [TensorName],
                                edges: [Edges]}

Core has no structured control flow: blocks end in ``cmpBranch`` operators naming other blocks.
``Stmt`` is the reference's one-constructor inductive; on the wire it is identical to a struct.
"""

from __future__ import annotations

from klr import schema
from klr.core.operators import Operator, engine_of
from klr.core.optypes import Engine
from klr.core.tensor import TensorName
from klr.pos import Pos
from klr.schema import field_names, node

__all__ = ["Stmt", "Block", "Kernel", "SharedConstantFile", "Edges", "LncKernel", "tensor_fields",
           "tensors_of"]


@node(tag=103)
class Stmt:
    """One operator instruction, its instruction name (``inst.N``) and its source position."""

    op: Operator
    name: str | None
    pos: Pos

    @property
    def engine(self) -> Engine:
        return engine_of(self.op)


@node(tag=104)
class Block:
    """A basic block; noReorder forbids the scheduler to reorder its statements."""

    label: str
    noReorder: bool
    body: tuple[Stmt, ...]


@node(tag=105)
class Kernel:
    """One core's program: argument tensors, result tensors and blocks (the first is the entry)."""

    name: str
    inputs: tuple[TensorName, ...]
    outputs: tuple[TensorName, ...]
    body: tuple[Block, ...]

    def internal(self) -> tuple[TensorName, ...]:
        """The tensors the body uses that are neither inputs nor outputs."""
        args = {t.name for t in (*self.inputs, *self.outputs)}
        return tuple(t for t in tensors_of(self.body) if t.name not in args)


@node(tag=106)
class SharedConstantFile:
    """A constant tensor stored next to the kernel; fileName is relative (``shared_constants/<hash>.npy``)."""

    name: str
    fileName: str


@node(tag=107)
class Edges:
    """A user scheduling constraint: fromEdge must run before each of toEdges."""

    fromEdge: str
    toEdges: tuple[str, ...]


@node(tag=108)
class LncKernel:
    """A multi-core kernel: one body (list of blocks) per logical core, sharing arguments and constants."""

    name: str
    inputs: tuple[TensorName, ...]
    outputs: tuple[TensorName, ...]
    bodies: tuple[tuple[Block, ...], ...]
    sharedConstants: tuple[SharedConstantFile, ...]
    sharedBuffers: tuple[TensorName, ...]
    edges: tuple[Edges, ...]


_TENSOR_FIELDS: dict[type, tuple[str, ...]] = {}


def tensor_fields(value: object) -> tuple[str, ...]:
    """The fields of an IR node whose type can hold a TensorName (from the node's schema), or ()
    for any other value; looked up once per class, because walks over a whole kernel ask for
    every sub-value, and skipping numbers, enums and access-pattern pairs is most of their work."""
    cls = type(value)
    found = _TENSOR_FIELDS.get(cls)
    if found is None:
        found = _TENSOR_FIELDS[cls] = _tensor_fields_of(cls)
    return found


def _tensor_fields_of(cls: type) -> tuple[str, ...]:
    names = None if issubclass(cls, Pos) else field_names(cls)
    if not names or not hasattr(cls, "__klr__"):  # not a node, or a record: no schema to prune by
        return names or ()
    return tuple(f.name for f in schema.fields_of(cls) if _may_hold_tensor(schema.describe(f.type), set()))


def _may_hold_tensor(desc: schema.TypeDesc, seen: set[type]) -> bool:
    if desc.kind in (schema.Kind.STRUCT, schema.Kind.CTOR):
        if desc.cls is TensorName:
            return True
        if desc.cls in seen:  # already answered on this search, or in progress (a recursive type)
            return False
        seen.add(desc.cls)
        return any(_may_hold_tensor(schema.describe(f.type), seen) for f in schema.fields_of(desc.cls))
    return any(_may_hold_tensor(arg, seen) for arg in desc.args)


def _walk(value: object, seen: dict[str, TensorName]) -> None:
    if isinstance(value, TensorName):
        seen.setdefault(value.name, value)
    elif isinstance(value, tuple):
        for item in value:
            _walk(item, seen)
    else:
        for name in tensor_fields(value):
            _walk(getattr(value, name), seen)


def tensors_of(value: object) -> tuple[TensorName, ...]:
    """Every TensorName referenced anywhere inside ``value``, first occurrence first, no duplicates."""
    seen: dict[str, TensorName] = {}
    _walk(value, seen)
    return tuple(seen.values())
