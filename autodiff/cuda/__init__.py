"""Tensors on an NVIDIA GPU, through Numba's CUDA target (``numba-cuda``).

    import autodiff
    device = "cuda" if autodiff.cuda.is_available() else "cpu"
    model = nn.Linear(3, 2).to(device)
    x = autodiff.randn(8, 3, device=device)
    loss = model(x).sum()          # runs on the GPU
    loss.backward()
    print(loss.item(), x.cpu())    # .item(), .cpu() and printing copy to the host

A CUDA tensor keeps its values in a ``CudaArray`` (``autodiff.cuda.array``): a device
array with numpy's array protocol, so every op's numpy forward and derivative runs on
it unchanged, as kernels generated for each operation. The hot paths (matmul, the linear
layer, activations, softmax cross-entropy, optimizer updates) run on the CUDA backend
instead (``autodiff/backends/cuda.py``): one fused ``kernels.cuda`` launch each. Device
memory comes from a caching allocator (``autodiff.cuda.memory``; ``empty_cache()`` lets it
go). Values move between host and device only in ``.to()``/``.cpu()``/``.cuda()``,
``.item()``, printing, and explicit ``np.asarray``; ``.numpy()`` on a CUDA tensor raises,
as in PyTorch. ``stats()`` counts kernel launches, copies each way, allocations and the
allocator's cache hits.

Importing this package does not import Numba: that happens on the first use of a CUDA
device. Without a GPU, set NUMBA_ENABLE_CUDASIM=1 before Numba is imported to run
everything on Numba's CUDA simulator (slow: keep tensors tiny).
"""
from .devices import CPU, CUDA0, DeviceArray, DeviceMismatchError, device, stats  # noqa: F401

__all__ = ["is_available", "device_count", "current_device", "get_device_name", "synchronize",
           "device", "DeviceMismatchError", "stats", "empty_cache"]

_available = None


def is_available():
    """True when Numba can run CUDA kernels here: a GPU and its driver, or the simulator."""
    global _available
    if _available is None:
        try:
            from numba import cuda
            _available = bool(cuda.is_available())
        except Exception:   # no numba-cuda, no driver, a broken install: no CUDA
            _available = False
    return _available


def device_count():
    """The number of CUDA devices (autodiff uses the first one, cuda:0)."""
    if not is_available():
        return 0
    from numba import cuda
    return len(cuda.gpus)


def current_device():
    return 0


def get_device_name(device=None):
    """The GPU's name ('simulator' on Numba's CUDA simulator)."""
    _require()
    from numba import config, cuda
    if config.ENABLE_CUDASIM:
        return "simulator"
    name = cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize():
    """Wait until every kernel launched so far has finished (for timing)."""
    _require()
    from numba import cuda
    cuda.synchronize()


def empty_cache():
    """Let go of the device blocks the caching allocator keeps for reuse (as torch.cuda's)."""
    import sys
    memory = sys.modules.get(__name__ + ".memory")
    if memory is not None:       # (nothing was ever allocated otherwise: Numba not imported)
        memory.empty_cache()


def _require(name="cuda"):
    """A RuntimeError that says what to do when no CUDA device is available."""
    if not is_available():
        raise RuntimeError(
            f"device {name!r} is not available (autodiff.cuda.is_available() is False): this "
            "needs an NVIDIA GPU with its driver and the numba-cuda package; without a GPU, set "
            "NUMBA_ENABLE_CUDASIM=1 before Numba is first imported (before the first CUDA "
            "tensor) to use Numba's slow CUDA simulator. Use device='cpu' otherwise.")


def __getattr__(name):
    if name == "CudaArray":
        from .array import CudaArray
        return CudaArray
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
