"""RAdam: Adam whose adaptive step is switched on once its variance is tractable (Liu et al., 2019)."""
import numpy as np

from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer, lerp_


class RAdam(Optimizer):
    """PyTorch's RAdam. With ``rho_inf = 2 / (1 - beta2) - 1`` and
    ``rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)``:

        m = lerp(m, g, 1 - beta1);   v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1^t)
        rho_t > 5:  p = p - lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t,
                    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        otherwise:  p = p - lr * m_hat     (SGD with momentum while the variance is unreliable)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_switches("RAdam", differentiable)
        if isinstance(betas, list):
            betas = tuple(betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        for p, data, g, st in self._gradients(group):
            if not st:
                st["step"] = 0
                st["exp_avg"] = Tensor._wrap(np.zeros_like(data))
                st["exp_avg_sq"] = Tensor._wrap(np.zeros_like(data))
            step = st["step"] = st["step"] + 1
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    data *= 1.0 - lr * weight_decay
                else:
                    g = g + weight_decay * data
            exp_avg, exp_avg_sq = st["exp_avg"]._data, st["exp_avg_sq"]._data
            lerp_(exp_avg, g, 1.0 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1.0 - beta2) * g * g
            bias_correction1 = 1.0 - beta1 ** step
            bias_correction2 = 1.0 - beta2 ** step
            corrected = exp_avg / bias_correction1
            rho_inf = 2.0 / (1.0 - beta2) - 1.0
            rho_t = rho_inf - 2.0 * step * (beta2 ** step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = bias_correction2 ** 0.5 / (np.sqrt(exp_avg_sq) + eps)
                data -= corrected * lr * adaptive * rect
            else:
                data -= corrected * lr
            p._bump_version()
