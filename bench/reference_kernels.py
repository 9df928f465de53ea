"""Kernels that both klr and the reference implementation (klr-lang 0.0.12) can trace, for the
side-by-side timing of bench/run.py --reference and the start-up measurements.

klr-lang 0.0.12 records no argument values at gather time and traces every required parameter
as a 10 x 10 float32 tensor; of the NKI API it knows ``nl.load``, ``nl.store``, ``nl.zeros`` and
``nisa.tensor_scalar``, of Python ``range`` loops and slices. Kernels here stay inside that:
each parameter is a [10, 10] float32 tensor, the result is stored into ``out``, and every
operation's result is named before it is stored (the reference cannot store a call's result). klr traces them
with the same arguments (``--arg float32[10,10]`` per parameter). bench/reference.py runs every
function here, in order.
"""
import nki.isa as nisa
import nki.language as nl
import numpy as np

REPEAT_SMALL = 64
REPEAT_LARGE = 512
ROW_BLOCK = 2


def scale(a, out):
    t = nl.load(a)
    u = nisa.tensor_scalar(t, np.multiply, 2.0)
    nl.store(out, u)


def scale_shift(a, out):
    t = nl.load(a)
    u = nisa.tensor_scalar(t, np.multiply, 2.0, False, np.add, 1.0)
    nl.store(out, u)


def copy_rows(a, out):
    for i in range(5):
        t = nl.load(a[i * ROW_BLOCK:(i + 1) * ROW_BLOCK, :])
        nl.store(out[i * ROW_BLOCK:(i + 1) * ROW_BLOCK, :], t)


def scale_rows(a, out):
    for i in range(5):
        t = nl.load(a[i * ROW_BLOCK:(i + 1) * ROW_BLOCK, :])
        u = nisa.tensor_scalar(t, np.add, 1.0)
        nl.store(out[i * ROW_BLOCK:(i + 1) * ROW_BLOCK, :], u)


def repeat_small(a, out):
    for _ in range(REPEAT_SMALL):
        t = nl.load(a)
        u = nisa.tensor_scalar(t, np.multiply, 2.0, False, np.add, 1.0)
        nl.store(out, u)


def repeat_large(a, out):
    for _ in range(REPEAT_LARGE):
        t = nl.load(a)
        u = nisa.tensor_scalar(t, np.multiply, 2.0, False, np.add, 1.0)
        nl.store(out, u)

