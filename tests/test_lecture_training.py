"""The lecture's training runs, end to end: datasets, DataLoader, nn, optim and checkpoints.

Each run uses fixed seeds, so the accuracies are reproducible; the thresholds leave a
margin below what the runs reach.
"""
import numpy as np
import pytest

import autodiff
from autodiff import datasets, nn, optim
from autodiff.data import DataLoader, TensorDataset


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Under ``pytest -n 2`` each worker's BLAS would start a thread per core on top of the
    other worker: oversubscribed, the tall matmuls here run ~10x slower. One BLAS thread per
    worker keeps the runs short; the accuracies do not depend on it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class NeuralNet(nn.Module):
    """The lecture's network for two moons: 2 -> h1 -> h2 -> 1, ReLU, sigmoid output."""

    def __init__(self, h1, h2):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(),
                                    nn.Linear(h2, 1), nn.Sigmoid())

    def forward(self, x):
        return self.layers(x)


def _binary_accuracy(model, X, y):
    with autodiff.no_grad():
        predicted = (model(X).reshape(-1) > 0.5).long()
    return (predicted == y).float().mean().item()


def _accuracy(model, X, y):
    with autodiff.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def _train_moons(epochs=15):
    autodiff.manual_seed(0)
    X, y = datasets.make_moons(1000, noise=0.2, seed=0)
    model = NeuralNet(80, 60)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.BCELoss()
    loader = DataLoader(TensorDataset(X, y.float().reshape(-1, 1)), batch_size=32,
                        shuffle=True, generator=0)
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    return model, opt, X, y


def test_moons_neuralnet_80_60_with_sgd_momentum():
    model, _, X, y = _train_moons()
    assert _binary_accuracy(model, X, y) >= 0.95


def test_noisy_moons_mlp_with_adam_full_batch():
    """10,000 points with noise 0.5, 80/20 split, 2-20-20-2, cross-entropy, Adam(lr=0.01),
    700 full-batch epochs (the lecture reports 0.8175 test accuracy)."""
    autodiff.manual_seed(0)
    X, y = datasets.make_moons(10_000, noise=0.5, seed=0)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=0.2, seed=0)
    model = nn.Sequential(nn.Linear(2, 20), nn.ReLU(), nn.Linear(20, 20), nn.ReLU(),
                          nn.Linear(20, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(700):
        opt.zero_grad()
        loss = loss_fn(model(X_train), y_train)
        loss.backward()
        opt.step()
    assert loss.item() < 0.45
    assert _accuracy(model, X_test, y_test) >= 0.80


def test_digits_mlp():
    pytest.importorskip("sklearn")
    autodiff.manual_seed(0)
    X, y = datasets.load_digits()
    X = X / 16.0
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=0.25, seed=0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=0.005)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True, generator=0)
    for _ in range(25):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    assert _accuracy(model, X_test, y_test) >= 0.95


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path):
    model, opt, X, y = _train_moons(epochs=2)
    path = tmp_path / "moons.ckpt"
    autodiff.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2}, path)

    autodiff.manual_seed(123)                       # different initial weights
    restored = NeuralNet(80, 60)
    restored_opt = optim.SGD(restored.parameters(), lr=0.5)
    with autodiff.no_grad():
        assert not np.array_equal(restored(X).numpy(), model(X).numpy())
    checkpoint = autodiff.load(path)
    restored.load_state_dict(checkpoint["model"])
    restored_opt.load_state_dict(checkpoint["optimizer"])
    assert checkpoint["epoch"] == 2 and restored_opt.param_groups[0]["lr"] == 0.1
    with autodiff.no_grad():
        np.testing.assert_array_equal(restored(X).numpy(), model(X).numpy())
    # training goes on identically from the checkpoint (momentum buffers included)
    target = y.float().reshape(-1, 1)
    for m, o in ((model, opt), (restored, restored_opt)):
        for _ in range(3):
            o.zero_grad()
            nn.BCELoss()(m(X[:64]), target[:64]).backward()
            o.step()
    for p, q in zip(model.parameters(), restored.parameters()):
        np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
