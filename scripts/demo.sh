#!/usr/bin/env bash
# Install klr into .venv, then gather, trace and eval one example kernel and check it against numpy.
# Usage: bash scripts/demo.sh [EXAMPLE]   (examples/refs/ lists them; default spmd_add)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python scripts/demo.py "${1:-spmd_add}"
