"""Argument checks shared by the tensor ops: PyTorch's errors, naming the op and the argument."""
import builtins

import numpy as np

from .. import dtypes
from ..ops.dims import normalize_dim
from ..tensor import Tensor, tensor


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


def _tensor_list(op, tensors):
    tensors = list(tensors)
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {k} in argument 0, but got {type(t).__name__}")
    return tensors
