"""Helpers shared by the example kernels.

Kernels import these with ``from common import ...`` (the way NKI kernels in the wild share
helpers between files), so gather has to follow a reference into a second module of ours.
"""
import neuronxcc.nki.language as nl

# Rows handled per tile: the number of SBUF partitions.
PARTITIONS = 128


def ceil_div(numerator, denominator):
    """Number of ``denominator``-sized tiles needed to cover ``numerator`` items."""
    return (numerator + denominator - 1) // denominator


def inverse_rms(tile, eps):
    """Per-row ``1 / sqrt(mean(x * x) + eps)`` of a [P, F] tile, as a [P, 1] tile."""
    mean_square = nl.mean(nl.square(tile), axis=1, keepdims=True)
    return nl.rsqrt(mean_square + eps)
