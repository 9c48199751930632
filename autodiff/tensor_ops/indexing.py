"""gather, scatter, index_select/index_add, take, narrow, masked_fill/masked_select."""
import builtins

import numpy as np

from .. import dtypes
from ..ops import shape as S
from ..ops.dims import broadcast_shapes
from ..tensor import Tensor
from ._args import _int, _dim, _index_array, _check_bounds


# ---------------------------------------------------------------------- indexing along a dim
def along_dim_key(index, dim):
    """The numpy key that picks ``x[i][j][index[i][j][k]]`` for dim 2 (torch.gather's rule):
    ``index`` along ``dim``, and every other dim's own position."""
    key = []
    for d in range(index.ndim):
        if d == dim:
            key.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = index.shape[d]
            key.append(np.arange(index.shape[d]).reshape(shape))
    return tuple(key)


def _along_dim_checks(op, x, dim, index):
    ndim = x._data.ndim
    d = _dim(op, dim, ndim)
    if index.ndim != max(ndim, 1) and not (ndim == 0 and index.ndim <= 1):
        raise RuntimeError(f"{op}(): index tensor must have the same number of dimensions as the "
                           f"input tensor ({index.ndim} and {ndim}; shapes {tuple(index.shape)} and "
                           f"{tuple(x.shape)})")
    for k, (n, m) in enumerate(zip(index.shape, x._data.shape)):
        if k != d and n > m:
            raise RuntimeError(f"{op}(): size {n} of index {tuple(index.shape)} is larger than size "
                               f"{m} of input {tuple(x.shape)} at dimension {k}")
    _check_bounds(op, index, x._data.shape[d] if ndim else 1, negative=False)
    return d


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[i][index[i][j]]`` for dim 1 (and likewise for any dim)."""
    index = _index_array("gather", index)
    d = _along_dim_checks("gather", input, dim, index)
    if input._data.ndim == 0:
        return S.Index.apply(input.reshape(1), (index.reshape(-1),)).reshape(index.shape)
    return S.Index.apply(input, along_dim_key(index, d))


def _scatter_source(op, index, src, value):
    """The values to scatter: ``src`` cut to ``index``'s shape, or the number ``value``."""
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{op}(): expected a src tensor or a value")
    if isinstance(src, Tensor):
        if src._data.ndim != index.ndim:
            raise RuntimeError(f"{op}(): index and src must have the same number of dimensions "
                               f"(shapes {tuple(index.shape)} and {tuple(src.shape)})")
        for k, (n, m) in enumerate(zip(index.shape, src._data.shape)):
            if n > m:
                raise RuntimeError(f"{op}(): size {n} of index {tuple(index.shape)} is larger than "
                                   f"size {m} of src {tuple(src.shape)} at dimension {k}")
        if tuple(src._data.shape) != index.shape:
            src = S.Index.apply(src, tuple(slice(0, n) for n in index.shape))
        return src
    if isinstance(src, (builtins.bool, builtins.int, builtins.float, np.number)):
        return src
    raise TypeError(f"{op}(): src must be a tensor or a number, got {type(src).__name__}")


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``."""
    if reduce is not None:
        raise NotImplementedError("scatter(): reduce= is not supported; use scatter_add")
    index = _index_array("scatter", index)
    d = _along_dim_checks("scatter", input, dim, index)
    source = _scatter_source("scatter", index, src, value)
    return S.IndexPut.apply(input, along_dim_key(index, d), source)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""
    index = _index_array("scatter_add", index)
    d = _along_dim_checks("scatter_add", input, dim, index)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    source = _scatter_source("scatter_add", index, src, None)
    return input + S.IndexBackward.apply(source, along_dim_key(index, d), input._data.shape).to(input.dtype)


def _scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    if reduce is not None:
        raise NotImplementedError("scatter_(): reduce= is not supported; use scatter_add_")
    index = _index_array("scatter_", index)
    d = _along_dim_checks("scatter_", self, dim, index)
    source = _scatter_source("scatter_", index, src, value)
    key = along_dim_key(index, d)
    return self._inplace("scatter_", source, lambda old, s: S.IndexPut.apply(old, key, s),
                         lambda data, s: data.__setitem__(key, s))


def _scatter_add_(self, dim, index, src):
    index = _index_array("scatter_add_", index)
    d = _along_dim_checks("scatter_add_", self, dim, index)
    source = _scatter_source("scatter_add_", index, src, None)
    key = along_dim_key(index, d)
    shape = self._data.shape
    return self._inplace("scatter_add_", source,
                         lambda old, s: old + S.IndexBackward.apply(s, key, shape).to(old.dtype),
                         lambda data, s: np.add.at(data, key, s))


def _dim_key(index, d):
    return (slice(None),) * d + (index,)


def _index_select_checks(op, x, dim, index):
    d = _dim(op, dim, x._data.ndim)
    index = _index_array(op, index)
    if index.ndim > 1:
        raise IndexError(f"{op}(): index must be a vector (0-d or 1-d), got shape {tuple(index.shape)}")
    _check_bounds(op, index, x._data.shape[d] if x._data.ndim else 1, negative=False)
    return d, index.reshape(-1)


def index_select(input, dim, index):
    """The slices of ``input`` at the positions ``index`` (1-D) along ``dim``."""
    d, index = _index_select_checks("index_select", input, dim, index)
    if input._data.ndim == 0:
        return S.Index.apply(input.reshape(1), (index,)).reshape(())
    return S.Index.apply(input, _dim_key(index, d))


def _index_add_source(op, x, d, index, source, alpha):
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' must be Tensor, not {type(source).__name__}")
    expected = x._data.shape[:d] + (len(index),) + x._data.shape[d + 1:]
    if tuple(source._data.shape) != expected and source._data.size != 0:
        raise RuntimeError(f"{op}(): source of shape {tuple(source.shape)} does not match the "
                           f"slices it adds to: expected shape {expected}")
    return source if alpha == 1 else source * alpha


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added at the positions ``index`` along ``dim``."""
    d, index = _index_select_checks("index_add", input, dim, index)
    source = _index_add_source("index_add", input, d, index, source, alpha)
    return input + S.IndexBackward.apply(source, _dim_key(index, d), input._data.shape).to(input.dtype)


def _index_add_(self, dim, index, source, *, alpha=1):
    d, index = _index_select_checks("index_add_", self, dim, index)
    source = _index_add_source("index_add_", self, d, index, source, alpha)
    key, shape = _dim_key(index, d), self._data.shape
    return self._inplace("index_add_", source,
                         lambda old, s: old + S.IndexBackward.apply(s, key, shape).to(old.dtype),
                         lambda data, s: np.add.at(data, key, s))


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dim removed (a view): ``x.select(1, 0)`` is ``x[:, 0]``."""
    d = _dim("select", dim, input._data.ndim)
    index = _int("select", "index", index)
    size = input._data.shape[d] if input._data.ndim else 0
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input._data.shape)} at dimension {d}")
    return input[_dim_key(index, d)]


def take(input, index):
    """The elements of ``input`` (read as 1-D) at ``index``; the result has ``index``'s shape."""
    index = _index_array("take", index)
    _check_bounds("take", index, input._data.size)
    return S.Index.apply(input.reshape(-1), index)


def narrow(input, dim, start, length):
    """``length`` slices of ``input`` along ``dim`` from ``start`` (a view)."""
    d = _dim("narrow", dim, input._data.ndim)
    if input._data.ndim == 0:
        raise RuntimeError("narrow(): cannot be applied to a 0-dim tensor")
    start, length = _int("narrow", "start", start), _int("narrow", "length", length)
    size = input._data.shape[d]
    if start < 0:
        start += size
    if not 0 <= start <= size:
        raise IndexError(f"narrow(): start ({start}) is out of range for dimension {d} of size {size}")
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size})")
    return input[_dim_key(slice(start, start + length), d)]


# ---------------------------------------------------------------------- masks
def _bool_mask(op, mask):
    data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype != np.bool_:
        raise RuntimeError(f"{op}(): only supports boolean masks, but got mask with dtype "
                           f"{dtypes.name(data.dtype) if data.dtype.kind in 'fiub' else data.dtype}")
    return data


def _fill_value(op, value):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"{op}(): only supports a 0-dimensional value tensor, but got a "
                               f"tensor with {value._data.ndim} dimension(s)")
        return value
    if isinstance(value, (builtins.bool, builtins.int, builtins.float, np.number)):
        return value
    raise TypeError(f"{op}(): argument 'value' must be a number or a 0-d tensor, got "
                    f"{type(value).__name__} {value!r}")


def masked_fill(input, mask, value):
    """``value`` where ``mask`` is True, else ``input``."""
    mask = _bool_mask("masked_fill", mask)
    value = _fill_value("masked_fill", value)
    broadcast_shapes("masked_fill", input._data.shape, mask.shape)
    if isinstance(value, Tensor) and value._data.dtype != input._data.dtype and value._requires_grad:
        value = value.to(input.dtype)
    return S.MaskedFill.apply(input, mask, value)


def _masked_fill_(self, mask, value):
    mask = _bool_mask("masked_fill_", mask)
    value = _fill_value("masked_fill_", value)
    if broadcast_shapes("masked_fill_", self._data.shape, mask.shape) != self._data.shape:
        raise RuntimeError(f"masked_fill_(): mask of shape {mask.shape} does not broadcast to the "
                           f"in-place target of shape {tuple(self.shape)}")
    return self._inplace("masked_fill_", value, lambda old, v: masked_fill(old, mask, v),
                         lambda data, v: np.copyto(data, v, where=mask, casting="unsafe"))


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (both broadcast)."""
    mask = _bool_mask("masked_select", mask)
    shape = broadcast_shapes("masked_select", input._data.shape, mask.shape)
    return S.Index.apply(input.expand(*shape), np.broadcast_to(mask, shape))
