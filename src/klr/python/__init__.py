"""The Python side of KLR: the Python AST (``klr.python.ast``) and gather."""

from klr.python.args import parse_arg_json, parse_arg_spec, parse_arg_specs
from klr.python.gather import gather, gather_file

__all__ = ["gather", "gather_file", "parse_arg_spec", "parse_arg_specs", "parse_arg_json"]
