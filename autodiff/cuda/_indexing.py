"""Indexing CudaArrays as numpy does: basic indices make views; integer and boolean index
arrays gather (and assignments scatter) through the offsets of the indexed positions;
np.add.at adds atomically; take_along_axis / put_along_axis index along one axis.

A boolean mask is turned into integer indices on the host (the result's size depends on
it), and device index arrays are bounds-checked with one copy of their min and max.
"""
import numpy as np

from ._core import (CudaArray, _broadcast_strides, _call_ufunc, _normalize_axis, _operands, _run,
                    _scalar_of, _value_operand)
from .devices import CPU, CUDA0, DeviceArray, mismatch
from ._reductions import _reduce


def _expand_key(key, array):
    """The parts of an index (ints, slices, None, index arrays), Ellipsis expanded, boolean
    arrays turned into integer arrays; and whether any part is an index array."""
    parts = list(key) if isinstance(key, tuple) else [key]
    expanded = []
    for part in parts:
        if isinstance(part, list):
            part = np.asarray(part)
            if part.dtype.kind not in "biu":
                part = part.astype(np.int64) if part.size == 0 else part
        if isinstance(part, (np.ndarray, CudaArray)):
            if part.dtype == np.bool_:
                if part.ndim == 0:
                    raise NotImplementedError("indexing with a 0-d boolean is not supported on CUDA arrays")
                host = part.get() if isinstance(part, CudaArray) else part   # the size depends on it
                expanded.extend(np.nonzero(host))
                continue
            if part.dtype.kind not in "iu":
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            if part.ndim == 0:
                part = int(part.item() if isinstance(part, CudaArray) else part)
        elif isinstance(part, (bool, np.bool_)):
            raise NotImplementedError("indexing with a Python bool is not supported on CUDA arrays")
        elif isinstance(part, np.integer):
            part = int(part)
        elif isinstance(part, DeviceArray):
            raise mismatch(CUDA0, part.device)
        elif not (part is None or part is Ellipsis or isinstance(part, (int, slice))):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) "
                             "and integer or boolean arrays are valid indices")
        expanded.append(part)
    consumed = sum(1 for p in expanded if p is not None and p is not Ellipsis)
    if consumed > array.ndim:
        raise IndexError(f"too many indices for array: array is {array.ndim}-dimensional, but "
                         f"{consumed} were indexed")
    ellipses = [i for i, p in enumerate(expanded) if p is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    fill = [slice(None)] * (array.ndim - consumed)
    if ellipses:
        i = ellipses[0]
        expanded = expanded[:i] + fill + expanded[i + 1:]
    else:
        expanded = expanded + fill
    advanced = any(isinstance(p, (np.ndarray, CudaArray)) for p in expanded)
    return expanded, advanced


def _advance(array, d, part, offset):
    """Apply an int or a slice to dim ``d``: the new offset, and the (size, stride) of the
    dim it leaves (None for an int, which removes the dim)."""
    n, stride = array.shape[d], array._strides[d]
    if isinstance(part, int):
        i = part + n if part < 0 else part
        if not 0 <= i < n:
            raise IndexError(f"index {part} is out of bounds for axis {d} with size {n}")
        return offset + i * stride, None
    start, stop, step = part.indices(n)
    length = len(range(start, stop, step))
    return (offset + start * stride if length else offset), (length, stride * step)


def _basic_view(array, parts):
    offset, shape, strides, d = array._offset, [], [], 0
    for part in parts:
        if part is None:
            shape.append(1)
            strides.append(0)
            continue
        offset, kept = _advance(array, d, part, offset)
        if kept is not None:
            shape.append(kept[0])
            strides.append(kept[1])
        d += 1
    return array._view(offset, shape, strides)


def _index_plan(array, parts):
    """For an index with index arrays: the view of the other dims, the index arrays (their
    dims' sizes and strides), the broadcast index shape, and where its dims go."""
    offset, rest_shape, rest_strides = array._offset, [], []
    indices, positions, first_rest, d = [], [], None, 0
    for position, part in enumerate(parts):
        if part is None:
            rest_shape.append(1)
            rest_strides.append(0)
            continue
        if isinstance(part, (int, slice)):
            offset, kept = _advance(array, d, part, offset)
            if kept is None:
                positions.append(position)
            else:
                rest_shape.append(kept[0])
                rest_strides.append(kept[1])
        else:
            n, stride = array.shape[d], array._strides[d]
            indices.append((_index_array(part, n, d), n, stride))
            positions.append(position)
        if first_rest is None and not isinstance(part, slice):
            first_rest = len(rest_shape)
        d += 1
    try:
        index_shape = np.broadcast_shapes(*(i.shape for i, _, _ in indices))
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together with "
                         "shapes " + " ".join(str(i.shape) for i, _, _ in indices)) from None
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    insert = first_rest if adjacent else 0
    return offset, tuple(rest_shape), tuple(rest_strides), indices, index_shape, insert


def _index_array(part, n, axis):
    """An integer index array on the device, checked against the dim's size ``n``."""
    if isinstance(part, np.ndarray):
        if part.size and (part.min() < -n or part.max() >= n):
            bad = part[(part < -n) | (part >= n)].flat[0]
            raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")
        return CudaArray.from_host(part.astype(np.int64, copy=False))
    if part.size:
        low, high = int(_reduce("min", part, None)), int(_reduce("max", part, None))   # a sync
        if low < -n or high >= n:
            raise IndexError(f"index {high if high >= n else low} is out of bounds for axis {axis} "
                             f"with size {n}")
    return part


def _index_offsets(indices, index_shape):
    """off[b] = sum_j idx_j[b] * stride_j over the broadcast index shape (negatives wrapped)."""
    off = CudaArray.empty(index_shape, np.int64)
    operands = [(off, _broadcast_strides(off, index_shape))]
    operands += [(i, _broadcast_strides(i, index_shape)) for i, _, _ in indices]
    scalars = [n for _, n, _ in indices] + [stride for _, _, stride in indices]
    _run("offsets", (tuple(i.dtype.name for i, _, _ in indices),), index_shape, operands, scalars)
    return off


def _result_axes(nb, nrest, insert):
    """The order (from index dims first, then the others) of numpy's result dims."""
    return list(range(nb, nb + insert)) + list(range(nb)) + list(range(nb + insert, nb + nrest))


def _advanced_get(array, parts):
    offset, rest_shape, rest_strides, indices, index_shape, insert = _index_plan(array, parts)
    off = _index_offsets(indices, index_shape)
    nb = len(index_shape)
    shape = index_shape + rest_shape
    out = CudaArray.empty(shape, array.dtype)
    source = array._view(offset, shape, (0,) * nb + rest_strides)
    offsets = off._view(0, shape, off._strides + (0,) * len(rest_shape))
    _run("gather", (array.dtype.name,), shape,
         [(out, out._strides), (source, source._strides), (offsets, offsets._strides)], [])
    if insert:
        return out.transpose(_result_axes(nb, len(rest_shape), insert))
    return out


def _advanced_set(array, parts, value, accumulate):
    offset, rest_shape, rest_strides, indices, index_shape, insert = _index_plan(array, parts)
    if accumulate and array.dtype.name not in ("float32", "float64", "int32", "int64", "uint32",
                                               "uint64"):
        raise TypeError(f"add.at: atomic addition into {array.dtype} is not supported on CUDA arrays")
    off = _index_offsets(indices, index_shape)
    nb = len(index_shape)
    shape = index_shape + rest_shape
    axes = _result_axes(nb, len(rest_shape), insert)
    result_shape = tuple(shape[a] for a in axes)
    value = _value_operand(value, upload=not accumulate)
    if not isinstance(value, CudaArray):
        value = CudaArray.full((), _scalar_of(value, array.dtype), array.dtype)
    try:
        ok = np.broadcast_shapes(value.shape, result_shape) == result_shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"shape mismatch: value array of shape {value.shape} could not be broadcast "
                         f"to indexing result of shape {result_shape}")
    value = value._broadcast_to(result_shape).transpose(np.argsort(axes))
    target = array._view(offset, shape, (0,) * nb + rest_strides)
    offsets = off._view(0, shape, off._strides + (0,) * len(rest_shape))
    _run("scatter", (array.dtype.name, value.dtype.name), shape,
         [(target, target._strides), (offsets, offsets._strides), (value, value._strides)], [],
         (bool(accumulate),))


def _ufunc_at(ufunc, array, indices, values=None):
    if ufunc is not np.add or values is None:
        raise NotImplementedError(f"{ufunc.__name__}.at is not supported on CUDA arrays (only add.at)")
    if not isinstance(array, CudaArray):
        raise mismatch(CPU, CUDA0)
    parts, advanced = _expand_key(indices, array)
    if not advanced:
        view = _basic_view(array, parts)
        _call_ufunc(np.add, (view, _value_operand(values)), view)
        return None
    _advanced_set(array, parts, values, accumulate=True)
    return None


def _nonzero(a):
    return tuple(CudaArray.from_host(i) for i in np.nonzero(a.get()))   # the size depends on a


def _take_along_axis(arr, indices, axis=-1):
    if axis is None:
        arr, axis = arr.reshape(-1), 0
    (arr, _), (indices, _) = _operands([arr, indices])
    if not isinstance(indices, CudaArray) or indices.dtype.kind not in "iu" or indices.ndim != arr.ndim:
        raise IndexError("take_along_axis: `indices` must be an integer array with as many dims as `arr`")
    axis = _normalize_axis(axis, arr.ndim)
    shape = list(arr.shape)
    shape[axis] = 1
    shape = np.broadcast_shapes(tuple(shape), indices.shape)
    source = _along_source(arr, axis)
    out = CudaArray.empty(shape, arr.dtype)
    _run("along", (arr.dtype.name, indices.dtype.name, arr.dtype.name), shape,
         [(out, out._strides), (source, _broadcast_strides(source, shape)),
          (indices, _broadcast_strides(indices, shape))],
         [arr.shape[axis], arr._strides[axis]], (False,))
    return out


def _put_along_axis(arr, indices, values, axis):
    (arr, _), (indices, _) = _operands([arr, indices])
    if not isinstance(indices, CudaArray) or indices.dtype.kind not in "iu" or indices.ndim != arr.ndim:
        raise IndexError("put_along_axis: `indices` must be an integer array with as many dims as `arr`")
    axis = _normalize_axis(axis, arr.ndim)
    values = _value_operand(values)
    if not isinstance(values, CudaArray):
        values = CudaArray.full((), _scalar_of(values, arr.dtype), arr.dtype)
    shape = list(arr.shape)
    shape[axis] = 1
    shape = np.broadcast_shapes(tuple(shape), indices.shape)
    target = _along_source(arr, axis)
    _run("along", (arr.dtype.name, indices.dtype.name, values.dtype.name), shape,
         [(target, _broadcast_strides(target, shape)), (indices, _broadcast_strides(indices, shape)),
          (values, _broadcast_strides(values, shape))],
         [arr.shape[axis], arr._strides[axis]], (True,))


def _along_source(arr, axis):
    """``arr`` with its ``axis`` dim seen as size 1 (the kernel adds index * stride itself)."""
    shape, strides = list(arr.shape), list(arr._strides)
    shape[axis], strides[axis] = 1, 0
    return arr._view(arr._offset, shape, strides)
