"""The Python side of KLR: the Python AST (``klr.python.ast``) and gather.

Reading a KLR file needs only the AST; gather and argument parsing are imported on first use."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klr.python.args import parse_arg_json, parse_arg_spec, parse_arg_specs
    from klr.python.gather import gather, gather_file

__all__ = ["gather", "gather_file", "parse_arg_spec", "parse_arg_specs", "parse_arg_json"]

_HOMES = {"gather": "gather", "gather_file": "gather", "parse_arg_spec": "args",
          "parse_arg_specs": "args", "parse_arg_json": "args"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'klr.python' has no attribute {name!r}")
    return getattr(import_module(f"klr.python.{home}"), name)
