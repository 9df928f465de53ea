"""docs/ir.md is generated from the schema and must stay in step with it."""

from __future__ import annotations

from pathlib import Path

from klr.core import OPERATOR_NAMES
from klr.core.docgen import generate

DOC = Path(__file__).resolve().parents[2] / "docs" / "ir.md"


def test_every_operator_is_documented() -> None:
    text = generate()
    for i, name in enumerate(OPERATOR_NAMES):
        assert f"| {i} | `{name}` |" in text


def test_checked_in_reference_is_current() -> None:
    assert DOC.read_text() == generate(), "regenerate with: python -m klr.core.docgen > docs/ir.md"
