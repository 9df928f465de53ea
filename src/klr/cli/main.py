"""The ``klr`` command line: gather, trace, eval, check, info and list.

Every subcommand imports its layer only when it runs, so ``klr --help`` stays fast. Errors in
the user's input print as ``file:line:col: error: message`` with the source line and exit 1
(2 for a usage error); anything else is a bug in klr: ``internal error`` and exit 70
(``--debug`` shows the traceback). When standard output is a pipe closed early
(``klr list | head -1``), klr stops quietly with exit 141, as a program killed by SIGPIPE.

Files are read and written through ``klr.files``; an output never replaces a file the command
read. ``--limit NAME=VALUE`` sets the resource limits of ``klr.limits``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from klr.cli.collector import resume_collection
from klr.cli.terminal import EXIT_BROKEN_PIPE, silence_stdout
from klr.diagnostics import printable, render_error, render_warning
from klr.errors import KlrError, UsageError, Warning_

if TYPE_CHECKING:
    import argparse

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

COMMANDS = ("gather", "trace", "eval", "check", "run", "cache", "info", "list")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's argparse parser (``klr.cli.parser.build_parser``)."""
    from klr.cli.parser import build_parser as build

    return build(command)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from klr.cli.quickparse import parse

    quick = parse(argv)
    if quick is not None:
        return _run_args(quick)
    with _untranslated():
        parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
        if argv[:1] == ["run"]:
            parsed = _parse_run(parser, argv[1:])
            if isinstance(parsed, int):
                return parsed
            args = parsed
        else:
            args = parser.parse_args(argv)
            if args.command is None:
                parser.print_help()
                return 0
    return _run_args(args)


def _run_args(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE


def _parse_run(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """``klr run``: klr's options come before the program, whose arguments are its own."""
    from klr.cli import run

    try:
        options, script, module, rest = run.split(argv)
    except UsageError as err:
        _say(render_error(err))
        return EXIT_USAGE
    args = parser.parse_args(["run", *options])
    args.target, args.module, args.args = script, module, rest
    return args


def _same(message: str) -> str:
    return message


def _same_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


@contextlib.contextmanager
def _untranslated() -> Iterator[None]:
    """argparse's messages without gettext's look-ups when gettext could find no catalogue.

    Each message argparse words goes through ``gettext``, which looks for a catalogue of the
    current domain in its directory for every language of the environment (importing
    ``locale`` to spell them): ~1.8 ms of every command. Where that directory does not exist
    (Python's own ``share/locale``, as it is unless someone installs catalogues there), each
    look-up fails and gives the message back as it is, or the singular or plural form by
    count: what ``_same`` and ``_same_plural`` give, put in argparse's place while the command
    line is parsed."""
    import argparse
    import gettext

    module: Any = argparse
    if (vars(module).get("_"), vars(module).get("ngettext")) != (gettext.gettext, gettext.ngettext) \
            or os.path.isdir(gettext.bindtextdomain(gettext.textdomain())):
        yield
        return
    saved = module._, module.ngettext
    module._, module.ngettext = _same, _same_plural
    try:
        yield
    finally:
        module._, module.ngettext = saved


def _run(args: argparse.Namespace) -> int:
    try:
        from klr.files import tracking

        if "help" in getattr(args, "limit", ()):
            from klr.limits import listing

            print(listing(_limit_classes(args.command)))
            status = 0
        else:
            if args.command not in _RESUMING:
                resume_collection()
            with tracking():
                status = int(_COMMANDS[args.command](args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except KlrError as err:
        if args.debug:
            _traceback(err)
        _say(render_error(err))
        return EXIT_USAGE if isinstance(err, UsageError) else EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except MemoryError as exc:
        # the budgets stop what they measure first; this is the machine's own limit (ulimit,
        # a container) being lower than theirs
        if args.debug:
            _traceback(exc)
        _say("error: out of memory: the machine refused an allocation before klr's limits "
             "stopped it (lower them with --limit, see --limit help)")
        return EXIT_ERROR
    except OSError as exc:
        # klr.files turns every failure of a file klr opens into a KlrError naming the file, so
        # an OSError without a file name comes from writing standard output (full disk, /dev/full)
        if exc.filename is not None or exc.errno is None:
            return _internal(args, exc)
        silence_stdout()
        _say(f"error: cannot write standard output: {exc.strerror}")
        return EXIT_ERROR
    except Exception as exc:  # a bug in klr, never the user's fault
        return _internal(args, exc)


def _traceback(exc: BaseException) -> None:
    import traceback  # only with --debug: importing it would add a sixth to `klr --help`

    traceback.print_exception(exc)


def _internal(args: argparse.Namespace, exc: Exception) -> int:
    if args.debug:
        _traceback(exc)
    _say(f"internal error: {type(exc).__name__}: {exc}\n"
         "This is a bug in klr; please report it with the command you ran "
         "(run again with --debug for the traceback).")
    return EXIT_INTERNAL


def _say(text: str) -> None:
    """Print to standard error; a closed standard error is not worth another failure."""
    try:
        print(text, file=sys.stderr)
    except OSError:
        pass


def _print_warnings(warnings: Sequence[Warning_]) -> None:
    for w in warnings:
        print(render_warning(w), file=sys.stderr)


def _limit_classes(command: str) -> list[type]:
    """The classes whose fields are ``command``'s limits (``klr.limits``)."""
    from klr.limits import FileLimits

    if command == "trace":
        from klr.tracer.context import Limits

        return [Limits, FileLimits]
    if command == "eval":
        from klr.interp import EvalLimits

        return [EvalLimits, FileLimits]
    if command == "run":
        from klr.interp import EvalLimits
        from klr.tracer.context import Limits

        return [Limits, EvalLimits, FileLimits]
    return [FileLimits]


def _limits(args: argparse.Namespace) -> list[Any]:
    """One object per class of ``_limit_classes``, with the ``--limit`` options set."""
    from klr import limits

    return limits.build(_limit_classes(args.command), limits.parse_specs(args.limit),
                        f"klr {args.command}")


def _arg_specs(args: argparse.Namespace, max_bytes: int) -> tuple[list[Any], dict[str, Any]]:
    if not args.arg and not args.args_json:
        return [], {}
    from klr.python.args import parse_arg_json, parse_arg_specs

    positional, named = parse_arg_specs(args.arg)
    if args.args_json:
        more_pos, more_named = parse_arg_json(args.args_json, max_bytes)
        positional += more_pos
        named.update(more_named)
    return positional, named


_DIMS = r"\s*[0-9]{1,18}(?:\s*,\s*[0-9]{1,18})*\s*,?\s*"
_GRID = rf"{_DIMS}|\({_DIMS}\)"  # compiled on first use, as every pattern here


def _grid(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    grid = tuple(int(x) for x in re.findall(r"[0-9]+", text)) if re.fullmatch(_GRID, text) else ()
    if not grid or any(g < 1 for g in grid):
        raise UsageError(f"--grid takes comma-separated positive integers, got {_short(text)}")
    return grid


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _info_stream(out: str) -> TextIO:
    """Where progress lines go: standard error when the output itself is standard output."""
    return sys.stderr if out == "-" else sys.stdout


def cmd_gather(args: argparse.Namespace) -> int:
    from klr.format import file as kfile
    from klr.python.gather import gather_file

    resume_collection()
    (flimits,) = _limits(args)
    positional, named = _arg_specs(args, flimits.max_source_bytes)
    kernel = gather_file(args.file, args.func, args=positional, kwargs=named, grid=_grid(args.grid),
                         lnc=args.lnc, arch=args.arch, include_dirs=args.include,
                         max_source_bytes=flimits.max_source_bytes)
    out = args.output or f"{args.func}.klr"
    kfile.write(out, kernel)
    print(f"gathered {kernel.entry}: {len(kernel.funcs)} functions, {len(kernel.classes)} classes, "
          f"{len(kernel.globals)} globals -> {out}", file=_info_stream(out))
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    import time

    from klr.format import file as kfile
    from klr.sim.tracing import entry_line, entry_pos, output_warnings, printed_before
    from klr.tracer import trace

    tlimits, flimits = _limits(args)
    py_kernel = kfile.read(args.input, expect="python", max_bytes=flimits.max_file_bytes)
    positional, named = _arg_specs(args, flimits.max_source_bytes)
    out = args.output or _default_trace_output(args.input)
    info = _info_stream(out)
    resume_collection()
    start = time.perf_counter()
    try:
        result = trace(py_kernel, args=positional or None, kwargs=named or None, grid=_grid(args.grid),
                       lnc=args.lnc, arch=args.arch, limits=tlimits)
    except KlrError as err:  # the kernel's print output is what its author needs now
        for m in printed_before(err):
            print(_printable_lines(m.message), file=info)
        raise
    took = time.perf_counter() - start
    for m in result.messages:
        print(_printable_lines(m.message), file=info)
    result.warnings.extend(output_warnings(result.kernel, entry_pos(py_kernel), entry_line(py_kernel)))
    _print_warnings(result.warnings)
    if result.constants:
        _write_constants(result.constants, out)
    kfile.write(out, result.kernel)
    n = sum(len(b.body) for body in result.kernel.bodies for b in body)
    print(f"traced {result.kernel.name}: {n} Core statements in {len(result.kernel.bodies)} "
          f"bodies -> {out}", file=info)
    if args.stats:
        _trace_stats(result, took, info)
    return 0


def _trace_stats(result: Any, took: float, info: TextIO) -> None:
    from klr.core.operators import operator_name

    counts: dict[str, int] = {}
    for body in result.kernel.bodies:
        for block in body:
            for stmt in block.body:
                name = operator_name(stmt.op)
                counts[name] = counts.get(name, 0) + 1
    ops = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    print(f"stats: time {took * 1000:.1f} ms, {result.steps} steps, peak memory of the trace's values "
          f"{result.memory / 2**20:.1f} MiB", file=info)
    print(f"stats: Core statements by operator: {ops or 'none'}", file=info)


def _default_trace_output(path: str) -> str:
    stem = path[:-4] if path.endswith(".klr") else path
    return f"{stem}.core.klr"


def _write_constants(constants: dict[str, Any], out: str) -> None:
    """Shared constants go beside the Core file, in shared_constants/ (reference §1.1)."""
    from klr.files import OutputDir, is_special
    from klr.format.npy import constant_files

    if is_special(out):
        raise UsageError(f"this kernel has shared constants, which are written beside the Core "
                         f"file in shared_constants/, so -o must name a file, not {out}")
    data = constant_files(constants)
    with OutputDir.open(os.path.dirname(os.path.realpath(out)), os.path.dirname(out)) as parent, \
            parent.subdir("shared_constants") as directory:
        directory.write_all(data)


def cmd_run(args: argparse.Namespace) -> int:
    from klr import limits
    from klr.cli import run

    _limits(args)  # an unknown limit or a bad value is a usage error now, not at the first kernel
    return run.cmd_run(args, limits.parse_specs(args.limit))


def cmd_eval(args: argparse.Namespace) -> int:
    from klr.cli import evaluate

    return evaluate.cmd_eval(args, *_limits(args))


def cmd_info(args: argparse.Namespace) -> int:
    from klr.files import write_text
    from klr.format import file as kfile

    (flimits,) = _limits(args)
    contents = kfile.read(args.file, max_bytes=flimits.max_file_bytes)
    resume_collection()
    if args.dump == "json":
        from klr.format.text import to_json

        write_text(_json_safe(to_json(contents)) + "\n")
    elif args.dump == "sexp":
        from klr.format.text import to_sexp

        write_text(_json_safe(to_sexp(contents)) + "\n")
    elif args.dump == "pretty":
        write_text(_printable_lines(_pretty(contents)))
    else:
        write_text(_printable_lines(_summary(args.file, contents)) + "\n")
    return 0


_UNSAFE_IN_JSON = "[\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def _json_safe(text: str) -> str:
    """JSON (or JSON-quoted strings) with DEL, C1 controls and bidi overrides as \\u escapes."""
    return re.sub(_UNSAFE_IN_JSON, lambda m: f"\\u{ord(m.group()):04x}", text)


def _printable_lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


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
    from klr.format.file import VERSION, kind_of

    kind = kind_of(contents)
    lines = [f"{path}: KLR {'.'.join(map(str, VERSION))}, contents: {kind}"]
    if kind == "python":
        lines.append(f"entry: {contents.entry}")
        lines.append(f"arch: {contents.arch}  lnc: {contents.grid}")
        lines.append(f"functions ({len(contents.funcs)}): " + ", ".join(f.name for f in contents.funcs))
        if contents.classes:
            lines.append(f"classes ({len(contents.classes)}): " + ", ".join(c.name for c in contents.classes))
        lines.append(f"globals ({len(contents.globals)}): "
                     + ", ".join(str(k.id) for k in contents.globals))
        lines.extend(_parameters(contents))
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


def _parameters(kernel: Any) -> list[str]:
    """The entry function's parameters and the arguments recorded at gather time, by parameter."""
    from klr.python.pretty import expr, signature

    fun = kernel.function(kernel.entry)
    lines = [f"parameters: {signature(fun.args) if fun is not None else '?'}"]
    params = [*fun.args.posonlyargs, *fun.args.args] if fun is not None else []
    try:
        shown = [f"{params[i]}={expr(a)}" if i < len(params) else expr(a) for i, a in enumerate(kernel.args)]
        shown += [f"{k.id}={expr(k.value)}" if k.id is not None else f"**{expr(k.value)}"
                  for k in kernel.kwargs]
    except RecursionError:
        shown = ["(nested too deeply to print)"]
    lines.append(f"recorded arguments: {', '.join(shown) if shown else 'none (give them to klr trace)'}")
    lines.extend(f"flag: {expr(f)}" for f in kernel.flags)
    return lines


def cmd_list(args: argparse.Namespace) -> int:
    from klr.tracer import entries
    from klr.tracer.nki.apidoc import entry_record, expand_prefix

    prefix = expand_prefix(args.prefix)
    shown = [e for e in entries() if any(n.startswith(prefix) for n in e.names)]
    if not shown:
        raise UsageError(f"no builtin or constant name starts with {args.prefix!r} (prefixes: nl., "
                         "nisa., nki., neuronxcc.nki., numpy., math., builtins.)")
    if args.json:
        import json

        print(json.dumps([entry_record(e) for e in shown], indent=1))
        return 0
    for e in shown:
        rec = entry_record(e)
        if e.kind == "builtin" and e.forms:
            heads = [f"{sig}  [{d}]" for d, sig in e.forms]
        elif e.kind == "builtin":
            heads = [e.signature() + (f"  [{e.dialect}]" if e.dialect != "both" else "")]
        elif e.kind == "unsupported":
            heads = [f"{e.name}: not supported: {e.doc}"]
        else:
            heads = [f"{e.name} = {e.value!r}" + (f"  [{e.dialect}]" if e.dialect != "both" else "")]
        emits = f"  -> {', '.join(e.emits)}" if e.emits else ""
        print(f"{e.kind:<11} {heads[0]}{emits}")
        for h in heads[1:]:
            print(f"{'':11} {h}")
        if rec["meaning"] and e.kind == "builtin":
            print(f"{'':11}   {rec['meaning']}")
        if e.aliases:
            print(f"{'':11}   also: {', '.join(e.aliases)}")
    print(f"{len(shown)} names")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from klr.cli import check

    return check.cmd_check(args)


def cmd_cache(args: argparse.Namespace) -> int:
    from klr.cli import cache

    return cache.cmd_cache(args)


_COMMANDS = {
    "gather": cmd_gather, "trace": cmd_trace, "eval": cmd_eval, "info": cmd_info, "list": cmd_list,
    "check": cmd_check, "run": cmd_run, "cache": cmd_cache,
}
#: Commands that call ``resume_collection`` themselves, once their imports are done.
_RESUMING = frozenset({"gather", "trace", "info"})
