"""One registry of every builtin function and constant the tracer knows.

The Python builtins (``klr.tracer.pybuiltins``, ``klr.tracer.pymath``) and a front end's
library (``klr.tracer.nki``) register here when they are imported; ``lookup`` is what the
evaluator uses to resolve dotted names, and ``entries`` drives ``klr list`` and the
generated docs.

Registering a builtin::

    @builtin("nki.language.exp", "nki.language.exponential", emits=("ncActivate",),
             dialect=Dialect.legacy)
    def exp(ctx, x, *, dtype=None, mask=None): ...

* Names are fully qualified (``nki.language.exp``, ``numpy.add``, ``math.ceil``,
  ``builtins.len``). The first name is the primary one; the others are aliases. Gathered
  code's ``neuronxcc.nki.X`` is normalised to ``nki.X`` before lookup.
* The impl's first parameter is the ``Ctx``; the remaining parameters (names, defaults,
  positional-only / keyword-only, ``*args``, ``**kwargs``) are read from its signature and
  are what the user-facing call accepts. Arguments are checked against them before the
  impl runs: too many positional arguments, an unknown or repeated keyword and a missing
  required argument are TraceErrors at the call position naming the builtin, so impls may
  rely on getting exactly their parameters. Defaults are the impl's own Python defaults.
* ``dialect`` (a ``Dialect``) says which flavour of a library's API a name belongs to. NKI
  has two: ``legacy`` (``neuronxcc.nki``, value-returning ops) and ``beta2`` (``import nki``,
  destination-passing ISA calls); ``both`` is the same behaviour in either and ``python``
  marks Python's builtins, ``math``, ``functools``... One name may have a legacy and a beta2
  entry; the kernel's dialect (``Ctx.dialect``, from ``Library.dialect``) picks one, and a
  name registered for one dialect only is found in both.
* ``emits`` lists the Core operator constructors (``ncActivate``) the builtin may emit,
  for documentation.
* The impl receives evaluated values (Python values or TraceObjects) and returns a value.

A builtin is also a value: ``lookup`` returns a ``BuiltinFn`` TraceObject (one per entry, so
``op is nl.add`` style identity holds) whose ``name`` is the primary qualified name; the NKI
layer maps ``op=nl.add`` / ``op=np.add`` to ALU ops through that name.

``constant("nki.language.float32", value, doc=...)`` registers a constant: ``lookup``
returns ``value`` itself. ``kernel_constant("nki.language.tile_size.total_available_sbuf_size",
fn, doc=...)`` registers a value that depends on the kernel: the evaluator calls ``fn(ctx)`` once
per traced body and binds the result (``lookup`` returns a ``KernelConstant``).

A dotted prefix of registered names (``nki``, ``nki.language``, ``numpy``) is a module:
``lookup`` returns a ``ModuleValue`` whose attributes are looked up as ``prefix.attr``.

``defer({module: names})`` declares names a module registers without importing it: the first
``lookup`` of one of them imports the module (``entries`` imports them all), so a trace pays
only for the builtins it calls.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import FunctionType
from typing import TYPE_CHECKING, Any

from klr.schema import record
from klr.tracer.limits import STEPS_PER_BUILTIN
from klr.tracer.templates import made
from klr.tracer.values import TraceObject, Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

__all__ = [
    "Dialect", "ParamKind", "Param", "Entry", "BuiltinFn", "ModuleValue", "builtin", "constant",
    "lookup", "entries", "method", "normalise", "REQUIRED", "kernel_constant", "KernelConstant",
    "MISSING", "Binder", "Unsupported", "unsupported", "short_name", "defer",
]


class Dialect(str, enum.Enum):
    """The flavour of a library's API a registered name belongs to (see the module docstring)."""

    legacy = "legacy"
    beta2 = "beta2"
    both = "both"
    python = "python"

    def __str__(self) -> str:
        return self.value


class ParamKind(enum.Enum):
    positional_only = "positional-only"
    positional = "positional-or-keyword"
    var_positional = "*args"
    keyword_only = "keyword-only"
    var_keyword = "**kwargs"


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Value = _Required()
"""The ``Param.default`` of a parameter without a default."""

# ``inspect`` (with the ``dis``, ``tokenize`` and ``ast`` it imports) is imported only for a
# builtin that is not a plain function, a two-form builtin's binding error, or a docstring: most
# traces need none of these.
_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08  # inspect.CO_VARARGS, inspect.CO_VARKEYWORDS


def _kinds() -> dict[Any, ParamKind]:
    """``inspect``'s parameter kinds as ours."""
    import inspect

    return {
        inspect.Parameter.POSITIONAL_ONLY: ParamKind.positional_only,
        inspect.Parameter.POSITIONAL_OR_KEYWORD: ParamKind.positional,
        inspect.Parameter.VAR_POSITIONAL: ParamKind.var_positional,
        inspect.Parameter.KEYWORD_ONLY: ParamKind.keyword_only,
        inspect.Parameter.VAR_KEYWORD: ParamKind.var_keyword,
    }


def __getattr__(name: str) -> Any:
    if name == "_KINDS":  # (the table, made on demand)
        return _kinds()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@record
class Param:
    name: str
    kind: ParamKind
    default: Value = REQUIRED

    def __str__(self) -> str:
        if self.kind is ParamKind.var_positional:
            return f"*{self.name}"
        if self.kind is ParamKind.var_keyword:
            return f"**{self.name}"
        return self.name if self.default is REQUIRED else f"{self.name}={self.default!r}"


@record
class _Plan:
    """What argument checking needs, precomputed from the signature."""

    max_positional: int          # -1: unbounded (*args)
    positional_names: tuple[str, ...]
    keyword_names: frozenset[str]
    any_keyword: bool            # **kwargs
    required: tuple[str, ...]
    required_positional: int     # number of leading positional params without defaults
    fast_min: int                # without keywords, this many positional arguments or more
    fast_max: int                # (up to this many) need no further checking


class Entry:
    """One registered name: a builtin (``impl`` set) or a constant (``value`` set). ``doc`` of a
    builtin registered without one is its implementation's docstring, read when first asked for.
    ``forms``: (dialect, signature) of each dialect's own form, where they differ."""

    __slots__ = ("_doc", "aliases", "dialect", "emits", "fn", "forms", "impl", "name", "params", "value")

    def __init__(self, name: str, aliases: tuple[str, ...], dialect: Dialect, doc: str | None,
                 impl: Callable[..., Value] | None = None, params: tuple[Param, ...] = (),
                 emits: tuple[str, ...] = (), value: Value = None, fn: BuiltinFn | None = None,
                 forms: tuple[tuple[str, str], ...] = ()) -> None:
        self.name = name
        self.aliases = aliases
        self.dialect = dialect
        self._doc = doc
        self.impl = impl
        self.params = params
        self.emits = emits
        self.value = value
        self.fn = fn
        self.forms = forms

    @property
    def doc(self) -> str:
        if self._doc is None:
            import inspect

            self._doc = inspect.getdoc(self.impl) or ""
        return self._doc

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in
                          ("name", "aliases", "dialect", "doc", "impl", "params", "emits", "value", "forms"))
        return f"Entry({shown})"

    @property
    def kind(self) -> str:
        if self.impl is not None:
            return "builtin"
        if isinstance(self.value, Unsupported):
            return "unsupported"
        return "kernel constant" if isinstance(self.value, KernelConstant) else "constant"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def signature(self) -> str:
        return f"{self.name}({', '.join(map(str, self.params))})"

    def resolved(self) -> Value:
        return self.fn if self.fn is not None else self.value


def _params_of(impl: Callable[..., Value]) -> tuple[Param, ...]:
    if type(impl) is FunctionType and not hasattr(impl, "__signature__") \
            and not hasattr(impl, "__wrapped__"):
        return _code_params(impl)
    import inspect

    kinds = _kinds()
    sig = inspect.signature(impl)
    ps = list(sig.parameters.values())
    if not ps:
        raise TypeError(f"builtin impl {impl.__qualname__} must take ctx as first parameter")
    return tuple(
        Param(p.name, kinds[p.kind], REQUIRED if p.default is inspect.Parameter.empty else p.default)
        for p in ps[1:]
    )


def _code_params(impl: FunctionType) -> tuple[Param, ...]:
    """``_params_of`` a plain function, read from its code object as ``inspect.signature`` does
    (in its order: positional, ``*args``, keyword-only, ``**kwargs``), several times faster."""
    code = impl.__code__
    names = code.co_varnames
    npos, nkw = code.co_argcount, code.co_kwonlyargcount
    defaults = impl.__defaults__ or ()
    kwdefaults = impl.__kwdefaults__ or {}
    first_default = npos - len(defaults)
    posonly = code.co_posonlyargcount
    params = [Param(names[i], ParamKind.positional_only if i < posonly else ParamKind.positional,
                    defaults[i - first_default] if i >= first_default else REQUIRED)
              for i in range(npos)]
    extra = npos + nkw
    if code.co_flags & _CO_VARARGS:
        params.append(Param(names[extra], ParamKind.var_positional))
        extra += 1
    params += [Param(n, ParamKind.keyword_only, kwdefaults.get(n, REQUIRED)) for n in names[npos:npos + nkw]]
    if code.co_flags & _CO_VARKEYWORDS:
        params.append(Param(names[extra], ParamKind.var_keyword))
    if not params:
        raise TypeError(f"builtin impl {impl.__qualname__} must take ctx as first parameter")
    return tuple(params[1:])


def _plan_of(params: tuple[Param, ...]) -> _Plan:
    positional = tuple(p.name for p in params if p.kind in (ParamKind.positional_only, ParamKind.positional))
    has_var = any(p.kind is ParamKind.var_positional for p in params)
    keywords = frozenset(p.name for p in params if p.kind in (ParamKind.positional, ParamKind.keyword_only))
    required = tuple(p.name for p in params if p.default is REQUIRED
                     and p.kind not in (ParamKind.var_positional, ParamKind.var_keyword))
    req_pos = 0
    for p in params:
        if p.kind in (ParamKind.positional_only, ParamKind.positional) and p.default is REQUIRED:
            req_pos += 1
        else:
            break
    max_pos = -1 if has_var else len(positional)
    only_positional_required = len(required) == req_pos
    return _Plan(max_pos, positional, keywords, any(p.kind is ParamKind.var_keyword for p in params),
                 required, req_pos, req_pos if only_positional_required else 1 << 30,
                 (1 << 30) if has_var else len(positional))


class BuiltinFn(TraceObject):
    """A builtin as a value: callable, and identifiable by ``name``.

    ``bound`` holds leading arguments supplied already (a method's ``self``): calling
    ``f(a)`` runs ``impl(ctx, *bound, a)``; ``name`` is still the qualified name. A call adds
    ``name`` to ``ctx.used`` unless ``tracked`` is False: a builtin with two dialect forms
    records the form each call picks in ``ctx.used_forms`` itself.
    """

    __slots__ = ("_plan", "bound", "impl", "name", "params", "tracked")
    type_name = "builtin_function"

    def __init__(self, name: str, impl: Callable[..., Value], params: tuple[Param, ...] | None = None,
                 bound: tuple[Value, ...] = ()) -> None:
        self.name = name
        self.impl = impl
        self.params = _params_of(impl) if params is None else params
        self.bound = bound
        self._plan = _plan_of(self.params)
        self.tracked = True

    def bind(self, *leading: Value) -> BuiltinFn:
        """The same builtin with ``leading`` arguments fixed (a bound method)."""
        out = BuiltinFn.__new__(BuiltinFn)
        out.name, out.impl, out.params = self.name, self.impl, self.params
        out.bound = self.bound + leading
        out._plan = self._plan
        out.tracked = self.tracked
        return out

    def call(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Value:
        if self.bound:
            args = self.bound + args
        self.check_args(ctx, args, kwargs)
        if self.tracked:
            ctx.used.add(self.name)
        budget = ctx.budget
        budget.steps -= STEPS_PER_BUILTIN
        if budget.steps < budget.mark:
            budget.tick(ctx)
        if ctx.template is not None:   # a loop template's probe: note the iterators it makes
            got = self.impl(ctx, *args, **kwargs)
            return made(ctx.template, got) if isinstance(got, Iterator) else got
        return self.impl(ctx, *args, **kwargs)

    @property
    def display_name(self) -> str:
        """The name as users write it (Python builtins without their ``builtins.`` module)."""
        return self.name[len("builtins."):] if self.name.startswith("builtins.") else self.name

    def check_args(self, ctx: Ctx, args: tuple[Value, ...], kwargs: dict[str, Value]) -> None:
        plan = self._plan
        nargs = len(args)
        if not kwargs and plan.fast_min <= nargs <= plan.fast_max:
            return
        if 0 <= plan.max_positional < nargs:
            shown = nargs - len(self.bound)
            allowed = plan.max_positional - len(self.bound)
            raise ctx.error(f"{self.display_name}() takes {_count(allowed, 'positional argument')} "
                            f"but {shown} {'was' if shown == 1 else 'were'} given")
        if kwargs:
            for k in kwargs:
                if k not in plan.keyword_names and not plan.any_keyword:
                    raise ctx.error(f"{self.display_name}() got an unexpected keyword argument '{k}'")
            for k in plan.positional_names[:nargs]:
                if k in kwargs:
                    raise ctx.error(f"{self.display_name}() got multiple values for argument '{k}'")
        if nargs < plan.required_positional or len(plan.required) > plan.required_positional:
            for k in plan.required:
                if k not in kwargs and k not in plan.positional_names[:nargs]:
                    raise ctx.error(f"{self.display_name}() missing required argument '{k}'")

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "__name__":
            return self.name.rsplit(".", 1)[-1]
        if name == "__qualname__":
            return self.name
        return super().getattr(ctx, name)

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


class Binder:
    """``inspect.Signature.bind`` followed by ``apply_defaults``, precomputed for speed, over
    ``params`` (``REQUIRED``: no default).

    ``bind`` returns the arguments by parameter name, in parameter order, defaults filled in,
    exactly as ``inspect`` would; it returns None for any call that ``inspect`` would reject
    (or that needs ``*args``/``**kwargs``), and the caller then binds with ``inspect`` to get
    its error. Binding with ``inspect`` costs several microseconds per call.
    """

    __slots__ = ("defaults", "keywords", "names", "positional")

    def __init__(self, params: tuple[Param, ...]) -> None:
        plain = all(p.kind in (ParamKind.positional_only, ParamKind.positional, ParamKind.keyword_only)
                    for p in params)
        self.names = tuple(p.name for p in params)
        self.defaults = tuple(p.default for p in params)
        # -1: never bind here (the signature has *args or **kwargs)
        self.positional = sum(1 for p in params if p.kind is not ParamKind.keyword_only) if plain else -1
        self.keywords = frozenset(p.name for p in params if p.kind is not ParamKind.positional_only)

    def bind(self, args: tuple[Value, ...], kwargs: dict[str, Value]) -> dict[str, Value] | None:
        nargs = len(args)
        if nargs > self.positional:
            return None
        out = dict(zip(self.names, args))
        for k in kwargs:
            if k in out or k not in self.keywords:
                return None
        for name, default in zip(self.names[nargs:], self.defaults[nargs:]):
            value = kwargs.get(name, default)
            if value is REQUIRED:
                return None
            out[name] = value
        return out


def method(name: str, impl: Callable[..., Value], self_: Value) -> BuiltinFn:
    """A bound method value for ``getattr`` implementations: ``impl(ctx, self_, ...)``.

    ``name`` is used in argument-error messages (e.g. ``"tensor.reshape"``). The
    signature is read once per impl and cached.
    """
    fn = _METHODS.get(impl)
    if fn is None or fn.name != name:
        fn = BuiltinFn(name, impl)
        _METHODS[impl] = fn
    return fn.bind(self_)


_METHODS: dict[Callable[..., Value], BuiltinFn] = {}


class ModuleValue(TraceObject):
    """A dotted prefix of registered names (``nki.language``) used as a value."""

    __slots__ = ("dialect", "name")
    type_name = "module"

    def __init__(self, name: str, dialect: Dialect) -> None:
        self.name = name
        self.dialect = dialect

    def getattr(self, ctx: Ctx, name: str) -> Value:
        full = f"{self.name}.{name}"
        got = ctx.resolve_qualified(full)
        if got is _MISSING:
            raise ctx.error(f"module '{self.name}' has no attribute '{name}'")
        return got

    def __repr__(self) -> str:
        return f"<module '{self.name}'>"


# --- The table -------------------------------------------------------------------------------

_by_name: dict[str, list[Entry]] = {}
_entries: list[Entry] = []
_prefixes: set[str] = set()
_resolved: dict[tuple[str, Dialect], Value] = {}
_deferred: dict[str, tuple[str, ...]] = {}  # name -> modules that register it, maybe not imported yet
_MISSING: Value = object()
MISSING = _MISSING
"""What ``lookup`` returns for an unknown name."""


def _add(entry: Entry) -> None:
    entry.dialect = Dialect(entry.dialect)  # (callers may name it: "legacy")
    for n in entry.names:
        if n.startswith("neuronxcc."):
            raise ValueError(f"register {n} under its normalised name (without 'neuronxcc.')")
        for other in _by_name.get(n, ()):
            if not _disjoint(other.dialect, entry.dialect):
                raise ValueError(f"{n} registered twice (dialects {other.dialect}, {entry.dialect})")
        _by_name.setdefault(n, []).append(entry)
        parts = n.split(".")
        for i in range(1, len(parts)):
            _prefixes.add(".".join(parts[:i]))
    _entries.append(entry)
    _resolved.clear()


def _disjoint(a: Dialect, b: Dialect) -> bool:
    return {a, b} == {Dialect.legacy, Dialect.beta2}


def builtin(name: str, *aliases: str, emits: tuple[str, ...] = (), dialect: Dialect = Dialect.both,
            doc: str | None = None, forms: tuple[tuple[str, str], ...] = (),
            params: tuple[Param, ...] | None = None,
            ) -> Callable[[Callable[..., Value]], Callable[..., Value]]:
    """Register ``impl`` under ``name`` (and ``aliases``); returns ``impl`` unchanged. ``params``:
    its parameters after ``ctx``, when not those of its own signature."""

    def wrap(impl: Callable[..., Value]) -> Callable[..., Value]:
        ps = _params_of(impl) if params is None else params
        entry = Entry(name, aliases, dialect, doc, impl=impl, params=ps, emits=emits, forms=forms)
        entry.fn = BuiltinFn(name, impl, ps)
        entry.fn.tracked = not forms  # (the impl records the form of each call)
        _add(entry)
        return impl

    return wrap


def defer(names: Mapping[str, Iterable[str]]) -> None:
    """Declare the names each module (by its full name) registers, without importing it: the
    module is imported when one of its names is first looked up, or by ``entries``."""
    for module, registered in names.items():
        for n in registered:
            _deferred[n] = (*_deferred.get(n, ()), module)
            parts = n.split(".")
            for i in range(1, len(parts)):
                _prefixes.add(".".join(parts[:i]))
    _resolved.clear()


def _import_deferred(name: str) -> None:
    for module in _deferred.pop(name, ()):
        importlib.import_module(module)


def constant(name: str, value: Value, *, doc: str = "", dialect: Dialect = Dialect.both,
             aliases: tuple[str, ...] = ()) -> None:
    """Register a constant value under ``name``."""
    _add(Entry(name, aliases, dialect, doc, value=value))


class KernelConstant:
    """A registered value computed per traced body: ``fn(ctx)``."""

    __slots__ = ("fn", "name")

    def __init__(self, name: str, fn: Callable[[Ctx], Value]) -> None:
        self.name = name
        self.fn = fn

    def __repr__(self) -> str:
        return f"<kernel constant {self.name}>"


def kernel_constant(name: str, fn: Callable[[Ctx], Value], *, doc: str = "", dialect: Dialect = Dialect.both,
                    aliases: tuple[str, ...] = ()) -> None:
    """Register a value computed from the kernel's ``Ctx`` (``arch``, ``grid``...)."""
    _add(Entry(name, aliases, dialect, doc, value=KernelConstant(name, fn)))


class Unsupported:
    """The value of a name klr knows but does not support: looking it up is an error saying why."""

    __slots__ = ("name", "why")

    def __init__(self, name: str, why: str) -> None:
        self.name = name
        self.why = why

    def message(self) -> str:
        return f"{short_name(self.name)} is not supported: {self.why}"

    def __repr__(self) -> str:
        return f"<unsupported: {self.why}>"


def unsupported(name: str, why: str, *aliases: str) -> None:
    """Register ``name`` as known but unsupported: a kernel using it gets ``message()``."""
    _add(Entry(name, aliases, Dialect.both, why, value=Unsupported(name, why)))


_SHORT = (("nki.language.", "nl."), ("nki.isa.", "nisa."))


def short_name(name: str) -> str:
    """``nki.language.x`` -> ``nl.x``, ``nki.isa.x`` -> ``nisa.x`` (the spelling kernels use)."""
    for long, short in _SHORT:
        if name.startswith(long):
            return short + name[len(long):]
    return name


def normalise(name: str) -> str:
    """``neuronxcc.nki.X`` -> ``nki.X``; other names unchanged."""
    if name.startswith("neuronxcc."):
        return name[len("neuronxcc."):]
    return name


def lookup(name: str, dialect: Dialect = Dialect.beta2) -> Value:
    """The value bound to a qualified name for a kernel of ``dialect``, or ``MISSING``.

    A builtin yields its ``BuiltinFn``, a constant its value, a prefix of registered names a
    ``Module``.
    """
    key = (name, dialect)
    got = _resolved.get(key, _MISSING)
    if got is not _MISSING:
        return got
    full = normalise(name)
    if full in _deferred:
        _import_deferred(full)
    cands = _by_name.get(full)
    if cands:
        pick = next((e for e in cands if e.dialect == dialect), cands[0])
        got = pick.resolved()
    elif full in _prefixes:
        got = ModuleValue(full, dialect)
    else:
        got = _MISSING
    _resolved[key] = got
    return got


def entries() -> Iterator[Entry]:
    """Every entry registered so far, sorted by primary name (``klr.tracer.entries`` loads the
    NKI library first)."""
    while _deferred:
        _import_deferred(next(iter(_deferred)))
    return iter(sorted(_entries, key=lambda e: (e.name, e.dialect)))
