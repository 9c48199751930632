"""The convolutional layers on CUDA tensors (cnn_sim_cases.py) under Numba's CUDA simulator,
in a fresh interpreter (NUMBA_ENABLE_CUDASIM must be set before Numba is first imported)."""
from pathlib import Path

CASES = Path(__file__).with_name("cnn_sim_cases.py")


def test_cnn_layers_on_the_cuda_simulator(run_on_cuda_simulator):
    run_on_cuda_simulator(CASES, timeout=900)
