"""Adamax: Adam with the infinity norm of past gradients in place of their second moment."""
import numpy as np

from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer, lerp_


class Adamax(Optimizer):
    """PyTorch's Adamax (Kingma & Ba, 2015, section 7):

        g = grad (+ weight_decay * p)             (-grad when maximize)
        m = lerp(m, g, 1 - beta1)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_switches("Adamax", differentiable)
        if isinstance(betas, list):
            betas = tuple(betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        for p, data, g, st in self._gradients(group):
            if not st:
                st["step"] = 0
                st["exp_avg"] = Tensor._wrap(np.zeros_like(data))
                st["exp_inf"] = Tensor._wrap(np.zeros_like(data))
            step = st["step"] = st["step"] + 1
            if weight_decay != 0:
                g = g + weight_decay * data
            exp_avg, exp_inf = st["exp_avg"]._data, st["exp_inf"]._data
            lerp_(exp_avg, g, 1.0 - beta1)
            exp_inf *= beta2
            np.maximum(exp_inf, np.abs(g) + eps, out=exp_inf)
            clr = lr / (1.0 - beta1 ** step)
            data -= clr * (exp_avg / exp_inf)
            p._bump_version()
