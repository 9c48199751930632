"""The function form of the convolutional layers: convolution, pooling, padding, resizing,
normalisation over images and channel dropout (re-exported by ``autodiff.nn.functional``).

Each function checks its arguments, naming itself and the offending shapes and values
as PyTorch does, then applies the ops of ``autodiff/ops/conv.py`` and ``ops/pooling.py``
(or composes tensor ops, for the normalisations and pixel_shuffle).
"""
import numbers

import numpy as np

from .. import creation, dtypes
from ..cuda import devices
from ..ops import conv as C
from ..ops import elementwise as E
from ..ops import nn as N
from ..ops import pooling as P
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "pad", "unfold", "fold",
           "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d",
           "max_unpool2d", "interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle", "layer_norm",
           "group_norm", "instance_norm", "dropout1d", "dropout2d"]


# ---------------------------------------------------------------------- argument helpers
def _tuple(name, what, value, n, minimum=None):
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints (checked against ``minimum``)."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(
            isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) for v in value):
        out = tuple(int(v) for v in value)
    elif isinstance(value, (tuple, list)) and len(value) == 1 and n > 1:
        return _tuple(name, what, value[0], n, minimum)
    else:
        raise TypeError(f"{name}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    if minimum is not None and any(v < minimum for v in out):
        rule = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name}: {what} must be {rule}, got {value!r}")
    return out


def _check_tensor(name, input, what="input"):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor, got {type(input).__name__}")


def _check_float(name, input):
    if input._data.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point input, got {dtypes.name(input._data.dtype)} "
                        "(use input.float())")


def _batched(name, input, spatial):
    """(input with a batch dimension, whether one was added): an unbatched (C, *spatial) input
    gets a batch of one, as in PyTorch; any other rank is an error."""
    _check_tensor(name, input)
    rank = spatial + 2
    if input.ndim == rank:
        return input, False
    if input.ndim == rank - 1:
        return input.unsqueeze(0), True
    size = list(input.shape)
    raise ValueError(f"{name}: expected {rank - 1}D (unbatched) or {rank}D (batched) input, but got "
                     f"input of size: {size}")


def _same_device(name, *tensors):
    kinds = {isinstance(t._data, devices.DeviceArray) for t in tensors if isinstance(t, Tensor)}
    if len(kinds) > 1:
        where = ", ".join(str(t.device) for t in tensors if isinstance(t, Tensor))
        raise RuntimeError(f"{name}: expected all tensors on the same device, got {where}")


def _shape_text(shape):
    return " x ".join(str(s) for s in shape)


# ---------------------------------------------------------------------- convolution
def _conv_geometry(name, spatial, input, weight, bias, stride, padding, dilation, groups):
    """Check a convolution's arguments; returns its 2-d Geometry (a 1-d one as height 1)."""
    _check_tensor(name, weight, "weight")
    _check_float(name, input)
    if weight.ndim != spatial + 2:
        raise ValueError(f"{name}: expected a {spatial + 2}D weight (out_channels, in_channels/groups, "
                         f"*kernel_size), got weight of size {list(weight.shape)}")
    if weight._data.dtype != input._data.dtype:
        raise TypeError(f"{name}: input type ({dtypes.name(input._data.dtype)}) and weight type "
                        f"({dtypes.name(weight._data.dtype)}) should be the same")
    if not isinstance(groups, (numbers.Integral, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
    out_channels = weight.shape[0]
    if out_channels % groups:
        raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
    if input.shape[1] != weight.shape[1] * groups:
        raise ValueError(f"{name}: given groups={groups}, weight of size {list(weight.shape)}, expected "
                         f"input{list(input.shape)} to have {weight.shape[1] * groups} channels, but got "
                         f"{input.shape[1]} channels instead")
    if bias is not None:
        _check_tensor(name, bias, "bias")
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{name}: expected bias of shape ({out_channels},) (one per output channel), "
                             f"got {list(bias.shape)}")
        if bias._data.dtype != input._data.dtype:
            raise TypeError(f"{name}: input type ({dtypes.name(input._data.dtype)}) and bias type "
                            f"({dtypes.name(bias._data.dtype)}) should be the same")
    _same_device(name, input, weight, bias)
    kernel = tuple(weight.shape[2:])
    stride = _tuple(name, "stride", stride, spatial, 1)
    dilation = _tuple(name, "dilation", dilation, spatial, 1)
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * spatial
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
        else:
            raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                             "{'valid', 'same'}")
    else:
        pads = [(p, p) for p in _tuple(name, "padding", padding, spatial, 0)]
    size = tuple(input.shape[2:])
    padded = tuple(s + a + b for s, (a, b) in zip(size, pads))
    effective = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(e > p for e, p in zip(effective, padded)):
        raise ValueError(f"{name}: calculated padded input size per channel: ({_shape_text(padded)}). "
                         f"Kernel size: ({_shape_text(effective)}). Kernel size can't be greater than "
                         "actual input size")
    if spatial == 1:
        return C.Geometry((1,) + kernel, (1,) + stride, (0, 0) + pads[0], (1,) + dilation, int(groups))
    return C.Geometry(kernel, stride, pads[0] + pads[1], dilation, int(groups))


def _convolution(name, spatial, input, weight, bias, stride, padding, dilation, groups):
    input, unbatched = _batched(name, input, spatial)
    geometry = _conv_geometry(name, spatial, input, weight, bias, stride, padding, dilation, groups)
    out = C.Conv.apply(input, weight, bias, geometry)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation of (N, C_in, L) with weight (C_out, C_in/groups, k), plus bias."""
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation of (N, C_in, H, W) with weight (C_out, C_in/groups, kH, kW), plus bias.

    padding: an int, a pair, 'valid' (none) or 'same' (output as large as the input; stride 1).
    """
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(name, spatial, input, weight, bias, stride, padding, output_padding, groups, dilation):
    input, unbatched = _batched(name, input, spatial)
    _check_tensor(name, weight, "weight")
    _check_float(name, input)
    if weight.ndim != spatial + 2:
        raise ValueError(f"{name}: expected a {spatial + 2}D weight (in_channels, out_channels/groups, "
                         f"*kernel_size), got weight of size {list(weight.shape)}")
    if weight._data.dtype != input._data.dtype:
        raise TypeError(f"{name}: input type ({dtypes.name(input._data.dtype)}) and weight type "
                        f"({dtypes.name(weight._data.dtype)}) should be the same")
    if not isinstance(groups, (numbers.Integral, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
    if input.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(f"{name}: given transposed=1, weight of size {list(weight.shape)}, expected "
                         f"input{list(input.shape)} to have {weight.shape[0]} channels, but got "
                         f"{input.shape[1]} channels instead")
    _same_device(name, input, weight, bias)
    stride = _tuple(name, "stride", stride, spatial, 1)
    padding = _tuple(name, "padding", padding, spatial, 0)
    output_padding = _tuple(name, "output_padding", output_padding, spatial, 0)
    dilation = _tuple(name, "dilation", dilation, spatial, 1)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise ValueError(f"{name}: output padding must be smaller than either stride or dilation, "
                             f"got output_padding={output_padding}, stride={stride}, dilation={dilation}")
    kernel = tuple(weight.shape[2:])
    out_size = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                     zip(input.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(n <= 0 for n in out_size):
        raise ValueError(f"{name}: the output size {out_size} is not positive for input of size "
                         f"{list(input.shape)} (padding {padding} is too large)")
    out_channels = weight.shape[1] * groups
    out_shape = (input.shape[0], out_channels) + out_size
    if spatial == 1:
        geometry = C.Geometry((1,) + kernel, (1,) + stride, (0, 0, padding[0], padding[0]), (1,) + dilation,
                              int(groups))
    else:
        geometry = C.Geometry(kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation,
                              int(groups))
    out = C.ConvInputGrad.apply(input, weight, geometry, out_shape)
    if bias is not None:
        _check_tensor(name, bias, "bias")
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{name}: expected bias of shape ({out_channels},), got {list(bias.shape)}")
        out = out + bias.reshape((1, out_channels) + (1,) * spatial)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 1-d convolution (the gradient of conv1d with respect to its input)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding,
                           groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 2-d convolution: weight (C_in, C_out/groups, kH, kW); output size
    (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding,
                           groups, dilation)


# ---------------------------------------------------------------------- unfold / fold
def _unfold_geometry(name, kernel_size, dilation, padding, stride):
    kernel = _tuple(name, "kernel_size", kernel_size, 2, 1)
    dilation = _tuple(name, "dilation", dilation, 2, 1)
    padding = _tuple(name, "padding", padding, 2, 0)
    stride = _tuple(name, "stride", stride, 2, 1)
    return C.Geometry(kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C * kH * kW, L), one column per sliding window."""
    input, unbatched = _batched("unfold", input, 2)
    geometry = _unfold_geometry("unfold", kernel_size, dilation, padding, stride)
    oh, ow = geometry.output_size(*input.shape[2:])
    if oh < 1 or ow < 1:
        raise ValueError(f"unfold: the {geometry.kernel} window (dilation {geometry.dilation}) does not fit "
                         f"in the padded input of size {list(input.shape)} (padding {padding})")
    out = C.Unfold.apply(input, geometry)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: (N, C * kH * kW, L) -> (N, C, *output_size), overlapping values summed."""
    _check_tensor("fold", input)
    unbatched = input.ndim == 2
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected 2D (unbatched) or 3D (batched) input, but got input of size: "
                         f"{list(input.shape)}")
    if unbatched:
        input = input.unsqueeze(0)
    geometry = _unfold_geometry("fold", kernel_size, dilation, padding, stride)
    size = _tuple("fold", "output_size", output_size, 2, 1)
    kh, kw = geometry.kernel
    if input.shape[1] % (kh * kw):
        raise ValueError(f"fold: expected size of input's dimension 1 to be divisible by the product of "
                         f"kernel_size ({kh * kw}), but got input.size(1)={input.shape[1]}")
    oh, ow = geometry.output_size(*size)
    if oh * ow != input.shape[2]:
        raise ValueError(f"fold: given output_size={size}, kernel_size={geometry.kernel}, "
                         f"dilation={geometry.dilation}, padding={padding}, stride={geometry.stride}, "
                         f"expected size of input's dimension 2 to match the calculated number of "
                         f"sliding blocks {oh} * {ow} = {oh * ow}, but got input.size(2)={input.shape[2]}")
    x_shape = (input.shape[0], input.shape[1] // (kh * kw)) + size
    out = C.Fold.apply(input, geometry, x_shape)
    return out.squeeze(0) if unbatched else out


# ---------------------------------------------------------------------- padding
_PAD_MODES = {"constant", "reflect", "replicate", "circular"}


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dimensions: pad = (left, right, top, bottom, ...), last dimension
    first. Modes: 'constant' (``value``, default 0; negative pads crop), 'reflect', 'replicate',
    'circular'."""
    _check_tensor("pad", input)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unrecognised padding mode {mode!r} (use one of {sorted(_PAD_MODES)})")
    pads = tuple(pad)
    if len(pads) % 2 or not all(isinstance(p, (numbers.Integral, np.integer)) for p in pads):
        raise ValueError(f"pad: padding length must be divisible by 2 and made of ints, got {pad!r}")
    count = len(pads) // 2
    if count > input.ndim:
        raise ValueError(f"pad: padding length {len(pads)} is too large for a {input.ndim}-D input "
                         f"(at most {2 * input.ndim})")
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
        if count > 3 or input.ndim not in (count + 1, count + 2):
            raise ValueError(f"pad: {mode} padding of {count} dimension(s) expects a {count + 1}D or "
                             f"{count + 2}D input, got input of size {list(input.shape)}")
    matrices = []
    for k in range(count):
        axis = input.ndim - 1 - k
        before, after = int(pads[2 * k]), int(pads[2 * k + 1])
        size = input.shape[axis]
        if mode == "reflect" and (before >= size or after >= size):
            raise ValueError(f"pad: padding size should be less than the corresponding input dimension, "
                             f"but got: padding ({before}, {after}) at dimension {axis} of input "
                             f"{list(input.shape)}")
        if mode in ("replicate", "circular") and size == 0:
            raise ValueError(f"pad: {mode} padding needs a non-empty dimension {axis}")
        if mode == "circular" and (before > size or after > size):
            raise ValueError(f"pad: circular padding ({before}, {after}) may not exceed the size {size} "
                             f"of dimension {axis}")
        if mode != "constant" and (before < 0 or after < 0):
            raise ValueError(f"pad: negative padding is only supported in 'constant' mode, got {pad!r}")
        if before + size + after < 0:
            raise ValueError(f"pad: padding {pad!r} gives a negative size for dimension {axis}")
        if before or after:
            matrices.append((axis, P.pad_matrix(size, before, after, mode)))
    if not matrices:
        return input * 1 if input._data.dtype.kind == "f" else Tensor._wrap(input._data.copy())
    out = P.AxisLinear.apply(input, tuple(matrices))
    if mode == "constant" and value:
        mask = np.ones(input.shape, dtype=input._data.dtype)
        filled = 1 - P.axis_linear(mask, tuple(matrices))
        out = out + devices.like(filled * np.asarray(value, dtype=filled.dtype), input._data)
    return out


# ---------------------------------------------------------------------- max pooling
def _pool_args(name, spatial, kernel_size, stride, padding, dilation):
    kernel = _tuple(name, "kernel_size", kernel_size, spatial, 1)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        _tuple(name, "stride", stride, spatial, 1)
    padding = _tuple(name, "padding", padding, spatial, 0)
    dilation = _tuple(name, "dilation", dilation, spatial, 1)
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise ValueError(f"{name}: pad should be at most half of effective kernel size, but got "
                             f"pad={p}, kernel_size={k}")
    return kernel, stride, padding, dilation


def _as_2d_pool(input, spatial):
    """(N, C, L) -> (N, C, 1, L) for the 1-d forms."""
    return input.unsqueeze(2) if spatial == 1 else input


def _max_pool(name, spatial, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    input, unbatched = _batched(name, input, spatial)
    kernel, stride, padding, dilation = _pool_args(name, spatial, kernel_size, stride, padding, dilation)
    sizes = tuple(P.pool_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                  zip(input.shape[2:], kernel, stride, padding, dilation))
    if any(n < 1 for n in sizes):
        raise ValueError(f"{name}: given input size {list(input.shape)}, the kernel {kernel} (dilation "
                         f"{dilation}, padding {padding}) gives an output of size {sizes}: too small")
    if spatial == 1:
        kernel, stride, padding, dilation = ((1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation)
    x = _as_2d_pool(input, spatial)
    indices = P.max_pool_indices(x._data, kernel, stride, padding, dilation, ceil_mode)
    unique = all(s >= (k - 1) * d + 1 for k, s, d in zip(kernel, stride, dilation))
    out = P.PlaneGather.apply(x, indices, unique)
    if spatial == 1:
        out, indices = out.squeeze(2), indices[:, :, 0]
    if unbatched:
        out, indices = out.squeeze(0), indices[0]
    if return_indices:
        return out, Tensor._wrap(indices)
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each window of (N, C, L)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each window of (N, C, H, W); ``return_indices`` also gives each maximum's
    flat position in its input plane (for max_unpool2d). Padding counts as -inf."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_unpool(name, spatial, input, indices, kernel_size, stride, padding, output_size):
    input, unbatched = _batched(name, input, spatial)
    _check_tensor(name, indices, "indices")
    idx = indices._data if not unbatched else indices._data[None]
    idx = np.asarray(idx.get() if isinstance(idx, devices.DeviceArray) else idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be an integer tensor, got {dtypes.name(idx.dtype)}")
    if idx.shape != tuple(input.shape):
        raise ValueError(f"{name}: expected indices of the input's shape {list(input.shape)}, got "
                         f"{list(idx.shape)}")
    kernel = _tuple(name, "kernel_size", kernel_size, spatial, 1)
    stride = kernel if stride is None else _tuple(name, "stride", stride, spatial, 1)
    padding = _tuple(name, "padding", padding, spatial, 0)
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(input.shape[2:], stride, padding, kernel))
    if output_size is None:
        size = default
    else:
        size = tuple(int(n) for n in output_size)[-spatial:]
        if len(size) != spatial:
            raise ValueError(f"{name}: output_size must have {spatial} elements, got {output_size!r}")
    plane = int(np.prod(size))
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        raise ValueError(f"{name}: found an invalid max index {int(idx.max() if idx.max() >= plane else idx.min())}"
                         f" (output volumes are of size {_shape_text(size)})")
    out = P.PlaneScatter.apply(input, idx.astype(np.int64), size, False)
    return out.squeeze(0) if unbatched else out


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place each value at its index in zero planes: the partial inverse of max_pool1d."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place each value at its index in zero planes: the partial inverse of max_pool2d."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------------- average pooling
def _avg_pool(name, spatial, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    input, unbatched = _batched(name, input, spatial)
    _check_float(name, input)
    kernel, stride, padding, _ = _pool_args(name, spatial, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{name}: divisor must be not zero")
    matrices = []
    for k in range(spatial):
        axis = input.ndim - spatial + k
        size = input.shape[axis]
        if P.pool_output_size(size, kernel[k], stride[k], padding[k], 1, ceil_mode) < 1:
            raise ValueError(f"{name}: given input size {list(input.shape)}, the kernel {kernel} (padding "
                             f"{padding}) gives an output that is too small")
        m = P.avg_pool_matrix(size, kernel[k], stride[k], padding[k], ceil_mode, count_include_pad,
                              sums=divisor_override is not None)
        if divisor_override is not None and k == 0:     # window sums, divided once
            m = m / divisor_override
        matrices.append((axis, m))
    out = P.AxisLinear.apply(input, tuple(matrices))
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """The mean of each window of (N, C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each window of (N, C, H, W): padding counts as zeros in the divisor when
    ``count_include_pad``; ``divisor_override`` replaces the divisor."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _output_size(name, spatial, output_size, input):
    sizes = (output_size,) * spatial if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError(f"{name}: output_size must have {spatial} elements, got {output_size!r}")
    out = []
    for s, n in zip(sizes, input.shape[-spatial:]):
        s = n if s is None else s
        if not isinstance(s, (numbers.Integral, np.integer)) or s < 1:
            raise ValueError(f"{name}: output_size must be positive integers (or None), got {output_size!r}")
        out.append(int(s))
    return tuple(out)


def _adaptive_avg_pool(name, spatial, input, output_size):
    input, unbatched = _batched(name, input, spatial)
    _check_float(name, input)
    if any(n == 0 for n in input.shape[2:]):
        raise ValueError(f"{name}: expected input with non-zero spatial sizes, got {list(input.shape)}")
    sizes = _output_size(name, spatial, output_size, input)
    matrices = tuple((input.ndim - spatial + k, P.adaptive_avg_matrix(input.shape[input.ndim - spatial + k], s))
                     for k, s in enumerate(sizes))
    out = P.AxisLinear.apply(input, matrices)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a given length: window i spans [floor(i L / out), ceil((i + 1) L / out))."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a given (height, width) (None keeps that size)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def _adaptive_max_pool(name, spatial, input, output_size, return_indices):
    input, unbatched = _batched(name, input, spatial)
    _check_float(name, input)
    if any(n == 0 for n in input.shape[2:]):
        raise ValueError(f"{name}: expected input with non-zero spatial sizes, got {list(input.shape)}")
    sizes = _output_size(name, spatial, output_size, input)
    x = _as_2d_pool(input, spatial)
    indices = P.adaptive_max_pool_indices(x._data, ((1,) + sizes) if spatial == 1 else sizes)
    out = P.PlaneGather.apply(x, indices, False)
    if spatial == 1:
        out, indices = out.squeeze(2), indices[:, :, 0]
    if unbatched:
        out, indices = out.squeeze(0), indices[0]
    return (out, Tensor._wrap(indices)) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a given length (PyTorch's adaptive windows)."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a given (height, width) (PyTorch's adaptive windows)."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ---------------------------------------------------------------------- resizing
_INTERPOLATION = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions: 'nearest', 'nearest-exact', 'linear' (3D input) or
    'bilinear' (4D), to ``size`` or by ``scale_factor`` (PyTorch's source-index rules)."""
    name = "interpolate"
    _check_tensor(name, input)
    if mode not in _INTERPOLATION:
        raise ValueError(f"{name}: mode {mode!r} is not supported (use one of {sorted(_INTERPOLATION)})")
    if antialias:
        raise ValueError(f"{name}: antialias=True is not supported")
    spatial = input.ndim - 2
    if spatial not in (1, 2):
        raise ValueError(f"{name}: expected a 3D (N, C, L) or 4D (N, C, H, W) input, got input of size "
                         f"{list(input.shape)}")
    needed = _INTERPOLATION[mode]
    if needed is not None and needed != spatial:
        raise ValueError(f"{name}: got {input.ndim}D input, but {mode} mode needs {needed + 2}D input")
    if needed is None and align_corners is not None:
        raise ValueError(f"{name}: align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    _check_float(name, input)
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{name}: only one of size or scale_factor should be defined")
    in_sizes = tuple(input.shape[2:])
    if size is not None:
        sizes = _output_size(name, spatial, size, input)
        scales = (None,) * spatial
    else:
        scales = (scale_factor,) * spatial if not isinstance(scale_factor, (tuple, list)) else tuple(scale_factor)
        if len(scales) != spatial or any(s <= 0 for s in scales):
            raise ValueError(f"{name}: scale_factor must be {spatial} positive numbers, got {scale_factor!r}")
        sizes = tuple(P.output_length(n, s) for n, s in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * spatial
    if any(n < 1 for n in sizes):
        raise ValueError(f"{name}: the output size {sizes} must be positive")
    matrices = []
    for k in range(spatial):
        if mode in ("nearest", "nearest-exact"):
            m = P.nearest_matrix(in_sizes[k], sizes[k], scales[k], exact=mode == "nearest-exact")
        else:
            m = P.linear_matrix(in_sizes[k], sizes[k], scales[k], bool(align_corners))
        matrices.append((2 + k, m))
    return P.AxisLinear.apply(input, tuple(matrices))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """interpolate under its old name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): sub-pixel channels laid out as blocks."""
    _check_tensor("pixel_shuffle", input)
    r = int(upscale_factor)
    if input.ndim < 3:
        raise ValueError(f"pixel_shuffle: expected an input of at least 3 dimensions, got {list(input.shape)}")
    *lead, c, h, w = input.shape
    if r < 1 or c % (r * r):
        raise ValueError(f"pixel_shuffle: expected the channels ({c}) to be divisible by the square of "
                         f"upscale_factor ({r}^2 = {r * r})")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    _check_tensor("pixel_unshuffle", input)
    r = int(downscale_factor)
    if input.ndim < 3:
        raise ValueError(f"pixel_unshuffle: expected an input of at least 3 dimensions, got {list(input.shape)}")
    *lead, c, h, w = input.shape
    if r < 1 or h % r or w % r:
        raise ValueError(f"pixel_unshuffle: expected height ({h}) and width ({w}) to be divisible by "
                         f"downscale_factor ({r})")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


# ---------------------------------------------------------------------- normalisation
def _normalize(x, dims, eps):
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return centered * (var + eps).rsqrt()


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dimensions (biased variance), then
    multiply by weight and add bias (both of normalized_shape)."""
    _check_tensor("layer_norm", input)
    shape = (normalized_shape,) if isinstance(normalized_shape, (numbers.Integral, np.integer)) \
        else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != tuple(int(s) for s in shape) or input.ndim < k:
        raise RuntimeError(f"layer_norm: given normalized_shape={list(shape)}, expected input with shape "
                         f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}")
    _check_float("layer_norm", input)
    for what, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(f"layer_norm: expected {what} of shape {list(shape)}, got {list(value.shape)}")
    return N.LayerNorm.apply(input, weight, bias, k, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels (dim 1) into num_groups groups; normalise each group of each sample
    over its channels and positions; then a per-channel weight and bias."""
    _check_tensor("group_norm", input)
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of at least 2 dimensions (N, C, *), got "
                         f"{list(input.shape)}")
    _check_float("group_norm", input)
    n, c = input.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: expected the number of channels ({c}) to be divisible by "
                         f"num_groups ({num_groups}), got input of size {list(input.shape)}")
    for what, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (c,):
            raise ValueError(f"group_norm: expected {what} of shape [{c}], got {list(value.shape)}")
    grouped = input.reshape(n, num_groups, -1)
    out = _normalize(grouped, (2,), eps).reshape(*input.shape)
    channel_shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(channel_shape)
    if bias is not None:
        out = out + bias.reshape(channel_shape)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its positions (N, C, *), then a per-channel
    weight and bias. With running statistics, training updates them with the batch's mean of
    the per-instance statistics (variance unbiased); use_input_stats=False uses them instead."""
    _check_tensor("instance_norm", input)
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of at least 3 dimensions (N, C, *), got "
                         f"{list(input.shape)}")
    _check_float("instance_norm", input)
    c = input.shape[1]
    channel_shape = (1, c) + (1,) * (input.ndim - 2)
    dims = tuple(range(2, input.ndim))
    for what, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (c,):
            raise ValueError(f"instance_norm: expected {what} of shape [{c}], got {list(value.shape)}")
    if use_input_stats:
        count = int(np.prod(input.shape[2:]))
        if count <= 1:
            raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got "
                             f"input of size {list(input.shape)}")
        out = _normalize(input, dims, eps)
        from .functional import _update_running
        data = input._data
        if running_mean is not None:
            _update_running(running_mean, data.mean(axis=dims).mean(axis=0), momentum)
        if running_var is not None:
            _update_running(running_var, data.var(axis=dims, ddof=1).mean(axis=0), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var must be given when "
                             "use_input_stats=False")
        invstd = 1.0 / np.sqrt(running_var._data + eps)
        out = (input - running_mean._data.reshape(channel_shape)) * invstd.reshape(channel_shape).astype(
            input._data.dtype)
    if weight is not None:
        out = out * weight.reshape(channel_shape)
    if bias is not None:
        out = out + bias.reshape(channel_shape)
    return out


# ---------------------------------------------------------------------- channel dropout
def _channel_dropout(name, spatial, input, p, training, inplace):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_tensor(name, input)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{name}: expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input, "
                         f"but got input of size: {list(input.shape)}")
    if not training or p == 0.0:
        return input
    data = input._data
    mask_shape = data.shape[:input.ndim - spatial] + (1,) * spatial
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype=data.dtype)
    else:
        keep = creation.default_generator().random(mask_shape) >= p
        mask = keep * np.asarray(1.0 / (1.0 - p), dtype=data.dtype)
    mask = devices.like(mask, data)
    if inplace:
        return input.mul_(mask)
    return E.Mul.apply(input, mask)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) with probability p (training), scaling the rest by 1/(1-p)."""
    return _channel_dropout("dropout1d", 1, input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) with probability p (training), scaling the rest by 1/(1-p)."""
    return _channel_dropout("dropout2d", 2, input, p, training, inplace)
