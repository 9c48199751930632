"""Convolution as im2col on strided views plus one matrix product, and its two adjoints.

A convolution is linear in its input and in its weight, so three ops close under
differentiation (each one's derivative is one of the three again, which is why
second derivatives come for free):

- ``Conv``:            y  = conv(x, w) + b                      (forward)
- ``ConvInputGrad``:   gx = conv_input_grad(g, w)               (d<g, y>/dx; also conv_transpose)
- ``ConvWeightGrad``:  gw = conv_weight_grad(x, g)              (d<g, y>/dw)

On arrays: im2col is ``sliding_window_view`` of the zero-padded input, sliced for
stride and dilation, copied once into a (N*OH*OW, C*KH*KW) matrix; the forward pass
and the weight gradient are one BLAS product each (one per group), and the input
gradient is col2im, one strided add per kernel tap. 1-d convolutions are 2-d ones
with a height of 1. ``Unfold`` and ``Fold`` (im2col and col2im with PyTorch's
(N, C*K, L) layout) are each other's adjoints.

Argument checks live in ``autodiff.nn.functional``; these ops assume valid geometry.
Device arrays are computed on the host and moved back (no CUDA kernels yet).
"""
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd.function import Op
from ..cuda.devices import DeviceArray, like as _like


class Geometry(NamedTuple):
    """A 2-d convolution's shape parameters (a 1-d one has kernel (1, k), stride (1, s) ...)."""

    kernel: tuple       # (kh, kw)
    stride: tuple       # (sh, sw)
    padding: tuple      # (top, bottom, left, right): 'same' may pad one more on one side
    dilation: tuple     # (dh, dw)
    groups: int = 1

    def output_size(self, height, width):
        (kh, kw), (sh, sw), (pt, pb, pl, pr), (dh, dw) = self.kernel, self.stride, self.padding, self.dilation
        return ((height + pt + pb - dh * (kh - 1) - 1) // sh + 1,
                (width + pl + pr - dw * (kw - 1) - 1) // sw + 1)


# ---------------------------------------------------------------------- arrays in and out
def _as_4d(x):
    """(N, C, L) -> (N, C, 1, L); 4-d arrays as they are."""
    return x.reshape(x.shape[:2] + (1,) + x.shape[2:]) if x.ndim == 3 else x


def _host(x):
    return x.get() if isinstance(x, DeviceArray) else x


def _on_device_of(result, proto):
    return _like(result, proto) if isinstance(proto, DeviceArray) else result


# ---------------------------------------------------------------------- im2col / col2im
def pad_zeros(x, padding):
    """``x`` (N, C, H, W) with (top, bottom, left, right) zeros around each plane."""
    pt, pb, pl, pr = padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=x.dtype)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def windows(x, geometry, out_size):
    """View (N, C, OH, OW, KH, KW) of every window of the padded ``x`` (no copy)."""
    (kh, kw), (sh, sw), _, (dh, dw) = geometry.kernel, geometry.stride, geometry.padding, geometry.dilation
    oh, ow = out_size
    padded = pad_zeros(x, geometry.padding)
    view = sliding_window_view(padded, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    return view[:, :, :(oh - 1) * sh + 1:sh, :(ow - 1) * sw + 1:sw, ::dh, ::dw]


def im2col(x, geometry, out_size):
    """(N*OH*OW, C*KH*KW): one row per output position, the window's values in (c, i, j) order."""
    n, c = x.shape[:2]
    oh, ow = out_size
    kh, kw = geometry.kernel
    cols = windows(x, geometry, out_size).transpose(0, 2, 3, 1, 4, 5)
    return cols.reshape(n * oh * ow, c * kh * kw)


def col2im(cols, geometry, x_shape, out_size):
    """The adjoint of im2col: each row's values added back where the window read them."""
    n, c, h, w = x_shape
    oh, ow = out_size
    (kh, kw), (sh, sw), (pt, pb, pl, pr), (dh, dw) = (geometry.kernel, geometry.stride,
                                                      geometry.padding, geometry.dilation)
    blocks = cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)   # (N, C, KH, KW, OH, OW)
    out = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
        for j in range(kw):
            out[:, :, rows, j * dw:j * dw + (ow - 1) * sw + 1:sw] += blocks[:, :, i, j]
    return out[:, :, pt:pt + h, pl:pl + w]


# ---------------------------------------------------------------------- the three products
def conv_forward(x, weight, bias, geometry):
    """conv(x, w) + b on 4-d arrays: (N, C, H, W) * (O, C/G, KH, KW) -> (N, O, OH, OW)."""
    n, _, h, w = x.shape
    out_channels = weight.shape[0]
    oh, ow = geometry.output_size(h, w)
    cols = im2col(x, geometry, (oh, ow))
    groups = geometry.groups
    if groups == 1:
        out = cols @ weight.reshape(out_channels, -1).T
    else:
        grouped = cols.reshape(cols.shape[0], groups, -1).transpose(1, 0, 2)      # (G, NL, Cg*K)
        out = np.matmul(grouped, weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1))
        out = out.transpose(1, 0, 2).reshape(cols.shape[0], out_channels)
    if bias is not None:
        out += bias
    return np.ascontiguousarray(out.reshape(n, oh, ow, out_channels).transpose(0, 3, 1, 2))


def _rows_of(grad):
    """(N, O, OH, OW) -> (N*OH*OW, O)."""
    return grad.transpose(0, 2, 3, 1).reshape(-1, grad.shape[1])


def conv_weight_grad(x, grad, geometry, weight_shape):
    """d<grad, conv(x, w)>/dw = grad^T @ im2col(x), per group."""
    out_channels = weight_shape[0]
    cols = im2col(x, geometry, grad.shape[2:])
    rows = _rows_of(grad)
    groups = geometry.groups
    if groups == 1:
        return (rows.T @ cols).reshape(weight_shape)
    grouped_rows = rows.reshape(-1, groups, out_channels // groups).transpose(1, 2, 0)   # (G, Og, NL)
    grouped_cols = cols.reshape(cols.shape[0], groups, -1).transpose(1, 0, 2)           # (G, NL, Cg*K)
    return np.matmul(grouped_rows, grouped_cols).reshape(weight_shape)


def conv_input_grad(grad, weight, geometry, x_shape):
    """d<grad, conv(x, w)>/dx = col2im(grad @ w), per group: also the transposed convolution."""
    out_channels = weight.shape[0]
    rows = _rows_of(grad)
    groups = geometry.groups
    if groups == 1:
        cols = rows @ weight.reshape(out_channels, -1)
    else:
        grouped = rows.reshape(-1, groups, out_channels // groups).transpose(1, 0, 2)   # (G, NL, Og)
        cols = np.matmul(grouped, weight.reshape(groups, out_channels // groups, -1))
        cols = cols.transpose(1, 0, 2).reshape(rows.shape[0], -1)
    return col2im(cols, geometry, x_shape, grad.shape[2:])


# ---------------------------------------------------------------------- on 1-d or 2-d arrays, any device
def conv_nd(x, weight, bias, geometry):
    """conv(x, w) + b for (N, C, L) or (N, C, H, W) arrays."""
    out = conv_forward(_as_4d(_host(x)), _as_4d(_host(weight)), _host(bias), geometry)
    return _on_device_of(out.reshape(out.shape[:2] + out.shape[3:]) if x.ndim == 3 else out, x)


def conv_input_grad_nd(grad, weight, geometry, x_shape):
    x_shape = tuple(x_shape)
    four_d = x_shape[:2] + (1,) + x_shape[2:] if len(x_shape) == 3 else x_shape
    out = conv_input_grad(_as_4d(_host(grad)), _as_4d(_host(weight)), geometry, four_d)
    return _on_device_of(np.ascontiguousarray(out).reshape(x_shape), grad)


def conv_weight_grad_nd(x, grad, geometry, weight_shape):
    weight_shape = tuple(weight_shape)
    four_d = weight_shape[:2] + (1,) + weight_shape[2:] if len(weight_shape) == 3 else weight_shape
    out = conv_weight_grad(_as_4d(_host(x)), _as_4d(_host(grad)), geometry, four_d)
    return _on_device_of(out.reshape(weight_shape), x)


# ---------------------------------------------------------------------- ops
def _apply_or_compute(ctx, op, array_fn, *args):
    """In an ordinary backward run the array function; under create_graph record ``op``."""
    if ctx._on_arrays:
        return array_fn(*args)
    return op.apply(*args)


class Conv(Op):
    """y = conv(x, w) + b (cross-correlation, as PyTorch), 1-d or 2-d."""

    op_name = "conv2d"

    @staticmethod
    def forward(ctx, x, weight, bias, geometry):
        ctx.save_for_backward(x, weight)
        ctx.geometry = geometry
        return conv_nd(x, weight, bias, geometry)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geometry = ctx.geometry
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = _apply_or_compute(ctx, ConvInputGrad, conv_input_grad_nd, grad, weight, geometry,
                                       tuple(x.shape))
        if need_w:
            grad_w = _apply_or_compute(ctx, ConvWeightGrad, conv_weight_grad_nd, x, grad, geometry,
                                       tuple(weight.shape))
        if need_b:
            grad_b = ctx.xp.sum(grad, axis=(0,) + tuple(range(2, grad.ndim)))
        return grad_x, grad_w, grad_b, None


class ConvInputGrad(Op):
    """gx = conv_input_grad(g, w) (the transposed convolution). Linear in g and in w:
    d/dg <h, gx> = conv(h, w),  d/dw <h, gx> = conv_weight_grad(h, g)."""

    op_name = "conv_transpose2d"

    @staticmethod
    def forward(ctx, grad, weight, geometry, x_shape):
        ctx.save_for_backward(grad, weight)
        ctx.geometry = geometry
        return conv_input_grad_nd(grad, weight, geometry, x_shape)

    @staticmethod
    def backward(ctx, upstream):
        grad, weight = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad[:2]
        d_grad = d_weight = None
        if need_g:
            d_grad = _apply_or_compute(ctx, Conv, conv_nd, upstream, weight, None, ctx.geometry)
        if need_w:
            d_weight = _apply_or_compute(ctx, ConvWeightGrad, conv_weight_grad_nd, upstream, grad,
                                         ctx.geometry, tuple(weight.shape))
        return d_grad, d_weight, None, None


class ConvWeightGrad(Op):
    """gw = conv_weight_grad(x, g). Linear in x and in g:
    d/dx <h, gw> = conv_input_grad(g, h),  d/dg <h, gw> = conv(x, h)."""

    op_name = "conv2d_weight_grad"

    @staticmethod
    def forward(ctx, x, grad, geometry, weight_shape):
        ctx.save_for_backward(x, grad)
        ctx.geometry = geometry
        return conv_weight_grad_nd(x, grad, geometry, weight_shape)

    @staticmethod
    def backward(ctx, upstream):
        x, grad = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        d_x = d_grad = None
        if need_x:
            d_x = _apply_or_compute(ctx, ConvInputGrad, conv_input_grad_nd, grad, upstream, ctx.geometry,
                                    tuple(x.shape))
        if need_g:
            d_grad = _apply_or_compute(ctx, Conv, conv_nd, x, upstream, None, ctx.geometry)
        return d_x, d_grad, None, None


# ---------------------------------------------------------------------- unfold / fold
def unfold_array(x, geometry):
    """(N, C, H, W) -> (N, C*KH*KW, L): PyTorch's unfold layout of im2col."""
    proto, x = x, _host(x)
    n = x.shape[0]
    out_size = geometry.output_size(*x.shape[2:])
    cols = im2col(x, geometry, out_size)
    return _on_device_of(np.ascontiguousarray(cols.reshape(n, out_size[0] * out_size[1], -1).transpose(0, 2, 1)),
                         proto)


def fold_array(cols, geometry, x_shape):
    """(N, C*KH*KW, L) -> (N, C, H, W): the adjoint of unfold (overlaps add up)."""
    proto, cols = cols, _host(cols)
    n = cols.shape[0]
    out_size = geometry.output_size(*x_shape[2:])
    rows = cols.transpose(0, 2, 1).reshape(n * out_size[0] * out_size[1], -1)
    return _on_device_of(np.ascontiguousarray(col2im(rows, geometry, x_shape, out_size)), proto)


class Unfold(Op):
    """im2col: every sliding window of x as a column."""

    op_name = "unfold"

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry, ctx.x_shape = geometry, x.shape
        return unfold_array(x, geometry)

    @staticmethod
    def backward(ctx, grad):
        return _apply_or_compute(ctx, Fold, fold_array, grad, ctx.geometry, tuple(ctx.x_shape)), None


class Fold(Op):
    """col2im: columns summed back into an image (the adjoint of unfold)."""

    op_name = "fold"

    @staticmethod
    def forward(ctx, cols, geometry, x_shape):
        ctx.geometry = geometry
        return fold_array(cols, geometry, tuple(x_shape))

    @staticmethod
    def backward(ctx, grad):
        return _apply_or_compute(ctx, Unfold, unfold_array, grad, ctx.geometry), None, None
