"""Normalisation over images and sequences, and channel dropout: BatchNorm2d, LayerNorm,
GroupNorm, InstanceNorm1d/2d, Dropout1d/2d (PyTorch's arguments, defaults, state_dict keys
and reprs)."""
import numbers

from .. import creation
from . import functional as F
from . import init
from .batchnorm import BatchNorm1d
from .module import Module
from .parameter import Parameter


class BatchNorm2d(BatchNorm1d):
    """BatchNorm over the channels (dim 1) of (N, C, H, W): statistics over N, H and W."""

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(f"BatchNorm2d: expected 4D input (N, C, H, W), got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected {self.num_features} channels (dim 1), got input of shape "
                             f"{tuple(input.shape)}")


def _affine_parameters(module, shape, affine, bias, device, dtype):
    """``weight`` (ones) and ``bias`` (zeros) of ``shape`` when ``affine``, else None, registered as
    PyTorch's LayerNorm and GroupNorm do (``bias=False`` keeps the weight alone)."""
    if affine:
        module.weight = Parameter(creation.ones(*shape, dtype=dtype, device=device))
        if bias:
            module.bias = Parameter(creation.zeros(*shape, dtype=dtype, device=device))
            return
    else:
        module.register_parameter("weight", None)
    module.register_parameter("bias", None)


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape)
    dimensions of each sample (biased variance); weight ones and bias zeros at first."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each of ``num_groups`` groups of channels per sample, then a per-channel
    weight and bias. GroupNorm(1, C) normalises whole samples; GroupNorm(C, C) each channel."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, (num_channels,), affine, bias, device, dtype)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(BatchNorm1d):
    _spatial = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, input):
        name, n = type(self).__name__, self._spatial
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(f"{name}: expected {n + 1}D (unbatched) or {n + 2}D (batched) input, got "
                             f"{input.ndim}D input of shape {tuple(input.shape)}")
        channels = input.shape[input.ndim - n - 1]
        if self.affine and channels != self.num_features:
            raise ValueError(f"{name}: expected input's size at dim={input.ndim - n - 1} to match "
                             f"num_features ({self.num_features}), but got: {channels}")

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.ndim == self._spatial + 1
        if unbatched:
            input = input.unsqueeze(0)
        momentum = 0.1 if self.momentum is None else self.momentum
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats, momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Normalise each channel of each sample of (N, C, L) over L (no affine, no running stats by default)."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Normalise each channel of each image of (N, C, H, W) over H and W (style transfer's norm)."""

    _spatial = 2


class _DropoutChannels(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutChannels):
    """Zero whole channels of (N, C, L) with probability p while training (scaled by 1/(1-p))."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutChannels):
    """Zero whole channels (feature maps) of (N, C, H, W) with probability p while training."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)
