"""Scans and products, sorting and selection, logic, counting and histograms."""
import builtins
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..cuda.devices import as_array as _as_array
from ..ops import reduction as R
from ..ops import scan as C
from ..ops import shape as S
from ..ops.dims import normalize_dims
from ..tensor import Tensor
from ._args import _int, _dim, _keepdim, _as_tensor, _dtype_name
from .indexing import along_dim_key


# PyTorch's torch.return_types: named pairs
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])
aminmax_result = namedtuple("aminmax", ["min", "max"])
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


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


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantiles (q in [0, 1], a number or a 1-D tensor) of every element or along
    ``dim``, interpolated between the sorted values; a tensor ``q`` adds its dim first. A
    slice with NaN gives NaN. The gradient reaches the (one or two) values it came from."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"quantile(): input tensor must be either float or double dtype, got "
                           f"{_dtype_name(input)}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"quantile(): interpolation must be one of {', '.join(_INTERPOLATIONS)}. "
                           f"Got {interpolation!r}")
    scalar_q = not isinstance(q, Tensor)
    qs = np.atleast_1d(np.asarray(q._data if isinstance(q, Tensor) else q, dtype=np.float64))
    if qs.ndim > 1:
        raise RuntimeError(f"quantile(): q must be a scalar or 1D tensor, got shape {qs.shape}")
    if np.any((qs < 0) | (qs > 1)) or np.any(np.isnan(qs)):
        raise RuntimeError(f"quantile(): q values must be in the range [0, 1], got {qs.tolist()}")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim("quantile", dim, x._data.ndim)
    if x._data.ndim == 0:
        x = x.reshape(1)
    n = x._data.shape[d]
    if n == 0:
        raise IndexError("quantile(): input tensor must be non-empty")
    ordered = sort(x, d).values
    position = qs * (n - 1)
    lower, upper = np.floor(position).astype(np.int64), np.ceil(position).astype(np.int64)
    if interpolation == "lower":
        upper = lower
    elif interpolation == "higher":
        lower = upper
    elif interpolation == "nearest":
        lower = upper = np.round(position).astype(np.int64)
    weight = {"midpoint": np.where(upper > lower, 0.5, 0.0)}.get(interpolation, position - lower)
    # per slice: the q positions along d; a slice with NaN takes its last sorted value, the
    # NaN (PyTorch's rule: the result is NaN and the gradient goes to that NaN)
    shape = list(x._data.shape)
    shape[d] = len(qs)
    along = (1,) * d + (len(qs),) + (1,) * (x._data.ndim - d - 1)
    lower, upper, weight = (np.broadcast_to(a.reshape(along), shape).copy() for a in (lower, upper, weight))
    nan = np.broadcast_to(np.isnan(x._data).any(axis=d, keepdims=True), shape)
    lower[nan], upper[nan], weight[nan] = n - 1, n - 1, 0.0
    low = S.Index.apply(ordered, along_dim_key(lower, d))
    high = S.Index.apply(ordered, along_dim_key(upper, d))
    out = low + (high - low) * weight.astype(input._data.dtype) if np.any(weight) else low
    out = out.movedim(d, 0)                                   # the q dim first
    if keepdim:
        out = out.unsqueeze(d + 1) if dim is not None else out.reshape((len(qs),) + (1,) * input._data.ndim)
    return out.squeeze(0) if scalar_q else out
