"""Run under the launcher with 2 ranks: DDP's checks on ranks that disagree, and unused
parameters with and without find_unused_parameters."""
import numpy as np

import autodiff
import autodiff.distributed as dist
from autodiff import nn
from autodiff.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank = dist.get_rank()
f64 = autodiff.float64

# models that differ between ranks: every rank raises, naming the difference
try:
    DDP(nn.Linear(3, 4 if rank == 0 else 5, dtype=f64))
except RuntimeError as e:
    assert "rank 1 has parameter 'weight' of shape (5, 3)" in str(e), str(e)
    assert "rank 0 has parameter 'weight' of shape (4, 3)" in str(e), str(e)
else:
    raise AssertionError("different models were not detected")
try:
    DDP(nn.Sequential(*[nn.Linear(2, 2, dtype=f64) for _ in range(1 + rank)]))
except RuntimeError as e:
    assert "rank 1 has 4 parameters and buffers while rank 0 has 2" in str(e), str(e)
else:
    raise AssertionError("different numbers of parameters were not detected")


class TwoHeads(nn.Module):
    """``head`` feeds the output only where use_head is True; ``spare`` never does."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 2, dtype=f64)
        self.head = nn.Linear(2, 2, dtype=f64)
        self.spare = nn.Linear(2, 2, dtype=f64)

    def forward(self, x, use_head):
        h = self.body(x)
        return self.head(h) if use_head else h


x = autodiff.tensor(np.arange(12.0).reshape(4, 3) / 10 + rank)

# without find_unused_parameters: the next forward says which parameters got no gradient
model = DDP(TwoHeads())
model(x, True).sum().backward()
try:
    model(x, True)
except RuntimeError as e:
    assert "Expected to have finished reduction in the prior iteration" in str(e), str(e)
    assert "spare.weight" in str(e) and "find_unused_parameters=True" in str(e), str(e)
else:
    raise AssertionError("unused parameters were not reported")

# with it: head is used on rank 0 only, spare nowhere
autodiff.manual_seed(0)
model = DDP(TwoHeads(), find_unused_parameters=True)
plain = TwoHeads()
plain.load_state_dict(model.module.state_dict())
for _ in range(2):                       # twice: the reducer rearms for every forward
    model.zero_grad()
    model(x, rank == 0).sum().backward()
plain(x, rank == 0).sum().backward()     # this rank's own gradients, for the expected average
local = {n: (p.grad.numpy() if p.grad is not None else np.zeros(p.shape))
         for n, p in plain.named_parameters()}
everyone = [None] * 2
dist.all_gather_object(everyone, local)
for name, p in model.module.named_parameters():
    if name.startswith("spare"):
        assert p.grad is None, name      # no rank used it: .grad untouched
        continue
    expected = (everyone[0][name] + everyone[1][name]) / 2
    assert np.allclose(p.grad.numpy(), expected, rtol=0, atol=1e-12), name
print(f"rank {rank} DDP-ERRORS-OK", flush=True)

# buffers (BatchNorm's running statistics) are rank 0's at the start of every forward
autodiff.manual_seed(0)
model = DDP(nn.Sequential(nn.Linear(3, 4, dtype=f64), nn.BatchNorm1d(4, dtype=f64)))
model(x).sum().backward()                 # each rank updates its running stats from its batch
stats = [None] * 2
dist.all_gather_object(stats, model.module[1].running_mean.numpy().copy())
assert not np.allclose(stats[0], stats[1])
with autodiff.no_grad():
    model.eval()
    model(x)                              # forward broadcasts rank 0's buffers first
assert np.array_equal(model.module[1].running_mean.numpy(), stats[0])
print(f"rank {rank} DDP-BUFFERS-OK", flush=True)
