"""klr: KLR, the Kernel Language Representation, for NKI kernels.

    import klr
    py = klr.gather("kern.py", a, b, name="add_kernel")   # Python-AST kernel (no user code runs)
    core = klr.trace(py).kernel                           # KLR Core (LncKernel)
    out = klr.eval(core, a=a, b=b).outputs                # numpy reference interpreter
    klr.save("add.klr", core); klr.load("add.klr")

Each layer is imported when first used, so ``import klr`` stays light. ``limits`` (a mapping
from limit names to numbers, as ``--limit`` on the command line) raises or lowers resource
limits: ``klr.limits.FileLimits`` everywhere, ``klr.tracer.context.Limits`` for ``trace``,
``klr.interp.EvalLimits`` for ``eval``; an unknown name is a UsageError listing the known ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from klr.interp import EvalResult
    from klr.python.ast import Kernel as PyKernel
    from klr.tracer.kernel import TraceResult

__all__ = ["__version__", "gather", "trace", "eval", "load", "save"]


def gather(fn_or_path: Any, *args: Any, name: str | None = None, grid: tuple[int, ...] | None = None,
           lnc: int | None = None, arch: int | None = None, include_dirs: tuple[str, ...] = (),
           limits: Mapping[str, Any] | None = None, **kwargs: Any) -> PyKernel:
    """Gather a kernel (a function object, or a source path with ``name=``) into a Python-AST kernel.

    ``args``/``kwargs`` are the kernel's arguments: numpy arrays (their shape and dtype are
    recorded, never their data) or Python scalars.
    """
    from klr.limits import FileLimits, build
    from klr.python.gather import gather as _gather

    (flimits,) = build([FileLimits], limits, "klr.gather")
    return _gather(fn_or_path, *args, name=name, grid=grid, lnc=lnc, arch=arch,
                   include_dirs=include_dirs, max_source_bytes=flimits.max_source_bytes, **kwargs)


def trace(kernel: PyKernel | str | os.PathLike[str], *args: Any, grid: tuple[int, ...] | None = None,
          lnc: int | None = None, arch: int | None = None, limits: Mapping[str, Any] | None = None,
          **kwargs: Any) -> TraceResult:
    """Trace a gathered kernel (or a gathered .klr file) into KLR Core.

    Arguments given here override the ones recorded at gather time.
    """
    from klr.limits import FileLimits, build
    from klr.tracer import trace as _trace
    from klr.tracer.context import Limits

    tlimits, flimits = build([Limits, FileLimits], limits, "klr.trace")
    py = kernel if not isinstance(kernel, (str, os.PathLike)) else \
        load(kernel, expect="python", limits={"max_file_bytes": flimits.max_file_bytes})
    return _trace(py, args=list(args) or None, kwargs=kwargs or None, grid=grid, lnc=lnc, arch=arch,
                  limits=tlimits)


def eval(kernel: Any, *inputs: Any, strict: bool = False, random: int | None = None,
         limits: Mapping[str, Any] | None = None, **named: Any) -> EvalResult:
    """Run a traced kernel (LncKernel, TraceResult or .klr path) on numpy inputs.

    A kernel read from a path finds its shared constants beside it (checked against their
    digests); a TraceResult carries them in memory.
    """
    from klr.format.npy import load_constants
    from klr.interp import EvalLimits, run
    from klr.interp.runner import bind_inputs, with_random
    from klr.limits import FileLimits, build

    elimits, flimits = build([EvalLimits, FileLimits], limits, "klr.eval")
    if isinstance(kernel, (str, os.PathLike)):
        path = kernel
        kernel = load(path, expect="lnc", limits={"max_file_bytes": flimits.max_file_bytes})
        constants = load_constants(kernel, path, max_bytes=flimits.max_file_bytes)
    else:
        by_file = dict(getattr(kernel, "constants", None) or {})  # a TraceResult keeps them in memory
        kernel = getattr(kernel, "kernel", kernel)
        constants = {c.name: by_file[c.fileName] for c in kernel.sharedConstants if c.fileName in by_file}
    given = bind_inputs(kernel, [*((None, x) for x in inputs), *named.items()])
    if random is not None:
        given = with_random(kernel, given, random, elimits)
    return run(kernel, given, strict=strict, random_seed=random, constants=constants, limits=elimits)


def load(path: str | os.PathLike[str], *, expect: str | None = None,
         limits: Mapping[str, Any] | None = None) -> Any:
    """Read any KLR file; ``expect`` ('python' or 'lnc') checks its kind."""
    from klr.format.file import read
    from klr.limits import FileLimits, build

    (flimits,) = build([FileLimits], limits, "klr.load")
    return read(path, expect=expect, max_bytes=flimits.max_file_bytes)


def save(path: str | os.PathLike[str], contents: Any) -> None:
    """Write a Python-AST kernel or a Core kernel as a KLR file (see ``klr.files.write_output``:
    atomically, in place for a device or FIFO, ``-`` for standard output)."""
    from klr.format.file import write

    write(path, getattr(contents, "kernel", contents))
