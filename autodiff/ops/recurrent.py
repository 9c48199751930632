"""Recurrent layers and embeddings, each one graph node: RNN (tanh/relu), LSTM (with projections), GRU.

One direction of one layer runs over the whole sequence as a single op
(``Recurrent``): the input-to-hidden products of every time step are one matrix
product, the loop only does the hidden-to-hidden product and the cell's pointwise
math, and backward runs backpropagation through time in one loop the same way.
This keeps the graph small (one node instead of ~15 per time step), which is what
makes a language-model step fast on small sizes.

The cells' math is written once, against a small namespace (``ArrayCells`` on numpy
arrays, ``TensorCells`` on recorded tensors), so the same forward and backward loops
run on arrays in an ordinary backward pass and on tensors under
``create_graph=True`` (the forward is then recomputed from the saved inputs with
recorded ops, so that the backward pass can itself be differentiated).

The op's output is ``(T + 1, B, P [+ H])``: rows ``0..T-1`` are each step's hidden
state (and, for the LSTM, cell state), row ``T`` the final states; the layer in
``autodiff.nn.rnn`` slices them apart. Variable lengths (packed sequences) come as a
per-step mask: a finished sequence keeps its state and outputs zeros.
"""
import numpy as np

from ..autograd.function import Op
from .. import backends
from ..cuda import devices
from ..cuda.devices import DeviceArray


# ---------------------------------------------------------------------- the two math namespaces
def _sigmoid(x):
    """1 / (1 + exp(-x)) as 0.5 tanh(x / 2) + 0.5: stable, one transcendental call."""
    out = np.tanh(x * 0.5)
    out *= 0.5
    out += 0.5
    return out


class ArrayCells:
    """The cells' building blocks on numpy arrays."""

    sigmoid = staticmethod(_sigmoid)
    tanh = staticmethod(np.tanh)
    stack = staticmethod(np.stack)

    @staticmethod
    def relu(x):
        return np.maximum(x, 0)

    @staticmethod
    def positive(x):
        """1 where x > 0, else 0, in x's dtype (relu's derivative; a constant)."""
        return (x > 0).astype(x.dtype)

    @staticmethod
    def cat(parts):
        return np.concatenate(parts, axis=-1)

    @staticmethod
    def constant(array, like):
        return array if type(like) is np.ndarray else devices.like(array, like)


class TensorCells:
    """The same building blocks on tensors, recorded in the graph (create_graph)."""

    @staticmethod
    def sigmoid(x):
        return x.sigmoid()

    @staticmethod
    def tanh(x):
        return x.tanh()

    @staticmethod
    def relu(x):
        return x.relu()

    @staticmethod
    def positive(x):
        return _tensor()._wrap((x._data > 0).astype(x._data.dtype))

    @staticmethod
    def stack(parts):
        from ..tensor import stack
        return stack(parts)

    @staticmethod
    def cat(parts):
        from ..tensor import cat
        return cat(parts, -1)

    @staticmethod
    def constant(array, like):
        return _tensor()._wrap(ArrayCells.constant(np.asarray(array, dtype=like._data.dtype), like._data))


def _tensor():
    from ..tensor import Tensor
    return Tensor


# ---------------------------------------------------------------------- the cells
class RNNCellMath:
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu."""

    gates = 1
    has_cell = False
    split_hidden_bias = False

    def __init__(self, nonlinearity):
        self.relu = nonlinearity == "relu"

    def forward(self, m, gx, h, c, w_hh_t, b_hh, w_hr_t):
        pre = gx + h @ w_hh_t
        h_new = m.relu(pre) if self.relu else m.tanh(pre)
        return h_new, None, h_new

    def backward(self, m, dh, dc, cache, w_hh, w_hr):
        h_new = cache
        dpre = dh * m.positive(h_new) if self.relu else dh * (1 - h_new * h_new)
        return dpre, dpre, dpre @ w_hh, None, None


class LSTMCellMath:
    """Gates i, f, g, o (PyTorch's order) from W_ih x + b_ih + W_hh h + b_hh;
    c' = f c + i g, h' = o tanh(c'), projected by W_hr when proj_size > 0."""

    gates = 4
    has_cell = True
    split_hidden_bias = False

    def forward(self, m, gx, h, c, w_hh_t, b_hh, w_hr_t):
        gates = gx + h @ w_hh_t
        size = c.shape[-1]
        s = m.sigmoid(gates)
        i, f, o = s[:, :size], s[:, size:2 * size], s[:, 3 * size:]
        g = m.tanh(gates[:, 2 * size:3 * size])
        c_new = f * c + i * g
        tanh_c = m.tanh(c_new)
        out = o * tanh_c
        h_new = out if w_hr_t is None else out @ w_hr_t
        return h_new, c_new, (i, f, g, o, c, tanh_c, out)

    def backward(self, m, dh, dc, cache, w_hh, w_hr):
        i, f, g, o, c, tanh_c, out = cache
        d_out = dh if w_hr is None else dh @ w_hr
        dc = dc + d_out * o * (1 - tanh_c * tanh_c)
        dgates = m.cat([dc * g * i * (1 - i), dc * c * f * (1 - f),
                        dc * i * (1 - g * g), d_out * tanh_c * o * (1 - o)])
        return dgates, dgates, dgates @ w_hh, dc * f, out


class GRUCellMath:
    """r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}),
    n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""

    gates = 3
    has_cell = False
    split_hidden_bias = True     # b_hh sits inside r * (...): it cannot join b_ih

    def forward(self, m, gx, h, c, w_hh_t, b_hh, w_hr_t):
        gh = h @ w_hh_t
        if b_hh is not None:
            gh = gh + b_hh
        size = h.shape[-1]
        s = m.sigmoid(gx[:, :2 * size] + gh[:, :2 * size])
        r, z = s[:, :size], s[:, size:]
        gh_n = gh[:, 2 * size:]
        n = m.tanh(gx[:, 2 * size:] + r * gh_n)
        h_new = n + z * (h - n)
        return h_new, None, (r, z, n, gh_n, h)

    def backward(self, m, dh, dc, cache, w_hh, w_hr):
        r, z, n, gh_n, h = cache
        dn = dh * (1 - z) * (1 - n * n)
        dr = dn * gh_n * r * (1 - r)
        dz = dh * (h - n) * z * (1 - z)
        dgx = m.cat([dr, dz, dn])
        dgh = m.cat([dr, dz, dn * r])
        return dgx, dgh, dh * z + dgh @ w_hh, None, None


CELLS = {"RNN_TANH": RNNCellMath("tanh"), "RNN_RELU": RNNCellMath("relu"),
         "LSTM": LSTMCellMath(), "GRU": GRUCellMath()}


# ---------------------------------------------------------------------- the loops
def _gate_inputs(x, w_ih, b_ih, b_hh, cell):
    """W_ih x_t (+ biases) for every step at once: (T, B, G)."""
    steps, batch, features = x.shape
    gx = (x.reshape(steps * batch, features) @ w_ih.T).reshape(steps, batch, w_ih.shape[0])
    bias = b_ih if cell.split_hidden_bias else _summed_bias(b_ih, b_hh)   # (one pass over gx instead of two)
    if bias is None:
        return gx
    if type(gx) is np.ndarray:
        gx += bias           # (a new array: added in place)
        return gx
    return gx + bias


def _summed_bias(b_ih, b_hh):
    """b_ih + b_hh (either may be None)."""
    if b_ih is None or b_hh is None:
        return b_hh if b_ih is None else b_ih
    return b_ih + b_hh


def run_forward(m, cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, masks):
    """Run one direction of one layer; returns (the op's output, what backward needs)."""
    steps = x.shape[0]
    gx = _gate_inputs(x, w_ih, b_ih, b_hh, cell)
    w_hh_t = w_hh.T
    w_hr_t = None if w_hr is None else w_hr.T
    h, c = h0, c0
    outputs = [None] * steps
    caches, h_prev = [None] * steps, [None] * steps
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        h_prev[t] = h
        h_new, c_new, caches[t] = cell.forward(m, gx[t], h, c, w_hh_t, b_hh, w_hr_t)
        if masks is None:
            h, c = h_new, c_new
            outputs[t] = h_new if c is None else m.cat([h_new, c_new])
        else:
            keep = masks[t]                 # (B, 1): 1 while the sequence lasts
            h = h + (h_new - h) * keep
            out_h = h_new * keep
            if c is not None:
                c = c + (c_new - c) * keep
                outputs[t] = m.cat([out_h, c_new * keep])
            else:
                outputs[t] = out_h
    outputs.append(h if c is None else m.cat([h, c]))
    return m.stack(outputs), (caches, h_prev)


def run_backward(m, cell, grad, x, w_ih, w_hh, w_hr, reverse, masks, caches, h_prev, needs):
    """Backpropagation through time: gradients for x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr."""
    steps = x.shape[0]
    proj = h_prev[0].shape[-1]
    dh = grad[steps][:, :proj]
    dc = grad[steps][:, proj:] if cell.has_cell else None
    dgx, dgh, dh_out, outs = [None] * steps, [None] * steps, [None] * steps, [None] * steps
    for t in (range(steps) if reverse else range(steps - 1, -1, -1)):
        g_t = grad[t]
        if masks is None:
            dh_new = dh + g_t[:, :proj]
            dc_new = dc + g_t[:, proj:] if dc is not None else None
            dh_keep = dc_keep = None
        else:
            keep = masks[t]
            dh_new = (dh + g_t[:, :proj]) * keep
            dh_keep = dh * (1 - keep)
            dc_new = (dc + g_t[:, proj:]) * keep if dc is not None else None
            dc_keep = dc * (1 - keep) if dc is not None else None
        dgx[t], dgh[t], dh, dc, outs[t] = cell.backward(m, dh_new, dc_new, caches[t], w_hh, w_hr)
        dh_out[t] = dh_new
        if dh_keep is not None:
            dh = dh + dh_keep
            if dc is not None:
                dc = dc + dc_keep
    steps_batch = steps * x.shape[1]
    grad_w_hr = None
    if needs[7]:
        grad_w_hr = m.stack(dh_out).reshape(steps_batch, -1).T @ m.stack(outs).reshape(steps_batch, -1)
    dgh_all = None if cell.gates != 3 else m.stack(dgh)
    return input_and_weight_gradients(m.stack(dgx), dgh_all, m.stack(h_prev), x, w_ih, needs, dh, dc, grad_w_hr)


def input_and_weight_gradients(dgx, dgh, h_prev, x, w_ih, needs, dh0, dc0, grad_w_hr=None):
    """Every step's gate gradients (T, B, G) turned into the gradients of x and the weights:
    one matrix product each over all the steps at once. ``dgh``: the hidden-side gate
    gradients where they differ from ``dgx`` (GRU), else None."""
    steps_batch = x.shape[0] * x.shape[1]
    need_x, need_h0, need_c0, need_w_ih, need_w_hh, need_b_ih, need_b_hh, _ = needs
    dgx_all = dgx.reshape(steps_batch, -1)
    dgh_all = dgx_all if dgh is None else dgh.reshape(steps_batch, -1)
    grad_x = (dgx_all @ w_ih).reshape(x.shape) if need_x else None
    grad_w_ih = dgx_all.T @ x.reshape(steps_batch, -1) if need_w_ih else None
    grad_w_hh = dgh_all.T @ h_prev.reshape(steps_batch, -1) if need_w_hh else None
    grad_b_ih = dgx_all.sum(0) if need_b_ih else None
    grad_b_hh = None
    if need_b_hh:       # (the same sum as b_ih's unless the hidden side differs: GRU)
        grad_b_hh = grad_b_ih if dgh is None and grad_b_ih is not None else dgh_all.sum(0)
    return (grad_x, dh0 if need_h0 else None, dc0 if need_c0 else None,
            grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh, grad_w_hr)


def step_masks(lengths, steps, dtype):
    """(T, B, 1) masks: 1 where step t < the sequence's length (None when all are full)."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if (lengths >= steps).all():
        return None
    return (np.arange(steps)[:, None] < lengths[None, :]).astype(dtype)[:, :, None]


# ---------------------------------------------------------------------- the LSTM on CUDA arrays
def _numba_view(a):
    """A C-contiguous Numba device array holding CudaArray ``a`` (a view when it already is one)."""
    if not a.is_c_contiguous:
        a = a.copy()
    return a._buf[a._offset:a._offset + a.size].reshape(a.shape)


def _cuda_array(numba_array):
    from ..cuda.array import CudaArray, _c_strides
    return CudaArray(numba_array.reshape(numba_array.size), 0, tuple(numba_array.shape),
                     _c_strides(numba_array.shape), numba_array.dtype)


def cuda_lstm_forward(gx, h0, c0, w_hh, reverse):
    """The LSTM over gx (T, B, 4H) on CUDA arrays: products through CudaArray's matmul, each
    step's cell math one kernel (kernels.cuda.lstm_cell_forward). Returns (out, cache) in the
    layout of kernels.cpu.lstm_sequence_forward."""
    from kernels import cuda as cuda_kernels
    steps = gx.shape[0]
    w_hh_t = w_hh.T
    h, c = h0, c0
    rows, cache = [None] * steps, [None] * steps
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        gates = gx[t] + h @ w_hh_t
        acts, c_new, tanh_c, h_new = (_cuda_array(a) for a in cuda_kernels.lstm_cell_forward(
            _numba_view(gates), _numba_view(c)))
        cache[t] = (acts, c, tanh_c, h)
        rows[t] = np.concatenate([h_new, c_new], axis=1)
        h, c = h_new, c_new
    rows.append(np.concatenate([h, c], axis=1))
    return np.stack(rows), cache


def cuda_lstm_backward(grad, cache, w_hh, reverse):
    """Backpropagation through time for ``cuda_lstm_forward``: (dgates, h_prev, dh0, dc0)."""
    from kernels import cuda as cuda_kernels
    steps = len(cache)
    size = cache[0][1].shape[-1]
    dh, dc = grad[steps][:, :size], grad[steps][:, size:]
    dgates, h_prev = [None] * steps, [None] * steps
    for t in (range(steps) if reverse else range(steps - 1, -1, -1)):
        acts, c_prev, tanh_c, h_prev[t] = cache[t]
        d_gates, d_c = cuda_kernels.lstm_cell_backward(
            _numba_view(dh + grad[t][:, :size]), _numba_view(dc + grad[t][:, size:]), _numba_view(acts),
            _numba_view(c_prev), _numba_view(tanh_c))
        dgates[t], dc = _cuda_array(d_gates), _cuda_array(d_c)
        dh = dgates[t] @ w_hh
    return np.stack(dgates), np.stack(h_prev), dh, dc


class Recurrent(Op):
    """One direction of one recurrent layer over a whole (T, B, I) sequence, as one node.

    Arguments: x, h0, c0 (None unless LSTM), w_ih, w_hh, b_ih, b_hh (None without bias),
    w_hr (None without projection), then mode ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'),
    reverse (run from the last step to the first), lengths (None, or each sequence's length)
    and rows (None, or (indices, table) arrays with x = table[indices], which the fused CPU
    LSTM may compute with: ``nn.functional_seq.gathered_rows``).
    Output: (T + 1, B, P) or, for the LSTM, (T + 1, B, P + H); see the module docstring.
    """

    op_name = "rnn"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, lengths, rows=None):
        cell = CELLS[mode]
        masks = step_masks(lengths, x.shape[0], x.dtype)
        if masks is not None:
            masks = ArrayCells.constant(masks, x)
        plain_lstm = mode == "LSTM" and w_hr is None and masks is None
        fused = plain_lstm and backends.kernel("lstm_sequence_forward", x)
        if plain_lstm and isinstance(x, DeviceArray) and x.dtype.kind == "f":
            fused = cuda_lstm_forward
        if fused is cuda_lstm_forward:
            out, cache = fused(_gate_inputs(x, w_ih, b_ih, b_hh, cell), h0, c0, w_hh, reverse)
        elif fused:
            out, cache = fused(x, w_ih, _summed_bias(b_ih, b_hh), h0, c0, w_hh, reverse,
                               rows if type(x) is np.ndarray else None)
        else:
            out, cache = run_forward(ArrayCells, cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, masks)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, out if fused else None)
        ctx.mode, ctx.reverse, ctx.masks, ctx.cache, ctx.fused = mode, reverse, masks, cache, fused
        return out

    @staticmethod
    def backward(ctx, grad):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, out = ctx.saved_tensors
        cell = CELLS[ctx.mode]
        needs = ctx.needs_input_grad[:8]
        if isinstance(grad, (np.ndarray, DeviceArray)):
            if ctx.fused is cuda_lstm_forward:
                dgates, h_prev, dh0, dc0 = cuda_lstm_backward(grad, ctx.cache, w_hh, ctx.reverse)
                return input_and_weight_gradients(dgates, None, h_prev, x, w_ih, needs, dh0, dc0) + (None,) * 4
            if ctx.fused:
                backward = backends.cpu_kernel("lstm_sequence_backward")
                need_bias = needs[5] or needs[6]
                grad_x, dh0, dc0, grad_w_ih, grad_w_hh, grad_bias = backward(
                    grad, out, ctx.cache, x, w_ih, w_hh, ctx.reverse, needs[:5] + (need_bias,))
                grad_b_hh = None
                if needs[6]:      # (b_ih and b_hh get the same sum: two arrays, each a gradient of its own)
                    grad_b_hh = grad_bias.copy() if needs[5] else grad_bias
                return (grad_x, dh0, dc0, grad_w_ih, grad_w_hh, grad_bias if needs[5] else None, grad_b_hh,
                        None) + (None,) * 4
            caches, h_prev = ctx.cache
            return run_backward(ArrayCells, cell, grad, x, w_ih, w_hh, w_hr, ctx.reverse, ctx.masks,
                                caches, h_prev, needs) + (None,) * 4
        # create_graph: recompute the forward with recorded ops, then run the same backward on tensors
        m = TensorCells
        masks = None if ctx.masks is None else _tensor()._wrap(ctx.masks)
        _, (caches, h_prev) = run_forward(m, cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, ctx.reverse, masks)
        return run_backward(m, cell, grad, x, w_ih, w_hh, w_hr, ctx.reverse, masks,
                            caches, h_prev, needs) + (None,) * 4


# ---------------------------------------------------------------------- embeddings
class Embedding(Op):
    """weight[indices]: each index picks a row; the gradient adds into the picked rows
    (not into ``padding_idx``'s row), each row's sum scaled by ``row_scale`` (rows, 1) when
    given (scale_grad_by_freq: 1 / the index's count in the batch)."""

    op_name = "embedding"

    @staticmethod
    def forward(ctx, indices, weight, padding_idx, row_scale):
        ctx.indices, ctx.rows, ctx.padding_idx, ctx.row_scale = indices, weight.shape[0], padding_idx, row_scale
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        dmath = ctx.math
        indices, rows = ctx.indices, ctx.rows
        features = grad.shape[-1]
        if type(grad) is np.ndarray:
            add_rows = backends.kernel("embedding_backward", grad) or _rows_sum
            grad_weight = add_rows(grad.reshape(-1, features), indices.reshape(-1), rows)
            if ctx.row_scale is not None:
                grad_weight *= ctx.row_scale
            if ctx.padding_idx is not None:
                grad_weight[ctx.padding_idx] = 0
            return None, grad_weight, None, None
        grad_weight = dmath.index_backward(grad.reshape(-1, features), indices.reshape(-1), (rows, features))
        dtype = grad.dtype if isinstance(grad, DeviceArray) else grad._data.dtype
        scale = np.ones((rows, 1), dtype=dtype) if ctx.row_scale is None else ctx.row_scale.astype(dtype)
        if ctx.padding_idx is not None:
            scale[ctx.padding_idx] = 0
        if ctx.row_scale is not None or ctx.padding_idx is not None:
            grad_weight = grad_weight * ArrayCells.constant(scale, grad if isinstance(grad, DeviceArray) else grad._data)
        return None, grad_weight, None, None


def _rows_sum(values, index, rows):
    """(rows, F) zeros plus each row of ``values`` added at its ``index``: the rows sorted by
    index and summed run by run (np.add.reduceat), 4x faster than np.add.at for an
    embedding's 512 lookups of 64 features."""
    out = np.zeros((rows, values.shape[1]), dtype=values.dtype)
    if index.size == 0:
        return out
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    out[ordered[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


class Scatter(Op):
    """zeros(shape) with ``data`` written at ``index`` (distinct positions): the inverse of
    indexing, used to unpack a PackedSequence into a padded batch."""

    op_name = "pad_packed_sequence"

    @staticmethod
    def forward(ctx, data, index, shape):
        ctx.index = index
        out = np.zeros_like(data, shape=shape)
        out[index] = data
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None
