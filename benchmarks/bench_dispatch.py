"""Where the Numba kernels pay off, measured through the engine (autodiff.backends).

1. Activation forward + backward through the engine, numpy vs Numba kernel, over
   array sizes: the crossovers behind ``backends.MIN_SIZE``.
2. sigmoid, tanh, relu forward + backward on 10 million float32 values through the
   engine (automatic choice) against PyTorch CPU, with the bandwidth achieved
   against a plain array copy.
3. Training steps of the lecture MLP and the MNIST-sized MLP with the fused
   Numba linear kernels forced, against numpy/BLAS.

Minimum of several repeats; ratios from the same run.

    python benchmarks/bench_dispatch.py [--repeats 5]
"""
import argparse
import os
import sys

import numpy as np

import autodiff as ad
from autodiff import backends
from timing import best_time

torch = None   # imported last (section 2): two OpenMP runtimes in one process slow each other




def engine_step(name, x):
    """Forward and backward of one activation through the engine."""
    def step():
        x.grad = None
        getattr(x, name)().backward(ones_like[x.shape])
    return step


ones_like = {}


def crossover(repeats):
    print("1. activation forward+backward through the engine, float32: numpy vs Numba kernel")
    print(f"   {'size':>10s} " + " ".join(f"{n + ' numpy/numba':>22s}" for n in ("sigmoid", "tanh", "relu", "leaky_relu")))
    for size in (1_000, 2_000, 4_000, 16_000, 64_000, 256_000, 1_000_000):
        x = ad.randn(size, requires_grad=True)
        ones_like[x.shape] = ad.ones(size)
        cells = []
        for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
            times = {}
            for mode in ("numpy", "numba"):
                with backends.use(mode):
                    step = engine_step(name, x)
                    step()
                    times[mode] = best_time(step, max(1, 200_000 // size), repeats)
            cells.append(f"{times['numpy'] * 1e6:8.1f}/{times['numba'] * 1e6:<8.1f}us")
        print(f"   {size:>10,d} " + " ".join(f"{c:>22s}" for c in cells))


def big_activations(repeats, n=10_000_000):
    global torch
    try:
        import torch
    except ImportError:  # optional: pip install torch==2.13.0
        torch = None
    print(f"2. forward+backward on {n:,} float32 values through the engine (automatic choice) vs PyTorch")
    rng = np.random.default_rng(0)
    data = rng.standard_normal(n).astype(np.float32)
    copy_time = best_time(lambda: data.copy(), 1, repeats)
    copy_bw = 2 * data.nbytes / copy_time
    print(f"   plain copy: {copy_time * 1e3:.1f} ms, {copy_bw / 1e9:.1f} GB/s (read + write)")
    x = ad.tensor(data, requires_grad=True)
    ones_like[x.shape] = ad.ones(n)
    tx = torch.tensor(data, requires_grad=True) if torch is not None else None
    tg = torch.ones(n) if torch is not None else None
    for name in ("sigmoid", "tanh", "relu"):
        ours = best_time(engine_step(name, x), 1, repeats)
        # forward reads x, writes y; backward reads grad and y, writes grad_in: 5 arrays
        bandwidth = 5 * data.nbytes / ours
        line = (f"   {name:8s} autodiff {ours * 1e3:7.1f} ms ({bandwidth / 1e9:5.1f} GB/s, "
                f"{bandwidth / copy_bw:.2f} of copy)")
        if tx is not None:
            def torch_step():
                tx.grad = None
                getattr(tx, name)().backward(tg)
            theirs = best_time(torch_step, 1, repeats)
            line += f"   torch {theirs * 1e3:7.1f} ms   speed-up {theirs / ours:.2f}x"
        print(line)


def mlp_fused(repeats):
    print("3. training steps: fused Numba linear kernels forced vs numpy/BLAS")
    sys.path.insert(0, os.path.dirname(__file__))
    import bench_nn
    for title, case in bench_nn.CASES.items():
        rng = np.random.default_rng(1)
        x, y = case["data"](rng, case["batch"])
        times = {}
        for mode in ("numpy", "numba"):
            with backends.use(mode):
                step = bench_nn.make_step(ad, case["sizes"], x, y, case["loss_fn"], case["optimizer"])
                for _ in range(3):
                    step()
                times[mode] = best_time(step, case["steps"], repeats)
        print(f"   {title}: numpy {times['numpy'] * 1e6:8.1f} us/step, numba {times['numba'] * 1e6:8.1f} "
              f"us/step, numba/numpy speed-up {times['numpy'] / times['numba']:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"numba threads {__import__('numba').config.NUMBA_NUM_THREADS}")
    crossover(args.repeats)
    mlp_fused(args.repeats)
    big_activations(args.repeats)


if __name__ == "__main__":
    main()
