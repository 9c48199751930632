"""The function forms of the margin, robust-regression and likelihood losses.

Each is composed of existing differentiable ops (abs, where, clamp, softplus, log, exp,
sums), so values, gradients and second derivatives follow from theirs exactly, and
PyTorch's formulas are kept term for term (see each docstring). Smooth L1 and Huber are
one fused op instead (``ops.nn.HuberLoss``): composed, they measured 3-4x PyTorch's time. ``reduction`` is
'mean' (default), 'sum' or 'none'; the legacy ``size_average``/``reduce`` flags are
mapped as PyTorch maps them. Re-exported by ``autodiff.nn.functional``.
"""
import math
import warnings

import numpy as np

from .. import dtypes
from ..ops import nn as N
from ..tensor import Tensor, where

_REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------------- shared checks
def _reduction(name, reduction, size_average=None, reduce=None, extra=()):
    """The reduction to apply; the legacy flags (deprecated in PyTorch) override it."""
    if size_average is None and reduce is None and reduction in _REDUCTIONS:
        return reduction
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='sum' (or 'mean', 'none') instead.", stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS + tuple(extra):
        allowed = ", ".join(repr(r) for r in _REDUCTIONS + tuple(extra))
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction (use {allowed})")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _tensor(name, what, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor, got {type(value).__name__}")
    return value


def _promote(name, *tensors, names=("input", "target")):
    """The tensors in their common floating dtype (PyTorch's promotion: a float beats an
    integer or bool, the wider float wins); at least one must be floating."""
    for t, what in zip(tensors, names):
        _tensor(name, what, t)
    floats = [t._data.dtype for t in tensors if t._data.dtype.kind == "f"]
    if not floats:
        kinds = ", ".join(f"{what} {dtypes.name(t._data.dtype)}" for t, what in zip(tensors, names))
        raise TypeError(f"{name}: expected floating point tensors, got {kinds} (use .float())")
    dtype = np.result_type(*floats)
    return [t if t._data.dtype == dtype else t.to(dtype) for t in tensors]


def promote_pair(name, input, target):
    """For mse_loss and l1_loss: an integer or bool operand takes the other's floating dtype,
    two floats the wider one (PyTorch's promotion); anything else is left to the caller's checks."""
    try:
        if input._data.dtype == target._data.dtype:
            return input, target
    except AttributeError:         # not tensors: the caller's checks say so
        return input, target
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)):
        return input, target
    if input._data.dtype.kind != "f" and target._data.dtype.kind != "f":
        return input, target
    return tuple(_promote(name, input, target))


def _same_shape(name, a, b, names=("input", "target")):
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{name}: {names[1]} shape {tuple(b.shape)} differs from {names[0]} shape "
                         f"{tuple(a.shape)}; reshape one so that they match")


def _broadcast_pair(name, a, b, names=("input", "target")):
    """``a`` and ``b`` broadcast to one shape (PyTorch warns for a target of another size)."""
    if tuple(a.shape) == tuple(b.shape):
        return a, b
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise ValueError(f"{name}: {names[1]} shape {tuple(b.shape)} does not broadcast with "
                         f"{names[0]} shape {tuple(a.shape)}") from None
    warnings.warn(f"{name}: Using a target size ({tuple(b.shape)}) that is different to the input "
                  f"size ({tuple(a.shape)}). This will likely lead to incorrect results due to "
                  "broadcasting. Please ensure they have the same size.", stacklevel=3)
    return a.expand(shape), b.expand(shape)


# ---------------------------------------------------------------------- robust regression
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 (x - y)^2 / beta where |x - y| < beta, else |x - y| - 0.5 beta (l1_loss when beta = 0)."""
    name = "smooth_l1_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"{name}: beta must be >= 0, got {beta}")
    input, target = _broadcast_pair(name, *_promote(name, input, target))
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    return N.HuberLoss.apply(input, target, float(beta), True, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 (x - y)^2 where |x - y| < delta, else delta (|x - y| - 0.5 delta); times ``weight``."""
    name = "huber_loss"
    reduction = _reduction(name, reduction)
    if not delta > 0:
        raise ValueError(f"{name}: delta must be > 0, got {delta}")
    input, target = _broadcast_pair(name, *_promote(name, input, target))
    if weight is None:
        return N.HuberLoss.apply(input, target, float(delta), False, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{name}: weight shape {tuple(weight.shape)} must equal the input "
                         f"shape {tuple(input.shape)}")
    loss = N.HuberLoss.apply(input, target, float(delta), False, "none") * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------- distributions
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log target - input), with 0 log 0 = 0.

    ``input`` holds log-probabilities; ``target`` probabilities (log-probabilities when
    ``log_target``). 'batchmean' divides the sum by the batch size (the mathematical KL);
    'mean' divides by the number of elements (PyTorch warns about it; so do we).
    """
    name = "kl_div"
    reduction = _reduction(name, reduction, size_average, reduce, extra=("batchmean",))
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with the "
                      "KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    for t, what in ((input, "input"), (target, "target")):
        if _tensor(name, what, t)._data.dtype.kind != "f":
            raise TypeError(f"{name}: integral inputs are not supported ({what} is "
                            f"{dtypes.name(t._data.dtype)}; use .float())")
    input, target = _promote(name, input, target)
    input, target = _broadcast_pair(name, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target._data > 0       # xlogy: 0 * log 0 = 0, with no NaN in any gradient
        safe = where(positive, target, 1.0)
        loss = target * safe.log() - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log-likelihood of a Poisson target: exp(x) - y x (``log_input``), else
    x - y log(x + eps); ``full`` adds Stirling's y log y - y + 0.5 log(2 pi y) where y > 1."""
    name = "poisson_nll_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    input, target = _broadcast_pair(name, *_promote(name, input, target))
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        above = target._data > 1
        safe = where(above, target, 1.0)
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        loss = loss + where(above, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(var) + (x - y)^2 / var) (+ 0.5 log(2 pi) when ``full``).

    ``var`` has the input's shape, or one dimension of size 1 (or the last one missing) for
    a shared variance; it is clamped at ``eps`` for stability with the gradient passed
    through the clamp unchanged, as PyTorch does (its clamp runs under no_grad).
    """
    name = "gaussian_nll_loss"
    reduction = _reduction(name, reduction)
    input, target = _promote(name, input, target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{name}: var has negative entry/entries ({var})")
        var = Tensor._wrap(np.full(input._data.shape, var, dtype=input._data.dtype))
    _tensor(name, "var", var)
    if var._data.dtype.kind != "f":
        raise TypeError(f"{name}: var must be a floating point tensor, got {dtypes.name(var._data.dtype)}")
    if (var._data < 0).any():
        raise ValueError(f"{name}: var has negative entry/entries")
    in_shape, var_shape = tuple(input.shape), tuple(var.shape)
    if var_shape != in_shape:
        if in_shape[:-1] == var_shape:
            var = var.unsqueeze(-1)
        elif not (len(in_shape) == len(var_shape)
                  and sum(v for i, v in zip(in_shape, var_shape) if i != v) == 1):
            raise ValueError(f"{name}: var is of incorrect size: {var_shape} for input of shape "
                             f"{in_shape} (use the input's shape, one dimension of size 1, or the "
                             "input's shape without its last dimension)")
    if var._data.dtype != input._data.dtype:
        var = var.to(input._data.dtype)
    clamped = np.maximum(var._data, np.asarray(eps, dtype=var._data.dtype))
    var = var + Tensor._wrap(clamped - var._data)       # the clamp's value, the identity's gradient
    diff = input - target
    loss = (var.log() + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------- margins
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)) for targets y in {1, -1} (a softplus, so no overflow for large -y x)."""
    name = "soft_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    input, target = _broadcast_pair(name, *_promote(name, input, target))
    return _reduce((-(target * input)).softplus(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)), times ``weight``, averaged over the classes
    (the last dimension): one loss per sample, then reduced."""
    name = "multilabel_soft_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    input, target = _promote(name, input, target)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    _same_shape(name, input, target)
    # -(y log sigmoid(x) + (1 - y) log sigmoid(-x)) = softplus(x) - x y: binary cross-entropy on
    # logits, whose fused op measured 2x faster than composing it of softplus
    loss = N.BinaryCrossEntropyWithLogits.apply(input, target, None, None, "none")
    if weight is not None:
        loss = loss * weight
    classes = input.shape[-1]
    return _reduce(loss.sum(input.ndim - 1) / classes, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y (x1 - x2) + margin): y = 1 asks for x1 ranked above x2, y = -1 below."""
    name = "margin_ranking_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise ValueError(f"{name}: all input tensors should have the same number of dimensions, got "
                         f"input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)}, target "
                         f"{tuple(target.shape)}")
    input1, input2, target = _promote(name, input1, input2, target,
                                      names=("input1", "input2", "target"))
    loss = (-target * (input1 - input2) + margin).clamp(min=0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (x: a distance; other targets add both)."""
    name = "hinge_embedding_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    input, target = _broadcast_pair(name, *_promote(name, input, target))
    y = target._data
    loss = where(y != 1, (margin - input).clamp(min=0), 0.0) + where(y != -1, input, 0.0)
    return _reduce(loss, reduction)


_COSINE_EPSILON = 1e-12     # PyTorch's floor inside cosine_embedding_loss's norms


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1; cos over the last
    dimension of (N, D) or (D,) inputs."""
    name = "cosine_embedding_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    input1, input2 = _promote(name, input1, input2, names=("input1", "input2"))
    _tensor(name, "target", target)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise ValueError(f"{name}: expected input1 and input2 of the same shape, (N, D) or (D,), "
                         f"got {tuple(input1.shape)} and {tuple(input2.shape)}")
    if target.ndim != input1.ndim - 1:
        raise ValueError(f"{name}: expected a target of {input1.ndim - 1} dimensions for inputs of "
                         f"shape {tuple(input1.shape)}, got target of shape {tuple(target.shape)}")
    dim = input1.ndim - 1
    products = (input1 * input2).sum(dim)
    squares1 = (input1 * input1).sum(dim) + _COSINE_EPSILON
    squares2 = (input2 * input2).sum(dim) + _COSINE_EPSILON
    cos = products / (squares1 * squares2).sqrt()
    y = target._data
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps over the last dimension."""
    name = "pairwise_distance"
    x1, x2 = _promote(name, x1, x2, names=("x1", "x2"))
    diff = x1 - x2 + eps
    dim = max(x1.ndim, x2.ndim) - 1
    return _norm(diff, p, max(dim, 0), keepdim)


def _norm(x, p, dim, keepdim=False):
    if p == 2:
        return (x * x).sum(dim, keepdim=keepdim).sqrt()
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    if p == math.inf:
        return x.abs().amax(dim, keepdim=keepdim)
    if p <= 0:
        raise ValueError(f"pairwise_distance: p must be > 0, got {p}")
    return (x.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)), d the p-norm distance of ``pairwise_distance``;
    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance."""
    name = "triplet_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    if not margin > 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    anchor, positive, negative = _promote(name, anchor, positive, negative,
                                          names=("anchor", "positive", "negative"))
    if not (anchor.ndim == positive.ndim == negative.ndim) or anchor.ndim not in (1, 2):
        raise ValueError(f"{name}: anchor, positive and negative must all be (N, D) or (D,), got "
                         f"{tuple(anchor.shape)}, {tuple(positive.shape)}, {tuple(negative.shape)}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge: sum over i != y of max(0, margin - x[y] + x[i])^p, divided by the
    number of classes (and times weight[y]); input (N, C) or (C,), target class indices."""
    name = "multi_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{name}: only p == 1 and p == 2 supported, got {p}")
    _tensor(name, "input", input)
    _tensor(name, "target", target)
    if input._data.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating point tensor, got "
                        f"{dtypes.name(input._data.dtype)}")
    if target._data.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold class indices (an integer tensor), got "
                        f"{dtypes.name(target._data.dtype)} (use target.long())")
    one_sample = input.ndim <= 1
    x = input.reshape(1, -1) if one_sample else input
    if x.ndim != 2:
        raise ValueError(f"{name}: expected input of shape (N, C) or (C,), got {tuple(input.shape)}")
    labels = target._data.reshape(-1)
    rows, classes = x.shape
    if labels.shape != (rows,):
        raise ValueError(f"{name}: expected a target of shape ({rows},) for input of shape "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise IndexError(f"{name}: target {bad} is out of bounds for {classes} classes")
    picked = x[np.arange(rows), labels].reshape(rows, 1)
    z = (x - picked + margin).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != (classes,):
            raise ValueError(f"{name}: weight should have one value per class, shape ({classes},), "
                             f"got {tuple(w.shape)}")
        z = z * w[labels].astype(x._data.dtype).reshape(rows, 1)
    others = (np.arange(classes) != labels[:, None]).astype(x._data.dtype)
    loss = (z * others).sum(1) / classes
    if one_sample:
        loss = loss.reshape(target.shape if target.ndim else ())
    return _reduce(loss, reduction)
