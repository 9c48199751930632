"""The function form of every layer and loss (``import autodiff.nn.functional as F``).

Each function checks its arguments and names itself, the shapes and the dtypes
when they are wrong, then applies one op from ``autodiff/ops`` (batch_norm is
composed of a few).
"""
import warnings

import numpy as np

from .. import creation, dtypes
from ..cuda import devices
from ..ops import elementwise as E
from ..ops import linalg as L
from ..ops import nn as N
from ..tensor import Tensor
from ._loss_functions import _reduction as _loss_reduction, promote_pair as _promote_pair
from ._loss_functions import (  # noqa: F401  (the margin, robust and likelihood losses)
    cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div,
    margin_ranking_loss, multi_margin_loss, multilabel_soft_margin_loss, pairwise_distance,
    poisson_nll_loss, smooth_l1_loss, soft_margin_loss, triplet_margin_loss)

_REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------------- layers
def linear(input, weight, bias=None):
    """input @ weight.T + bias, as one node."""
    return L.Linear.apply(input, weight, bias)


def relu(input, inplace=False):
    if inplace:
        return input._inplace("relu_", None, lambda old, _: E.Relu.apply(old),
                              lambda d, _: np.maximum(d, 0, out=d))
    return E.Relu.apply(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return input._inplace("leaky_relu_", negative_slope, E.LeakyRelu.apply,
                              lambda d, slope: np.multiply(d, slope, out=d, where=d < 0))
    return E.LeakyRelu.apply(input, negative_slope)


def sigmoid(input):
    return E.Sigmoid.apply(input)


def tanh(input):
    return E.Tanh.apply(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if inplace:
        return input._inplace("hardtanh_", None, lambda old, _: E.Hardtanh.apply(old, min_val, max_val),
                              lambda d, _: np.clip(d, min_val, max_val, out=d))
    return E.Hardtanh.apply(input, min_val, max_val)


def softplus(input, beta=1.0, threshold=20.0):
    return E.Softplus.apply(input, beta, threshold)


def _check_gelu_mode(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(input, approximate="none"):
    """x * Phi(x) (exact, with erf) or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    _check_gelu_mode(approximate)
    return N.Gelu.apply(input, approximate)


def _softmax_dim(name, dim, ndim):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                      "to include dim=X as an argument.", stacklevel=3)
        return 0 if ndim in (0, 1, 3) else 1
    return dim


def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(_softmax_dim("softmax", dim, input.ndim))


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(_softmax_dim("log_softmax", dim, input.ndim))


_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool"}     # PyTorch's names in its casting errors


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training only)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    data = input._data
    if data.dtype.kind not in "fc":
        if p == 1.0:       # (PyTorch: zeros of the input's dtype)
            return Tensor._wrap(np.zeros_like(data))
        wanted = _TYPE_NAMES.get(data.dtype.name, data.dtype.name)
        raise RuntimeError(f"dropout: result type Float can't be cast to the desired output type "
                           f"{wanted} (dropout of a {dtypes.name(data.dtype)} tensor; use "
                           "input.float())")
    if p == 1.0:
        mask = np.zeros_like(data)
    else:
        keep = creation.default_generator().random(data.shape) >= p
        mask = keep * np.asarray(1.0 / (1.0 - p), dtype=data.dtype)
        if isinstance(data, devices.DeviceArray):   # drawn on the host: the same masks on every device
            mask = devices.like(mask, data)
    if inplace:
        return input.mul_(mask)
    return E.Mul.apply(input, mask)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) to zero mean and unit variance, then scale and shift.

    training: use the batch's mean and biased variance, and (when given) update
    running_mean/running_var in place with ``momentum``, the variance unbiased.
    Otherwise use running_mean and running_var.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, L), got shape "
                         f"{tuple(input.shape)}")
    channels = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(value.shape)} but the input "
                             f"{tuple(input.shape)} has {channels} channels (dim 1)")
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (channels,) if input.ndim == 2 else (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input._data.size // max(channels, 1)
        if count <= 1:
            raise ValueError("batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {tuple(input.shape)}")
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        out = centered * (var + eps).rsqrt()
        if running_mean is not None:
            _update_running(running_mean, mean._data.reshape(channels), momentum)
        if running_var is not None:
            _update_running(running_var, var._data.reshape(channels) * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given when training=False")
        invstd = 1.0 / np.sqrt(running_var._data + eps)
        out = (input - running_mean._data.reshape(shape)) * invstd.reshape(shape).astype(input.dtype)
    if weight is not None:
        out = out * (weight if input.ndim == 2 else weight.reshape(shape))
    if bias is not None:
        out = out + (bias if input.ndim == 2 else bias.reshape(shape))
    return out


def _update_running(buffer, batch_value, momentum):
    data = buffer._data
    np.copyto(data, (1 - momentum) * data + momentum * batch_value, casting="unsafe")
    buffer._bump_version()


# ---------------------------------------------------------------------- argument checks for losses
def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction "
                         "(use 'mean', 'sum' or 'none')")


def _check_input(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating point tensor, got "
                        f"{dtypes.name(input._data.dtype)} (use input.float())")


def _check_pair(name, input, target):
    """Same-shape floating input and target; returns the target in the input's dtype."""
    _check_input(name, input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}: target must be a Tensor, got {type(target).__name__}")
    if target._data.dtype.kind != "f":
        raise TypeError(f"{name}: target must be a floating point tensor like the input "
                        f"({dtypes.name(input._data.dtype)}), got {dtypes.name(target._data.dtype)} "
                        "(use target.float())")
    if target._data.shape != input._data.shape:
        raise ValueError(f"{name}: target shape {tuple(target.shape)} differs from input shape "
                         f"{tuple(input.shape)}; reshape the target (e.g. target.view(-1, 1) or "
                         "input.squeeze(1)) so that they match")
    if target._data.dtype != input._data.dtype:
        target = target.to(input._data.dtype)
    return target


def _weight_array(name, what, weight, shape, dtype):
    """``weight`` as a numpy array of ``dtype`` that broadcasts to ``shape`` (or None)."""
    if weight is None:
        return None
    array = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    try:
        ok = np.broadcast_shapes(array.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: {what} of shape {tuple(array.shape)} does not broadcast to the "
                         f"input's shape {tuple(shape)}")
    return array.astype(dtype, copy=False)


# ---------------------------------------------------------------------- regression losses
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: mean((input - target)^2). An integer target is promoted (PyTorch).

    ``weight`` (the input's shape) multiplies each squared error; the weighted mean divides
    by the sum of the weights, as PyTorch's does."""
    reduction = _loss_reduction("mse_loss", reduction, size_average, reduce)
    input, target = _promote_pair("mse_loss", input, target)
    target = _check_pair("mse_loss", input, target)
    if weight is not None:
        return _weighted("mse_loss", N.MseLoss.apply(input, target, "none"), weight, reduction)
    return N.MseLoss.apply(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: mean(|input - target|). An integer target is promoted (PyTorch).

    ``weight`` as in ``mse_loss``."""
    reduction = _loss_reduction("l1_loss", reduction, size_average, reduce)
    input, target = _promote_pair("l1_loss", input, target)
    target = _check_pair("l1_loss", input, target)
    if weight is not None:
        return _weighted("l1_loss", N.L1Loss.apply(input, target, "none"), weight, reduction)
    return N.L1Loss.apply(input, target, reduction)


def _weighted(name, loss, weight, reduction):
    if not isinstance(weight, Tensor):
        raise TypeError(f"{name}: weight must be a Tensor, got {type(weight).__name__}")
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError(f"{name}: weights and input must have the same size: weight "
                         f"{tuple(weight.shape)}, input {tuple(loss.shape)}")
    loss = loss * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / weight.sum()


# ---------------------------------------------------------------------- binary classification
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-[y log(p) + (1 - y) log(1 - p)] for probabilities p in [0, 1], each log clamped at -100."""
    name = "binary_cross_entropy"
    reduction = _loss_reduction(name, reduction, size_average, reduce)
    target = _check_pair(name, input, target)
    data = input._data
    outside = ~((data >= 0) & (data <= 1))        # NaN too
    if outside.any():
        raise ValueError(f"{name}: all elements of input should be between 0 and 1 (they are "
                         f"probabilities; got {data[outside].flat[0]}; for raw scores use "
                         "binary_cross_entropy_with_logits)")
    w = _weight_array(name, "weight", weight, data.shape, data.dtype)
    return N.BinaryCrossEntropy.apply(input, target, w, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable op: max(x, 0) - x y + log(1 + exp(-|x|)).

    ``pos_weight`` (broadcast along the last dimension) multiplies the loss of positive targets.
    """
    name = "binary_cross_entropy_with_logits"
    reduction = _loss_reduction(name, reduction, size_average, reduce)
    target = _check_pair(name, input, target)
    data = input._data
    w = _weight_array(name, "weight", weight, data.shape, data.dtype)
    pw = _weight_array(name, "pos_weight", pos_weight, data.shape, data.dtype)
    return N.BinaryCrossEntropyWithLogits.apply(input, target, w, pw, reduction)


# ---------------------------------------------------------------------- classification over C classes
def _check_classes(name, input, target, weight, ignore_index, allow_probabilities):
    """Check class-index (or probability) targets; returns the class weights as an array or None."""
    _check_input(name, input)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension: shape (C,), (N, C) or "
                         "(N, C, d1, ...), got a 0-d tensor")
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}: target must be a Tensor, got {type(target).__name__}")
    shape = tuple(input.shape)
    classes = shape[1] if len(shape) > 1 else shape[0]
    index_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    t = target._data
    if t.dtype.kind in "iu":
        if t.shape != index_shape:
            raise ValueError(f"{name}: expected a class-index target of shape {index_shape} for input "
                             f"of shape {shape}, got target of shape {tuple(t.shape)}")
        # (checked on the host only: on a device this would be a copy to the host every step;
        # there the loss of a row with a target out of range is NaN)
        bad = (t < 0) | (t >= classes) if type(t) is np.ndarray else None
        if bad is not None and ignore_index is not None:
            bad &= t != ignore_index
        if bad is not None and bad.any():
            raise IndexError(f"{name}: target {t[bad].flat[0]} is out of bounds for {classes} classes "
                             f"(class indices run from 0 to {classes - 1}; ignore_index is "
                             f"{ignore_index})")
    elif allow_probabilities and t.dtype.kind == "f" and t.shape == shape:
        if ignore_index is not None and ignore_index >= 0:
            raise ValueError(f"{name}: ignore_index is only applicable to class-index targets, not "
                             "to class probabilities")
    else:
        hint = f", or class probabilities of shape {shape}" if allow_probabilities else ""
        raise TypeError(f"{name}: expected class indices as an integer tensor of shape {index_shape}"
                        f"{hint}; got a {dtypes.name(t.dtype)} tensor of shape {tuple(t.shape)} "
                        f"for input of shape {shape} (use target.long() for class indices)")
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (classes,):
        raise ValueError(f"{name}: weight should have one value per class, shape ({classes},), got "
                         f"shape {tuple(w.shape)}")
    return w.astype(input._data.dtype, copy=False)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[n, target[n]] (input: log-probabilities (N, C) or (N, C, d1, ...)).

    With ``weight``, the mean divides by the summed weights of the targets not ignored.
    """
    reduction = _loss_reduction("nll_loss", reduction, size_average, reduce)
    w = _check_classes("nll_loss", input, target, weight, ignore_index, allow_probabilities=False)
    return N.NllLoss.apply(input, target, w, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over dim 1 and nll_loss as one op, on raw scores (logits).

    ``target``: class indices (N,) / (N, d1, ...), or class probabilities shaped like the input.
    """
    reduction = _loss_reduction("cross_entropy", reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    w = _check_classes("cross_entropy", input, target, weight, ignore_index, allow_probabilities=True)
    return N.CrossEntropy.apply(input, target, w, ignore_index, float(label_smoothing), reduction)


def one_hot(tensor, num_classes=-1):
    """(...,) class indices -> (..., num_classes) int64 with a 1 at each index."""
    if not isinstance(tensor, Tensor) or tensor._data.dtype.kind not in "iu":
        kind = dtypes.name(tensor.dtype) if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {kind} (use .long())")
    data = tensor._data
    if num_classes == -1:
        if data.size == 0:
            raise ValueError("one_hot: can not infer the number of classes from an empty tensor; "
                             "pass num_classes")
        num_classes = int(data.max()) + 1
    if data.size and data.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(data.min())}")
    if data.size and data.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes ({num_classes}), "
                         f"got {int(data.max())}")
    return Tensor._wrap((data[..., None] == np.arange(num_classes, like=data)).astype(np.int64))


# ---------------------------------------------------------------------- convolutional networks
from ._functional_cnn import (  # noqa: E402,F401  (convolution, pooling, resizing, image normalisation)
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, avg_pool2d,
    conv1d, conv2d, conv_transpose1d, conv_transpose2d, dropout1d, dropout2d, fold, group_norm, instance_norm,
    interpolate, layer_norm, max_pool1d, max_pool2d, max_unpool1d, max_unpool2d, pad, pixel_shuffle,
    pixel_unshuffle, unfold, upsample)

# embeddings and attention live in their own module (one op each)
from .functional_seq import embedding, embedding_bag, scaled_dot_product_attention  # noqa: E402,F401
