"""Kernel launches, host<->device copies and device allocations in one training step on 'cuda'
(autodiff.cuda.stats()).

A 3-layer MLP with CrossEntropyLoss and Adam, as in issue 12's launch budget. Launch counts do
not depend on sizes, so this runs on Numba's CUDA simulator too (NUMBA_ENABLE_CUDASIM=1), with
tiny sizes; on a GPU pass --sizes 784,256,128,10 --batch 128.

    NUMBA_ENABLE_CUDASIM=1 python benchmarks/gpu/launches_per_step.py
"""
import argparse
import json

import numpy as np

import autodiff
from autodiff import nn, optim


def step_counts(sizes, batch, steps=3):
    rng = np.random.default_rng(0)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to("cuda")
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = autodiff.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32), device="cuda")
    y = autodiff.tensor(rng.integers(0, sizes[-1], batch), device="cuda")
    counts = []
    for _ in range(steps):
        autodiff.cuda.stats(reset=True)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        counts.append(autodiff.cuda.stats())
    return counts[-1]            # (the first step also creates optimizer state)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6,5,4,3")
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = step_counts(sizes, args.batch)
    print(f"one training step, MLP {'-'.join(map(str, sizes))}, batch {args.batch}, CrossEntropy, Adam on "
          f"{autodiff.cuda.get_device_name()}: {counts['launches']} kernel launches, "
          f"{counts['device_to_host']} device-to-host and {counts['host_to_device']} host-to-device copies, "
          f"{counts['allocations']} new device allocations and {counts['cache_hits']} blocks reused")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
