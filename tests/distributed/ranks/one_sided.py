"""Run under the launcher with 2 ranks: rank 0 calls all_reduce, rank 1 never does. With a
timeout, rank 0 raises instead of waiting forever, and the launcher ends the job."""
import datetime

import autodiff
import autodiff.distributed as dist

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=2))
dist.all_reduce(autodiff.ones(3))                   # both ranks: fine
if dist.get_rank() == 0:
    dist.all_reduce(autodiff.ones(3))               # only rank 0
print(f"rank {dist.get_rank()} finished", flush=True)
