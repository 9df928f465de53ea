"""The one home of running a traced kernel on numpy inputs.

``klr.eval`` (the API), ``klr eval`` (the command line, which reads its inputs from ``.npy``
files first) and ``klr.simulate`` all come through here, so they bind inputs, draw random
ones, find shared constants and describe dtype conversions the same way:

* inputs bind to the kernel's inputs (``LncKernel.inputs``, in order) by position, then by
  name; an unknown name or one input too many is a UsageError;
* with a random seed, every missing input is drawn by ``klr.interp.random_inputs``: floats
  standard normal, signed integers uniform in [-8, 15], unsigned in [0, 15], packed types
  uniform raw bits; the draw covers every input in order, so an input's values do not
  depend on which others were given;
* shared constants come from the TraceResult that carries them in memory, or from
  ``shared_constants/`` beside the KLR file the kernel was read from;
* an input whose dtype differs from the kernel's is converted by the interpreter (when that
  keeps its values) and a note says so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from klr.core.basic import LncKernel
from klr.dtypes import nki_name
from klr.errors import UsageError
from klr.interp import EvalLimits, EvalResult, random_inputs, run
from klr.interp.runner import Observer
from klr.limits import FileLimits

T = TypeVar("T")


@dataclass
class Prepared:
    """A traced kernel ready to run, and where its shared constants come from."""

    kernel: LncKernel
    path: str | None = None
    """The KLR file it was read from (its constants lie beside it), or None."""
    by_file: dict[str, np.ndarray] | None = None
    """Shared constants carried in memory by a TraceResult, by file name."""
    max_bytes: int = FileLimits().max_file_bytes

    def constants(self) -> dict[str, np.ndarray]:
        """The arrays of the kernel's shared constants, by constant name."""
        if self.path is not None:
            from klr.format.npy import load_constants

            return load_constants(self.kernel, self.path, max_bytes=self.max_bytes)
        by_file = self.by_file or {}
        return {c.name: by_file[c.fileName] for c in self.kernel.sharedConstants if c.fileName in by_file}


@dataclass
class Evaluation:
    """One run: the interpreter's result and what led to it."""

    result: EvalResult
    inputs: dict[str, np.ndarray]
    """Every input the kernel ran on (given or drawn), by name, as given."""
    drawn: list[str] = field(default_factory=list)
    """The inputs drawn at random."""
    notes: list[str] = field(default_factory=list)
    """Dtype conversions of inputs."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Time spent per phase (``inputs``, ``run``)."""


def prepare(kernel: Any, max_bytes: int | None = None) -> Prepared:
    """A kernel to run from an LncKernel, a TraceResult or the path of a Core file."""
    limit = FileLimits().max_file_bytes if max_bytes is None else max_bytes
    if isinstance(kernel, (str, os.PathLike)):
        from klr.format.file import read
        from klr.format.npy import check_constant_names

        path = os.fspath(kernel)
        core = read(path, expect="lnc", max_bytes=limit)
        check_constant_names(core, path)
        return Prepared(core, path=path, max_bytes=limit)
    by_file = getattr(kernel, "constants", None)  # a TraceResult keeps them in memory
    core = getattr(kernel, "kernel", kernel)
    if not isinstance(core, LncKernel):
        raise UsageError(f"eval needs a traced kernel (LncKernel, TraceResult or a .klr path), "
                         f"got {type(kernel).__name__}")
    return Prepared(core, by_file=dict(by_file or {}), max_bytes=limit)


def bind_inputs(kernel: LncKernel, positional: Sequence[T], named: Mapping[str, T]) -> dict[str, T]:
    """Inputs by name: ``positional`` in the order of ``kernel.inputs``, then ``named``."""
    names = [t.name for t in kernel.inputs]
    if len(positional) > len(names):
        raise UsageError(f"too many inputs: the kernel takes {len(names)} ({', '.join(names)})")
    bound = dict(zip(names, positional))
    for name, value in named.items():
        if name not in names:
            raise UsageError(f"the kernel has no input named {name!r} (inputs: {', '.join(names)})")
        if name in bound:
            raise UsageError(f"input {name!r} is given twice, by position and by name")
        bound[name] = value
    return bound


def complete(kernel: LncKernel, given: dict[str, Any], seed: int | None, limits: EvalLimits | None,
             hint: str) -> list[str]:
    """Draw every input missing from ``given`` (in place) with ``seed``; without a seed a missing
    input is a UsageError ending with ``hint``. Returns the names drawn."""
    missing = [t.name for t in kernel.inputs if t.name not in given]
    if not missing:
        return []
    if seed is None:
        raise UsageError(f"missing input{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(repr(m) for m in missing)}; {hint}")
    drawn = random_inputs(kernel, seed, limits)
    given.update({m: drawn[m] for m in missing})
    return missing


def conversion_notes(kernel: LncKernel, inputs: Mapping[str, Any]) -> list[str]:
    """One note per input whose dtype is not the kernel's (the interpreter converts it)."""
    notes = []
    for t in kernel.inputs:
        if t.name in inputs:
            have = np.asarray(inputs[t.name]).dtype
            if have != t.dtype.numpy():
                notes.append(f"input '{t.name}' is {have}; it was converted to the kernel's "
                             f"{nki_name(t.dtype)}")
    return notes


def execute(prepared: Prepared, inputs: dict[str, np.ndarray], *, strict: bool = False,
            seed: int | None = None, limits: EvalLimits | None = None,
            progress: Callable[[int, int], None] | None = None,
            observe: Observer | None = None) -> Evaluation:
    """Run a prepared kernel on complete inputs (by name); ``progress`` and ``observe`` go to
    ``klr.interp.run``."""
    start = time.perf_counter()
    constants = prepared.constants()
    result = run(prepared.kernel, inputs, strict=strict, random_seed=seed, constants=constants,
                 limits=limits, progress=progress, observe=observe)
    return Evaluation(result, inputs, notes=conversion_notes(prepared.kernel, inputs),
                      seconds={"run": time.perf_counter() - start})


def evaluate(kernel: Any, positional: Sequence[Any] = (), named: Mapping[str, Any] | None = None, *,
             strict: bool = False, random: int | None = None, limits: EvalLimits | None = None,
             max_bytes: int | None = None,
             hint: str = "pass the arrays or random=SEED") -> Evaluation:
    """``klr.eval`` in full: prepare, bind, complete and run."""
    prepared = prepare(kernel, max_bytes)
    start = time.perf_counter()
    given = bind_inputs(prepared.kernel, list(positional), dict(named or {}))
    drawn = complete(prepared.kernel, given, random, limits, hint)
    took = time.perf_counter() - start
    out = execute(prepared, given, strict=strict, seed=random, limits=limits)
    out.drawn = drawn
    out.seconds = {"inputs": took, **out.seconds}
    return out
