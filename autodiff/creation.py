"""Factory functions: zeros, ones, rand, arange ... (PyTorch's names and defaults).

Each takes ``device=`` ('cpu', 'cuda'): values are made on the host, with the same random
numbers for a seed on every device, then copied to the device.
"""
import builtins
import math
import numbers

import numpy as np

from . import dtypes
from . import random as _random
from .random import (finish as _finish_values, manual_seed, rand, rand_like, randint,  # noqa: F401
                     randint_like, randn, randn_like, randperm, size_arg as _size, write_out)
from .tensor import Tensor, _supported_array, tensor


def default_generator():
    """The default ``autodiff.Generator`` (a numpy Generator): what nn.init, dropout, the
    datasets and DataLoader shuffling draw from when given no generator."""
    return _random.default_generator


def _finish(array, dtype, requires_grad, device, default=None, out=None, name="factory"):
    dtype = dtypes.as_dtype(dtype) if dtype is not None else (default or dtypes.get_default_dtype())
    if out is not None:
        return write_out(name, np.asarray(array).astype(dtype, copy=False), out, explicit_dtype=dtype)
    return _finish_values(name, array, dtype, None, device, requires_grad)


def _dtype_or_out(dtype, out):
    """With ``out=`` and no dtype, the result takes out's dtype."""
    return out.dtype if dtype is None and isinstance(out, Tensor) else dtype


def zeros(*size, out=None, dtype=None, device=None, requires_grad=False, **kwargs):
    shape = _size("zeros", size, kwargs.pop("size", None))
    _random._no_extra("zeros", kwargs)
    return _finish(np.zeros(shape), _dtype_or_out(dtype, out), requires_grad, device, out=out,
                   name="zeros")


def ones(*size, out=None, dtype=None, device=None, requires_grad=False, **kwargs):
    shape = _size("ones", size, kwargs.pop("size", None))
    _random._no_extra("ones", kwargs)
    return _finish(np.ones(shape), _dtype_or_out(dtype, out), requires_grad, device, out=out,
                   name="ones")


def empty(*size, out=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Zero-filled: PyTorch leaves the memory uninitialised; zeros are one value it may hold."""
    shape = _size("empty", size, kwargs.pop("size", None))
    _random._no_extra("empty", kwargs)
    return _finish(np.zeros(shape), _dtype_or_out(dtype, out), requires_grad, device, out=out,
                   name="empty")


def _fill_dtype(name, fill_value, dtype):
    """full's dtype: given, else bool / int64 / the default float from the fill value; the
    value must fit an integer dtype."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (numbers.Number, np.bool_)):
        raise TypeError(f"{name}: fill_value must be a number, got {type(fill_value).__name__} "
                        f"({fill_value!r})")
    if dtype is None:
        if isinstance(fill_value, (builtins.bool, np.bool_)):
            dtype = dtypes.bool
        elif isinstance(fill_value, numbers.Integral):
            dtype = dtypes.int64
        elif isinstance(fill_value, numbers.Complex) and not isinstance(fill_value, numbers.Real):
            dtype = np.dtype(np.complex64)
    dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dtype.kind in "iu":
        if isinstance(fill_value, numbers.Complex) and not isinstance(fill_value, numbers.Real):
            raise RuntimeError(f"{name}: value {fill_value!r} cannot be converted to type "
                               f"{dtypes.name(dtype)} without overflow")
        info = np.iinfo(dtype)
        if not math.isfinite(fill_value) or not info.min <= fill_value <= info.max:
            raise RuntimeError(f"{name}: value {fill_value!r} cannot be converted to type "
                               f"{dtypes.name(dtype)} without overflow")
    return dtype, fill_value


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False):
    shape = _size("full", (size,))
    dtype, fill_value = _fill_dtype("full", fill_value, _dtype_or_out(dtype, out))
    return _finish(np.full(shape, fill_value, dtype=dtype), dtype, requires_grad, device, out=out,
                   name="full")


def _count(name, label, n):
    if isinstance(n, (builtins.bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name}: {label} must be an int, got {type(n).__name__} ({n!r})")
    if n < 0:
        raise RuntimeError(f"{name}: {label} must be greater or equal to 0, got {n}")
    return builtins.int(n)


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False):
    n = _count("eye", "n", n)
    m = n if m is None else _count("eye", "m", m)
    return _finish(np.eye(n, m), _dtype_or_out(dtype, out), requires_grad, device, out=out,
                   name="eye")


def _number(name, label, value):
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, (builtins.bool, np.bool_)):
        raise TypeError(f"{name}: {label} must be a real number, got {type(value).__name__} "
                        f"({value!r})")
    if not math.isfinite(value):
        raise RuntimeError(f"{name}: {label} must be finite, got {value}")
    return value


def arange(start, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False):
    """[start, end) in steps of ``step``: int64 when all three are ints, else the default float."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number("arange", label, v)
                        for label, v in (("start", start), ("end", end), ("step", step)))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    values = np.arange(start, end, step)
    default = dtypes.int64 if values.dtype.kind in "iu" else None
    return _finish(values, _dtype_or_out(dtype, out), requires_grad, device, default, out=out,
                   name="arange")


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False):
    start, end = _number("linspace", "start", start), _number("linspace", "end", end)
    steps = _count("linspace", "number of steps", steps)
    return _finish(np.linspace(start, end, steps), _dtype_or_out(dtype, out), requires_grad,
                   device, out=out, name="linspace")


def from_numpy(array):
    """A tensor sharing memory with ``array`` (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    _supported_array("from_numpy", array)
    return Tensor._wrap(array)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data if device is None else data.to(device)
    return tensor(data, dtype=dtype, device=device)


def _like(name, x, dtype, fill, requires_grad, device):
    """Made like ``x``: its shape, and its dtype and device unless given."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: argument 'input' must be a tensor, not {type(x).__name__}")
    array = fill(tuple(x.shape))
    device = device if device is not None else x.device
    return _finish(array, dtype if dtype is not None else x.dtype, requires_grad, device,
                   name=name)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return _like("zeros_like", input, dtype, np.zeros, requires_grad, device)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return _like("ones_like", input, dtype, np.ones, requires_grad, device)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    return _like("empty_like", input, dtype, np.zeros, requires_grad, device)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    if not isinstance(input, Tensor):
        raise TypeError(f"full_like: argument 'input' must be a tensor, not {type(input).__name__}")
    dtype, fill_value = _fill_dtype("full_like", fill_value,
                                    input.dtype if dtype is None else dtype)
    return _like("full_like", input, dtype, lambda s: np.full(s, fill_value), requires_grad, device)


_NEW_FILLS = {"zeros": np.zeros, "ones": np.ones, "empty": np.zeros}


def _new_like(x, name, kind, size, dtype, device, requires_grad, fill_value=None):
    """``x.new_zeros(size)`` ...: x's dtype and device unless given."""
    shape = _size(name, size)
    if kind == "full":
        dtype, fill_value = _fill_dtype(name, fill_value, x.dtype if dtype is None else dtype)
        array = np.full(shape, fill_value, dtype=dtype)
    else:
        array = _NEW_FILLS[kind](shape)
    return _finish(array, x.dtype if dtype is None else dtype, requires_grad,
                   x.device if device is None else device, name=name)
