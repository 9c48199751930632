"""Which implementation runs the hot paths (matmul, activations).

For now everything runs on numpy (BLAS for matmul). The Numba kernels in
``kernels/`` plug in here, so that ops call one function and the choice of
implementation lives in one place.
"""
import numpy as np


def matmul(a, b):
    """2-D matrix product."""
    return np.matmul(a, b)
