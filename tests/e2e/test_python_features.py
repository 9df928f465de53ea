"""A kernel written the way production kernels are: a shared helper module with try/except and a
module-level registry, an enum passed on the command line, a dataclass config with methods,
Optional arguments, properties, class and static methods, *args/**kwargs forwarding, a
functools.lru_cache helper, nonlocal. Gathered, traced and evaluated through the ``klr``
command line and the API, and checked against numpy."""

from __future__ import annotations

import enum
import textwrap
from pathlib import Path

import numpy as np
import pytest

from .e2e_support import klr_cli

HELPERS = '''
import functools
from dataclasses import dataclass, field
from enum import Enum
from typing import Optional

import neuronxcc.nki.language as nl


class ScaleMode(Enum):
    PRE_SCALE = 1
    POST_SCALE = 2

    def scales_input(self) -> bool:
        return self is ScaleMode.PRE_SCALE

    @property
    def label(self) -> str:
        return self.name.lower()


class UnsupportedMode(ValueError):
    pass


@dataclass
class TileConfig:
    rows: int = 128
    scale: float = 2.0
    tags: list = field(default_factory=list)

    def tiles(self, n: int) -> int:
        return (n + self.rows - 1) // self.rows

    @classmethod
    def for_mode(cls, mode: ScaleMode, scale: Optional[float] = None) -> "TileConfig":
        cfg = cls(scale=scale if scale is not None else 2.0)
        cfg.tags.append(mode.label)
        return cfg

    @staticmethod
    def check(n: int) -> None:
        assert n % 4 == 0, f"rows must be a multiple of 4, got {n}"


_SEEN = 0


def note_trace() -> int:
    global _SEEN
    _SEEN += 1
    return _SEEN


def optional_bias(options: dict) -> float:
    try:
        return float(options["bias"])
    except KeyError:
        return 0.0
    finally:
        note_trace()


def validated(mode) -> ScaleMode:
    try:
        if not isinstance(mode, ScaleMode):
            raise UnsupportedMode(f"unknown mode {mode!r}")
    except UnsupportedMode:
        raise
    return mode


@functools.lru_cache(maxsize=None)
def factor(scale: float, mode_value: int) -> float:
    return scale if mode_value == 1 else scale * 0.5


def apply(op, *args, **kwargs):
    return op(*args, **kwargs)
'''

KERNEL = '''
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl

from helpers import ScaleMode, TileConfig, apply, factor, optional_bias, validated


@nki.jit
def scaled_kernel(x, mode=ScaleMode.POST_SCALE, options=None):
    mode = validated(mode)
    n, m = x.shape
    TileConfig.check(n)
    cfg = TileConfig.for_mode(mode)
    bias = optional_bias(options or {})
    k = factor(cfg.scale, mode.value)
    count = 0

    def tick():
        nonlocal count
        count += 1

    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    for t in nl.affine_range(cfg.tiles(n)):
        tile = nl.load(x[t * cfg.rows:(t + 1) * cfg.rows, :])
        if mode.scales_input():
            tile = apply(nl.multiply, tile, k)
        result = apply(nl.add, tile, bias) if bias else nl.exp(tile)
        if not mode.scales_input():
            result = apply(nl.multiply, result, k)
        tick()
        nl.store(out[t * cfg.rows:(t + 1) * cfg.rows, :], value=result)
    assert count == cfg.tiles(n), f"{count} tiles for {n} rows"
    return out
'''


def expected(x: np.ndarray, mode: int, bias: float) -> np.ndarray:
    k = 2.0 if mode == 1 else 1.0
    pre = x * k if mode == 1 else x
    result = pre + bias if bias else np.exp(pre)
    return (result if mode == 1 else result * k).astype(np.float32)


def _write(tmp_path: Path) -> Path:
    (tmp_path / "helpers.py").write_text(textwrap.dedent(HELPERS))
    path = tmp_path / "scaled.py"
    path.write_text(textwrap.dedent(KERNEL))
    return path


@pytest.mark.parametrize(("spec", "mode", "bias"), [
    ("mode=ScaleMode.PRE_SCALE", 1, 0.0),
    ("mode=ScaleMode.POST_SCALE", 2, 0.0),
    ("options={'bias': 3}", 2, 3.0),
])
def test_cli(tmp_path: Path, spec: str, mode: int, bias: float) -> None:
    _write(tmp_path)
    x = np.random.default_rng(0).standard_normal((256, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    klr_cli("gather", "scaled.py", "scaled_kernel", "--arg", "x=float32[256,64]", "--arg", spec,
            "-o", "k.klr", cwd=tmp_path)
    klr_cli("trace", "k.klr", "-o", "k.core.klr", cwd=tmp_path)
    klr_cli("eval", "k.core.klr", "x=x.npy", "--output-dir", "out", "--strict", cwd=tmp_path)
    (name,) = [p.stem for p in (tmp_path / "out").glob("*.npy")]
    got = np.load(tmp_path / "out" / f"{name}.npy")
    np.testing.assert_allclose(got, expected(x, mode, bias), rtol=1e-5, atol=1e-5)


def test_api_takes_an_enum_member(tmp_path: Path) -> None:
    import klr

    class ScaleMode(enum.Enum):  # the caller's own copy of the enum: matched by name
        PRE_SCALE = 1

    path = _write(tmp_path)
    x = np.random.default_rng(1).standard_normal((128, 32)).astype(np.float32)
    py = klr.gather(str(path), x, name="scaled_kernel", mode=ScaleMode.PRE_SCALE)
    traced = klr.trace(py)
    out = klr.eval(traced.kernel, x)
    (got,) = out.outputs.values()
    np.testing.assert_allclose(got, expected(x, 1, 0.0), rtol=1e-5, atol=1e-5)


def test_an_unknown_name_is_a_usage_error(tmp_path: Path) -> None:
    import klr
    from klr.errors import UsageError
    from klr.python.args import parse_value

    path = _write(tmp_path)
    with pytest.raises(UsageError) as err:
        klr.gather(str(path), parse_value("float32[128,32]"), name="scaled_kernel",
                   mode=parse_value("Mode.POST_SCALE"))
    assert err.value.message == (
        f"'Mode.POST_SCALE' is not a known NKI or numpy name, nor a name defined in {path}; "
        "write a library object as nl.NAME, nisa.NAME, np.NAME or nki.PATH")


def test_a_reraised_exception_fails_the_trace(tmp_path: Path) -> None:
    import klr
    from klr.errors import TraceError

    path = _write(tmp_path)
    x = np.zeros((128, 32), np.float32)
    with pytest.raises(TraceError) as err:
        klr.trace(klr.gather(str(path), x, name="scaled_kernel", mode=3))
    assert err.value.message == "UnsupportedMode: unknown mode 3"
