"""Golden pretty-printed Core (``klr info --dump pretty``) for the two smallest examples and
the loops the device runs.

Regenerate after an intended change with ``KLR_UPDATE_GOLDEN=1`` and review the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .e2e_support import ROOT, cli_trace, klr_cli, normalise_paths, refs

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KLR_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", ["transpose2d", "beta2_gated", "dynamic_tiles", "production_rows"])
def test_pretty_core(name: str, tmp_path: Path) -> None:
    core = cli_trace(refs.load(name), tmp_path)
    text = normalise_paths(klr_cli("info", str(core), "--dump", "pretty", cwd=ROOT).stdout)
    golden = GOLDEN / f"{name}.core.txt"
    if UPDATE:
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden.name}; run with KLR_UPDATE_GOLDEN=1"
    assert text == golden.read_text()
