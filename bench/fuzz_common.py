"""What the targets of bench/fuzz.py share: cases and outcomes, drawing cases deterministically,
and the checks of a run (error messages, escapes, files written, ``klr`` command lines).

A target has a ``name``, a per-case ``timeout``, ``cases(seed)`` (an endless, deterministic
stream of ``Case``), ``prepare(casedir)`` (files a case needs, made before the fork), ``run``
(in the child; returns an ``Outcome``; any exception it lets out is classified by the
driver), ``units``/``rebuild`` (the pieces shrinking may drop) and ``save`` (the files of a
reproducer; returns how to run it by hand). The generators themselves live in tests/fuzz and
are shared with the test suite.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
import stat
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from tests.fuzz import attacks

from klr.errors import GatherError, KlrError, TraceError

CANARY_VALUE = "klr-fuzz-canary-3f9d1c"
CANARY_FILE = "canary-ran"   # created (in the case directory) only if user code ran
LIB = "@LIB@"                # stands for the canary library's path in generated sources
WORK = "@D"                  # stands for the case's working directory in command lines
CANARY_C = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void ran(void) {
    const char *p = getenv("KLR_FUZZ_CANARY_FILE");
    FILE *f = p ? fopen(p, "w") : NULL;
    if (f) { fputs("ran\n", f); fclose(f); }
}
"""


@dataclass
class Case:
    target: str
    gen: str
    index: int
    tag: str
    payload: dict[str, Any]


@dataclass
class Outcome:
    cls: str | None = None    # None: no failure
    sig: str = ""             # groups failures that are the same bug
    detail: str = ""
    seconds: float = 0.0


def crash_signature(exc: BaseException) -> str:
    """Exception type and the innermost frame inside klr of its root cause: the same bug gives
    the same text."""
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    name = type(exc).__name__ if root is exc else f"{type(exc).__name__}({type(root).__name__})"
    inside = f"{os.sep}klr{os.sep}"
    frames = [f for f in traceback.extract_tb(root.__traceback__) if inside in f.filename]
    return f"{name} at {frames[-1].filename.rsplit(inside, 1)[1]}:{frames[-1].name}" if frames else name


# ---- drawing cases ---------------------------------------------------------------------------

def _int_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def draw(strategy: st.SearchStrategy[Any], seed: int, count: int) -> list[Any]:
    """``count`` values of a hypothesis strategy (fewer if it has fewer), fixed by ``seed``."""
    out: list[Any] = []

    @hypothesis_seed(seed)
    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(strategy)
    def collect(value: Any) -> None:
        out.append(value)

    collect()
    return out


def from_strategy(strategy: st.SearchStrategy[Any], key: str, batch: int = 40) -> Iterator[Any]:
    """Values of a hypothesis strategy, in batches seeded by ``key``: the same on every run."""
    for b in itertools.count():
        try:
            yield from draw(strategy, _int_seed(f"{key}:{b}"), batch)
        except Exception as exc:   # a bug of the generator, not of klr: say so and go on
            print(f"  generator {key} batch {b} failed: {exc!r}", file=sys.stderr)


def from_rng(fn: Callable[[random.Random], Any], key: str) -> Iterator[Any]:
    """``fn`` of a ``Random`` seeded by ``key`` and the case number: the same on every run."""
    for i in itertools.count():
        try:
            yield fn(random.Random(f"{key}:{i}"))
        except Exception as exc:
            print(f"  generator {key} case {i} failed: {exc!r}", file=sys.stderr)


class Target:
    name = ""
    timeout = 10.0

    def __init__(self, scratch: Path, timeout: float | None) -> None:
        self.scratch = scratch
        if timeout is not None:
            self.timeout = timeout

    def generators(self, seed: int) -> dict[str, tuple[int, Iterator[tuple[str, dict[str, Any]]]]]:
        """name -> (weight, stream of (tag, payload))."""
        raise NotImplementedError

    def cases(self, seed: int) -> Iterator[Case]:
        gens = self.generators(seed)
        names = sorted(gens)
        pick = random.Random(f"{seed}:{self.name}")
        for index in itertools.count():
            gen = pick.choices(names, [gens[n][0] for n in names])[0]
            tag, payload = next(gens[gen][1])
            yield Case(self.name, gen, index, tag, payload)

    def deadline(self, case: Case) -> float:
        """Seconds the whole case may take: ``timeout`` per command it runs (and a rerun with
        --debug), or ``timeout`` when it runs in-process."""
        commands = len(case.payload.get("commands", ()))
        return self.timeout * (commands + 1) if commands else self.timeout

    def prepare(self, casedir: Path) -> None:
        os.environ["KLR_FUZZ_CANARY_FILE"] = str(casedir / CANARY_FILE)

    def run(self, case: Case, casedir: Path) -> Outcome:
        raise NotImplementedError

    def units(self, case: Case) -> list[Any] | None:
        return None

    def rebuild(self, case: Case, units: list[Any]) -> Case:
        raise NotImplementedError

    def save(self, case: Case, d: Path) -> str:
        return f"python bench/fuzz.py --replay {d / 'case.json'}"


def with_payload(case: Case, **payload: Any) -> Case:
    return Case(case.target, case.gen, case.index, case.tag, {**case.payload, **payload})


def chunks(data: bytes, parts: int = 128) -> list[bytes]:
    size = max(1, len(data) // parts)
    return [data[i:i + size] for i in range(0, len(data), size)]


# ---- checks shared by the targets ------------------------------------------------------------

def api_error(err: KlrError, path: Path | None = None) -> Outcome:
    """A KlrError is fine when it is one sentence, at a position when it is a trace error, at a
    position or naming the file when it is a gather error."""
    if not err.message or "\n" in err.message:
        return Outcome("wrong", f"{type(err).__name__} message is not one line", repr(err.message[:500]))
    placed = err.pos is not None and err.pos.line > 0
    if isinstance(err, TraceError) and not placed:
        return Outcome("wrong", "TraceError without a position", err.message[:500])
    if isinstance(err, GatherError) and not placed and (path is None or str(path) not in err.message):
        return Outcome("wrong", "GatherError without a position or file name", err.message[:500])
    return Outcome()


def escapes(texts: list[str], casedir: Path, markers: bool = True) -> Outcome:
    """A host object, the planted secret or a library's side effect in what the case produced."""
    if (casedir / CANARY_FILE).exists():
        return Outcome("escape", "canary file created: user code or a library constructor ran", "")
    for text in texts:
        if CANARY_VALUE in text:
            return Outcome("escape", "planted environment secret leaked", text[:500])
        m = attacks.HOST_MARKERS.search(text) if markers else None
        if m:
            return Outcome("escape", f"host object: {re.sub(r'0x[0-9a-fA-F]+', '0x_', m.group(0))[:40]}",
                           text[max(0, m.start() - 200):m.end() + 200])
    return Outcome()


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every regular file below ``roots`` (links and FIFOs are not followed)."""
    out = {}
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for n in files:
                p = os.path.join(dirpath, n)
                st_ = os.lstat(p)
                if stat.S_ISREG(st_.st_mode):
                    out[p] = (st_.st_size, st_.st_mtime_ns)
    return out


def klr_command(argv: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None,
                head: bool = False) -> tuple[int | None, str, str]:
    """Run ``klr argv``: (exit status or None on timeout, stdout, stderr). With ``head`` the
    reader of stdout is gone before klr writes, as with ``| head -1`` but without the race."""
    cmd = [sys.executable, "-m", "klr", *argv]
    read, write = os.pipe() if head else (-1, -1)
    if head:
        os.close(read)
    try:
        with subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, env=env, errors="replace",
                              stdout=write if head else subprocess.PIPE, stderr=subprocess.PIPE) as p:
            try:
                out, err = p.communicate(timeout=timeout)
                return p.returncode, out or "", err
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return None, "", ""
    finally:
        if head:
            os.close(write)


def check_command(argv: list[str], code: int | None, err: str, cwd: Path, timeout: float,
                  env: dict[str, str] | None = None) -> Outcome:
    """Exit status and stderr of one ``klr`` run: never 70, a traceback or a signal."""
    if code is None:
        return Outcome("hang", f"klr {argv[0] if argv else ''} timed out", f"klr {argv!r}")
    internal = re.search(r"^internal error: (\w+)", err, re.M)
    raised = re.findall(r"^(\w+(?:Error|Exception|Interrupt))\b", err, re.M)
    shown = "--debug" not in argv and (raised or "Traceback (most recent" in err)  # --debug asks for them
    if code in (0, 1, 2, 141) and not internal and not shown:
        return Outcome()
    kind = internal.group(1) if internal else raised[-1] if raised else f"exit {code}"
    if code == 70:   # the message has no stack: rerun with --debug for the place
        err_debug = klr_command([*argv, "--debug"], cwd, timeout, env=env)[2]
        where = klr_frame(err_debug)
    else:
        where = klr_frame(err)
    return Outcome("blowup" if kind == "MemoryError" else "crash", f"{kind}{where} (exit {code})",
                   f"klr {argv!r}\n{err[-2500:]}")


def klr_frame(text: str) -> str:
    """`` at <file>:<function>`` of the innermost klr frame of a printed traceback, or ''."""
    frames = re.findall(r'^\s*File "[^"]*[/\\]klr[/\\]([^"]+)", line \d+, in (\S+)', text, re.M)
    return f" at {frames[-1][0]}:{frames[-1][1]}" if frames else ""


def check_files(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], ok: bool,
                allowed: tuple[Path, ...]) -> Outcome:
    """No temporary file left, nothing written outside ``allowed``, nothing written on failure."""
    changed = sorted(p for p, v in after.items() if before.get(p) != v)
    for p in changed:
        name = os.path.basename(p)
        if name.startswith(".") and name.endswith(".tmp"):
            return Outcome("partial", "temporary file left behind", p)
        if not any(Path(p).is_relative_to(a) for a in allowed):
            return Outcome("escape", "wrote outside its output location", p)
    if changed and not ok:
        return Outcome("partial", "a failed command left output files", "\n".join(changed[:5]))
    return Outcome()


def run_commands(commands: list[dict[str, Any]], casedir: Path, timeout: float) -> Outcome:
    """Run ``klr`` command lines in ``casedir/work``; each checked for exit, stderr and files."""
    work, outside = casedir / "work", casedir / "outside"
    for c in commands:
        argv = [a.replace(WORK, str(work)).replace("@OUT", str(outside)) for a in c["argv"]]
        env = {**os.environ, **c.get("env", {})}
        before = snapshot(work, outside)
        code, out, err = klr_command(argv, work, timeout, env=env, head=c.get("head", False))
        got = check_command(argv, code, err, work, timeout, env)
        if got.cls:
            return got
        allowed = tuple(work / a for a in c.get("writes", ["."]))
        got = check_files(before, snapshot(work, outside), code == 0, allowed)
        if got.cls:
            got.detail = f"klr {argv!r}: {got.detail}"
            return got
        got = escapes([out, err], casedir, markers=False)
        if got.cls:
            return got
        shown = "--debug" not in argv and attacks.HOST_MARKERS.search(err)   # a traceback shows them
        if shown:
            return Outcome("wrong", "an error message shows a host object", err[-1500:])
        if c.get("stop_on_error", True) and code != 0:
            break
    return Outcome()


