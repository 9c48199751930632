"""kernels.cpu.adam_step against the numpy Adam of autodiff.optim, and through the optimizer."""
import numpy as np
import pytest

import autodiff as ad
import kernels.cpu as k
from autodiff import backends
from autodiff.optim.optimizer import lerp_


def numpy_adam(p, g, m, v, lr, beta1, beta2, eps, step):
    lerp_(m, g, 1.0 - beta1)
    v *= beta2
    sq = g * (1.0 - beta2)
    sq *= g
    v += sq
    denom = np.sqrt(v)
    denom /= (1.0 - beta2 ** step) ** 0.5
    denom += eps
    update = np.multiply(m, -lr / (1.0 - beta1 ** step), out=sq)
    update /= denom
    p += update


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta1", [0.9, 0.3])   # both forms of torch.lerp
def test_adam_step_matches_numpy(dtype, beta1):
    rng = np.random.default_rng(0)
    p = rng.standard_normal((37, 29)).astype(dtype)
    m, v = np.zeros_like(p), np.zeros_like(p)
    P, M, V = p.copy(), m.copy(), v.copy()
    for step in range(1, 6):
        g = rng.standard_normal(p.shape).astype(dtype)
        k.adam_step(P, g, M, V, 1e-2, beta1, 0.999, 1e-8, step)
        numpy_adam(p, g, m, v, 1e-2, beta1, 0.999, 1e-8, step)
    np.testing.assert_array_equal(M, m)
    np.testing.assert_array_equal(V, v)
    if dtype == np.float64:
        np.testing.assert_array_equal(P, p)           # bit for bit
    else:
        np.testing.assert_array_max_ulp(P, p, maxulp=1)


def test_adam_optimizer_gives_the_same_parameters_with_the_kernel(monkeypatch):
    results = []
    for min_size in (backends.NEVER, 0):      # numpy's Adam, then the kernel for every parameter
        monkeypatch.setitem(backends.MIN_SIZE, "adam_step", min_size)
        ad.manual_seed(0)
        model = ad.nn.Linear(40, 30).double()
        opt = ad.optim.Adam(model.parameters(), lr=0.01)
        x = ad.randn(8, 40, dtype=ad.float64)
        for _ in range(5):
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()
        results.append([p.detach().numpy().copy() for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
