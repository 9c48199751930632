"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
import numpy as np

from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer, lerp_


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
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g + weight_decay * p._data
            square_avg = st["square_avg"]._data
            square_avg *= alpha
            sq = g * (1.0 - alpha)
            sq *= g
            square_avg += sq
            if centered:
                grad_avg = st["grad_avg"]._data
                lerp_(grad_avg, g, 1.0 - alpha)
                avg = square_avg - grad_avg * grad_avg
                np.sqrt(avg, out=avg)
            else:
                avg = np.sqrt(square_avg)
            avg += eps
            if momentum > 0:
                if "momentum_buffer" not in st:
                    st["momentum_buffer"] = Tensor._wrap(np.zeros_like(p._data))
                buf = st["momentum_buffer"]._data
                buf *= momentum
                buf += g / avg
                p._data -= lr * buf
            else:
                update = g * -lr
                update /= avg
                p._data += update
            p._bump_version()
