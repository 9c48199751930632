"""Where a 'cuda' MNIST-sized training step (784-256-128-10, batch 128, CrossEntropy, Adam)
spends its time on the host: cProfile of a few steps after warm-up, top functions by own time.

    python benchmarks/gpu/profile_cuda_step.py [--steps 5]
"""
import argparse
import cProfile
import pstats
import time

import numpy as np

import autodiff as ad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    x = ad.tensor(rng.standard_normal((128, 784)).astype(np.float32), device="cuda")
    y = ad.tensor(rng.integers(0, 10, 128), device="cuda")
    model = ad.nn.Sequential(ad.nn.Linear(784, 256), ad.nn.ReLU(), ad.nn.Linear(256, 128),
                             ad.nn.ReLU(), ad.nn.Linear(128, 10)).to("cuda")
    opt = ad.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = ad.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for i in range(3):
        start = time.perf_counter()
        step()
        ad.cuda.synchronize()
        print(f"warm-up step {i}: {1e3 * (time.perf_counter() - start):.1f} ms", flush=True)
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    for _ in range(args.steps):
        step()
    ad.cuda.synchronize()
    profile.disable()
    print(f"{args.steps} profiled steps: {1e3 * (time.perf_counter() - start) / args.steps:.1f} ms/step")
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats("autodiff|kernels", 40)   # (autodiff's own calls)


if __name__ == "__main__":
    main()
