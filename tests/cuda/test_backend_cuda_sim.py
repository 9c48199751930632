"""Runs backend_sim_cases.py (the CUDA backend against the CPU backend, the launch budget of a
training step, the caching allocator) on Numba's CUDA simulator, in a fresh interpreter:
NUMBA_ENABLE_CUDASIM must be set before Numba is first imported."""
import os
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).with_name("backend_sim_cases.py")
ROOT = Path(__file__).resolve().parents[2]


def test_cuda_backend_on_the_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(CASES)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
