"""ASGD: SGD with a decaying step size and a running average of the iterates (Polyak & Juditsky)."""
import numpy as np

from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer, scalar_state


class ASGD(Optimizer):
    """PyTorch's averaged SGD. ``eta`` and ``mu`` are float32 scalar states, as in PyTorch:

        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)           (ax = p while mu == 1, i.e. until step t0)
        eta = lr / (1 + lambd * lr * t)^alpha;   mu = 1 / max(1, t - t0)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_switches("ASGD", differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _check_options(self, group):
        # PyTorch checks only lr and weight_decay here: ASGD's alpha is an exponent
        super()._check_options({k: v for k, v in group.items() if k != "alpha"})

    def _update(self, group):
        lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
        weight_decay = float(group["weight_decay"])
        for p, data, g, st in self._gradients(group):
            if not st:
                st["step"] = 0
                st["eta"] = scalar_state(lr)
                st["mu"] = scalar_state(1.0)
                st["ax"] = Tensor._wrap(np.zeros_like(data))
            step = st["step"] = st["step"] + 1
            if weight_decay != 0:
                g = g + weight_decay * data
            eta = float(st["eta"]._data)
            data *= 1.0 - lambd * eta
            data -= eta * g
            ax = st["ax"]._data
            mu = float(st["mu"]._data)
            if mu != 1:
                ax += (data - ax) * mu
            else:
                ax[...] = data
            st["eta"]._data[...] = lr / ((1.0 + lambd * lr * step) ** alpha)
            st["mu"]._data[...] = 1.0 / max(1.0, step - t0)
            p._bump_version()
