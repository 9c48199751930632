"""Optimizer steps as CUDA kernels, updating device arrays in place (PyTorch's formulas).

One thread per element, grid-stride; hyperparameters arrive as scalars of the
parameter's dtype, and Adam's bias corrections are computed on the host.
"""

import math

from numba import cuda

from .._checks import same_dtype
from ._common import THREADS, blocks_for, device_float, flat, launch


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


@cuda.jit
def _rmsprop(param, grad, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay, momentum,
             centered):
    one = param.dtype.type(1)
    zero = param.dtype.type(0)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        g = grad[i] + weight_decay * param[i]
        sq = alpha * square_avg[i] + (one - alpha) * g * g
        square_avg[i] = sq
        if centered:
            m = grad_avg[i] + (one - alpha) * (g - grad_avg[i])
            grad_avg[i] = m
            sq = sq - m * m
        avg = math.sqrt(sq) + eps
        if momentum > zero:
            b = momentum * buf[i] + g / avg
            buf[i] = b
            param[i] -= lr * b
        else:
            param[i] -= lr * g / avg


@cuda.jit
def _adagrad(param, grad, state_sum, lr, eps, weight_decay):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        g = grad[i] + weight_decay * param[i]
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] -= lr * g / (math.sqrt(s) + eps)


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
        launch(_sgd, blocks_for(param.size), THREADS, flat(param, op, "param"), flat(grad, op, "grad"),
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
        launch(_adam, blocks_for(param.size), THREADS, flat(param, op, "param"), flat(grad, op, "grad"),
               flat(m, op, "m"), flat(v, op, "v"),
               t(lr), t(beta1), t(beta2), t(eps), t(weight_decay), bool(decoupled_weight_decay),
               t(lr / (1 - beta1 ** step)), t(math.sqrt(1 - beta2 ** step)))
    return param


def rmsprop_update(param, grad, square_avg, grad_avg=None, momentum_buffer=None, lr=1e-2,
                   alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    """One RMSprop step in place, as torch.optim.RMSprop: g = grad + wd * param;
    square_avg = alpha * square_avg + (1 - alpha) g^2; centered (pass grad_avg): grad_avg =
    lerp(grad_avg, g, 1 - alpha) and square_avg - grad_avg^2 under the root; with momentum
    (pass momentum_buffer), buf = momentum * buf + g / avg and param -= lr * buf."""
    op = "rmsprop_update"
    if momentum > 0 and momentum_buffer is None:
        raise ValueError(f"{op}: momentum {momentum} needs a momentum_buffer (zeros at first)")
    state = {"grad": grad, "square_avg": square_avg}
    if grad_avg is not None:
        state["grad_avg"] = grad_avg
    if momentum_buffer is not None:
        state["momentum_buffer"] = momentum_buffer
    _check_state(op, param, **state)
    if param.size:
        t = param.dtype.type
        placeholder = flat(square_avg, op, "square_avg")   # unused when not centered / no momentum
        launch(_rmsprop, blocks_for(param.size), THREADS, flat(param, op, "param"),
               flat(grad, op, "grad"), placeholder,
               placeholder if grad_avg is None else flat(grad_avg, op, "grad_avg"),
               placeholder if momentum_buffer is None else flat(momentum_buffer, op, "momentum_buffer"),
               t(lr), t(alpha), t(eps), t(weight_decay), t(momentum), grad_avg is not None)
    return param


def adagrad_update(param, grad, state_sum, lr=1e-2, eps=1e-10, weight_decay=0.0):
    """One Adagrad step in place, as torch.optim.Adagrad with ``lr`` already decayed:
    g = grad + wd * param; state_sum += g^2; param -= lr * g / (sqrt(state_sum) + eps)."""
    op = "adagrad_update"
    _check_state(op, param, grad=grad, state_sum=state_sum)
    if param.size:
        t = param.dtype.type
        launch(_adagrad, blocks_for(param.size), THREADS, flat(param, op, "param"),
               flat(grad, op, "grad"), flat(state_sum, op, "state_sum"), t(lr), t(eps),
               t(weight_decay))
    return param
