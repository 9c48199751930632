"""compile_sim_cases.py on Numba's CUDA simulator, in a fresh interpreter: NUMBA_ENABLE_CUDASIM
must be set before Numba is imported."""
from pathlib import Path

CASES = Path(__file__).with_name("compile_sim_cases.py")


def test_compiled_step_on_the_cuda_simulator_equals_eager(run_on_cuda_simulator):
    run_on_cuda_simulator(CASES, timeout=600)
