"""Which implementation runs a hot path on the CPU: numpy (BLAS) or a Numba kernel.

``kernel(name, array)`` is the one place a Numba kernel is handed out: the CPU backend
(``backends.cpu``) and the ops that keep a kernel call of their own (convolution, pooling,
the LSTM) ask it for ``kernels.cpu.<name>`` and run their numpy formula when it answers
None. The CUDA backend asks it too, for ``kernels.cuda.<name>``, which it always gets for a
float CudaArray (there is nothing to choose on the GPU: one kernel launch beats several).
The automatic CPU rule is per op and size, from ``benchmarks/bench_dispatch.py`` on these
2-core machines:

- matmul and the linear layer: numpy's BLAS at every size we measured (the Numba
  GEMM reaches part of BLAS's throughput, see bench_kernels.py), so never automatic;
- activations, forward and backward: the kernel from ``MIN_SIZE[name]`` elements,
  where one parallel pass over memory beats numpy's several passes (a kernel call
  costs ~5-15 us, which small arrays never repay). sigmoid: even and from ~1,000 elements
  (numpy's form takes five passes), the kernel ahead from ~4,000; leaky_relu from ~4,000;
  relu from ~16,000; tanh's forward never (numpy's SIMD tanh beats Numba's scalar
  libm call at every size) but its backward, pure arithmetic, from ~64,000;
- the LSTM layer: its fused per-step kernels at every size (``bench_seq.py --kernels``);
- the fused softmax-cross-entropy (forward and backward): from 512 logits, a serial pass per
  row (a parallel one above 128K logits), 1.06x numpy's path at (64, 10), 1.25x at (512, 65)
  for nn.CrossEntropyLoss forward + backward;
- hardtanh, softplus, gelu, softmax, log_softmax: not measured to win here, so never
  automatic (they run under ``use("numba")``).

The automatic rule never picks a kernel while another OpenMP runtime shares the process
(PyTorch's or scikit-learn's own libgomp, imported before or after autodiff): two
runtimes' worker threads spin against each other on the two cores, and an MNIST-sized
Adam step took ~10x longer than on numpy alone (``benchmarks/bench_dispatch.py``, the
mixed-process case). See ``openmp_contended``.

``use("numpy")`` or ``use("numba")`` forces one implementation everywhere (for
benchmarks and debugging), as a call or a context manager; ``use("auto")`` restores
the rule. Gradients do not depend on the choice (the tests check both).
"""
import os
import sys

import numpy as np

from ..cuda.devices import DeviceArray

NEVER = float("inf")
MIN_SIZE = {   # elements from which the Numba kernel runs (bench_dispatch.py, section 1)
    "sigmoid": 1_000, "sigmoid_backward": 1_000,
    "relu": 16_000, "relu_backward": 16_000,
    "leaky_relu": 4_000, "leaky_relu_backward": 4_000,
    "tanh": NEVER, "tanh_backward": 64_000,
    "adam_step": 16_384,   # Adam: one fused pass instead of ~10 numpy passes per parameter
    # convolution's col2im and max pooling's indices: the kernel won at every size measured,
    # 64 to 1.25M elements, 2.3-10x on one thread (benchmarks/bench_kernels_cnn.py)
    "col2im": 0, "max_pool2d_indices": 0, "im2col": 0,
    # the LSTM over a sequence, cell math fused per step: 2.5x the numpy path at T=8 B=1 H=8,
    # 1.85x at T=32 B=16 H=128, 1.13x at T=16 B=64 H=256 (bench_seq.py --kernels): always
    "lstm_sequence_forward": 0,
    "layer_norm_forward": 0,   # one pass per row: 1.4-2.6x numpy's, forward + backward (kernels/cpu/_normalization.py)
    "embedding_backward": 0,   # a serial scatter-add: 2.4-20x the sort-and-reduceat path (kernels/cpu/_embedding.py)
    # nn.CrossEntropyLoss forward + backward, serial below 128K logits: even with numpy's path up
    # to ~300 logits, 1.06x at (64, 10), 1.25x at (512, 65), 1.2-2.2x above (kernels/cpu/_softmax.py)
    "softmax_cross_entropy_forward": 512, "softmax_cross_entropy_backward": 512,
}
# ... and up to how many elements (where numpy's copies catch up): im2col won 1.7-3.4x on
# inputs of up to 16,384 elements and lost (0.78x) on LeNet's 64x1x28x28 (bench_kernels_cnn.py)
MAX_SIZE = {"im2col": 40_000}
_MODES = ("auto", "numpy", "numba")
_mode = "auto"
_kernels = None
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class use:
    """Force an implementation: ``use("numba")``, ``with use("numpy"): ...``, ``use("auto")``."""

    def __init__(self, mode):
        global _mode
        if mode not in _MODES:
            raise ValueError(f"backends.use: mode must be one of {_MODES}, got {mode!r}")
        self.previous, _mode = _mode, mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _mode
        _mode = self.previous
        return False


def current():
    """The mode in force: 'auto', 'numpy' or 'numba'."""
    return _mode


def _cpu_kernels():
    global _kernels
    if _kernels is None:
        import kernels.cpu   # imports Numba on first use only: `import autodiff` stays fast
        _kernels = kernels.cpu
    return _kernels


_OPENMP_NAMES = ("libgomp", "libiomp", "libomp")
_NUMBA_POOL = "omppool"          # Numba's OpenMP threading layer (numba/np/ufunc/omppool*.so)
_contention = {"modules": -1, "contended": False}


def openmp_runtimes():
    """The OpenMP runtime libraries mapped into this process (real paths), and whether Numba's
    OpenMP thread pool is among the loaded libraries. Linux only (elsewhere: none, False)."""
    runtimes, pool = set(), False
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rsplit(None, 1)[-1] if "/" in line else ""
                name = os.path.basename(path)
                if name.startswith(_OPENMP_NAMES):
                    runtimes.add(os.path.realpath(path))
                elif name.startswith(_NUMBA_POOL):
                    pool = True
    except OSError:
        pass
    return runtimes, pool


def openmp_contended():
    """Whether Numba's parallel kernels would share the process with another OpenMP runtime:
    two runtimes mapped, or one mapped before Numba's own pool (which brings a second).
    Read again only when a module was imported since the last look (a cheap check per call)."""
    modules = len(sys.modules)
    if modules != _contention["modules"]:
        runtimes, pool = openmp_runtimes()
        _contention["contended"] = len(runtimes) + (0 if pool else 1) >= 2 and bool(runtimes)
        _contention["modules"] = modules
    return _contention["contended"]


def kernel(name, array):
    """The Numba kernel ``name`` if it should run on ``array``, else None (use numpy).

    A numpy array gets ``kernels.cpu.<name>`` by the rule above; a float CudaArray gets
    ``kernels.cuda.<name>`` (None if there is none: the CudaArray's numpy protocol runs the
    formula); an array autodiff.compile is tracing gets the kernel as a call recorded on the
    tape (``_traced_kernel``, set during a capture); anything else (a tensor, under
    create_graph) gets None.
    """
    if type(array) is not np.ndarray:
        if isinstance(array, DeviceArray):
            return _cuda_kernel(name, array)
        return None if _traced_kernel is None else _traced_kernel(name, array)
    if _mode == "auto":
        if array.size < MIN_SIZE.get(name, NEVER):   # (small arrays, the common case, decided early)
            return None
        if array.size > MAX_SIZE.get(name, NEVER):
            return None
        if openmp_contended():
            return None
    elif _mode == "numpy":
        return None
    if array.dtype not in _FLOATS:
        return None
    return getattr(_cpu_kernels(), name)


def cpu_kernel(name):
    """The Numba kernel ``name``, whatever the mode (the backward half of a kernel chosen in forward)."""
    if _traced_kernel is not None:
        return _traced_kernel(name, None)
    return getattr(_cpu_kernels(), name)


# set by autodiff.compile during a capture: (name, traced array or None) -> a kernel that
# records its call on the tape
_traced_kernel = None
_cuda_module = None


def _cuda_kernel(name, array):
    global _cuda_module
    if array.dtype not in _FLOATS:
        return None
    if _cuda_module is None:
        import kernels.cuda
        _cuda_module = kernels.cuda
    return getattr(_cuda_module, name, None)
