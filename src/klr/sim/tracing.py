"""What klr adds around a trace for people running kernels: the kernel's ``print`` output kept
when the trace fails, and warnings about outputs that are not what the author meant.

* ``printed_before(err)``: the trace messages (``print`` in the kernel) recorded before a trace
  failed with ``err``. The tracer keeps them in its per-core context and in the TraceResult it
  is filling, both of which the failed trace's frames still hold; they are read from there,
  so the tracer needs no channel for them. (A tracer that attached them to the error would
  make this a field access.)
* ``output_warnings(kernel, entry)``: a kernel with no outputs at all, and HBM tensors the
  kernel writes but neither returns nor reads back (what it wrote is lost).
"""

from __future__ import annotations

from collections.abc import Iterable

from klr.core.basic import LncKernel, tensors_of
from klr.errors import Warning_
from klr.pos import Pos
from klr.python import ast as A

#: Operator fields that name what an operator writes; every other tensor field is read.
WRITTEN_FIELDS = frozenset({"dst", "dsts", "dstIdx", "reduceRes"})


def printed_before(err: BaseException) -> list[Warning_]:
    """The kernel's ``print`` output recorded before the trace that raised ``err`` failed."""
    from klr.tracer.context import Ctx
    from klr.tracer.kernel import TraceResult

    found: list[Warning_] = []
    seen: set[int] = set()
    tb = err.__traceback__
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            if isinstance(value, (Ctx, TraceResult)):
                for m in value.messages:
                    if id(m) not in seen:
                        seen.add(id(m))
                        found.append(m)
        tb = tb.tb_next
    return found


def entry_pos(kernel: A.Kernel) -> Pos | None:
    """The position of the ``def`` of a gathered kernel's entry function."""
    fun = kernel.function(kernel.entry)
    return Pos(fun.line, 0, filename=fun.fileName) if fun is not None else None


def entry_line(kernel: A.Kernel) -> str | None:
    fun = kernel.function(kernel.entry)
    return fun.source.splitlines()[0] if fun is not None and fun.source else None


def output_warnings(kernel: LncKernel, pos: Pos | None = None, line: str | None = None) -> list[Warning_]:
    """Warnings about a traced kernel's outputs; ``pos`` (and its source ``line``) is where the
    kernel is defined."""
    if not kernel.outputs:
        return [Warning_("the kernel returns no tensor and writes none of its inputs, so it has "
                         "no outputs", pos, line)]
    kept = {t.name for t in (*kernel.outputs, *kernel.inputs)}
    written: dict[str, Pos] = {}
    read: set[str] = set()
    for body in kernel.bodies:
        for block in body:
            for stmt in block.body:
                for name in stmt.op.__match_args__:
                    tensors = tensors_of(getattr(stmt.op, name))
                    if name in WRITTEN_FIELDS:
                        for t in _hbm(tensors):
                            written.setdefault(t, stmt.pos)
                    else:
                        read.update(t.name for t in tensors)
    return [Warning_(f"the kernel writes the HBM tensor '{name}' but neither returns nor reads it, "
                     "so what it writes is lost (return it to make it an output)", where)
            for name, where in written.items() if name not in kept and name not in read]


def _hbm(tensors: Iterable[object]) -> Iterable[str]:
    for t in tensors:
        address = getattr(t, "address", None)
        if address is not None and address.memory.is_hbm:
            yield str(getattr(t, "name", ""))
