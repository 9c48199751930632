"""NAdam: Adam with Nesterov momentum (Dozat, 2016), with PyTorch's momentum schedule."""
import numpy as np

from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer, lerp_, scalar_state


class NAdam(Optimizer):
    """PyTorch's NAdam. With ``mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay))`` and
    ``mu_product`` their running product (a float32 scalar state, as in PyTorch):

        g = grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled)
        m = lerp(m, g, 1 - beta1);   v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr (1 - mu_t) / (1 - mu_product) * g / denom
              - lr mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_switches("NAdam", differentiable)
        if isinstance(betas, list):
            betas = tuple(betas)
        if not momentum_decay >= 0.0:
            raise ValueError(f"NAdam: invalid momentum_decay value: {momentum_decay} (must be >= 0)")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        momentum_decay = float(group["momentum_decay"])
        for p, data, g, st in self._gradients(group):
            if not st:
                st["step"] = 0
                st["mu_product"] = scalar_state(1.0)
                st["exp_avg"] = Tensor._wrap(np.zeros_like(data))
                st["exp_avg_sq"] = Tensor._wrap(np.zeros_like(data))
            step = st["step"] = st["step"] + 1
            bias_correction2 = 1.0 - beta2 ** step
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    data *= 1.0 - lr * weight_decay
                else:
                    g = g + weight_decay * data
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            mu_product = st["mu_product"]._data
            mu_product *= mu
            mu_product = float(mu_product)
            exp_avg, exp_avg_sq = st["exp_avg"]._data, st["exp_avg_sq"]._data
            lerp_(exp_avg, g, 1.0 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1.0 - beta2) * g * g
            denom = np.sqrt(exp_avg_sq / bias_correction2)
            denom += eps
            data += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
            data += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (exp_avg / denom)
            p._bump_version()
