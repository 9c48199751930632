"""Scans and products along a dim: cumsum, cumprod, prod.

Their derivatives are written with tensor methods (``array_backward = False``): they
run on tensors in every backward pass, recorded under ``create_graph``, so second
derivatives come from the same formulas.
"""
import numpy as np

from ..autograd.function import Op


def _reverse_cumsum(grad, dim):
    """sum over j >= i of grad[j], along ``dim`` (the adjoint of a cumulative sum)."""
    return grad.flip(dim).cumsum(dim).flip(dim)


class Cumsum(Op):
    array_backward = False

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim, dtype=x.dtype if x.dtype.kind in "fc" else np.int64)

    @staticmethod
    def backward(ctx, grad):
        return _reverse_cumsum(grad, ctx.dim)


class Cumprod(Op):
    """Cumulative product; the gradient stays exact where inputs are zero."""

    array_backward = False

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = np.cumprod(x, axis=dim, dtype=x.dtype if x.dtype.kind in "fc" else np.int64)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        dim = ctx.dim
        if x.numel() == 0:
            return grad
        zeros = (x == 0)._data
        if not zeros.any():
            return _reverse_cumsum(grad * out, dim) / x
        # with zeros: d out[j] / d x[k] = prod over i <= j, i != k of x[i]; exactly 0 after a
        # slice's first zero (PyTorch's rule, so NaN and inf there do not leak into it)
        n = x.shape[dim]
        pieces = []
        for k in range(n):
            replaced = _replace_slice(x, dim, k, _ones(x.narrow(dim, k, 1)))
            partial = replaced.cumprod(dim).narrow(dim, k, n - k)
            pieces.append((grad.narrow(dim, k, n - k) * partial).sum(dim, keepdim=True))
        from ..tensor import cat, where
        exact = cat(pieces, dim)
        # after a slice's first zero the gradient is 0 (the product includes that zero): exactly
        # so, as in PyTorch, even where NaN or inf times that zero gave NaN
        after_zero = (np.cumsum(zeros, axis=dim) - zeros) > 0
        return where(after_zero & np.isnan(exact._data), 0.0, exact)


def _ones(like):
    """A constant tensor of ones shaped like ``like`` (``like * 0 + 1`` would turn inf into NaN)."""
    from ..tensor import Tensor
    return Tensor._wrap(np.ones_like(like._data))


def _replace_slice(x, dim, k, piece):
    """``x`` with position ``k`` along ``dim`` replaced by ``piece`` (differentiable)."""
    from ..tensor import cat
    n = x.shape[dim]
    return cat([x.narrow(dim, 0, k), piece, x.narrow(dim, k + 1, n - k - 1)], dim)


def _products_of_others(x, dim):
    """For each element, the product of the other elements along ``dim``, zero-safe: the
    product of everything before it times the product of everything after it."""
    from ..tensor import cat
    n = x.shape[dim]
    one = _ones(x.narrow(dim, 0, 1))
    before = cat([one, x.narrow(dim, 0, n - 1)], dim).cumprod(dim)
    after = cat([x.narrow(dim, 1, n - 1), one], dim).flip(dim).cumprod(dim).flip(dim)
    return before * after


class Prod(Op):
    """Product over one dim (``dim``) or over every element (``dim=None``)."""

    array_backward = False

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim, ctx.keepdim, ctx.shape = dim, keepdim, x.shape
        out = np.asarray(np.prod(x, axis=dim, keepdims=keepdim,
                                 dtype=x.dtype if x.dtype.kind in "fc" else np.int64))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if x.numel() == 0:
            return grad.reshape(()).expand(*ctx.shape) if ctx.dim is None else \
                grad.reshape(ctx.shape[:ctx.dim] + (1,) + ctx.shape[ctx.dim + 1:]).expand(*ctx.shape)
        from ..tensor import where
        dim = ctx.dim
        if dim is None:
            x, out, grad = x.reshape(-1), out.reshape(1), grad.reshape(1)
            dim = 0
        elif not ctx.keepdim:
            grad, out = grad.unsqueeze(dim), out.unsqueeze(dim)
        zeros = (x == 0)._data
        if not zeros.any():
            return (grad * out / x).reshape(ctx.shape)
        # slices with zeros: the product of the others, without dividing (exact, and
        # differentiable again); PyTorch's rule for the whole tensor with two or more zeros is
        # 0 everywhere, which it is, except where NaN or inf times a zero gave NaN
        count = zeros.sum(axis=dim, keepdims=True)
        safe = where(zeros, 1.0, x)
        result = where(count == 0, grad * out / safe, grad * _products_of_others(x, dim))
        if ctx.dim is None and count.item() >= 2:
            result = where(np.isnan(result._data), 0.0, result)
        return result.reshape(ctx.shape)
