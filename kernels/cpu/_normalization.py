"""Layer normalisation over the rows of a 2-D array, forward and backward, one serial pass each.

numpy spends ~10 calls on a LayerNorm forward and ~12 on its backward, most of them
reductions over a short last axis (64 features in the char GPT), which numpy runs slowly:
a (512, 64) float32 LayerNorm op took 95 us forward and 255 us forward + backward that way,
against 35 us and 98 us with these kernels (1.4x at (2, 5), 1.8x at (8, 8192); the char GPT
of benchmarks/bench_seq.py runs 5 LayerNorms per step). The row sums accumulate in
float64, and may be reassociated (fastmath "reassoc" only, so that LLVM vectorises them:
the order differs from numpy's pairwise sums by rounding; NaN and inf behave as in IEEE).
Serial: a parallel launch costs more than a row of 64.
"""

import numba
import numpy as np

from ._jit import float_array

_serial = numba.njit(cache=True, fastmath={"reassoc"})


@_serial
def _layer_norm_rows(x, weight, bias, eps, xhat, out, rstd):
    """xhat = (x - mean) * rstd per row, rstd = 1 / sqrt(var + eps) (biased variance);
    out = xhat * weight + bias (weight, bias of size 0: absent)."""
    rows, cols = x.shape
    for r in range(rows):
        row, xhat_row, out_row = x[r], xhat[r], out[r]
        total = 0.0
        for j in range(cols):
            total += row[j]
        mean = total / cols
        variance = 0.0
        for j in range(cols):
            d = row[j] - mean
            variance += d * d
        scale = 1.0 / np.sqrt(variance / cols + eps)
        rstd[r] = scale
        for j in range(cols):
            xhat_row[j] = (row[j] - mean) * scale
        if weight.size and bias.size:
            for j in range(cols):
                out_row[j] = xhat_row[j] * weight[j] + bias[j]
        elif weight.size:
            for j in range(cols):
                out_row[j] = xhat_row[j] * weight[j]
        elif bias.size:
            for j in range(cols):
                out_row[j] = xhat_row[j] + bias[j]
        else:
            for j in range(cols):
                out_row[j] = xhat_row[j]


@_serial
def _layer_norm_rows_backward(grad, xhat, rstd, weight, grad_x, grad_weight, grad_bias):
    """grad_x = (g - mean(g) - xhat mean(g xhat)) rstd with g = grad * weight, per row;
    grad_weight = sum over rows of grad * xhat, grad_bias = sum of grad (float64 sums)."""
    rows, cols = grad.shape
    for r in range(rows):
        grad_row, xhat_row, out_row = grad[r], xhat[r], grad_x[r]
        sum_g = 0.0
        sum_g_xhat = 0.0
        if weight.size:
            for j in range(cols):
                gj = grad_row[j] * weight[j]
                sum_g += gj
                sum_g_xhat += gj * xhat_row[j]
        else:
            for j in range(cols):
                sum_g += grad_row[j]
                sum_g_xhat += grad_row[j] * xhat_row[j]
        for j in range(cols):
            grad_weight[j] += grad_row[j] * xhat_row[j]
            grad_bias[j] += grad_row[j]
        mean_g = sum_g / cols
        mean_g_xhat = sum_g_xhat / cols
        scale = rstd[r]
        if weight.size:
            for j in range(cols):
                out_row[j] = (grad_row[j] * weight[j] - mean_g - xhat_row[j] * mean_g_xhat) * scale
        else:
            for j in range(cols):
                out_row[j] = (grad_row[j] - mean_g - xhat_row[j] * mean_g_xhat) * scale


def _absent(weight, dtype):
    return np.empty(0, dtype) if weight is None else np.ascontiguousarray(weight, dtype=dtype).reshape(-1)


def layer_norm_forward(x, weight, bias, eps):
    """LayerNorm over the last axis of 2-D ``x`` (rows, features); weight, bias: (features,) or None.
    Returns (out, xhat, rstd): the result, the normalised rows, and 1/sqrt(var + eps) per row (rows,)."""
    op = "layer_norm_forward"
    x = np.ascontiguousarray(float_array(x, op, "x"))
    if x.ndim != 2:
        raise ValueError(f"{op}: x must be 2-D (rows, features), got shape {x.shape}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and np.shape(value) != x.shape[1:]:
            raise ValueError(f"{op}: {name} must have shape {x.shape[1:]}, got {np.shape(value)}")
    xhat, out = np.empty_like(x), np.empty_like(x)
    rstd = np.empty(x.shape[0], np.float64)
    _layer_norm_rows(x, _absent(weight, x.dtype), _absent(bias, x.dtype), float(eps), xhat, out, rstd)
    return out, xhat, rstd.astype(x.dtype)


def layer_norm_backward(grad, xhat, rstd, weight):
    """The gradients of ``layer_norm_forward``'s out: (grad_x, grad_weight, grad_bias), the last
    two of shape (features,) (returned whether or not the forward had them)."""
    op = "layer_norm_backward"
    grad = np.ascontiguousarray(float_array(grad, op, "grad"))
    if grad.ndim != 2 or grad.shape != np.shape(xhat) or np.shape(rstd) != grad.shape[:1]:
        raise ValueError(f"{op}: expected grad and xhat of one 2-D shape and rstd (rows,), got "
                         f"{grad.shape}, {np.shape(xhat)}, {np.shape(rstd)}")
    xhat = np.ascontiguousarray(xhat, dtype=grad.dtype)
    grad_x = np.empty_like(grad)
    grad_weight = np.zeros(grad.shape[1], np.float64)
    grad_bias = np.zeros(grad.shape[1], np.float64)
    _layer_norm_rows_backward(grad, xhat, np.ascontiguousarray(rstd), _absent(weight, grad.dtype), grad_x,
                              grad_weight, grad_bias)
    return grad_x, grad_weight.astype(grad.dtype), grad_bias.astype(grad.dtype)
