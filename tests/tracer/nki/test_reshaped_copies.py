"""Copies between views of different shapes with the same partitions and size.

``dst[i_p, i_c * n_rows + i_r] = nl.copy(src[...])`` (examples/transpose2d.py with a whole
source) crashed in ``View.box``: the assignment boxed the source with the destination's
region although the two have different shapes. Such a copy moves the k-th element (row-major
over the view) of the source to the k-th of the destination; the property test checks that
against numpy for views given by index expressions over random factorisations and layouts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from klr.errors import KlrError
from tests.tracer.nki.util import rand, run_kernel

P = 4


def _factorisations(n: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [(n,)]
    for a in range(2, n + 1):
        if n % a == 0:
            out += [(a, *rest) for rest in _factorisations(n // a) if len(rest) < 2]
    return out


def _view(name: str, dims: tuple[int, ...], order: tuple[int, ...]) -> tuple[str, str, np.ndarray]:
    """For a [P, *dims] view of a [P, F] tile whose free elements are laid out with the axes in
    ``order``: the code defining its index tiles, the index expression, and each view
    element's flat free index (row-major over the view)."""
    rank = len(dims)
    strides = [0] * rank
    step = 1
    for axis in reversed(order):
        strides[axis] = step
        step *= dims[axis]
    code = f"    {name}_p = nl.arange(x.shape[0])[{_sel(-1, rank)}]\n"
    terms = []
    for k, n in enumerate(dims):
        code += f"    {name}{k} = nl.arange({n})[{_sel(k, rank)}]\n"
        terms.append(f"{name}{k} * {strides[k]}")
    flat = np.zeros(dims, dtype=np.int64)
    for idx in np.ndindex(*dims):
        flat[idx] = sum(i * s for i, s in zip(idx, strides, strict=True))
    return code, f"{name}_p, {' + '.join(terms)}", flat.reshape(-1)


def _sel(k: int, rank: int) -> str:
    """The selection putting an arange on free axis ``k`` of ``rank`` (-1: the partition axis)."""
    return ", ".join(":" if j == k + 1 else "None" for j in range(rank + 1))


def _kernel(code: str, src_index: str, dst_index: str) -> str:
    return ("def kernel(x):\n"
            "    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)\n"
            "    src = nl.load(x)\n"
            "    dst = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.sbuf)\n"
            f"{code}"
            f"    dst[{dst_index}] = nl.copy(src[{src_index}])\n"
            "    nl.store(out, value=dst)\n"
            "    return out\n")


@st.composite
def copies(draw: st.DrawFn) -> tuple[int, tuple[tuple[int, ...], tuple[int, ...]] | None,
                                      tuple[tuple[int, ...], tuple[int, ...]] | None]:
    """(F, source view, destination view); a view is (dims, layout order), None for ``[...]``."""
    f = draw(st.sampled_from([1, 2, 3, 4, 6, 8, 12]))

    def view() -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        if draw(st.booleans()):
            return None
        dims = draw(st.sampled_from(_factorisations(f)))
        return dims, tuple(draw(st.permutations(range(len(dims)))))
    return f, view(), view()


@settings(max_examples=150, derandomize=True, deadline=None)
@given(copies())
def test_copy_between_views_moves_elements_in_row_major_order(case: tuple) -> None:  # type: ignore[type-arg]
    f, src, dst = case
    x = rand(P, f)
    code, index, flat = "", {}, {}
    for name, v in (("s", src), ("d", dst)):
        if v is None:
            index[name], flat[name] = "...", np.arange(f)
        else:
            more, index[name], flat[name] = _view(name, *v)
            code += more
    source = _kernel(code, index["s"], index["d"])
    with tempfile.TemporaryDirectory() as tmp:
        try:
            (out,) = run_kernel(Path(tmp), source, x)
        except KlrError:
            return  # a view klr refuses is an error with a position, never a crash
    expect = np.zeros_like(x)
    expect[:, flat["d"]] = x[:, flat["s"]]
    np.testing.assert_array_equal(out, expect)


def test_transpose_with_a_whole_source(tmp_path: Path) -> None:
    """The issue's reproducer: examples/transpose2d.py with ``src[...]`` on the right."""
    source = ("def kernel(x, n_rows):\n"
              "    parts, width = x.shape\n"
              "    n_cols = width // n_rows\n"
              "    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)\n"
              "    src = nl.load(x)\n"
              "    i_p = nl.arange(parts)[:, None, None]\n"
              "    i_r = nl.arange(n_rows)[None, :, None]\n"
              "    i_c = nl.arange(n_cols)[None, None, :]\n"
              "    dst = nl.ndarray((parts, width), dtype=x.dtype, buffer=nl.sbuf)\n"
              "    dst[i_p, i_c * n_rows + i_r] = nl.copy(src[...])\n"
              "    nl.store(out, value=dst)\n"
              "    return out\n")
    x = rand(128, 64)
    (out,) = run_kernel(tmp_path, source, x, n_rows=8)
    # element k = r * 8 + c of the source row goes to position c * 8 + r
    expect = x.reshape(128, 8, 8).transpose(0, 2, 1).reshape(128, 64)
    np.testing.assert_array_equal(out, expect)
