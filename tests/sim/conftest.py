"""Fixtures for the sim layer: klr's NKI modules for one test, kernels written to files."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from klr.sim import shim

Loader = Callable[[str], ModuleType]


@pytest.fixture
def nki() -> Iterator[None]:
    """klr's nki and neuronxcc.nki modules, removed again after the test."""
    shim.install()
    try:
        yield
    finally:
        shim.uninstall()


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nki: None) -> Iterator[Loader]:
    """Write Python source to kern.py under a temporary current directory and import it."""
    monkeypatch.chdir(tmp_path)
    loaded: list[str] = []

    def write(source: str, name: str = "kern") -> ModuleType:
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loaded.append(name)
        spec.loader.exec_module(module)
        return module

    yield write
    for name in loaded:
        sys.modules.pop(name, None)
