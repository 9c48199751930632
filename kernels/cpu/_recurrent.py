"""The LSTM over a whole sequence: BLAS for the matrix products and one fused serial Numba
pass per time step for the cell's pointwise math (forward and backward).

numpy spends ~10 calls (and as many temporary arrays) on an LSTM cell's gates, cell and
hidden state each step, and ~15 on their gradients; here a step is one batched matrix
product and one Numba call, forward and backward (serial loops: batches are small, a
parallel launch would cost more than the loop). The forward pass's sigmoid and tanh are
computed in the kernel from ``_exp.exp_nonpositive``, which LLVM vectorises; float64 keeps
libm's tanh, one call per value (its forward pass is ~1.5x slower than with numpy's tanh,
which this module used before). Layout and results are
those of ``autodiff.ops.recurrent`` (gates i, f, g, o; output rows h_t | c_t, then the
final states).

Memory: the temporaries (the weights in blocks, the gate gradients, the states each step
started from) live in a per-thread workspace reused from call to call. What leaves a call
(the output, the cache for backward, the gradients) is a new array each time: it may be held
by a graph, a ``.grad`` or the user, and a gradient that nothing else holds becomes ``.grad``
without a copy. (Fresh arrays used to cost a page fault per 4 KiB, ~1.7 ms of the 6.7 ms
language-model step of benchmarks/bench_seq.py; ``autodiff.backends.host_memory`` now keeps
freed memory in the process, so they cost none.)
"""
import math
import threading

import numpy as np
from numba.core import types
from numba.extending import overload

from ._embedding import embedding_backward
from ._exp import exp_nonpositive, sigmoid
from ._jit import float_array, helper


class _Workspace(threading.local):
    """Arrays reused from call to call on the same thread. Each grows to the largest size
    asked for, up to KEEP_BYTES: larger ones are allocated per call (their pass costs more
    than their page faults), so that one big LSTM does not leave hundreds of MB behind."""

    KEEP_BYTES = 16 << 20

    def __init__(self):
        self.arrays = {}

    def array(self, name, shape, dtype):
        """A temporary: it must not outlive the call that asked for it."""
        size = math.prod(shape)
        have = self.arrays.get(name)
        if have is None or have.dtype != dtype or have.size < size:
            have = np.empty(size, dtype)
            if have.nbytes <= self.KEEP_BYTES:
                self.arrays[name] = have
        return have[:size].reshape(shape)


_workspace = _Workspace()

_step = helper     # (serial; numpy's error model, so that loops with a division vectorise)


def _tanh(v):
    """tanh(v); in kernels, for float32, a form LLVM can vectorise (see the overload)."""
    return math.tanh(v)


@overload(_tanh, jit_options={"fastmath": False, "error_model": "numpy"})
def _tanh_vectorisable(v):
    """float32: (1 - e) / (1 + e) with e = exp(-2|v|) (``_exp.exp_nonpositive``, which LLVM
    vectorises), and near 0, where 1 - e cancels, its Taylor series to v^7 (truncation error
    < 2e-10 |v| for |v| < 1/8). float64 keeps libm's tanh."""
    if v != types.float32:
        return lambda v: math.tanh(v)
    f32 = types.float32
    one, two, zero, small_limit = f32(1), f32(2), f32(0), f32(0.125)
    c3, c5, c7 = f32(-1 / 3), f32(2 / 15), f32(-17 / 315)

    def impl(v):
        e = exp_nonpositive(-two * abs(v))
        large = (one - e) / (one + e)
        large = large if v >= zero else -large
        v2 = v * v
        small = v * (one + v2 * (c3 + v2 * (c5 + v2 * c7)))
        return small if abs(v) < small_limit else large
    return impl


@_step
def _lstm_step_forward(t, before, inputs, index, acts, hw, bias, out, tanh_c):
    """Step t of the forward pass: the gates' pre-activations (the input product
    inputs[index[t, b]] of each batch row b, the recurrent product hw, in column blocks (K, B,
    4H / K) that each lie within one gate, the bias) become their activations i, f, g, o in
    acts[t]; c' = f c + i g and h' = o tanh(c') go to out[t] as h' | c' (c from out[before]),
    tanh(c') to tanh_c[t] for the backward pass. ~8 us at B=16 H=128 in float32 against ~17
    for numpy's five calls. Each loop reads and writes few arrays and calls one function:
    written as one loop, LLVM kept it scalar (135 us). (inputs and acts must not overlap: a
    loop over overlapping rows stays scalar.)"""
    blocks, batch, width = hw.shape
    size = out.shape[2] // 2
    for b in range(batch):
        gates, source = acts[t, b], inputs[index[t, b]]
        for block in range(blocks):
            recurrent = hw[block, b]
            start = block * width
            if start // size == 2:          # g
                for j in range(width):
                    gates[start + j] = _tanh(source[start + j] + recurrent[j] + bias[start + j])
            else:                           # i, f, o
                for j in range(width):
                    gates[start + j] = sigmoid(source[start + j] + recurrent[j] + bias[start + j])
        row, previous, tanh = out[t, b], out[before, b], tanh_c[t, b]
        for j in range(size):
            row[size + j] = gates[size + j] * previous[size + j] + gates[j] * gates[2 * size + j]
        for j in range(size):
            tanh[j] = _tanh(row[size + j])
        for j in range(size):
            row[j] = gates[3 * size + j] * tanh[j]


@_step
def _lstm_step_backward(t, before, dh_parts, dc, d_out, grad, acts, out, c0, tanh_c, dgates):
    """Step t of backpropagation through time: from the carried dh (the sum of dh_parts (K, B,
    H), the step after's products in row blocks) and dc plus the step's output gradients grad[t],
    the gates' pre-activation gradients into dgates[t]; dc (in place) becomes the gradient of
    the cell state the step started from (out[before], or c0 when before is out of range).
    d_out (B, H): scratch. Indexing by t here, not in Python, saves ~8 slices a step; short
    loops over few arrays each, so that LLVM vectorises them (4.8 us against 5.6 for one loop
    at B=16 H=128, float32). (Constants in the arrays' dtype: a float64 ``1`` made every
    float32 product a conversion, and the step took 12 us instead of 5.)"""
    batch, size = dc.shape
    first = before < 0 or before >= acts.shape[0]
    one = dc.dtype.type(1)
    for b in range(batch):
        gates, d_gates, g_t, tanh, d_c, d_o = acts[t, b], dgates[t, b], grad[t, b], tanh_c[t, b], dc[b], d_out[b]
        previous, offset = (c0[b], 0) if first else (out[before, b], size)
        for j in range(size):
            d_o[j] = dh_parts[0, b, j] + g_t[j]
        for k in range(1, dh_parts.shape[0]):
            part = dh_parts[k, b]
            for j in range(size):
                d_o[j] += part[j]
        for j in range(size):
            d_c[j] += g_t[size + j] + d_o[j] * gates[3 * size + j] * (one - tanh[j] * tanh[j])
        for j in range(size):
            o = gates[3 * size + j]
            d_gates[3 * size + j] = d_o[j] * tanh[j] * o * (one - o)
        for j in range(size):
            i, g = gates[j], gates[2 * size + j]
            d_gates[j] = d_c[j] * g * i * (one - i)
            d_gates[2 * size + j] = d_c[j] * i * (one - g * g)
        for j in range(size):
            f = gates[size + j]
            d_gates[size + j] = d_c[j] * previous[offset + j] * f * (one - f)
            d_c[j] *= f


# The per-step recurrent products, in OpenBLAS (one thread), as batched np.matmul calls of
# smaller products rather than one (B, H) x (H, 4H) product. Forward: (B, H) x (H, 64) column
# blocks: at B=16 H=128, 14-15 us against 17 for four (H, H) blocks and 24 for one product;
# also ahead at B=16 H=256 and 512, B=64 H=128 (behind at B=64 H=256: 288 us against 250).
# Backward: the sum of (B, 64) x (64, H) products over 64-row blocks of W_hh, 15.3 us against
# 18.6 for four (B, H) x (H, H) products (one per gate) and 25.5 for one product; also ahead at
# B=64 H=128 (53 us against 72) and B=16 H=256 (71 against 97).
RECURRENT_COLUMNS = 64
RECURRENT_ROWS = 64


def _column_blocks(w_hh):
    """W_hh^T (H, 4H) as (K, H, 4H / K) column blocks (a view): RECURRENT_COLUMNS wide when
    they divide H (a block then lies within one gate), else one block per gate."""
    size = w_hh.shape[1]
    width = RECURRENT_COLUMNS if size % RECURRENT_COLUMNS == 0 else size
    return w_hh.reshape(w_hh.shape[0] // width, width, size).transpose(0, 2, 1)


def gathered_rows(rows, x):
    """``rows`` = (indices, table), said of x (T, B, I) = table[indices], as (indices, table) if
    x does equal table[indices] and the table's products pay (a table of V <= T * B / 2 rows,
    of x's dtype), else None.

    The input products of every step, x W_ih^T, are then the table's, (table W_ih^T)[indices],
    and the weight's gradient sum_t dgates_t^T x_t is (the gates' gradients summed per table
    row)^T table: V rows instead of T * B in both. The language model of bench_seq.py (65
    characters, 512 positions a batch): the input product 250 -> ~50 us, dW_ih 240 -> ~60."""
    if rows is None:
        return None
    indices, table = rows
    steps, batch, features = x.shape
    if (type(indices) is not np.ndarray or type(table) is not np.ndarray or indices.shape != (steps, batch)
            or indices.dtype.kind not in "iu" or table.ndim != 2 or table.shape[1] != features
            or table.dtype != x.dtype or 2 * table.shape[0] > steps * batch):
        return None
    # and x does hold those rows, whatever wrote to them since (a numpy view of the table,
    # which no version counter sees): ~9 us at T=32 B=16 I=64
    if not np.array_equal(np.take(table, indices, axis=0), x):
        return None
    return indices, table


def lstm_sequence_forward(x, w_ih, bias, h0, c0, w_hh, reverse=False, rows=None):
    """Run the LSTM over x (T, B, I) with weights w_ih (4H, I), w_hh (4H, H), bias (4H,)
    (b_ih + b_hh, or None), from states h0, c0 (B, H).

    ``rows``: None, or (indices (T, B), table (V, I)) when x is exactly table[indices] (an
    embedding's output): with V at most half of T * B, the input products are then the
    table's, V rows instead of T * B, picked by index (see ``gathered_rows``).

    Returns (out, cache): out (T + 1, B, 2H) holds h_t | c_t per step and the final states
    in row T; cache is what ``lstm_sequence_backward`` needs (the gates' activations, tanh of
    each cell state, the initial states, the rows used). The input products of all steps are
    one product (or the table's, picked by index); each step's kernel reads its rows and
    writes the gates' activations to the cache.
    """
    x = float_array(x, "lstm_sequence_forward", "x")
    steps, batch, features = x.shape
    gates = w_ih.shape[0]
    size = gates // 4
    dtype = x.dtype
    gathered = gathered_rows(rows, x)
    if gathered is None:     # every position's input product, read by the steps in order
        inputs = np.matmul(x.reshape(steps * batch, features), w_ih.T,
                           out=_workspace.array("inputs", (steps * batch, gates), dtype))
        index = np.arange(steps * batch).reshape(steps, batch)
    else:                    # the table rows' products, read by index
        index, table = gathered
        inputs = np.matmul(table, w_ih.T)
    acts = np.empty((steps, batch, gates), dtype)
    blocks = _column_blocks(w_hh)
    w_blocks = _workspace.array("w_hh", blocks.shape, dtype)     # (contiguous: BLAS reads it as is)
    np.copyto(w_blocks, blocks)
    bias = np.zeros(gates, dtype) if bias is None else np.ascontiguousarray(bias, dtype=dtype)
    out = np.empty((steps + 1, batch, 2 * size), dtype)
    tanh_c = np.empty((steps, batch, size), dtype)
    hw = _workspace.array("hw", (w_blocks.shape[0], batch, w_blocks.shape[2]), dtype)
    h = np.asarray(h0, dtype=dtype)
    out[steps, :, size:] = c0         # (row T, the final states' row, holds c0 until the loop ends)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    before = steps                    # the row of the state each step starts from
    zero_start = not h.any()          # (the usual h0: its product is zeros, not worth a BLAS call)
    for t in order:
        if zero_start and before == steps:
            hw.fill(0)
        else:
            np.matmul(h, w_blocks, out=hw)
        _lstm_step_forward(t, before, inputs, index, acts, hw, bias, out, tanh_c)
        h, before = out[t, :, :size], t
    if steps:
        out[steps] = out[before]
    else:
        out[steps, :, :size] = h0
    return out, (acts, tanh_c, h0, c0, gathered)


def lstm_sequence_backward(grad, out, cache, x, w_ih, w_hh, reverse=False, needs=(True,) * 6):
    """Backpropagation through time for ``lstm_sequence_forward``, then the products that turn
    every step's gate gradients into the gradients of the inputs and weights (one each over
    all the steps at once).

    grad (T + 1, B, 2H): the gradient of its output; ``needs``: which of the six results to
    compute. Returns (grad_x, dh0, dc0, grad_w_ih, grad_w_hh, grad_bias), None where not needed
    (grad_bias: the gradient of b_ih, which is also b_hh's).
    """
    acts, tanh_c, h0, c0, gathered = cache
    steps, batch, gates = acts.shape
    size = gates // 4
    dtype = acts.dtype
    grad = np.ascontiguousarray(grad, dtype=dtype)
    c0 = np.ascontiguousarray(c0, dtype=dtype)
    dgates = _workspace.array("dgates", (steps, batch, gates), dtype)
    rows_per_block = RECURRENT_ROWS if gates % RECURRENT_ROWS == 0 else size
    blocks = gates // rows_per_block
    dgates_blocks = dgates.reshape(steps, batch, blocks, rows_per_block).transpose(0, 2, 1, 3)
    w_hh_blocks = w_hh.reshape(blocks, rows_per_block, size)
    dh_parts = _workspace.array("dh_parts", (blocks, batch, size), dtype)    # dh, as a sum of terms
    dh_parts[0] = grad[steps, :, :size]
    dh_parts[1:] = 0
    d_out = _workspace.array("d_out", (batch, size), dtype)
    dc = np.array(grad[steps, :, size:])
    need_x, need_h0, need_c0, need_w_ih, need_w_hh, need_bias = needs
    before = 1 if reverse else -1          # the step each state came from
    first_step = steps - 1 if reverse else 0    # the step that started from h0
    for t in (range(steps) if reverse else range(steps - 1, -1, -1)):
        _lstm_step_backward(t, t + before, dh_parts, dc, d_out, grad, acts, out, c0, tanh_c, dgates)
        if t != first_step or need_h0:     # (the first step's product is only dh0)
            np.matmul(dgates_blocks[t], w_hh_blocks, out=dh_parts)
    dh = dh_parts.sum(0) if need_h0 else None
    positions = steps * batch
    dgates = dgates.reshape(positions, gates)
    features = x.shape[-1]
    grad_x = grad_w_ih = grad_w_hh = None
    if need_x:
        grad_x = np.matmul(dgates, w_ih).reshape(x.shape)
    by_row = None      # x = table[indices]: the gates' gradients summed per table row, (V, 4H)
    if gathered is not None and (need_w_ih or need_bias):
        indices, table = gathered
        by_row = embedding_backward(dgates, indices.reshape(-1), table.shape[0])
    if need_w_ih:      # sum over steps of dgates_t^T x_t, or over table rows when x = table[indices]
        grad_w_ih = np.matmul(dgates.T, x.reshape(positions, features)) if by_row is None else \
            np.matmul(by_row.T, table)
    if need_w_hh:     # sum over steps of dgates_t^T h_(t-1): h_(t-1) read where it lies in out
        grad_w_hh = None
        if steps > 1:     # (out[t, :, :H] rows: a (positions, H) matrix of row stride 2H, as BLAS takes it)
            later, earlier = (slice(0, (steps - 1) * batch), slice(1, steps)) if reverse else \
                (slice(batch, positions), slice(0, steps - 1))
            grad_w_hh = np.matmul(dgates[later].T, out[earlier, :, :size].reshape((steps - 1) * batch, size))
        h0 = np.asarray(h0, dtype=dtype)
        if not steps:
            grad_w_hh = np.zeros((gates, size), dtype)
        elif grad_w_hh is None or h0.any():     # the step that started from h0 (zeros: adds nothing)
            first_rows = slice((steps - 1) * batch, positions) if reverse else slice(0, batch)
            from_h0 = np.matmul(dgates[first_rows].T, h0)
            if grad_w_hh is None:
                grad_w_hh = from_h0
            else:
                grad_w_hh += from_h0
    grad_bias = None
    if need_bias:
        grad_bias = (dgates if by_row is None else by_row).sum(0)
    return grad_x, dh if need_h0 else None, dc if need_c0 else None, grad_w_ih, grad_w_hh, grad_bias
