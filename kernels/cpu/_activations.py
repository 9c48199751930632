"""Elementwise activations and their backward passes: one parallel pass over memory each.

The scalar formulas live in `kernels._scalar` (shared with the CUDA kernels). Backward
passes use the saved output where the derivative is a function of it (relu, sigmoid,
tanh) and the input otherwise. Arrays of any shape are processed flat.
"""

import numpy as np
from numba import prange

from .. import _scalar as S
from .._checks import same_dtype
from ._exp import sigmoid as _sigmoid_value
from ._jit import check_out, float_array, kernel


@kernel
def _relu(x, out):
    for i in prange(x.size):
        out[i] = S.relu(x[i])


@kernel
def _relu_backward(grad, out, grad_in):
    for i in prange(grad.size):
        grad_in[i] = S.relu_grad(grad[i], out[i])


@kernel
def _leaky_relu(x, slope, out):
    for i in prange(x.size):
        out[i] = S.leaky_relu(x[i], slope)


@kernel
def _leaky_relu_backward(grad, x, slope, grad_in):
    for i in prange(grad.size):
        grad_in[i] = S.leaky_relu_grad(grad[i], x[i], slope)


@kernel
def _sigmoid(x, out):
    for i in prange(x.size):
        out[i] = _sigmoid_value(x[i])   # (vectorised for float32: see _exp.py)


@kernel
def _sigmoid_backward(grad, out, grad_in):
    for i in prange(grad.size):
        grad_in[i] = S.sigmoid_grad(grad[i], out[i])


@kernel
def _tanh(x, out):
    for i in prange(x.size):
        out[i] = S.tanh(x[i])


@kernel
def _tanh_backward(grad, out, grad_in):
    for i in prange(grad.size):
        grad_in[i] = S.tanh_grad(grad[i], out[i])


@kernel
def _hardtanh(x, min_val, max_val, out):
    for i in prange(x.size):
        out[i] = S.hardtanh(x[i], min_val, max_val)


@kernel
def _hardtanh_backward(grad, x, min_val, max_val, grad_in):
    for i in prange(grad.size):
        grad_in[i] = S.hardtanh_grad(grad[i], x[i], min_val, max_val)


@kernel
def _gelu(x, out):
    for i in prange(x.size):
        out[i] = S.gelu(x[i])


@kernel
def _gelu_backward(grad, x, grad_in):
    for i in prange(grad.size):
        grad_in[i] = S.gelu_grad(grad[i], x[i])


@kernel
def _softplus(x, beta, threshold, out):
    for i in prange(x.size):
        out[i] = S.softplus(x[i], beta, threshold)


@kernel
def _softplus_backward(grad, x, beta, threshold, grad_in):
    for i in prange(grad.size):
        grad_in[i] = S.softplus_grad(grad[i], x[i], beta, threshold)


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
