"""Launch sizes and the input checks shared by the CUDA wrappers."""

from numba import cuda

from .._checks import float_dtype

THREADS = 128      # threads per block for 1-D and row kernels (a power of two: tree reductions)
MAX_BLOCKS = 1024  # grid-stride loops cover anything larger
TILE = 16          # matmul tiles are TILE x TILE (256 threads per block)


def blocks_for(n):
    """Blocks for a grid-stride loop over n items."""
    return max(1, min(MAX_BLOCKS, -(-n // THREADS)))


def device_float(x, op, name):
    """Check that x is a float32/float64 device array; TypeError naming op and argument."""
    if not hasattr(x, "copy_to_host"):
        raise TypeError(f"{op}: {name} must be a device array (move it with cuda.to_device), "
                        f"got {type(x).__name__}")
    float_dtype(x, op, name)
    return x


def flat(x, op, name):
    """A 1-D view of a C-contiguous device array."""
    if not x.is_c_contiguous():
        raise ValueError(f"{op}: {name} must be C-contiguous")
    return x.reshape(x.size)


def empty(shape, dtype):
    return cuda.device_array(shape, dtype)
