"""Gradient accumulation: k small batches, one optimizer step, the same update as one big batch.

When a batch of B * k samples does not fit in memory, split it into k micro-batches of B:
scale each micro-batch's mean loss by 1/k, call backward() on each (``.grad`` adds up), and
step once every k micro-batches. The mean over the big batch is the mean of the k
micro-batch means, so the accumulated gradient, and therefore the step, is the same.

    python examples/gradient_accumulation.py
"""
import numpy as np

import autodiff
from autodiff import nn, optim
from autodiff.data import DataLoader, TensorDataset


def make_model(seed=0):
    autodiff.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 16, dtype=autodiff.float64), nn.Tanh(),
                         nn.Linear(16, 1, dtype=autodiff.float64))


def make_data(n=256, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2] * X[:, 2:3] + 0.1 * rng.standard_normal((n, 1))
    return autodiff.tensor(X), autodiff.tensor(y)


def train(model, X, y, batch_size, accumulation_steps=1, epochs=3, lr=0.01):
    """Adam on the MSE; an optimizer step every ``accumulation_steps`` batches of ``batch_size``."""
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)   # the same order for both
    steps = 0
    for _ in range(epochs):
        opt.zero_grad()
        for i, (xb, yb) in enumerate(loader, start=1):
            loss = loss_fn(model(xb), yb) / accumulation_steps    # scale by 1/k ...
            loss.backward()                                       # ... and let .grad add up
            if i % accumulation_steps == 0:                       # step every k batches
                opt.step()
                opt.zero_grad()
                steps += 1
    return steps


def main():
    X, y = make_data()
    big, small = make_model(), make_model()
    k = 4
    steps_big = train(big, X, y, batch_size=64)
    steps_small = train(small, X, y, batch_size=64 // k, accumulation_steps=k)
    diff = max(np.abs(p.detach().numpy() - q.detach().numpy()).max()
               for p, q in zip(big.parameters(), small.parameters()))
    print(f"one batch of 64:            {steps_big} optimizer steps")
    print(f"{k} micro-batches of {64 // k}, accumulated: {steps_small} optimizer steps")
    print(f"largest parameter difference: {diff:.2e}  (rounding only)")
    return diff


if __name__ == "__main__":
    main()
