"""AUTODIFF_CUDA_CACHING=0 turns the caching allocator's reuse off (on the CUDA simulator, in
a fresh interpreter: the variable is read when autodiff.cuda.memory is imported)."""
import json
import os
import subprocess
import sys

SCRIPT = """
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


def counts(caching):
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "AUTODIFF_CUDA_CACHING": caching}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_reuse_is_on_by_default_and_off_with_the_switch():
    assert counts("1") == {"allocations": 1, "cache_hits": 2}
    assert counts("0") == {"allocations": 3, "cache_hits": 0}
