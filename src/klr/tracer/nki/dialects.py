"""The two dialect forms of an ``nki.isa`` builtin.

The form is decided per call: a ``dst`` argument (by keyword, or as an extra leading tensor
beyond what the legacy form takes) selects the beta 2 destination-passing form, whose
parameters, order and defaults are the reference's (``KLR/Trace/ISA.lean``); otherwise the
call is the legacy value-returning form (``t = nisa.exp...``), which allocates its result.
Each builtin declares both signatures as Python stubs and binds the call to one of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from klr.dtypes import Dtype
from klr.tracer.nki.args import Args, out_dtype, view_arg
from klr.tracer.nki.tensors import Tile, result
from klr.tracer.nki.views import View
from klr.tracer.registry import Binder, Dialect, builtin
from klr.tracer.values import Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx


ISA = "nki.isa."


class _Unset:
    def __repr__(self) -> str:
        return "<required>"


UNSET: Any = _Unset()
"""Default of a parameter that one form requires (the binder checks it)."""




def _pick(args: tuple[Value, ...], kwargs: dict[str, Value], legacy_tensors: int | None) -> bool:
    """True for the destination-passing form."""
    if legacy_tensors is None or "dst" in kwargs:
        return True
    run = 0
    for a in args:
        if not isinstance(a, Tile):
            break
        run += 1
    return run > legacy_tensors


def dual(name: str, *, beta2: Callable[..., Any], legacy: Callable[..., Any] | None = None,
         legacy_tensors: int | None = None,
         emits: tuple[str, ...] = ()) -> Callable[[Callable[..., Value]], None]:
    """Register ``nki.isa.<name>``; ``impl(ctx, args, dps)`` gets the bound arguments."""
    full = ISA + name
    sigs = {True: inspect.signature(beta2), False: inspect.signature(legacy) if legacy else None}
    binders = {dps: Binder(sig) for dps, sig in sigs.items() if sig is not None}

    def wrap(impl: Callable[..., Value]) -> None:
        def entry(ctx: Ctx, *args: Value, **kwargs: Value) -> Value:
            dps = legacy is None or _pick(args, kwargs, legacy_tensors)
            got = binders[dps].bind(args, kwargs)
            if got is None:
                got = bind_or_raise(ctx, full, binders[dps].signature, args, kwargs)
            for k, v in got.items():
                if v is UNSET:
                    raise ctx.error(f"{full}() missing required argument '{k}'")
            return impl(ctx, got, dps)

        entry.__signature__ = _union(inspect.signature(beta2), sigs[False])  # type: ignore[attr-defined]
        forms = [f"``{name}{sigs[True]}`` (destination passing)"]
        if sigs[False] is not None:
            forms.append(f"``{name}{sigs[False]}`` (legacy, returns the result)")
        doc = (inspect.getdoc(impl) or "") + "\n\nForms: " + "; ".join(forms) + "."
        builtin(full, emits=emits, dialect=Dialect.both, doc=doc)(entry)
    return wrap


def bind_or_raise(ctx: Ctx, full: str, sig: inspect.Signature, args: tuple[Value, ...],
                  kwargs: dict[str, Value]) -> dict[str, Value]:
    """Bind with ``inspect`` (the slow path of ``Binder``): its complaint becomes a TraceError."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        why = str(e).replace("missing a required argument:", "missing required argument")
        raise ctx.error(f"{full}() {why}") from None
    bound.apply_defaults()
    return bound.arguments


def _union(b2: inspect.Signature, lg: inspect.Signature | None) -> inspect.Signature:
    """One signature accepting both forms (for argument checking and documentation)."""
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_ONLY)]
    seen = set()
    for p in b2.parameters.values():
        default = p.default if p.default is not inspect.Parameter.empty else UNSET
        params.append(inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default))
        seen.add(p.name)
    if lg is not None:
        for p in lg.parameters.values():
            if p.name not in seen:
                default = p.default if p.default is not inspect.Parameter.empty else UNSET
                params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=default))
    return inspect.Signature(params)


def _by_dialect(name: str, *, beta2: Callable[..., Any], legacy: Callable[..., Any],
                emits: tuple[str, ...]) -> Callable[[Callable[..., Value]], None]:
    """Register ``nki.isa.<name>`` choosing the form by ``dst=`` or else the kernel's dialect."""
    sigs = {True: inspect.signature(beta2), False: inspect.signature(legacy)}
    binders = {dps: Binder(sig) for dps, sig in sigs.items()}
    full = ISA + name

    def wrap(impl: Callable[..., Value]) -> None:
        def entry(ctx: Ctx, *args: Value, **kwargs: Value) -> Value:
            dps = "dst" in kwargs or ctx.dialect is Dialect.beta2
            got = binders[dps].bind(args, kwargs)
            if got is None:
                got = bind_or_raise(ctx, full, sigs[dps], args, kwargs)
            for k, v in got.items():
                if v is UNSET:
                    raise ctx.error(f"{full}() missing required argument '{k}'")
            return impl(ctx, got, dps)

        params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_ONLY),
                  inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
                  inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)]
        entry.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        doc = (inspect.getdoc(impl) or "") + (f"\n\nForms: ``{name}{sigs[True]}`` (destination passing); "
                                              f"``{name}{sigs[False]}`` (legacy).")
        builtin(full, emits=emits, dialect=Dialect.both, doc=doc)(entry)
    return wrap


def _dps_or_result(ctx: Ctx, a: Args, dps: bool, shape: tuple[int, ...], dtype: Dtype, inputs: list[View],
                   write: Callable[[Ctx, View], None]) -> Value:
    """Write into ``dst`` (destination passing) or into a new SBUF tile of ``shape``."""
    if dps:
        write(ctx, view_arg(ctx, a["dst"], "dst"))
        return None
    return result(ctx, shape, out_dtype(ctx, a, dtype), lambda c, d, acc: write(c, d), inputs=inputs)


Write = Callable[["Ctx", View], None]


def _into(ctx: Ctx, a: Args, dps: bool, shape: tuple[int, ...], dtype: Dtype, inputs: list[View],
          write: Write, *, par_axis: int | None = 0, mask: Any = None) -> Value:
    """Write into ``dst`` (destination passing) or into a new SBUF tile of ``shape``."""
    if dps:
        write(ctx, view_arg(ctx, a["dst"], "dst"))
        return None
    return result(ctx, shape, out_dtype(ctx, a, dtype), lambda c, d, acc: write(c, d), inputs=inputs,
                  par_axis=par_axis, mask=mask)
