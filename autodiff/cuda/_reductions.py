"""Reductions on CudaArrays: sum, prod, mean, max, min, all, any (over any axes) and argmax/argmin.

One thread reduces the elements of one output; a long reduction into few outputs is split into
chunks reduced in parallel, whose partial results are then reduced again.
"""
import numpy as np

from . import _kernels as K
from ._core import (_FLOAT_KINDS, CudaArray, _call_ufunc, _coalesce, _copy_into, _normalize_axes,
                    _normalize_axis, _operands, _prod)

_REDUCTIONS = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
               "logical_and": "all", "logical_or": "any"}
_SUM_DTYPES = {}


def _sum_dtype(dtype):
    """numpy's dtype for sum/prod: small integers and bools sum as int64 (uint64)."""
    result = _SUM_DTYPES.get(dtype)
    if result is None:
        result = _SUM_DTYPES[dtype] = np.add.reduce(np.zeros(1, dtype)).dtype
    return result


def _chunks(nk, nr):
    """(chunks per kept element, chunk length): a long reduction into few outputs is split
    into chunks reduced in parallel, then the partial results are reduced again."""
    target, minimum = (2, 8) if K.SIM else (4096, 64)
    if nk >= target or nr <= 2 * minimum:
        return 1, nr
    nchunk = min(-(-nr // minimum), -(-target // nk))
    length = -(-nr // nchunk)
    return -(-nr // length), length


def _reduce(op, x, axis, keepdims=False, dtype=None, out=None, where=None, initial=None):
    """op (sum, prod, max, min, all, any) over ``axis`` (None: all)."""
    if where is not None or initial is not None:
        raise NotImplementedError(f"{op}: where= and initial= are not supported on CUDA arrays")
    if not isinstance(x, CudaArray):
        x, = (v for v, _ in _operands([x]))
    axes = _normalize_axes(axis, x.ndim)
    if op in ("sum", "prod"):
        acc = np.dtype(dtype) if dtype is not None else _sum_dtype(x.dtype)
    elif op in ("all", "any"):
        acc = np.dtype(np.bool_)
    else:
        acc = x.dtype
        if _prod(x.shape[a] for a in axes) == 0:
            name = {"max": "maximum", "min": "minimum"}[op]
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
    kept = [d for d in range(x.ndim) if d not in axes]
    result = _reduce_into(op, x, kept, axes, acc)
    if keepdims:
        result = result.reshape(tuple(1 if d in axes else n for d, n in enumerate(x.shape)))
    if out is not None:
        _copy_into(out, result)
        return out
    return result


def _reduce_into(op, x, kept, axes, acc):
    kept_shape = tuple(x.shape[d] for d in kept)
    red_shape = tuple(x.shape[d] for d in axes)
    nk, nr = _prod(kept_shape), _prod(red_shape)
    result = CudaArray.empty(kept_shape, acc)
    if nk == 0:
        return result
    if nr == 0:
        result.fill({"sum": 0, "prod": 1, "all": True, "any": False}[op])
        return result
    kshape, (ks,) = _coalesce(kept_shape, [[x._strides[d] for d in kept]])
    rshape, (rs,) = _coalesce(red_shape, [[x._strides[d] for d in axes]])
    nchunk, length = _chunks(nk, nr)
    target = result if nchunk == 1 else CudaArray.empty((nk, nchunk), acc)
    spec = (op, x.dtype.name, acc.name, acc.name, len(kshape), len(rshape))
    K.launch("reduce", spec, nk * nchunk, nk * nchunk, nchunk, length, nr, kshape, rshape,
             target._buf, x._buf, x._offset, ks, rs)
    if nchunk == 1:
        return result
    combine = {"sum": "sum", "prod": "prod", "max": "max", "min": "min", "all": "all", "any": "any"}[op]
    partial = _reduce_into(combine, target, [0], (1,), acc)
    return partial.reshape(kept_shape)


def _check_reduce_kwargs(name, kwargs):
    kwargs = {k: v for k, v in kwargs.items() if not (k == "where" and v is True)
              and v is not np._NoValue}
    if kwargs:
        raise NotImplementedError(f"{name}: arguments {sorted(kwargs)} are not supported on CUDA arrays")


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _check_reduce_kwargs("sum", kwargs)
    return _reduce("sum", a, axis, keepdims, dtype, out)


def _prod_reduce(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _check_reduce_kwargs("prod", kwargs)
    return _reduce("prod", a, axis, keepdims, dtype, out)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _check_reduce_kwargs("mean", kwargs)
    if not isinstance(a, CudaArray):
        a, = (v for v, _ in _operands([a]))
    if dtype is None:
        dtype = a.dtype if a.dtype.kind in _FLOAT_KINDS else np.dtype(np.float64)
    total = _reduce("sum", a, axis, keepdims, dtype)
    count = _prod(a.shape[d] for d in _normalize_axes(axis, a.ndim))
    return _call_ufunc(np.true_divide, (total, count if count else np.nan), out, dtype=dtype)


def _max(a, axis=None, out=None, keepdims=False, **kwargs):
    _check_reduce_kwargs("max", kwargs)
    return _reduce("max", a, axis, keepdims, None, out)


def _min(a, axis=None, out=None, keepdims=False, **kwargs):
    _check_reduce_kwargs("min", kwargs)
    return _reduce("min", a, axis, keepdims, None, out)


def _all(a, axis=None, out=None, keepdims=False, **kwargs):
    _check_reduce_kwargs("all", kwargs)
    return _reduce("all", a, axis, keepdims, None, out)


def _any(a, axis=None, out=None, keepdims=False, **kwargs):
    _check_reduce_kwargs("any", kwargs)
    return _reduce("any", a, axis, keepdims, None, out)


def _ufunc_reduce(ufunc, array, axis=0, dtype=None, out=None, keepdims=False, **kwargs):
    op = _REDUCTIONS.get(ufunc.__name__)
    if op is None:
        raise NotImplementedError(f"{ufunc.__name__}.reduce is not supported on CUDA arrays")
    _check_reduce_kwargs(f"{ufunc.__name__}.reduce", kwargs)
    if op in ("max", "min", "all", "any") and dtype is not None:
        raise NotImplementedError(f"{ufunc.__name__}.reduce: dtype= is not supported on CUDA arrays")
    return _reduce(op, array, axis, keepdims, dtype, out)


def _argreduce(op, a, axis=None, out=None, keepdims=False):
    if out is not None:
        raise NotImplementedError(f"{op}: out= is not supported on CUDA arrays")
    if a.size == 0:
        raise ValueError(f"attempt to get {op} of an empty sequence")
    if axis is None:
        flat = a.reshape(-1)
        result = _argreduce(op, flat, 0)
        return result.reshape((1,) * a.ndim) if keepdims else result.reshape(())
    axis = _normalize_axis(axis, a.ndim)
    if a.ndim == 0:
        return CudaArray.full((), 0, np.int64)
    kept = [d for d in range(a.ndim) if d != axis]
    kept_shape = tuple(a.shape[d] for d in kept)
    result = CudaArray.empty(kept_shape, np.int64)
    kshape, (ks,) = _coalesce(kept_shape, [[a._strides[d] for d in kept]])
    nk = _prod(kept_shape)
    K.launch("argreduce", (op, a.dtype.name, len(kshape)), nk, nk, a.shape[axis], kshape,
             result._buf, a._buf, a._offset, ks, a._strides[axis])
    if keepdims:
        return result.reshape(a.shape[:axis] + (1,) + a.shape[axis + 1:])
    return result
