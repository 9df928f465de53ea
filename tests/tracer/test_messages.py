"""One test per message of the tracer's Python layer: the exact text and its position.

Messages about kernels written in Python are triggered from source; the ones only a KLR file
can reach (gather never writes such a node) from a gathered kernel edited the way a crafted
file would be, and sent through the codec.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from klr.errors import KlrError, LimitError, TraceError, UsageError
from klr.format.file import from_bytes, to_bytes
from klr.python import ast as A
from klr.python.args import value_expr
from klr.tracer import run_python, trace
from klr.tracer.context import Ctx
from klr.tracer.registry import builtin
from klr.tracer.values import TraceObject
from tests.tracer.util import error_of, gather_src, trace_src, where

K = "def kernel():\n    "
ENUM = "import enum\nclass C(enum.Enum):\n    R = 1\n\ndef kernel():\n    "
CLS = "class A:\n    pass\n\ndef kernel():\n    "

CASES = [
    (K + "x = [1]\n    x += 5\n", "can only extend a list by an iterable, not 'int'", (3, 5)),
    (K + "return 1 in 5\n", "argument of type 'int' is not iterable", (2, 12)),
    (K + "return 1 in 'abc'\n", "'in <string>' requires a string as left operand, not 'int'", (2, 12)),
    (K + "return [1][1:2:0]\n", "invalid slice: slice step cannot be zero", (2, 12)),
    (K + "x = [1, 2, 3]\n    x[0:3:2] = [1]\n",
     "invalid slice assignment: attempt to assign sequence of size 1 to extended slice of size 2", (3, 5)),
    (K + "return (1)[0]\n", "'int' object is not subscriptable", (2, 12)),
    (K + "return 1 << -1\n", "invalid operands for <<: negative shift count", (2, 12)),
    (K + "return int('x')\n", "int(): invalid literal for int() with base 10: 'x'", (2, 12)),
    (K + "return float('x')\n", "float(): could not convert string to float: 'x'", (2, 12)),
    (K + "return set([[1]])\n", "unhashable type: 'list'", (2, 12)),
    (K + "return dict([(1, 2, 3)])\n", "dict(): element 0 has 3 items, 2 are required", (2, 12)),
    (K + "return dict([[[1], 2]])\n", "unhashable type: 'list'", (2, 12)),
    (K + "return slice()\n", "slice() takes 1 to 3 arguments but 0 were given", (2, 12)),
    (K + "return range()\n", "range() takes 1 to 3 arguments but 0 were given", (2, 12)),
    (K + "return range(0, 5, 0)\n", "range() step must not be zero", (2, 12)),
    (K + "return isinstance(1, 2)\n", "isinstance() arg 2 must be a type or tuple of types, not 'int'",
     (2, 12)),
    (K + "return getattr(1, 2)\n", "getattr(): attribute name must be a string, not 'int'", (2, 12)),
    (K + "return hasattr(1, 2)\n", "hasattr(): attribute name must be a string, not 'int'", (2, 12)),
    (K + "return setattr(1, 'x', 2)\n", "setattr(): cannot set attributes of a 'int' value", (2, 12)),
    (K + "return max()\n", "max() expected at least 1 argument, got 0", (2, 12)),
    (K + "return enumerate([1], 'a')\n", "enumerate(): start must be an integer, not 'str'", (2, 12)),
    (K + "return list(zip([1], [1, 2], strict=True))\n", "zip(): arguments have different lengths", (2, 17)),
    (K + "return map(abs)\n", "map() must have at least two arguments", (2, 12)),
    (K + "return next([1])\n", "'list' object is not an iterator", (2, 12)),
    (K + "return next(iter([]))\n", "next() on an exhausted iterator", (2, 12)),
    (CLS + "return abs(A())\n", "bad operand type for abs(): 'A'", (5, 12)),
    (K + "return abs('a')\n", "abs() argument 'x' must be int or float, not str", (2, 12)),
    (K + "return pow(2, -1, 0)\n", "pow(): pow() 3rd argument cannot be 0", (2, 12)),
    (K + "return round(1.5, 'a')\n", "round() argument 'ndigits' must be int or None, not str", (2, 12)),
    (K + "return chr(-1)\n", "chr(): chr() arg not in range(0x110000)", (2, 12)),
    (K + "return ord('ab')\n", "ord(): ord() expected a character, but string of length 2 found", (2, 12)),
    (K + "return format(1, 2)\n", "format(): the format spec must be a string, not 'int'", (2, 12)),
    (K + "return format(1, 'q')\n", "format(): invalid format specifier 'q' for a value of type 'int'",
     (2, 12)),
    (K + "return '{0!}'.format(1)\n", "str.format(): end of string while looking for conversion specifier",
     (2, 12)),
    (K + "return len(range(10**20))\n", "a range this long has no len()", (2, 12)),
    (K + "return chr(0xdcff)\n", "chr(): U+DCFF is a lone surrogate, which a KLR file (UTF-8) cannot hold",
     (2, 12)),
    (K + "return [1].index(2)\n", "list.index(): 2 is not in the list", (2, 12)),
    (K + "return (1,).index(2)\n", "tuple.index(): 2 is not in the tuple", (2, 12)),
    (K + "return [1].index(1, 'a')\n", "list.index(): slice indices must be integers, not str", (2, 12)),
    (K + "return [1].remove(2)\n", "list.remove(): 2 is not in the list", (2, 12)),
    ("import math\n" + K + "return math.log(-1)\n", "math.log(): math domain error", (3, 12)),
    ("import math\n" + K + "return math.gcd(1.5)\n",
     "math.gcd() argument 'integers' must be int, not float", (3, 12)),
    ("import math\n" + K + "return math.lcm(1.5)\n",
     "math.lcm() argument 'integers' must be int, not float", (3, 12)),
    ("import math\n" + K + "return math.isclose(1, 'a')\n",
     "math.isclose() argument 'b' must be int or float, not str", (3, 12)),
    ("import dataclasses\n" + K + "return dataclasses.field(default=1, default_factory=list)\n",
     "dataclasses.field(): cannot specify both default and default_factory", (3, 12)),
    ("import functools\n" + K + "return functools.reduce(lambda a, b: a, [])\n",
     "functools.reduce() of an empty sequence with no initial value", (3, 12)),
    (K + "return [1].sort(1)\n", "list.sort() takes 0 positional arguments but 1 was given", (2, 12)),
    (K + "x = [1]\n    x.sort(foo=1)\n", "list.sort() got an unexpected keyword argument 'foo'", (3, 5)),
    (K + "x = [1, 'a']\n    x.sort()\n",
     "'<' is not supported between 'str' and 'int'", (3, 5)),
    ("def f(**k):\n    return k\n\n" + K + "return f(a=1, **{'a': 2})\n",
     "got multiple values for keyword argument 'a'", (5, 19)),
    (K + "return *[1]\n", "a starred expression is only allowed in a call, list, tuple or assignment target",
     (2, 12)),
    (K + "return super()\n", "super() is only supported inside a method with a self argument", (2, 12)),
    ("class A:\n    def f(self):\n        return super().g()\n\n" + K + "return A().f()\n",
     "'super' object has no attribute 'g'", (3, 16)),
    ("class A:\n    def __init__(self):\n        super().__init__(1)\n\n" + K + "return A()\n",
     "object.__init__() takes no arguments", (3, 9)),
    ("class A:\n    X = 1\n\n" + K + "return A.Y\n", "type object 'A' has no attribute 'Y'", (5, 12)),
    (CLS + "return A(1)\n", "A() takes no arguments", (5, 12)),
    (ENUM + "return C()\n", "C() takes exactly one argument (a member value)", (6, 12)),
    (ENUM + "return C(5)\n", "5 is not a valid C", (6, 12)),
    (ENUM + "return C['G']\n", "'G' is not a member of C", (6, 12)),
    (ENUM + "return C.R.foo\n", "'C' member has no attribute 'foo'", (6, 12)),
    ("import dataclasses\n@dataclasses.dataclass(frozen=True)\nclass P:\n    x: int\n\n"
     + K + "p = P(1)\n    p.x = 2\n", "cannot assign to field 'x' of a frozen 'P'", (8, 5)),
    (K + "*a = [1]\n", "a starred assignment target must be in a list or tuple", (2, 5)),
    (K + "a, *b, *c = [1, 2]\n", "multiple starred expressions in assignment", (2, 5)),
    (K + "d = {1: 1}\n    for k in d:\n        d[k + 1] = 1\n",
     "the loop's dict changed size during iteration", (3, 14)),
    (K + "print[0]\n", "'builtin_function' object is not subscriptable", (2, 5)),
    (K + "len.x = 1\n", "cannot set attribute 'x' of a 'builtin_function' object", (2, 5)),
]


@pytest.mark.parametrize(("source", "message", "at"), CASES, ids=[c[1][:60] for c in CASES])
def test_message(tmp_path: Path, source: str, message: str, at: tuple[int, int]) -> None:
    err = error_of(tmp_path, source, error=TraceError)
    assert err.message == message
    assert where(err) == at


MEMORY = "the trace needs more than 2147483648 bytes of memory (--limit max-memory=N raises it)"
LIMITS = [
    (K + "return 1 << 10**11\n", MEMORY, (2, 12)),
    (K + "return sum([0] * 10**9 + [0])\n", MEMORY, (2, 16)),
    (K + "x = []\n    for _ in range(2000):\n        x = [x]\n    print(x)\n",
     "cannot print a value nested more than 1000 deep (--limit max-nesting=N raises it)", (5, 5)),
]


@pytest.mark.parametrize(("source", "message", "at"), LIMITS, ids=[c[1][:60] for c in LIMITS])
def test_limit(tmp_path: Path, source: str, message: str, at: tuple[int, int]) -> None:
    err = error_of(tmp_path, source, error=LimitError)
    assert err.message == message
    assert where(err) == at


def test_isclose_with_a_negative_tolerance(tmp_path: Path) -> None:
    src = "import math\n" + K + "return math.isclose(1, 2, rel_tol=-1)\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert err.message == "math.isclose(): tolerances must be non-negative"
    assert where(err) == (3, 12)


# --- messages only a KLR file can reach ------------------------------------------------------


def _rewrite(node: Any, fn: Callable[[Any], Any]) -> Any:
    """``node`` with every node below it (then itself) replaced by ``fn(node)``."""
    if isinstance(node, tuple):
        return tuple(_rewrite(x, fn) for x in node)
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    changes = {f.name: _rewrite(getattr(node, f.name), fn) for f in dataclasses.fields(node)}
    return fn(dataclasses.replace(node, **changes))


def _crafted(tmp_path: Path, source: str, fn: Callable[[Any], Any]) -> A.Kernel:
    """The kernel gathered from ``source``, edited by ``fn`` and read back from its bytes."""
    kernel = _rewrite(gather_src(tmp_path, source), fn)
    return from_bytes(to_bytes(kernel), expect="python")


def _crafted_error(tmp_path: Path, source: str, fn: Callable[[Any], Any]) -> KlrError:
    with pytest.raises(TraceError) as info:
        run_python(_crafted(tmp_path, source, fn))
    return info.value


def _with_ctx(ctx: A.Ctx, kind: type) -> Callable[[Any], Any]:
    return lambda n: dataclasses.replace(n, ctx=ctx) if isinstance(n, kind) else n


FILE_CASES = [
    ("deleting a tuple is not supported", K + "return (1, 2)\n", _with_ctx(A.Ctx.del_, A.TupleExpr), (2, 12)),
    ("deleting a list is not supported", K + "return [1, 2]\n", _with_ctx(A.Ctx.del_, A.ListExpr), (2, 12)),
    ("a tensor constant may only appear as a kernel argument", K + "return 7\n",
     lambda n: A.ConstExpr(A.CTensor((2, 2), "float32")) if isinstance(n, A.ConstExpr) else n, (2, 12)),
    ("unknown f-string conversion '!q'", K + "return f'{1!r}'\n",
     lambda n: dataclasses.replace(n, conv=ord("q")) if isinstance(n, A.Format) else n, (2, 12)),
    ("cannot assign to a function call", K + "x = 1\n    f = len\n    x = f([])\n",
     lambda n: dataclasses.replace(n, xs=(n.e,)) if isinstance(n, A.Assign) and isinstance(n.e.expr, A.Call)
     else n, (4, 9)),
    ("cannot use augmented assignment on a literal", K + "x = 1\n    x += 2\n",
     lambda n: dataclasses.replace(n, x=n.e) if isinstance(n, A.AugAssign) else n, (3, 10)),
    ("keyword argument 'a' repeated", "def f(**k):\n    return k\n\n" + K + "return f(a=1, b=2)\n",
     lambda n: dataclasses.replace(n, id="a") if isinstance(n, A.Keyword) else n, (5, 19)),
]


@pytest.mark.parametrize(("message", "source", "edit", "at"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_message_from_a_klr_file(tmp_path: Path, message: str, source: str, edit: Callable[[Any], Any],
                                 at: tuple[int, int]) -> None:
    err = _crafted_error(tmp_path, source, edit)
    assert err.message == message
    assert where(err) == at


def test_an_enum_argument_that_is_no_member(tmp_path: Path) -> None:
    src = ENUM.replace("def kernel():", "def kernel(c):") + "x = C.R\n    return c\n"
    kernel = gather_src(tmp_path, src)
    field = A.Keyword("_name_", A.Expr(A.ConstExpr(A.CString("G"))))
    bad = A.Expr(A.ObjectExpr("kern.C", (field,)), kernel.funcs[0].body[0].pos)
    crafted = from_bytes(to_bytes(dataclasses.replace(kernel, args=(bad,))), expect="python")
    with pytest.raises(TraceError) as info:
        trace(crafted)
    assert info.value.message == "cannot identify the member of enum 'C'"
    assert where(info.value) == (6, 5)


def _kernel_error(tmp_path: Path, error: type[KlrError], **changes: Any) -> KlrError:
    src = "import numpy as np\ndef kernel(x):\n    return x\n"
    kernel = gather_src(tmp_path, src, args=(np.zeros((2, 2), np.float32),))
    crafted = from_bytes(to_bytes(dataclasses.replace(kernel, **changes)), expect="python")
    with pytest.raises(error) as info:
        trace(crafted)
    return info.value


def test_a_file_without_its_entry_function(tmp_path: Path) -> None:
    err = _kernel_error(tmp_path, UsageError, entry="kern.missing")
    assert err.message == "the kernel file has no function 'kern.missing'"
    assert err.pos is None


def test_a_flag_that_is_not_a_pair(tmp_path: Path) -> None:
    err = _kernel_error(tmp_path, TraceError, flags=(value_expr(5),))
    assert err.message == "a kernel flag must be a (name, value) pair, got 5"


def test_a_schedule_edge_that_is_not_a_pair(tmp_path: Path) -> None:
    err = _kernel_error(tmp_path, TraceError, scheduleEdges=(value_expr(5),))
    assert err.message == "a schedule edge must be a pair of a name and a name or list of names"


@pytest.mark.xfail(strict=True, reason="kernel._edges calls list() on the second item: TypeError (internal "
                   "error) instead of the message")
def test_a_schedule_edge_to_a_number(tmp_path: Path) -> None:
    err = _kernel_error(tmp_path, TraceError, scheduleEdges=(value_expr(("a", 3)),))
    assert err.message == "a schedule edge must be a pair of a name and a name or list of names"


# --- the trace API ---------------------------------------------------------------------------


def test_lnc_below_one(tmp_path: Path) -> None:
    kernel = gather_src(tmp_path, "import numpy as np\ndef kernel(x):\n    return x\n",
                        args=(np.zeros((2, 2), np.float32),))
    with pytest.raises(UsageError) as info:
        trace(kernel, lnc=0)
    assert info.value.message == "lnc must be at least 1, got 0"


def test_run_python_of_a_function_not_gathered(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        run_python(gather_src(tmp_path, K + "return 1\n"), name="kern.other")
    assert info.value.message == "no gathered function 'kern.other'"


def test_a_kernel_returning_a_number(tmp_path: Path) -> None:
    kernel = gather_src(tmp_path, "import numpy as np\ndef kernel(x):\n    return 3\n",
                        args=(np.zeros((2, 2), np.float32),))
    with pytest.raises(TraceError) as info:
        trace(kernel)
    assert info.value.message == "a kernel can only return tensors, but it returns a 'int'"
    assert where(info.value) == (2, 1)


# --- runtime control flow --------------------------------------------------------------------
# The evaluator's side of runtime values (TraceObject.dynamic): a test builtin stands in for one
# that implements none of branch, repeat and loop (NKI registers do: tests/tracer/nki/test_dynamic.py).


class _Opaque(TraceObject):
    type_name = "runtime"
    dynamic = True


@builtin("nki._test_messages.opaque", dialect="both")
def _opaque(ctx: Ctx) -> _Opaque:
    return _Opaque()


RUNTIME = "import nki\n\ndef kernel():\n    r = nki._test_messages.opaque()\n    "

RUNTIME_CASES = [
    (RUNTIME + "if r:\n        pass\n", "a 'runtime' value cannot be used as a condition", (5, 8)),
    (RUNTIME + "for i in r:\n        pass\n", "'runtime' object is not iterable", (5, 14)),
    (RUNTIME + "for i in r:\n        pass\n    else:\n        pass\n",
     "a for-else over a runtime range is not supported", (5, 5)),
    (RUNTIME + "while r:\n        pass\n", "a 'runtime' value cannot be used as a condition", (5, 11)),
    (RUNTIME + "while r:\n        pass\n    else:\n        pass\n",
     "a while-else on a runtime condition is not supported", (5, 5)),
]


@pytest.mark.parametrize(("source", "message", "at"), RUNTIME_CASES, ids=[c[1] for c in RUNTIME_CASES])
def test_runtime_control_flow(tmp_path: Path, source: str, message: str, at: tuple[int, int]) -> None:
    with pytest.raises(TraceError) as info:
        trace_src(tmp_path, source)
    assert info.value.message == message
    assert where(info.value) == at
