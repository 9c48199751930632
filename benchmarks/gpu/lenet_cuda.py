"""A LeNet-5 training step on a GPU: autodiff on 'cuda' against PyTorch CUDA.

LeNet-5 on 1x28x28 inputs, batch 64, CrossEntropyLoss, Adam (the model of
benchmarks/bench_cnn.py), the same initial weights and data in both libraries. Each library
runs in a process of its own; each prints ms/step (the minimum over repeats, the GPU
synchronised at the end of each timed run), then the ratio torch/autodiff. When PyTorch or
its CUDA is missing, autodiff is timed alone; a library that fails is reported and skipped.

    python benchmarks/gpu/lenet_cuda.py                 # on a machine with an NVIDIA GPU
    python benchmarks/gpu/lenet_cuda.py --device cpu --steps 2 --repeats 1   # smoke run, CPU

On 'cuda', autodiff's im2col, col2im and max-pooling indices are kernels of kernels/cuda/_conv.py,
and the convolutions' per-sample products go through CudaArray's batched matmul (one thread
per output element, not a tiled GEMM): expect PyTorch's cuDNN to be far ahead here.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def measure(lib_name, device, steps, repeats, batch):
    """Seconds per step (min over repeats) and the last loss, in this process."""
    sys.path.insert(0, os.path.dirname(HERE))
    sys.path.insert(0, ROOT)
    import bench_cnn
    if lib_name == "torch":
        import torch as lib
        if device.startswith("cuda") and not lib.cuda.is_available():
            raise RuntimeError("PyTorch has no CUDA here")
        sync = lib.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    else:
        import autodiff as lib
        sync = (lambda: None)
    case = dict(bench_cnn.CASES[list(bench_cnn.CASES)[0]], batch=batch)
    step = bench_cnn.make_step(lib, case, device)
    for _ in range(3):                       # warm up: kernels compile, caches fill
        loss = step()
    float(loss.item())
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        value = float(loss.item())           # waits for the GPU's queue
        sync()
        best = min(best, (time.perf_counter() - start) / steps)
    return best, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=90,
                        help="seconds allowed to each library (compiling the CUDA kernels on first use included)")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.device, args.steps, args.repeats, args.batch)))
        return 0
    print(f"LeNet-5 training step, batch {args.batch}, Adam, on {args.device!r}: min of {args.repeats} x "
          f"{args.steps} steps, each library in its own process")
    times = {}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    for name in ("autodiff", "torch"):
        command = [sys.executable, os.path.abspath(__file__), "--measure", name, "--device", args.device,
                   "--steps", str(args.steps), "--repeats", str(args.repeats), "--batch", str(args.batch)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"  {name:9s} skipped: took longer than {args.timeout:.0f} s")
            continue
        if result.returncode:
            last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
            print(f"  {name:9s} skipped: {last}")
            continue
        seconds, loss = json.loads(result.stdout.strip().splitlines()[-1])
        times[name] = seconds
        print(f"  {name:9s} {seconds * 1e3:9.3f} ms/step   loss {loss:.6f}")
    if len(times) == 2:
        print(f"  ratio torch/autodiff: {times['torch'] / times['autodiff']:.2f}x")
    return 0 if "autodiff" in times else 1


if __name__ == "__main__":
    sys.exit(main())
