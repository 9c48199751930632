"""Numba kernels for the autodiff engine: numpy (or device) arrays in, arrays out.

`kernels.cpu` holds parallel CPU kernels, `kernels.cuda` CUDA kernels (runnable under
Numba's simulator). Neither submodule is imported here, and neither compiles anything at
import: each kernel is compiled on its first call and cached on disk (`cache=True`).
"""

__all__ = ["cpu", "cuda"]
