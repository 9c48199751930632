"""Row-wise softmax, log-softmax, and fused softmax + cross-entropy.

Every row is shifted by its maximum before exponentiating, so logits of +-1000 give
finite results: log_softmax(x) = x - max - log(sum(exp(x - max))).
"""

import math

import numpy as np
from numba import prange

from ._exp import exp_nonpositive
from ._jit import check_out, float_array, helper, kernel


@helper
def _row_max(row, n):
    """max(row), NaN when the row holds one (then every result of the row is NaN anyway):
    four running maxima, where the array's own .max() was a third of the kernel's time."""
    m0 = m1 = m2 = m3 = row[0]
    body = n - n % 4
    for j in range(0, body, 4):
        m0 = row[j] if row[j] > m0 else m0
        m1 = row[j + 1] if row[j + 1] > m1 else m1
        m2 = row[j + 2] if row[j + 2] > m2 else m2
        m3 = row[j + 3] if row[j + 3] > m3 else m3
    for j in range(body, n):
        m0 = row[j] if row[j] > m0 else m0
    return max(max(m0, m1), max(m2, m3))


@helper
def _exp_shifted(row, res):
    """res = exp(row - max(row)); returns (max(row), sum(res)). Needs len(row) > 0.

    exp of values <= 0 through ``_exp.exp_nonpositive`` (vectorised for float32), summed in
    four partial sums (one running total is a chain of dependent adds): with ``_row_max``, the
    fused cross-entropy forward at (512, 65) float32 went from 97 to ~57 us a call (the kernel
    alone: 27 us), numpy's path taking 84."""
    n = row.size
    top = _row_max(row, n)
    for j in range(n):
        res[j] = exp_nonpositive(row[j] - top)
    zero = row.dtype.type(0)
    s0, s1, s2, s3 = zero, zero, zero, zero
    body = n - n % 4
    for j in range(0, body, 4):
        s0 += res[j]
        s1 += res[j + 1]
        s2 += res[j + 2]
        s3 += res[j + 3]
    total = (s0 + s1) + (s2 + s3)
    for j in range(body, n):
        total += res[j]
    return top, total


@kernel
def _softmax_rows(x, log, out):
    """out = softmax(x) (or log_softmax when `log`) along each row of 2-D x."""
    rows, cols = x.shape
    if cols == 0:
        return
    for i in prange(rows):
        row, res = x[i], out[i]
        top, total = _exp_shifted(row, res)
        if log:
            log_total = math.log(total)
            for j in range(cols):
                res[j] = (row[j] - top) - log_total
        else:
            for j in range(cols):
                res[j] /= total


@helper
def _cross_entropy_rows(logits, targets, probs, losses, start, stop):
    """Rows start..stop-1: probs[i] = softmax(logits[i]); losses[i] = -log probs[i, targets[i]],
    computed as log(sum(exp(x - max))) - (x[target] - max), which stays finite for huge logits.

    Serial, over a range of rows (the parallel kernel hands each thread one range), and
    indexed [i, j] rather than through row views: 47 us at (512, 65) float32 on one thread,
    against 58 through row views and 66 through a helper called once per row."""
    cols = logits.shape[1]
    zero = logits.dtype.type(0)
    body = cols - cols % 4
    for i in range(start, stop):
        top = _row_max(logits[i], cols)
        for j in range(cols):
            probs[i, j] = exp_nonpositive(logits[i, j] - top)
        s0, s1, s2, s3 = zero, zero, zero, zero     # (four partial sums, as in _exp_shifted)
        for j in range(0, body, 4):
            s0 += probs[i, j]
            s1 += probs[i, j + 1]
            s2 += probs[i, j + 2]
            s3 += probs[i, j + 3]
        total = (s0 + s1) + (s2 + s3)
        for j in range(body, cols):
            total += probs[i, j]
        for j in range(cols):
            probs[i, j] /= total
        losses[i] = math.log(total) - (logits[i, targets[i]] - top)


@helper
def _cross_entropy_rows_backward(probs, targets, scale, grad, start, stop):
    """Rows start..stop-1 of grad = scale * (probs - one_hot(targets))."""
    for i in range(start, stop):
        for j in range(probs.shape[1]):
            grad[i, j] = probs[i, j] * scale
        grad[i, targets[i]] -= scale


ROWS_PER_TASK = 64


@kernel
def _softmax_cross_entropy(logits, targets, probs, losses):
    """``_cross_entropy_rows`` over all rows, ROWS_PER_TASK rows a parallel task."""
    rows = logits.shape[0]
    for task in prange((rows + ROWS_PER_TASK - 1) // ROWS_PER_TASK):
        start = task * ROWS_PER_TASK
        _cross_entropy_rows(logits, targets, probs, losses, start, min(start + ROWS_PER_TASK, rows))


@kernel
def _softmax_cross_entropy_backward(probs, targets, scale, grad):
    rows = probs.shape[0]
    for task in prange((rows + ROWS_PER_TASK - 1) // ROWS_PER_TASK):
        start = task * ROWS_PER_TASK
        _cross_entropy_rows_backward(probs, targets, scale, grad, start, min(start + ROWS_PER_TASK, rows))


# Up to this many logits the cross-entropy runs serially on the calling thread. A parallel
# launch wakes the pool's sleeping threads (80-130 us, see _jit.py): nn.CrossEntropyLoss forward
# + backward at (512, 65) float32 took 190 us through parallel launches on two threads, 101
# serially, 127 through numpy.
SERIAL_MAX_SIZE = 1 << 17


def _softmax(op, x, log, out):
    """Run _softmax_rows over x viewed as (rows, last axis); result in x's shape."""
    x = float_array(x, op, "x")
    if x.ndim == 0:
        raise ValueError(f"{op}: expected at least 1-D input, got a 0-D array")
    if out is None:
        out = np.empty(x.shape, x.dtype)
    else:
        check_out(out, x.shape, x.dtype, op, x)
    shape = (math.prod(x.shape[:-1]), x.shape[-1])
    _softmax_rows(np.ascontiguousarray(x).reshape(shape), log, out.reshape(shape))
    return out


def softmax(x, out=None):
    """Softmax along the last axis."""
    return _softmax("softmax", x, False, out)


def log_softmax(x, out=None):
    """Log-softmax along the last axis."""
    return _softmax("log_softmax", x, True, out)


def _check_targets(op, targets, rows, classes):
    targets = np.asarray(targets)
    if targets.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integers, got {targets.dtype}")
    if targets.shape != (rows,):
        raise ValueError(f"{op}: targets must have shape ({rows},), got {targets.shape}")
    if rows and (targets.min() < 0 or targets.max() >= classes):
        bad = targets[(targets < 0) | (targets >= classes)][0]
        raise IndexError(f"{op}: target {bad} is out of bounds for {classes} classes")
    return np.ascontiguousarray(targets, dtype=np.int64)


def _check_logits(op, logits, name):
    logits = float_array(logits, op, name)
    if logits.ndim != 2:
        raise ValueError(f"{op}: {name} must be 2-D (batch, classes), got shape {logits.shape}")
    if logits.shape[1] == 0:
        raise ValueError(f"{op}: {name} must have at least one class")
    return np.ascontiguousarray(logits)


def softmax_cross_entropy_forward(logits, targets):
    """(mean cross-entropy loss, softmax probabilities) for (batch, classes) logits and
    integer class targets. The loss is a scalar of the logits' dtype (NaN for an empty
    batch, as in PyTorch); the probabilities are what the backward pass needs."""
    op = "softmax_cross_entropy_forward"
    logits = _check_logits(op, logits, "logits")
    targets = _check_targets(op, targets, *logits.shape)
    probs = np.empty(logits.shape, logits.dtype)
    losses = np.empty(logits.shape[0], logits.dtype)
    if logits.size <= SERIAL_MAX_SIZE:
        _cross_entropy_rows(logits, targets, probs, losses, 0, logits.shape[0])
    else:
        _softmax_cross_entropy(logits, targets, probs, losses)
    loss = losses.mean(dtype=np.float64) if losses.size else np.nan
    return logits.dtype.type(loss), probs


def softmax_cross_entropy_backward(probs, targets, grad_scale=1.0):
    """Gradient of grad_scale * (mean loss) with respect to the logits:
    grad_scale * (probs - one_hot(targets)) / batch."""
    op = "softmax_cross_entropy_backward"
    probs = _check_logits(op, probs, "probs")
    targets = _check_targets(op, targets, *probs.shape)
    grad = np.empty(probs.shape, probs.dtype)
    scale = probs.dtype.type(grad_scale / max(probs.shape[0], 1))
    if probs.size <= SERIAL_MAX_SIZE:
        _cross_entropy_rows_backward(probs, targets, scale, grad, 0, probs.shape[0])
    else:
        _softmax_cross_entropy_backward(probs, targets, scale, grad)
    return grad
