"""Shape operations and indexing: they move values around, so their
derivatives move gradients back (reshape back, transpose back, scatter back)."""
import numpy as np

from ..autograd.function import Op
from .dims import is_basic_index  # noqa: F401  (re-exported for Tensor.__getitem__)
from .xp import ArrayMath


class Reshape(Op):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} "
                             f"({x.size} elements) into shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Clone(Op):
    """A copy with its own memory, still in the graph."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Transpose(Op):
    is_view = True

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return x.swapaxes(dim0, dim1)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.swapaxes(grad, *ctx.dims)


class Permute(Op):
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.transpose(grad, ctx.inverse)


class Expand(Op):
    """Broadcast to a larger shape; the engine sums the gradient back."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        if x.shape == tuple(shape):
            return x[...]             # a writable view (broadcast_to's are read-only)
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cat(Op):
    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        pieces, start = [None], 0
        for size in ctx.sizes:
            pieces.append(grad[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)


class Stack(Op):
    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.count = len(arrays)
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        return (None,) + tuple(grad[lead + (i,)] for i in range(ctx.count))


class Index(Op):
    """``x[key]``: ints, slices (with steps), None, Ellipsis, integer arrays, boolean masks."""

    op_name = "index"

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.key = x.shape, key
        try:
            return x[key]
        except IndexError as exc:
            raise IndexError(f"index: {exc} (indexing a tensor of shape {tuple(x.shape)})") from None

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.index_backward(grad, ctx.key, ctx.shape)


class IndexView(Index):
    """``x[key]`` with ints, slices, None and Ellipsis only: a view of ``x``'s memory."""

    is_view = True

    @classmethod
    def name(cls):
        return "IndexBackward"

    @staticmethod
    def forward(ctx, x, key):
        parts = key if isinstance(key, tuple) else (key,)
        if not any(part is Ellipsis for part in parts):
            key = parts + (Ellipsis,)   # (x[0] of a 1-d array: a 0-d view, not a numpy scalar)
        return Index.forward(ctx, x, key)


class IndexBackward(Op):
    """Scatter-add ``grad`` into zeros of ``shape`` at ``key`` (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx, grad, key, shape):
        ctx.key = key
        return ArrayMath.index_backward(grad, key, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.key]


class IndexPut(Op):
    """``x[key] = value`` as a new tensor (the out-of-place form of __setitem__)."""

    @staticmethod
    def forward(ctx, x, key, value):
        ctx.key = key
        out = x.copy()
        try:
            out[key] = value
        except IndexError as exc:
            raise IndexError(f"index_put: {exc} (indexing a tensor of shape {tuple(x.shape)})") from None
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, _, need_value = ctx.needs_input_grad
        grad_x = ctx.xp.index_put(grad, ctx.key, 0) if need_x else None
        grad_value = grad[ctx.key] if need_value else None   # summed to value's shape by the engine
        return grad_x, None, grad_value
