"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
import numpy as np

from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """PyTorch's Adadelta (Zeiler, 2012):

        g = grad (+ weight_decay * p)             (-grad when maximize)
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_switches("Adadelta", differentiable)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: invalid rho value: {rho} (must be in [0, 1])")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group):
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        for p, data, g, st in self._gradients(group):
            if not st:
                st["step"] = 0
                st["square_avg"] = Tensor._wrap(np.zeros_like(data))
                st["acc_delta"] = Tensor._wrap(np.zeros_like(data))
            st["step"] += 1
            if weight_decay != 0:
                g = g + weight_decay * data
            square_avg, acc_delta = st["square_avg"]._data, st["acc_delta"]._data
            square_avg *= rho
            square_avg += (1.0 - rho) * g * g
            delta = np.sqrt(acc_delta + eps)
            delta /= np.sqrt(square_avg + eps)
            delta *= g
            acc_delta *= rho
            acc_delta += (1.0 - rho) * delta * delta
            data -= lr * delta
            p._bump_version()
