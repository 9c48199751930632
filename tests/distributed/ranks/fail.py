"""Run under the launcher with 2 ranks: rank 1 fails at step 3 of a DDP training loop
(``raise``: an exception; ``kill``: SIGKILL) while rank 0 goes on to its next allreduce."""
import os
import signal
import sys

import autodiff
import autodiff.distributed as dist
from autodiff import nn
from autodiff.nn.parallel import DistributedDataParallel as DDP

how = sys.argv[1]
dist.init_process_group("mpi")
rank = dist.get_rank()
model = DDP(nn.Linear(3, 1))
for step in range(1000):
    if rank == 1 and step == 3:
        if how == "raise":
            raise ValueError("rank 1 fails at step 3")
        os.kill(os.getpid(), signal.SIGKILL)
    model(autodiff.ones(2, 3)).sum().backward()
print("the job finished although rank 1 failed", flush=True)
