"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
import numpy as np

from .. import backends
from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """PyTorch's RMSprop:

        g = grad (+ weight_decay * p)
        v = alpha * v + (1 - alpha) * g * g
        centered:  m = lerp(m, g, 1 - alpha);  avg = sqrt(v - m * m) + eps
        otherwise: avg = sqrt(v) + eps
        momentum:  buf = momentum * buf + g / avg;  p = p - lr * buf
        otherwise: p = p - lr * g / avg
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, capturable=False, foreach=None, maximize=False, differentiable=False):
        check_switches("RMSprop", differentiable)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group):
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered, maximize = group["centered"], group["maximize"]
        state = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            g = grad._data
            st = state[p]
            if not st:
                st["step"] = 0
                st["square_avg"] = Tensor._wrap(np.zeros_like(p._data))
                if momentum > 0:
                    st["momentum_buffer"] = Tensor._wrap(np.zeros_like(p._data))
                if centered:
                    st["grad_avg"] = Tensor._wrap(np.zeros_like(p._data))
            st["step"] += 1
            if momentum > 0 and "momentum_buffer" not in st:
                st["momentum_buffer"] = Tensor._wrap(np.zeros_like(p._data))
            if centered and "grad_avg" not in st:
                st["grad_avg"] = Tensor._wrap(np.zeros_like(p._data))
            backends.of(p._data).rmsprop_step(
                p._data, g, st["square_avg"]._data, st["grad_avg"]._data if centered else None,
                st["momentum_buffer"]._data if momentum > 0 else None, lr, alpha, eps,
                weight_decay, momentum, maximize)
            p._bump_version()
