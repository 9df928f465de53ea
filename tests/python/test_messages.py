"""One test per message of gather and its Python API: the exact text and, in source, its position."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.tracer.util import gather_src, where

from klr.errors import GatherError, UsageError
from klr.python.gather import gather

K = "def kernel():\n    "

CASES = [
    ("async def g():\n    pass\n\n" + K + "async for x in g():\n        pass\n",
     "async for loops are not supported in kernels", (5, 5)),
    (K + "async with g():\n        pass\n", "async with statements are not supported in kernels", (2, 5)),
    (K + "return await g()\n", "await expressions are not supported in kernels", (2, 12)),
    (K + "return [x async for x in g()]\n", "async comprehensions are not supported in kernels", (2, 30)),
    (K + "return 'a\\udcff'\n",
     "the string literal holds the lone surrogate U+DCFF, which a KLR file (UTF-8) cannot hold", (2, 12)),
    (K + "return 0x" + "f" * 4300 + "\n", "integer literal of 17200 bits does not fit in 64 bits", (2, 12)),
]


@pytest.mark.parametrize(("source", "message", "at"), CASES, ids=[c[1] for c in CASES])
def test_message(tmp_path: Path, source: str, message: str, at: tuple[int, int]) -> None:
    with pytest.raises(GatherError) as info:
        gather_src(tmp_path, source)
    assert info.value.message == message
    assert where(info.value) == at


def _nested() -> Any:
    def inner() -> None:
        pass
    return inner


def _no_source() -> Any:
    namespace: dict[str, Any] = {}
    exec("def made():\n    pass\n", namespace)
    return namespace["made"]


API = [
    ("gather of a file needs name= the kernel function's name", lambda: gather("kern.py")),
    ("gather needs a function or a path, got int", lambda: gather(5)),
    ("function '_nested.<locals>.inner' is not defined at module level", lambda: gather(_nested())),
    ("cannot find the source file of function 'made'", lambda: gather(_no_source())),
]


@pytest.mark.parametrize(("message", "call"), API, ids=[c[0] for c in API])
def test_api(message: str, call: Any) -> None:
    with pytest.raises(UsageError) as info:
        call()
    assert info.value.message == message
    assert info.value.pos is None
