"""Gradient clipping, in place on the parameters' ``.grad`` (outside the graph), as in PyTorch."""
import math

import numpy as np

from ...tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _norm(array, norm_type):
    flat = np.abs(array.reshape(-1)) if norm_type != 2.0 else array.reshape(-1)
    if norm_type == math.inf:
        return float(flat.max()) if flat.size else 0.0
    if norm_type == 2.0:
        return float(np.sqrt(np.dot(flat, flat)))   # (one BLAS call: the common case)
    if norm_type == 0:
        return float(np.count_nonzero(flat))
    return float((flat ** norm_type).sum() ** (1.0 / norm_type))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale every gradient by ``max_norm / (total_norm + 1e-6)`` when that is below 1.

    ``total_norm`` is the ``norm_type``-norm of all gradients together (as if concatenated
    into one vector); it is returned as a 0-d tensor. With ``error_if_nonfinite`` a NaN or
    infinite total norm raises instead, and leaves the gradients as they were.
    """
    grads = [p.grad for p in _with_grads(parameters)]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return Tensor._wrap(np.array(0.0, dtype=np.float32))
    dtype = grads[0]._data.dtype
    norms = [_norm(np.asarray(g._data), norm_type) for g in grads]
    if norm_type == math.inf:
        total = max(norms)
    else:
        total = _norm(np.array(norms, dtype=np.float64), norm_type)
    total = float(np.asarray(total, dtype=dtype))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable this error "
                           "and scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        scale = np.asarray(coef, dtype=dtype)
        for g in grads:
            g._data *= scale
            g._bump_version()
    return Tensor._wrap(np.array(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        data = p.grad._data
        np.clip(data, -clip_value, clip_value, out=data)
        p.grad._bump_version()
