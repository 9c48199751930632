"""Shape operations and indexing: they move values around, so their
derivatives move gradients back (reshape back, transpose back, scatter back)."""
import numpy as np

from ..autograd.function import Op
from ..autograd.tensor_base import TensorBase
from .dims import is_basic_index  # noqa: F401  (re-exported for Tensor.__getitem__)
from .derivative_math import ArrayMath


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
        return ctx.math.swapaxes(grad, *ctx.dims)


class Permute(Op):
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return ctx.math.transpose(grad, ctx.inverse)


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
        return ctx.math.index_backward(grad, ctx.key, ctx.shape)


def _take(grad, key):
    """``grad[key]`` with numpy's indexing rule, on an array or (recorded) on a tensor:
    the keys ops build are numpy keys, which Tensor.__getitem__ would read by PyTorch's rule."""
    return Index.apply(grad, key) if isinstance(grad, TensorBase) else grad[key]


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
        return _take(grad, ctx.key)


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
        grad_x = ctx.math.index_put(grad, ctx.key, 0) if need_x else None
        grad_value = _take(grad, ctx.key) if need_value else None   # summed to value's shape by the engine
        return grad_x, None, grad_value


class Triangle(Op):
    """``tril`` (lower) or ``triu`` (upper) of the last two dims, from the ``diagonal``-th one."""

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        rows, cols = x.shape[-2:]
        keep = np.triu(np.ones((rows, cols), dtype=bool), diagonal) if upper else \
            np.tril(np.ones((rows, cols), dtype=bool), diagonal)
        ctx.keep = keep
        return np.where(keep, x, x.dtype.type(0))

    @staticmethod
    def backward(ctx, grad):
        return ctx.math.where(ctx.keep, grad, 0)


class MaskedFill(Op):
    """``value`` where ``mask`` holds, else ``x`` (``value``: a number or a 0-d tensor)."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        return np.where(mask, np.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, grad):
        dmath = ctx.math
        need_x, _, need_value = ctx.needs_input_grad
        grad_x = dmath.where(ctx.mask, 0, grad) if need_x else None
        grad_value = dmath.sum(dmath.where(ctx.mask, grad, 0)) if need_value else None
        return grad_x, None, grad_value


# ---------------------------------------------------------------------- PyTorch's rule for mixed keys
def _is_int_index(part):
    if isinstance(part, (bool, np.bool_)):
        return False
    return isinstance(part, (int, np.integer)) or (
        isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu")


def _is_array_index(part):
    return isinstance(part, np.ndarray) and not _is_int_index(part)


def split_mixed_index(key):
    """A key that mixes ints with index arrays, as two keys applied one after the other:
    (the ints, slices, None and Ellipsis; then the index arrays). None for any other key.

    PyTorch selects with the ints first, so ``x[0, :, [0, 1]]`` on shape (2, 3, 4) is
    ``x[0][:, [0, 1]]``, of shape (3, 2); numpy counts the int as an index array and puts
    the indexed dims first, giving (2, 3).
    """
    if not isinstance(key, tuple) or not any(map(_is_int_index, key)) or not any(map(_is_array_index, key)):
        return None
    first, second = [], []
    for part in key:
        if _is_int_index(part):
            first.append(int(part))
        elif _is_array_index(part):
            first.extend([slice(None)] * (part.ndim if part.dtype == np.bool_ else 1))
            second.append(part)
        elif part is Ellipsis:
            first.append(Ellipsis)
            second.append(Ellipsis)
        else:                      # a slice, or None (a new dim of size 1)
            first.append(part)
            second.append(slice(None))
    return tuple(first), tuple(second)


def _array_width(part):
    return part.ndim if part.dtype == np.bool_ else 1


def mixed_index_for_numpy(key, steps, shape, value):
    """(key, value) for numpy's ``out[key] = value`` that writes what PyTorch's
    ``x[key] = value`` writes: ``value`` (a tensor, shaped for PyTorch's result) with
    its dims reordered where numpy's result puts the indexed dims first and PyTorch's does not."""
    second = steps[1]
    positions = [i for i, p in enumerate(second) if _is_array_index(p)]
    adjacent = positions == list(range(positions[0], positions[-1] + 1))
    numpy_first = [i for i, p in enumerate(key) if _is_int_index(p) or _is_array_index(p)]
    numpy_adjacent = numpy_first == list(range(numpy_first[0], numpy_first[-1] + 1))
    if not adjacent or numpy_adjacent:
        return key, value
    dummy = np.broadcast_to(np.zeros((), dtype=np.int8), shape)
    torch_shape = dummy[steps[0]][second].shape
    middle = dummy[steps[0]]
    consumed = sum(_array_width(p) if _is_array_index(p) else (0 if p is Ellipsis else 1) for p in second)
    before = 0
    for p in second[:positions[0]]:
        before += (middle.ndim - consumed) if p is Ellipsis else 1
    indexed = np.broadcast_shapes(*[(int(p.sum()),) if p.dtype == np.bool_ else p.shape
                                    for p in second if _is_array_index(p)])
    width = len(indexed)
    value = value.expand(*torch_shape) if tuple(value.shape) != torch_shape else value
    order = list(range(before, before + width)) + list(range(before)) + \
        list(range(before + width, len(torch_shape)))
    return key, value.permute(*order)


def diagonal_view(x, offset, dim1, dim2):
    """The ``offset``-th diagonal of the ``dim1`` x ``dim2`` matrices of ``x`` as the last dim:
    a strided view of ``x``'s memory (writable, like PyTorch's), not a copy."""
    row, col = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(min(x.shape[dim1] - row, x.shape[dim2] - col), 0)
    corner = [slice(None)] * x.ndim          # (a basic slice: a view that starts at the diagonal)
    corner[dim1], corner[dim2] = slice(min(row, x.shape[dim1]), None), slice(min(col, x.shape[dim2]), None)
    start = x[tuple(corner)]
    rest = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    shape = tuple(x.shape[d] for d in rest) + (n,)
    strides = tuple(x.strides[d] for d in rest) + (x.strides[dim1] + x.strides[dim2],)
    return np.lib.stride_tricks.as_strided(start, shape=shape, strides=strides,
                                           writeable=x.flags.writeable)


class Diagonal(Op):
    """A diagonal of ``x`` (``diagonal_view``); the gradient goes back onto that diagonal of zeros."""

    is_view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape, ctx.args = x.shape, (offset, dim1, dim2)
        return diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, TensorBase):
            return DiagonalBackward.apply(grad, ctx.shape, *ctx.args)
        return DiagonalBackward.forward(None, grad, ctx.shape, *ctx.args)


class DiagonalBackward(Op):
    """Zeros of ``shape`` with ``grad`` on the diagonal (Diagonal's adjoint; its own is Diagonal)."""

    @staticmethod
    def forward(ctx, grad, shape, offset, dim1, dim2):
        if ctx is not None:
            ctx.args = (offset, dim1, dim2)
        out = np.zeros_like(grad, shape=shape)
        diagonal_view(out, offset, dim1, dim2)[...] = grad
        return out

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, TensorBase):
            return Diagonal.apply(grad, *ctx.args)
        return diagonal_view(grad, *ctx.args).copy()
