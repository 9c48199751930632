"""Runs backend_sim_cases.py (the CUDA backend against the CPU backend, the launch budget of a
training step, the caching allocator) on Numba's CUDA simulator, in a fresh interpreter:
NUMBA_ENABLE_CUDASIM must be set before Numba is first imported."""
from pathlib import Path

CASES = Path(__file__).with_name("backend_sim_cases.py")


def test_cuda_backend_on_the_simulator(run_on_cuda_simulator):
    run_on_cuda_simulator(CASES, timeout=600)
