"""klr: KLR, the Kernel Language Representation, for NKI kernels.

    import klr
    py = klr.gather("kern.py", a, b, name="add_kernel")   # Python-AST kernel (no user code runs)
    core = klr.trace(py).kernel                           # KLR Core (LncKernel)
    out = klr.eval(core, a=a, b=b).outputs                # {output name: numpy array}
    c = klr.simulate(add_kernel)(a, b)                    # all three, as NKI's simulator
    klr.save("add.klr", core); klr.load("add.klr")

Each layer is imported when first used, so ``import klr`` stays light. ``limits`` (a mapping
from limit names to numbers, as ``--limit`` on the command line) raises or lowers resource
limits: ``klr.limits.FileLimits`` everywhere, ``klr.tracer.context.Limits`` for ``trace``,
``klr.interp.EvalLimits`` for ``eval``; an unknown name is a UsageError listing the known ones.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: `klr --help` stays light

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from klr.interp import EvalResult
    from klr.python.ast import Kernel as PyKernel
    from klr.sim.simulate import Simulated
    from klr.tracer.kernel import TraceResult

__all__ = ["__version__", "gather", "trace", "eval", "simulate", "install_nki", "load", "save",
           "KernelError"]


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
    """Run a traced kernel (LncKernel, TraceResult or .klr path) on numpy inputs, given in the
    order of the kernel's inputs and/or by name; ``random=SEED`` draws the missing ones.

    Returns an ``EvalResult``: ``outputs`` maps each output tensor's name (``kernel.outputs``,
    in order) to a numpy array of its dtype (ml_dtypes for bfloat16 and fp8); ``warnings``,
    ``prints`` (``nl.device_print``) and ``stats`` (instructions run) come with it. A kernel read
    from a path finds its shared constants beside it (checked against their digests); a
    TraceResult carries them in memory.
    """
    from klr.interp import EvalLimits
    from klr.limits import FileLimits, build
    from klr.sim.evaluate import evaluate

    elimits, flimits = build([EvalLimits, FileLimits], limits, "klr.eval")
    return evaluate(kernel, inputs, named, strict=strict, random=random, limits=elimits,
                    max_bytes=flimits.max_file_bytes).result


def simulate(kernel: Any, *, grid: Any = None, arch: int | None = None, lnc: int | None = None,
             limits: Mapping[str, Any] | None = None, cache: bool | None = None) -> Simulated:
    """An NKI kernel run by klr: ``klr.simulate(kernel)(*arrays, **kwargs)`` or
    ``klr.simulate(kernel)[grid](*arrays)``.

    ``kernel`` is a function (or an ``nki.jit`` object wrapping one), used only for its source
    file and name. Each call gathers it from source, traces it for the arguments' shapes and
    dtypes and evaluates the traced Core: it returns numpy arrays as NKI does (the kernel's
    return value, arrays for tensors) and writes the input arrays the kernel writes in place.
    A kernel that fails raises ``klr.KernelError``, whose text shows the kernel's file, line
    and a caret. ``limits`` names trace, eval and file limits (as ``--limit``). A call with the
    same kernel sources, arguments and options as an earlier one (in any process) takes the
    gathered kernel and its trace from the compile cache (``klr.sim.cache``); ``cache=False``
    (or ``KLR_CACHE=0`` in the environment) turns it off.
    """
    from klr.sim.simulate import Simulated

    return Simulated.of(kernel, grid=grid, arch=arch, lnc=lnc, limits=limits, cache=cache)


def install_nki() -> None:
    """Provide the ``nki``, ``nki.language``, ``nki.isa``, ``nki.typing`` and ``neuronxcc.nki``
    modules from klr in this process (what ``klr run`` does), so that ``nki.jit`` kernels run
    with ``klr.simulate``. klr's modules win over an installed Neuron SDK; installing after the
    SDK's ``nki`` or ``neuronxcc`` was imported is a UsageError."""
    from klr.sim.shim import install

    install()


def __getattr__(name: str) -> Any:
    if name == "KernelError":
        from klr.sim.simulate import KernelError

        return KernelError
    raise AttributeError(f"module 'klr' has no attribute {name!r}")


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
