"""The tracer as a sandbox: a kernel reaches only klr's values, never a host object.

Issue 8's code-execution reproducers: ``str.format`` walked attributes and items of host
objects (``'{0.__init__.__globals__[inspect]...}'.format(print)``), which let a kernel dlopen
a library and read the environment. Now a field name resolves exactly as the kernel's own
attribute access does, and every host function a kernel reaches is on the allow-list.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import klr.tracer.nki  # noqa: F401  (its builtins and host functions are listed too)
from klr.errors import TraceError
from klr.tracer import host, pymethods, registry
from klr.tracer.values import TraceObject
from tests.tracer.util import error_of, run_ctx, run_src, trace_src, where

CANARY = "KLR_TEST_CANARY_SECRET"
SECRET = "s3cr3t-canary-value"
WALK = "'{0.__init__.__globals__[inspect].os.environ[" + CANARY + "]}'"
DLOPEN = "'{0.__init__.__globals__[inspect].sys.modules[ctypes].cdll[/no/such/lib.so]}'"
NO_INIT = "'builtin_function' object has no attribute '__init__'"


@pytest.fixture
def canary(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A secret in the environment, and a record of every library ctypes is asked to load."""
    monkeypatch.setenv(CANARY, SECRET)
    loaded: list[Any] = []

    def record(self: Any, name: Any, *args: Any, **kwargs: Any) -> None:
        loaded.append(name)
        raise OSError("the test refuses to load libraries")

    monkeypatch.setattr(ctypes.CDLL, "__init__", record)
    return loaded


@pytest.mark.parametrize("walk", [WALK, DLOPEN])
def test_format_field_names_do_not_walk_host_objects(tmp_path: Path, canary: list[Any], walk: str) -> None:
    src = f"import numpy as np\ndef kernel():\n    np.zeros((1,))\n    return {walk}.format(print)\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert (err.message, where(err)) == (NO_INIT, (4, 12))
    assert canary == []
    assert SECRET not in str(err)


def test_the_field_fails_as_the_attribute_does(tmp_path: Path) -> None:
    err = error_of(tmp_path, "def kernel():\n    return print.__init__\n", error=TraceError)
    assert err.message == NO_INIT


def test_format_map_and_nested_specs_resolve_through_klr(tmp_path: Path, canary: list[Any]) -> None:
    src = ("def kernel():\n    return '{x.__class__}'.format_map({'x': 1})\n")
    err = error_of(tmp_path, src, error=TraceError)
    assert (err.message, where(err)) == ("'int' object has no attribute '__class__'", (2, 12))
    src = "def kernel():\n    return '{0:{1.__doc__}}'.format(1, print)\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert err.message == "'builtin_function' object has no attribute '__doc__'"


def test_a_secret_never_reaches_the_core_file(tmp_path: Path) -> None:
    """The issue's second reproducer, end to end through the CLI in a fresh process: the
    environment variable is read into a tensor name only if the formatter walks host objects."""
    kern = tmp_path / "kern.py"
    kern.write_text(textwrap.dedent(f"""\
        import numpy as np
        import neuronxcc.nki.language as nl

        def kernel(x):
            np.zeros((1,))
            name = {WALK}.format(print)
            out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm, name=name)
            nl.store(out, value=nl.load(x))
            return out
        """))
    env = {**os.environ, CANARY: SECRET}
    run = [sys.executable, "-m", "klr"]
    subprocess.run([*run, "gather", str(kern), "kernel", "--arg", "x=float32[128,4]", "-o",
                    str(tmp_path / "k.klr")], check=True, capture_output=True, env=env)
    got = subprocess.run([*run, "trace", str(tmp_path / "k.klr"), "-o", str(tmp_path / "k.core.klr")],
                         capture_output=True, text=True, env=env)
    assert got.returncode == 1
    assert got.stderr.startswith(f"{kern}:6:12: error: {NO_INIT}\n")
    assert SECRET not in got.stdout + got.stderr
    assert not (tmp_path / "k.core.klr").exists()


@pytest.mark.parametrize("expr, message", [
    ("().__class__.__base__.__subclasses__()", "'tuple' object has no attribute '__class__'"),
    ("getattr(print, '__globals__')", "'builtin_function' object has no attribute '__globals__'"),
    ("(lambda: 1).__code__", "'function' object has no attribute '__code__'"),
    ("type(print).__mro__", "'type' object has no attribute '__mro__'"),
    ("iter([1]).__reduce__()", "'list_iterator' object has no attribute '__reduce__'"),
    ("np.zeros((2,)).array", "'ndarray' object has no attribute 'array'"),
    ("'{0.__class__.__mro__}'.format(set())", "'set' object has no attribute '__class__'"),
    ("'{0[0].gi_frame}'.format([x for x in [1]])", "'int' object has no attribute 'gi_frame'"),
    ("{}.keys().mapping", "'dict_keys' object has no attribute 'mapping'"),
    ("os.environ", "name 'os' is not defined"),
    ("eval('1')", "name 'eval' is not defined"),
    ("__builtins__", "name '__builtins__' is not defined"),
])
def test_escape_attempts(tmp_path: Path, expr: str, message: str) -> None:
    src = f"import os\nimport numpy as np\ndef kernel():\n    return {expr}\n"
    err = error_of(tmp_path, src)   # a TraceError, or a GatherError for a name gather knows is unbound
    assert (err.message, where(err)) == (message, (4, 12))


# --- the allow-list ------------------------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden" / "allowlist.txt"


def test_the_allow_list_is_the_reviewed_one() -> None:
    """Every host function a kernel can reach, with its argument types and cost. Regenerate
    with KLR_UPDATE_GOLDEN=1 and review the diff."""
    text = "".join(e.listing() + "\n" for e in host.entries())
    text += "\n# attributes and methods of plain values\n"
    text += "".join(line + "\n" for line in pymethods.surface())
    if os.environ.get("KLR_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_every_allowed_function_declares_types_and_cost() -> None:
    entries = list(host.entries())
    assert len(entries) > 80
    for e in entries:
        assert e.args is not None and all(a.types for a in e.args), e.name
        assert e.alloc.__doc__, f"{e.name}: its cost function says what it charges"
        assert callable(e.fn)


def test_host_functions_get_only_their_declared_types(tmp_path: Path) -> None:
    cases = [
        ("'abc'.startswith(nl.float32)",
         "str.startswith() argument 'prefix' must be str or tuple[str, ...], not dtype"),
        ("'abc'.zfill('3')", "str.zfill() argument 'width' must be int, not str"),
        ("''.join([nl.float32])", "str.join(): sequence item 0: expected str instance, dtype found"),
        ("int(nl.float32)", "int() argument 'x' must be int or float or str, not dtype"),
        ("round(1.5, nl.float32)", "round() argument 'ndigits' must be int or None, not dtype"),
        ("'a'.replace('a', 'b', count=1)", "str.replace() got an unexpected keyword argument 'count'"),
    ]
    for expr, message in cases:
        src = f"import neuronxcc.nki.language as nl\ndef kernel():\n    return {expr}\n"
        err = error_of(tmp_path, src, error=TraceError)
        assert (err.message, where(err)) == (message, (3, 12)), expr


@pytest.mark.parametrize("expr, message", [
    ("'a'.zfill()", "str.zfill() missing required argument 'width'"),
    ("'a'.zfill(1, 2)", "str.zfill() takes at most 1 argument (2 given)"),
    ("'a'.split(sep=',', sep2=1)", "str.split() got an unexpected keyword argument 'sep2'"),
    ("'a'.split(',', sep=',')", "str.split() got multiple values for argument 'sep'"),
    ("{}.pop('k')", "dict.pop(): key 'k' is not in the dict"),
    ("[1, 2][slice(nl.float32, 1)]", "invalid slice: slice indices must be integers or None or have an "
                                     "__index__ method"),
    ("nl.fmod(1.0, 0.0)", "nl.fmod(): math domain error"),
    ("nl.int32(float('inf'))", "int32(): cannot convert float infinity to integer"),
    ("'%c' % 'ab'", "str %: %c requires int or char"),
    ("'%d' % float('nan')", "str %: cannot convert float nan to integer"),
    ("'%e' % 'x'", "str %: must be real number, not str"),
    ("'%f' % 10 ** 400", "str %: int too large to convert to float"),
])
def test_host_call_errors(tmp_path: Path, expr: str, message: str) -> None:
    src = f"import neuronxcc.nki.language as nl\ndef kernel():\n    return {expr}\n"
    err = error_of(tmp_path, src, error=TraceError)
    assert (err.message, where(err)) == (message, (3, 12)), expr


def test_dict_update_iterates_its_argument_in_klr(tmp_path: Path) -> None:
    """Python's dict.update(x) calls x.keys(): klr never hands it a non-dict."""
    src = ("class M:\n    def keys(self):\n        return ['a']\n    def __getitem__(self, k):\n"
           "        return 1\n\ndef kernel():\n    d = {}\n    d.update(M())\n    return d\n")
    err = error_of(tmp_path, src, error=TraceError)
    assert (err.message, where(err)) == ("'M' object is not iterable", (9, 5))
    src = "def kernel():\n    d = {1: 2}\n    d.update([(3, 4)], x=5)\n    return d\n"
    assert run_src(tmp_path, src) == {1: 2, 3: 4, "x": 5}


def test_registered_constants_are_klr_values() -> None:
    for e in registry.entries():
        if e.kind == "constant":
            v = e.value
            assert host.is_value(v) or v is NotImplemented, e.name
            assert not isinstance(v, TraceObject) or "0x" not in repr(v), e.name


def test_no_repr_shows_an_address(tmp_path: Path) -> None:
    src = ("import numpy as np\nimport neuronxcc.nki.language as nl\n"
           "class C:\n    pass\n\n"
           "def kernel():\n"
           "    values = [C(), C, print, len, nl.exp, nl.float32, nl.sbuf, iter([1]), enumerate([1]),\n"
           "              zip([1]), reversed([1]), map(abs, [1]), {}.keys(), set([1]), np.eye(2),\n"
           "              nl.arange(4), lambda: 1, kernel, 'a'.upper, [].append, range(3),\n"
           "              slice(1, 2), ..., NotImplemented, type(C()), type(nl.float32), super]\n"
           "    print(values)\n"
           "    return [repr(v) for v in values] + [str(v) for v in values] + [f'{v}' for v in values]\n")
    value, ctx = run_ctx(tmp_path, src)
    text = ctx.messages[0].message + "".join(value)
    assert "0x" not in text and " at " not in text
    assert "<list_iterator object>" in text and "<C object>" in text


def test_klr_list_shows_no_addresses() -> None:
    for e in registry.entries():
        assert "0x" not in e.signature(), e.name


def test_a_kernel_traces_to_the_same_core_after_an_attack_attempt(tmp_path: Path) -> None:
    """A failed walk leaves nothing behind: tracing again works (no state was corrupted)."""
    src = f"def kernel():\n    return {WALK}.format(print)\n"
    error_of(tmp_path, src, error=TraceError)
    assert run_src(tmp_path, "def kernel():\n    return '{0}-{1!r}'.format(1, 'a')\n") == "1-'a'"
    assert trace_src(tmp_path, "def kernel():\n    return None\n").kernel.outputs == ()
