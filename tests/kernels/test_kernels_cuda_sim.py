"""Runs the CUDA kernel tests (cuda_sim_cases.py) on Numba's CUDA simulator.

NUMBA_ENABLE_CUDASIM must be set before Numba is first imported, and this pytest process
has imported Numba already (for the CPU kernels), so the cases run in a fresh interpreter.
"""
import os
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).with_name("cuda_sim_cases.py")
ROOT = Path(__file__).resolve().parents[2]


def test_cuda_kernels_on_the_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         str(CASES)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout, result.stdout[-2000:]
