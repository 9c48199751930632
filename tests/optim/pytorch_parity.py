"""The harness the optimizer tests share: our optimizer and PyTorch's on the same float64
parameters, fed the same gradients (a smooth numpy function of the current parameters).

Not collected (no test_ prefix); the test modules beside it import it by name.
"""
import numpy as np
import pytest

import autodiff
from autodiff import optim

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (3,), (2, 2)]


def grad(p, k):
    """A smooth gradient field: nonlinear, different for every parameter."""
    return np.tanh(1.3 * p + 0.2 * k) + 0.3 * p ** 3 - 0.1 * (k + 1)


def initial():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s) for s in SHAPES]


def pair(name, options, groups=None):
    """Our optimizer and PyTorch's, on the same initial parameters."""
    init = initial()
    ours = [autodiff.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    if groups is None:
        ours_params, theirs_params = ours, theirs
    else:
        ours_params = [dict(params=[ours[i] for i in idx], **extra) for idx, extra in groups]
        theirs_params = [dict(params=[theirs[i] for i in idx], **extra) for idx, extra in groups]
    opt = getattr(optim, name)(ours_params, **options)
    topt = getattr(torch.optim, name)(theirs_params, foreach=False, **options)
    return ours, theirs, opt, topt


def run(ours, theirs, opt, topt, steps, skip=None):
    sign = -1.0 if opt.defaults.get("maximize") else 1.0     # maximize climbs -f
    for t in range(steps):
        for k, (p, q) in enumerate(zip(ours, theirs)):
            if k == skip and t % 3 == 1:
                p.grad = q.grad = None       # a parameter without a gradient is left alone
                continue
            p.grad = autodiff.tensor(sign * grad(p.detach().numpy(), k))
            q.grad = torch.from_numpy(sign * grad(q.detach().numpy(), k))
        opt.step()
        topt.step()


def assert_same(ours, theirs, rtol=1e-9):
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=1e-12)
