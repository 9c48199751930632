"""dtypes, as numpy dtype objects under PyTorch's names (``x.dtype == autodiff.float32``)."""
import builtins

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)

_default = float32


def as_dtype(dtype):
    """A numpy dtype from an autodiff/numpy dtype, a Python type or a name."""
    if dtype is builtins.float:
        return _default
    if dtype is builtins.int:
        return int64
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None


def name(dtype):
    """'float32', 'int64', 'bool' ..."""
    dtype = np.dtype(dtype)
    return "bool" if dtype == np.bool_ else dtype.name


def get_default_dtype():
    return _default


def set_default_dtype(dtype):
    """The dtype of floating tensors made from Python numbers (float32 unless changed)."""
    global _default
    new = as_dtype(dtype)
    if new.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, got {name(new)}")
    _default = new
