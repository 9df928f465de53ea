"""The activation engine's functions: one float32 numpy definition per ``ActivationFunc``.

numpy has no ``erf``; ``erf`` below is computed in float64 from its Taylor series for
|x| < 2 and from a Chebyshev fit of ``erfc`` (fractional error below 1.2e-7) beyond,
which is accurate to well under one float32 ulp after rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from klr.core.optypes import ActivationFunc

Array = np.ndarray

_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SERIES_TERMS = 40
# Chebyshev coefficients of erfc(z) = t*exp(-z*z + poly(t)), t = 1/(1 + z/2) (Numerical Recipes).
_ERFC_COEFFS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def erf(x: Array) -> Array:
    """The error function, element-wise, in float64."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = np.abs(x) < 2.0
    out[small] = _erf_series(x[small])
    big = ~small
    out[big] = np.sign(x[big]) * (1.0 - _erfc_positive(np.abs(x[big])))
    return out


def _erf_series(x: Array) -> Array:
    x2 = x * x
    term = x.copy()
    total = x.copy()
    for n in range(1, _SERIES_TERMS):
        term = term * (-x2) / n
        total = total + term / (2 * n + 1)
    return _TWO_OVER_SQRT_PI * total


def _erfc_positive(z: Array) -> Array:
    t = 1.0 / (1.0 + 0.5 * z)
    poly = np.zeros_like(z)
    for c in reversed(_ERFC_COEFFS):
        poly = poly * t + c
    out: Array = t * np.exp(-z * z + poly)
    return out


def _sigmoid(x: Array) -> Array:
    out: Array = np.float32(1.0) / (np.float32(1.0) + np.exp(-x))
    return out


def _gelu(x: Array) -> Array:
    return (0.5 * x * (1.0 + erf(x / _SQRT2))).astype(np.float32)


def _gelu_dx(x: Array) -> Array:
    xd = x.astype(np.float64)
    cdf = 0.5 * (1.0 + erf(xd / _SQRT2))
    pdf = np.exp(-0.5 * xd * xd) / math.sqrt(2.0 * math.pi)
    return (cdf + xd * pdf).astype(np.float32)


def _gelu_tanh(x: Array) -> Array:
    inner = np.float32(_SQRT_2_OVER_PI) * (x + np.float32(0.044715) * x * x * x)
    out: Array = np.float32(0.5) * x * (np.float32(1.0) + np.tanh(inner))
    return out


def _silu_dx(x: Array) -> Array:
    s = _sigmoid(x)
    out: Array = s * (np.float32(1.0) + x * (np.float32(1.0) - s))
    return out


def _gelu_sigmoid_dx(x: Array) -> Array:
    k = np.float32(1.702)
    s = _sigmoid(k * x)
    out: Array = s + k * x * s * (np.float32(1.0) - s)
    return out


def _softplus(x: Array) -> Array:
    out: Array = np.logaddexp(np.float32(0.0), x)
    return out


_FUNCS: dict[ActivationFunc, Callable[[Array], Array]] = {
    ActivationFunc.abs: np.abs,
    ActivationFunc.arctan: np.arctan,
    ActivationFunc.copy: lambda x: x,
    ActivationFunc.erf: lambda x: erf(x).astype(np.float32),
    ActivationFunc.erf_dx: lambda x: (_TWO_OVER_SQRT_PI * np.exp(-(x.astype(np.float64) ** 2))),
    ActivationFunc.exp: np.exp,
    ActivationFunc.gelu: _gelu,
    ActivationFunc.gelu_apprx_tanh: _gelu_tanh,
    ActivationFunc.gelu_dx: _gelu_dx,
    ActivationFunc.log: np.log,
    ActivationFunc.mish: lambda x: x * np.tanh(_softplus(x)),
    ActivationFunc.reciprocal: lambda x: np.float32(1.0) / x,
    ActivationFunc.relu: lambda x: np.maximum(x, np.float32(0.0)),
    ActivationFunc.rsqrt: lambda x: np.float32(1.0) / np.sqrt(x),
    ActivationFunc.sigmoid: _sigmoid,
    ActivationFunc.sign: np.sign,
    ActivationFunc.silu: lambda x: x * _sigmoid(x),
    ActivationFunc.silu_dx: _silu_dx,
    ActivationFunc.sin: np.sin,
    ActivationFunc.softplus: _softplus,
    ActivationFunc.sqrt: np.sqrt,
    ActivationFunc.square: np.square,
    ActivationFunc.tanh: np.tanh,
    ActivationFunc.gelu_apprx_sigmoid: lambda x: x * _sigmoid(np.float32(1.702) * x),
    ActivationFunc.gelu_apprx_sigmoid_dx: _gelu_sigmoid_dx,
}


def activate(func: ActivationFunc, x: Array, relu_param: Array | None = None) -> Array:
    """``func(x)`` element-wise on a float32 array; the result is float32. ``relu_param`` (an
    ``activate2`` operand) is relu's slope below 0 (0 by default, a parametric relu otherwise);
    the other functions ignore it."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(all="ignore"):
        if func is ActivationFunc.relu and relu_param is not None:
            return np.asarray(np.where(x > 0, x, x * np.asarray(relu_param, np.float32)), np.float32)
        return np.asarray(_FUNCS[func](x), dtype=np.float32)
