"""Rprop: per-element step sizes that grow while the gradient keeps its sign and shrink when it flips."""
import numpy as np

from ..tensor import Tensor
from ._options import check_switches
from .optimizer import Optimizer


class Rprop(Optimizer):
    """PyTorch's Rprop (resilient backpropagation, iRprop- variant):

        s = sign(g * g_prev)
        step = clamp(step * (etaplus if s > 0, etaminus if s < 0, 1 if s == 0), *step_sizes)
        g = 0 where s < 0   (after a sign flip the element waits one step)
        p = p - sign(g) * step;   g_prev = g
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_switches("Rprop", differentiable)
        etas, step_sizes = tuple(etas), tuple(step_sizes)
        if len(etas) != 2 or not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: invalid eta values: {etas} (need 0 < etaminus < 1 < etaplus)")
        if len(step_sizes) != 2:
            raise ValueError(f"Rprop: step_sizes must be a pair (min, max), got {step_sizes!r}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, group):
        etaminus, etaplus = (float(e) for e in group["etas"])
        step_min, step_max = (float(s) for s in group["step_sizes"])
        for p, data, g, st in self._gradients(group):
            if not st:
                st["step"] = 0
                st["prev"] = Tensor._wrap(np.zeros_like(data))
                st["step_size"] = Tensor._wrap(np.full_like(g, float(group["lr"])))
            st["step"] += 1
            prev, step_size = st["prev"]._data, st["step_size"]._data
            sign = np.sign(g * prev)
            factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0)).astype(data.dtype)
            step_size *= factor
            np.clip(step_size, step_min, step_max, out=step_size)
            g = np.where(sign < 0, 0, g).astype(data.dtype, copy=False)
            data -= np.sign(g) * step_size
            prev[...] = g
            p._bump_version()
