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
from klr.tracer.registry import REQUIRED, Binder, Dialect, Param, ParamKind, builtin
from klr.tracer.values import Value

if TYPE_CHECKING:
    import inspect

    from klr.tracer.context import Ctx

__all__ = ["ISA", "UNSET", "Form", "Impl", "Write", "bind_or_raise", "cleandoc", "form", "into", "isa",
           "union"]

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


class Form:
    """The signature of one form: positional-or-keyword parameters, printed as ``inspect``
    prints a signature. ``inspect`` itself (~4 ms to import, with what it imports) is needed
    only to word a call's binding error."""

    __slots__ = ("names", "params")

    def __init__(self, params: tuple[Param, ...]) -> None:
        self.params = params
        self.names = tuple(p.name for p in params)

    def __str__(self) -> str:
        return f"({', '.join(map(str, self.params))})"

    def signature(self) -> inspect.Signature:
        import inspect

        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        return inspect.Signature([inspect.Parameter(p.name, kind) if p.default is REQUIRED
                                  else inspect.Parameter(p.name, kind, default=p.default)
                                  for p in self.params])


def form(*required: str, **defaults: object) -> Form:
    """The signature of one form: its required parameters, then those with defaults, in order."""
    return Form(tuple(Param(n, ParamKind.positional) for n in required)
                + tuple(Param(n, ParamKind.positional, d) for n, d in defaults.items()))


def cleandoc(doc: str) -> str:
    """``inspect.cleandoc``: the docstring without its first line's leading space, the other
    lines' common indentation, and leading and trailing blank lines."""
    lines = doc.expandtabs().split("\n")
    margins = [len(line) - len(line.lstrip()) for line in lines[1:] if line.lstrip()]
    lines[0] = lines[0].lstrip()
    if margins:
        margin = min(margins)
        lines[1:] = [line[margin:] for line in lines[1:]]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


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


def isa(name: str, *, beta2: Form, legacy: Form | None = None, legacy_tensors: int | None = None,
        emits: tuple[str, ...] = ()) -> Callable[[Impl], Callable[..., Value]]:
    """Register ``nki.isa.<name>`` with its destination-passing form and, when it has one, its
    legacy form; return the registered function."""
    full = ISA + name
    if legacy is not None and "name" not in legacy.names:  # a label for the compiler's listings
        legacy = Form((*legacy.params, Param("name", ParamKind.positional, None)))
    forms = {True: beta2} | ({} if legacy is None else {False: legacy})
    binders = {dps: Binder(f.params) for dps, f in forms.items()}

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
                got = bind_or_raise(ctx, full, forms[dps].signature(), args, kwargs)
            for k, v in got.items():
                if v is UNSET:
                    raise ctx.error(f"{full}() missing required argument '{k}'")
            if got.get("mask", False) is None:  # an operand's own mask (``x[i][mask]``) masks the call
                got["mask"] = next((v.mask for v in got.values()
                                    if isinstance(v, MaskedOperand)), None)
            return impl(ctx, got, dps)

        listed = [f"``{name}{beta2}`` (destination passing)"]
        if legacy is not None:
            listed.append(f"``{name}{legacy}`` (legacy, returns the result)")
        entry.__name__ = entry.__qualname__ = impl.__name__
        entry.__doc__ = cleandoc(impl.__doc__ or "") + "\n\nForms: " + "; ".join(listed) + "."
        entry.__wrapped__ = impl  # type: ignore[attr-defined]  # the implementation, for tests
        own = () if legacy is None else ((str(Dialect.beta2), f"{full}{beta2}"),
                                         (str(Dialect.legacy), f"{full}{legacy}"))
        return builtin(full, emits=emits, dialect=Dialect.both, forms=own,
                       params=union(beta2, legacy))(entry)

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


def union(b2: Form, lg: Form | None) -> tuple[Param, ...]:
    """The parameters (after ``ctx``) that accept both forms, for argument checking and
    documentation: the beta 2 form's, then the legacy form's others, keyword-only; a
    parameter without a default has ``UNSET``."""
    params = [Param(p.name, ParamKind.positional, UNSET if p.default is REQUIRED else p.default)
              for p in b2.params]
    if lg is not None:
        params += [Param(p.name, ParamKind.keyword_only, UNSET if p.default is REQUIRED else p.default)
                   for p in lg.params if p.name not in b2.names]
    return tuple(params)


def into(ctx: Ctx, a: Args, dps: bool, shape: tuple[int, ...], dtype: Dtype, inputs: list[View],
         write: Write, *, par_axis: int | None = 0, mask: Predicate | None = None) -> Value:
    """Write into ``dst`` (destination passing, returning None) or into a new SBUF tile of
    ``shape`` (``dtype`` unless the call's ``dtype=`` says otherwise), returned."""
    if dps:
        write(ctx, view_arg(ctx, a["dst"], "dst"))
        return None
    return result(ctx, shape, out_dtype(ctx, a, dtype), lambda c, d, acc: write(c, d), inputs=inputs,
                  par_axis=par_axis, mask=mask)
