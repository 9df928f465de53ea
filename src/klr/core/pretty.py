"""A readable, deterministic text form of Core kernels, driven by the schema (one printer for all operators).

  lnc_kernel k
  inputs:  in:float32[128, 512]@hbm
  outputs: out:float32[128, 512]@hbm
  body 0:
    block main:
      inst.2  tensorTensor  dst=b[0:128, 0:512]:float32@sbuf  src0=a[32:64, 0:256]:float32@sbuf ...  # k:4

Each statement prints its instruction name, its Operator constructor name, then its fields as
``field=value`` in declaration order, omitting Options that are none. Values print as:

* tensor accesses ``name[slices]:dtype@memory``. A BirAccessPattern prints as slices when it is a
  row-major box of its tensor (dimensions it does not cover print as a single coordinate);
  otherwise as ``name{off=N; [[step,num],...]}`` (a pair's ``offset`` is shown as a third number
  when it is not 0). A dtype override prints as `` as dtype`` after the memory.
* immediates as plain numbers (floats in their shortest float32 form), ``register(n)`` for registers;
* enums by their reference name, booleans as true/false, lists as ``[a, b]``;
* other constructors as ``name`` or ``name(value)`` or ``name(field=value, ...)``, other structs as
  ``Name(field=value, ...)``.
"""

from __future__ import annotations

import json
import re
import struct

from klr.core.basic import Block, Kernel, LncKernel, Stmt
from klr.core.operators import operator_name
from klr.core.tensor import (
    AccessBasic,
    AccessPattern,
    APPair,
    BirAccessPattern,
    Coord,
    ImmFloat,
    ImmInt,
    Slice,
    TensorName,
)
from klr.pos import Pos
from klr.schema import Kind, NodeEnum, Prim, TypeDesc, describe, fields_of, info_of

__all__ = ["pretty", "pretty_stmt", "pretty_tensor", "pretty_value"]

_PLAIN = re.compile(r"[A-Za-z0-9_.\-/+]+")


def pretty(kernel: LncKernel | Kernel) -> str:
    """The whole kernel: header, then every body and block, one statement per line."""
    lines: list[str] = []
    if isinstance(kernel, LncKernel):
        lines.append(f"lnc_kernel {kernel.name}")
        lines += _header(kernel.inputs, kernel.outputs)
        if kernel.sharedConstants:
            lines.append("shared_constants: " + ", ".join(
                f"{c.name}={_string(c.fileName)}" for c in kernel.sharedConstants))
        if kernel.sharedBuffers:
            lines.append("shared_buffers: " + ", ".join(map(pretty_tensor, kernel.sharedBuffers)))
        for e in kernel.edges:
            lines.append(f"edge: {e.fromEdge} -> [{', '.join(e.toEdges)}]")
        for i, body in enumerate(kernel.bodies):
            lines.append(f"body {i}:")
            lines += _blocks(body, "  ")
    else:
        lines.append(f"kernel {kernel.name}")
        lines += _header(kernel.inputs, kernel.outputs)
        lines += _blocks(kernel.body, "")
    return "\n".join(lines) + "\n"


def _header(inputs: tuple[TensorName, ...], outputs: tuple[TensorName, ...]) -> list[str]:
    return [
        "inputs:  " + ", ".join(map(pretty_tensor, inputs)),
        "outputs: " + ", ".join(map(pretty_tensor, outputs)),
    ]


def pretty_tensor(t: TensorName) -> str:
    """A tensor declaration: ``name:dtype[shape]@memory``."""
    return f"{t.name}:{t.dtype.lean}{t.shape}@{t.address.memory.lean}"


def _blocks(blocks: tuple[Block, ...], indent: str) -> list[str]:
    lines = []
    for b in blocks:
        lines.append(f"{indent}block {b.label}{' (noReorder)' if b.noReorder else ''}:")
        lines += [indent + "  " + pretty_stmt(s) for s in b.body]
    return lines


def pretty_stmt(stmt: Stmt) -> str:
    """One statement: ``name  ctor  field=value ...   # file:line``."""
    parts = [stmt.name if stmt.name is not None else "-", operator_name(stmt.op)]
    parts += _fields(stmt.op)
    return "  ".join(parts) + _where(stmt.pos)


def _where(pos: Pos) -> str:
    if pos.filename:
        return f"   # {pos.filename}:{pos.line}"
    if pos.line:
        return f"   # line {pos.line}"
    return ""


def _fields(value: object) -> list[str]:
    out = []
    for f in fields_of(type(value)):
        v = getattr(value, f.name)
        if v is not None:
            out.append(f"{f.lean}={pretty_value(v, describe(f.type))}")
    return out


def pretty_value(value: object, desc: TypeDesc | None = None) -> str:
    """Any IR value; ``desc`` (the declared type) decides how primitives print."""
    if desc is not None and desc.kind is Kind.OPTION:
        return "none" if value is None else pretty_value(value, desc.args[0])
    if desc is not None and desc.kind is Kind.PRIM:
        return _prim(value, desc.prim)
    if isinstance(value, tuple):
        inner = desc.args[0] if desc is not None and desc.kind is Kind.LIST else None
        return "[" + ", ".join(pretty_value(v, inner) for v in value) + "]"
    return _node(value)


def _prim(value: object, prim: Prim | None) -> str:
    if prim is Prim.BOOL:
        return "true" if value else "false"
    if prim in (Prim.F32, Prim.F64):
        return _float(float(value))  # type: ignore[arg-type]  # a float field holds a number
    if prim is Prim.STR:
        return _string(str(value))
    return str(value)


def _node(value: object) -> str:
    match value:
        case NodeEnum():
            return value.lean
        case ImmInt(i=i):
            return str(i)
        case ImmFloat(f=f):
            return _float(f)
        case TensorName() | AccessBasic() | AccessPattern() | BirAccessPattern():
            return _access(value)
        case APPair():
            return _pair(value)
        case None:
            return "none"
        case bool():
            return _prim(value, Prim.BOOL)
        case int() | float() | str():
            return _prim(value, {int: Prim.INT, float: Prim.F32, str: Prim.STR}[type(value)])
    info = info_of(type(value))
    fields = fields_of(type(value))
    if info.tag is None and not fields:
        return info.lean
    if info.tag is None and len(fields) == 1:
        return f"{info.lean}({pretty_value(getattr(value, fields[0].name), describe(fields[0].type))})"
    return f"{info.lean}(" + ", ".join(_fields(value)) + ")"


def _float(x: float) -> str:
    """The shortest decimal that reads back as the same float32 (``0.1``, not ``0.100000001``)."""
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    target = struct.pack("<f", x)
    text = repr(x)
    for digits in range(1, 10):
        candidate = f"{x:.{digits}g}"
        if struct.pack("<f", float(candidate)) == target:
            text = candidate
            break
    if not any(c in text for c in ".en"):
        text += ".0"
    return text


def _string(s: str) -> str:
    return s if _PLAIN.fullmatch(s) else json.dumps(s)


def _pair(p: APPair) -> str:
    return f"[{p.step},{p.num}]" if p.offset == 0 else f"[{p.step},{p.num},{p.offset}]"


# --- Accesses -----------------------------------------------------------------------------------


def _access(a: TensorName | AccessBasic | AccessPattern | BirAccessPattern) -> str:
    match a:
        case TensorName():
            return _located(a, "", None)
        case AccessBasic(tensor=t, indexes=indexes):
            return _located(t, "[" + ", ".join(map(_index, indexes)) + "]", None)
        case AccessPattern():
            inner = [f"parNum={a.parNum}", _pairs(a.pattern)]
            if a.parOffset:
                inner.append(f"parOffset={a.parOffset}")
            if a.freeOffset:
                inner.append(f"freeOffset={a.freeOffset}")
            if a.fixedAxis:
                inner.append(f"fixedAxis={pretty_value(a.fixedAxis)}")
            return _located(a.tensor, "{" + "; ".join(inner) + "}", None)
        case BirAccessPattern():
            return _located(a.tensor, _bir_selection(a), a.dtypeOverride)
    raise TypeError(f"not an access: {a!r}")


def _located(t: TensorName, selection: str, override: object) -> str:
    text = f"{t.name}{selection}:{t.dtype.lean}@{t.address.memory.lean}"
    return text if override is None else f"{text} as {pretty_value(override)}"


def _index(i: Coord | Slice) -> str:
    if isinstance(i, Coord):
        return str(i.e)
    return f"{i.l}:{i.u}" if i.step == 1 else f"{i.l}:{i.u}:{i.step}"


def _pairs(pattern: tuple[APPair, ...]) -> str:
    return "[" + ",".join(map(_pair, pattern)) + "]"


def _bir_selection(a: BirAccessPattern) -> str:
    dynamic = a.scalarOffset is not None or a.vectorOffset is not None or a.indirectDim != 0
    box = None if dynamic else _box(a)
    if box is not None:
        return "[" + ", ".join(box) + "]"
    inner = [f"off={a.offset}", _pairs(a.pattern)]
    if a.scalarOffset is not None:
        inner.append(f"scalarOffset={pretty_value(a.scalarOffset)}")
    if a.vectorOffset is not None:
        inner.append(f"vectorOffset={pretty_value(a.vectorOffset)}")
    if a.indirectDim:
        inner.append(f"indirectDim={a.indirectDim}")
    return "{" + "; ".join(inner) + "}"


def _box(a: BirAccessPattern) -> list[str] | None:
    """Per-dimension slices when the pattern is a row-major box of the tensor, else None."""
    dims = a.tensor.shape.dims
    strides = [1] * len(dims)
    for i in range(len(dims) - 2, -1, -1):
        strides[i] = strides[i + 1] * dims[i + 1]
    total = strides[0] * dims[0]
    pairs = a.pattern
    if a.offset >= total or not pairs or len(pairs) > len(dims):
        return None
    starts = [(a.offset // s) % d for s, d in zip(strides, dims, strict=True)]
    out: list[str] = []
    j = 0
    for i, (dim, stride, start) in enumerate(zip(dims, strides, starts, strict=True)):
        step = _step_in_dim(pairs[j], stride) if j < len(pairs) else None
        must_take = len(pairs) - j == len(dims) - i
        if step is None and must_take:
            return None
        if step is None:
            out.append(str(start))
            continue
        num = pairs[j].num
        if start + (num - 1) * step >= dim:
            return None
        stop = start + (num - 1) * step + 1 if num else start
        out.append(f"{start}:{stop}" if step == 1 else f"{start}:{stop}:{step}")
        j += 1
    return out if j == len(pairs) else None


def _step_in_dim(p: APPair, stride: int) -> int | None:
    """How many elements of one dimension a pair advances per step, if it walks along that dimension."""
    if p.num <= 1:
        return 1
    if p.step > 0 and p.step % stride == 0:
        return p.step // stride
    return None
