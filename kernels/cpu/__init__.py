"""Parallel CPU kernels compiled with Numba (parallel=True, cache=True, fastmath=False).

Importing this package is cheap: it does not import Numba. Each public name is looked up
in its submodule on first access (PEP 562 module `__getattr__`), which imports Numba but
compiles nothing; a kernel compiles on its first call, per dtype, and is cached on disk.

Every function takes and returns numpy arrays (float32 or float64) and leaves its inputs
unchanged.

Numba's disk cache only notices edits to a kernel's own source file: after editing
kernels/_scalar.py or kernels/cpu/_jit.py, delete kernels/cpu/__pycache__.
"""

import importlib

_SUBMODULE = {
    # matrix products
    "matmul": "_matmul", "matmul_tn": "_matmul", "matmul_nt": "_matmul",
    # activations and their backward passes
    "relu": "_activations", "relu_backward": "_activations",
    "leaky_relu": "_activations", "leaky_relu_backward": "_activations",
    "sigmoid": "_activations", "sigmoid_backward": "_activations",
    "tanh": "_activations", "tanh_backward": "_activations",
    "hardtanh": "_activations", "hardtanh_backward": "_activations",
    "gelu": "_activations", "gelu_backward": "_activations",
    "softplus": "_activations", "softplus_backward": "_activations",
    # fused layers
    "linear_forward": "_linear", "linear_backward": "_linear",
    "softmax": "_softmax", "log_softmax": "_softmax",
    "softmax_cross_entropy_forward": "_softmax",
    "softmax_cross_entropy_backward": "_softmax",
    # recurrent layers: the LSTM over a sequence, pointwise math fused per step
    "lstm_sequence_forward": "_recurrent", "lstm_sequence_backward": "_recurrent",
    # an embedding's backward pass: rows added into the weight rows they came from
    "embedding_backward": "_embedding",
    # layer normalisation over rows, forward and backward
    "layer_norm_forward": "_normalization", "layer_norm_backward": "_normalization",
    # optimizer updates
    "adam_step": "_optim",
    # convolution and pooling
    "im2col": "_conv", "col2im": "_conv", "max_pool2d_indices": "_conv",
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
