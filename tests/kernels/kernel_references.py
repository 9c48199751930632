"""numpy references (float64) for the kernel tests, CPU and CUDA alike.

Deliberately written differently from the kernels where that is possible (sigmoid via
tanh, softplus via logaddexp), so that a shared mistake is less likely.
"""
import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.logaddexp(0, beta * x) / beta)


def gelu(x):
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


def gelu_derivative(x):
    return 0.5 * (1 + _erf(x / np.sqrt(2))) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


# name -> (forward, derivative with respect to x, extra parameters, backward takes the output)
ACTIVATIONS = {
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0, {}, True),
    "leaky_relu": (lambda x, slope: np.where(x > 0, x, slope * x),
                   lambda x, slope: np.where(x > 0, 1.0, slope), {"slope": 0.2}, False),
    "sigmoid": (sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)), {}, True),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2, {}, True),
    "hardtanh": (lambda x, min_val, max_val: np.clip(x, min_val, max_val),
                 lambda x, min_val, max_val: ((x > min_val) & (x < max_val)) * 1.0,
                 {"min_val": -0.5, "max_val": 1.5}, False),
    "gelu": (gelu, gelu_derivative, {}, False),
    "softplus": (softplus,
                 lambda x, beta, threshold: np.where(x * beta > threshold, 1.0, sigmoid(beta * x)),
                 {"beta": 2.0, "threshold": 3.0}, False),
}


def activation_sample(rng, shape, dtype):
    """Values over [-4, 4], kept 0.05 away from the kinks (0, and -0.5 and 1.5: hardtanh's
    edges, and softplus' switch at threshold / beta) so central differences are valid."""
    x = rng.uniform(-4, 4, size=shape)
    for edge in (0.0, -0.5, 1.5):
        x = np.where(np.abs(x - edge) < 0.05, edge + 0.2, x)
    return x.astype(dtype)


def log_softmax(x):
    x = np.asarray(x, np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(logits, targets):
    """(mean loss, d mean loss / d logits)."""
    log_p = log_softmax(logits)
    rows = np.arange(len(targets))
    grad = np.exp(log_p)
    grad[rows, targets] -= 1
    return -log_p[rows, targets].mean(), grad / len(targets)
