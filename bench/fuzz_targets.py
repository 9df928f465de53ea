"""The five targets of bench/fuzz.py (docs/fuzzing.md); the generators live in tests/fuzz."""

from __future__ import annotations

import ast
import os
import random
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fuzz_common import (
    CANARY_C,
    CANARY_FILE,
    CANARY_VALUE,
    LIB,
    WORK,
    Case,
    Outcome,
    Target,
    api_error,
    chunks,
    escapes,
    from_rng,
    from_strategy,
    klr_command,
    run_commands,
    with_payload,
)
from hypothesis import strategies as st
from tests.fuzz import attacks, cli_gen, hostile, mutants, pygen
from tests.fuzz.core_gen import kernels

import klr
from klr.errors import KlrError
from klr.format.file import from_bytes, to_bytes

# ---- example files ---------------------------------------------------------------------------

def example_files() -> dict[str, bytes]:
    """Every example gathered and traced, as KLR file bytes (``<name>.klr``, ``<name>.core.klr``)."""
    import numpy as np

    out = {}
    for name in mutants.NAMES:
        ex = mutants.refs.load(name)
        arrays = [np.zeros(shape, mutants.refs.np_dtype(dt)) for _, dt, shape in ex.inputs]
        py = klr.gather(str(ex.path), *arrays, name=ex.kernel, grid=ex.grid, **ex.kwargs)
        out[f"{name}.klr"] = to_bytes(py)
        out[f"{name}.core.klr"] = to_bytes(klr.trace(py).kernel)
    return out


# ---- decoder ---------------------------------------------------------------------------------

TRACE_LIMITS = {"max_steps": 5_000_000, "max_memory": 512 << 20}
"""Budgets that stop an attack well within a case's timeout and address-space limit, so that
what a case reports as a hang or a blow-up is one the budgets missed."""

class Decoder(Target):
    name = "decoder"

    def __init__(self, scratch: Path, timeout: float | None, seeds: dict[str, bytes],
                 fragments: list[bytes]) -> None:
        super().__init__(scratch, timeout)
        self.seeds = [seeds[k] for k in sorted(seeds)]
        self.pool = self.seeds + fragments

    def generators(self, seed: int) -> dict[str, tuple[int, Iterator[tuple[str, dict[str, Any]]]]]:
        def mutated(rng: random.Random) -> tuple[str, dict[str, Any]]:
            data, tag = hostile.mutate_bytes(rng.choice(self.seeds), rng, self.pool)
            return tag, {"data": data}
        return {"mutate": (1, from_rng(mutated, f"{seed}:decoder"))}

    def run(self, case: Case, casedir: Path) -> Outcome:
        from klr.cli.main import build_parser, cmd_info

        path = casedir / "input.klr"
        path.write_bytes(case.payload["data"])
        try:
            value = from_bytes(case.payload["data"])
        except KlrError as err:
            return api_error(err)
        for dump in (None, "json", "sexp", "pretty"):
            try:
                argv = ["info", str(path), "--debug", *(["--dump", dump] if dump else [])]
                cmd_info(build_parser().parse_args(argv))
            except KlrError as err:
                bad = api_error(err)
                if bad.cls:
                    return bad
        try:
            data = to_bytes(value)
        except KlrError:
            return Outcome()
        if to_bytes(from_bytes(data)) != data:
            return Outcome("wrong", "decode(encode(x)) re-encodes differently", "")
        return Outcome()

    def units(self, case: Case) -> list[Any]:
        return chunks(case.payload["data"])

    def rebuild(self, case: Case, units: list[Any]) -> Case:
        return with_payload(case, data=b"".join(units))

    def save(self, case: Case, d: Path) -> str:
        (d / "input.klr").write_bytes(case.payload["data"])
        return f"klr info {d / 'input.klr'} --dump json"


# ---- gather ----------------------------------------------------------------------------------

class Gather(Target):
    name = "gather"
    timeout = 20.0

    def generators(self, seed: int) -> dict[str, tuple[int, Iterator[tuple[str, dict[str, Any]]]]]:
        common = (mutants.EXAMPLES / "common.py").read_bytes()

        def hostile_(rng: random.Random) -> tuple[str, dict[str, Any]]:
            files, tag = hostile.hostile_source(rng, CANARY_FILE)
            return tag, {"files": files, "main": "kernel.py", "func": "kernel"}

        def text_mutant(rng: random.Random) -> tuple[str, dict[str, Any]]:
            name = rng.choice(mutants.NAMES)
            text, tag = hostile.mutate_text((mutants.EXAMPLES / f"{name}.py").read_text(), rng)
            files = {f"{name}.py": text.encode(), "common.py": common}
            func = mutants.refs.load(name).kernel
            return f"{name}:{tag}", {"files": files, "main": f"{name}.py", "func": func}

        programs = (("program", {"files": {"kernel.py": p.encode()}, "main": "kernel.py", "func": "kernel"})
                    for p in from_strategy(pygen.programs, f"{seed}:gather:program"))
        return {"hostile": (3, from_rng(hostile_, f"{seed}:gather:hostile")),
                "text-mutant": (3, from_rng(text_mutant, f"{seed}:gather:text")),
                "program": (1, programs)}

    def run(self, case: Case, casedir: Path) -> Outcome:
        from klr.python.gather import gather_file

        src = casedir / "src"
        src.mkdir()
        for name, data in case.payload["files"].items():
            (src / name).write_bytes(data)
        try:
            kernel = gather_file(str(src / case.payload["main"]), case.payload["func"])
            to_bytes(kernel)
        except KlrError as err:
            got = api_error(err, src / case.payload["main"])
            return got if got.cls else escapes([], casedir)
        return escapes([], casedir)

    def units(self, case: Case) -> list[Any]:
        return case.payload["files"][case.payload["main"]].splitlines(keepends=True)

    def rebuild(self, case: Case, units: list[Any]) -> Case:
        return with_payload(case, files={**case.payload["files"], case.payload["main"]: b"".join(units)})

    def save(self, case: Case, d: Path) -> str:
        for name, data in case.payload["files"].items():
            (d / name).write_bytes(data)
        return f"klr gather {d / case.payload['main']} {case.payload['func']}"


# ---- trace -----------------------------------------------------------------------------------

class Trace(Target):
    name = "trace"
    timeout = 30.0

    def __init__(self, scratch: Path, timeout: float | None, lib: Path | None) -> None:
        super().__init__(scratch, timeout)
        self.lib = lib

    def generators(self, seed: int) -> dict[str, tuple[int, Iterator[tuple[str, dict[str, Any]]]]]:
        lib = LIB if self.lib else None

        def attack(rng: random.Random) -> tuple[str, dict[str, Any]]:
            source, grid, tag = attacks.attack(rng, lib)
            return tag, {"source": source, "grid": grid}

        def hashseed(rng: random.Random) -> tuple[str, dict[str, Any]]:
            source, tag = attacks.set_program(rng)
            return tag, {"source": source}

        programs = (("program", {"source": src, "args": list(args)}) for src, args in
                    from_strategy(st.tuples(pygen.programs, pygen.arguments), f"{seed}:trace:program"))
        drawn = st.tuples(st.sampled_from(mutants.NAMES), st.lists(mutants.mutations, min_size=1, max_size=3))
        made = (mutants.make_mutant(name, ms) for name, ms in from_strategy(drawn, f"{seed}:trace:mutant"))
        muts = ((m.example, asdict(m) | {"kwargs": repr(m.kwargs)}) for m in made)
        return {"program": (3, programs), "mutant": (3, muts),
                "attack": (5, from_rng(attack, f"{seed}:trace:attack")),
                "hashseed": (1, from_rng(hashseed, f"{seed}:trace:hashseed"))}

    def deadline(self, case: Case) -> float:
        return self.timeout * 2 if case.gen == "hashseed" else self.timeout   # 5 commands of timeout / 3

    def _source(self, case: Case) -> str:
        return str(case.payload["source"]).replace(LIB, str(self.lib))

    def run(self, case: Case, casedir: Path) -> Outcome:
        p = case.payload
        if case.gen == "program":
            pygen.check_program(casedir, p["source"], tuple(p["args"]))
            return Outcome()
        if case.gen == "mutant":
            fields = {**p, "kwargs": ast.literal_eval(p["kwargs"]),
                      "grid": tuple(p["grid"]) if p["grid"] else None,
                      "inputs": tuple((n, d, tuple(s)) for n, d, s in p["inputs"])}
            mutants.run_mutant(mutants.Mutant(**fields), casedir)
            return Outcome()
        (casedir / "kernel.py").write_text(self._source(case))
        if case.gen == "hashseed":
            return self._hashseed(casedir)
        texts: list[str] = []
        try:
            py = klr.gather(str(casedir / "kernel.py"), name="kernel",
                            grid=tuple(p["grid"]) if p.get("grid") else None)
            result = klr.trace(py, limits=TRACE_LIMITS)
            texts += [m.message for m in result.messages] + [w.message for w in result.warnings]
            texts.append(to_bytes(result.kernel).decode("latin-1"))
        except KlrError as err:
            texts.append(str(err))
            got = api_error(err)
            if got.cls:
                return got
        return escapes(texts, casedir)

    def _hashseed(self, casedir: Path) -> Outcome:
        """Trace under two hash seeds: the Core files and the printed text must be the same."""
        commands: list[dict[str, Any]] = [{"argv": ["gather", "kernel.py", "kernel", "-o", "k.klr"]}]
        commands += [{"argv": ["trace", "k.klr", "-o", f"k{s}.core.klr"], "env": {"PYTHONHASHSEED": s}}
                     for s in ("1", "2")]
        work = casedir / "work"
        work.mkdir(exist_ok=True)
        (casedir / "outside").mkdir(exist_ok=True)
        shutil.copy(casedir / "kernel.py", work / "kernel.py")
        got = run_commands(commands, casedir, self.timeout / 3)
        if got.cls:
            return got
        files = [work / f"k{s}.core.klr" for s in ("1", "2")]
        if all(f.exists() for f in files) and files[0].read_bytes() != files[1].read_bytes():
            return Outcome("wrong", "Core bytes depend on PYTHONHASHSEED", "")
        outs = [klr_command(["trace", "k.klr", "-o", "x.core.klr"], work, self.timeout / 3,
                            env={**os.environ, "PYTHONHASHSEED": s})[1] for s in ("1", "2")]
        if outs[0] != outs[1]:
            return Outcome("wrong", "printed output depends on PYTHONHASHSEED", f"{outs[0]!r} vs {outs[1]!r}")
        return Outcome()

    def units(self, case: Case) -> list[Any] | None:
        return None if case.gen == "program" else str(case.payload["source"]).splitlines(keepends=True)

    def rebuild(self, case: Case, units: list[Any]) -> Case:
        return with_payload(case, source="".join(units))

    def save(self, case: Case, d: Path) -> str:
        (d / "kernel.py").write_text(self._source(case))
        p = case.payload
        if case.gen == "mutant":
            args = " ".join(f"--arg {n}={dt}[{','.join(map(str, s))}]" for n, dt, s in p["inputs"])
            kwargs = " ".join(f"--arg \"{k}={v!r}\"" for k, v in ast.literal_eval(p["kwargs"]).items())
            grid = f" --grid {','.join(map(str, p['grid']))}" if p["grid"] else ""
            (d / "common.py").write_bytes((mutants.EXAMPLES / "common.py").read_bytes())
            return f"klr gather {d / 'kernel.py'} {p['kernel']} {args} {kwargs}{grid} -o k.klr && " \
                "klr trace k.klr"
        if case.gen in ("attack", "hashseed"):
            grid = f" --grid {','.join(map(str, p['grid']))}" if p.get("grid") else ""
            return f"klr gather {d / 'kernel.py'} kernel{grid} -o k.klr && klr trace k.klr"
        return super().save(case, d)


# ---- eval ------------------------------------------------------------------------------------

class Eval(Target):
    name = "eval"
    timeout = 30.0

    def __init__(self, scratch: Path, timeout: float | None, cores: dict[str, bytes]) -> None:
        super().__init__(scratch, timeout)
        self.cores = [cores[k] for k in sorted(cores)]
        self.softmax = cores["softmax.core.klr"]

    def generators(self, seed: int) -> dict[str, tuple[int, Iterator[tuple[str, dict[str, Any]]]]]:
        def core_mutant(rng: random.Random) -> tuple[str, dict[str, Any]]:
            data, tag = hostile.mutate_bytes(rng.choice(self.cores), rng, self.cores)
            return tag, {"data": data}

        def npy(rng: random.Random) -> tuple[str, dict[str, Any]]:
            data, tag = hostile.hostile_npy(rng, (256, 160))
            return tag, {"npy": data}

        def big(rng: random.Random) -> tuple[str, dict[str, Any]]:
            shape = rng.choice(("32768,32768", "16384,32768", "1000000,1000000", "128,512"))
            dtype = rng.choice(("uint8", "float32"))
            return f"{dtype}[{shape}]", {"spec": f"{dtype}[{shape}]"}

        ks = (("kernel", {"kernel": k}) for k in from_strategy(kernels, f"{seed}:eval:kernel"))
        return {"kernel": (3, ks), "core-mutant": (3, from_rng(core_mutant, f"{seed}:eval:core")),
                "npy": (3, from_rng(npy, f"{seed}:eval:npy")),
                "big-random": (1, from_rng(big, f"{seed}:eval:big"))}

    def deadline(self, case: Case) -> float:
        return self.timeout * {"kernel": 1, "big-random": 4}.get(case.gen, 2)   # commands, and a rerun

    def prepare(self, casedir: Path) -> None:
        super().prepare(casedir)
        (casedir / "work").mkdir()
        (casedir / "outside").mkdir()
        (casedir / "work" / "k.core.klr").write_bytes(self.softmax)
        (casedir / "work" / "big.py").write_text(attacks.BIG_INPUTS)

    def run(self, case: Case, casedir: Path) -> Outcome:
        from klr.interp import run

        p = case.payload
        if case.gen == "kernel":
            try:
                data = to_bytes(p["kernel"])
            except KlrError:
                return Outcome()
            if to_bytes(from_bytes(data)) != data:
                return Outcome("wrong", "a Core kernel re-encodes differently", "")
            try:
                run(from_bytes(data), {})
            except KlrError as err:
                return api_error(err)
            return Outcome()
        if case.gen == "core-mutant":
            (casedir / "work" / "m.core.klr").write_bytes(p["data"])
            return run_commands([{"argv": ["eval", "m.core.klr", "--random", "0", "--output-dir", "out"],
                                  "writes": ["out"]}], casedir, self.timeout)
        if case.gen == "npy":
            (casedir / "work" / "x.npy").write_bytes(p["npy"])
            return run_commands([{"argv": ["eval", "k.core.klr", "x=x.npy", "--output-dir", "out"],
                                  "writes": ["out"]}], casedir, self.timeout)
        spec = p["spec"]
        return run_commands([
            {"argv": ["gather", "big.py", "kernel", *(f"--arg={n}={spec}" for n in "abcd"), "-o", "big.klr"]},
            {"argv": ["trace", "big.klr", "-o", "big.core.klr"]},
            {"argv": ["eval", "big.core.klr", "--random", "0", "--output-dir", "out"], "writes": ["out"]},
        ], casedir, self.timeout)

    def units(self, case: Case) -> list[Any] | None:
        key = {"core-mutant": "data", "npy": "npy"}.get(case.gen)
        return chunks(case.payload[key]) if key else None

    def rebuild(self, case: Case, units: list[Any]) -> Case:
        return with_payload(case, **{"data" if case.gen == "core-mutant" else "npy": b"".join(units)})

    def save(self, case: Case, d: Path) -> str:
        p = case.payload
        if case.gen == "kernel":
            (d / "kernel.repr.txt").write_text(repr(p["kernel"]) + "\n")
            try:
                (d / "kernel.core.klr").write_bytes(to_bytes(p["kernel"]))
            except KlrError:
                return "(the kernel cannot be written; see kernel.repr.txt)"
            return f"klr eval {d / 'kernel.core.klr'} --output-dir out"
        if case.gen == "core-mutant":
            (d / "m.core.klr").write_bytes(p["data"])
            return f"klr eval {d / 'm.core.klr'} --random 0 --output-dir out"
        if case.gen == "npy":
            (d / "x.npy").write_bytes(p["npy"])
            (d / "k.core.klr").write_bytes(self.softmax)
            return f"klr eval {d / 'k.core.klr'} x={d / 'x.npy'} --output-dir out"
        (d / "big.py").write_text(attacks.BIG_INPUTS)
        args = " ".join(f"--arg {n}={p['spec']}" for n in "abcd")
        return f"klr gather {d / 'big.py'} kernel {args} -o big.klr && klr trace big.klr && " \
               "klr eval big.core.klr --random 0 --output-dir out"


# ---- cli -------------------------------------------------------------------------------------

PIPES = (["list"], ["list", "nki"], ["info", "k.core.klr", "--dump", "json"],
         ["info", "k.klr", "--dump", "sexp"], ["info", "k.core.klr", "--dump", "pretty"], ["--help"],
         ["gather", "--help"])


def _argv_tag(argv: list[str]) -> str:
    """The subcommand and the hostile files a command line names (findings group by it)."""
    used = sorted({n for n in hostile.HOSTILE_FILES for a in argv if a.endswith(f"{WORK}/{n}")})
    return ":".join([argv[0], *used])


class Cli(Target):
    name = "cli"
    timeout = 20.0

    def __init__(self, scratch: Path, timeout: float | None) -> None:
        super().__init__(scratch, timeout)
        self.template = scratch / "cli-template"
        self.template.mkdir()
        cli_gen.make_workdir(self.template)

    def generators(self, seed: int) -> dict[str, tuple[int, Iterator[tuple[str, dict[str, Any]]]]]:
        names = cli_gen.FILES + hostile.HOSTILE_FILES
        lines = ((_argv_tag(argv), {"commands": [{"argv": argv}]}) for argv in
                 from_strategy(cli_gen.command_lines(Path(WORK), names), f"{seed}:cli:argv"))

        def pipe(rng: random.Random) -> tuple[str, dict[str, Any]]:
            argv = rng.choice(PIPES)
            return argv[0], {"commands": [{"argv": argv, "head": True}]}

        def tensor_name(rng: random.Random) -> tuple[str, dict[str, Any]]:
            name = rng.choice((*attacks.HOSTILE_NAMES, "@OUT/abs"))
            return repr(name)[:20], {"source": attacks.NAMED_OUTPUT.format(name=name), "commands": [
                {"argv": ["gather", "names.py", "kernel", "--arg", "x=float32[4,8]", "-o", "n.klr"]},
                {"argv": ["trace", "n.klr", "-o", "n.core.klr"]},
                {"argv": ["eval", "n.core.klr", "--random", "0", "--output-dir", "out"], "writes": ["out"]}]}

        return {"argv": (4, lines), "pipe": (1, from_rng(pipe, f"{seed}:cli:pipe")),
                "names": (1, from_rng(tensor_name, f"{seed}:cli:names"))}

    def prepare(self, casedir: Path) -> None:
        super().prepare(casedir)
        shutil.copytree(self.template, casedir / "work", symlinks=True)
        hostile.make_hostile_files(casedir / "work")
        (casedir / "outside").mkdir()

    def run(self, case: Case, casedir: Path) -> Outcome:
        if "source" in case.payload:
            source = case.payload["source"].replace("@OUT", str(casedir / "outside"))
            (casedir / "work" / "names.py").write_text(source, errors="surrogateescape")
        return run_commands(case.payload["commands"], casedir, self.timeout)

    def units(self, case: Case) -> list[Any] | None:
        return case.payload["commands"][0]["argv"][1:] if case.gen == "argv" else None

    def rebuild(self, case: Case, units: list[Any]) -> Case:
        argv = [case.payload["commands"][0]["argv"][0], *units]
        return with_payload(case, commands=[{"argv": argv}])

    def save(self, case: Case, d: Path) -> str:
        if "source" in case.payload:
            (d / "names.py").write_text(case.payload["source"], errors="surrogateescape")
        shown = "; ".join(shlex.join(["klr", *c["argv"]]) + (" | head -1" if c.get("head") else "")
                          for c in case.payload["commands"])
        return f"in a directory made by tests/fuzz/cli_gen.make_workdir and hostile.make_hostile_files " \
               f"({WORK} = that directory): {shown}"


def _canary_library(scratch: Path) -> Path | None:
    """A shared library whose constructor creates $KLR_FUZZ_CANARY_FILE, when a C compiler exists."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    (scratch / "canary.c").write_text(CANARY_C)
    lib = scratch / "canary.so"
    done = subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(scratch / "canary.c")],
                          capture_output=True, check=False)
    return lib if done.returncode == 0 else None


def make_targets(scratch: Path, golden: Path, timeout: float | None) -> dict[str, Target]:
    os.environ[attacks.CANARY_ENV] = CANARY_VALUE
    files = example_files()
    seeds = dict(files)
    fragments = []
    if golden.is_dir():
        seeds.update({f"golden/{p.name}": p.read_bytes() for p in sorted(golden.glob("*.klr"))})
        fragments = [p.read_bytes() for p in sorted(golden.rglob("*.cbor"))]
    cores = {k: v for k, v in files.items() if k.endswith(".core.klr")}
    return {"decoder": Decoder(scratch, timeout, seeds, fragments), "gather": Gather(scratch, timeout),
            "trace": Trace(scratch, timeout, _canary_library(scratch)), "eval": Eval(scratch, timeout, cores),
            "cli": Cli(scratch, timeout)}
