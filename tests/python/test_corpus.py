"""Gather every kernel of the public corpus, when a checkout of it is available.

Set ``KLR_CORPUS`` to the corpus list (JSON with ``kernels``: repo, path, kernel, params,
invocations) and ``KLR_CORPUS_ROOT`` to a directory holding one source tree per repository,
named ``owner+name``. Without them the test is skipped (tests never use the network).
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

from klr.python import ast as K
from klr.python.args import tensor_expr, value_expr
from klr.python.gather import gather_file

CORPUS = os.environ.get("KLR_CORPUS")
ROOT = os.environ.get("KLR_CORPUS_ROOT")

#: Corpus entries that are not NKI kernels (a torch reference implementation).
NOT_KERNELS = {("src/nki_samples/tutorials/rotary/rotary_nki_kernels.py", "neuron_apply_rotary_embedding")}


def _kernels() -> list[dict[str, Any]]:
    if not CORPUS or not ROOT:
        return []
    return list(json.loads(Path(CORPUS).read_text())["kernels"])


def _input(spec: dict[str, Any]) -> K.Expr | None:
    if "shape" in spec:
        return tensor_expr(tuple(spec["shape"]), spec["dtype"])
    if "value" in spec:
        value = spec["value"]
        return value_expr(tuple(value) if isinstance(value, list) else value)
    return None  # an object the corpus could only describe by type


def _grid(text: str | None) -> Any:
    try:
        return ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError):
        return None  # e.g. a grid built with nl.spmd_dim(...)


@pytest.mark.skipif(not CORPUS or not ROOT, reason="KLR_CORPUS and KLR_CORPUS_ROOT are not set")
@pytest.mark.parametrize("entry", _kernels(), ids=lambda e: f"{e['path']}::{e['kernel']}"
                         if isinstance(e, dict) else str(e))  # no entries: pytest passes NOTSET
def test_corpus_kernel_gathers(entry: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    if (entry["path"], entry["kernel"]) in NOT_KERNELS:
        pytest.skip("not an NKI kernel")
    monkeypatch.chdir(Path(ROOT or ".") / entry["repo"].replace("/", "+"))
    kwargs: dict[str, K.Expr] = {}
    grid = None
    for invocation in entry.get("invocations", [])[:1]:
        specs = list(zip(entry["params"], invocation["inputs"], strict=False))
        specs += list(invocation["kwargs"].items())
        for name, spec in specs:
            value = _input(spec) if isinstance(spec, dict) else value_expr(spec)
            if value is not None:
                kwargs[name] = value
        grid = _grid(invocation.get("grid"))
    kernel = gather_file(entry["path"], entry["kernel"], kwargs=kwargs, grid=grid)
    assert kernel.funcs[0].name == kernel.entry
