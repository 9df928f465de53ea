"""The ``nki`` and ``neuronxcc.nki`` modules klr provides under ``klr run`` and ``klr.install_nki()``.

A user's program imports NKI to define kernels and to call them; under klr only the calls
matter, and they run with ``klr.simulate``. ``install()`` puts an import hook first on
``sys.meta_path`` that answers for ``nki``, ``neuronxcc``, ``neuronxcc.nki`` and every
submodule of the two NKI packages, so klr's modules win over an installed Neuron SDK (the
SDK stays hidden while the hook is installed; ``hidden_sdk`` says where it is). Nothing is
installed by importing klr: without ``klr run`` or ``klr.install_nki()`` an installed SDK is
what ``import nki`` finds.

What the modules hold, on the host (the program around the kernels, which runs as Python):

* ``nki.jit`` (as ``@nki.jit``, ``@nki.jit(mode=..., ...)`` or ``nki.jit(f, ...)``), ``nki.baremetal``,
  ``nki.simulate_kernel(kernel, *args)``, ``nki.simulate(kernel)``, ``nki.benchmark`` and
  ``nki.profile`` (run once; klr's timing is printed and kept in ``benchmark_result``) and
  ``nki.trace``: each makes a ``klr.sim.simulate.Simulated``; options other than
  ``platform_target`` (trn1, trn2, trn3: arch 2, 3, 4) are accepted and ignored;
* ``nl.<dtype>``: the numpy and ml_dtypes scalar types (``nl.float32 is np.float32``,
  ``nl.bfloat16 is ml_dtypes.bfloat16``), so ``np.zeros(s, dtype=nl.bfloat16)`` works; the
  packed fp8/fp4 types and ``tfloat32`` have no numpy type and are names;
* the tracer's numeric constants (``nl.tile_size.pmax``, ``nl.fp32.min``...) as numbers;
* ``nl.static_cast(array, dtype)`` (numpy ``astype``), ``nl.nc(n)`` and ``nl.spmd_dim(...)``
  (grid sizes: ``kernel[nl.nc(2) * 2]`` launches 4 instances);
* every other name (``nl.add``, ``nl.sbuf``, ``nisa.oob_mode.skip``, ``nt.tensor[128, 512]``) is
  a ``LibraryName``: passed to a kernel it is that NKI object; called on the host it is an error,
  except names under ``nki.compiler``, which act as decorators that change nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import math
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

from klr.errors import UsageError

ROOTS = ("nki", "neuronxcc")
#: Submodules each package imports when it is imported (as the SDK's packages do).
CHILDREN = {"neuronxcc": ("nki",), "nki": ("language", "isa", "typing", "compiler")}
PLATFORMS = {"trn1": 2, "inf2": 2, "trn2": 3, "trn3": 4}


class LibraryName:
    """An NKI object the host program only names: ``nl.add``, ``nl.sbuf``, ``nt.tensor[...]``.
    ``__klr_name__`` is its qualified name, which a kernel argument carries to the tracer."""

    __slots__ = ("__klr_name__",)

    def __init__(self, name: str) -> None:
        self.__klr_name__ = name

    def __getattr__(self, attr: str) -> LibraryName:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return LibraryName(f"{self.__klr_name__}.{attr}")

    def __getitem__(self, key: Any) -> LibraryName:
        return self  # a type annotation such as nt.tensor[128, 512]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.__klr_name__.startswith("nki.compiler."):
            if len(args) == 1 and not kwargs and callable(args[0]):
                return args[0]  # @nki.compiler.skip_middle_end_transformations
            return LibraryName(f"{self.__klr_name__}()")  # @nki.compiler.enable_stack_allocator(...)
        raise UsageError(f"{_short(self.__klr_name__)} can only be called inside a kernel: under klr, "
                         "kernels are read from their source and traced, and the program that calls "
                         "them runs as plain Python")

    def __repr__(self) -> str:
        return f"<nki name {self.__klr_name__}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LibraryName) and other.__klr_name__ == self.__klr_name__

    def __hash__(self) -> int:
        return hash(self.__klr_name__)


def _short(name: str) -> str:
    for long, short in (("nki.language.", "nl."), ("nki.isa.", "nisa."), ("nki.typing.", "nt.")):
        if name.startswith(long):
            return short + name[len(long):]
    return name


# --- the host-side API -------------------------------------------------------------------------

def _decorator(make: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator usable bare (``@d``), with options (``@d(...)``) or called (``d(f, ...)``)."""
    def apply(func: Any = None, **options: Any) -> Any:
        if func is None:
            return lambda f: make(f, **options)
        return make(func, **options)
    return apply


def _simulated(func: Any, mode: str | None = None, platform_target: str | None = None,
               **ignored: Any) -> Any:
    from klr.sim.simulate import Simulated

    arch = PLATFORMS.get(str(platform_target)) if platform_target is not None else None
    return Simulated.of(func, arch=arch)


class Benchmarked:
    """``nki.benchmark`` / ``nki.profile``: the kernel runs once with klr, which prints its
    timing; ``benchmark_result.nc_latency`` answers with klr's wall time (not a device's)."""

    __test__ = False

    def __init__(self, kernel: Any, what: str) -> None:
        from klr.sim.simulate import Simulated

        self.kernel = Simulated.of(kernel)
        self.what = what
        self.benchmark_result = _BenchmarkResult()

    def __getitem__(self, grid: Any) -> Benchmarked:
        return Benchmarked(self.kernel[grid], self.what)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        value = self.kernel(*args, **kwargs)
        run = self.kernel.last
        assert run is not None
        total = sum(run.seconds.values())
        self.benchmark_result.nc_latency.seconds = run.seconds["eval"]
        times = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in run.seconds.items())
        print(f"klr: nki.{self.what} of {self.kernel.name} ran once in klr's interpreter "
              f"({times}; {total * 1000:.1f} ms in all); klr's times say nothing about a device's",
              file=sys.stderr)
        return value


class _Latency:
    def __init__(self) -> None:
        self.seconds = 0.0

    def get_latency_percentile(self, percentile: float) -> float:
        """klr's eval time in microseconds, whatever the percentile (there was one run)."""
        return self.seconds * 1e6


class _BenchmarkResult:
    def __init__(self) -> None:
        self.nc_latency = _Latency()


def _benchmark(func: Any, **options: Any) -> Benchmarked:
    return Benchmarked(func, "benchmark")


def _profile(func: Any, **options: Any) -> Benchmarked:
    return Benchmarked(func, "profile")


def simulate_kernel(kernel: Any, *args: Any, **kwargs: Any) -> Any:
    """``nki.simulate_kernel(kernel, *args, **kwargs)``: one run with klr."""
    __tracebackhide__ = True
    from klr.sim.simulate import Simulated

    inner = kernel.kernel if isinstance(kernel, Benchmarked) else kernel
    return Simulated.of(inner)(*args, **kwargs)


def simulate(kernel: Any) -> Any:
    """``nki.simulate(kernel)``: the kernel, to be called (or indexed with a grid) with klr."""
    from klr.sim.simulate import Simulated

    return Simulated.of(kernel.kernel if isinstance(kernel, Benchmarked) else kernel)


def static_cast(value: Any, dtype: Any) -> Any:
    """``nl.static_cast`` on host arrays: numpy's ``astype``."""
    import numpy as np

    return np.asarray(value).astype(dtype)


def nc(count: int) -> int:
    """``nl.nc(n)``: n logical NeuronCores along a grid dimension; klr runs the instances one
    after another, so only the count matters."""
    return int(count)


def spmd_dim(*dims: int) -> int:
    """``nl.spmd_dim(a, b)``: one grid dimension of a * b instances."""
    return math.prod(int(d) for d in dims)


def _top() -> dict[str, Any]:
    return {
        "jit": _decorator(_simulated), "baremetal": _decorator(_simulated), "trace": _decorator(_simulated),
        "benchmark": _decorator(_benchmark), "profile": _decorator(_profile),
        "simulate_kernel": simulate_kernel, "simulate": simulate,
        "__version__": "klr",
    }


def _language() -> dict[str, Any]:
    from klr.dtypes import NKI_NAMES

    out: dict[str, Any] = {"static_cast": static_cast, "nc": nc, "spmd_dim": spmd_dim}
    for name, dtype in NKI_NAMES.items():
        if not dtype.is_packed and name not in ("tfloat32", "float32r"):
            out[name] = dtype.numpy().type if name not in ("bool", "bool_") else _numpy_bool()
    return out


def _numpy_bool() -> Any:
    import numpy as np

    return np.bool_


def _numbers(prefix: str) -> dict[str, Any]:
    """The tracer's numeric constants under ``prefix`` (``tile_size.pmax``...), nested in
    namespaces by their dotted names."""
    from klr.tracer import entries  # with the NKI library loaded

    tree: dict[str, Any] = {}
    for e in entries():
        if e.kind == "constant" and type(e.value) in (int, float) and e.name.startswith(prefix):
            *path, last = e.name[len(prefix):].split(".")
            where = tree
            for part in path:
                where = where.setdefault(part, {})
            where[last] = e.value
    return {k: _namespace(v) for k, v in tree.items()}


def _namespace(value: Any) -> Any:
    if isinstance(value, dict):
        return types.SimpleNamespace(**{k: _namespace(v) for k, v in value.items()})
    return value


def _typing() -> dict[str, Any]:
    return {}


_CONTENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "nki": _top,
    "nki.language": lambda: {**_numbers("nki.language."), **_language()},
    "nki.isa": lambda: _numbers("nki.isa."),
    "nki.typing": _typing,
}


def canonical(fullname: str) -> str:
    """``neuronxcc.nki.language`` -> ``nki.language``."""
    return fullname[len("neuronxcc."):] if fullname.startswith("neuronxcc.nki") else fullname


def _module(fullname: str) -> types.ModuleType:
    module = types.ModuleType(fullname, f"klr's stand-in for {fullname} (see klr.sim.shim)")
    module.__path__ = []
    name = canonical(fullname)
    module.__dict__.update(_CONTENTS.get(name, dict)())
    if name != "neuronxcc":
        def missing(attr: str) -> Any:
            if attr.startswith("__"):
                raise AttributeError(f"module {fullname!r} has no attribute {attr!r}")
            value = module.__dict__[attr] = LibraryName(f"{name}.{attr}")  # one object per name
            return value
        module.__getattr__ = missing  # type: ignore[method-assign]
    return module


class _Hook(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The import hook: klr's module for every NKI name."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if is_nki(fullname):
            return importlib.util.spec_from_loader(fullname, self, origin="klr", is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _module(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        for child in CHILDREN.get(canonical(module.__name__), ()):
            setattr(module, child, importlib.import_module(f"{module.__name__}.{child}"))


def is_nki(fullname: str) -> bool:
    """Whether ``fullname`` is one of the module names klr provides."""
    return fullname in (*ROOTS, "neuronxcc.nki") or fullname.startswith(("nki.", "neuronxcc.nki."))


_hook = _Hook()


def installed() -> bool:
    return _hook in sys.meta_path


def hidden_sdk() -> list[str]:
    """Where an installed Neuron SDK's ``neuronxcc`` or ``nki`` is, which klr's modules hide."""
    found = []
    for root in ROOTS:
        spec = importlib.machinery.PathFinder.find_spec(root)
        if spec is not None and spec.origin not in (None, "namespace"):  # a directory is no SDK
            found.append(f"{root} ({spec.origin})")
    return found


def install() -> None:
    """Put klr's NKI modules in front of every other (idempotent)."""
    if installed():
        return
    loaded = sorted(n for n, m in sys.modules.items() if is_nki(n) and not _is_ours(m))
    if loaded:
        raise UsageError(f"cannot provide klr's NKI modules: {', '.join(loaded[:3])} "
                         f"{'is' if len(loaded) == 1 else 'are'} already imported from the Neuron SDK; "
                         "call klr.install_nki() before importing NKI")
    sys.meta_path.insert(0, _hook)


def uninstall() -> None:
    """Remove the hook and klr's NKI modules (for tests)."""
    if installed():
        sys.meta_path.remove(_hook)
    for n in [n for n, m in sys.modules.items() if is_nki(n) and _is_ours(m)]:
        del sys.modules[n]


def _is_ours(module: Any) -> bool:
    spec = getattr(module, "__spec__", None)
    return spec is not None and spec.loader is _hook

