"""Scalar formulas of the activations and their gradients, shared by CPU and CUDA kernels.

Each is a plain Python function registered with `register_jitable`, so the same source is
compiled into Numba CPU kernels, CUDA kernels, and runs as Python under the CUDA simulator.
Constants, in comparisons too, are built with `type(v)(...)` so that float32 inputs are
computed in float32 (a bare `0` would promote the comparison to float64).
Formulas, and what happens at NaN and at the edges, follow PyTorch.
"""

import math

from numba.extending import register_jitable

_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)

# Activations a fused kernel can apply, by code: see `activate`.
ACTIVATION_CODES = {None: 0, "relu": 1, "sigmoid": 2, "tanh": 3}


@register_jitable
def relu(v):
    zero = type(v)(0)
    return zero if v <= zero else v  # NaN stays NaN


@register_jitable
def relu_grad(g, y):
    """Through relu, from its output y."""
    zero = type(g)(0)
    return zero if y <= zero else g


@register_jitable
def leaky_relu(v, slope):
    return v if v > type(v)(0) else v * slope


@register_jitable
def leaky_relu_grad(g, v, slope):
    return g if v > type(v)(0) else g * slope


@register_jitable
def sigmoid(v):
    """1 / (1 + e^-v), exponentiating only -|v| so that nothing overflows."""
    one = type(v)(1)
    e = math.exp(-abs(v))
    return one / (one + e) if v >= type(v)(0) else e / (one + e)


@register_jitable
def sigmoid_grad(g, y):
    """Through sigmoid, from its output y."""
    return g * y * (type(g)(1) - y)


@register_jitable
def tanh(v):
    return math.tanh(v)


@register_jitable
def tanh_grad(g, y):
    """Through tanh, from its output y."""
    return g * (type(g)(1) - y * y)


@register_jitable
def hardtanh(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


@register_jitable
def hardtanh_grad(g, v, lo, hi):
    """g strictly inside (lo, hi) (and at NaN, as PyTorch), else 0."""
    return type(g)(0) if (v <= lo or v >= hi) else g


@register_jitable
def gelu(v):
    """Exact GELU, v * Phi(v) (PyTorch's default, approximate='none')."""
    return type(v)(0.5) * v * (type(v)(1) + math.erf(v * type(v)(_SQRT1_2)))


@register_jitable
def gelu_grad(g, v):
    """g * (Phi(v) + v * phi(v))."""
    half = type(v)(0.5)
    cdf = half * (type(v)(1) + math.erf(v * type(v)(_SQRT1_2)))
    pdf = math.exp(-half * v * v) * type(v)(_INV_SQRT_2PI)
    return g * (cdf + v * pdf)


@register_jitable
def softplus(v, beta, threshold):
    """log(1 + e^(beta v)) / beta, or v itself where beta v > threshold."""
    z = v * beta
    return v if z > threshold else math.log1p(math.exp(z)) / beta


@register_jitable
def softplus_grad(g, v, beta, threshold):
    """g * sigmoid(beta v), or g where the forward returned v itself."""
    z = v * beta
    return g if z > threshold else g * sigmoid(z)


@register_jitable
def activate(v, code):
    """The activation numbered `code` in ACTIVATION_CODES, applied to v."""
    if code == 1:
        return relu(v)
    if code == 2:
        return sigmoid(v)
    if code == 3:
        return tanh(v)
    return v


@register_jitable
def activate_grad(g, y, code):
    """g through the activation numbered `code`, given that activation's output y."""
    if code == 1:
        return relu_grad(g, y)
    if code == 2:
        return sigmoid_grad(g, y)
    if code == 3:
        return tanh_grad(g, y)
    return g
