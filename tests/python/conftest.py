"""Shared helpers for the gather tests."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from klr.python import ast as K
from klr.python.gather import gather_file

FIXTURES = Path(__file__).parent / "fixtures"


def walk(node: object) -> Iterator[object]:
    """Every IR node under ``node`` (itself included), depth first."""
    yield node
    if isinstance(node, tuple):
        for item in node:
            yield from walk(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            if f.name != "pos":
                yield from walk(getattr(node, f.name))


def names(node: object) -> list[str]:
    """The ids of all Name expressions under ``node``, in order."""
    return [n.id for n in walk(node) if isinstance(n, K.Name)]


Writer = Callable[..., K.Kernel]


@pytest.fixture
def kernel_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Writer:
    """Write ``files`` (the first is the kernel file) under a temporary cwd and gather ``func``."""
    monkeypatch.chdir(tmp_path)

    def run(files: dict[str, str], func: str = "kernel", **kw: object) -> K.Kernel:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return gather_file(next(iter(files)), func, **kw)  # type: ignore[arg-type]

    return run
