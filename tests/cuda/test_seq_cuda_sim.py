"""seq_sim_cases.py (embeddings, recurrent layers, attention on CUDA tensors) on Numba's CUDA
simulator, in a fresh interpreter: NUMBA_ENABLE_CUDASIM must be set before Numba is imported."""
import os
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).with_name("seq_sim_cases.py")
ROOT = Path(__file__).resolve().parents[2]


def test_sequence_layers_on_the_cuda_simulator_equal_the_cpu():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(CASES)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
