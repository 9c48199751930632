"""Reductions and the normalisations built on them (softmax, log_softmax, logsumexp).

``dims`` arriving here are already normalised (a sorted tuple of axes, or None for all).
"""
import math

import numpy as np

from .. import backends
from ..backends import CPU
from ..autograd.function import Op
from ..cuda.devices import as_array
from .dims import keepdim_shape, reduced_shape, sum_to_shape


def _unreduce(ctx, grad):
    """Spread the gradient of a reduction back over the input's shape."""
    if not ctx.keepdim:
        grad = grad.reshape(keepdim_shape(ctx.shape, ctx.dims))
    return ctx.math.broadcast_to(grad, ctx.shape)


class Sum(Op):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return (CPU if type(x) is np.ndarray else backends.of(x)).sum(x, dims, keepdim)

    @staticmethod
    def backward(ctx, grad):
        return _unreduce(ctx, grad)


class Mean(Op):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        total = np.add.reduce(x, axis=dims, keepdims=keepdim)   # (ndarray.mean is slow on small arrays)
        ctx.count = count = x.size // max(total.size, 1) if x.size else 0
        if x.dtype.kind not in "fc":
            return total / count if count else np.full_like(total, np.nan, dtype=np.float64)
        return total / x.dtype.type(count) if count else total * np.nan   # (keeps x's dtype)

    @staticmethod
    def backward(ctx, grad):
        return _unreduce(ctx, grad / ctx.count)


class SumToSize(Op):
    """The gradient of broadcasting: sum over stretched dimensions."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return sum_to_shape(x, tuple(shape))

    @staticmethod
    def backward(ctx, grad):
        return ctx.math.broadcast_to(grad, ctx.shape)


class Amax(Op):
    """Max over ``dims``; ties share the gradient evenly (as torch.amax): a NaN maximum,
    equal to nothing, gives NaN gradients (as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        out = as_array(x.max(axis=dims, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return _extremum_backward(ctx, grad)


class Amin(Op):
    """Min over ``dims``; ties share the gradient evenly."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        out = as_array(x.min(axis=dims, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return _extremum_backward(ctx, grad)


class Max(Amax):
    """``x.max()`` of every element: as amax, but a NaN maximum sends the gradient to the
    NaNs (shared evenly), as PyTorch's max() does."""

    op_name = "max"

    @staticmethod
    def backward(ctx, grad):
        return _extremum_backward(ctx, grad, nan_hits=True)


class Min(Amin):
    op_name = "min"

    @staticmethod
    def backward(ctx, grad):
        return _extremum_backward(ctx, grad, nan_hits=True)


def _extremum_backward(ctx, grad, nan_hits=False):
    x, out = ctx.saved_tensors
    out = out.reshape(keepdim_shape(ctx.shape, ctx.dims))
    hits = x == out
    if nan_hits:
        hits = hits | ((x != x) & (out != out))
    share = hits / ctx.math.sum(hits, ctx.dims, keepdims=True)   # ties share evenly
    return _unreduce(ctx, grad) * share


class Var(Op):
    """Variance over ``dims``, dividing by (count - correction): correction=1 is Bessel's."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        count = x.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
        ctx.count, ctx.divisor = count, max(count - correction, 0)
        ctx.save_for_backward(x)
        mean = np.add.reduce(x, axis=dims, keepdims=True) / x.dtype.type(max(count, 1))
        centered = x - mean
        total = np.add.reduce(centered * centered, axis=dims, keepdims=keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):   # (nothing left to divide by: NaN, as PyTorch)
            return total / x.dtype.type(ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        return _var_backward(ctx, grad, ctx.saved_tensors[0])


def _var_backward(ctx, grad, x):
    mean = ctx.math.sum(x, ctx.dims, keepdims=True) / max(ctx.count, 1)
    factor = 2 / ctx.divisor if ctx.divisor else math.inf
    return _unreduce(ctx, grad) * ((x - mean) * factor)


class Std(Op):
    """sqrt(var): its gradient is 0 where the deviation is 0 (a constant slice), as in PyTorch."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        out = np.sqrt(Var.forward(ctx, x, dims, correction, keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return _var_backward(ctx, ctx.math.where(out == 0, 0, grad / (out * 2)), x)


class TakeAlongDim(Op):
    """Values at ``indices`` along ``dim`` (the values of max/min with a dim)."""

    @staticmethod
    def forward(ctx, x, indices, dim, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, (dim,), keepdim
        hits = np.zeros_like(x, dtype=bool)
        np.put_along_axis(hits, indices, True, axis=dim)
        ctx.save_for_backward(hits)
        out = np.take_along_axis(x, indices, axis=dim)
        return out if keepdim else out.squeeze(dim)

    @staticmethod
    def backward(ctx, grad):
        hits, = ctx.saved_tensors
        return _unreduce(ctx, grad) * hits


def _shifted(x, dims, finite_max=True):
    """``x`` minus its max over ``dims`` (kept), the max of an empty or all -inf slice taken
    as 0; with ``finite_max``, a +inf max too (logsumexp; softmax lets it make NaNs, as PyTorch)."""
    if x.size == 0:
        return x, np.zeros(keepdim_shape(x.shape, (dims,) if isinstance(dims, int) else dims), x.dtype)
    m = x.max(axis=dims, keepdims=True)
    m = np.where(np.isfinite(m) if finite_max else m != -np.inf, m, 0)
    return x - m, m


class LogSumExp(Op):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        shifted, m = _shifted(x, dims)
        out = np.log(np.exp(shifted).sum(axis=dims, keepdims=True)) + m
        if not keepdim:
            out = out.reshape(reduced_shape(x.shape, dims))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        out = out.reshape(keepdim_shape(ctx.shape, ctx.dims))
        return _unreduce(ctx, grad) * ctx.math.exp(x - out)


class Softmax(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = (CPU if type(x) is np.ndarray else backends.of(x)).softmax(x, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return out * (grad - ctx.math.sum(grad * out, ctx.dim, keepdims=True))


class LogSoftmax(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = (CPU if type(x) is np.ndarray else backends.of(x)).log_softmax(x, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad - ctx.math.exp(out) * ctx.math.sum(grad, ctx.dim, keepdims=True)
