"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .. import backends
from ..backends import CPU
from ._options import check_switches
from .optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's SGD. With momentum ``m`` and dampening ``d``:

        g = grad (+ weight_decay * p)          (-grad when maximize)
        buf = g                    on the first step
        buf = m * buf + (1 - d) * g            afterwards
        g = g + m * buf  (nesterov)   or   g = buf
        p = p - lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False, fused=None):
        check_switches("SGD", differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening "
                             f"(got momentum={momentum}, dampening={dampening})")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update(self, group):
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        state = self.state
        for p in group["params"]:
            grad = p._grad                  # (the slot: no property on this hot path)
            if grad is None:
                continue
            st = state[p] if momentum != 0 else None
            buf = st.get("momentum_buffer") if st is not None else None
            data = p._data
            new_buf = (CPU if type(data) is np.ndarray else backends.of(data)).sgd_step(
                data, grad._data, None if buf is None else buf._data, lr, momentum, dampening,
                weight_decay, nesterov, maximize)
            if momentum != 0 and buf is None:
                st["momentum_buffer"] = p._wrap(new_buf)
            p._bump_version()
