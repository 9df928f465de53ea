"""Helpers shared by production-style kernels (see ``production_rows.py``): a configuration
dataclass, an enum chosen by the caller, an optional feature guarded by ``try``, the way model
teams share code between their kernels."""
import enum
from dataclasses import dataclass, field
from typing import Optional

import nki.language as nl


class Activation(enum.Enum):
    """The activation a caller picks; passed to the kernel as ``Activation.RELU``."""

    RELU = "relu"
    EXP = "exp"

    def function(self):
        return nl.relu if self is Activation.RELU else nl.exp


class ConfigError(ValueError):
    """A configuration the kernel cannot run with."""


@dataclass(frozen=True)
class RowConfig:
    """How the kernel walks its rows: tiles of ``rows`` partitions, a scale applied before the
    activation and an optional bias added after it."""

    rows: int = 128
    scale: float = 1.0
    bias: Optional[float] = None
    tags: tuple = field(default_factory=tuple)

    def tile_count(self, total_rows):
        if total_rows % self.rows:
            raise ConfigError(f"{total_rows} rows do not split into tiles of {self.rows}")
        return total_rows // self.rows

    @property
    def has_bias(self):
        return self.bias is not None

    @classmethod
    def from_scale(cls, scale, bias=None):
        try:
            value = float(scale)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"scale must be a number, not {scale!r}") from error
        finally:
            pass
        return cls(scale=value, bias=bias)


def describe(config: RowConfig, *extra, **notes) -> str:
    """A log line; production kernels build these whether or not anything prints them."""
    parts = [f"rows={config.rows}", f"scale={config.scale:.3f}", *map(str, extra)]
    parts += [f"{k}={v}" for k, v in sorted(notes.items())]
    return ", ".join(parts)
