"""One BLAS thread while a kernel runs.

The interpreter's matrix products are small (at most 128 x 128 by 128 x 512, the PE array's
size), and a threaded BLAS spends longer waking and joining its threads than computing them:
on a busy 2-core machine OpenBLAS takes ~40 ms for a product one thread does in 0.5 ms. With
OpenBLAS (numpy's wheels bundle it), ``one_thread`` limits it to one thread for the run and
restores the count after; with another BLAS it changes nothing. OpenBLAS does not split the
contraction between threads, so the products are the same either way.
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_Controls = tuple[Callable[[], int], Callable[[int], None]]
_found: list[_Controls | None] = []


def _openblas() -> _Controls | None:
    import numpy as np

    root = os.path.dirname(np.__file__)
    for pattern in (os.path.join(os.path.dirname(root), "numpy.libs", "*openblas*"),
                    os.path.join(root, ".dylibs", "*openblas*")):
        for path in sorted(glob.glob(pattern)):
            try:
                lib = ctypes.CDLL(path)  # numpy's own copy: already loaded, the same instance
            except OSError:
                continue
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", ""):
                    get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    if get is not None and put is not None:
                        get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                        return get, put
    return None


@contextmanager
def one_thread() -> Iterator[None]:
    if not _found:
        _found.append(_openblas())
    controls = _found[0]
    threads = controls[0]() if controls is not None else 1
    if controls is None or threads <= 1:
        yield
        return
    controls[1](1)
    try:
        yield
    finally:
        controls[1](threads)
