"""Random ``klr`` command lines over prepared good and bad files, for tests/fuzz and bench/fuzz.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

import klr

ROOT = Path(__file__).resolve().parents[2]


def make_workdir(d: Path) -> Path:
    """Good and bad input files of every kind, next to each other, in ``d``."""
    shutil.copy(ROOT / "examples" / "softmax.py", d / "softmax.py")
    x = np.zeros((256, 160), np.float32)
    py = klr.gather(str(d / "softmax.py"), x, name="softmax_kernel")
    klr.save(d / "k.klr", py)
    klr.save(d / "k.core.klr", klr.trace(py))
    np.save(d / "x.npy", x)
    np.save(d / "small.npy", np.zeros((2, 3), np.int64))
    np.save(d / "obj.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    (d / "empty.py").write_text("")
    (d / "bad.py").write_text("def softmax_kernel(x):\n    return x +\n")
    (d / "noise.klr").write_bytes(bytes(range(256)) * 3)
    data = (d / "k.core.klr").read_bytes()
    (d / "cut.klr").write_bytes(data[: len(data) // 2])
    (d / "sub").mkdir()
    return d


FILES = ("softmax.py", "k.klr", "k.core.klr", "x.npy", "small.npy", "obj.npy", "empty.py", "bad.py",
         "noise.klr", "cut.klr", "sub", "missing.py", "", "-", "sub/missing.klr")
# What a command line can hold: no NUL, and no lone surrogate (argv is bytes; undecodable bytes
# arrive as the surrogates U+DC80-U+DCFF, which the file names of make_hostile_files cover).
ARG_TEXT = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
DIMS = st.sampled_from(("256,160", "0", "", "1,2,3", "-1", "10**6", "99999999999999999999",
                        "1000000,1000000", "256 , 160", "a", "2.5", ",", "256,160,"))
DTYPES = st.sampled_from(("float32", "bfloat16", "int8", "nl.float16", "np.float32", "f32", "",
                          "float8_e5m2"))
SPECS = st.one_of(
    st.builds(lambda n, dt, dims: f"{n}{dt}[{dims}]", st.sampled_from(("", "x=", "y=", "=", "x =")),
              DTYPES, DIMS),
    st.sampled_from(("3", "2.5", "True", "None", "'relu'", "(1, 2)", "nl.bfloat16", "np.add", "x=1e999",
                     "[1, [2]]", "{'a': 1}", "1 +", "lambda: 0", "__import__('os')", "x=x", "...", "b''",
                     "nisa.reduce_cmd.reset", "x=float32[256,160]", "float32[256,160]")),
    st.text(ARG_TEXT, max_size=12),
)
GRIDS = st.one_of(st.sampled_from(("2,2", "0", "-1", "1", "a", "1,,2", "(2, 3)", "99999999999", "", " ",
                                   "1" * 40, "2,2,2,2,2,2,2,2,2,2")), st.text(ARG_TEXT, max_size=6))
NUMBERS = st.sampled_from(("0", "1", "2", "3", "-1", "99", "x"))


def _files(d: Path, names: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from([str(d / f) if f not in ("", "-") else f for f in names])


def command_lines(d: Path, names: tuple[str, ...] = FILES) -> st.SearchStrategy[list[str]]:
    """``klr`` argument lists over the files ``names`` in ``d`` (made by ``make_workdir``)."""
    files = _files(d, names)
    options = st.lists(st.one_of(
        st.tuples(st.just("--arg"), SPECS), st.tuples(st.just("--grid"), GRIDS),
        st.tuples(st.just("--lnc"), NUMBERS), st.tuples(st.just("--arch"), NUMBERS),
        st.tuples(st.just("-o"), st.sampled_from((str(d / "out" / "o.klr"), str(d / "sub"),
                                                   str(d / "o.klr")))),
        st.tuples(st.just("--args-json"), files)), max_size=4).map(lambda ps: [x for p in ps for x in p])
    gather = st.builds(lambda f, fn, opts: ["gather", f, fn, *opts], files,
                       st.sampled_from(("softmax_kernel", "nope", "", "x.y", "softmax_kernel.__call__")),
                       options)
    trace = st.builds(lambda f, opts: ["trace", f, *opts], files, options)
    named = st.builds(lambda n, f: f"{n}={f}", st.sampled_from(("x", "y", "")), files)
    inputs = st.lists(st.one_of(files, named), max_size=3)
    ev = st.builds(lambda f, ins, extra: ["eval", f, *ins, "--output-dir", str(d / "o"), *extra],
                   files, inputs,
                   st.lists(st.sampled_from(("--strict", "--random", "7", "-1", "--debug")), max_size=3))
    info = st.builds(lambda f, dump: ["info", f, *dump], files,
                     st.sampled_from(([], ["--dump", "json"], ["--dump", "sexp"], ["--dump", "pretty"])))
    listing = st.builds(lambda p: ["list", p], st.text(ARG_TEXT, max_size=5))
    return st.one_of(gather, trace, ev, info, listing)
