#!/usr/bin/env bash
# Install klr into .venv, then gather, trace and eval one example kernel and check it against numpy.
# Usage: bash scripts/demo.sh [EXAMPLE]   (examples/refs/ lists them; default spmd_add)
# The example is checked first; .venv is set up only when it is missing or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-spmd_add}"
if [[ "$name" == __init__ || ! -f "examples/refs/$name.py" ]]; then
    names=$(cd examples/refs && ls -- *.py | grep -v '^__init__' | sed 's/\.py$//' | tr '\n' ' ')
    echo "unknown example '$name'; choose one of: ${names% }" >&2
    exit 2
fi
stamp=".venv/.klr-demo-installed"
want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest())')"
if [[ ! -x .venv/bin/python || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e .
    echo "$want" > "$stamp"
fi
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python scripts/demo.py "$name"
