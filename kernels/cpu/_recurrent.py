"""The LSTM over a whole sequence: BLAS for the hidden-to-hidden products, numpy's
vectorised tanh for the transcendental functions, and one fused serial Numba loop per
time step for the rest of the cell's pointwise math (forward and backward).

numpy spends ~10 calls (and as many temporary arrays) on an LSTM cell's gates, cell and
hidden state each step, and ~15 on their gradients; here a forward step is six calls
into preallocated buffers and a backward step two (a serial loop: batches are small, a
parallel launch would cost more than the loop). Layout and results are those of
``autodiff.ops.recurrent`` (gates i, f, g, o; output rows h_t | c_t, then the final states).
"""


import numba
import numpy as np

from ._jit import float_array

_step = numba.njit(cache=True, fastmath=False)


@_step
def _lstm_gates_and_cell(acts, c_prev, out_c):
    """acts holds tanh of the scaled pre-activations (x/2 for i, f, o; x for g): turn i, f, o
    into sigmoids (sigmoid(x) = tanh(x/2)/2 + 1/2), then c' = f c + i g into out_c."""
    batch, gates = acts.shape
    size = gates // 4
    half = acts.dtype.type(0.5)
    for b in range(batch):
        for j in range(size):
            i = acts[b, j] * half + half
            f = acts[b, size + j] * half + half
            acts[b, j] = i
            acts[b, size + j] = f
            acts[b, 3 * size + j] = acts[b, 3 * size + j] * half + half
            out_c[b, j] = f * c_prev[b, j] + i * acts[b, 2 * size + j]


@_step
def _lstm_cell_backward(dh, dc, grad_h, grad_c, acts, c_prev, tanh_c, dgates):
    """From the carried dh, dc plus this step's output gradients: the gates' pre-activation
    gradients into dgates, and dc (in place) becomes the gradient of the previous cell state."""
    batch, size = dh.shape
    for b in range(batch):
        for j in range(size):
            i = acts[b, j]
            f = acts[b, size + j]
            g = acts[b, 2 * size + j]
            o = acts[b, 3 * size + j]
            t = tanh_c[b, j]
            d_out = dh[b, j] + grad_h[b, j]
            d_c = dc[b, j] + grad_c[b, j] + d_out * o * (1 - t * t)
            dgates[b, j] = d_c * g * i * (1 - i)
            dgates[b, size + j] = d_c * c_prev[b, j] * f * (1 - f)
            dgates[b, 2 * size + j] = d_c * i * (1 - g * g)
            dgates[b, 3 * size + j] = d_out * t * o * (1 - o)
            dc[b, j] = d_c * f


def lstm_sequence_forward(gx, h0, c0, w_hh, reverse=False):
    """Run the LSTM over gx (T, B, 4H) = W_ih x_t + biases, from states h0, c0 (B, H).

    Returns (out, cache): out (T + 1, B, 2H) holds h_t | c_t per step and the final states
    in row T; cache is what ``lstm_sequence_backward`` needs. The transcendental functions
    run as numpy's vectorised tanh (Numba's scalar tanh is ~80x slower per element): the
    sigmoid gates' columns are pre-scaled by 1/2 so that one tanh call covers all four gates.
    """
    gx = float_array(gx, "lstm_sequence_forward", "gx")
    steps, batch, gates = gx.shape
    size = gates // 4
    dtype = gx.dtype
    scale = np.full(gates, 0.5, dtype=dtype)
    scale[2 * size:3 * size] = 1
    w_scaled = np.ascontiguousarray(w_hh.T * scale)
    gx_scaled = gx * scale
    out = np.empty((steps + 1, batch, 2 * size), dtype=dtype)
    acts = np.empty((steps, batch, gates), dtype=dtype)
    tanh_c = np.empty((steps, batch, size), dtype=dtype)
    hw = np.empty((batch, gates), dtype=dtype)
    h, c = np.asarray(h0, dtype=dtype), np.asarray(c0, dtype=dtype)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        np.matmul(h, w_scaled, out=hw)
        hw += gx_scaled[t]
        step_acts, row = acts[t], out[t]
        np.tanh(hw, out=step_acts)
        _lstm_gates_and_cell(step_acts, c, row[:, size:])
        np.tanh(row[:, size:], out=tanh_c[t])
        np.multiply(step_acts[:, 3 * size:], tanh_c[t], out=row[:, :size])
        h, c = row[:, :size], row[:, size:]
    out[steps] = out[order[-1]] if steps else np.concatenate([h, c], axis=1)
    return out, (acts, tanh_c, h0, c0)


def lstm_sequence_backward(grad, out, cache, w_hh, reverse=False):
    """Backpropagation through time for ``lstm_sequence_forward``.

    grad (T + 1, B, 2H): the gradient of its output. Returns (dgates (T, B, 4H): the
    gradient of gx at each step, h_prev (T, B, H): the hidden state each step started from,
    dh0, dc0).
    """
    acts, tanh_c, h0, c0 = cache
    steps, batch, gates = acts.shape
    size = gates // 4
    dtype = acts.dtype
    dgates = np.empty((steps, batch, gates), dtype=dtype)
    h_prev = np.empty((steps, batch, size), dtype=dtype)
    dh = np.array(grad[steps, :, :size], dtype=dtype)
    dc = np.array(grad[steps, :, size:], dtype=dtype)
    order = range(steps) if reverse else range(steps - 1, -1, -1)
    before = 1 if reverse else -1          # the step each state came from
    for t in order:
        s = t + before
        first = s < 0 or s >= steps
        c_prev = c0 if first else out[s, :, size:]
        h_prev[t] = h0 if first else out[s, :, :size]
        g_t = grad[t]
        _lstm_cell_backward(dh, dc, g_t[:, :size], g_t[:, size:], acts[t], c_prev, tanh_c[t], dgates[t])
        np.matmul(dgates[t], w_hh, out=dh)
    return dgates, h_prev, dh, dc
