"""Eval section of bench/run.py: the interpreter against plain numpy at realistic sizes.

For each case: the kernel is gathered and traced once; ``klr.eval`` and the same computation
written directly in numpy (fp32 where the kernel computes in fp32, the bf16 matmul through an
fp32 matmul) are timed in process (medians), then each runs once more under tracemalloc.
Memory is the peak of the inputs (held by the caller) plus what the run allocates, compared
with the bytes of the kernel's own tensors: inputs, outputs and every distinct SBUF/PSUM tile
its statements name. A case the interpreter's limits refuse is skipped with its message; so is
one whose tensors would not fit in the memory available now.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import cases
import numpy as np
from cases import refs
from measure import Timing, jsonable, mib, ms, peak_memory, statements, table, tensor_bytes, timed

# Memory the interpreter may need at most per byte of the kernel's tensors before this bench
# refuses to start a case (the issue measured 5x for add_tiles today).
MEMORY_HEADROOM = 6


@dataclass(frozen=True)
class EvalCase:
    example: refs.Example
    numpy: Callable[..., object]   # the plain numpy computation of the kernel


@dataclass
class EvalResult:
    name: str
    statements: int = 0
    klr: Timing | None = None
    numpy: Timing | None = None
    klr_peak: int = 0       # bytes: inputs + what eval allocates
    numpy_peak: int = 0
    tensors: dict[str, int] | None = None
    matches: bool | None = None
    skipped: str | None = None

    @property
    def time_ratio(self) -> float:
        assert self.klr and self.numpy
        return self.klr.median / self.numpy.median

    @property
    def cpu_ratio(self) -> float:
        """The same with CPU times, which a busy machine disturbs less."""
        assert self.klr and self.numpy
        return self.klr.cpu / self.numpy.cpu

    @property
    def memory_ratio(self) -> float:
        assert self.tensors
        return self.klr_peak / sum(self.tensors.values())

    def summary(self) -> dict[str, object]:
        fields = {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if self.skipped:
            return fields
        return {**fields, "time_ratio": self.time_ratio, "cpu_ratio": self.cpu_ratio,
                "memory_ratio": self.memory_ratio}


def softmax_np(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def layernorm_np(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=1, keepdims=True)
    centered = x - mean
    var = np.square(centered).mean(axis=1, keepdims=True)
    return centered / np.sqrt(var + np.float32(eps)) * gamma + beta


def matmul_np(lhsT: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return (lhsT.astype(np.float32).T @ rhs.astype(np.float32)).astype(lhsT.dtype)


def eval_cases(quick: bool) -> list[EvalCase]:
    rows = 8192 if not quick else 2048
    softmax = _resized(refs.load("softmax"), {"x": (rows, 2048)})
    layernorm = _resized(refs.load("layernorm"), {"x": (rows, 2048), "gamma": (1, 2048), "beta": (1, 2048)})
    return [EvalCase(cases.add_tiles(1024), np.add),
            EvalCase(cases.add_tiles(4096), np.add),
            EvalCase(cases.matmul(1024, 1024, 1024), matmul_np),
            EvalCase(softmax, softmax_np),
            EvalCase(layernorm, layernorm_np)]


def _resized(ex: refs.Example, shapes: dict[str, tuple[int, ...]]) -> refs.Example:
    from dataclasses import replace

    inputs = tuple((name, dtype, shapes.get(name, shape)) for name, dtype, shape in ex.inputs)
    dims = "x".join(map(str, shapes[ex.inputs[0][0]]))
    return replace(ex, name=f"{ex.name}[{dims}]", inputs=inputs)


def run_case(case: EvalCase, repeat: int, *, budget: float = 60.0) -> EvalResult:
    import klr
    from klr.errors import KlrError

    ex = case.example
    result = EvalResult(ex.name)
    need = cases.input_bytes(ex) * MEMORY_HEADROOM
    available = _available_memory()
    if available is not None and need > available:
        result.skipped = (f"needs about {need / 2**30:.1f} GiB ({MEMORY_HEADROOM}x its inputs), "
                          f"{available / 2**30:.1f} GiB available")
        return result
    inputs = ex.make_inputs(seed=0)
    traced = klr.trace(cases.gather(ex, inputs))
    result.statements = statements(traced)
    result.tensors = tensor_bytes(traced)
    held = sum(a.nbytes for a in inputs)
    try:
        result.klr, evaluated = timed(lambda: klr.eval(traced, *inputs), repeat, budget)
    except KlrError as err:
        result.skipped = f"the interpreter refuses it: {err.message}"
        return result
    result.matches = cases.matches(ex, inputs, evaluated.outputs)
    del evaluated
    result.numpy, _ = timed(lambda: case.numpy(*inputs, **ex.kwargs), max(repeat, 3), budget)
    result.klr_peak = held + peak_memory(lambda: klr.eval(traced, *inputs))[0]
    result.numpy_peak = held + peak_memory(lambda: case.numpy(*inputs, **ex.kwargs))[0]
    return result


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def report(results: list[EvalResult]) -> str:
    rows = []
    notes = []
    for r in results:
        if r.skipped:
            notes.append(f"{r.name}: skipped: {r.skipped}")
            continue
        assert r.klr and r.numpy and r.tensors
        t = r.tensors
        rows.append([r.name, r.statements, ms(r.klr.median), ms(r.numpy.median), f"{r.time_ratio:.1f}x",
                     f"{r.cpu_ratio:.1f}x",
                     mib(t["inputs"] + t["outputs"]), mib(t["on_chip"]), mib(r.klr_peak), mib(r.numpy_peak),
                     f"{r.memory_ratio:.2f}x", "yes" if r.matches else "NO"])
    return "\n".join([
        "Eval vs numpy: median ms (time: their ratio; cpu time: the ratio of median CPU times); "
        "tensors MiB (inputs+outputs, on-chip tiles); peak MiB (inputs + "
        "allocations) of klr eval and of numpy; klr peak over the kernel's tensors",
        table(["case", "stmts", "klr ms", "numpy ms", "time", "cpu time", "in+out MiB", "tiles MiB",
               "klr peak", "numpy peak", "memory", "match"], rows), *notes])
