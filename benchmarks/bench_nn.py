"""Training steps written with nn.Module, the losses and the optimizers: autodiff vs PyTorch CPU.

The same code runs on both libraries (only the import differs), with the same
initial weights and data:

- the lecture network 2-20-40-20-1 (ReLU), batch 10, BCEWithLogitsLoss, SGD momentum 0.9;
- an MNIST-sized MLP 784-256-128-10, batch 128, CrossEntropyLoss, Adam.

Figures are the minimum over several repeats, ratios taken in the same run. Each
library is timed in a fresh process of its own (started by this one): two OpenMP
runtimes in one process (PyTorch's, and Numba's behind autodiff's kernels) keep each
other's threads spinning on these 2 cores and slowed whichever ran second by 1.7-5x.

    python benchmarks/bench_nn.py [--repeats 7] [--threads 1]
"""
import argparse
import json

import numpy as np

import autodiff
from timing import best_time, has_torch, measure_in_subprocess

torch = None   # imported only in the process that times it (see above)


def import_torch():
    global torch
    try:
        import torch as module
    except ImportError:  # PyTorch is optional: pip install torch==2.13.0
        return None
    torch = module
    return torch


def mlp(lib, sizes):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(lib.nn.Linear(fan_in, fan_out))
        if i + 2 < len(sizes):
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


def copy_weights(lib, model, weights):
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.tensor(w))


def make_step(lib, sizes, x, y, loss_fn, optimizer):
    rng = np.random.default_rng(0)
    model = mlp(lib, sizes)
    weights = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights += [rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                     rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    copy_weights(lib, model, weights)
    opt = optimizer(lib, model.parameters())
    criterion = loss_fn(lib)
    X, Y = lib.tensor(x), lib.tensor(y)

    def step():
        opt.zero_grad()
        loss = criterion(model(X), Y)
        loss.backward()
        opt.step()
        return loss

    return step




CASES = {
    "lecture 2-20-40-20-1, batch 10, BCEWithLogits, SGD momentum": dict(
        sizes=[2, 20, 40, 20, 1], batch=10, steps=300,
        data=lambda rng, n: (rng.standard_normal((n, 2)).astype(np.float32),
                             (rng.random((n, 1)) < 0.5).astype(np.float32)),
        loss_fn=lambda lib: lib.nn.BCEWithLogitsLoss(),
        optimizer=lambda lib, params: lib.optim.SGD(params, lr=0.01, momentum=0.9)),
    "MNIST-sized 784-256-128-10, batch 128, CrossEntropy, Adam": dict(
        sizes=[784, 256, 128, 10], batch=128, steps=30,
        data=lambda rng, n: (rng.standard_normal((n, 784)).astype(np.float32),
                             rng.integers(0, 10, n)),
        loss_fn=lambda lib: lib.nn.CrossEntropyLoss(),
        optimizer=lambda lib, params: lib.optim.Adam(params, lr=1e-3)),
}


def measure(lib_name, title, repeats):
    """Seconds per step of one case in one library (run in a process of its own)."""
    lib = autodiff if lib_name == "autodiff" else import_torch()
    case = CASES[title]
    rng = np.random.default_rng(1)
    x, y = case["data"](rng, case["batch"])
    step = make_step(lib, case["sizes"], x, y, case["loss_fn"], case["optimizer"])
    for _ in range(5):
        step()
    seconds = best_time(step, case["steps"], repeats)
    return seconds, float(step().item())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: PyTorch's own choice)")
    parser.add_argument("--measure", nargs=2, metavar=("LIB", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        lib_name, index = args.measure
        if lib_name == "torch" and args.threads:
            import_torch().set_num_threads(args.threads)
        print(json.dumps(measure(lib_name, list(CASES)[int(index)], args.repeats)))
        return
    libs = ["autodiff"] + (["torch"] if has_torch() else [])
    for index, title in enumerate(CASES):
        print(f"{title}: min of {args.repeats} x {CASES[title]['steps']} steps, each library in its own process")
        times = {}
        for name in libs:
            extra = ["--threads", args.threads] if args.threads else []
            seconds, loss = measure_in_subprocess(__file__, "--repeats", args.repeats, "--measure", name,
                                                  index, *extra)
            times[name] = seconds
            print(f"  {name:9s} {seconds * 1e6:9.1f} us/step   loss {loss:.6f}")
        if "torch" in times:
            print(f"  speed-up autodiff vs torch: {times['torch'] / times['autodiff']:.2f}x")


if __name__ == "__main__":
    main()
