"""Adam and AdamW: bias-corrected running averages of the gradient and its square."""
import numpy as np

from .. import backends
from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer


class Adam(Optimizer):
    """PyTorch's Adam (``decoupled_weight_decay=True`` is AdamW):

        g = grad (+ weight_decay * p, Adam)     p = p * (1 - lr * weight_decay)  (AdamW)
        m = lerp(m, g, 1 - beta1)                 (= beta1 * m + (1 - beta1) * g)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                     (amsgrad; then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_switches(type(self).__name__, differentiable)
        if isinstance(betas, list):
            betas = tuple(betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, group):
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        beta1, beta2 = float(beta1), float(beta2)
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        state = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            g = grad._data
            data = p._data
            st = state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = Tensor._wrap(np.zeros_like(data))
                st["exp_avg_sq"] = Tensor._wrap(np.zeros_like(data))
                if amsgrad:
                    st["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(data))
            step = st["step"] + 1
            st["step"] = step
            if amsgrad and "max_exp_avg_sq" not in st:
                st["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(data))
            backends.of(data).adam_step(
                data, g, st["exp_avg"]._data, st["exp_avg_sq"]._data,
                st["max_exp_avg_sq"]._data if amsgrad else None, step, lr, beta1, beta2, eps,
                weight_decay, decoupled, maximize)
            p._bump_version()


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay``
    before the Adam step, instead of adding ``weight_decay * p`` to the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
