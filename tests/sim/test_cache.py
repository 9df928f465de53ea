"""The compile cache (klr.sim.cache): hits skip gather and trace; any change to what a trace
depends on misses; damaged, planted or oversized entries are ignored; klr cache info/clear."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import klr
import klr.python.gather
from klr.cli.main import main
from klr.sim import cache, simulate
from klr.sim.cache import Cache, CachedTrace

from .conftest import Loader

ROOT = Path(__file__).resolve().parents[2]

KERNEL = """
    import neuronxcc.nki as nki
    import neuronxcc.nki.language as nl
    import helper


    @nki.jit
    def add(a, b):
        out = nl.ndarray(a.shape, dtype=a.dtype, buffer=nl.shared_hbm)
        print("tracing add")
        nl.store(out, value=helper.combine(nl.load(a), nl.load(b)))
        return out
"""

HELPER = """
    import neuronxcc.nki.language as nl


    def combine(x, y):
        return nl.add(x, y)
"""


class Counts:
    def __init__(self) -> None:
        self.gathers = 0
        self.traces = 0


@pytest.fixture
def counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counts]:
    """A fresh cache directory, with gather and trace calls counted."""
    monkeypatch.setenv("KLR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KLR_CACHE", raising=False)
    cache._memory.clear()
    simulate._traces.clear()
    found = Counts()
    gather_file, trace = klr.python.gather.gather_file, simulate._trace

    def counting_gather(*args: object, **kwargs: object) -> object:
        found.gathers += 1
        return gather_file(*args, **kwargs)  # type: ignore[arg-type]

    def counting_trace(*args: object, **kwargs: object) -> object:
        found.traces += 1
        return trace(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(klr.python.gather, "gather_file", counting_gather)
    monkeypatch.setattr(simulate, "_trace", counting_trace)
    yield found
    cache._memory.clear()


def forget() -> None:
    """What a new process knows: nothing in memory, only the cache directory."""
    cache._memory.clear()
    simulate._traces.clear()


def ones(*shape: int) -> np.ndarray:
    return np.ones(shape, np.float32)


def entries() -> list[str]:
    root = Path(os.environ["KLR_CACHE_DIR"])
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def setup(load: Loader, helper: str = HELPER) -> object:
    load(helper, "helper")
    return load(KERNEL)


def test_a_repeated_call_skips_gather_and_trace_in_process_and_across_processes(
        load: Loader, counts: Counts, capsys: pytest.CaptureFixture[str]) -> None:
    kern = setup(load)
    sim = klr.simulate(kern.add)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(sim(ones(128, 8), ones(128, 8)), 2 * ones(128, 8))
    assert (counts.gathers, counts.traces) == (1, 1)
    assert sim.last is not None and not sim.last.cached
    first = sim.last.traced
    assert len(entries()) == 1 and entries()[0].endswith(".klrc")

    np.testing.assert_array_equal(sim(3 * ones(128, 8), ones(128, 8)), 4 * ones(128, 8))
    assert (counts.gathers, counts.traces) == (1, 1)
    assert sim.last.cached and sim.last.traced is first  # this process's own objects

    forget()
    capsys.readouterr()
    np.testing.assert_array_equal(sim(5 * ones(128, 8), ones(128, 8)), 6 * ones(128, 8))
    assert (counts.gathers, counts.traces) == (1, 1)
    assert sim.last.cached and isinstance(sim.last.traced, CachedTrace)
    assert sim.last.traced.kernel == first.kernel
    assert capsys.readouterr().out == "tracing add\n"  # the kernel's print output, as when traced


def test_a_changed_kernel_file_misses(load: Loader, counts: Counts) -> None:
    kern = setup(load)
    klr.simulate(kern.add)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    Path("kern.py").write_text(textwrap.dedent(KERNEL).replace("helper.combine(nl.load(a), nl.load(b))",
                                                               "nl.multiply(nl.load(a), 3.0)"))
    forget()
    got = klr.simulate(kern.add)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    np.testing.assert_array_equal(got, 3 * ones(128, 8))
    assert (counts.gathers, counts.traces) == (2, 2)


def test_a_changed_helper_module_misses_in_process_and_across_processes(load: Loader, counts: Counts) -> None:
    kern = setup(load)
    sim = klr.simulate(kern.add)  # type: ignore[attr-defined]
    sim(ones(128, 8), ones(128, 8))
    Path("helper.py").write_text(textwrap.dedent(HELPER).replace("nl.add", "nl.subtract"))
    np.testing.assert_array_equal(sim(ones(128, 8), ones(128, 8)), 0 * ones(128, 8))
    assert (counts.gathers, counts.traces) == (2, 2)
    Path("helper.py").write_text(textwrap.dedent(HELPER).replace("nl.add", "nl.maximum"))
    forget()
    np.testing.assert_array_equal(sim(ones(128, 8), 2 * ones(128, 8)), 2 * ones(128, 8))
    assert (counts.gathers, counts.traces) == (3, 3)


def test_a_new_module_that_changes_what_an_import_finds_misses(load: Loader, counts: Counts,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    os.mkdir("helper")
    Path("helper/__init__.py").write_text(textwrap.dedent(HELPER))
    monkeypatch.setitem(sys.modules, "helper", types.ModuleType("helper"))  # Python's import of kern
    kern = load(KERNEL)
    klr.simulate(kern.add)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    Path("helper.py").write_text(textwrap.dedent(HELPER).replace("nl.add", "nl.subtract"))  # found first
    forget()
    got = klr.simulate(kern.add)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    np.testing.assert_array_equal(got, 0 * ones(128, 8))
    assert (counts.gathers, counts.traces) == (2, 2)


def test_other_arguments_options_limits_or_klr_miss(load: Loader, counts: Counts,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    kern = setup(load)
    add = kern.add  # type: ignore[attr-defined]
    calls = [
        lambda: klr.simulate(add)(ones(128, 8), ones(128, 8)),
        lambda: klr.simulate(add)(ones(128, 16), ones(128, 16)),                       # shape
        lambda: klr.simulate(add)(ones(128, 16).astype(np.float16), ones(128, 16).astype(np.float16)),
        lambda: klr.simulate(add)[2](ones(128, 16), ones(128, 16)),                    # grid
        lambda: klr.simulate(add, arch=3)(ones(128, 16), ones(128, 16)),               # arch
        lambda: klr.simulate(add, limits={"max_steps": 10**6})(ones(128, 16), ones(128, 16)),
    ]
    for n, call in enumerate(calls, 1):
        call()
        assert (counts.gathers, counts.traces) == (n, n)
    forget()
    for call in calls:
        call()
    assert (counts.gathers, counts.traces) == (len(calls), len(calls))
    monkeypatch.setattr(cache, "_fingerprint", "another klr")
    forget()
    calls[0]()
    assert (counts.gathers, counts.traces) == (len(calls) + 1, len(calls) + 1)


def test_the_fingerprint_follows_klrs_own_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "_fingerprint", None)
    before = cache.fingerprint()
    monkeypatch.setattr(cache, "_fingerprint", None)
    monkeypatch.setattr(klr, "__version__", "9.9.9")
    assert cache.fingerprint() != before


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "flipped", "header", "foreign"])
def test_a_damaged_entry_is_ignored_and_replaced(load: Loader, counts: Counts, damage: str) -> None:
    kern = setup(load)
    sim = klr.simulate(kern.add)  # type: ignore[attr-defined]
    sim(ones(128, 8), ones(128, 8))
    (name,) = entries()
    path = Path(os.environ["KLR_CACHE_DIR"]) / name
    good = path.read_bytes()
    bad = {
        "garbage": b"\x00\xff" * 100,
        "empty": b"",
        "truncated": good[:len(good) // 2],
        "flipped": good[:-40] + bytes([good[-40] ^ 1]) + good[-39:],
        "header": good.replace(b'"steps":', b'"steps":-'),
        "foreign": good.replace(name[:64].encode(), b"0" * 64),
    }[damage]
    path.write_bytes(bad)
    forget()
    np.testing.assert_array_equal(sim(ones(128, 8), ones(128, 8)), 2 * ones(128, 8))
    assert (counts.gathers, counts.traces) == (2, 2)
    assert path.read_bytes().startswith(good[:len(cache.MAGIC)])  # replaced by a sound entry:
    forget()
    sim(ones(128, 8), ones(128, 8))
    assert (counts.gathers, counts.traces) == (2, 2)


def test_a_planted_symbolic_link_is_neither_followed_nor_written_through(
        load: Loader, counts: Counts, tmp_path: Path) -> None:
    kern = setup(load)
    sim = klr.simulate(kern.add)  # type: ignore[attr-defined]
    sim(ones(128, 8), ones(128, 8))
    (name,) = entries()
    path = Path(os.environ["KLR_CACHE_DIR"]) / name
    target = tmp_path / "elsewhere"
    target.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(target)
    forget()
    sim(ones(128, 8), ones(128, 8))
    assert (counts.gathers, counts.traces) == (2, 2)  # the link was not read
    assert not path.is_symlink()  # the link itself was replaced, its target left alone
    target.write_bytes(b"not an entry")
    forget()
    sim(ones(128, 8), ones(128, 8))
    assert (counts.gathers, counts.traces) == (2, 2)


def test_a_directory_others_can_write_is_not_used(load: Loader, counts: Counts) -> None:
    kern = setup(load)
    root = Path(os.environ["KLR_CACHE_DIR"])
    root.mkdir(mode=0o777)
    root.chmod(0o777)
    klr.simulate(kern.add)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    assert entries() == []
    assert Cache().problem() == f"{root} is writable by other users"


def test_disabled_by_the_environment_or_the_api(load: Loader, counts: Counts,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    kern = setup(load)
    klr.simulate(kern.add, cache=False)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    monkeypatch.setenv("KLR_CACHE", "0")
    klr.simulate(kern.add)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    assert entries() == []
    assert (counts.gathers, counts.traces) == (2, 2)


def test_the_least_recently_used_entries_go_beyond_the_size_limit(load: Loader, counts: Counts) -> None:
    kern = setup(load)
    sim = klr.simulate(kern.add)  # type: ignore[attr-defined]
    sim(ones(128, 8), ones(128, 8))
    assert sim.last is not None
    (name,) = entries()
    size = (Path(os.environ["KLR_CACHE_DIR"]) / name).stat().st_size
    small = Cache(limit=4 * size)
    sources = cache._memory[name[:64]][0]
    entry = cache.Entry(sim.last.gathered, sim.last.traced)
    keys = [f"{i:064x}" for i in range(1, 6)]
    for i, key in enumerate(keys):
        assert small.store(key, sources, entry)
        os.utime(Path(small.root) / (key + ".klrc"), ns=(i * 10**9, i * 10**9))
    assert set(entries()) == {name, *(k + ".klrc" for k in keys[2:])}  # four fit; the oldest went
    assert not Cache(limit=4 * size - 4).store(keys[0], sources, entry)  # larger than a quarter


def test_klr_cache_info_and_clear(load: Loader, counts: Counts, capsys: pytest.CaptureFixture[str]) -> None:
    root = os.environ["KLR_CACHE_DIR"]
    assert main(["cache", "info"]) == 0
    assert capsys.readouterr().out == (f"path: {root}\nstate: on\nentries: 0\nbytes: 0\n"
                                       f"limit: {1024 << 20} bytes\n")
    assert not os.path.exists(root)  # info creates nothing
    kern = setup(load)
    klr.simulate(kern.add)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    (name,) = entries()
    size = os.path.getsize(os.path.join(root, name))
    capsys.readouterr()
    assert main(["cache", "info"]) == 0
    assert capsys.readouterr().out == (f"path: {root}\nstate: on\nentries: 1\nbytes: {size}\n"
                                       f"limit: {1024 << 20} bytes\n")
    assert main(["cache", "clear"]) == 0
    assert capsys.readouterr().out == f"removed 1 entry from {root}\n"
    assert entries() == []
    klr.simulate(kern.add)(ones(128, 8), ones(128, 8))  # type: ignore[attr-defined]
    assert (counts.gathers, counts.traces) == (2, 2)  # cleared in memory too


def test_klr_run_uses_the_cache_unless_told_not_to(tmp_path: Path) -> None:
    for name, source in {"kern.py": KERNEL, "helper.py": HELPER, "prog.py": """
            import numpy as np
            from kern import add

            print(add(np.ones((128, 4), np.float32), np.ones((128, 4), np.float32)).sum())
            """}.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    klr_run = [sys.executable, "-m", "klr", "run"]
    for options, root, stored in (["--no-cache"], "off", 0), ([], "on", 1), ([], "on", 1):
        env["KLR_CACHE_DIR"] = str(tmp_path / root)
        done = subprocess.run([*klr_run, *options, "prog.py"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert (done.returncode, done.stdout, done.stderr) == (0, "tracing add\n1024.0\n", "")
        assert len(os.listdir(tmp_path / root)) == stored if (tmp_path / root).exists() else stored == 0
