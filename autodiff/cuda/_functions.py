"""numpy functions on CudaArrays (``__array_function__``): ``_FUNCTIONS`` maps each numpy
function autodiff's code calls to its implementation here or in the sibling modules.
"""
import numbers

import numpy as np

from ._core import (CudaArray, _call_ufunc, _copy_into, _elementwise, _is_scalar, _normalize_axis,
                    _operands, _promotion_arg, _scalar_of)
from ._indexing import _nonzero, _put_along_axis, _take_along_axis
from ._linalg import _dot, _matmul
from ._reductions import _all, _any, _argreduce, _max, _mean, _min, _prod_reduce, _reduce, _sum


def _where(condition, x=None, y=None):
    if x is None and y is None:
        return _nonzero(condition)
    operands = _operands([condition, x, y])
    (c, _), (a, ka), (b, kb) = operands
    dtype = np.result_type(_promotion_arg(a, ka), _promotion_arg(b, kb))
    if not isinstance(c, CudaArray):
        c = np.bool_(c)
    values = [c, a if isinstance(a, CudaArray) else dtype.type(a),
              b if isinstance(b, CudaArray) else dtype.type(b)]
    return _elementwise("where", values, (np.dtype(np.bool_), dtype, dtype), dtype)


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):  # noqa: A002
    if kwargs:
        raise NotImplementedError(f"clip: arguments {sorted(kwargs)} are not supported on CUDA arrays")
    low = a_min if a_min is not None and a_min is not np._NoValue else min
    high = a_max if a_max is not None and a_max is not np._NoValue else max
    if low is None and high is None:
        return a.copy() if out is None else _copy_into(out, a) or out
    if low is None:
        return _call_ufunc(np.minimum, (a, high), out)
    if high is None:
        return _call_ufunc(np.maximum, (a, low), out)
    operands = _operands([a, low, high])
    dtype = np.result_type(*(_promotion_arg(v, k) for v, k in operands))
    values = [v if isinstance(v, CudaArray) else dtype.type(v) for v, _ in operands]
    return _elementwise("clip", values, (dtype, dtype, dtype), dtype, out=out)


def _broadcast_to(array, shape, subok=False):
    return array._broadcast_to(shape)


def _expand_dims(a, axis):
    return a._expand_dims(axis)


def _squeeze(a, axis=None):
    return a.squeeze(axis)


def _swapaxes(a, axis1, axis2):
    return a.swapaxes(axis1, axis2)


def _transpose(a, axes=None):
    return a.transpose(axes)


def _moveaxis(a, source, destination):
    source = [_normalize_axis(s, a.ndim) for s in np.atleast_1d(source)]
    destination = [_normalize_axis(s, a.ndim) for s in np.atleast_1d(destination)]
    order = [n for n in range(a.ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return a.transpose(order)


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    return a.reshape(shape if shape is not None else newshape, order=order)


def _ravel(a, order="C"):
    return a.reshape(-1)


def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = [v for v, _ in _operands(list(arrays))]
    if any(not isinstance(a, CudaArray) or a.ndim == 0 for a in arrays):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    if axis is None:
        arrays, axis = [a.reshape(-1) for a in arrays], 0
    ndim = arrays[0].ndim
    axis = _normalize_axis(axis, ndim)
    for i, a in enumerate(arrays[1:], 1):
        if a.ndim != ndim:
            raise ValueError(f"all the input array dimensions except for the concatenation axis must "
                             f"match exactly, but the array at index 0 has {ndim} dimension(s) and the "
                             f"array at index {i} has {a.ndim} dimension(s)")
        for d in range(ndim):
            if d != axis and a.shape[d] != arrays[0].shape[d]:
                raise ValueError(f"all the input array dimensions except for the concatenation axis "
                                 f"must match exactly, but along dimension {d}, the array at index 0 "
                                 f"has size {arrays[0].shape[d]} and the array at index {i} has size "
                                 f"{a.shape[d]}")
    dtype = np.dtype(dtype) if dtype is not None else np.result_type(*(a.dtype for a in arrays))
    shape = list(arrays[0].shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    result = CudaArray.empty(shape, dtype) if out is None else out
    lead = (slice(None),) * axis
    start = 0
    for a in arrays:
        size = a.shape[axis]
        _copy_into(result[lead + (slice(start, start + size),)], a)
        start += size
    return result


def _stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = [v for v, _ in _operands(list(arrays))]
    if len({a.shape for a in arrays}) != 1:
        raise ValueError("all input arrays must have the same shape")
    axis = _normalize_axis(axis, arrays[0].ndim + 1)
    return _concatenate([a._expand_dims(axis) for a in arrays], axis, out, dtype)


def _like(name, default):
    def make(a, *args, dtype=None, order="K", subok=True, shape=None, device=None):
        value = args[0] if args else default
        if not isinstance(a, CudaArray):
            a = _operands([a])[0][0]
        shape = a.shape if shape is None else (
            (int(shape),) if isinstance(shape, (numbers.Integral, np.integer)) else tuple(shape))
        out = CudaArray.empty(shape, a.dtype if dtype is None else dtype)
        if value is not None:
            out.fill(value)
        return out
    make.__name__ = name
    return make


def _copyto(dst, src, casting="same_kind", where=True):
    if isinstance(dst, np.ndarray):           # to the host: an explicit copy
        np.copyto(dst, src.get() if isinstance(src, CudaArray) else src, casting=casting,
                  where=where.get() if isinstance(where, CudaArray) else where)
        return
    if isinstance(src, CudaArray):
        source_dtype = src.dtype
    elif _is_scalar(src):
        source_dtype = None
    else:                                      # from the host: an explicit copy
        src = np.asarray(src)
        source_dtype = src.dtype
    if source_dtype is not None and not np.can_cast(source_dtype, dst.dtype, casting):
        raise TypeError(f"Cannot cast array data from {source_dtype!r} to {dst.dtype!r} according "
                        f"to the rule {casting!r}")
    if isinstance(src, np.ndarray) and src.ndim:
        src = CudaArray.from_host(src.astype(dst.dtype, copy=False))
    if where is True:
        _copy_into(dst, src)
        return
    mask = where if isinstance(where, CudaArray) else CudaArray.from_host(np.asarray(where, dtype=bool))
    value = src if isinstance(src, CudaArray) else _scalar_of(src, dst.dtype)
    _elementwise("copy", [value], (dst.dtype,), dst.dtype, out=dst, where=mask)


def _isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    (a, _), (b, _) = _operands([a, b])
    f8 = np.dtype(np.float64)
    values = [a if isinstance(a, CudaArray) else f8.type(a), b if isinstance(b, CudaArray) else f8.type(b),
              f8.type(rtol), f8.type(atol), np.bool_(equal_nan)]
    return _elementwise("isclose", values, (f8, f8, f8, f8, np.dtype(np.bool_)), np.dtype(np.bool_))


def _allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(_reduce("all", _isclose(a, b, rtol, atol, equal_nan), None))


def _array_equal(a1, a2, equal_nan=False):
    (a1, _), (a2, _) = _operands([a1, a2])
    if np.shape(a1) != np.shape(a2):
        return False
    if equal_nan:
        return _allclose(a1, a2, 0.0, 0.0, True)
    return bool(_reduce("all", _call_ufunc(np.equal, (a1, a2), None), None))


def _shares_memory(a, b, max_work=None):
    return isinstance(a, CudaArray) and isinstance(b, CudaArray) and a._buf is b._buf


def _result_type(*arrays_and_dtypes):
    return np.result_type(*(a.dtype if isinstance(a, CudaArray) else a for a in arrays_and_dtypes))


def _ascontiguousarray(a, dtype=None, *, like=None):
    a = a if dtype is None else a.astype(dtype, copy=False)
    return a if a.is_c_contiguous else a.copy()


def _copy(a, order="K", subok=False):
    return a.copy()


def _count_nonzero(a, axis=None, *, keepdims=False):
    return _reduce("sum", _call_ufunc(np.not_equal, (a, 0), None), axis, keepdims, np.int64)


def _on_device(make):
    """np.arange(..., like=cuda_array) and friends: made on the host, copied to the device."""
    def function(*args, like=None, **kwargs):
        return CudaArray.from_host(make(*args, **kwargs))
    function.__name__ = make.__name__
    return function


def _filled(value):
    def function(shape, dtype=float, order="C", *, like=None, device=None):
        shape = (int(shape),) if isinstance(shape, (numbers.Integral, np.integer)) else tuple(shape)
        out = CudaArray.empty(shape, dtype)
        if value is not None:
            out.fill(value)
        return out
    return function


def _full(shape, fill_value, dtype=None, order="C", *, like=None, device=None):
    dtype = np.asarray(fill_value).dtype if dtype is None else dtype
    return _filled(fill_value)(shape, dtype)


_FUNCTIONS = {
    np.sum: _sum, np.prod: _prod_reduce, np.mean: _mean, np.max: _max, np.amax: _max,
    np.min: _min, np.amin: _min, np.all: _all, np.any: _any,
    np.argmax: lambda a, axis=None, out=None, *, keepdims=False: _argreduce("argmax", a, axis, out, keepdims),
    np.argmin: lambda a, axis=None, out=None, *, keepdims=False: _argreduce("argmin", a, axis, out, keepdims),
    np.where: _where, np.clip: _clip, np.broadcast_to: _broadcast_to, np.expand_dims: _expand_dims,
    np.squeeze: _squeeze, np.swapaxes: _swapaxes, np.transpose: _transpose, np.moveaxis: _moveaxis,
    np.reshape: _reshape, np.ravel: _ravel, np.concatenate: _concatenate, np.stack: _stack,
    np.zeros_like: _like("zeros_like", 0), np.ones_like: _like("ones_like", 1),
    np.empty_like: _like("empty_like", None), np.full_like: _like("full_like", None),
    np.take_along_axis: _take_along_axis, np.put_along_axis: _put_along_axis, np.copyto: _copyto,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    np.shape: lambda a: a.shape, np.ndim: lambda a: a.ndim,
    np.isclose: _isclose, np.allclose: _allclose, np.array_equal: _array_equal,
    np.shares_memory: _shares_memory, np.may_share_memory: _shares_memory,
    np.result_type: _result_type, np.ascontiguousarray: _ascontiguousarray, np.copy: _copy,
    np.nonzero: _nonzero, np.count_nonzero: _count_nonzero, np.matmul: _matmul, np.dot: _dot,
    np.arange: _on_device(np.arange), np.array: _on_device(np.array), np.asarray: _on_device(np.asarray),
    np.zeros: _filled(0), np.ones: _filled(1), np.empty: _filled(None), np.full: _full,
}
