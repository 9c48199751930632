"""Adam and AdamW: bias-corrected running averages of the gradient and its square."""
import numpy as np

from .. import backends as backend
from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer, lerp_


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
            exp_avg, exp_avg_sq = st["exp_avg"]._data, st["exp_avg_sq"]._data
            fused = None if (maximize or weight_decay or amsgrad) else _fused_adam(
                data, g, exp_avg, exp_avg_sq)
            if fused:    # one parallel pass over memory instead of ~10 numpy passes
                fused(data, g, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, step)
                p._bump_version()
                continue
            if maximize:
                g = -g
            if weight_decay != 0:
                if decoupled:
                    data *= 1.0 - lr * weight_decay
                else:
                    g = g + weight_decay * data
            lerp_(exp_avg, g, 1.0 - beta1)
            exp_avg_sq *= beta2
            sq = g * (1.0 - beta2)
            sq *= g
            exp_avg_sq += sq
            step_size = lr / (1.0 - beta1 ** step)
            bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
            if amsgrad:
                if "max_exp_avg_sq" not in st:
                    st["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(data))
                max_sq = st["max_exp_avg_sq"]._data
                np.maximum(max_sq, exp_avg_sq, out=max_sq)
                denom = np.sqrt(max_sq)
            else:
                denom = np.sqrt(exp_avg_sq)
            denom /= bias_correction2_sqrt
            denom += eps
            update = np.multiply(exp_avg, -step_size, out=sq)
            update /= denom
            data += update
            p._bump_version()


def _fused_adam(data, *others):
    """The Numba Adam kernel when autodiff.backends picks it for this parameter, else None.

    The kernel writes through flat views, so every array must be C-contiguous (a copy
    would silently take the update) and of the parameter's dtype.
    """
    if not data.flags.c_contiguous or any(
            a.dtype != data.dtype or not a.flags.c_contiguous for a in others):
        return None
    return backend.kernel("adam_step", data)


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
