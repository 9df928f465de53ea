"""Kernel arguments: --arg specs, --args-json files, Python values, and binding to parameters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import Writer
from klr.dtypes import Dtype
from klr.errors import UsageError
from klr.pos import Pos
from klr.python import ast as K
from klr.python.args import parse_arg_json, parse_arg_spec, parse_arg_specs, value_expr


def const(c: K.Const) -> K.Expr:
    return K.Expr(K.ConstExpr(c))


def tensor(shape: tuple[int, ...], dtype: str) -> K.Expr:
    return const(K.CTensor(shape, dtype))


@pytest.mark.parametrize(("text", "name", "value"), [
    ("a=float32[128,512]", "a", tensor((128, 512), "float32")),
    ("bfloat16[ 4 , 8 ]", None, tensor((4, 8), "bfloat16")),
    ("x=nl.float16[2]", "x", tensor((2,), "float16")),
    ("s=float32[]", "s", tensor((), "float32")),
    ("t=tfloat32[1,2,]", "t", tensor((1, 2), "tfloat32")),
    ("f8=float8e4[1]", "f8", tensor((1,), "float8_e4m3")),
    ("n=3", "n", const(K.CInt(3))),
    ("-2.5", None, const(K.CFloat(-2.5))),
    ("flag=True", "flag", const(K.CBool(True))),
    ("None", None, const(K.CNone())),
    ("mode='relu'", "mode", const(K.CString("relu"))),
    ("'a=b'", None, const(K.CString("a=b"))),
    ("shape=(1, (2, 3))", "shape", K.Expr(K.TupleExpr((
        const(K.CInt(1)), K.Expr(K.TupleExpr((const(K.CInt(2)), const(K.CInt(3))))))))),
    ("op=np.add", "op", K.Expr(K.Name("numpy.add"))),
    ("dt=nl.bfloat16", "dt", K.Expr(K.Name("nki.language.bfloat16"))),
    ("nisa.reduce_cmd.reset", None, K.Expr(K.Name("nki.isa.reduce_cmd.reset"))),
    ("neuronxcc.nki.language.exp", None, K.Expr(K.Name("nki.language.exp"))),
    ("bfloat16", None, K.Expr(K.Name("nki.language.bfloat16"))),
])
def test_arg_specs(text: str, name: str | None, value: K.Expr) -> None:
    assert parse_arg_spec(text) == (name, value)


def test_bad_dtype_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError) as err:
        parse_arg_spec("a=float33[2,2]")
    assert err.value.message.startswith(
        "unknown dtype 'float33'; valid dtypes are: bfloat16, bool, bool_, float16")


@pytest.mark.parametrize(("text", "message"), [
    ("a=foo bar", "cannot parse argument 'foo bar': expected DTYPE[D0,D1,...], a Python literal or a dotted "
                  "NKI/numpy name"),
])
def test_unparsable_specs(text: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_arg_spec(text)
    assert err.value.message == message


def test_spec_lists() -> None:
    args, kwargs = parse_arg_specs(["float32[2]", "3", "b=None"])
    assert args == [tensor((2,), "float32"), const(K.CInt(3))] and kwargs == {"b": const(K.CNone())}
    with pytest.raises(UsageError, match="positional argument '3' follows a named argument"):
        parse_arg_specs(["b=1", "3"])
    with pytest.raises(UsageError, match="argument 'b' given more than once"):
        parse_arg_specs(["b=1", "b=2"])


def test_args_json(tmp_path: Path) -> None:
    path = tmp_path / "args.json"
    path.write_text(json.dumps(["float32[4,4]", {"shape": [2], "dtype": "int32"}, 7, None, [1, 2], "nl.add"]))
    args, kwargs = parse_arg_json(str(path))
    assert kwargs == {}
    assert args == [
        tensor((4, 4), "float32"), tensor((2,), "int32"), const(K.CInt(7)), const(K.CNone()),
        K.Expr(K.TupleExpr((const(K.CInt(1)), const(K.CInt(2))))), K.Expr(K.Name("nki.language.add")),
    ]
    path.write_text(json.dumps({"a": "bfloat16[8]", "scale": 0.5}))
    assert parse_arg_json(str(path)) == ([], {"a": tensor((8,), "bfloat16"), "scale": const(K.CFloat(0.5))})


@pytest.mark.parametrize(("text", "message"), [
    ("[1, ", "invalid JSON: Expecting value"),
    ("3", "must hold a JSON list or object of arguments"),
    ('[{"shape": [1]}]', 'argument object {"shape": [1]} must have exactly \'shape\' and \'dtype\''),
])
def test_bad_args_json(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "args.json"
    path.write_text(text)
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("{", r"\{")):
        parse_arg_json(str(path))


def test_python_values() -> None:
    assert value_expr(np.zeros((3, 5), dtype=np.float16)) == tensor((3, 5), "float16")
    import ml_dtypes

    assert value_expr(np.zeros((2,), dtype=ml_dtypes.bfloat16)) == tensor((2,), "bfloat16")
    assert value_expr(np.zeros((2,), dtype=np.bool_)) == tensor((2,), "uint8")
    assert value_expr(np.float32(2.0)) == const(K.CFloat(2.0))
    assert value_expr(np.int64(7)) == const(K.CInt(7))
    assert value_expr(np.float32) == K.Expr(K.Name("numpy.float32"))
    assert value_expr(Dtype.float8e4) == K.Expr(K.Name("nki.language.float8_e4m3"))
    assert value_expr({"k": [1, 2.0]}) == K.Expr(K.DictExpr(
        (const(K.CString("k")),), (K.Expr(K.ListExpr((const(K.CInt(1)), const(K.CFloat(2.0))))),)))
    with pytest.raises(UsageError, match="cannot pass a value of type object to a kernel"):
        value_expr(object())
    with pytest.raises(UsageError, match="integer argument 36893488147419103232 does not fit in 64 bits"):
        value_expr(2**65)


KERNEL = """
    def kernel(a, b, /, c=1, *, d, e=2):
        return a
"""


def test_arguments_are_bound_to_parameters(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": KERNEL}, args=[np.zeros((2, 2), np.float32), 3],
                  kwargs={"d": parse_arg_spec("d=int8[4]")[1], "c": 5})
    assert k.args == (tensor((2, 2), "float32"), const(K.CInt(3)))
    assert k.args[0].pos == Pos(1, 11, 1, 12, "kern.py")
    assert [(kw.id, kw.value) for kw in k.kwargs] == [("d", tensor((4,), "int8")), ("c", const(K.CInt(5)))]
    assert k.kwargs[0].pos == Pos(1, 28, 1, 29, "kern.py")
    assert k.kwargs[0].value.pos == Pos(1, 28, 1, 29, "kern.py")


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((1, 2, 3, 4), {}, "kernel 'kernel' takes 3 positional arguments but 4 were given"),
    ((1,), {"z": 1}, "kernel 'kernel' has no parameter 'z'"),
    ((1, 2), {"b": 1}, "kernel 'kernel' got two values for parameter 'b'"),
    ((1, 2), {"a": 1}, "kernel 'kernel' got two values for parameter 'a'"),
])
def test_argument_binding_errors(kernel_of: Writer, args: tuple[int, ...], kwargs: dict[str, int],
                                 message: str) -> None:
    with pytest.raises(UsageError) as err:
        kernel_of({"kern.py": KERNEL}, args=args, kwargs=kwargs)
    assert err.value.message == message


def test_grid_lnc_arch(kernel_of: Writer) -> None:
    k = kernel_of({"kern.py": KERNEL}, grid=(2, 2), lnc=2, arch=3)
    assert (k.arch, k.grid) == (3, 2)
    grid = K.Expr(K.TupleExpr((const(K.CInt(2)), const(K.CInt(2)))))
    assert k.flags == (K.Expr(K.TupleExpr((const(K.CString("spmd_grid")), grid))),)
    default = kernel_of({"kern.py": KERNEL})
    assert (default.arch, default.grid, default.flags) == (2, 1, ())
    single = kernel_of({"kern.py": KERNEL}, grid=4)
    assert single.flags[0].expr.xs[1] == K.Expr(K.TupleExpr((const(K.CInt(4)),)))


@pytest.mark.parametrize(("kw", "message"), [
    ({"grid": (2, 0)}, "grid must be a positive integer or a tuple of them, got (2, 0)"),
    ({"lnc": 0}, "lnc must be between 1 and 8, got 0"),
    ({"arch": 7}, "arch must be between 2 and 4, got 7"),
])
def test_bad_launch_options(kernel_of: Writer, kw: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as err:
        kernel_of({"kern.py": KERNEL}, **kw)
    assert err.value.message == message


def test_library_values_become_names() -> None:
    import ml_dtypes
    import numpy as np

    class Named:
        __klr_name__ = "neuronxcc.nki.language.add"

    def name_of(value: object) -> str:
        expr = value_expr(value).expr
        assert isinstance(expr, K.Name)
        return expr.id

    assert name_of(np.add) == "numpy.add"
    assert name_of(np.max) == "numpy.max"
    assert name_of(np.float32) == "numpy.float32"
    assert name_of(ml_dtypes.bfloat16) == "nki.language.bfloat16"
    assert name_of(ml_dtypes.float8_e4m3) == "nki.language.float8_e4m3"
    assert name_of(Named()) == "nki.language.add"
