"""Data-parallel training on MPI: what communication costs and what 2 processes buy.

- allreduce time against message size between 2 processes (float32, in place);
- an MNIST-sized DDP step (784-256-128-10, batch 128 per process, CrossEntropy, Adam):
  its time on 1 process (no communication) and on 2, the share spent communicating, and
  what overlapping the allreduce with backward bought: 2 buckets (bucket_cap_mb=0.1: the
  last two layers' 0.14 MB, whose allreduce starts while backward computes the first
  layer's gradients, then the first layer's 0.8 MB) against 1 bucket of 0.94 MB that can
  only start when backward ends;
- throughput in samples/s for 1 and 2 processes, and the scaling efficiency
  (throughput of 2 / twice the throughput of 1).

Every process uses one BLAS thread. Each figure is the minimum over repeats of the mean
over a run of steps. This script starts the jobs itself (``autodiff.distributed.run``):

    python benchmarks/bench_distributed.py [--repeats 5] [--steps 30]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

SIZES = [784, 256, 128, 10]
BATCH = 128


def job(n, role, args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "autodiff.distributed.run", "-n", str(n), __file__, "--role",
           role, "--repeats", str(args.repeats), "--steps", str(args.steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- inside a job
def allreduce_times(repeats):
    import autodiff
    import autodiff.distributed as dist
    results = {}
    for nbytes in (4 * 256, 4 * 2**12, 4 * 2**15, 4 * 235_146, 4 * 2**20, 4 * 2**22):
        t = autodiff.ones(nbytes // 4)
        inner = max(3, min(200, 2**22 // nbytes))
        best = float("inf")
        for _ in range(repeats):
            dist.barrier()
            start = time.perf_counter()
            for _ in range(inner):
                dist.all_reduce(t)
            best = min(best, (time.perf_counter() - start) / inner)
        results[nbytes] = best
    return results


def step_time(repeats, steps, bucket_cap_mb):
    """Mean seconds per training step and seconds of it spent blocked waiting for DDP's
    allreduces (both from the fastest repeat); bucket_cap_mb None: no DDP."""
    import autodiff
    import autodiff.distributed as dist
    blocked = [0.0]
    wait = dist._wait

    def timed_wait(request, name="collective"):      # DDP waits through dist._wait
        start = time.perf_counter()
        wait(request, name)
        blocked[0] += time.perf_counter() - start
    dist._wait = timed_wait
    from autodiff import nn, optim
    from autodiff.nn.parallel import DistributedDataParallel as DDP
    autodiff.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES, SIZES[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i + 2 < len(SIZES) else [])
    model = nn.Sequential(*layers)
    if bucket_cap_mb is not None:
        model = DDP(model, bucket_cap_mb=bucket_cap_mb)
    rng = np.random.default_rng(dist.get_rank())
    x = autodiff.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = autodiff.tensor(rng.integers(0, SIZES[-1], BATCH))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    best, best_blocked = float("inf"), 0.0
    for _ in range(repeats):
        dist.barrier()
        blocked[0] = 0.0
        start = time.perf_counter()
        for _ in range(steps):
            step()
        seconds = (time.perf_counter() - start) / steps
        if seconds < best:
            best, best_blocked = seconds, blocked[0] / steps
    dist._wait = wait
    return best, (len(model._buckets) if bucket_cap_mb is not None else 0), best_blocked


def worker(args):
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass
    import autodiff.distributed as dist
    dist.init_process_group("mpi")
    result = {"world": dist.get_world_size()}
    if dist.get_world_size() > 1:
        result["allreduce"] = allreduce_times(args.repeats)
    result["local"] = step_time(args.repeats, args.steps, None)
    result["one_bucket"] = step_time(args.repeats, args.steps, 25)
    result["buckets"] = step_time(args.repeats, args.steps, 0.1)
    local_times = [None] * dist.get_world_size()
    dist.all_gather_object(local_times, result)
    if dist.get_rank() == 0:   # the slowest rank sets the pace
        for key in ("local", "one_bucket", "buckets"):
            result[key] = [max(r[key][0] for r in local_times), result[key][1],
                           max(r[key][2] for r in local_times)]
        print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--role", default=None)
    args = parser.parse_args()
    if args.role == "worker":
        return worker(args)
    one, two = job(1, "worker", args), job(2, "worker", args)
    print(f"allreduce between 2 processes (float32, in place; min of {args.repeats} repeats):")
    for nbytes, seconds in two["allreduce"].items():
        print(f"  {int(nbytes) / 1e6:8.3f} MB  {seconds * 1e6:9.1f} us  "
              f"{int(nbytes) / seconds / 1e9:6.2f} GB/s")
    mnist_bytes = 4 * sum(a * b + b for a, b in zip(SIZES, SIZES[1:]))
    allreduce_mnist = two["allreduce"][str(4 * 235_146)]
    print(f"MNIST-sized step {'-'.join(map(str, SIZES))}, batch {BATCH} per process, Adam "
          f"({mnist_bytes / 1e6:.2f} MB of gradients); min of {args.repeats} x {args.steps} steps:")
    t1 = one["local"][0]
    print(f"  1 process, no DDP             {t1 * 1e3:7.2f} ms/step  {BATCH / t1:8.0f} samples/s")
    print(f"  1 process, DDP (world of one) {one['buckets'][0] * 1e3:7.2f} ms/step")
    t2_local = two["local"][0]
    print(f"  2 processes, no DDP (compute) {t2_local * 1e3:7.2f} ms/step")
    for key, what in (("one_bucket", "DDP, 1 bucket (no overlap)"),
                      ("buckets", f"DDP, {two['buckets'][1]} buckets (overlap)")):
        if key == "buckets" and two["buckets"][1] < 2:
            raise SystemExit("bench_distributed: expected several buckets at bucket_cap_mb=0.1")
        t = two[key][0]
        print(f"  2 processes, {what:<26} {t * 1e3:7.2f} ms/step  {2 * BATCH / t:8.0f} samples/s  "
              f"scaling efficiency {(2 * BATCH / t) / (2 * BATCH / t1):.0%}; blocked waiting "
              f"for allreduces {two[key][2] * 1e3:.2f} ms/step ({two[key][2] / t:.0%})")
    best = min(two["one_bucket"][0], two["buckets"][0])
    print(f"  allreduce of {mnist_bytes / 1e6:.2f} MB alone: {allreduce_mnist * 1e3:.2f} ms = "
          f"{allreduce_mnist / best:.0%} of the best DDP step; DDP step minus compute: "
          f"{(best - t2_local) * 1e3:.2f} ms = {(best - t2_local) / best:.0%}")
    print(f"  overlap: {two['one_bucket'][0] * 1e3:.2f} -> {two['buckets'][0] * 1e3:.2f} ms/step "
          f"({two['one_bucket'][0] / two['buckets'][0]:.2f}x)")


if __name__ == "__main__":
    main()
