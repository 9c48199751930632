"""Parallel CPU kernels compiled with Numba (parallel=True, cache=True, fastmath=False).

Importing this package is cheap: it does not import Numba. Each public name is looked up
in its submodule on first access (PEP 562 module `__getattr__`), which imports Numba but
compiles nothing; a kernel compiles on its first call, per dtype, and is cached on disk.

Every function takes and returns numpy arrays (float32 or float64) and leaves its inputs
unchanged.
"""

import importlib

_SUBMODULE = {
    # matrix products
    "matmul": "matmul", "matmul_tn": "matmul", "matmul_nt": "matmul",
    # activations and their backward passes
    "relu": "activations", "relu_backward": "activations",
    "leaky_relu": "activations", "leaky_relu_backward": "activations",
    "sigmoid": "activations", "sigmoid_backward": "activations",
    "tanh": "activations", "tanh_backward": "activations",
    "hardtanh": "activations", "hardtanh_backward": "activations",
    "gelu": "activations", "gelu_backward": "activations",
    "softplus": "activations", "softplus_backward": "activations",
    # fused layers
    "linear_forward": "linear", "linear_backward": "linear",
    "softmax": "softmax", "log_softmax": "softmax",
    "softmax_cross_entropy_forward": "softmax",
    "softmax_cross_entropy_backward": "softmax",
}

__all__ = sorted(_SUBMODULE)


def __getattr__(name):
    if name not in _SUBMODULE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_SUBMODULE[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return __all__
