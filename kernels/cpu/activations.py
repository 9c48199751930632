"""Elementwise activations and their backward passes, one pass over memory each.

Each activation has a scalar formula (a `helper`, reused by the fused linear kernels), a
parallel kernel over the flattened array, and a wrapper that checks its inputs. Backward
passes use the saved output where the derivative is a function of it (relu, sigmoid,
tanh) and the input otherwise. Formulas and NaN handling follow PyTorch's.
"""

import math

import numpy as np
from numba import prange

from ._jit import check_out, float_array, helper, kernel, same_dtype

_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


# ---- scalar formulas (computed in the argument's own precision) ----

@helper
def relu_scalar(v):
    return type(v)(0) if v <= 0 else v  # NaN stays NaN


@helper
def sigmoid_scalar(v):
    """1 / (1 + e^-v) with exp of -|v| only, so nothing overflows for large |v|."""
    one = type(v)(1)
    e = math.exp(-abs(v))
    return one / (one + e) if v >= 0 else e / (one + e)


@helper
def tanh_scalar(v):
    return math.tanh(v)


@helper
def gelu_scalar(v):
    """Exact GELU, v * Phi(v), as PyTorch's default (approximate='none')."""
    half = type(v)(0.5)
    return half * v * (type(v)(1) + math.erf(v * type(v)(_SQRT1_2)))


@helper
def softplus_scalar(v, beta, threshold):
    """log(1 + e^(beta v)) / beta, or v itself where beta v > threshold (PyTorch's rule)."""
    z = v * beta
    return v if z > threshold else math.log1p(math.exp(z)) / beta


# Gradients through the activations that can use their saved output y.

@helper
def relu_grad_scalar(g, y):
    return type(g)(0) if y <= 0 else g


@helper
def sigmoid_grad_scalar(g, y):
    return g * y * (type(g)(1) - y)


@helper
def tanh_grad_scalar(g, y):
    return g * (type(g)(1) - y * y)


# The activations a fused linear layer can apply, by code (see kernels.cpu.linear).
ACTIVATION_CODES = {None: 0, "relu": 1, "sigmoid": 2, "tanh": 3}


@helper
def activate(v, code):
    """The activation numbered `code` in ACTIVATION_CODES, applied to v."""
    if code == 1:
        return relu_scalar(v)
    if code == 2:
        return sigmoid_scalar(v)
    if code == 3:
        return tanh_scalar(v)
    return v


@helper
def activate_grad(g, y, code):
    """The gradient g through activation `code`, given its output y."""
    if code == 1:
        return relu_grad_scalar(g, y)
    if code == 2:
        return sigmoid_grad_scalar(g, y)
    if code == 3:
        return tanh_grad_scalar(g, y)
    return g


# ---- parallel kernels over flat arrays ----

@kernel
def _relu(x, out):
    for i in prange(x.size):
        out[i] = relu_scalar(x[i])


@kernel
def _relu_backward(grad, out, grad_in):
    for i in prange(grad.size):
        grad_in[i] = relu_grad_scalar(grad[i], out[i])


@kernel
def _leaky_relu(x, slope, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = v if v > 0 else v * slope


@kernel
def _leaky_relu_backward(grad, x, slope, grad_in):
    for i in prange(grad.size):
        grad_in[i] = grad[i] if x[i] > 0 else grad[i] * slope


@kernel
def _sigmoid(x, out):
    for i in prange(x.size):
        out[i] = sigmoid_scalar(x[i])


@kernel
def _sigmoid_backward(grad, out, grad_in):
    for i in prange(grad.size):
        grad_in[i] = sigmoid_grad_scalar(grad[i], out[i])


@kernel
def _tanh(x, out):
    for i in prange(x.size):
        out[i] = tanh_scalar(x[i])


@kernel
def _tanh_backward(grad, out, grad_in):
    for i in prange(grad.size):
        grad_in[i] = tanh_grad_scalar(grad[i], out[i])


@kernel
def _hardtanh(x, min_val, max_val, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = min_val if v < min_val else (max_val if v > max_val else v)


@kernel
def _hardtanh_backward(grad, x, min_val, max_val, grad_in):
    zero = grad.dtype.type(0)
    for i in prange(grad.size):
        v = x[i]
        grad_in[i] = grad[i] if (v > min_val and v < max_val) else zero


@kernel
def _gelu(x, out):
    for i in prange(x.size):
        out[i] = gelu_scalar(x[i])


@kernel
def _gelu_backward(grad, x, grad_in):
    """d/dv [v Phi(v)] = Phi(v) + v phi(v)."""
    half = grad.dtype.type(0.5)
    one = grad.dtype.type(1)
    sqrt1_2 = grad.dtype.type(_SQRT1_2)
    inv_sqrt_2pi = grad.dtype.type(_INV_SQRT_2PI)
    for i in prange(grad.size):
        v = x[i]
        cdf = half * (one + math.erf(v * sqrt1_2))
        pdf = math.exp(-half * v * v) * inv_sqrt_2pi
        grad_in[i] = grad[i] * (cdf + v * pdf)


@kernel
def _softplus(x, beta, threshold, out):
    for i in prange(x.size):
        out[i] = softplus_scalar(x[i], beta, threshold)


@kernel
def _softplus_backward(grad, x, beta, threshold, grad_in):
    """d/dv softplus = sigmoid(beta v), or 1 where the forward returned v itself."""
    for i in prange(grad.size):
        z = x[i] * beta
        grad_in[i] = grad[i] if z > threshold else grad[i] * sigmoid_scalar(z)


# ---- wrappers ----

def _forward(op, fn, x, out, *params):
    """Run fn(flat x, *params cast to x's dtype, flat out) and return out (x's shape)."""
    x = float_array(x, op, "x")
    if out is None:
        out = np.empty(x.shape, x.dtype)
    else:
        check_out(out, x.shape, x.dtype, op, x)
    fn(np.ascontiguousarray(x).reshape(-1), *(x.dtype.type(p) for p in params), out.reshape(-1))
    return out


def _backward(op, fn, grad, saved, saved_name, *params):
    """Run fn(flat grad, flat saved, *params, flat result) and return the input gradient."""
    grad = float_array(grad, op, "grad")
    saved = float_array(saved, op, saved_name)
    same_dtype(op, grad=grad, **{saved_name: saved})
    if grad.shape != saved.shape:
        raise ValueError(f"{op}: grad shape {grad.shape} does not match "
                         f"{saved_name} shape {saved.shape}")
    grad_in = np.empty(grad.shape, grad.dtype)
    fn(np.ascontiguousarray(grad).reshape(-1), np.ascontiguousarray(saved).reshape(-1),
       *(grad.dtype.type(p) for p in params), grad_in.reshape(-1))
    return grad_in


def relu(x, out=None):
    """max(x, 0)."""
    return _forward("relu", _relu, x, out)


def relu_backward(grad, out):
    """grad where relu's output is positive, else 0."""
    return _backward("relu_backward", _relu_backward, grad, out, "out")


def leaky_relu(x, slope=0.01, out=None):
    """x where x > 0, else slope * x."""
    return _forward("leaky_relu", _leaky_relu, x, out, slope)


def leaky_relu_backward(grad, x, slope=0.01):
    """grad where x > 0, else slope * grad."""
    return _backward("leaky_relu_backward", _leaky_relu_backward, grad, x, "x", slope)


def sigmoid(x, out=None):
    """1 / (1 + e^-x), without overflow for large |x|."""
    return _forward("sigmoid", _sigmoid, x, out)


def sigmoid_backward(grad, out):
    """grad * out * (1 - out)."""
    return _backward("sigmoid_backward", _sigmoid_backward, grad, out, "out")


def tanh(x, out=None):
    """Hyperbolic tangent."""
    return _forward("tanh", _tanh, x, out)


def tanh_backward(grad, out):
    """grad * (1 - out^2)."""
    return _backward("tanh_backward", _tanh_backward, grad, out, "out")


def hardtanh(x, min_val=-1.0, max_val=1.0, out=None):
    """x clamped to [min_val, max_val]."""
    return _forward("hardtanh", _hardtanh, x, out, min_val, max_val)


def hardtanh_backward(grad, x, min_val=-1.0, max_val=1.0):
    """grad where min_val < x < max_val, else 0 (PyTorch's convention at the edges)."""
    return _backward("hardtanh_backward", _hardtanh_backward, grad, x, "x", min_val, max_val)


def gelu(x, out=None):
    """Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))."""
    return _forward("gelu", _gelu, x, out)


def gelu_backward(grad, x):
    """grad * (Phi(x) + x phi(x))."""
    return _backward("gelu_backward", _gelu_backward, grad, x, "x")


def softplus(x, beta=1.0, threshold=20.0, out=None):
    """log(1 + e^(beta x)) / beta; x itself where beta x > threshold."""
    return _forward("softplus", _softplus, x, out, beta, threshold)


def softplus_backward(grad, x, beta=1.0, threshold=20.0):
    """grad * sigmoid(beta x); grad itself where beta x > threshold."""
    return _backward("softplus_backward", _softplus_backward, grad, x, "x", beta, threshold)
