"""Per-op cost of the core engine against PyTorch CPU, measured in one run.

1. One training step of the lecture network 2-20-40-20-1 (ReLU), batch 10,
   BCE with logits, SGD with momentum 0.9, written with raw tensors in both
   libraries (same formulas, same number of ops).
2. A chain of 100,000 scalar ops, forward + backward.

A third peer, ``minimal`` (benchmarks/minimal_engine.py), runs the same code on
the least a numpy engine can do (no version counters, dtype rules, checks or
hooks): the floor that any Python engine's per-op cost sits on.

Each figure is the minimum over several repeats (these machines are shared and
noisy); ratios compare numbers taken in the same run. Each library is timed in a
fresh process of its own, started by this one: a process that has imported both
carries the other's objects, which Python's cycle collector then scans again and
again while a long chain is built (that alone cost autodiff ~20% here).

    python benchmarks/bench_core.py [--repeats 7] [--cpu-time]
"""
import argparse
import json
import time

import numpy as np

from timing import best_time, has_torch, measure_in_subprocess

torch = None   # imported only in the process that times it

SIZES = [2, 20, 40, 20, 1]
BATCH = 10


def init_weights(seed=0):
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(SIZES, SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    x = rng.standard_normal((BATCH, 2)).astype(np.float32)
    y = (rng.random((BATCH, 1)) < 0.5).astype(np.float32)
    return weights, x, y


def make_step(lib, weights, x, y, lr=0.01, momentum=0.9):
    """A closure running one SGD-momentum step of the MLP in ``lib`` (autodiff or torch)."""
    params = [lib.tensor(w, requires_grad=True) for w in weights]
    velocity = [lib.zeros_like(p) for p in params]
    X, Y = lib.tensor(x), lib.tensor(y)

    def forward():
        h = X
        for i in range(0, len(params), 2):
            h = h @ params[i].T + params[i + 1]
            if i + 2 < len(params):
                h = h.relu()
        return (h.clamp(min=0) - h * Y + (-h.abs()).exp().log1p()).mean()

    def update():
        with lib.no_grad():
            for p, v in zip(params, velocity):
                v.mul_(momentum).add_(p.grad)
                p.sub_(v, alpha=lr)

    def step():
        loss = forward()
        for p in params:
            p.grad = None
        loss.backward()
        update()
        return loss

    step.forward, step.update = forward, update   # (for profile_core_step.py)
    return step, params




def chain(lib, n):
    x = lib.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    y.backward()
    return x.grad


def measure(name, args):
    """Step and chain timings of one library, in this process."""
    global torch
    if name == "torch":
        import torch
        torch.set_num_threads(1)
        lib = torch
    elif name == "minimal":
        import minimal_engine as lib      # the yardstick: see minimal_engine.py
    else:
        import autodiff as lib
    weights, x, y = init_weights()
    step, params = make_step(lib, weights, x, y)
    for _ in range(20):
        step()                                   # warm up
    clock = time.process_time if args.cpu_time else time.perf_counter
    step_time = best_time(step, args.steps, args.repeats, clock)
    loss = float(step().item())
    assert float(chain(lib, 1000)) == 1.0
    chain_time = best_time(lambda: chain(lib, args.chain), 1, 3, clock)
    return {"step": step_time, "loss": loss, "chain": chain_time}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--chain", type=int, default=100_000)
    parser.add_argument("--cpu-time", action="store_true",
                        help="time in process CPU time, not wall-clock time (for loaded, shared machines)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args)))
        return
    results = {}
    for name in ["autodiff", "minimal"] + (["torch"] if has_torch() else []):
        results[name] = measure_in_subprocess(__file__, "--measure", name, "--repeats", args.repeats,
                                              "--steps", args.steps, "--chain", args.chain,
                                              *(["--cpu-time"] if args.cpu_time else []))

    print(f"lecture MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, BCE with logits, SGD momentum "
          f"(raw tensors), min of {args.repeats} x {args.steps} steps, each library in its own process")
    for name, r in results.items():
        print(f"  {name:9s} {r['step'] * 1e6:8.1f} us/step   loss after warm-up {r['loss']:.6f}")
    report_speedups(results, "step")
    print(f"chain of {args.chain:,} multiplications, forward + backward, min of 3")
    for name, r in results.items():
        print(f"  {name:9s} {r['chain']:8.3f} s   ({r['chain'] / args.chain * 1e6:.2f} us/op)")
    report_speedups(results, "chain")


def report_speedups(results, key):
    if "torch" in results:
        for name in ["autodiff", "minimal"]:
            print(f"  speed-up {name} vs torch: {results['torch'][key] / results[name][key]:.2f}x")


if __name__ == "__main__":
    main()
