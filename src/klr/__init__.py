"""klr: KLR, the Kernel Language Representation, for NKI kernels.

    import klr
    py = klr.gather("kern.py", a, b, name="add_kernel")   # Python-AST kernel (no user code runs)
    core = klr.trace(py).kernel                           # KLR Core (LncKernel)
    out = klr.eval(core, a=a, b=b).outputs                # numpy reference interpreter
    klr.save("add.klr", core); klr.load("add.klr")

Each layer is imported when first used, so ``import klr`` stays light.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from klr.interp import EvalResult
    from klr.python.ast import Kernel as PyKernel
    from klr.tracer.kernel import TraceResult

__all__ = ["__version__", "gather", "trace", "eval", "load", "save"]


def gather(fn_or_path: Any, *args: Any, name: str | None = None, grid: tuple[int, ...] | None = None,
           lnc: int | None = None, arch: int | None = None, include_dirs: tuple[str, ...] = (),
           **kwargs: Any) -> PyKernel:
    """Gather a kernel (a function object, or a source path with ``name=``) into a Python-AST kernel.

    ``args``/``kwargs`` are the kernel's arguments: numpy arrays (their shape and dtype are
    recorded, never their data) or Python scalars.
    """
    from klr.python.gather import gather as _gather

    return _gather(fn_or_path, *args, name=name, grid=grid, lnc=lnc, arch=arch,
                   include_dirs=include_dirs, **kwargs)


def trace(kernel: PyKernel | str | os.PathLike[str], *args: Any, grid: tuple[int, ...] | None = None,
          lnc: int | None = None, arch: int | None = None, **kwargs: Any) -> TraceResult:
    """Trace a gathered kernel (or a gathered .klr file) into KLR Core.

    Arguments given here override the ones recorded at gather time.
    """
    from klr.tracer import trace as _trace

    if isinstance(kernel, (str, os.PathLike)):
        kernel = load(kernel, expect="python")
    return _trace(kernel, args=list(args) or None, kwargs=kwargs or None, grid=grid, lnc=lnc, arch=arch)


def eval(kernel: Any, *inputs: Any, strict: bool = False, random: int | None = None,
         **named: Any) -> EvalResult:
    """Run a traced kernel (LncKernel, TraceResult or .klr path) on numpy inputs."""
    from klr.interp import random_inputs, run

    if isinstance(kernel, (str, os.PathLike)):
        kernel = load(kernel, expect="lnc")
    by_file = dict(getattr(kernel, "constants", None) or {})  # a TraceResult keeps them in memory
    kernel = getattr(kernel, "kernel", kernel)
    constants = {c.name: by_file[c.fileName] for c in kernel.sharedConstants if c.fileName in by_file}
    names = [t.name for t in kernel.inputs]
    given = dict(zip(names, inputs))
    given.update(named)
    if random is not None:
        generated = random_inputs(kernel, random)
        given = {**{k: v for k, v in generated.items() if k not in given}, **given}
    return run(kernel, given, strict=strict, random_seed=random, constants=constants)


def load(path: str | os.PathLike[str], *, expect: str | None = None) -> Any:
    """Read any KLR file; ``expect`` ('python' or 'lnc') checks its kind."""
    from klr.format.file import read

    return read(path, expect=expect)


def save(path: str | os.PathLike[str], contents: Any) -> None:
    """Write a Python-AST kernel or a Core kernel as a KLR file (atomically)."""
    from klr.format.file import write

    write(path, getattr(contents, "kernel", contents))
