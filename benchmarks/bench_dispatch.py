"""Where the Numba kernels pay off, measured through the engine (autodiff.backends).

1. Activation forward + backward through the engine, numpy vs Numba kernel, over
   array sizes: the crossovers behind ``backends.MIN_SIZE``.
2. sigmoid, tanh, relu forward + backward on 10 million float32 values through the
   engine (automatic choice) against PyTorch CPU, with the bandwidth achieved
   against a plain array copy.
3. Training steps of the lecture MLP and the MNIST-sized MLP with the fused
   Numba linear kernels forced, against numpy/BLAS.
4. The MNIST-sized Adam step with the automatic choice against numpy only, in a process
   of its own each, alone and with PyTorch imported first (its own OpenMP runtime beside
   Numba's: the automatic rule must not lose to numpy there either).

Minimum of several repeats; ratios from the same run.

    python benchmarks/bench_dispatch.py [--repeats 5]
"""
import argparse
import os
import sys

if "--torch-first" in sys.argv:   # (section 4: PyTorch's OpenMP runtime loaded before anything else)
    import torch as _loaded_first  # noqa: F401

import numpy as np

import autodiff as ad
from autodiff import backends
from timing import best_time, has_torch, measure_in_subprocess

# PyTorch is timed in processes of its own: two OpenMP runtimes in one process slow each other




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


ACTIVATIONS = ("sigmoid", "tanh", "relu")


def activation_times(lib_name, repeats, n):
    """Seconds for forward + backward of each activation on n float32 values, in this process
    (autodiff's automatic choice, or PyTorch), and of a plain copy."""
    data = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    times = {"copy": best_time(lambda: data.copy(), 1, repeats)}
    if lib_name == "torch":
        import torch as lib
        x, upstream = lib.tensor(data, requires_grad=True), lib.ones(n)
    else:
        lib = ad
        x, upstream = ad.tensor(data, requires_grad=True), ad.ones(n)
    for name in ACTIVATIONS:
        def step():
            x.grad = None
            getattr(x, name)().backward(upstream)
        times[name] = best_time(step, 1, repeats)
    return times


def big_activations(repeats, n=10_000_000):
    print(f"2. forward+backward on {n:,} float32 values through the engine (automatic choice) vs PyTorch, "
          "each library in its own process")
    ours = measure_in_subprocess(__file__, "--repeats", repeats, "--activations", "autodiff", n)
    theirs = measure_in_subprocess(__file__, "--repeats", repeats, "--activations", "torch", n) \
        if has_torch() else None
    copy_bw = 2 * 4 * n / ours["copy"]
    print(f"   plain copy: {ours['copy'] * 1e3:.1f} ms, {copy_bw / 1e9:.1f} GB/s (read + write)")
    for name in ACTIVATIONS:
        # forward reads x, writes y; backward reads grad and y, writes grad_in: 5 arrays
        bandwidth = 5 * 4 * n / ours[name]
        line = (f"   {name:8s} autodiff {ours[name] * 1e3:7.1f} ms ({bandwidth / 1e9:5.1f} GB/s, "
                f"{bandwidth / copy_bw:.2f} of copy)")
        if theirs:
            line += f"   torch {theirs[name] * 1e3:7.1f} ms   speed-up {theirs[name] / ours[name]:.2f}x"
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


MNIST_ADAM = "MNIST-sized 784-256-128-10, batch 128, CrossEntropy, Adam"


def mnist_step_time(mode, repeats):
    """Seconds per MNIST-sized Adam step with ``backends.use(mode)``, in this process."""
    sys.path.insert(0, os.path.dirname(__file__))
    import bench_nn
    case = bench_nn.CASES[MNIST_ADAM]
    x, y = case["data"](np.random.default_rng(1), case["batch"])
    with backends.use(mode):
        step = bench_nn.make_step(ad, case["sizes"], x, y, case["loss_fn"], case["optimizer"])
        for _ in range(3):
            step()
        return best_time(step, case["steps"], repeats)


def mixed_process(repeats):
    print(f"4. {MNIST_ADAM}: automatic choice vs numpy only, each in its own process")
    for torch_first in ([False, True] if has_torch() else [False]):
        times = {mode: measure_in_subprocess(__file__, "--repeats", repeats, "--step", mode,
                                             *(["--torch-first"] if torch_first else []))
                 for mode in ("auto", "numpy")}
        label = "with torch imported first" if torch_first else "numpy and Numba alone     "
        print(f"   {label}: auto {times['auto'] * 1e3:6.2f} ms/step, numpy {times['numpy'] * 1e3:6.2f} "
              f"ms/step, auto/numpy speed-up {times['numpy'] / times['auto']:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", type=int, choices=[1, 2, 3, 4], help="run one section")
    parser.add_argument("--step", choices=["auto", "numpy"], help=argparse.SUPPRESS)
    parser.add_argument("--torch-first", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--activations", nargs=2, metavar=("LIB", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.activations:
        import json
        print(json.dumps(activation_times(args.activations[0], args.repeats, int(args.activations[1]))))
        return
    if args.step:
        print(mnist_step_time(args.step, args.repeats))
        return
    print(f"numba threads {__import__('numba').config.NUMBA_NUM_THREADS}")
    sections = [crossover, big_activations, mlp_fused, mixed_process]   # (as numbered in the docstring)
    for number, section in enumerate(sections, 1):
        if args.only in (None, number):
            section(args.repeats)


if __name__ == "__main__":
    main()
