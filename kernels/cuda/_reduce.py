"""CUDA reductions and row-wise kernels: sums, bias gradient, softmax, cross-entropy.

Sums within a block use a shared-memory tree (no atomics), so results are deterministic.
Row-wise kernels give each row one block of THREADS threads, which stride over the row's
columns and then combine their partial max and sum through shared memory.
"""

import math

import numpy as np
from numba import cuda

from ._common import (MAX_BLOCKS, THREADS, blocks_for, check_out, device_float, empty, flat,
                      launch)

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
def _softmax_rows(x, log, targets, ignore_index, out, losses):
    """out = softmax (or log_softmax when `log`) of each row of x, shifted by the row max.
    When targets has one entry per row, losses[row] = -log softmax(x)[row, target]: 0 where
    the target is ignore_index, NaN where it is outside [0, classes) (no host check needed)."""
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
            t = targets[row]
            if t == ignore_index:
                losses[row] = 0
            elif t < 0 or t >= cols:
                losses[row] = math.nan
            else:
                losses[row] = log_total - (x[row, t] - top)


@cuda.jit
def _loss_total(losses, targets, ignore_index, mean, out, kept):
    """One block: kept[0] = the rows whose target is not ignore_index; out[0] = the sum of
    losses, divided by kept[0] when `mean` (NaN when every row is ignored, as PyTorch)."""
    shared = cuda.shared.array(THREADS, dtype=losses.dtype)
    zero = losses.dtype.type(0)
    one = losses.dtype.type(1)
    acc = zero
    rows = zero
    for i in range(cuda.threadIdx.x, losses.size, THREADS):
        acc += losses[i]
        if targets[i] != ignore_index:
            rows += one
    total = _block_reduce(shared, acc, _SUM)
    rows = _block_reduce(shared, rows, _SUM)
    if cuda.threadIdx.x == 0:
        kept[0] = rows
        if not mean:
            out[0] = total
        elif rows > zero:
            out[0] = total / rows
        else:
            out[0] = math.nan


@cuda.jit(device=True)
def _row_scale(i, grad_loss, per_row, kept, mean, zero):
    """The loss's gradient for row i: grad_loss[i] when `per_row`, else grad_loss[0], divided
    by the kept rows' count kept[0] when `mean` (0 when none is kept)."""
    scale = grad_loss[i] if per_row else grad_loss[0]
    if mean:
        scale = scale / kept[0] if kept[0] > zero else zero
    return scale


@cuda.jit
def _cross_entropy_backward(probs, targets, ignore_index, grad_loss, per_row, kept, mean, grad):
    """grad = g_row * (probs - one_hot(targets)), g_row the loss's gradient for the row
    (grad_loss[row] when `per_row`, else grad_loss[0], divided by kept[0] when `mean`);
    rows whose target is ignore_index get 0."""
    rows, cols = probs.shape
    zero = probs.dtype.type(0)
    for index in range(cuda.grid(1), rows * cols, cuda.gridsize(1)):
        i = index // cols
        j = index - i * cols
        t = targets[i]
        scale = _row_scale(i, grad_loss, per_row, kept, mean, zero)
        if t == ignore_index:
            grad[i, j] = zero
        else:
            hit = probs.dtype.type(1) if j == t else zero
            grad[i, j] = scale * (probs[i, j] - hit)


@cuda.jit
def _nll_rows(x, targets, ignore_index, losses):
    """losses[row] = -x[row, target]: 0 where the target is ignore_index, NaN where it is
    outside [0, classes)."""
    cols = x.shape[1]
    for row in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        t = targets[row]
        if t == ignore_index:
            losses[row] = 0
        elif t < 0 or t >= cols:
            losses[row] = math.nan
        else:
            losses[row] = -x[row, t]


@cuda.jit
def _nll_backward(targets, ignore_index, grad_loss, per_row, kept, mean, grad):
    """grad[row, target] = -g_row (g_row as in _cross_entropy_backward), 0 elsewhere and on
    ignored rows."""
    rows, cols = grad.shape
    zero = grad.dtype.type(0)
    for index in range(cuda.grid(1), rows * cols, cuda.gridsize(1)):
        i = index // cols
        j = index - i * cols
        t = targets[i]
        scale = _row_scale(i, grad_loss, per_row, kept, mean, zero)
        grad[i, j] = -scale if (j == t and t != ignore_index) else zero


def _total(x, out=None):
    """Sum of all elements of a flat device array, as a (1,) device array."""
    blocks = blocks_for(x.size)
    result = check_out("sum", out, (1,), x.dtype)
    if blocks == 1:           # one block sums it all: one launch
        launch(_sum_blocks, 1, THREADS, x, result)
        return result
    partials = empty(blocks, x.dtype)
    launch(_sum_blocks, blocks, THREADS, x, partials)
    launch(_sum_blocks, 1, THREADS, partials, result)
    return result


def sum(x, axis=None, out=None):  # noqa: A001  (named like numpy's and PyTorch's)
    """Sum of all elements (a (1,) device array), or over axis 0 or 1 of a 2-D array."""
    device_float(x, "sum", "x")
    if axis is None:
        return _total(flat(x, "sum", "x"), out)
    if x.ndim != 2 or axis not in (0, 1, -1, -2):
        raise ValueError(f"sum: axis {axis} needs a 2-D array and axis 0 or 1, got shape {x.shape}")
    rows, cols = x.shape
    if axis in (0, -2):
        out = check_out("sum", out, (cols,), x.dtype)
        if cols:
            launch(_column_sums, blocks_for(cols), THREADS, x, out)
    else:
        out = check_out("sum", out, (rows,), x.dtype)
        if rows:
            launch(_row_sums, min(rows, MAX_BLOCKS), THREADS, x, out)
    return out


def bias_grad(grad, out=None):
    """Gradient of a bias added to every row: the column sums of grad (batch, features)."""
    device_float(grad, "bias_grad", "grad")
    if grad.ndim != 2:
        raise ValueError(f"bias_grad: expected grad of shape (batch, features), got {grad.shape}")
    return sum(grad, axis=0, out=out)


def _rows(op, x, name):
    device_float(x, op, name)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"{op}: {name} must be 2-D (rows, classes) with at least one class, "
                         f"got shape {x.shape}")
    return x


def _softmax(op, x, log, out):
    _rows(op, x, "x")
    out = check_out(op, out, x.shape, x.dtype)
    if x.shape[0]:  # no targets: the kernel computes no losses
        launch(_softmax_rows, min(x.shape[0], MAX_BLOCKS), THREADS,
               x, log, empty(0, np.int64), 0, out, empty(0, x.dtype))
    return out


def softmax(x, out=None):
    """Softmax of each row of a 2-D device array."""
    return _softmax("softmax", x, False, out)


def log_softmax(x, out=None):
    """Log-softmax of each row of a 2-D device array."""
    return _softmax("log_softmax", x, True, out)


def _check_targets(op, targets, rows):
    if not hasattr(targets, "copy_to_host"):
        raise TypeError(f"{op}: targets must be a device array (move it with cuda.to_device)")
    if targets.dtype != np.int64 or targets.shape != (rows,):
        raise ValueError(f"{op}: targets must be int64 of shape ({rows},), "
                         f"got {targets.dtype} {targets.shape}")


_REDUCTIONS = ("mean", "sum", "none")


def softmax_cross_entropy_forward(logits, targets, ignore_index=-100, reduction="mean",
                                  probs=None, loss=None, kept=None):
    """Cross-entropy of (batch, classes) logits against int64 class targets, all on the device:
    (loss, probs, kept). loss: the mean over the rows whose target is not ignore_index
    (``reduction='mean'``, a (1,) array), their sum ('sum'), or one loss per row ('none',
    0 for ignored rows); probs: the softmax of each row; kept: the number of rows counted, as
    a (1,) array, for the backward pass. A target outside [0, classes) gives a NaN loss.
    Two launches ('none': one), no copy to the host. ``probs``, ``loss`` and ``kept`` may be
    given (arrays to write into)."""
    op = "softmax_cross_entropy_forward"
    _rows(op, logits, "logits")
    _check_targets(op, targets, logits.shape[0])
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    rows = logits.shape[0]
    probs = check_out(op, probs, logits.shape, logits.dtype)
    losses = check_out(op, loss, (rows,), logits.dtype) if reduction == "none" else \
        empty(rows, logits.dtype)
    kept = check_out(op, kept, (1,), logits.dtype)
    if rows:
        launch(_softmax_rows, min(rows, MAX_BLOCKS), THREADS,
               logits, False, targets, ignore_index, probs, losses)
    if reduction == "none":
        return losses, probs, kept
    loss = check_out(op, loss, (1,), logits.dtype)
    launch(_loss_total, 1, THREADS, losses, targets, ignore_index, reduction == "mean", loss, kept)
    return loss, probs, kept


def softmax_cross_entropy_backward(probs, targets, grad_loss, kept=None, ignore_index=-100,
                                   reduction="mean", out=None):
    """Gradient of the loss with respect to the logits, given the loss's gradient grad_loss (a
    (1,) device array, or one per row for 'none') and the forward's probs and kept:
    grad_loss * (probs - one_hot(targets)) [/ kept for 'mean'], 0 on ignored rows. One launch."""
    op = "softmax_cross_entropy_backward"
    _rows(op, probs, "probs")
    _check_targets(op, targets, probs.shape[0])
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    per_row = reduction == "none"
    device_float(grad_loss, op, "grad_loss")
    if grad_loss.size != (probs.shape[0] if per_row else 1):
        raise ValueError(f"{op}: grad_loss must have {probs.shape[0] if per_row else 1} "
                         f"element(s) for reduction {reduction!r}, got shape {grad_loss.shape}")
    if reduction == "mean" and kept is None:
        raise ValueError(f"{op}: reduction 'mean' needs the forward's kept count")
    grad = check_out(op, out, probs.shape, probs.dtype)
    if probs.size:
        launch(_cross_entropy_backward, blocks_for(probs.size), THREADS,
               probs, targets, ignore_index, grad_loss.reshape(grad_loss.size), per_row,
               grad_loss if kept is None else kept, reduction == "mean", grad)
    return grad


def nll_loss_forward(log_probs, targets, ignore_index=-100, reduction="mean", loss=None, kept=None):
    """Negative log-likelihood of int64 class targets given (batch, classes) log-probabilities,
    on the device: (loss, kept) as in ``softmax_cross_entropy_forward`` (mean over the rows not
    ignored, their sum, or one loss per row; NaN for a target out of range). Two launches
    ('none': one), no copy to the host."""
    op = "nll_loss_forward"
    _rows(op, log_probs, "log_probs")
    _check_targets(op, targets, log_probs.shape[0])
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    rows = log_probs.shape[0]
    losses = check_out(op, loss, (rows,), log_probs.dtype) if reduction == "none" else \
        empty(rows, log_probs.dtype)
    kept = check_out(op, kept, (1,), log_probs.dtype)
    if rows:
        launch(_nll_rows, blocks_for(rows), THREADS, log_probs, targets, ignore_index, losses)
    if reduction == "none":
        return losses, kept
    loss = check_out(op, loss, (1,), log_probs.dtype)
    launch(_loss_total, 1, THREADS, losses, targets, ignore_index, reduction == "mean", loss, kept)
    return loss, kept


def nll_loss_backward(targets, classes, grad_loss, kept=None, ignore_index=-100, reduction="mean",
                      out=None):
    """Gradient of ``nll_loss_forward``'s loss with respect to the log-probabilities (batch,
    classes): -grad_loss [/ kept for 'mean'] at each row's target, 0 elsewhere. One launch."""
    op = "nll_loss_backward"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    rows = targets.shape[0]
    _check_targets(op, targets, rows)
    device_float(grad_loss, op, "grad_loss")
    per_row = reduction == "none"
    if grad_loss.size != (rows if per_row else 1):
        raise ValueError(f"{op}: grad_loss must have {rows if per_row else 1} element(s) for "
                         f"reduction {reduction!r}, got shape {grad_loss.shape}")
    if reduction == "mean" and kept is None:
        raise ValueError(f"{op}: reduction 'mean' needs the forward's kept count")
    grad = check_out(op, out, (rows, classes), grad_loss.dtype)
    if grad.size:
        launch(_nll_backward, blocks_for(grad.size), THREADS, targets, ignore_index,
               grad_loss.reshape(grad_loss.size), per_row, grad_loss if kept is None else kept,
               reduction == "mean", grad)
    return grad
