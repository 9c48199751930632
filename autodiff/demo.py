"""``python -m autodiff.demo``: train a tiny MLP on two interleaved half-moons with raw tensors.

A placeholder until the visualization issue turns it into the full demo.
"""
import argparse
import math

import numpy as np

import autodiff as ad


def make_moons(n, noise, rng):
    t = rng.uniform(0, math.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    points = np.stack([x, y], axis=1) + rng.normal(0, noise, (n, 2))
    return points.astype(np.float32), (~upper).astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X, y = make_moons(200, 0.1, rng)
    X, y = ad.tensor(X), ad.tensor(y).reshape(-1, 1)
    sizes = [2, 16, 16, 1]
    params = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        w = ad.tensor(rng.normal(0, math.sqrt(2 / fan_in), (fan_in, fan_out)).astype(np.float32), requires_grad=True)
        b = ad.zeros(fan_out, requires_grad=True)
        params += [w, b]
    for epoch in range(args.epochs):
        h = X
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = h.relu()
        loss = (h.clamp(min=0) - h * y + (-h.abs()).exp().log1p()).mean()   # BCE with logits
        for p in params:
            p.grad = None
        loss.backward()
        with ad.no_grad():
            for p in params:
                p -= 0.5 * p.grad
    accuracy = ((h.detach() > 0).float() == y).float().mean().item()
    print(f"epochs {args.epochs}  loss {loss.item():.4f}  training accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
