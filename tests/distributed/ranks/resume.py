"""Run under the launcher with 2 ranks: data-parallel training that checkpoints every
EVERY steps and resumes from the last checkpoint.

    resume.py CKPT LOG OUT TOTAL EVERY [KILL_STEP KILL_RANK]

Rank 0 appends each finished step to LOG and, at the end, writes the parameters to OUT
(.npy). With KILL_STEP, rank KILL_RANK SIGKILLs itself once that step is done.
"""
import os
import signal
import sys

import numpy as np

import autodiff
import autodiff.distributed as dist
from autodiff import nn, optim
from autodiff.data import DataLoader, DistributedSampler, TensorDataset
from autodiff.distributed import checkpoint
from autodiff.nn.parallel import DistributedDataParallel as DDP

ckpt, log, out, total, every = sys.argv[1:4] + [int(a) for a in sys.argv[4:6]]
kill_step, kill_rank = (int(sys.argv[6]), int(sys.argv[7])) if len(sys.argv) > 7 else (None, None)
dist.init_process_group("mpi")
rank = dist.get_rank()

rng = np.random.default_rng(0)
X = autodiff.tensor(rng.standard_normal((45, 4)))
Y = autodiff.tensor(rng.standard_normal((45, 2)))
dataset = TensorDataset(X, Y)
sampler = DistributedSampler(dataset, shuffle=True, seed=3)
loader = DataLoader(dataset, batch_size=5, sampler=sampler)
autodiff.manual_seed(0)
model = DDP(nn.Sequential(nn.Linear(4, 8, dtype=autodiff.float64), nn.Tanh(),
                          nn.Linear(8, 2, dtype=autodiff.float64)))
optimizer = optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.MSELoss()

start = 0
state = checkpoint.load(ckpt)
if state is not None:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    start = state["step"]
steps_per_epoch = len(loader)
batches = None
for step in range(start, total):
    epoch, position = divmod(step, steps_per_epoch)
    if batches is None or position == 0:
        sampler.set_epoch(epoch)
        batches = iter(loader)
        for _ in range(position):         # resuming mid-epoch: skip what was already seen
            next(batches)
    xb, yb = next(batches)
    optimizer.zero_grad()
    loss_fn(model(xb), yb).backward()
    optimizer.step()
    if rank == 0:
        with open(log, "a") as f:
            f.write(f"{step}\n")
    if (step + 1) % every == 0:
        checkpoint.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                         "step": step + 1}, ckpt)
    if step + 1 == kill_step:
        dist.barrier()        # (every rank has logged and saved this step before one dies)
        if rank == kill_rank:
            os.kill(os.getpid(), signal.SIGKILL)
if rank == 0:
    np.save(out, np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]))
print(f"rank {rank} RESUME-DONE", flush=True)
