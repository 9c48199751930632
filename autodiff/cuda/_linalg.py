"""Matrix products of CudaArrays (numpy's matmul rules: 1-D operands, broadcast batch dims).

2-D float products big enough to fill a tile use kernels.cuda's shared-memory tiled kernel;
the rest (batches, integer dtypes, small or strided operands) one thread per output element.
"""
import numpy as np

from . import _kernels as K
from ._core import (CudaArray, _broadcast_strides, _call_ufunc, _coalesce, _copy_into, _operands,
                    _resolve)

TILED_MIN = 256     # matrices with at least this many outputs use kernels.cuda's tiled matmul


def _tiled_view(x):
    """A Numba device-array view of a 2-D array that is C-contiguous or the transpose of one."""
    rows, cols = x.shape
    flat = x._buf[x._offset:x._offset + x.size]
    if x.is_c_contiguous:
        return flat.reshape((rows, cols))
    if x._strides == (1, rows) or (cols == 1 and x._strides[0] == 1):
        from kernels.cuda._common import transposed
        return transposed(flat.reshape((cols, rows)))
    return None


def _matmul(a, b, out=None):
    (a, ka), (b, kb) = _operands([a, b])
    for i, x in enumerate((a, b)):
        if not isinstance(x, CudaArray) or x.ndim == 0:
            raise ValueError(f"matmul: Input operand {i} does not have enough dimensions (has 0, "
                             "gufunc core with signature (n?,k),(k,m?)->(n?,m?) requires 1)")
    (loop_a, loop_b), loop = _resolve(np.matmul, (ka, kb))
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    m, k = a2.shape[-2:]
    k2, n = b2.shape[-2:]
    if k != k2:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
                         f"signature (n?,k),(k,m?)->(n?,m?) (size {k2} is different from {k})")
    try:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"operands could not be broadcast together with remapped shapes "
                         f"[original->remapped]: {a.shape} and {b.shape}") from None
    result = CudaArray.empty(batch + (m, n), loop)
    if result.size:
        if not batch and m * n >= TILED_MIN and loop.kind == "f" and a.dtype == b.dtype == loop \
                and _tiled_view(a2) is not None and _tiled_view(b2) is not None:
            from kernels import cuda as tiled
            tiled.matmul(_tiled_view(a2), _tiled_view(b2), out=result._buf[:m * n].reshape((m, n)))
        else:
            a_batch = _broadcast_strides(a2._view(a2._offset, a2.shape[:-2], a2._strides[:-2]), batch)
            b_batch = _broadcast_strides(b2._view(b2._offset, b2.shape[:-2], b2._strides[:-2]), batch)
            bshape, (abs_, bbs) = _coalesce(batch, [a_batch, b_batch])
            total = result.size
            K.launch("matmul", (a.dtype.name, b.dtype.name, loop.name, len(bshape)), total,
                     total, m, n, k, bshape, result._buf,
                     a2._buf, a2._offset, abs_, a2._strides[-2], a2._strides[-1],
                     b2._buf, b2._offset, bbs, b2._strides[-2], b2._strides[-1])
    shape = batch + ((m,) if a.ndim > 1 else ()) + ((n,) if b.ndim > 1 else ())
    if shape != result.shape:
        result = result.reshape(shape)
    if out is not None:
        _copy_into(out, result)
        return out
    return result


def _dot(a, b, out=None):
    (a, _), (b, _) = _operands([a, b])
    if not isinstance(a, CudaArray) or not isinstance(b, CudaArray) or a.ndim == 0 or b.ndim == 0:
        return _call_ufunc(np.multiply, (a, b), out)
    if a.ndim > 2 or b.ndim > 2:
        raise NotImplementedError("dot: arrays of more than 2 dimensions are not supported on CUDA "
                                  "arrays (use matmul)")
    return _matmul(a, b, out)
