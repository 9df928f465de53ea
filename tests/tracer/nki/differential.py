"""Differential tests of the NKI builtins: a kernel of ours, traced and evaluated, against numpy.

A ``Case`` is one such test as data: the kernel's source (after the dialect's imports), its
inputs, and the numpy function computing what NKI documents. ``run_case`` traces, evaluates and
compares it, and returns the trace, whose ``builtins`` are the (name, form) pairs the kernel
called. ``required`` reads the registry for what must be covered: every NKI builtin, in each
form when its two dialects' forms differ (``Entry.forms``), in its own dialect when it has one
only, in either when both dialects share one behaviour. ``EXEMPT`` lists, with reasons, the few
that no numpy comparison can check.

Kernel builders: ``lg`` (legacy: ``nl.load`` each parameter into ``<p>_t``, run the body, which
sets ``res``, ``nl.store`` it) and ``b2`` (beta 2: ``nisa.dma_copy`` each parameter into an SBUF
tile ``<p>_t``, run the body, copy ``res`` out).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import klr
from klr.python.gather import gather_file
from klr.tracer import entries, trace
from klr.tracer.kernel import TraceResult
from klr.tracer.registry import Dialect
from tests.tracer.nki.util import BETA2, LEGACY

Expect = Callable[..., Any]
"""The numpy reference: the case's inputs -> the expected output (or a list of outputs)."""


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    inputs: tuple[Any, ...]
    expect: Expect
    dialect: Dialect = Dialect.legacy
    rtol: float = 1e-6
    atol: float = 0.0
    grid: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.name}-{self.dialect}"


def case(
    name: str,
    source: str,
    inputs: Iterable[Any],
    expect: Expect,
    *,
    beta2: bool = False,
    rtol: float = 1e-6,
    atol: float = 0.0,
    grid: Any = None,
    **kwargs: Any,
) -> Case:
    return Case(
        name,
        source,
        tuple(inputs),
        expect,
        Dialect.beta2 if beta2 else Dialect.legacy,
        rtol,
        atol,
        grid,
        kwargs,
    )


def lg(body: str, *params: str, load: bool = True) -> str:
    """A legacy kernel: ``<p>_t = nl.load(<p>)`` per parameter, ``body`` sets ``res``, stored."""
    loads = "".join(f"    {p}_t = nl.load({p})\n" for p in params) if load else ""
    return (
        f"def kernel({', '.join(params)}):\n"
        + loads
        + textwrap.indent(textwrap.dedent(body).strip(), "    ")
        + "\n    out = nl.ndarray(res.shape, dtype=res.dtype, buffer=nl.shared_hbm)\n"
        "    nl.store(out, value=res)\n    return out\n"
    )


def b2(body: str, *params: str) -> str:
    """A beta 2 kernel: each parameter copied into an SBUF tile ``<p>_t``, ``body`` sets ``res``,
    copied out."""
    copies = "".join(
        f"    {p}_t = nl.ndarray({p}.shape, dtype={p}.dtype, buffer=nl.sbuf)\n"
        f"    nisa.dma_copy(dst={p}_t, src={p})\n"
        for p in params
    )
    return (
        f"def kernel({', '.join(params)}):\n"
        + copies
        + textwrap.indent(textwrap.dedent(body).strip(), "    ")
        + "\n    out = nl.ndarray(res.shape, dtype=res.dtype, buffer=nl.shared_hbm)\n"
        "    nisa.dma_copy(dst=out, src=res)\n    return out\n"
    )


def run_case(tmp_path: Path, c: Case) -> TraceResult:
    """Trace and evaluate ``c``, compare every output with numpy's; the trace."""
    result = trace_case(tmp_path, c)
    arrays = [x for x in c.inputs if isinstance(x, np.ndarray)]
    names = [t.name for t in result.kernel.inputs]
    out = klr.eval(result, **dict(zip(names, arrays, strict=True)))
    got = [out.outputs[t.name] for t in result.kernel.outputs]
    want = c.expect(*c.inputs)
    want = list(want) if isinstance(want, (list, tuple)) else [want]
    assert len(got) == len(want), f"{len(got)} outputs, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        w = np.asarray(w)
        assert g.shape == w.shape, f"output {i}: shape {g.shape}, expected {w.shape}"
        np.testing.assert_allclose(
            g.astype(np.float64),
            w.astype(np.float64),
            rtol=c.rtol,
            atol=c.atol,
            err_msg=f"output {i} of {c.id}",
        )
    return result


def trace_case(tmp_path: Path, c: Case) -> TraceResult:
    path = tmp_path / "kern.py"
    header = BETA2 if c.dialect is Dialect.beta2 else LEGACY
    path.write_text(
        header
        + "import neuronxcc.nki.compiler as ncc\n" * (c.dialect is Dialect.legacy)
        + textwrap.dedent(c.source)
    )
    return trace(gather_file(str(path), "kernel", args=c.inputs, kwargs=c.kwargs, grid=c.grid))


# --- what must be covered ------------------------------------------------------------------

EXEMPT: dict[str, str] = {
    "nki.language.device_print": "computes nothing; its text is checked in test_device_print_prints_the_tile",
    "nki.language.all_reduce": "refused with a reason (klr traces SPMD programs one after another)",
    "nki.language.rand": "random: checked by properties in test_random_by_properties",
    "nki.language.random_seed": "seeds nl.rand: checked with it in test_random_by_properties",
}
"""Builtins no numpy comparison can check, each with its reason (tests named are in
test_differential.py)."""

Unit = tuple[str, frozenset[Dialect]]
"""A builtin that must be covered, and the forms any one of which covers it."""


def required() -> list[Unit]:
    """Every registered NKI builtin in each form that must be covered, from the registry."""
    units: list[Unit] = []
    for e in entries():
        if e.kind != "builtin" or not e.name.startswith("nki.") or e.name in EXEMPT or _private(e.name):
            continue
        if e.forms:
            units += [(e.name, frozenset({Dialect.legacy})), (e.name, frozenset({Dialect.beta2}))]
        elif e.dialect is Dialect.both:
            units.append((e.name, frozenset({Dialect.legacy, Dialect.beta2})))
        else:
            units.append((e.name, frozenset({e.dialect})))
    return units


def _private(name: str) -> bool:
    """A name no kernel can rely on (``nki._x``): tests register such builtins for themselves."""
    return any(part.startswith("_") for part in name.split("."))


def uncovered(used: set[tuple[str, Dialect]], units: Sequence[Unit]) -> list[str]:
    return sorted(
        f"{name} ({'/'.join(sorted(map(str, forms)))})"
        for name, forms in units
        if not any((name, f) in used for f in forms)
    )
