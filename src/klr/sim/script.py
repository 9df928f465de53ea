"""``klr run SCRIPT [ARGS]`` and ``klr run -m MODULE [ARGS]``: a user's program with klr's NKI.

The program is the user's own, run by the user: it runs as plain Python, as ``python SCRIPT``
or ``python -m MODULE`` would run it (``sys.argv``, ``sys.path[0]``, ``__main__``), after
``klr.sim.shim.install()``, so only the kernels it calls go through gather, trace and eval.
klr's NKI modules win over an installed Neuron SDK; a note on standard error says so when one
is installed. The exit status is the program's; an exception it does not catch is printed as
Python prints it, without klr's own frames (``--debug`` keeps them), and exits 1.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from klr.errors import FileError

_KLR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HIDDEN_FILES = (_KLR + os.sep, os.path.abspath(runpy.__file__), "<frozen runpy>")


def run(target: str, args: Sequence[str], *, module: bool, stats: bool = False, debug: bool = False,
        limits: Mapping[str, Any] | None = None, cache: bool = True) -> int:
    """Run the script or module ``target`` with ``args``; the program's exit status. ``limits``
    (names as ``--limit``) apply to every kernel the program simulates; without ``cache`` none
    uses the compile cache."""
    from klr.sim import shim, simulate

    if not module and not os.path.isfile(target):
        if os.path.isdir(target):
            raise FileError(f"cannot read {target}: it is a directory, not a Python script")
        raise FileError(f"cannot read {target}: No such file or directory")
    hidden = shim.hidden_sdk()
    if hidden:
        print(f"note: klr run provides nki and neuronxcc.nki itself; the installed Neuron SDK "
              f"({'; '.join(hidden)}) is hidden while it runs", file=sys.stderr)
    shim.install()
    simulate.default_limits.update(limits or {})
    simulate.default_cache = cache
    sys.argv = [target, *args]
    sys.path.insert(0, os.getcwd() if module else os.path.dirname(os.path.abspath(target)))
    if module:
        _check_module(target)
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
        status = 0
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except KeyboardInterrupt:
        status = 130
    except BaseException as exc:  # the user's program failed: show it as Python would
        _print_exception(exc, debug)
        status = 1
    finally:
        sys.stdout.flush()
        if stats:
            print(summary(), file=sys.stderr)
    return status


def _check_module(name: str) -> None:
    import importlib.util

    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise FileError(f"cannot run module {name!r}: no module of that name on the path")


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _print_exception(exc: BaseException, debug: bool) -> None:
    shown = traceback.TracebackException.from_exception(exc)
    if not debug:
        _strip(shown, set())
    sys.stdout.flush()
    print("".join(shown.format()), end="", file=sys.stderr)


def _strip(exc: traceback.TracebackException, seen: set[int]) -> None:
    """Drop klr's and runpy's frames from a traceback (and the ones it chains)."""
    if id(exc) in seen:
        return
    seen.add(id(exc))
    exc.stack = traceback.StackSummary.from_list(
        [f for f in exc.stack if not f.filename.startswith(_HIDDEN_FILES)])
    for other in (exc.__cause__, exc.__context__):
        if other is not None:
            _strip(other, seen)


def summary() -> str:
    """One line about every kernel simulated in this process (``klr run --stats``)."""
    from klr.sim.simulate import totals

    failed = f" ({totals.failures} failed)" if totals.failures else ""
    times = ", ".join(f"{k} {v:.2f} s" for k, v in totals.seconds.items())
    return f"klr: {totals.calls} kernel call{'s' if totals.calls != 1 else ''} simulated{failed}: {times}"
