"""CUDA kernels written with Numba (`numba.cuda`), for numba device arrays.

Callers move data themselves (`cuda.to_device`, `.copy_to_host()`): every function here
takes device arrays and returns new device arrays, or writes into the ``out=`` arrays given
(the optimizer steps update their state in place), so a chain of operations never
round-trips through the host. Every launch goes through ``_common.launch``, which tells a
listener (``_common.set_launch_listener``: autodiff counts launches in ``cuda.stats()``).
autodiff calls these kernels through its CUDA backend (``autodiff/backends/cuda.py``).

Importing this package is cheap (it does not import Numba); a name's submodule is imported
on first access, and each kernel is compiled on its first launch. Set
NUMBA_ENABLE_CUDASIM=1 before Numba is imported to run everything on Numba's CUDA
simulator (slow: keep arrays tiny).
"""

import importlib

_SUBMODULE = {
    "matmul": "_matmul", "matmul_tn": "_matmul", "matmul_nt": "_matmul",
    # elementwise
    "relu": "_elementwise", "relu_backward": "_elementwise",
    "leaky_relu": "_elementwise", "leaky_relu_backward": "_elementwise",
    "sigmoid": "_elementwise", "sigmoid_backward": "_elementwise",
    "tanh": "_elementwise", "tanh_backward": "_elementwise",
    "hardtanh": "_elementwise", "hardtanh_backward": "_elementwise",
    "gelu": "_elementwise", "gelu_backward": "_elementwise",
    "softplus": "_elementwise", "softplus_backward": "_elementwise",
    "bias_add": "_elementwise",
    # reductions and row-wise kernels
    "sum": "_reduce", "bias_grad": "_reduce",
    "softmax": "_reduce", "log_softmax": "_reduce",
    "softmax_cross_entropy_forward": "_reduce", "softmax_cross_entropy_backward": "_reduce",
    "nll_loss_forward": "_reduce", "nll_loss_backward": "_reduce",
    # the LSTM cell's pointwise math
    "lstm_cell_forward": "_recurrent", "lstm_cell_backward": "_recurrent",
    # optimizer steps, in place
    "sgd_update": "_optim", "adam_update": "_optim", "rmsprop_update": "_optim",
    "adagrad_update": "_optim",
    # convolution and pooling
    "im2col": "_conv", "col2im": "_conv", "max_pool2d_indices": "_conv",
}

__all__ = sorted([*_SUBMODULE, "is_available"])


def is_available():
    """True when Numba can run CUDA kernels here: a GPU and driver, or the simulator."""
    from numba import cuda

    return cuda.is_available()


def __getattr__(name):
    if name not in _SUBMODULE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_SUBMODULE[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return __all__
