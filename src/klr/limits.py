"""Resource limits: named numbers that bound what one command may read, compute or allocate.

Each phase keeps its limits as the fields of one class whose constructor takes every limit as
a keyword argument with a default: ``FileLimits`` below (files read by every command),
``klr.tracer.context.Limits`` (trace) and ``klr.interp.EvalLimits`` (eval). The command line
sets them by name with ``--limit NAME=VALUE`` (``-`` and ``_`` are the same in names), the API
with ``limits={"name": value}``. ``fields_of`` discovers the names from the constructor, so a
limit added to one of these classes can be set at once, without more code here; ``docs_of``
reads their descriptions from the class's ``DOCS`` or a dataclass field's ``metadata["doc"]``.

Values are non-negative integers (``_`` allowed between digits), optionally with a decimal
(``k``, ``M``, ``G``, ``T``) or binary (``Ki``, ``Mi``, ``Gi``, ``Ti``) suffix: ``8Gi`` is
8 * 2**30. A limit whose default is a float also takes a decimal number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from types import FunctionType
from typing import Any, ClassVar

from klr.errors import UsageError


class LimitSet:
    """A set of named limits, each a slot listed in ``DOCS`` with its meaning; prints and compares
    as a dataclass of those fields would. (A plain class rather than a dataclass, which would
    import ``dataclasses`` and ``inspect`` at every start.)"""

    __slots__ = ()
    DOCS: ClassVar[dict[str, str]] = {}

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.DOCS)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.DOCS)

    __hash__ = None  # type: ignore[assignment]  # (as a dataclass with eq and not frozen)


class FileLimits(LimitSet):
    """Limits on the files a command reads."""

    __slots__ = ("max_file_bytes", "max_source_bytes")
    DOCS: ClassVar[dict[str, str]] = {
        "max_file_bytes": "bytes of one .klr, .npy or shared-constant file",
        "max_source_bytes": "bytes of one Python source file (gather) or --args-json file",
    }

    def __init__(self, max_file_bytes: int = 2**31, max_source_bytes: int = 2**24) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_source_bytes = max_source_bytes


_SUFFIXES = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
# Compiled on first use (re keeps them), so that importing compiles nothing.
_NUMBER = r"^([0-9][0-9_]*)(|k|M|G|T|Ki|Mi|Gi|Ti)$"
_DECIMAL = r"^[0-9]+(\.[0-9]*)?$"


def flag_name(name: str) -> str:
    """How the command line spells limit ``name``."""
    return name.replace("_", "-")


def raise_hint(name: str) -> str:
    """The sentence ending a limit's error message."""
    return f"--limit {flag_name(name)}=N raises it"


def fields_of(cls: type) -> dict[str, Any]:
    """The limits of ``cls`` and their defaults: its constructor's keyword parameters."""
    own: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        own.update(vars(klass))
    init = own.get("__init__")
    if type(cls) is type and own.get("__new__") is object.__new__ and type(init) is FunctionType \
            and not hasattr(init, "__signature__") and not hasattr(init, "__wrapped__"):
        return _defaults(init)
    import inspect

    params = inspect.signature(cls).parameters.values()
    return {p.name: p.default for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is not p.empty}


def _defaults(init: FunctionType) -> dict[str, Any]:
    """``fields_of`` read from a plain ``__init__``'s code object, as ``inspect.signature`` would
    (without importing ``inspect``): the parameters with defaults, in order."""
    code = init.__code__
    names = code.co_varnames
    npos, nkw = code.co_argcount, code.co_kwonlyargcount
    defaults = init.__defaults__ or ()
    out = dict(zip(names[npos - len(defaults):npos], defaults))
    kwdefaults = init.__kwdefaults__ or {}
    out.update((n, kwdefaults[n]) for n in names[npos:npos + nkw] if n in kwdefaults)
    return out


def docs_of(cls: type) -> dict[str, str]:
    """One-line descriptions of the limits of a class (its ``DOCS``, or a dataclass field's
    ``metadata["doc"]``), when it has them."""
    docs: dict[str, str] | None = getattr(cls, "DOCS", None)
    if docs is not None:
        return dict(docs)
    if getattr(cls, "__dataclass_fields__", None) is None:
        return {}
    import dataclasses

    return {f.name: f.metadata["doc"] for f in dataclasses.fields(cls) if "doc" in f.metadata}


def parse_specs(specs: Sequence[str]) -> dict[str, str]:
    """``--limit NAME=VALUE`` options as a dict (a later option wins)."""
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--limit takes NAME=VALUE, got {spec!r}")
        out[name.strip()] = value.strip()
    return out


def build(classes: Sequence[type], given: Mapping[str, Any] | None, where: str) -> list[Any]:
    """One instance of each class in ``classes`` with the limits named in ``given`` set
    (values are strings from the command line or numbers from the API); ``where`` names the
    command in the error for an unknown limit."""
    known = [fields_of(cls) for cls in classes]
    settings: list[dict[str, Any]] = [{} for _ in classes]
    for raw, value in (given or {}).items():
        name = str(raw).replace("-", "_")
        found = False
        for fields, chosen in zip(known, settings):
            if name in fields:
                chosen[name] = _value(name, value, fields[name])
                found = True
        if not found:
            names = sorted({flag_name(n) for fields in known for n in fields})
            raise UsageError(f"unknown limit {raw!r} for {where}; the limits are: {', '.join(names)}")
    return [cls(**chosen) for cls, chosen in zip(classes, settings)]


def listing(classes: Sequence[type]) -> str:
    """The limits of ``classes`` with their defaults, one per line (``--limit help``)."""
    rows = []
    for cls in classes:
        docs = docs_of(cls)
        for name, default in fields_of(cls).items():
            rows.append((flag_name(name), str(default), docs.get(name, "")))
    width = max((len(r[0]) for r in rows), default=0)
    dwidth = max((len(r[1]) for r in rows), default=0)
    return "\n".join(f"{n:<{width}}  {d:>{dwidth}}  {doc}".rstrip() for n, d, doc in rows)


def _value(name: str, value: Any, default: Any) -> Any:
    kind = "a non-negative number" if isinstance(default, float) else "a non-negative integer"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageError(f"limit {flag_name(name)} takes {kind}, got {value!r}")
    if isinstance(default, float):
        try:
            number = float(value) if not isinstance(value, str) else _parse_float(name, value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number) or number < 0:
            raise UsageError(f"limit {flag_name(name)} takes {kind}, got {value!r}")
        return number
    if isinstance(value, str):
        return _parse_int(name, value)
    if isinstance(value, float) or value < 0:
        raise UsageError(f"limit {flag_name(name)} takes {kind}, got {value!r}")
    return value


def _parse_int(name: str, text: str) -> int:
    match = re.match(_NUMBER, text) if len(text) <= 40 else None
    if match is None or match.group(1).endswith("_") or "__" in match.group(1):
        raise UsageError(f"limit {flag_name(name)} takes a non-negative integer with an optional "
                         f"k, M, G, T, Ki, Mi, Gi or Ti suffix, got {_short(text)}")
    return int(match.group(1).replace("_", "")) * _SUFFIXES[match.group(2)]


def _parse_float(name: str, text: str) -> float:
    if len(text) > 40 or not re.match(_DECIMAL, text):
        raise UsageError(f"limit {flag_name(name)} takes a non-negative number, got {_short(text)}")
    return float(text)


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
