"""Run under mpiexec -n 2: DDP on 2 ranks with batch b each equals 1 process on the
concatenated batch 2b (float64, to 1e-10) after 20 steps, for SGD with momentum and for
Adam, with and without no_sync() accumulation, with several buckets and with one.

Every rank also trains the single-process reference itself (cheap at this size) and
compares; the script exits non-zero (an AssertionError) on any difference.
Arguments: the device ('cpu' or 'cuda'), then optionally the number of steps and the
optimizers (comma-separated: sgd,adam), for a shorter run on the CUDA simulator.
"""
import sys

import numpy as np

import autodiff
import autodiff.distributed as dist
from autodiff import nn, optim
from autodiff.nn.parallel import DistributedDataParallel as DDP

DEVICE = sys.argv[1] if len(sys.argv) > 1 else "cpu"
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
KINDS = sys.argv[3].split(",") if len(sys.argv) > 3 else ["sgd", "adam"]
B, ACCUMULATE = 4, 2
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 2, world


def make_model(seed):
    autodiff.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 16, dtype=autodiff.float64), nn.Tanh(),
                          nn.Linear(16, 8, dtype=autodiff.float64), nn.ReLU(),
                          nn.Linear(8, 3, dtype=autodiff.float64))
    return model.to(DEVICE)


def make_optimizer(kind, params):
    if kind == "sgd":
        return optim.SGD(params, lr=0.05, momentum=0.9)
    return optim.Adam(params, lr=0.01)


rng = np.random.default_rng(1)
X = rng.standard_normal((STEPS, world * B * ACCUMULATE, 5))
Y = rng.standard_normal((STEPS, world * B * ACCUMULATE, 3))
loss_fn = nn.MSELoss()


def batch(step, rows):
    return (autodiff.tensor(X[step, rows]).to(DEVICE), autodiff.tensor(Y[step, rows]).to(DEVICE))


def reference(kind, micro):
    """One process, the whole batch (world * B * micro rows) per step."""
    model = make_model(0)
    opt = make_optimizer(kind, model.parameters())
    rows = slice(0, world * B * micro)
    for step in range(STEPS):
        opt.zero_grad()
        xb, yb = batch(step, rows)
        loss_fn(model(xb), yb).backward()
        opt.step()
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def data_parallel(kind, micro, bucket_cap_mb):
    model = DDP(make_model(rank), bucket_cap_mb=bucket_cap_mb)   # rank 0 (seed 0) wins
    opt = make_optimizer(kind, model.parameters())
    for step in range(STEPS):
        opt.zero_grad()
        for j in range(micro):      # micro-batch j of rank r: rows (j * world + r) * B ...
            start = (j * world + rank) * B
            xb, yb = batch(step, slice(start, start + B))
            if j < micro - 1:
                with model.no_sync():
                    (loss_fn(model(xb), yb) / micro).backward()
            else:
                (loss_fn(model(xb), yb) / micro).backward()
        opt.step()
    return [p.detach().cpu().numpy().copy() for p in model.parameters()], model


for kind in KINDS:
    for micro in (1, ACCUMULATE):
        expected = reference(kind, micro)
        for cap in (0.0005, 25):     # several small buckets (overlap), or one
            got, model = data_parallel(kind, micro, cap)
            assert len(model._buckets) > 1 or cap == 25, len(model._buckets)
            worst = max(float(np.abs(g - e).max()) for g, e in zip(got, expected))
            assert worst < 1e-10, (kind, micro, cap, worst)
            mine = np.concatenate([g.ravel() for g in got])
            everyone = [None] * world
            dist.all_gather_object(everyone, mine)
            assert np.array_equal(everyone[0], everyone[1]), "replicas diverged"
            print(f"rank {rank} {DEVICE} {kind} micro={micro} buckets={len(model._buckets)}: "
                  f"max |ddp - single| = {worst:.1e}", flush=True)
dist.destroy_process_group()
print(f"rank {rank} DDP-EQUIVALENCE-OK", flush=True)
