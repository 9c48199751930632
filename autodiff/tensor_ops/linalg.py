"""Triangles and diagonals, matrix and vector products, einsum, norms."""
import builtins

import numpy as np

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
