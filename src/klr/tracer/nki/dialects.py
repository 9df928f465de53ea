"""The two dialect forms of an ``nki.isa`` builtin, and the one decorator that registers them.

::

    @isa("tensor_copy", beta2=form("dst", "src", mask=None, dtype=None, engine=None, name=None),
         legacy=form("src", mask=None, dtype=None, engine=None), legacy_tensors=1, emits=("ncCopy",))
    def tensor_copy(ctx: Ctx, a: Args, dps: bool) -> Value: ...

The form is decided per call: a ``dst`` argument (by keyword, or as an extra leading tensor
beyond the ``legacy_tensors`` the legacy form takes) selects the beta 2 destination-passing
form, whose parameters, order and defaults are the reference's (``KLR/Trace/ISA.lean``), or
NKI's API reference's where it has more or orders them otherwise (``affine_select``);
otherwise the call is the legacy value-returning form (``t = nisa.exp...``), which allocates
its result. Where a positional call cannot tell (``legacy_tensors=None``), the kernel's dialect
decides. The implementation gets the arguments bound to the chosen form by name and whether it
is destination passing; ``into`` writes its result into ``dst`` or a new tile accordingly.

``isa`` returns the function it registers: ``nc_matmul(ctx, stationary=a, moving=b)`` calls the
builtin as a kernel would (after the registry's argument checks, which a direct call skips).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from klr.dtypes import Dtype
from klr.tracer.nki.args import Args, out_dtype, view_arg
from klr.tracer.nki.index import Predicate
from klr.tracer.nki.tensors import MaskedOperand, TensorValue, result
from klr.tracer.nki.views import View
from klr.tracer.registry import Binder, Dialect, builtin
from klr.tracer.values import Value

if TYPE_CHECKING:
    import inspect

    from klr.tracer.context import Ctx

__all__ = ["ISA", "UNSET", "Impl", "Write", "bind_or_raise", "form", "into", "isa"]

ISA = "nki.isa."

Impl = Callable[["Ctx", Args, bool], Value]
"""A dual-form builtin's implementation: (ctx, bound arguments, destination passing?)."""
Write = Callable[["Ctx", View], None]
"""Writes an operation's result into a destination view."""


class _Unset:
    def __repr__(self) -> str:
        return "<required>"


UNSET: object = _Unset()
"""The default of a parameter one form requires although an earlier one has a default (the
binder checks it), and of the other form's parameters in the registered union signature."""


def form(*required: str, **defaults: object) -> inspect.Signature:
    """The signature of one form: its required parameters, then those with defaults, in order."""
    import inspect  # (here: a trace that calls no nki.isa builtin needs none of it)

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(n, kind) for n in required]
                             + [inspect.Parameter(n, kind, default=d) for n, d in defaults.items()])


def _pick(args: tuple[Value, ...], kwargs: dict[str, Value], legacy_tensors: int) -> bool:
    """True for the destination-passing form: ``dst=``, or more leading tensors than the legacy
    form takes."""
    if "dst" in kwargs:
        return True
    run = 0
    for a in args:
        if not isinstance(a, TensorValue):
            break
        run += 1
    return run > legacy_tensors


def isa(name: str, *, beta2: inspect.Signature, legacy: inspect.Signature | None = None,
        legacy_tensors: int | None = None,
        emits: tuple[str, ...] = ()) -> Callable[[Impl], Callable[..., Value]]:
    """Register ``nki.isa.<name>`` with its destination-passing form and, when it has one, its
    legacy form; return the registered function."""
    import inspect

    full = ISA + name
    if legacy is not None and "name" not in legacy.parameters:  # a label for the compiler's listings
        legacy = legacy.replace(parameters=[*legacy.parameters.values(),
                                            inspect.Parameter("name", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                              default=None)])
    binders = {True: Binder(beta2)} | ({} if legacy is None else {False: Binder(legacy)})

    def wrap(impl: Impl) -> Callable[..., Value]:
        def entry(ctx: Ctx, *args: Value, **kwargs: Value) -> Value:
            if legacy is None:
                dps = True
            elif legacy_tensors is None:
                dps = "dst" in kwargs or ctx.dialect is Dialect.beta2
            else:
                dps = _pick(args, kwargs, legacy_tensors)
            if legacy is not None:
                ctx.used_forms.add((full, Dialect.beta2 if dps else Dialect.legacy))
            binder = binders[dps]
            got = binder.bind(args, kwargs)
            if got is None:
                got = bind_or_raise(ctx, full, binder.signature, args, kwargs)
            for k, v in got.items():
                if v is UNSET:
                    raise ctx.error(f"{full}() missing required argument '{k}'")
            if got.get("mask", False) is None:  # an operand's own mask (``x[i][mask]``) masks the call
                got["mask"] = next((v.mask for v in got.values()
                                    if isinstance(v, MaskedOperand)), None)
            return impl(ctx, got, dps)

        forms = [f"``{name}{beta2}`` (destination passing)"]
        if legacy is not None:
            forms.append(f"``{name}{legacy}`` (legacy, returns the result)")
        entry.__name__ = entry.__qualname__ = impl.__name__
        entry.__doc__ = (inspect.getdoc(impl) or "") + "\n\nForms: " + "; ".join(forms) + "."
        entry.__signature__ = _union(beta2, legacy)  # type: ignore[attr-defined]  # read by inspect
        entry.__wrapped__ = impl  # type: ignore[attr-defined]  # the implementation, for tests
        own = () if legacy is None else ((str(Dialect.beta2), f"{full}{beta2}"),
                                         (str(Dialect.legacy), f"{full}{legacy}"))
        return builtin(full, emits=emits, dialect=Dialect.both, forms=own)(entry)

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
    import inspect

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


def into(ctx: Ctx, a: Args, dps: bool, shape: tuple[int, ...], dtype: Dtype, inputs: list[View],
         write: Write, *, par_axis: int | None = 0, mask: Predicate | None = None) -> Value:
    """Write into ``dst`` (destination passing, returning None) or into a new SBUF tile of
    ``shape`` (``dtype`` unless the call's ``dtype=`` says otherwise), returned."""
    if dps:
        write(ctx, view_arg(ctx, a["dst"], "dst"))
        return None
    return result(ctx, shape, out_dtype(ctx, a, dtype), lambda c, d, acc: write(c, d), inputs=inputs,
                  par_axis=par_axis, mask=mask)
