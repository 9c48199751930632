"""Tensor methods and ``autodiff.<name>`` functions for the shape, indexing, linear-algebra,
sorting, scan and statistics ops of PyTorch's API (narrow, gather, scatter, sort, topk,
cumsum, einsum, norm, unique, histc ...).

Each method only checks its arguments (PyTorch's errors, naming the op and the argument)
and picks the op: most of these ops move values around, so they are the indexing ops of
``autodiff/ops/shape.py`` with an index array built here (gather, sort, roll, repeat ...)
and get their gradients from them; the others are ``Op``s of their own in
``autodiff/ops/`` (scan.py, linalg.py's Einsum and Norm, shape.py's Triangle and MaskedFill).
In-place forms (``scatter_``, ``masked_fill_`` ...) go through ``Tensor._inplace``.

``install()`` puts the methods on ``Tensor``; ``FUNCTIONS`` lists the names exported as
``autodiff.<name>``.
"""
import builtins
from collections import namedtuple

import numpy as np

from . import dtypes
from .cuda.devices import as_array as _as_array
from .ops import linalg as L
from .ops import reduction as R
from .ops import scan as C
from .ops import shape as S
from .ops.dims import broadcast_shapes, normalize_dim, normalize_dims
from .tensor import Tensor, cat, stack, tensor

# PyTorch's torch.return_types: named pairs
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])
aminmax_result = namedtuple("aminmax", ["min", "max"])
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


# ---------------------------------------------------------------------- argument checks
def _int(op, name, value):
    """``value`` as an int, or PyTorch's TypeError naming the op and the argument."""
    if isinstance(value, (builtins.bool, np.bool_)) or not isinstance(value, (builtins.int, np.integer)):
        if isinstance(value, Tensor) and value._data.dtype.kind in "iu" and value._data.size == 1:
            return builtins.int(value._data)
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return builtins.int(value)


def _dim(op, dim, ndim, name="dim"):
    return normalize_dim(_int(op, name, dim), ndim, op)


def _index_array(op, index, name="index"):
    """An integer index as a numpy int64 array (a tensor, a list or an array)."""
    data = index._data if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype.kind not in "iu" and not (data.size == 0 and data.dtype.kind == "f"):
        raise RuntimeError(f"{op}(): expected dtype int64 for argument '{name}', "
                        f"got dtype {dtypes.name(data.dtype) if data.dtype.kind in 'fbiu' else data.dtype}")
    return data.astype(np.int64, copy=False)


def _keepdim(keepdim, keepdims):
    """PyTorch accepts ``keepdims`` as another spelling of ``keepdim``."""
    return builtins.bool(keepdim or keepdims)


def _as_tensor(value):
    return value if isinstance(value, Tensor) else tensor(value)


def _check_bounds(op, index, size, name="index", negative=True):
    """Raise unless every index is in range (from -size when ``negative``, else from 0:
    gather, scatter and index_select take no negative indices in PyTorch)."""
    lowest = -size if negative else 0
    if index.size and (index.min() < lowest or index.max() >= size):
        bad = index.max() if index.max() >= size else index.min()
        error = IndexError if negative else RuntimeError
        raise error(f"{op}(): {name} {bad} is out of bounds for dimension with size {size}")


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


# ---------------------------------------------------------------------- triangles and diagonals
def _triangle(op, x, diagonal, upper):
    if x._data.ndim < 2:
        raise RuntimeError(f"{op}(): input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}")
    return S.Triangle.apply(x, _int(op, "diagonal", diagonal), upper)


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (``diagonal`` > 0 keeps diagonals above)."""
    return _triangle("tril", input, diagonal, False)


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (``diagonal`` > 0 drops diagonals above the main one)."""
    return _triangle("triu", input, diagonal, True)


def _triangle_(op, upper):
    def method(self, diagonal=0):
        k = _int(op, "diagonal", diagonal)
        if self._data.ndim < 2:
            raise RuntimeError(f"{op}(): input tensor must have at least 2 dimensions, got shape "
                               f"{tuple(self.shape)}")
        raw = np.triu if upper else np.tril
        return self._inplace(op, None, lambda old, _: S.Triangle.apply(old, k, upper),
                             lambda data, _: data.__setitem__(Ellipsis, raw(data, k)))
    method.__name__ = op
    method.__doc__ = f"``{op[:-1]}`` in place."
    return method


def _diagonal_positions(rows, cols, offset):
    """(row indices, column indices) of the ``offset``-th diagonal of a rows x cols matrix."""
    start_row, start_col = builtins.max(-offset, 0), builtins.max(offset, 0)
    n = builtins.max(builtins.min(rows - start_row, cols - start_col), 0)
    return np.arange(n) + start_row, np.arange(n) + start_col


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset``-th diagonal of the ``dim1`` x ``dim2`` matrices, as the last dim."""
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"diagonal(): expects a tensor with at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    offset = _int("diagonal", "offset", offset)
    d1, d2 = _dim("diagonal", dim1, ndim, "dim1"), _dim("diagonal", dim2, ndim, "dim2")
    if d1 == d2:
        raise RuntimeError(f"diagonal(): dim1 and dim2 cannot be the same dimension ({d1})")
    rest = [d for d in range(ndim) if d not in (d1, d2)]
    moved = input.permute(*rest, d1, d2) if (d1, d2) != (ndim - 2, ndim - 1) else input
    rows, cols = _diagonal_positions(input._data.shape[d1], input._data.shape[d2], offset)
    return S.Index.apply(moved, (Ellipsis, rows, cols))


_diagonal_of = diagonal   # (diag's argument is called diagonal, as in PyTorch)


def diag(input, diagonal=0):
    """A 1-D tensor as a square matrix with it on the ``diagonal``-th diagonal; of a 2-D tensor,
    that diagonal."""
    k = _int("diag", "diagonal", diagonal)
    ndim = input._data.ndim
    if ndim == 2:
        return _diagonal_of(input, k)
    if ndim != 1:
        raise RuntimeError(f"diag(): expects a 1-D or 2-D tensor, got shape {tuple(input.shape)}")
    n = input._data.shape[0] + abs(k)
    rows, cols = _diagonal_positions(n, n, k)
    return S.IndexBackward.apply(input, (rows, cols), (n, n))


def trace(input):
    """The sum of the main diagonal of a 2-D tensor."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace(): expected a matrix (2-D tensor), got shape {tuple(input.shape)}")
    return diagonal(input).sum()


# ---------------------------------------------------------------------- products
def _dtype_name(t):
    return dtypes.name(t._data.dtype)


def _same_dtype(op, a, b):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}(): expected both arguments to have the same dtype, but got "
                           f"{_dtype_name(a)} and {_dtype_name(b)}")


def _tensor_arg(op, name, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    return value


def dot(input, other):
    """The inner product of two 1-D tensors of equal size."""
    input, other = _tensor_arg("dot", "input", input), _tensor_arg("dot", "tensor", other)
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"dot(): 1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    if input._data.shape != other._data.shape:
        raise RuntimeError(f"dot(): inconsistent tensor size, expected tensors of the same number of "
                           f"elements, but got {input._data.shape[0]} and {other._data.shape[0]}")
    _same_dtype("dot", input, other)
    return L.MatMul.apply(input, other)


def mv(input, vec):
    """Matrix (n, m) times vector (m,)."""
    input, vec = _tensor_arg("mv", "input", input), _tensor_arg("mv", "vec", vec)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"mv(): expected a 2-D matrix and a 1-D vector, got shapes "
                           f"{tuple(input.shape)} and {tuple(vec.shape)}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"mv(): size mismatch, got input ({input._data.shape[0]}x{input._data.shape[1]}), "
                           f"vec ({vec._data.shape[0]})")
    _same_dtype("mv", input, vec)
    return L.MatMul.apply(input, vec)


def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p)."""
    input, mat2 = _tensor_arg("bmm", "input", input), _tensor_arg("bmm", "mat2", mat2)
    if input._data.ndim != 3:
        raise RuntimeError(f"bmm(): batch1 must be a 3D tensor, got shape {tuple(input.shape)}")
    if mat2._data.ndim != 3:
        raise RuntimeError(f"bmm(): batch2 must be a 3D tensor, got shape {tuple(mat2.shape)}")
    b, n, m = input._data.shape
    if mat2._data.shape[:2] != (b, m):
        raise RuntimeError(f"bmm(): expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {m}] but got: [{mat2._data.shape[0]}, {mat2._data.shape[1]}]")
    _same_dtype("bmm", input, mat2)
    return L.MatMul.apply(input, mat2)


def outer(input, vec2):
    """The outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``."""
    input, vec2 = _tensor_arg("outer", "input", input), _tensor_arg("outer", "vec2", vec2)
    for name, v in (("self", input), ("vec2", vec2)):
        if v._data.ndim != 1:
            raise RuntimeError(f"outer(): expected 1-D argument {name}, but got {v._data.ndim}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; with beta=0 ``input`` is ignored (NaN included)."""
    input = _tensor_arg("addmm", "input", input)
    mat1, mat2 = _tensor_arg("addmm", "mat1", mat1), _tensor_arg("addmm", "mat2", mat2)
    if mat1._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"addmm(): mat1 and mat2 must be matrices, got shapes {tuple(mat1.shape)} "
                           f"and {tuple(mat2.shape)}")
    if mat1._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(f"addmm(): mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1._data.shape[0]}x{mat1._data.shape[1]} and "
                           f"{mat2._data.shape[0]}x{mat2._data.shape[1]})")
    product = L.MatMul.apply(mat1, mat2)
    broadcast_shapes("addmm", input._data.shape, product._data.shape)
    if alpha != 1:
        product = product * alpha
    if beta == 0:       # input's values are ignored, NaN included; its gradient is 0
        return product + S.MaskedFill.apply(input, np.ones((), dtype=bool), 0)
    return product + (input if beta == 1 else input * beta)


def einsum(equation, *operands):
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not {type(equation).__name__}")
    for k, o in enumerate(operands):
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): operand {k} must be a Tensor, not {type(o).__name__}")
    if len({o._data.dtype for o in operands}) > 1:
        raise RuntimeError(f"einsum(): expected all operands to have the same dtype, got "
                           f"{', '.join(_dtype_name(o) for o in operands)}")
    return L.Einsum.apply(equation, *operands)


# ---------------------------------------------------------------------- norms
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm of ``input`` over ``dim`` (None: every element); ``p`` a number,
    ``inf``, ``-inf`` or 'fro' (the 2-norm)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"norm(): expected a floating point tensor as input, got {_dtype_name(input)}")
    if p is None or p == "fro":
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm(): p={p!r} is not supported (use 'fro' or a number)")
    elif isinstance(p, builtins.bool) or not isinstance(p, (builtins.int, builtins.float, np.number)):
        raise TypeError(f"norm(): argument 'p' must be a number or 'fro', not {type(p).__name__}")
    if isinstance(dim, builtins.int) and not isinstance(dim, builtins.bool):
        dim = (dim,)
    dims = normalize_dims(dim, input._data.ndim, "norm")
    return L.Norm.apply(input, builtins.float(p), dims, builtins.bool(keepdim))


def dist(input, other, p=2):
    """The p-norm of ``input - other``."""
    return norm(input - other, p)


# ---------------------------------------------------------------------- scans and products
def cumsum(input, dim, *, dtype=None):
    """Cumulative sums along ``dim``."""
    x = input if dtype is None else input.to(dtype)
    d = _dim("cumsum", dim, x._data.ndim)
    if x._data.ndim == 0:
        return C.Cumsum.apply(x.reshape(1), 0).reshape(())
    return C.Cumsum.apply(x, d)


def cumprod(input, dim, *, dtype=None):
    """Cumulative products along ``dim``."""
    x = input if dtype is None else input.to(dtype)
    d = _dim("cumprod", dim, x._data.ndim)
    if x._data.ndim == 0:
        return C.Cumprod.apply(x.reshape(1), 0).reshape(())
    return C.Cumprod.apply(x, d)


def prod(input, dim=None, keepdim=False, *, dtype=None, keepdims=False):
    """The product of every element, or along ``dim``."""
    x = input if dtype is None else input.to(dtype)
    if dim is None:
        return C.Prod.apply(x, None, False)
    d = _dim("prod", dim, x._data.ndim)
    keep = _keepdim(keepdim, keepdims)
    if x._data.ndim == 0:
        return C.Prod.apply(x, None, False)
    return C.Prod.apply(x, d, keep)


# ---------------------------------------------------------------------- sorting and selection
def _sort_indices(data, axis, descending):
    """Indices that sort ``data`` along ``axis`` (stable; NaN counts as the largest value)."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    flipped = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return data.shape[axis] - 1 - np.flip(flipped, axis)


def _take(x, indices, d):
    return S.Index.apply(x, along_dim_key(indices, d))


def _with_vector(op, x, dim, fn):
    """Run ``fn(x, d)`` with a 0-d ``x`` read as 1-D (PyTorch treats it as one element)."""
    d = _dim(op, dim, x._data.ndim)
    if x._data.ndim == 0:
        values, indices = fn(x.reshape(1), 0)
        return values.reshape(()), indices.reshape(())
    return fn(x, d)


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; equal values keep their order."""
    def run(x, d):
        idx = _sort_indices(x._data, d, descending)
        return _take(x, idx, d), Tensor._wrap(idx)
    return sort_result(*_with_vector("sort", input, dim, run))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    k = _int("topk", "k", k)

    def run(x, d):
        if not 0 <= k <= x._data.shape[d]:
            raise RuntimeError(f"topk(): selected index k={k} out of range for dimension {d} of size "
                               f"{x._data.shape[d]}")
        if largest:     # (ties: the later index first, as PyTorch's CPU topk picks them)
            idx = np.flip(np.argsort(x._data, axis=d, kind="stable"), d)
        else:
            idx = _sort_indices(x._data, d, False)
        idx = np.take(idx, np.arange(k), axis=d)
        return _take(x, idx, d), Tensor._wrap(idx)
    return topk_result(*_with_vector("topk", input, dim, run))


def _select_position(op, x, dim, keepdim, position):
    """(values, indices) of the element at sorted ``position(sorted_data, n)`` along dim."""
    def run(x, d):
        idx = _sort_indices(x._data, d, False)
        pos = position(np.take_along_axis(x._data, idx, d), x._data.shape[d], d)
        picked = np.take_along_axis(idx, pos, d)
        values, indices = _take(x, picked, d), picked
        if not keepdim:
            values, indices = values.squeeze(d), indices.squeeze(d)
        return values, Tensor._wrap(indices)
    return _with_vector(op, x, dim, run)


def kthvalue(input, k, dim=-1, keepdim=False, *, keepdims=False):
    """The ``k``-th smallest value (k from 1) along ``dim`` and its index."""
    k = _int("kthvalue", "k", k)
    n = input._data.shape[_dim("kthvalue", dim, input._data.ndim)] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {dim} of size {n}")

    def position(sorted_data, n, d):
        shape = list(sorted_data.shape)
        shape[d] = 1
        return np.full(shape, k - 1)
    return kthvalue_result(*_select_position("kthvalue", input, dim, _keepdim(keepdim, keepdims), position))


def _lower_median_position(sorted_data, n, d):
    """The lower median's position; the first NaN's where there are NaNs (they propagate)."""
    nans = np.isnan(sorted_data).sum(axis=d, keepdims=True) if sorted_data.dtype.kind == "f" else 0
    return np.where(nans > 0, n - nans, (n - 1) // 2)


def median(input, dim=None, keepdim=False, *, keepdims=False):
    """The lower median of every element (a tensor), or (values, indices) along ``dim``."""
    if dim is None:
        flat = input.reshape(-1)
        if flat._data.size == 0:
            return Tensor._wrap(np.array(np.nan, dtype=input._data.dtype))
        return _select_position("median", flat, 0, False, _lower_median_position)[0]
    if input._data.ndim and input._data.shape[_dim("median", dim, input._data.ndim)] == 0:
        raise IndexError(f"median(): cannot compute the median of an empty dimension {dim}")
    return median_result(*_select_position("median", input, dim, _keepdim(keepdim, keepdims),
                                           _lower_median_position))


def mode(input, dim=-1, keepdim=False, *, keepdims=False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the
    last index where it occurs."""
    keep = _keepdim(keepdim, keepdims)

    def run(x, d):
        moved = np.moveaxis(x._data, d, -1)
        rows = moved.reshape(-1, moved.shape[-1])
        if rows.shape[1] == 0:
            raise IndexError(f"mode(): cannot compute the mode of an empty dimension {d}")
        picked = np.empty(rows.shape[0], dtype=np.int64)
        for r, row in enumerate(rows):
            values, counts = np.unique(row, return_counts=True)
            picked[r] = np.flatnonzero(row == values[np.argmax(counts)])[-1]
        idx = np.expand_dims(picked.reshape(moved.shape[:-1]), d)
        values = _take(x, idx, d)
        if not keep:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return values, Tensor._wrap(idx)
    return mode_result(*_with_vector("mode", input, dim, run))


def aminmax(input, *, dim=None, keepdim=False, keepdims=False):
    """(min, max) of every element, or along ``dim``."""
    keep = _keepdim(keepdim, keepdims)
    if input._data.size == 0 and (dim is None or input._data.shape[_dim("aminmax", dim, input._data.ndim)] == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension, as the operation "
                           "has no identity")
    dims = None if dim is None else (_dim("aminmax", dim, input._data.ndim),)
    if input._data.ndim == 0:
        dims = None
    return aminmax_result(R.Amin.apply(input, dims, keep), R.Amax.apply(input, dims, keep))


# ---------------------------------------------------------------------- reordering and repeating
def flip(input, dims):
    """``input`` with the order of elements reversed along each of ``dims`` (a copy)."""
    dims = (dims,) if isinstance(dims, (builtins.int, np.integer)) else tuple(dims)
    axes = normalize_dims(tuple(_int("flip", "dims", d) for d in dims), input._data.ndim, "flip") or ()
    out = input
    for d in axes:
        out = S.Index.apply(out, _dim_key(np.arange(input._data.shape[d] - 1, -1, -1), d))
    return out if axes else S.Clone.apply(input)


def roll(input, shifts, dims=None):
    """``input`` rotated by ``shifts`` along ``dims`` (None: the flattened tensor, reshaped back)."""
    shifts = (shifts,) if isinstance(shifts, (builtins.int, np.integer)) else tuple(shifts)
    shifts = tuple(_int("roll", "shifts", s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll(): shifts {shifts} need dims of the same length")
        flat = input.reshape(-1)
        return roll(flat, shifts, 0).reshape(input.shape)
    dims = (dims,) if isinstance(dims, (builtins.int, np.integer)) else tuple(dims)
    if len(dims) != len(shifts):
        raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims: {len(dims)}")
    out = input
    for shift, dim in zip(shifts, dims):
        d = _dim("roll", dim, input._data.ndim, "dims")
        n = input._data.shape[d] if input._data.ndim else 1
        if n:
            out = S.Index.apply(out, _dim_key(np.roll(np.arange(n), shift), d))
    return out if out is not input else S.Clone.apply(input)


def _sizes(op, sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return tuple(_int(op, "sizes", s) for s in sizes)


def _repeat(op, x, sizes):
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"{op}(): trying to create a tensor with negative dimension: {sizes}")
    lead = len(sizes) - x._data.ndim
    x = x.reshape((1,) * lead + tuple(x._data.shape))
    positions = [np.tile(np.arange(n), r) for n, r in zip(x._data.shape, sizes)]
    if not positions:
        return S.Clone.apply(x)
    return S.Index.apply(x, np.ix_(*positions))


def repeat(input, *sizes):
    """``input`` tiled ``sizes[d]`` times along each dim (leading new dims allowed)."""
    sizes = _sizes("repeat", sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError(f"repeat(): number of dimensions of repeat dims ({len(sizes)}) can not be "
                           f"smaller than number of dimensions of tensor ({input._data.ndim})")
    return _repeat("repeat", input, sizes)


def tile(input, dims):
    """Like ``repeat``, with missing leading ``dims`` taken as 1."""
    dims = _sizes("tile", (dims,) if not isinstance(dims, (builtins.int, np.integer)) else ((dims,),))
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return _repeat("tile", input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along ``dim``) repeated ``repeats`` times, in place."""
    if repeats is None:      # repeat_interleave(counts): each position i, counts[i] times
        counts = _index_array("repeat_interleave", input, "repeats")
        return Tensor._wrap(np.repeat(np.arange(len(counts)), counts))
    if isinstance(repeats, Tensor):
        repeats = _index_array("repeat_interleave", repeats, "repeats")
    else:
        repeats = _int("repeat_interleave", "repeats", repeats)
    if np.any(np.asarray(repeats) < 0):
        raise RuntimeError("repeat_interleave(): repeats can not be negative")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim("repeat_interleave", dim, x._data.ndim)
    if x._data.ndim == 0:
        x = x.reshape(1)
    n = x._data.shape[d]
    if np.ndim(repeats) == 1 and len(repeats) not in (1, n):
        raise RuntimeError(f"repeat_interleave(): repeats must have the same size as input along dim, "
                           f"but got repeats.size(0) = {len(repeats)} and input.size({d}) = {n}")
    return S.Index.apply(x, _dim_key(np.repeat(np.arange(n), repeats), d))


# ---------------------------------------------------------------------- logic and counting (no gradient)
def _reduce_bool(op, x, method, dim, keepdim):
    """``all``/``any`` as the array's own method (so device arrays stay on their device);
    bool results, uint8 for uint8 input (as in PyTorch)."""
    data = x._data
    if dim is None:
        out = getattr(data, method)()
    else:
        out = getattr(data, method)(axis=normalize_dims(dim, data.ndim, op), keepdims=keepdim)
    out = _as_array(out)
    return Tensor._wrap(out.astype(np.uint8) if data.dtype == np.uint8 else out)


def all(input, dim=None, keepdim=False, *, keepdims=False):
    """Whether every element (along ``dim``) is nonzero."""
    return _reduce_bool("all", input, "all", dim, _keepdim(keepdim, keepdims))


def any(input, dim=None, keepdim=False, *, keepdims=False):
    """Whether some element (along ``dim``) is nonzero."""
    return _reduce_bool("any", input, "any", dim, _keepdim(keepdim, keepdims))


def count_nonzero(input, dim=None):
    """How many elements (along ``dim``) are nonzero."""
    dims = normalize_dims(dim, input._data.ndim, "count_nonzero")
    return Tensor._wrap(np.asarray(np.count_nonzero(input._data, axis=dims), dtype=np.int64))


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an (n, ndim) tensor, or one 1-D tensor per dim."""
    data = input._data
    if as_tuple:
        positions = np.nonzero(data.reshape(1) if data.ndim == 0 else data)
        return tuple(Tensor._wrap(p.astype(np.int64)) for p in positions)
    return Tensor._wrap(np.argwhere(data).astype(np.int64))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), and optionally where each element went and how often each occurs."""
    data = input._data
    if dim is not None:
        d = _dim("unique", dim, data.ndim)
        values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    else:
        values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(data.shape)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    """How often each value 0..max occurs in a 1-D non-negative integer tensor (or the sums of ``weights``)."""
    data = input._data
    if data.ndim != 1 or data.dtype.kind not in "iu":
        raise RuntimeError(f"bincount(): only supports 1-d non-negative integral inputs, got shape "
                           f"{tuple(input.shape)} and dtype {_dtype_name(input)}")
    if data.size and data.min() < 0:
        raise RuntimeError("bincount(): only supports 1-d non-negative integral inputs, got a negative value")
    minlength = _int("bincount", "minlength", minlength)
    if minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be >= 0, got {minlength}")
    if weights is None:
        return Tensor._wrap(np.bincount(data, minlength=minlength).astype(np.int64))
    w = _as_tensor(weights)._data
    if w.shape != data.shape:
        raise RuntimeError(f"bincount(): weights of shape {w.shape} must have the shape of input {data.shape}")
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return Tensor._wrap(np.bincount(data, weights=w, minlength=minlength).astype(dtype))


def histc(input, bins=100, min=0, max=0):
    """A histogram of ``bins`` equal bins over [min, max] (both 0: the data's range); values
    outside are ignored."""
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(f"histc(): expected a floating point tensor, got {_dtype_name(input)}")
    bins = _int("histc", "bins", bins)
    if bins <= 0:
        raise RuntimeError(f"histc(): bins must be > 0, got {bins}")
    lo, hi = builtins.float(min), builtins.float(max)
    if lo == hi and data.size:
        lo, hi = builtins.float(data.min()), builtins.float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc(): max must be larger than min, got min={min}, max={max}")
    counts, _ = np.histogram(data, bins=bins, range=(lo, hi))
    return Tensor._wrap(counts.astype(data.dtype))


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """(hist, bin_edges): a histogram of ``bins`` bins (a count, or a 1-D tensor of edges)."""
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(f"histogram(): expected a floating point tensor, got {_dtype_name(input)}")
    edges = bins._data if isinstance(bins, Tensor) else _int("histogram", "bins", bins)
    w = None if weight is None else _as_tensor(weight)._data
    if w is not None and w.dtype != data.dtype:
        raise RuntimeError(f"histogram(): input and weight must have the same dtype, got "
                           f"{_dtype_name(input)} and {dtypes.name(w.dtype)}")
    hist, bin_edges = np.histogram(data.reshape(-1), bins=edges, range=range,
                                   weights=None if w is None else w.reshape(-1), density=density)
    return histogram_result(Tensor._wrap(hist.astype(data.dtype)), Tensor._wrap(bin_edges.astype(data.dtype)))


# ---------------------------------------------------------------------- grids
def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (matrix, the default) or 'xy' (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid(): indexing must be 'ij' or 'xy', got {indexing!r}")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t._data.ndim > 1:
            raise RuntimeError(f"meshgrid(): expects 0-D or 1-D tensors, got "
                               f"{type(t).__name__ if not isinstance(t, Tensor) else tuple(t.shape)} "
                               f"at position {k}")
    vectors = [t.reshape(-1) for t in tensors]
    shape = tuple(v._data.shape[0] for v in vectors)
    grids = []
    for k, v in enumerate(vectors):
        view = [1] * len(shape)
        view[k] = shape[k]
        grids.append(v.reshape(view).expand(*shape))
    if indexing == "xy" and len(grids) >= 2:    # Cartesian: the first two dims swap
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of the elements of 1-D tensors, one per row."""
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


# ---------------------------------------------------------------------- stacking and moving dims
def _atleast(t, ndim):
    """``t`` with dims of size 1 added (at the front; a 1-D tensor becomes a row) up to ``ndim``."""
    shape = tuple(t._data.shape)
    if len(shape) >= ndim:
        return t
    if ndim == 3 and len(shape) == 2:
        return t.unsqueeze(-1)
    if ndim == 3 and len(shape) == 1:
        return t.reshape(1, shape[0], 1)
    return t.reshape((1,) * (ndim - len(shape)) + shape)


def _tensor_list(op, tensors):
    tensors = list(tensors)
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {k} in argument 0, but got {type(t).__name__}")
    return tensors


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [_atleast(t, 1) for t in _tensor_list("hstack", tensors)]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0, 1-D tensors taken as rows."""
    return cat([_atleast(t, 2) for t in _tensor_list("vstack", tensors)], 0)


def dstack(tensors):
    """Concatenate along dim 2 (depth), after making each tensor at least 3-D."""
    return cat([_atleast(t, 3) for t in _tensor_list("dstack", tensors)], 2)


def column_stack(tensors):
    """1-D (and 0-d) tensors as columns, side by side with the 2-D ones."""
    tensors = _tensor_list("column_stack", tensors)
    return hstack([t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in tensors])


def movedim(input, source, destination):
    """``input`` with the dims ``source`` moved to positions ``destination`` (a view)."""
    ndim = input._data.ndim
    source = (source,) if isinstance(source, (builtins.int, np.integer)) else tuple(source)
    destination = (destination,) if isinstance(destination, (builtins.int, np.integer)) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim(): invalid source or destination dims: source ({list(source)} dims) "
                           f"should contain the same number of dims as destination ({list(destination)} dims)")
    src = [_dim("movedim", d, ndim, "source") for d in source]
    dst = [_dim("movedim", d, ndim, "destination") for d in destination]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim(): repeated dim in source {list(source)} or destination {list(destination)}")
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return input.permute(*order) if ndim else input.reshape(())


def swapaxes(input, axis0, axis1):
    """Same as ``transpose``."""
    return input.transpose(axis0, axis1)


def unflatten(input, dim, sizes):
    """Dim ``dim`` split into ``sizes`` (one of them may be -1)."""
    d = _dim("unflatten", dim, input._data.ndim)
    sizes = tuple(_int("unflatten", "sizes", n) for n in sizes)
    n = input._data.shape[d]
    known = int(np.prod([k for k in sizes if k != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(f"unflatten(): provided sizes {list(sizes)} don't multiply up to the size of "
                           f"dim {dim} ({n}) in the input tensor of shape {tuple(input.shape)}")
    sizes = tuple(n // known if k == -1 else k for k in sizes)
    shape = tuple(input._data.shape)
    return input.reshape(shape[:d] + sizes + shape[d + 1:])


def nelement(input):
    """The number of elements (same as ``numel``)."""
    return input._data.size


# ---------------------------------------------------------------------- Tensor methods
# the functions above whose first argument is the tensor; each is also Tensor.<name>
METHODS = """
    gather scatter scatter_add index_select index_add take narrow masked_fill masked_select
    tril triu diagonal diag trace dot mv bmm outer addmm norm dist cumsum cumprod prod
    sort argsort topk kthvalue median mode aminmax flip roll repeat tile repeat_interleave
    all any count_nonzero nonzero unique bincount histc histogram nelement
    movedim swapaxes unflatten
""".split()

ALIASES = {"moveaxis": "movedim", "swapdims": "swapaxes"}     # other PyTorch names, methods and functions

# the ``autodiff.<name>`` functions (repeat and nelement are methods only, as in PyTorch)
FUNCTIONS = [n for n in METHODS if n not in ("repeat", "nelement")] + list(ALIASES) + [
    "einsum", "meshgrid", "cartesian_prod", "hstack", "vstack", "dstack", "column_stack"]

IN_PLACE = {
    "scatter_": _scatter_, "scatter_add_": _scatter_add_, "index_add_": _index_add_,
    "masked_fill_": _masked_fill_, "tril_": _triangle_("tril_", False), "triu_": _triangle_("triu_", True),
}


def _method(function):
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)
    method.__name__, method.__doc__ = function.__name__, function.__doc__
    return method


def install():
    """Put the methods on ``Tensor`` (called once, by ``autodiff/__init__.py``)."""
    for name in METHODS:
        setattr(Tensor, name, _method(globals()[name]))
    for alias, name in ALIASES.items():
        setattr(Tensor, alias, getattr(Tensor, name))
    for name, method in IN_PLACE.items():
        setattr(Tensor, name, method)


moveaxis, swapdims = movedim, swapaxes
