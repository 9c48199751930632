"""Speed of the Numba CPU kernels (kernels.cpu) against numpy and PyTorch CPU, in one run.

1. matmul, float32, n x n @ n x n for n = 256, 1024, 2048: GFLOP/s (2 n^3 / time) of
   kernels.cpu.matmul and numpy's BLAS, and their ratio.
2. Each activation forward and backward over 10 million float32 values: time and GB/s
   (bytes read + written) for the kernel, numpy (the expression an engine built on numpy
   would evaluate) and torch (the aten kernels its autograd calls), next to the GB/s of a
   plain array copy (numpy's, one thread, and a Numba prange copy on all threads), the
   memory-bound ceiling. Every call allocates its result, as the public functions do.

Every figure is the minimum over several repeats in three rounds (these machines are
shared and noisy; see `best_times`). Ratios compare numbers from the same run.
Compilation (or loading Numba's cache) happens in a warm-up call.

    python benchmarks/bench_kernels.py [--repeats 10] [--size 10000000] [--only matmul]
"""
import argparse
import os
import time

import numba
import numpy as np

from kernels import cpu
from timing import best_times

try:
    import torch
except ImportError:  # PyTorch is optional: pip install torch==2.13.0
    torch = None
try:
    from scipy.special import erf
except ImportError:  # numpy has no erf: no numpy column for GELU without scipy
    erf = None


@numba.njit(parallel=True)
def parallel_copy(src, dst):
    for i in numba.prange(src.size):
        dst[i] = src[i]




def bench_matmul(repeats):
    print("matmul, float32, C = A @ B with A, B n x n (GFLOP/s = 2 n^3 / time)")
    print(f"{'n':>6} {'kernels':>10} {'numpy':>10} {'kernels/numpy':>14}")
    rng = np.random.default_rng(0)
    for n in (256, 1024, 2048):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        out = np.empty((n, n), np.float32)
        ours, theirs = best_times([lambda: cpu.matmul(a, b, out=out),
                                   lambda: np.matmul(a, b, out=out)], repeats)
        flops = 2 * n ** 3
        print(f"{n:>6} {flops / ours / 1e9:>10.1f} {flops / theirs / 1e9:>10.1f} "
              f"{theirs / ours:>14.2f}")
    print()


def numpy_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def activation_cases():
    """name -> (kernel fwd, kernel bwd, numpy fwd, numpy bwd, torch fwd, torch bwd);
    backward passes take (grad, saved), saved being the output or the input like the kernel."""
    F = torch.nn.functional if torch else None
    aten = torch.ops.aten if torch else None
    gelu_np = (lambda x: 0.5 * x * (1 + erf(x * np.float32(0.7071067811865476)))) if erf else None
    gelu_np_bwd = (lambda g, x: g * (0.5 * (1 + erf(x * np.float32(0.7071067811865476)))
                                     + x * np.exp(-0.5 * x * x) * np.float32(0.3989422804014327))
                   ) if erf else None
    return {
        "relu": (cpu.relu, cpu.relu_backward,
                 lambda x: np.maximum(x, 0), lambda g, y: g * (y > 0),
                 F and F.relu, aten and (lambda g, y: aten.threshold_backward(g, y, 0))),
        "leaky_relu": (cpu.leaky_relu, cpu.leaky_relu_backward,
                       lambda x: np.where(x > 0, x, np.float32(0.01) * x),
                       lambda g, x: np.where(x > 0, g, np.float32(0.01) * g),
                       F and F.leaky_relu,
                       aten and (lambda g, x: aten.leaky_relu_backward(g, x, 0.01, False))),
        "sigmoid": (cpu.sigmoid, cpu.sigmoid_backward,
                    numpy_sigmoid, lambda g, y: g * y * (1 - y),
                    torch and torch.sigmoid, aten and aten.sigmoid_backward),
        "tanh": (cpu.tanh, cpu.tanh_backward,
                 np.tanh, lambda g, y: g * (1 - y * y),
                 torch and torch.tanh, aten and aten.tanh_backward),
        "hardtanh": (cpu.hardtanh, cpu.hardtanh_backward,
                     lambda x: np.clip(x, -1, 1), lambda g, x: g * ((x > -1) & (x < 1)),
                     F and F.hardtanh, aten and (lambda g, x: aten.hardtanh_backward(g, x, -1, 1))),
        "gelu": (cpu.gelu, cpu.gelu_backward, gelu_np, gelu_np_bwd,
                 F and F.gelu, aten and aten.gelu_backward),
        "softplus": (cpu.softplus, cpu.softplus_backward,
                     lambda x: np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20)))),
                     lambda g, x: np.where(x > 20, g, g * numpy_sigmoid(x)),
                     F and F.softplus,
                     aten and (lambda g, x: aten.softplus_backward(g, x, 1.0, 20.0))),
    }


def bench_activations(size, repeats):
    rng = np.random.default_rng(1)
    x = rng.uniform(-4, 4, size).astype(np.float32)
    grad = rng.standard_normal(size, dtype=np.float32)
    dst = np.empty_like(x)
    itemsize = x.itemsize
    copy_gbs = [2 * size * itemsize / t / 1e9 for t in best_times(
        [lambda: np.copyto(dst, x), lambda: parallel_copy(x, dst)], repeats)]
    print(f"activations, float32, {size:,} values: time in ms (GB/s of bytes read + written; "
          f"a copy into an existing array runs at {copy_gbs[0]:.1f} GB/s with numpy, "
          f"{copy_gbs[1]:.1f} GB/s with a Numba prange loop)")
    header = (f"{'op':<20} {'kernels':>16} {'numpy':>16} {'torch':>16} "
              f"{'vs numpy':>9} {'vs torch':>9}")
    print(header)
    tx = torch.from_numpy(x) if torch else None
    tgrad = torch.from_numpy(grad) if torch else None
    for name, (k_fwd, k_bwd, n_fwd, n_bwd, t_fwd, t_bwd) in activation_cases().items():
        saved = {"relu": "out", "sigmoid": "out", "tanh": "out"}.get(name, "x")
        out = k_fwd(x)
        t_out = t_fwd(tx) if torch else None
        for direction, bytes_moved in (("forward", 2), ("backward", 3)):
            if direction == "forward":
                calls = (lambda: k_fwd(x), n_fwd and (lambda: n_fwd(x)),
                         t_fwd and (lambda: t_fwd(tx)))
            else:
                s, ts = (out, t_out) if saved == "out" else (x, tx)
                calls = (lambda: k_bwd(grad, s), n_bwd and (lambda: n_bwd(grad, s)),
                         t_bwd and (lambda: t_bwd(tgrad, ts)))
            times = best_times(calls, repeats)
            cells = [f"{t * 1e3:7.1f} ({bytes_moved * size * itemsize / t / 1e9:5.1f})"
                     if t else f"{'-':>15}" for t in times]
            ratios = [f"{other / times[0]:8.2f}x" if other else f"{'-':>9}" for other in times[1:]]
            print(f"{name + ' ' + direction:<20} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16} "
                  f"{ratios[0]:>9} {ratios[1]:>9}")
    print("(vs numpy / vs torch: how many times faster the kernel is)")


def busy_fraction(seconds=1.0):
    """Share of CPU time used by anything in the next `seconds` (Linux), else None."""
    def sample():
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait, total
    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except OSError:
        return None
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--only", choices=["matmul", "activations"], help="run one section")
    args = parser.parse_args()
    busy = busy_fraction()
    print(f"{os.cpu_count()} CPUs, Numba {numba.__version__} with {numba.get_num_threads()} "
          f"threads, numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'} "
          f"with {torch.get_num_threads() if torch else 0} threads"
          + ("" if busy is None else f"; CPUs {busy:.0%} busy just before the run"))
    if busy is not None and busy > 0.1:
        print("warning: something else is running; figures will be low and noisy")
    print()
    if args.only != "activations":
        bench_matmul(args.repeats)
    if args.only != "matmul":
        bench_activations(args.size, args.repeats)
    print(f"(threading layer: {numba.threading_layer()})")


if __name__ == "__main__":
    main()
