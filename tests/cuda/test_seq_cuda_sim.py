"""seq_sim_cases.py (embeddings, recurrent layers, attention on CUDA tensors) on Numba's CUDA
simulator, in a fresh interpreter: NUMBA_ENABLE_CUDASIM must be set before Numba is imported."""
from pathlib import Path

CASES = Path(__file__).with_name("seq_sim_cases.py")


def test_sequence_layers_on_the_cuda_simulator_equal_the_cpu(run_on_cuda_simulator):
    run_on_cuda_simulator(CASES, timeout=900)
