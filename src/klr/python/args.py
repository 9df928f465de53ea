"""Kernel arguments: command-line specs, JSON argument files and Python values, as AST Exprs.

Command-line forms (``--arg``), each optionally prefixed by ``NAME=`` to bind a parameter
by name (without it the spec binds the next positional parameter)::

    float32[128,512]        a tensor argument: Const.tensor(shape, dtype)
    3  2.5  True  None  'relu'  (1, 2)
                            a Python literal (ast.literal_eval)
    nl.bfloat16  np.add  nisa.reduce_cmd.reset  bfloat16
                            a library object, kept as a qualified symbolic name
    Mode.POST  configs.Mode.POST
                            a name defined in the kernel's modules (an enum member, a
                            constant), resolved by gather where the kernel is defined

An argument file (``--args-json``) holds a JSON list (positional) or object (by name) of
such strings, JSON numbers/booleans/null/arrays, or ``{"shape": [..], "dtype": ".."}``.
"""

from __future__ import annotations

import ast
import contextlib
import enum
import re
from collections.abc import Mapping
from typing import Any

from klr import files
from klr.dtypes import NKI_NAMES, Dtype, from_numpy, nki_name
from klr.errors import UsageError
from klr.limits import FileLimits
from klr.pos import NOPOS, Pos
from klr.python import ast as K

INT64_MAX = 2**63 - 1

#: Conventional import aliases of library modules, and the qualified names they stand for.
MODULE_ALIASES = {
    "np": "numpy", "numpy": "numpy",
    "nl": "nki.language", "nisa": "nki.isa", "nt": "nki.typing", "nccl": "nki.nccl",
    "nki": "nki", "neuronxcc.nki": "nki",
    "math": "math",
}

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Compiled on first use (re keeps them): a command without --arg compiles none.
_BINDING = rf"^\s*({_NAME})\s*=(?!=)\s*(.*)$"
_TENSOR = rf"^\s*({_NAME}(?:\.{_NAME})*)\s*\[\s*([0-9,\s]*)\]\s*$"
_DOTTED = rf"^\s*{_NAME}(?:\.{_NAME})*\s*$"


def valid_dtypes() -> str:
    return ", ".join(sorted(NKI_NAMES))


def dtype_name(text: str) -> str:
    """The NKI spelling of a dtype given as ``float32``, ``nl.bfloat16`` or ``np.float16``."""
    key = text.strip().rsplit(".", 1)[-1]
    if key not in NKI_NAMES:
        raise UsageError(f"unknown dtype '{text}'; valid dtypes are: {valid_dtypes()}")
    return nki_name(NKI_NAMES[key])


def tensor_expr(shape: tuple[int, ...], dtype: str, pos: Pos = NOPOS) -> K.Expr:
    for dim in shape:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 0:
            raise UsageError(f"tensor dimensions must be non-negative integers, got {list(shape)}")
    return K.Expr(K.ConstExpr(K.CTensor(tuple(shape), dtype_name(dtype))), pos)


def qualify(dotted: str) -> str:
    """``nl.exp`` -> ``nki.language.exp``; ``neuronxcc.nki.isa.x`` -> ``nki.isa.x``. Any other
    dotted name (``Mode.POST``) is kept as written: gather resolves it in the kernel's module
    (``klr.python.gather``), so an argument can be a member of the kernel's own enum."""
    dotted = dotted.strip()
    for prefix in ("neuronxcc.nki", *sorted(MODULE_ALIASES, key=len, reverse=True)):
        if dotted == prefix or dotted.startswith(prefix + "."):
            return MODULE_ALIASES.get(prefix, "nki") + dotted[len(prefix):]
    if dotted in NKI_NAMES:
        return f"nki.language.{dotted}"
    return dotted


#: The roots of qualified library names; an argument's name with another root is the user's.
LIBRARY_ROOTS = frozenset(MODULE_ALIASES.values())


def parse_value(text: str, pos: Pos = NOPOS) -> K.Expr:
    """One argument value from its command-line spelling."""
    tensor = re.match(_TENSOR, text)
    if tensor:
        dims = [d.strip() for d in tensor.group(2).split(",") if d.strip()]
        return tensor_expr(tuple(int(d) for d in dims), tensor.group(1), pos)
    try:
        literal = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if re.match(_DOTTED, text):
            return K.Expr(K.Name(qualify(text)), pos)
        raise UsageError(f"cannot parse argument '{text}': expected DTYPE[D0,D1,...], "
                         "a Python literal or a dotted NKI/numpy name") from None
    return value_expr(literal, pos)


def parse_arg_spec(text: str, pos: Pos = NOPOS) -> tuple[str | None, K.Expr]:
    """``NAME=VALUE`` or ``VALUE``: the parameter name (None: next positional) and the value."""
    bound = re.match(_BINDING, text, re.S)
    if bound and not _is_literal(text):
        return bound.group(1), parse_value(bound.group(2), pos)
    return None, parse_value(text, pos)


def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def parse_arg_specs(specs: list[str]) -> tuple[list[K.Expr], dict[str, K.Expr]]:
    """Many ``--arg`` specs: positional values in order, then named ones."""
    args: list[K.Expr] = []
    kwargs: dict[str, K.Expr] = {}
    for spec in specs:
        name, value = parse_arg_spec(spec)
        if name is None:
            if kwargs:
                raise UsageError(f"positional argument '{spec}' follows a named argument")
            args.append(value)
        elif name in kwargs:
            raise UsageError(f"argument '{name}' given more than once")
        else:
            kwargs[name] = value
    return args, kwargs


def json_value(value: Any) -> K.Expr:
    """One argument from an argument file: a spec string, a JSON literal, or a tensor object."""
    match value:
        case str():
            return parse_value(value)
        case {"shape": shape, "dtype": str(dtype)} if isinstance(shape, list):
            return tensor_expr(tuple(shape), dtype)
        case dict():
            import json  # here, not at the top: a trace without --args-json never needs it

            raise UsageError(f"argument object {json.dumps(value)} must have exactly 'shape' and 'dtype'")
        case list():
            return K.Expr(K.TupleExpr(tuple(json_value(v) for v in value)))
    return value_expr(value)


def parse_arg_json(path: str, max_bytes: int | None = None) -> tuple[list[K.Expr], dict[str, K.Expr]]:
    """An ``--args-json`` file: a JSON list of positional or an object of named arguments (a
    regular file of at most ``max_bytes``, default ``FileLimits.max_source_bytes``)."""
    import json

    limit = FileLimits().max_source_bytes if max_bytes is None else max_bytes
    raw = files.read_input(path, limit=limit, limit_name="max_source_bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"cannot read {path}: byte {e.start} is not UTF-8 (JSON is text)") from None

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > 20:
            raise UsageError(f"{path}: the JSON number {digits[:20]}... has {len(digits)} digits; "
                             "integer arguments must fit in 64 bits")
        return int(digits)

    try:
        data = json.loads(text, parse_int=integer)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    except RecursionError:
        raise UsageError(f"{path}: the JSON arguments are nested too deeply") from None
    try:
        match data:
            case list():
                return [json_value(v) for v in data], {}
            case dict():
                return [], {str(k): json_value(v) for k, v in data.items()}
    except RecursionError:
        raise UsageError(f"{path}: the JSON arguments are nested too deeply") from None
    raise UsageError(f"{path} must hold a JSON list or object of arguments")


def value_expr(value: Any, pos: Pos = NOPOS) -> K.Expr:
    """A Python value given to the kernel: scalars, containers, arrays (shape and dtype only)."""
    if isinstance(value, K.Expr):
        return value if value.pos.line else K.Expr(value.expr, pos)
    kind = _scalar(value)
    if kind is not None:
        return K.Expr(K.ConstExpr(kind), pos)
    match value:
        case tuple():
            return K.Expr(K.TupleExpr(tuple(value_expr(v, pos) for v in value)), pos)
        case list():
            return K.Expr(K.ListExpr(tuple(value_expr(v, pos) for v in value)), pos)
        case Mapping():
            keys = tuple(value_expr(k, pos) for k in value)
            return K.Expr(K.DictExpr(keys, tuple(value_expr(v, pos) for v in value.values())), pos)
        case Dtype():
            return K.Expr(K.Name(f"nki.language.{nki_name(value)}"), pos)
        case enum.Enum():  # a member of the kernel's own enum, found by name in its modules
            return K.Expr(K.Name(f"{type(value).__name__}.{value.name}"), pos)
    return _library_value(value, pos)


def _scalar(value: Any) -> K.Const | None:
    match value:
        case None:
            return K.CNone()
        case bool():
            return K.CBool(value)
        case int():
            if abs(value) > INT64_MAX:
                raise UsageError(f"integer argument {value} does not fit in 64 bits")
            return K.CInt(value)
        case float():
            return K.CFloat(value)
        case str():
            return K.CString(value)
    if value is Ellipsis:
        return K.CEllipsis()
    return None


def _library_value(value: Any, pos: Pos) -> K.Expr:
    """numpy arrays, scalars, dtypes and functions (``np.add``), ml_dtypes types, objects that
    name a library value (a ``__klr_name__`` string, as klr's ``nki`` modules give ``nl.add``
    and ``nl.sbuf``), and other array-likes (``.shape`` + ``.dtype``)."""
    named = getattr(value, "__klr_name__", None)
    if isinstance(named, str):
        return K.Expr(K.Name(qualify(named)), pos)
    module = type(value).__module__ or ""
    if module == "numpy" or module.startswith("numpy."):
        import numpy as np

        if isinstance(value, np.ndarray):
            return tensor_expr(tuple(int(d) for d in value.shape), _numpy_dtype_name(value.dtype), pos)
        if isinstance(value, np.generic):
            return value_expr(value.item(), pos)
        if isinstance(value, np.dtype):
            return K.Expr(K.Name(f"numpy.{value.name}"), pos)
        if callable(value) and isinstance(getattr(value, "__name__", None), str):
            return K.Expr(K.Name(f"numpy.{value.__name__}"), pos)  # np.add, np.exp
    if isinstance(value, type) and (value.__module__ or "").startswith("numpy"):
        return K.Expr(K.Name(f"numpy.{value.__name__}"), pos)
    if isinstance(value, type) and (value.__module__ or "").startswith("ml_dtypes"):
        return K.Expr(K.Name(f"nki.language.{_numpy_dtype_name(value)}"), pos)
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return tensor_expr(tuple(int(d) for d in shape), _numpy_dtype_name(dtype), pos)
    raise UsageError(f"cannot pass a value of type {type(value).__name__} to a kernel")


def _numpy_dtype_name(dtype: Any) -> str:
    core = None
    with contextlib.suppress(TypeError):
        core = from_numpy(dtype)
    if core is not None:
        return nki_name(core)
    return dtype_name(str(dtype))
