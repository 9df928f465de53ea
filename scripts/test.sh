#!/usr/bin/env bash
# Install klr with its pinned test tools into .venv, then lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check src tests bench examples scripts
.venv/bin/mypy
.venv/bin/python -m pytest tests
