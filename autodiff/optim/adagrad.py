"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
import numpy as np

from .. import backends
from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """PyTorch's Adagrad:

        g = grad (+ weight_decay * p)
        clr = lr / (1 + (step - 1) * lr_decay)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_switches("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        st = self.state[p]
        st["step"] = 0
        st["sum"] = Tensor._wrap(np.full_like(p._data, group["initial_accumulator_value"]))
        return st

    def _update(self, group):
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        weight_decay = float(group["weight_decay"])
        eps = float(group["eps"])
        maximize = group["maximize"]
        state = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            g = grad._data
            st = state[p]
            if not st:
                st = self._init_state(p, group)
            step = st["step"] + 1
            st["step"] = step
            clr = lr / (1 + (step - 1) * lr_decay)
            backends.of(p._data).adagrad_step(p._data, g, st["sum"]._data, clr, eps, weight_decay,
                                              maximize)
            p._bump_version()
