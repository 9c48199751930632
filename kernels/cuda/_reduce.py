"""CUDA reductions and row-wise kernels: sums, bias gradient, softmax, cross-entropy.

Sums within a block use a shared-memory tree (no atomics), so results are deterministic.
Row-wise kernels give each row one block of THREADS threads, which stride over the row's
columns and then combine their partial max and sum through shared memory.
"""

import math

import numpy as np
from numba import cuda

from ._common import MAX_BLOCKS, THREADS, blocks_for, device_float, empty, flat
from ._elementwise import mul

_SUM, _MAX = 0, 1


@cuda.jit(device=True)
def _block_reduce(shared, value, op):
    """Sum (op 0) or max (op 1) of `value` over the block's THREADS threads, returned to
    every thread. All threads of the block must call it."""
    tid = cuda.threadIdx.x
    shared[tid] = value
    cuda.syncthreads()
    step = THREADS // 2
    while step > 0:
        if tid < step:
            other = shared[tid + step]
            shared[tid] = shared[tid] + other if op == 0 else max(shared[tid], other)
        cuda.syncthreads()
        step //= 2
    result = shared[0]
    cuda.syncthreads()  # everyone has read shared[0] before it is reused
    return result


@cuda.jit
def _sum_blocks(x, partials):
    """partials[block] = the sum of this block's grid-stride share of flat x."""
    shared = cuda.shared.array(THREADS, dtype=x.dtype)
    acc = x.dtype.type(0)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        acc += x[i]
    total = _block_reduce(shared, acc, _SUM)
    if cuda.threadIdx.x == 0:
        partials[cuda.blockIdx.x] = total


@cuda.jit
def _column_sums(x, out):
    """out[j] = sum over rows of x[:, j]; adjacent threads read adjacent columns."""
    for j in range(cuda.grid(1), x.shape[1], cuda.gridsize(1)):
        acc = x.dtype.type(0)
        for i in range(x.shape[0]):
            acc += x[i, j]
        out[j] = acc


@cuda.jit
def _row_sums(x, out):
    """out[i] = sum of row i, one block per row."""
    shared = cuda.shared.array(THREADS, dtype=x.dtype)
    for row in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        acc = x.dtype.type(0)
        for j in range(cuda.threadIdx.x, x.shape[1], THREADS):
            acc += x[row, j]
        total = _block_reduce(shared, acc, _SUM)
        if cuda.threadIdx.x == 0:
            out[row] = total


@cuda.jit
def _softmax_rows(x, log, targets, out, losses):
    """out = softmax (or log_softmax when `log`) of each row of x, shifted by the row max.
    When targets has one entry per row, losses[row] = -log softmax(x)[row, target]."""
    shared = cuda.shared.array(THREADS, dtype=x.dtype)
    cols = x.shape[1]
    for row in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        top = x[row, 0]
        for j in range(cuda.threadIdx.x, cols, THREADS):
            top = max(top, x[row, j])
        top = _block_reduce(shared, top, _MAX)
        acc = x.dtype.type(0)
        for j in range(cuda.threadIdx.x, cols, THREADS):
            acc += math.exp(x[row, j] - top)
        log_total = math.log(_block_reduce(shared, acc, _SUM))
        for j in range(cuda.threadIdx.x, cols, THREADS):
            shifted = (x[row, j] - top) - log_total
            out[row, j] = shifted if log else math.exp(shifted)
        if cuda.threadIdx.x == 0 and targets.size == x.shape[0]:
            losses[row] = log_total - (x[row, targets[row]] - top)


@cuda.jit
def _cross_entropy_backward(probs, targets, scale, grad):
    """grad = scale * (probs - one_hot(targets))."""
    rows, cols = probs.shape
    for index in range(cuda.grid(1), rows * cols, cuda.gridsize(1)):
        i = index // cols
        j = index - i * cols
        hit = probs.dtype.type(1) if j == targets[i] else probs.dtype.type(0)
        grad[i, j] = scale * (probs[i, j] - hit)


def _total(x):
    """Sum of all elements of a flat device array, as a (1,) device array."""
    blocks = blocks_for(x.size)
    partials = empty(blocks, x.dtype)
    _sum_blocks[blocks, THREADS](x, partials)
    result = empty(1, x.dtype)
    _sum_blocks[1, THREADS](partials, result)
    return result


def sum(x, axis=None):  # noqa: A001  (named like numpy's and PyTorch's)
    """Sum of all elements (a (1,) device array), or over axis 0 or 1 of a 2-D array."""
    device_float(x, "sum", "x")
    if axis is None:
        return _total(flat(x, "sum", "x"))
    if x.ndim != 2 or axis not in (0, 1, -1, -2):
        raise ValueError(f"sum: axis {axis} needs a 2-D array and axis 0 or 1, got shape {x.shape}")
    rows, cols = x.shape
    if axis in (0, -2):
        out = empty(cols, x.dtype)
        if cols:
            _column_sums[blocks_for(cols), THREADS](x, out)
    else:
        out = empty(rows, x.dtype)
        if rows:
            _row_sums[min(rows, MAX_BLOCKS), THREADS](x, out)
    return out


def bias_grad(grad):
    """Gradient of a bias added to every row: the column sums of grad (batch, features)."""
    device_float(grad, "bias_grad", "grad")
    if grad.ndim != 2:
        raise ValueError(f"bias_grad: expected grad of shape (batch, features), got {grad.shape}")
    return sum(grad, axis=0)


def _rows(op, x, name):
    device_float(x, op, name)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"{op}: {name} must be 2-D (rows, classes) with at least one class, "
                         f"got shape {x.shape}")
    return x


def _softmax(op, x, log):
    _rows(op, x, "x")
    out = empty(x.shape, x.dtype)
    if x.shape[0]:  # no targets: the kernel computes no losses
        _softmax_rows[min(x.shape[0], MAX_BLOCKS), THREADS](
            x, log, empty(0, np.int64), out, empty(0, x.dtype))
    return out


def softmax(x):
    """Softmax of each row of a 2-D device array."""
    return _softmax("softmax", x, False)


def log_softmax(x):
    """Log-softmax of each row of a 2-D device array."""
    return _softmax("log_softmax", x, True)


def _check_targets(op, targets, rows):
    if not hasattr(targets, "copy_to_host"):
        raise TypeError(f"{op}: targets must be a device array (move it with cuda.to_device)")
    if targets.dtype != np.int64 or targets.shape != (rows,):
        raise ValueError(f"{op}: targets must be int64 of shape ({rows},), "
                         f"got {targets.dtype} {targets.shape}")


def softmax_cross_entropy_forward(logits, targets):
    """(mean loss as a (1,) device array, probabilities) for (batch, classes) logits and int64
    class targets on the device. Targets are not range-checked on the device: an index
    outside [0, classes) reads out of bounds."""
    op = "softmax_cross_entropy_forward"
    _rows(op, logits, "logits")
    _check_targets(op, targets, logits.shape[0])
    rows = logits.shape[0]
    probs = empty(logits.shape, logits.dtype)
    losses = empty(rows, logits.dtype)
    if rows == 0:
        return cuda.to_device(np.full(1, np.nan, logits.dtype)), probs
    _softmax_rows[min(rows, MAX_BLOCKS), THREADS](logits, False, targets, probs, losses)
    return mul(_total(losses), 1.0 / rows), probs


def softmax_cross_entropy_backward(probs, targets, grad_scale=1.0):
    """Gradient of grad_scale * (mean loss) with respect to the logits:
    grad_scale * (probs - one_hot(targets)) / batch."""
    op = "softmax_cross_entropy_backward"
    _rows(op, probs, "probs")
    _check_targets(op, targets, probs.shape[0])
    grad = empty(probs.shape, probs.dtype)
    if probs.size:
        scale = probs.dtype.type(grad_scale / probs.shape[0])
        _cross_entropy_backward[blocks_for(probs.size), THREADS](probs, targets, scale, grad)
    return grad
