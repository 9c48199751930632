"""Convolution and pooling helpers where numpy's strided passes are slow: im2col, col2im
and the indices of max pooling, each one parallel loop over the (sample, channel) planes.

Both read and write whole planes of small images, where numpy pays per strided slice
(col2im: one add per kernel tap; max pooling: a window copy, an argmax and index arithmetic).
Figures: benchmarks/bench_kernels_cnn.py. Arrays are float32 or float64, C-contiguous.
"""

import numpy as np
from numba import prange

from ._jit import float_array, kernel


@kernel
def _im2col(x, cols, sh, sw, ph, pw, dh, dw):
    n, c, kh, kw, oh, ow = cols.shape
    height, width = x.shape[2], x.shape[3]
    for plane in prange(n * c):
        b = plane // c
        ch = plane - b * c
        for i in range(kh):
            for j in range(kw):
                for y in range(oh):
                    r = y * sh - ph + i * dh
                    inside = r >= 0 and r < height
                    for xo in range(ow):
                        q = xo * sw - pw + j * dw
                        if inside and q >= 0 and q < width:
                            cols[b, ch, i, j, y, xo] = x[b, ch, r, q]
                        else:
                            cols[b, ch, i, j, y, xo] = 0


def im2col(x, kernel_size, stride, padding, dilation, out_size):
    """(N, C, H, W) -> (N, C, KH, KW, OH, OW): the value each kernel tap meets at each output
    position, zero in the padding; ``padding`` is (top, left)."""
    x = np.ascontiguousarray(float_array(x, "im2col", "x"))
    cols = np.empty(x.shape[:2] + tuple(kernel_size) + tuple(out_size), dtype=x.dtype)
    _im2col(x, cols, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1])
    return cols


@kernel
def _col2im(cols, out, sh, sw, ph, pw, dh, dw):
    n, c, kh, kw, oh, ow = cols.shape
    height, width = out.shape[2], out.shape[3]
    for plane in prange(n * c):
        b = plane // c
        ch = plane - b * c
        for i in range(kh):
            for j in range(kw):
                for y in range(oh):
                    r = y * sh - ph + i * dh
                    if r < 0 or r >= height:
                        continue
                    for x in range(ow):
                        q = x * sw - pw + j * dw
                        if q >= 0 and q < width:
                            out[b, ch, r, q] += cols[b, ch, i, j, y, x]


def col2im(cols, x_shape, stride, padding, dilation):
    """(N, C, KH, KW, OH, OW) columns summed back into zeros of ``x_shape`` (N, C, H, W):
    the adjoint of im2col; ``padding`` is (top, left) (values in the padding are dropped)."""
    cols = np.ascontiguousarray(float_array(cols, "col2im", "cols"))
    out = np.zeros(tuple(x_shape), dtype=cols.dtype)
    _col2im(cols, out, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1])
    return out


@kernel
def _max_pool2d_indices(x, out, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, height, width = x.shape
    oh, ow = out.shape[2], out.shape[3]
    for plane in prange(n * c):
        b = plane // c
        ch = plane - b * c
        for y in range(oh):
            for xo in range(ow):
                best = -np.inf
                where = -1
                for i in range(kh):
                    r = y * sh - ph + i * dh
                    if r < 0 or r >= height:
                        continue
                    for j in range(kw):
                        q = xo * sw - pw + j * dw
                        if q < 0 or q >= width:
                            continue
                        v = x[b, ch, r, q]
                        if where < 0 or v > best or v != v:     # PyTorch's rule: first maximum, a NaN wins
                            best = v
                            where = r * width + q
                out[b, ch, y, xo] = where


def max_pool2d_indices(x, kernel_size, stride, padding, dilation, out_size):
    """For (N, C, H, W) ``x``: the flat index (h * W + w) of each window's maximum (int64)."""
    x = np.ascontiguousarray(float_array(x, "max_pool2d_indices", "x"))
    out = np.empty((x.shape[0], x.shape[1]) + tuple(out_size), dtype=np.int64)
    _max_pool2d_indices(x, out, kernel_size[0], kernel_size[1], stride[0], stride[1], padding[0], padding[1],
                        dilation[0], dilation[1])
    return out
