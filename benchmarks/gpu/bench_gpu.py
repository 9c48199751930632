"""autodiff on an NVIDIA GPU against PyTorch CUDA, each library in its own process.

1. The MNIST-sized training step (MLP 784-256-128-10, batch 128, CrossEntropy, Adam) on 'cuda':
   ms per step, min of repeats, and the ratio torch time / autodiff time.
2. float32 matrix products n x n @ n x n, n = 1024 and 4096: kernels.cuda.matmul (Numba's tiled
   kernel) against torch.matmul (cuBLAS, TF32 off so both compute in float32), in TFLOP/s.

Needs a GPU (Numba's CUDA target sees it); PyTorch CUDA is optional (then autodiff alone).

    python benchmarks/gpu/bench_gpu.py [--repeats 5]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from timing import best_time, measure_in_subprocess  # noqa: E402

SIZES, BATCH, STEPS = [784, 256, 128, 10], 128, 20


def make_mnist_step(lib_name):
    """The MNIST-sized training step on 'cuda' in ``lib_name`` (autodiff or torch), and that
    library's synchronize."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    if lib_name == "torch":
        import torch as lib
        sync = lib.cuda.synchronize
        xb, yb = lib.from_numpy(x).cuda(), lib.from_numpy(y).cuda()
    else:
        import autodiff as lib
        sync = lib.cuda.synchronize
        xb, yb = lib.tensor(x, device="cuda"), lib.tensor(y, device="cuda")
    layers = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [lib.nn.Linear(fan_in, fan_out), lib.nn.ReLU()]
    model = lib.nn.Sequential(*layers[:-1]).to("cuda")
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss
    return step, sync


def mnist_step(lib_name, repeats):
    step, sync = make_mnist_step(lib_name)
    for _ in range(3):          # (the first steps compile every kernel: Numba compiles on first launch)
        step()
    sync()

    def steps():
        for _ in range(STEPS):
            step()
        sync()
    return {"step": best_time(steps, 1, repeats) / STEPS, "loss": float(step().item())}


def matmul(lib_name, n, repeats):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    if lib_name == "torch":
        import torch
        torch.backends.cuda.matmul.allow_tf32 = False
        da, db = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
        out = torch.empty((n, n), device="cuda")
        call, sync = (lambda: torch.matmul(da, db, out=out)), torch.cuda.synchronize
        check = lambda: out.cpu().numpy()   # noqa: E731
    else:
        from numba import cuda
        from kernels import cuda as K
        da, db = cuda.to_device(a), cuda.to_device(b)
        out = cuda.device_array((n, n), np.float32)
        call, sync = (lambda: K.matmul(da, db, out=out)), cuda.synchronize
        check = lambda: out.copy_to_host()  # noqa: E731
    call()
    sync()
    rows = rng.integers(0, n, 8)
    error = float(np.max(np.abs(check()[rows] - a[rows].astype(np.float64) @ b)))
    number = 20 if n <= 1024 else 5

    def run():
        for _ in range(number):
            call()
        sync()
    seconds = best_time(run, 1, repeats) / number
    return {"seconds": seconds, "tflops": 2 * n ** 3 / seconds / 1e12, "max_error": error}


def torch_cuda_available():
    try:
        return measure_in_subprocess(__file__, "--probe")
    except Exception:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        import json
        import torch
        print(json.dumps(bool(torch.cuda.is_available())))
        return
    if args.measure:
        import json
        what, lib_name, *rest = args.measure
        result = mnist_step(lib_name, args.repeats) if what == "mnist" else \
            matmul(lib_name, int(rest[0]), args.repeats)
        print(json.dumps(result))
        return
    libs = ["autodiff"] + (["torch"] if torch_cuda_available() else [])
    print(f"1. MNIST-sized step {'-'.join(map(str, SIZES))}, batch {BATCH}, CrossEntropy, Adam on 'cuda', "
          f"min of {args.repeats} x {STEPS} steps, each library in its own process")
    times = {}
    for lib_name in libs:
        r = measure_in_subprocess(__file__, "--repeats", args.repeats, "--measure", "mnist", lib_name)
        times[lib_name] = r["step"]
        print(f"   {lib_name:9s} {r['step'] * 1e3:8.3f} ms/step   loss {r['loss']:.6f}")
    if "torch" in times:
        print(f"   speed-up autodiff vs torch: {times['torch'] / times['autodiff']:.2f}x")
    print("2. float32 matmul n x n: kernels.cuda.matmul vs torch.matmul (cuBLAS, TF32 off)")
    for n in (1024, 4096):
        row = {}
        for lib_name in libs:
            row[lib_name] = measure_in_subprocess(__file__, "--repeats", args.repeats, "--measure",
                                                  "matmul", lib_name, n)
        line = "   n=%d: " % n + ", ".join(f"{k} {v['tflops']:.2f} TFLOP/s (max error {v['max_error']:.1e})"
                                           for k, v in row.items())
        if "torch" in row:
            line += f", kernel/cuBLAS {row['autodiff']['tflops'] / row['torch']['tflops']:.2f}x"
        print(line)


if __name__ == "__main__":
    main()
