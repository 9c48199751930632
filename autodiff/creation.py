"""Factory functions: zeros, ones, rand, arange ... (PyTorch's names and defaults).

Each takes ``device=`` ('cpu', 'cuda'): values are made on the host, with the same random
numbers for a seed on every device, then copied to the device.
"""
import numpy as np

from . import dtypes
from .cuda import devices as _devices
from .tensor import Tensor, tensor

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed the generator behind rand, randn, randint, randperm, dropout and shuffling."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator():
    return _generator


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(n) for n in size)


def _finish(array, dtype, requires_grad, device, default=None):
    dtype = dtypes.as_dtype(dtype) if dtype is not None else (default or dtypes.get_default_dtype())
    array = np.asarray(array, dtype=dtype, order="C")   # (ascontiguousarray makes 0-d 1-d)
    if device is not None:
        array = _devices.move(array, _devices.canonical(device))
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.zeros(_shape(size)), dtype, requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.ones(_shape(size)), dtype, requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return _finish(np.empty(_shape(size)), dtype, requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None and isinstance(fill_value, bool):
        dtype = dtypes.bool
    elif dtype is None and isinstance(fill_value, int):
        dtype = dtypes.int64
    return _finish(np.full(_shape((size,)), fill_value), dtype, requires_grad, device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _finish(np.eye(n, m), dtype, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    default = dtypes.int64 if values.dtype.kind in "iu" else None
    return _finish(values, dtype, requires_grad, device, default)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    return _finish(np.linspace(start, end, steps), dtype, requires_grad, device)


def rand(*size, dtype=None, requires_grad=False, device=None):
    """Uniform on [0, 1)."""
    return _finish(_generator.random(_shape(size)), dtype, requires_grad, device)


def randn(*size, dtype=None, requires_grad=False, device=None):
    """Standard normal."""
    return _finish(_generator.standard_normal(_shape(size)), dtype, requires_grad, device)


def randint(low, high=None, size=(), dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return _finish(_generator.integers(low, high, size=_shape((size,))), dtype, False, device, dtypes.int64)


def randperm(n, dtype=None, device=None):
    return _finish(_generator.permutation(n), dtype, False, device, dtypes.int64)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data if device is None else data.to(device)
    return tensor(data, dtype=dtype, device=device)


def _like(x, dtype, fill, requires_grad, device):
    """Made like ``x``: its shape, and its dtype and device unless given."""
    array = fill(x.shape)
    device = device if device is not None else getattr(x, "device", None)
    return _finish(array, dtype if dtype is not None else x.dtype, requires_grad, device)


def zeros_like(x, dtype=None, requires_grad=False, device=None):
    return _like(x, dtype, np.zeros, requires_grad, device)


def ones_like(x, dtype=None, requires_grad=False, device=None):
    return _like(x, dtype, np.ones, requires_grad, device)


def empty_like(x, dtype=None, requires_grad=False, device=None):
    return _like(x, dtype, np.empty, requires_grad, device)


def full_like(x, fill_value, dtype=None, requires_grad=False, device=None):
    return _like(x, dtype, lambda s: np.full(s, fill_value), requires_grad, device)


def rand_like(x, dtype=None, requires_grad=False, device=None):
    return _like(x, dtype, _generator.random, requires_grad, device)


def randn_like(x, dtype=None, requires_grad=False, device=None):
    return _like(x, dtype, _generator.standard_normal, requires_grad, device)
