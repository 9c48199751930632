"""Triangles and diagonals, matrix and vector products, einsum, norms."""
import builtins

import numpy as np

from .. import dtypes
from ..ops import linalg as L
from ..ops import shape as S
from ..ops.dims import broadcast_shapes, normalize_dims
from ..tensor import Tensor
from ._args import _int, _dim, _dtype_name, _same_dtype, _tensor_arg


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
    if not isinstance(input._data, np.ndarray):     # (device arrays: a copy, by index arrays)
        rest = [d for d in range(ndim) if d not in (d1, d2)]
        moved = input.permute(*rest, d1, d2) if (d1, d2) != (ndim - 2, ndim - 1) else input
        rows, cols = _diagonal_positions(input._data.shape[d1], input._data.shape[d2], offset)
        return S.Index.apply(moved, (Ellipsis, rows, cols))
    return S.Diagonal.apply(input, offset, d1, d2)      # a view, as in PyTorch


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


# ---------------------------------------------------------------------- more products, distances
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def inner(input, other):
    """Sum over the last dims of both: the result has ``input``'s other dims, then ``other``'s."""
    input, other = _tensor_arg("inner", "input", input), _tensor_arg("inner", "other", other)
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner(): the last dimensions of input {tuple(input.shape)} and other "
                           f"{tuple(other.shape)} must match")
    a = _LETTERS[:input._data.ndim - 1]
    b = _LETTERS[input._data.ndim - 1:input._data.ndim + other._data.ndim - 2]
    return einsum(f"{a}z,{b}z->{a}{b}", input, other)


def tensordot(a, b, dims=2):
    """Sum over the last ``dims`` dims of ``a`` and the first ``dims`` of ``b`` (or over the dims
    listed in ``dims = (dims_of_a, dims_of_b)``)."""
    a, b = _tensor_arg("tensordot", "a", a), _tensor_arg("tensordot", "b", b)
    if isinstance(dims, (builtins.int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot(): expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(a._data.ndim - dims, a._data.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, (builtins.int, np.integer)) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"tensordot(): both dimension lists should have the same length, got "
                           f"{dims_a} and {dims_b}")
    dims_a = [_dim("tensordot", d, a._data.ndim, "dims") for d in dims_a]
    dims_b = [_dim("tensordot", d, b._data.ndim, "dims") for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a._data.shape[da] != b._data.shape[db]:
            raise RuntimeError(f"tensordot(): contracted dimensions need to match, but first has size "
                               f"{a._data.shape[da]} in dim {da} and second has size {b._data.shape[db]} "
                               f"in dim {db}")
    letters = iter(_LETTERS)
    sub_a = [next(letters) for _ in range(a._data.ndim)]
    sub_b = [next(letters) for _ in range(b._data.ndim)]
    for da, db in zip(dims_a, dims_b):
        sub_b[db] = sub_a[da]
    out = [c for i, c in enumerate(sub_a) if i not in dims_a] + [c for i, c in enumerate(sub_b) if i not in dims_b]
    return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}", a, b)


def kron(input, other):
    """The Kronecker product: each element of ``input`` times the whole of ``other``, tiled."""
    input, other = _tensor_arg("kron", "input", input), _tensor_arg("kron", "other", other)
    n = builtins.max(input._data.ndim, other._data.ndim)
    a = input.reshape((1,) * (n - input._data.ndim) + tuple(input._data.shape))
    b = other.reshape((1,) * (n - other._data.ndim) + tuple(other._data.shape))
    sub_a, sub_b = _LETTERS[:n], _LETTERS[n:2 * n]
    interleaved = "".join(x + y for x, y in zip(sub_a, sub_b))
    shape = tuple(p * q for p, q in zip(a._data.shape, b._data.shape))
    return einsum(f"{sub_a},{sub_b}->{interleaved}", a, b).reshape(shape)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The ``p``-norm distance between each row of ``x1`` (..., P, M) and each row of ``x2``
    (..., R, M): shape (..., P, R)."""
    x1, x2 = _tensor_arg("cdist", "x1", x1), _tensor_arg("cdist", "x2", x2)
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise RuntimeError(f"cdist(): only supports at least 2D tensors, X1 got: {x1._data.ndim}D, "
                           f"X2 got: {x2._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"cdist(): X1 and X2 must have the same number of columns. X1: "
                           f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist(): only supports non-negative p values, got {p}")
    return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


def fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal, in place (``wrap``: continue below a tall matrix)."""
    ndim = self._data.ndim
    if ndim < 2:
        raise RuntimeError(f"fill_diagonal_(): dimensions must larger than 1, got shape {tuple(self.shape)}")
    if ndim > 2 and len(set(self._data.shape)) != 1:
        raise RuntimeError(f"fill_diagonal_(): all dimensions of input must be of equal length, got "
                           f"shape {tuple(self.shape)}")
    if not isinstance(fill_value, (builtins.bool, builtins.int, builtins.float, np.number, Tensor)):
        raise TypeError(f"fill_diagonal_(): argument 'fill_value' must be a number, not "
                        f"{type(fill_value).__name__}")
    mask = np.zeros(self._data.shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return self._inplace("fill_diagonal_", fill_value, lambda old, v: S.MaskedFill.apply(old, mask, v),
                         lambda data, v: np.copyto(data, v, where=mask, casting="unsafe"))


def _triangle_indices(op, row, col, offset, dtype, upper):
    row, col, offset = _int(op, "row", row), _int(op, "col", col), _int(op, "offset", offset)
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}(): row and col must be non-negative, got row={row}, col={col}")
    rows, cols = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    out = np.stack([rows, cols]).astype(np.int64)
    return Tensor._wrap(out if dtype is None else out.astype(dtypes.as_dtype(dtype)))


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, True)
