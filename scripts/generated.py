"""What the generators of checked-in files share (builtin_index.py, encoders.py, help_text.py,
node_inits.py)."""

from __future__ import annotations

from pathlib import Path


def write_or_check(path: Path, text: str, argv: list[str]) -> int:
    """Write ``text`` to ``path``; with ``--check``, write nothing and exit 1 unless ``path``
    already holds exactly ``text``."""
    if argv == ["--check"]:
        return 0 if path.exists() and path.read_text() == text else 1
    path.write_text(text)
    return 0
