"""Pooling, padding and resizing as a few linear ops and their adjoints.

- Max pooling picks one element per window: ``max_pool_indices`` finds it (PyTorch's
  ``return_indices``: the flat position in the input plane), then ``PlaneGather``
  takes it; the gradient is ``PlaneScatter`` (add each gradient at its index), whose
  own gradient is ``PlaneGather`` again. ``MaxUnpool`` is ``PlaneScatter``.
- Average pooling, adaptive average pooling, padding (every mode) and interpolation
  (nearest, linear, bilinear) are each a constant matrix applied along each spatial
  axis: ``AxisLinear``. Its gradient is ``AxisLinear`` with the transposed matrices.
  The matrices are built once per call from the sizes (``*_matrix`` below).

Argument checks live in ``autodiff.nn.functional``; these ops assume valid arguments.
Max-pooling indices run on the backend of the array's device (``autodiff.backends``: numpy
or a Numba kernel on the CPU, a ``kernels.cuda`` kernel on a GPU). On CUDA arrays gathers and the matrices
run on the GPU; adaptive max-pooling indices and overlapping scatters (max pooling with
stride < kernel) are computed on the host and moved back.
"""
import math

import numpy as np

from .. import backends
from ..autograd.function import Op
from ..backends import CPU
from ..cuda.devices import DeviceArray, like as _like
from .conv import _apply_or_compute, _host, _on_device_of, contiguous


# ---------------------------------------------------------------------- sizes
def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output length; with ceil_mode the last window must start inside
    the input or its left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


# ---------------------------------------------------------------------- max pooling
def max_pool_indices(x, kernel, stride, padding, dilation, ceil_mode):
    """For (N, C, H, W) ``x``: the flat index (h * W + w) of each window's maximum, (N, C, OH, OW).

    The first maximum in the window wins; a NaN counts as the maximum (as PyTorch).
    """
    h, w = x.shape[2:]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh = pool_output_size(h, kh, sh, ph, dh, ceil_mode)
    ow = pool_output_size(w, kw, sw, pw, dw, ceil_mode)
    backend = CPU if type(x) is np.ndarray else backends.of(x)
    return backend.max_pool2d_indices(x, kernel, stride, padding, dilation, (oh, ow))


def adaptive_bounds(size, out):
    """PyTorch's adaptive windows: [floor(i*size/out), ceil((i+1)*size/out)) for each i."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-(-((i + 1) * size) // out) for i in range(out)]
    return starts, ends


def adaptive_max_pool_indices(x, output_size):
    """Flat indices of the maximum of each adaptive window of (N, C, H, W) ``x`` (on the host,
    then moved to ``x``'s device)."""
    proto, x = x, _host(x)
    n, c, h, w = x.shape
    oh, ow = output_size
    hs, he = adaptive_bounds(h, oh)
    ws, we = adaptive_bounds(w, ow)
    out = np.empty((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, hs[i]:he[i], ws[j]:we[j]]
            width = we[j] - ws[j]
            flat = window.reshape(n, c, -1)
            ki, kj = np.divmod(flat.argmax(axis=-1), width)
            out[:, :, i, j] = (hs[i] + ki) * w + ws[j] + kj
    return _on_device_of(out, proto)


def _plane_rows(array):
    """(N, C, *spatial) -> (N*C, prod(spatial))."""
    return array.reshape(array.shape[0] * array.shape[1], -1)


def plane_gather(x, indices, unique=False):
    """out[n, c, ...] = x[n, c].flat[indices[n, c, ...]] (``unique`` is for the adjoint's sake)."""
    if isinstance(x, DeviceArray) and not isinstance(indices, DeviceArray):
        indices = _like(indices, x)
    out = np.take_along_axis(_plane_rows(x), _plane_rows(indices), axis=1)
    return out.reshape(indices.shape)


def plane_scatter(values, indices, plane_shape, unique=False):
    """Zeros of shape (N, C, *plane_shape), each value added at its index (the adjoint of gather).

    ``unique``: no index repeats within a plane, so plain assignment does (faster than adding).
    """
    if isinstance(values, DeviceArray):
        if unique:         # each index once: put the values into zero planes, on the device
            from ..cuda.array import CudaArray
            n, c = indices.shape[:2]
            out = CudaArray.full((n * c, int(np.prod(plane_shape))), 0, values.dtype)
            rows = _plane_rows(indices if isinstance(indices, DeviceArray) else _like(indices, values))
            np.put_along_axis(out, rows, _plane_rows(values), axis=1)
            return out.reshape((n, c) + tuple(plane_shape))
        return _like(plane_scatter(values.get(), _host(indices), plane_shape), values)   # (adds: on the host)
    indices = _host(indices)
    n, c = indices.shape[:2]
    size = int(np.prod(plane_shape))
    rows = _plane_rows(indices)
    flat = (rows + (np.arange(n * c) * size)[:, None]).ravel()
    if unique:
        out = np.zeros(n * c * size, dtype=values.dtype)
        out[flat] = values.ravel()
    else:
        out = np.bincount(flat, weights=values.ravel(), minlength=n * c * size).astype(values.dtype)
    return out.reshape((n, c) + tuple(plane_shape))


class PlaneGather(Op):
    """Take one element of each (n, c) plane per index: max pooling once the indices are known."""

    op_name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, indices, unique):
        ctx.indices, ctx.plane_shape, ctx.unique = indices, x.shape[2:], unique
        return plane_gather(x, indices)

    @staticmethod
    def backward(ctx, grad):
        return _apply_or_compute(ctx, PlaneScatter, plane_scatter, grad, ctx.indices, ctx.plane_shape,
                                 ctx.unique), None, None


class PlaneScatter(Op):
    """Add each value at its index into zero planes: max unpooling, and max pooling's gradient."""

    op_name = "max_unpool2d"

    @staticmethod
    def forward(ctx, values, indices, plane_shape, unique=False):
        ctx.indices, ctx.unique = indices, unique
        return plane_scatter(values, indices, plane_shape, unique)

    @staticmethod
    def backward(ctx, grad):
        return _apply_or_compute(ctx, PlaneGather, plane_gather, grad, ctx.indices, ctx.unique), None, None, None


# ---------------------------------------------------------------------- separable linear maps
def axis_linear(x, matrices):
    """Apply ``matrices`` ((axis, M) pairs, M of shape (out, in)) along their axes of ``x``."""
    on_device = isinstance(x, DeviceArray)
    for axis, matrix in matrices:
        m = matrix.astype(x.dtype, copy=False)
        if on_device:
            m = _like(np.ascontiguousarray(m), x)
        if axis == x.ndim - 1 or axis == -1:
            x = x @ m.T
        elif on_device:
            x = np.moveaxis(np.moveaxis(x, axis, -1) @ m.T, -1, axis)
        else:
            x = np.moveaxis(np.tensordot(m, x, axes=(1, axis)), 0, axis)
    return contiguous(x)


def _transposed(matrices):
    return tuple((axis, matrix.T) for axis, matrix in reversed(matrices))


class AxisLinear(Op):
    """y = x with a constant matrix applied along each of some axes (pooling, padding, resizing).

    Linear in x; its gradient applies the transposed matrices."""

    op_name = "axis_linear"

    @staticmethod
    def forward(ctx, x, matrices):
        ctx.matrices = matrices
        return axis_linear(x, matrices)

    @staticmethod
    def backward(ctx, grad):
        return _apply_or_compute(ctx, AxisLinear, axis_linear, grad, _transposed(ctx.matrices)), None


# ---------------------------------------------------------------------- the matrices
def avg_pool_matrix(size, kernel, stride, padding, ceil_mode, count_include_pad, sums=False):
    """(out, size): row i averages window i, with PyTorch's divisor (the padded window clipped
    to size + padding, or only the elements inside the input); ``sums``: plain window sums."""
    out = pool_output_size(size, kernel, stride, padding, 1, ceil_mode)
    m = np.zeros((out, size))
    for i in range(out):
        start = i * stride - padding
        end = min(start + kernel, size + padding)
        lo, hi = max(start, 0), min(end, size)
        count = end - start if count_include_pad else hi - lo
        m[i, lo:hi] = 1.0 if sums else 1.0 / count
    return m


def adaptive_avg_matrix(size, out):
    starts, ends = adaptive_bounds(size, out)
    m = np.zeros((out, size))
    for i, (lo, hi) in enumerate(zip(starts, ends)):
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def pad_matrix(size, before, after, mode):
    """(before + size + after, size): the padded axis as a selection of input elements.

    Negative pads crop. 'constant' leaves zero rows (the caller adds the fill value)."""
    out = before + size + after
    positions = np.arange(out) - before
    if mode == "constant":
        source = np.where((positions >= 0) & (positions < size), positions, -1)
    elif mode == "reflect":
        period = 2 * (size - 1)
        p = np.abs(positions) % period if period else np.zeros_like(positions)
        source = np.where(p < size, p, period - p)
    elif mode == "replicate":
        source = np.clip(positions, 0, size - 1)
    else:   # circular
        source = positions % size
    m = np.zeros((out, size))
    kept = source >= 0
    m[np.arange(out)[kept], source[kept]] = 1.0
    return m


def _source_scale(in_size, out_size, scale_factor, align_corners):
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale_factor if scale_factor is not None else in_size / out_size


def nearest_matrix(in_size, out_size, scale_factor=None, exact=False):
    """Output i reads input floor(i * scale) ('nearest') or floor((i + 0.5) * scale) ('nearest-exact')."""
    scale = _source_scale(in_size, out_size, scale_factor, False)
    i = np.arange(out_size)
    source = np.floor((i + 0.5) * scale if exact else i * scale).astype(np.int64)
    source = np.minimum(source, in_size - 1)
    m = np.zeros((out_size, in_size))
    m[i, source] = 1.0
    return m


def linear_matrix(in_size, out_size, scale_factor=None, align_corners=False):
    """Linear interpolation weights: output i sits at i * scale (align_corners) or
    (i + 0.5) * scale - 0.5 (clamped at 0) in input coordinates."""
    scale = _source_scale(in_size, out_size, scale_factor, align_corners)
    i = np.arange(out_size)
    if align_corners:
        position = i * scale
    else:
        position = np.maximum((i + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(position).astype(np.int64), in_size - 1)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = position - lo
    m = np.zeros((out_size, in_size))
    np.add.at(m, (i, lo), 1.0 - frac)
    np.add.at(m, (i, hi), frac)
    return m


def output_length(size, scale):
    return int(math.floor(size * scale))
