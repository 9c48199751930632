"""The LSTM cell's pointwise math as two CUDA kernels (forward and backward), one thread
per (batch row, hidden unit): the ~10 elementwise kernels a step would launch through the
generic array operations become one. Same layout and formulas as kernels.cpu._recurrent
(gates i, f, g, o; sigmoid(x) = tanh(x/2)/2 + 1/2)."""

import math

from numba import cuda

from .._checks import same_dtype
from ._common import THREADS, blocks_for, device_float, empty, launch


@cuda.jit
def _lstm_cell_forward(gates, c_prev, acts, c_new, tanh_c, h_new):
    batch, size = c_prev.shape
    half = gates.dtype.type(0.5)
    for k in range(cuda.grid(1), batch * size, cuda.gridsize(1)):
        b = k // size
        j = k - b * size
        i = math.tanh(gates[b, j] * half) * half + half
        f = math.tanh(gates[b, size + j] * half) * half + half
        g = math.tanh(gates[b, 2 * size + j])
        o = math.tanh(gates[b, 3 * size + j] * half) * half + half
        acts[b, j] = i
        acts[b, size + j] = f
        acts[b, 2 * size + j] = g
        acts[b, 3 * size + j] = o
        c = f * c_prev[b, j] + i * g
        t = math.tanh(c)
        c_new[b, j] = c
        tanh_c[b, j] = t
        h_new[b, j] = o * t


@cuda.jit
def _lstm_cell_backward(d_h, d_c, acts, c_prev, tanh_c, dgates, dc_prev):
    batch, size = c_prev.shape
    one = acts.dtype.type(1)
    for k in range(cuda.grid(1), batch * size, cuda.gridsize(1)):
        b = k // size
        j = k - b * size
        i = acts[b, j]
        f = acts[b, size + j]
        g = acts[b, 2 * size + j]
        o = acts[b, 3 * size + j]
        t = tanh_c[b, j]
        dh = d_h[b, j]
        dc = d_c[b, j] + dh * o * (one - t * t)
        dgates[b, j] = dc * g * i * (one - i)
        dgates[b, size + j] = dc * c_prev[b, j] * f * (one - f)
        dgates[b, 2 * size + j] = dc * i * (one - g * g)
        dgates[b, 3 * size + j] = dh * t * o * (one - o)
        dc_prev[b, j] = dc * f


def _check(op, c_prev, wide, **others):
    device_float(c_prev, op, "c_prev")
    batch, size = c_prev.shape
    if wide.shape != (batch, 4 * size):
        raise ValueError(f"{op}: expected gates of shape {(batch, 4 * size)} for a cell state of shape "
                         f"{c_prev.shape}, got {wide.shape}")
    for name, x in others.items():
        if x.shape != c_prev.shape:
            raise ValueError(f"{op}: {name} has shape {x.shape}, expected {c_prev.shape}")
    same_dtype(op, c_prev=c_prev, gates=wide, **others)


def lstm_cell_forward(gates, c_prev):
    """From the pre-activations gates (B, 4H) = W_ih x + b_ih + W_hh h + b_hh and c_prev (B, H):
    (acts (B, 4H): i, f, g, o; c (B, H); tanh(c); h = o tanh(c)), new device arrays."""
    _check("lstm_cell_forward", c_prev, gates)
    batch, size = c_prev.shape
    acts = empty(gates.shape, gates.dtype)
    c_new, tanh_c, h_new = (empty(c_prev.shape, c_prev.dtype) for _ in range(3))
    if c_prev.size:
        launch(_lstm_cell_forward, blocks_for(c_prev.size), THREADS,
               gates, c_prev, acts, c_new, tanh_c, h_new)
    return acts, c_new, tanh_c, h_new


def lstm_cell_backward(d_h, d_c, acts, c_prev, tanh_c):
    """Gradients through one cell from the total gradients of its h and c: (dgates (B, 4H),
    the gradient of the pre-activations; dc_prev (B, H))."""
    _check("lstm_cell_backward", c_prev, acts, d_h=d_h, d_c=d_c, tanh_c=tanh_c)
    dgates = empty(acts.shape, acts.dtype)
    dc_prev = empty(c_prev.shape, c_prev.dtype)
    if c_prev.size:
        launch(_lstm_cell_backward, blocks_for(c_prev.size), THREADS,
               d_h, d_c, acts, c_prev, tanh_c, dgates, dc_prev)
    return dgates, dc_prev
