"""``autodiff.linalg``: PyTorch's ``torch.linalg`` norms (vector and matrix).

Only the norms; decompositions and solvers (``inv``, ``det``, ``svd`` ...) are not provided,
so the matrix 2-norm and nuclear norm, which need singular values, are refused.
"""
import builtins

import numpy as np

from .ops import linalg as L
from .ops.dims import normalize_dims
from .tensor import Tensor

__all__ = ["norm", "vector_norm", "matrix_norm"]


def _float_input(op, x, dtype):
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}(): expected a floating point tensor as input, got "
                           f"{x._data.dtype}")
    return x


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm over ``dim`` (None: every element, flattened)."""
    x = _float_input("vector_norm", x, dtype)
    if isinstance(ord, (builtins.bool, str)) or not isinstance(ord, (builtins.int, builtins.float, np.number)):
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be a number, not {type(ord).__name__}")
    if isinstance(dim, builtins.int):
        dim = (dim,)
    return L.Norm.apply(x, builtins.float(ord), normalize_dims(dim, x._data.ndim, "linalg.vector_norm"),
                        builtins.bool(keepdim))


def matrix_norm(x, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm over the two dims ``dim``: 'fro', 1 / -1 (largest / smallest column
    sum of absolute values), inf / -inf (rows)."""
    x = _float_input("matrix_norm", x, dtype)
    if x._data.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm(): the input tensor must be a matrix or a batch of "
                           f"matrices, got shape {tuple(x.shape)}")
    dims = tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm(): dim must be a 2-tuple, got {dim}")
    rows, cols = normalize_dims(dims[0], x._data.ndim, "linalg.matrix_norm")[0], \
        normalize_dims(dims[1], x._data.ndim, "linalg.matrix_norm")[0]
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm(): dims must be different, got {dim}")
    if ord == "fro":
        return L.Norm.apply(x, 2.0, tuple(sorted((rows, cols))), builtins.bool(keepdim))
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm(): ord={ord!r} needs singular values, which "
                                  "autodiff does not compute")
    if ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm(): order {ord} not supported")
    summed, kept = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = x.abs().sum(summed, keepdim=True)
    out = sums.amax(kept, keepdim=True) if ord > 0 else sums.amin(kept, keepdim=True)
    return out if keepdim else out.squeeze((rows, cols) if rows < cols else (cols, rows))


def norm(x, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (``dim`` an int, or a 1-D input) or a matrix norm (``dim`` a pair, or a
    2-D input with ``ord`` given); with ``ord`` and ``dim`` None, the 2-norm of every element."""
    if isinstance(dim, builtins.int):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(x, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if x.ndim == 1:
            return vector_norm(x, ord, None, keepdim, dtype=dtype)
        if x.ndim == 2:
            return matrix_norm(x, ord, (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm(): if dim=None, the input must be 1-D or 2-D when ord is given, "
                           f"got shape {tuple(x.shape)}")
    if len(dim) == 1:
        return vector_norm(x, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(x, ord, dim, keepdim, dtype=dtype)
