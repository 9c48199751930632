"""Fused linear layer: act(x @ w.T + b) forward, and its three gradients backward.

The forward is one blocked matmul whose last pass over each output block adds the bias
and applies the activation while the block is still in cache. The backward computes the
gradient through the activation (from the saved output) and the bias gradient in one pass
over grad_out, then two matmuls that read x and w as stored.
"""

import numpy as np
from numba import prange

from .. import _scalar as S
from .._checks import same_dtype
from ._jit import float_array, kernel
from ._matmul import gemm

# Row chunks for the bias gradient's partial sums: a fixed count, so the summation order,
# and hence the result, does not depend on the number of threads.
_BIAS_GRAD_CHUNKS = 16


@kernel
def _activation_and_bias_grad(grad_out, out, activation, grad_z, partial):
    """grad_z = grad_out through the activation (not written when activation is 0), and
    partial[c] = the column sums of grad_z over chunk c of the rows."""
    rows, cols = grad_out.shape
    chunks = partial.shape[0]
    for c in prange(chunks):
        sums = partial[c]
        sums[:] = 0
        for i in range(c * rows // chunks, (c + 1) * rows // chunks):
            if activation == 0:
                for j in range(cols):
                    sums[j] += grad_out[i, j]
            else:
                for j in range(cols):
                    g = S.activate_grad(grad_out[i, j], out[i, j], activation)
                    grad_z[i, j] = g
                    sums[j] += g


def _check(op, x, w):
    x = float_array(x, op, "x")
    w = float_array(w, op, "w")
    same_dtype(op, x=x, w=w)
    if x.ndim != 2 or w.ndim != 2:
        raise ValueError(f"{op}: expected 2-D x and w, got {x.ndim}-D and {w.ndim}-D")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"{op}: mat1 and mat2 shapes cannot be multiplied "
                         f"({x.shape[0]}x{x.shape[1]} and {w.shape[1]}x{w.shape[0]})")
    return x, w


def linear_forward(x, w, b=None, activation=None):
    """act(x @ w.T + b): x is (batch, in), w is (out, in) as in PyTorch, b is (out,) or None,
    activation is None, 'relu', 'sigmoid' or 'tanh'."""
    x, w = _check("linear_forward", x, w)
    return gemm(x, w.T, bias=b, activation=activation, op="linear_forward")


def linear_backward(grad_out, x, w, out=None, activation=None):
    """(grad_x, grad_w, grad_b) for out = linear_forward(x, w, b, activation).

    `out` is the forward's output, needed when there is an activation.
    """
    op = "linear_backward"
    x, w = _check(op, x, w)
    grad_out = float_array(grad_out, op, "grad_out")
    same_dtype(op, grad_out=grad_out, x=x)
    shape = (x.shape[0], w.shape[0])
    if grad_out.shape != shape:
        raise ValueError(f"{op}: grad_out must have shape {shape}, got {grad_out.shape}")
    if activation not in S.ACTIVATION_CODES:
        raise ValueError(f"{op}: activation must be one of {list(S.ACTIVATION_CODES)}, "
                         f"got {activation!r}")
    code = S.ACTIVATION_CODES[activation]
    grad_out = np.ascontiguousarray(grad_out)
    if code:
        if out is None:
            raise ValueError(f"{op}: out (the forward's output) is needed for "
                             f"activation {activation!r}")
        out = np.ascontiguousarray(float_array(out, op, "out"))
        same_dtype(op, grad_out=grad_out, out=out)
        if out.shape != shape:
            raise ValueError(f"{op}: out must have shape {shape}, got {out.shape}")
        grad_z = np.empty(shape, grad_out.dtype)
    else:
        out = grad_z = grad_out  # placeholders the kernel neither reads nor writes
    partial = np.empty((max(1, min(shape[0], _BIAS_GRAD_CHUNKS)), shape[1]), grad_out.dtype)
    _activation_and_bias_grad(grad_out, out, code, grad_z, partial)
    grad_b = partial.sum(axis=0)
    grad_x = gemm(grad_z, w, op=op)
    grad_w = gemm(grad_z.T, x, op=op)
    return grad_x, grad_w, grad_b
