"""Argument checks shared by the CPU and CUDA wrappers (plain Python, no Numba)."""


def same_dtype(op, **arrays):
    """Raise a TypeError naming the op unless all arrays share one dtype."""
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} {dt}" for name, dt in dtypes.items())
        raise TypeError(f"{op}: expected one dtype, got {listed}")
