"""CUDA kernels for convolution and pooling: im2col, col2im and the indices of max pooling.

One thread per output element in grid-stride loops over flat, C-contiguous device arrays.
col2im gathers (each input pixel sums the columns that read it) rather than scatters, so it
needs no atomics. The same index arithmetic as the CPU kernels in kernels/cpu/_conv.py.
"""

import numpy as np
from numba import cuda

from ._common import THREADS, blocks_for, check_out, device_float, launch


@cuda.jit
def _im2col(x, cols, c, height, width, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, zero):
    for t in range(cuda.grid(1), cols.size, cuda.gridsize(1)):
        xo = t % ow
        rest = t // ow
        y = rest % oh
        rest //= oh
        j = rest % kw
        rest //= kw
        i = rest % kh
        plane = rest // kh                      # b * c + ch
        r = y * sh - ph + i * dh
        q = xo * sw - pw + j * dw
        if r >= 0 and r < height and q >= 0 and q < width:
            cols[t] = x[(plane * height + r) * width + q]
        else:
            cols[t] = zero


def im2col(x, kernel_size, stride, padding, dilation, out_size, out=None):
    """(N, C, H, W) device array -> (N, C, KH, KW, OH, OW): each tap's value at each output
    position, zero in the padding; ``padding`` is (top, left). Written into ``out`` if given."""
    device_float(x, "im2col", "x")
    n, c, height, width = x.shape
    kh, kw = kernel_size
    oh, ow = out_size
    cols = check_out("im2col", out, (n, c, kh, kw, oh, ow), x.dtype)
    if cols.size:
        launch(_im2col, blocks_for(cols.size), THREADS, x.reshape(x.size), cols.reshape(cols.size),
               c, height, width, kh, kw, oh, ow, stride[0], stride[1],
               padding[0], padding[1], dilation[0], dilation[1], x.dtype.type(0))
    return cols


@cuda.jit
def _col2im(cols, out, height, width, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, zero):
    for t in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        q = t % width
        rest = t // width
        r = rest % height
        plane = rest // height
        total = zero
        for i in range(kh):
            ry = r + ph - i * dh
            if ry < 0 or ry % sh != 0 or ry // sh >= oh:
                continue
            y = ry // sh
            for j in range(kw):
                qx = q + pw - j * dw
                if qx < 0 or qx % sw != 0 or qx // sw >= ow:
                    continue
                total += cols[(((plane * kh + i) * kw + j) * oh + y) * ow + qx // sw]
        out[t] = total


def col2im(cols, x_shape, stride, padding, dilation, out=None):
    """(N, C, KH, KW, OH, OW) device array -> (N, C, H, W): the adjoint of im2col (written
    into ``out`` if given)."""
    device_float(cols, "col2im", "cols")
    n, c, kh, kw, oh, ow = cols.shape
    out = check_out("col2im", out, tuple(x_shape), cols.dtype)
    if out.size:
        launch(_col2im, blocks_for(out.size), THREADS, cols.reshape(cols.size), out.reshape(out.size),
               x_shape[2], x_shape[3], kh, kw, oh, ow, stride[0], stride[1],
               padding[0], padding[1], dilation[0], dilation[1], cols.dtype.type(0))
    return out


@cuda.jit
def _max_pool2d_indices(x, out, height, width, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw):
    for t in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        xo = t % ow
        rest = t // ow
        y = rest % oh
        plane = rest // oh
        where = -1
        best = x[0]
        for i in range(kh):
            r = y * sh - ph + i * dh
            if r < 0 or r >= height:
                continue
            for j in range(kw):
                q = xo * sw - pw + j * dw
                if q < 0 or q >= width:
                    continue
                v = x[(plane * height + r) * width + q]
                if where < 0 or v > best or v != v:     # PyTorch's rule: first maximum, a NaN wins
                    best = v
                    where = r * width + q
        out[t] = where


def max_pool2d_indices(x, kernel_size, stride, padding, dilation, out_size, out=None):
    """For an (N, C, H, W) device array: the flat index (h * W + w) of each window's maximum
    (int64, written into ``out`` if given)."""
    device_float(x, "max_pool2d_indices", "x")
    n, c, height, width = x.shape
    oh, ow = out_size
    out = check_out("max_pool2d_indices", out, (n, c, oh, ow), np.dtype(np.int64))
    if out.size:
        launch(_max_pool2d_indices, blocks_for(out.size), THREADS, x.reshape(x.size),
               out.reshape(out.size), height, width, oh, ow, kernel_size[0], kernel_size[1],
               stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1])
    return out
