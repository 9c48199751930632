"""Optimizer steps as CUDA kernels, updating device arrays in place (PyTorch's formulas).

One thread per element, grid-stride; hyperparameters arrive as scalars of the
parameter's dtype, and Adam's bias corrections are computed on the host.
"""

import math

from numba import cuda

from .._checks import same_dtype
from ._common import THREADS, blocks_for, device_float, flat


@cuda.jit
def _sgd(param, grad, velocity, lr, momentum, weight_decay, nesterov):
    zero = param.dtype.type(0)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        g = grad[i] + weight_decay * param[i]
        if momentum != zero:
            v = momentum * velocity[i] + g
            velocity[i] = v
            g = g + momentum * v if nesterov else v
        param[i] -= lr * g


@cuda.jit
def _adam(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, decoupled,
          step_size, sqrt_bias_correction2):
    one = param.dtype.type(1)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        g = grad[i]
        p = param[i]
        if decoupled:
            p = p * (one - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m_i = beta1 * m[i] + (one - beta1) * g
        v_i = beta2 * v[i] + (one - beta2) * g * g
        m[i] = m_i
        v[i] = v_i
        param[i] = p - step_size * m_i / (math.sqrt(v_i) / sqrt_bias_correction2 + eps)


def _check_state(op, param, **others):
    device_float(param, op, "param")
    for name, x in others.items():
        device_float(x, op, name)
        if x.shape != param.shape:
            raise ValueError(f"{op}: {name} shape {x.shape} does not match "
                             f"param shape {param.shape}")
    same_dtype(op, param=param, **others)


def sgd_update(param, grad, velocity=None, lr=0.01, momentum=0.0, weight_decay=0.0,
               nesterov=False):
    """One SGD step in place, as torch.optim.SGD (dampening 0): g = grad + wd * param;
    with momentum, velocity = momentum * velocity + g and the step uses velocity (or
    g + momentum * velocity with nesterov); param -= lr * step. Start velocity at zeros."""
    op = "sgd_update"
    if momentum != 0 and velocity is None:
        raise ValueError(f"{op}: momentum {momentum} needs a velocity array (zeros at first)")
    state = {"grad": grad} if velocity is None else {"grad": grad, "velocity": velocity}
    _check_state(op, param, **state)
    if param.size:
        t = param.dtype.type
        _sgd[blocks_for(param.size), THREADS](
            flat(param, op, "param"), flat(grad, op, "grad"),
            flat(grad if velocity is None else velocity, op, "velocity"),  # unused without momentum
            t(lr), t(momentum), t(weight_decay), bool(nesterov))
    return param


def adam_update(param, grad, m, v, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                weight_decay=0.0, decoupled_weight_decay=False):
    """One Adam step in place, as torch.optim.Adam (or AdamW with decoupled_weight_decay).
    m and v are the moment estimates (zeros before step 1); step counts from 1."""
    op = "adam_update"
    if step < 1:
        raise ValueError(f"{op}: step counts from 1, got {step}")
    _check_state(op, param, grad=grad, m=m, v=v)
    beta1, beta2 = betas
    if param.size:
        t = param.dtype.type
        _adam[blocks_for(param.size), THREADS](
            flat(param, op, "param"), flat(grad, op, "grad"), flat(m, op, "m"), flat(v, op, "v"),
            t(lr), t(beta1), t(beta2), t(eps), t(weight_decay), bool(decoupled_weight_decay),
            t(lr / (1 - beta1 ** step)), t(math.sqrt(1 - beta2 ** step)))
    return param
