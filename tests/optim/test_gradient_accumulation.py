"""Gradient accumulation (loss / k, step every k batches) equals one k-times larger batch."""
import importlib.util
import pathlib

import numpy as np
import pytest

import autodiff
from autodiff import nn, optim

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "gradient_accumulation.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("gradient_accumulation", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_accumulated_gradient_equals_the_big_batch_gradient(example):
    X, y = example.make_data(n=32)
    model = example.make_model()
    loss_fn = nn.MSELoss()
    loss_fn(model(X), y).backward()
    big = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    for i in range(0, 32, 8):
        (loss_fn(model(X[i:i + 8]), y[i:i + 8]) / 4).backward()
    small = [p.grad.numpy() for p in model.parameters()]
    for g, h in zip(big, small):
        assert np.abs(g).max() > 1e-3
        np.testing.assert_allclose(h, g, rtol=1e-12, atol=1e-15)


def test_the_example_trains_to_the_same_parameters(example):
    X, y = example.make_data()
    big, small = example.make_model(), example.make_model()
    start = _params(big)
    assert example.train(big, X, y, batch_size=64) == 12
    assert example.train(small, X, y, batch_size=16, accumulation_steps=4) == 12
    for p, q, s in zip(_params(big), _params(small), start):
        assert np.abs(p - s).max() > 1e-3                    # training moved the weights
        np.testing.assert_allclose(q, p, rtol=1e-10, atol=1e-12)
    assert example.main() < 1e-12


def test_sgd_momentum_accumulation_with_raw_tensors():
    """The same with no nn: weights as raw tensors and the fused Linear op."""
    from autodiff.ops.linalg import Linear
    rng = np.random.default_rng(0)
    X, y = autodiff.tensor(rng.standard_normal((12, 2))), autodiff.tensor(rng.standard_normal((12, 1)))
    init = [rng.standard_normal((5, 2)), np.zeros(5), rng.standard_normal((1, 5)), np.zeros(1)]

    def run(k, steps=5):
        w = [autodiff.tensor(a.copy(), requires_grad=True) for a in init]
        opt = optim.SGD(w, lr=0.1, momentum=0.9)
        for _ in range(steps):
            opt.zero_grad()
            for xb, yb in zip(X.split(12 // k), y.split(12 // k)):
                out = Linear.apply(Linear.apply(xb, w[0], w[1]).tanh(), w[2], w[3])
                (((out - yb) ** 2).mean() / k).backward()
            opt.step()
        return [p.detach().numpy() for p in w]

    one, three = run(1), run(3)
    for a, b in zip(one, three):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    assert not np.allclose(one[0], init[0])
