"""Convolutional training steps, autodiff vs PyTorch CPU, each library in its own process.

- LeNet-5 on 1x28x28 images (MNIST-sized), batch 64: conv 5x5 (pad 2) 1->6, ReLU, max-pool 2,
  conv 5x5 6->16, ReLU, max-pool 2, 400-120-84-10 with ReLU; CrossEntropyLoss, Adam;
- a 2-layer conv net on the 1x8x8 digits, batch 32: conv 3x3 (pad 1) 1->8, ReLU, conv 3x3
  (pad 1) 8->16, ReLU, max-pool 2, linear 256->10; CrossEntropyLoss, Adam.

The same code runs on both libraries (only the import differs), with the same initial
weights and data. Figures are the minimum over several repeats; the ratio is PyTorch's time
over autodiff's (above 1: autodiff is faster), both measured in the same run, each library
in a fresh process (see bench_nn.py for why).

    python benchmarks/bench_cnn.py [--repeats 7] [--threads N] [--cases 0,1]

``--threads 1`` compares one core against one core: on a shared, loaded machine, threads
that wait for each other make both libraries' figures swing by several times.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

from timing import best_time, has_torch


def lenet(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def digits_convnet(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10))


CASES = {
    "LeNet-5, 1x28x28, batch 64, CrossEntropy, Adam": dict(model=lenet, shape=(1, 28, 28), batch=64, steps=20),
    "2-layer conv net, 1x8x8 digits, batch 32, CrossEntropy, Adam": dict(model=digits_convnet, shape=(1, 8, 8),
                                                                         batch=32, steps=200),
}


def import_lib(name):
    if name == "torch":
        import torch
        return torch
    import autodiff
    return autodiff


def make_step(lib, case, device="cpu"):
    """A closure running one training step, and the model (weights drawn by numpy, copied in)."""
    rng = np.random.default_rng(0)
    model = case["model"](lib)
    with lib.no_grad():
        for p in model.parameters():
            fan_in = int(np.prod(p.shape[1:])) if p.ndim > 1 else p.shape[0]
            bound = 1 / np.sqrt(fan_in)
            p.copy_(lib.tensor(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))
    model = model.to(device)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    criterion = lib.nn.CrossEntropyLoss()
    data = np.random.default_rng(1)
    X = lib.tensor(data.random((case["batch"],) + case["shape"]).astype(np.float32)).to(device)
    Y = lib.tensor(data.integers(0, 10, case["batch"])).to(device)

    def step():
        opt.zero_grad()
        loss = criterion(model(X), Y)
        loss.backward()
        opt.step()
        return loss

    return step


def measure(lib_name, index, repeats, threads=None):
    lib = import_lib(lib_name)
    if lib_name == "torch" and threads:
        lib.set_num_threads(threads)
    case = CASES[list(CASES)[index]]
    step = make_step(lib, case)
    for _ in range(5):
        step()
    seconds = best_time(step, case["steps"], repeats)
    return seconds, float(step().item())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both libraries: torch.set_num_threads, and the BLAS/OpenMP/Numba "
                             "thread counts of both processes")
    parser.add_argument("--cases", default=None, help="comma-separated case numbers (default: all)")
    parser.add_argument("--measure", nargs=2, metavar=("LIB", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure[0], int(args.measure[1]), args.repeats, args.threads)))
        return
    libs = ["autodiff"] + (["torch"] if has_torch() else [])
    wanted = range(len(CASES)) if args.cases is None else [int(c) for c in args.cases.split(",")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.environ.get("PYTHONPATH", "")]))
    if args.threads:
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[variable] = str(args.threads)
    for index in wanted:
        title = list(CASES)[index]
        print(f"{title}: min of {args.repeats} x {CASES[title]['steps']} steps, each library in its own process")
        times = {}
        for name in libs:
            command = [sys.executable, __file__, "--repeats", str(args.repeats), "--measure", name, str(index)]
            if args.threads:
                command += ["--threads", str(args.threads)]
            result = subprocess.run(command, capture_output=True, text=True, env=env)
            if result.returncode:
                raise SystemExit(f"{name} failed:\n{result.stderr}")
            seconds, loss = json.loads(result.stdout.strip().splitlines()[-1])
            times[name] = seconds
            print(f"  {name:9s} {seconds * 1e3:9.3f} ms/step   loss {loss:.6f}")
        if "torch" in times:
            print(f"  ratio torch/autodiff: {times['torch'] / times['autodiff']:.2f}x")


if __name__ == "__main__":
    main()
