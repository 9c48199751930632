"""Where a 'cuda' MNIST-sized training step (784-256-128-10, batch 128, CrossEntropy, Adam)
spends its time on the host: cProfile of a few steps after warm-up, top functions by own time.

    python benchmarks/gpu/profile_cuda_step.py [--steps 5]
"""
import argparse
import cProfile
import pstats
import time

import autodiff as ad
from bench_gpu import make_mnist_step   # (this folder: the same step as the benchmark)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    step, _ = make_mnist_step("autodiff")
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
