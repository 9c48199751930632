"""One backend per device: the object that runs the ops' hot paths on that device's arrays.

    backend = backends.of(x)          # the CPU backend for a numpy array, CUDA for a CudaArray
    out = backend.relu(x)             # numpy, or a Numba kernel, or a CUDA kernel

Layout (each file one idea):

- ``choice``: which implementation runs on the CPU (numpy/BLAS or a ``kernels.cpu`` kernel,
  by measured size thresholds; ``use("numpy" | "numba" | "auto")``), the OpenMP-contention
  guard, and ``kernel(name, array)``: the one function through which every Numba kernel,
  CPU or CUDA, is handed out;
- ``cpu``: ``CpuBackend``, numpy formulas that take a kernel where ``choice`` says so;
- ``cuda``: ``CudaBackend``, the fused ``kernels.cuda`` launches on CudaArrays (imported with
  the first CUDA array: Numba is not imported by ``import autodiff``);
- ``host_memory``: freed host memory kept in the process (glibc's malloc thresholds, set once
  on import), so that a step's arrays are not page-faulted in again every step.

Both backends have the same methods: ``matmul`` (and ``matmul_tn``/``matmul_nt``, its
gradients), ``linear``/``linear_backward``, ``bias_add``/``bias_grad``, the activations and
their ``*_backward``, ``softmax``, ``log_softmax``, ``softmax_cross_entropy`` and
``nll_loss`` (+ backward), ``sum``, ``im2col``/``col2im``/``max_pool2d_indices``, and the
in-place optimizer updates ``sgd_step``, ``adam_step``, ``rmsprop_step``, ``adagrad_step``.
An op resolves the backend once per call: ``CPU if type(x) is np.ndarray else backends.of(x)``
(no lookup on the common path); ``of`` answers None for a tensor, when a backward pass records
its own graph (create_graph) and the op's formula runs on tensors instead.
"""
import numpy as np

from .choice import (MAX_SIZE, MIN_SIZE, NEVER, cpu_kernel, current, kernel,  # noqa: F401
                     openmp_contended, openmp_runtimes, use)
from ..cuda.devices import DeviceArray
from .cpu import CPU
from . import host_memory

host_memory.keep_freed_memory()

_BY_TYPE = {np.ndarray: CPU}


def of(array):
    """The backend for ``array``'s device, or None for anything that is not an array (a
    tensor, when a backward pass records its own graph: the op's formula runs on tensors).
    An ndarray subclass (autodiff.compile's traced arrays) gets the CPU backend."""
    backend = _BY_TYPE.get(type(array))
    if backend is None:
        if isinstance(array, DeviceArray):
            from .cuda import CUDA
            backend = _BY_TYPE[type(array)] = CUDA
        elif isinstance(array, np.ndarray):
            backend = _BY_TYPE[type(array)] = CPU
    return backend


def register(array_type, backend):
    """Make ``of`` answer ``backend`` for arrays of exactly ``array_type`` (autodiff.compile's
    traced CUDA arrays get a backend that records each call on the tape)."""
    _BY_TYPE[array_type] = backend
