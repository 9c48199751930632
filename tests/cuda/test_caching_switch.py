"""AUTODIFF_CUDA_CACHING=0 turns the caching allocator's reuse off (on the CUDA simulator, in
a fresh interpreter: the variable is read when autodiff.cuda.memory is imported), and reuse
changes no value: a training step gives the same parameters with reuse on, off, and with
every block poisoned as it goes back to the cache and as it is handed out again."""
import json
import os
import subprocess
import sys

import numpy as np

COUNTS = """
import json, numpy as np
from autodiff.cuda import memory, devices
before = dict(devices.stats())
for _ in range(3):
    block = memory.empty(16, np.dtype(np.float32))
    del block
import gc; gc.collect()
after = devices.stats()
print(json.dumps({k: after[k] - before.get(k, 0) for k in ("allocations", "cache_hits")}))
"""

# An MLP trained with cross-entropy and Adam for 4 steps on 'cuda'; prints the parameters
# (exact, as hex floats) and the allocator's counts. With POISON=1 a block is filled with NaN
# (integers: -7) when it goes back to the cache and again when it is handed out, so a kernel
# that read a block after its array died, or before writing it, would change the result.
TRAINING = """
import json, os, numpy as np
import autodiff
from autodiff import nn, optim
from autodiff.cuda import memory

poisoned = []
if os.environ.get("POISON") == "1":
    release, hand_out = memory._release, memory.empty

    def poison(block):
        poisoned.append(block.size)
        value = np.nan if block.dtype.kind == "f" else -7
        block.copy_to_device(np.full(block.shape, value, block.dtype))

    def poisoned_release(key, block):
        poison(block)
        release(key, block)

    def poisoned_empty(n, dtype):
        handle = hand_out(n, dtype)
        if n:
            poison(handle)
        return handle
    memory._release, memory.empty = poisoned_release, poisoned_empty

autodiff.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to("cuda")
opt = optim.Adam(model.parameters(), lr=0.05)
rng = np.random.default_rng(0)
autodiff.cuda.stats(reset=True)
for step in range(4):
    x = autodiff.tensor(rng.standard_normal((6, 4)).astype(np.float32)).to("cuda")
    y = autodiff.tensor(rng.integers(0, 3, 6)).to("cuda")
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(x), y).backward()
    opt.step()
params = [[float(v).hex() for v in p.detach().cpu().numpy().ravel()] for p in model.parameters()]
print(json.dumps({"params": params, "stats": autodiff.cuda.stats(), "poisoned": len(poisoned)}))
"""


def run(script, **env):
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", **env}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_reuse_is_on_by_default_and_off_with_the_switch():
    assert run(COUNTS, AUTODIFF_CUDA_CACHING="1") == {"allocations": 1, "cache_hits": 2}
    assert run(COUNTS, AUTODIFF_CUDA_CACHING="0") == {"allocations": 3, "cache_hits": 0}


def test_a_training_step_gives_the_same_parameters_with_reuse_on_off_and_poisoned():
    on = run(TRAINING, AUTODIFF_CUDA_CACHING="1")
    off = run(TRAINING, AUTODIFF_CUDA_CACHING="0")
    poisoned = run(TRAINING, AUTODIFF_CUDA_CACHING="1", POISON="1")
    assert on["stats"]["cache_hits"] > 0 and off["stats"]["cache_hits"] == 0
    assert poisoned["stats"]["cache_hits"] == on["stats"]["cache_hits"] and poisoned["poisoned"] > 100
    assert on["params"] == off["params"], "reuse changed the parameters"
    assert on["params"] == poisoned["params"], "a kernel read a block it no longer (or not yet) owned"
    values = np.array([float.fromhex(v) for p in on["params"] for v in p])
    assert np.isfinite(values).all() and np.abs(values).max() > 0.05    # trained, not poisoned
