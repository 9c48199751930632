"""Runs shared_array_sim_cases.py (the simulator's shared arrays under forced thread switches)
on Numba's CUDA simulator, in a fresh interpreter: NUMBA_ENABLE_CUDASIM must be set before
Numba is first imported."""
from pathlib import Path

CASES = Path(__file__).with_name("shared_array_sim_cases.py")


def test_shared_arrays_on_the_simulator(run_on_cuda_simulator):
    run_on_cuda_simulator(CASES, timeout=300)
