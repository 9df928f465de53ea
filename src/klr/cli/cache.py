"""``klr cache info`` and ``klr cache clear``: the compile cache of simulated kernels
(``klr.sim.cache``)."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
    "klr.simulate and klr run keep what gathering and tracing a kernel call produced in a cache "
    "directory, so that the same call again (same kernel sources, arguments and options) skips "
    "both. The directory is $KLR_CACHE_DIR, else $XDG_CACHE_HOME/klr, else ~/.cache/klr; "
    "KLR_CACHE=0 turns the cache off and KLR_CACHE_MAX_MB bounds its size (default 1024).")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    c: argparse.ArgumentParser = sub.add_parser(
        "cache", help="show or empty the compile cache of simulated kernels", description=DESCRIPTION)
    c.add_argument("action", choices=("info", "clear"),
                   help="info: where the cache is, its entries and bytes; clear: delete every entry")
    return c


def cmd_cache(args: argparse.Namespace) -> int:
    from klr.sim.cache import Cache, enabled

    cache = Cache()
    problem = cache.problem(create=False)
    if args.action == "clear":
        removed = cache.clear()
        print(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {cache.root}")
        return 0
    entries, size = cache.info()
    state = "off (KLR_CACHE=0)" if not enabled() else f"unusable: {problem}" if problem else "on"
    print(f"path: {cache.root}\nstate: {state}\nentries: {entries}\nbytes: {size}\n"
          f"limit: {cache.limit} bytes")
    return 0
