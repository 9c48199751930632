"""Argument checks shared by the CPU and CUDA wrappers (plain Python, no Numba)."""

import numpy as np

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(x, op, name):
    """Raise a TypeError naming the op and argument unless x is float32 or float64."""
    if x.dtype not in FLOATS:
        raise TypeError(f"{op}: {name} must be float32 or float64, got {x.dtype}")


def same_dtype(op, **arrays):
    """Raise a TypeError naming the op unless all arrays share one dtype."""
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} {dt}" for name, dt in dtypes.items())
        raise TypeError(f"{op}: expected one dtype, got {listed}")
