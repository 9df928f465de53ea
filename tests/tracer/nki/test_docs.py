"""docs/nki.md and docs/builtins.md list exactly the registered NKI API."""

from __future__ import annotations

from pathlib import Path

from klr.tracer.nki.apidoc import BEGIN, END, api_markdown, builtins_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "nki.md"


def test_api_section_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(BEGIN):text.index(END) + len(END)]
    assert section == api_markdown(), "regenerate with: python -m klr.tracer.nki.apidoc docs/nki.md"


def test_builtins_md_is_current() -> None:
    text = (DOC.parent / "builtins.md").read_text(encoding="utf-8")
    assert text == builtins_markdown(), \
        "regenerate with: python -m klr.tracer.nki.apidoc --builtins docs/builtins.md"
