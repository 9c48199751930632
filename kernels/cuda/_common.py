"""Launch sizes, the input checks shared by the CUDA wrappers, and ``launch``, which tells a
listener of every launch (``set_launch_listener``: autodiff counts them in ``cuda.stats()``).

The wrappers allocate their results with ``numba.cuda.device_array``; a caller that manages
memory itself (autodiff's caching allocator) passes ``out=`` arrays instead."""
import warnings

from numba import config, cuda

if not config.ENABLE_CUDASIM:
    from numba.cuda.cudadrv.devicearray import DeviceNDArray
else:
    from . import _simulator
    _simulator.install()     # one shared array per block, whatever the thread switches

from .._checks import float_dtype

SIM = bool(config.ENABLE_CUDASIM)
# threads per block for 1-D and row kernels (a power of two: tree reductions), and the matmul
# tile side. The simulator runs each thread as a Python thread (~2,000 a second), so it gets
# small blocks: the same code paths (several blocks, shared memory, syncthreads), far fewer threads.
THREADS = 8 if SIM else 128
MAX_BLOCKS = 1024  # grid-stride loops cover anything larger
TILE = 4 if SIM else 16  # matmul tiles are TILE x TILE (256 threads per block on a GPU)

_on_launch = None


def set_launch_listener(listener):
    """Call ``listener()`` before every kernel launch (None: nobody)."""
    global _on_launch
    _on_launch = listener


def launch(kernel, blocks, threads, *args):
    """``kernel[blocks, threads](*args)``, told to the launch listener, without Numba's
    low-occupancy warning (small arrays make small grids on purpose)."""
    if _on_launch is not None:
        _on_launch()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Grid size")
        kernel[blocks, threads](*args)


def transposed(a):
    """The transpose of a 2-D Numba device array, as a view of the same memory. (Numba's own
    ``DeviceNDArray.T`` copies it, through a kernel it compiles at every call: 0.1 s each on
    an H200.) The simulator's arrays are numpy views already."""
    if SIM:
        return a.T
    return DeviceNDArray(a.shape[::-1], a.strides[::-1], a.dtype, stream=a.stream,
                         gpu_data=a.gpu_data)


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


def check_out(op, out, shape, dtype):
    """``out`` if it is a device array of ``shape`` and ``dtype``, a new one when None."""
    if out is None:
        return empty(shape, dtype)
    if tuple(out.shape) != tuple(shape) or out.dtype != dtype:
        raise ValueError(f"{op}: out must be a {dtype} array of shape {tuple(shape)}, "
                         f"got {out.dtype} {tuple(out.shape)}")
    return out
