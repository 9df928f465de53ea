"""The ``klr`` command line: gather, trace, eval, check, info and list.

Every subcommand imports its layer only when it runs, so ``klr --help`` stays fast. Errors in
the user's input print as ``file:line:col: error: message`` with the source line and exit 1;
anything else is a bug in klr: ``internal error`` and exit 70 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from klr import __version__
from klr.cli import check
from klr.errors import KlrError, UsageError, Warning_, render_error, render_warning

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")


def _kernel_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arg", action="append", default=[], metavar="SPEC",
                   help="a kernel argument: NAME=DTYPE[D0,D1,...], NAME=LITERAL, or the same "
                        "without NAME= for the next positional parameter (repeatable)")
    p.add_argument("--args-json", metavar="FILE", help="kernel arguments as a JSON list or object")
    p.add_argument("--grid", metavar="G0,G1,...",
                   help="SPMD launch grid of a legacy kernel (kernel[g0, g1](...))")
    p.add_argument("--lnc", type=int, metavar="N", help="logical NeuronCore count (Kernel.grid)")
    p.add_argument("--arch", type=int, metavar="N", help="target generation (2, 3 or 4; default 2)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="klr",
        description="KLR, the Kernel Language Representation: gather NKI kernels into KLR, trace "
                    "them into KLR Core, and run Core on numpy.")
    parser.add_argument("--version", action="version", version=f"klr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("gather", help="parse a kernel and what it references into a KLR Python-AST file",
                       description="Parse FUNC in FILE (and the helpers, classes, constants and user "
                                   "modules it references) into a KLR Python-AST file. The user's "
                                   "code is read, never imported or executed.")
    g.add_argument("file", help="the Python source file")
    g.add_argument("func", help="the kernel function's name")
    g.add_argument("-o", "--output", metavar="OUT", help="output file (default FUNC.klr)")
    g.add_argument("-I", dest="include", action="append", default=[], metavar="DIR",
                   help="another directory to search for imported user modules")
    _kernel_args(g)
    _common(g)

    t = sub.add_parser("trace", help="partially evaluate a gathered kernel into KLR Core",
                       description="Trace a gathered kernel for its (recorded or given) arguments into "
                                   "KLR Core: loops unrolled, Python values computed away, every NKI "
                                   "call turned into Core operators.")
    t.add_argument("input", metavar="IN.klr", help="a file written by klr gather")
    t.add_argument("-o", "--output", metavar="OUT", help="output file (default IN with .core.klr)")
    _kernel_args(t)
    _common(t)

    e = sub.add_parser("eval", help="run a traced kernel on numpy inputs (the reference interpreter)",
                       description="Run a traced KLR Core kernel on .npy inputs with the reference "
                                   "interpreter and write one .npy per output.")
    e.add_argument("input", metavar="IN.klr", help="a file written by klr trace")
    e.add_argument("inputs", nargs="*", metavar="[NAME=]FILE.npy",
                   help="kernel inputs, by name or in the order of the kernel's inputs")
    e.add_argument("--output-dir", metavar="DIR", default=".", help="where to write outputs (default .)")
    e.add_argument("--random", type=int, metavar="SEED", help="use seeded random inputs for missing ones")
    e.add_argument("--strict", action="store_true",
                   help="make reading never-written memory into an output an error")
    _common(e)

    _common(check.add_parser(sub))

    i = sub.add_parser("info", help="describe a KLR file",
                       description="Print a summary of any KLR file, or dump it whole.")
    i.add_argument("file", help="a .klr file")
    i.add_argument("--dump", choices=("json", "sexp", "pretty"), help="print the whole contents")
    _common(i)

    ls = sub.add_parser("list", help="list the builtins the tracer knows",
                        description="List every NKI and Python builtin the tracer knows, with its "
                                    "parameters and the Core operators it emits.")
    ls.add_argument("prefix", nargs="?", default="", help="only names starting with this")
    _common(ls)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(_COMMANDS[args.command](args) or 0)
    except KlrError as err:
        if args.debug:
            traceback.print_exc()
        print(render_error(err), file=sys.stderr)
        return EXIT_USAGE if isinstance(err, UsageError) else EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in klr, never the user's fault
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in klr; please report it with the command you ran "
              "(run again with --debug for the traceback).", file=sys.stderr)
        return EXIT_INTERNAL


def _print_warnings(warnings: Sequence[Warning_]) -> None:
    for w in warnings:
        print(render_warning(w), file=sys.stderr)


def _arg_specs(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    from klr.python.args import parse_arg_json, parse_arg_specs

    positional, named = parse_arg_specs(args.arg)
    if args.args_json:
        more_pos, more_named = parse_arg_json(args.args_json)
        positional += more_pos
        named.update(more_named)
    return positional, named


def _grid(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        grid = tuple(int(x) for x in text.replace("(", "").replace(")", "").split(",") if x.strip())
    except ValueError:
        raise UsageError(f"--grid takes comma-separated positive integers, got {text!r}") from None
    if not grid or any(g < 1 for g in grid):
        raise UsageError(f"--grid takes comma-separated positive integers, got {text!r}")
    return grid


def cmd_gather(args: argparse.Namespace) -> int:
    from klr.format import file as kfile
    from klr.python.gather import gather_file

    positional, named = _arg_specs(args)
    kernel = gather_file(args.file, args.func, args=positional, kwargs=named, grid=_grid(args.grid),
                         lnc=args.lnc, arch=args.arch, include_dirs=args.include)
    out = args.output or f"{args.func}.klr"
    kfile.write(out, kernel)
    print(f"gathered {kernel.entry}: {len(kernel.funcs)} functions, {len(kernel.classes)} classes, "
          f"{len(kernel.globals)} globals -> {out}")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    from klr.format import file as kfile
    from klr.tracer import trace

    py_kernel = kfile.read(args.input, expect="python")
    positional, named = _arg_specs(args)
    out = Path(args.output or _default_trace_output(args.input))
    result = trace(py_kernel, args=positional or None, kwargs=named or None, grid=_grid(args.grid),
                   lnc=args.lnc, arch=args.arch)
    for m in result.messages:
        print(m.message)
    _print_warnings(result.warnings)
    _write_constants(result.constants, out.parent)
    kfile.write(out, result.kernel)
    n = sum(len(b.body) for body in result.kernel.bodies for b in body)
    print(f"traced {result.kernel.name}: {n} Core statements in {len(result.kernel.bodies)} "
          f"bodies -> {out}")
    return 0


def _default_trace_output(path: str) -> str:
    stem = path[:-4] if path.endswith(".klr") else path
    return f"{stem}.core.klr"


def _write_constants(constants: dict[str, Any], directory: Path) -> None:
    """Shared constants go next to the output as .npy side files (reference §1.1)."""
    for rel, array in constants.items():
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        _save_npy(target, array)


def _save_npy(path: Path, array: Any) -> None:
    """np.save through a temporary file, so a failed write leaves no partial .npy."""
    import io

    import numpy as np

    from klr.format.file import write_atomic

    buf = io.BytesIO()
    np.save(buf, array)
    write_atomic(path, buf.getvalue())


def cmd_eval(args: argparse.Namespace) -> int:
    import numpy as np

    from klr.format import file as kfile
    from klr.interp import random_inputs, run

    kernel = kfile.read(args.input, expect="lnc")
    inputs = _load_inputs(kernel, args.inputs)
    missing = [t.name for t in kernel.inputs if t.name not in inputs]
    if missing:
        if args.random is None:
            raise UsageError(f"missing input{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(repr(m) for m in missing)}; pass .npy files or --random SEED")
        generated = random_inputs(kernel, args.random)
        inputs.update({m: generated[m] for m in missing})
    constants = _load_constants(kernel, Path(args.input).parent)
    result = run(kernel, inputs, strict=args.strict, random_seed=args.random, constants=constants)
    for p in result.prints:
        print(p.text, file=sys.stderr if p.buffer == "stderr" else sys.stdout)
    _print_warnings(result.warnings)
    outdir = Path(args.output_dir)
    outdir.mkdir(parents=True, exist_ok=True)
    for name, array in result.outputs.items():
        _save_npy(outdir / f"{name}.npy", array)
        flat = np.asarray(array, dtype=np.float64).ravel() if array.size else np.zeros(1)
        print(f"{name}: shape {tuple(array.shape)} {array.dtype}  min {flat.min():.6g}  "
              f"max {flat.max():.6g}  mean {flat.mean():.6g}  -> {outdir / (name + '.npy')}")
    return 0


def _load_constants(kernel: Any, directory: Path) -> dict[str, Any]:
    """Shared constants live in .npy side files named relative to the .klr file."""
    import numpy as np

    constants = {}
    for c in kernel.sharedConstants:
        path = directory / c.fileName
        try:
            constants[c.name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot read the shared constant {c.name!r} from {path}: {e}") from None
    return constants


def _load_inputs(kernel: Any, specs: Sequence[str]) -> dict[str, Any]:
    import numpy as np

    names = [t.name for t in kernel.inputs]
    dtypes = {t.name: t.dtype.numpy() for t in kernel.inputs}
    inputs: dict[str, Any] = {}
    position = 0
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or os.path.exists(spec):
            name, path = "", spec
        if not name:
            if position >= len(names):
                raise UsageError(f"too many inputs: the kernel takes {len(names)} "
                                 f"({', '.join(names)})")
            name = names[position]
            position += 1
        elif name not in names:
            raise UsageError(f"the kernel has no input named {name!r} (inputs: {', '.join(names)})")
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot read {path} as a .npy array: {e}") from None
        # .npy has no bfloat16/fp8 type: ml_dtypes arrays are saved as raw bytes (|V2, |V1)
        if array.dtype.kind == "V" and array.dtype.itemsize == dtypes[name].itemsize:
            array = array.view(dtypes[name])
        inputs[name] = array
    return inputs


def cmd_info(args: argparse.Namespace) -> int:
    from klr.format import file as kfile

    contents = kfile.read(args.file)
    if args.dump == "json":
        from klr.format.text import to_json

        print(to_json(contents))
    elif args.dump == "sexp":
        from klr.format.text import to_sexp

        print(to_sexp(contents))
    elif args.dump == "pretty":
        print(_pretty(contents), end="")
    else:
        print(_summary(args.file, contents))
    return 0


def _pretty(contents: Any) -> str:
    from klr.format.file import kind_of

    kind = kind_of(contents)
    if kind in ("lnc", "kernel"):
        from klr.core.pretty import pretty

        return pretty(contents)
    if kind == "python":
        from klr.python.pretty import pretty as py_pretty

        return py_pretty(contents)
    return f"hlo {contents.name}\n"


def _summary(path: str, contents: Any) -> str:
    from klr.format.file import kind_of

    kind = kind_of(contents)
    lines = [f"{path}: KLR 0.0.12, contents: {kind}"]
    if kind == "python":
        lines.append(f"entry: {contents.entry}")
        lines.append(f"arch: {contents.arch}  lnc: {contents.grid}")
        lines.append(f"functions ({len(contents.funcs)}): " + ", ".join(f.name for f in contents.funcs))
        if contents.classes:
            lines.append(f"classes ({len(contents.classes)}): " + ", ".join(c.name for c in contents.classes))
        lines.append(f"globals ({len(contents.globals)}): "
                     + ", ".join(str(k.id) for k in contents.globals))
        lines.append(f"arguments: {len(contents.args)} positional, {len(contents.kwargs)} keyword")
    elif kind in ("lnc", "kernel"):
        def tensors(ts: Any) -> str:
            return ", ".join(f"{t.name}:{t.dtype.name}{list(t.shape.dims)}" for t in ts)

        bodies = contents.bodies if kind == "lnc" else (contents.body,)
        lines.append(f"name: {contents.name}")
        lines.append(f"inputs: {tensors(contents.inputs)}")
        lines.append(f"outputs: {tensors(contents.outputs)}")
        n = sum(len(b.body) for body in bodies for b in body)
        lines.append(f"bodies: {len(bodies)}  blocks: {sum(len(b) for b in bodies)}  statements: {n}")
        if kind == "lnc" and contents.sharedConstants:
            lines.append("shared constants: " + ", ".join(c.fileName for c in contents.sharedConstants))
    else:
        lines.append(f"name: {contents.name}")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    from klr.tracer.registry import entries

    prefix = args.prefix.removeprefix("neuronxcc.")
    shown = [e for e in entries() if any(n.startswith(prefix) for n in e.names)]
    for e in shown:
        head = e.signature() if e.kind == "builtin" else f"{e.name} = {e.value!r}"
        extra = f"  [{e.dialect}]" if e.dialect != "both" else ""
        emits = f"  -> {', '.join(e.emits)}" if e.emits else ""
        print(f"{e.kind:<9} {head}{extra}{emits}")
        if e.aliases:
            print(f"{'':9}   also: {', '.join(e.aliases)}")
    print(f"{len(shown)} names")
    return 0


_COMMANDS = {
    "gather": cmd_gather, "trace": cmd_trace, "eval": cmd_eval, "info": cmd_info, "list": cmd_list,
    "check": check.cmd_check,
}
