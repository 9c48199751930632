"""The caching allocator: device blocks freed by one step are handed out again in the next.

Allocating GPU memory (``cudaMalloc``) costs far more than a kernel launch, and freeing it
(``cudaFree``) waits for the device; a training step frees and allocates the same sizes every
time. So, like PyTorch's caching allocator, freed blocks are kept, by dtype and number of
elements, and a request of the same size takes one back instead of asking the driver.
``autodiff.cuda.stats()`` counts both outcomes (``allocations``, ``cache_hits``);
``empty_cache()`` lets the cached blocks go. ``AUTODIFF_CUDA_CACHING=0`` in the environment
turns reuse off (every block is a new allocation), like PyTorch's
``PYTORCH_NO_CUDA_MEMORY_CACHING=1``: for telling an allocator problem from another one.

A block goes back to the cache when the flat array it was handed out as (a CudaArray's
``_buf``, which every view of the CudaArray shares) is garbage, and so are the Numba views
made of it (``_buf[a:b].reshape(shape)`` for a kernel launch): each such view holds the
handle, so a block never goes back while anything can still reach it. Every kernel that uses
a block is queued on the one stream before any later kernel that reuses it, so reuse never
races. (Arrays that ``kernels.cuda`` allocates itself are Numba's own, outside this cache.)
"""
import os
import weakref

from numba import cuda

from .devices import count

_free = {}     # (dtype, elements) -> blocks (flat Numba device arrays) ready to hand out
_REUSE = os.environ.get("AUTODIFF_CUDA_CACHING", "1") != "0"


def _release(key, block):
    _free.setdefault(key, []).append(block)


class _HoldsHandle:
    """Mixed into the class of a handed-out handle: its slices and reshapes (and theirs) keep
    a reference to the handle, so that the block stays out of the cache while they live."""

    def __getitem__(self, item):
        return _holding(super().__getitem__(item), self)

    def reshape(self, *args, **kwargs):
        return _holding(super().reshape(*args, **kwargs), self)


_HOLDING_CLASSES = {}


def _holding(view, parent):
    if not hasattr(view, "__dict__"):      # one element, read to the host: a scalar
        return view
    base = type(view)
    if base not in _HOLDING_CLASSES:
        _HOLDING_CLASSES[base] = base if issubclass(base, _HoldsHandle) else \
            type(f"Pooled{base.__name__}", (_HoldsHandle, base), {})
    view.__class__ = _HOLDING_CLASSES[base]
    view.pool_handle = getattr(parent, "pool_handle", parent)
    return view


def empty(n, dtype):
    """A flat Numba device array of ``n`` elements of ``dtype`` (uninitialised): a cached
    block of that size if there is one, else a new allocation."""
    if n == 0:
        return cuda.device_array(0, dtype)
    key = (dtype, n)
    blocks = _free.get(key) if _REUSE else None
    if blocks:
        block = blocks.pop()
        count("cache_hits")
    else:
        block = cuda.device_array(n, dtype)
        count("allocations")
    handle = block[:]          # an object of its own, whose death returns the block
    base = type(handle)
    if base not in _HOLDING_CLASSES:
        _HOLDING_CLASSES[base] = type(f"Pooled{base.__name__}", (_HoldsHandle, base), {})
    handle.__class__ = _HOLDING_CLASSES[base]
    weakref.finalize(handle, _release, key, block)
    return handle


def empty_cache():
    """Let the driver have every cached block back (they are freed once nothing uses them)."""
    _free.clear()


def cached_blocks():
    """How many freed blocks wait in the cache."""
    return sum(len(blocks) for blocks in _free.values())
