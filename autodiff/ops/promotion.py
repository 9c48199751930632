"""PyTorch's type promotion, in one place: the dtype of ``a + b``, ``where(c, a, b)``, ``clamp(x, lo, hi)``.

Categories rank bool < integer < floating. Operands come in three kinds, by priority:
tensors with dimensions, 0-d tensors, and Python numbers. A lower-priority kind changes
the result only when its category is higher than every higher-priority kind's: so
``float32 + float64 0-d`` stays float32, ``int32 + 5`` stays int32, but ``int64 + 0.5``
becomes the default float dtype (a Python float counts as the default float dtype) and
``int64 + float64 0-d`` becomes float64. Within one kind, dtypes promote as usual,
except that an integer with a float gives the float (``int64 + float16 -> float16``).

``common(a, b)`` is what the binary ops call on their numpy operands: it returns them
unchanged when numpy would already compute in PyTorch's dtype (the common case, checked
in a few type tests), else cast to it.
"""
import numbers

import numpy as np

from ..cuda.devices import DeviceArray
from ..dtypes import get_default_dtype, name as dtype_name

_ARRAYS = (np.ndarray, DeviceArray)
_BOOL = np.dtype(np.bool_)
_INT64 = np.dtype(np.int64)
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(a, b):
    """The dtype both ``a`` and ``b`` convert to (None: no operand of that kind yet)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    ka, kb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ka != kb and ka >= 2 and kb < 2:
        return a                     # an integer meets a float: the float wins, whatever its size
    if ka != kb and kb >= 2 and ka < 2:
        return b
    return np.promote_types(a, b)


def _combine(higher, lower):
    """Result of a higher-priority kind of operand meeting a lower-priority one."""
    if higher is None:
        return lower
    if lower is None or _CATEGORY[higher.kind] >= _CATEGORY[lower.kind]:
        return higher
    return promote_types(higher, lower)


def _number_dtype(value):
    """The dtype a Python number stands for (bool, int64, the default float dtype)."""
    if isinstance(value, (bool, np.bool_)):
        return _BOOL
    if isinstance(value, numbers.Integral):
        return _INT64
    if isinstance(value, numbers.Real):
        return get_default_dtype()
    if isinstance(value, numbers.Complex):
        return np.dtype(np.complex64) if get_default_dtype() == np.float32 else np.dtype(np.complex128)
    return None


def result_type(*operands, op="op"):
    """PyTorch's result dtype of an elementwise op of ``operands`` (arrays and Python numbers;
    None is skipped). Raises TypeError, naming ``op``, for anything else."""
    dims = zero = number = None
    for x in operands:
        if x is None:
            continue
        if isinstance(x, _ARRAYS):
            if x.ndim:
                dims = promote_types(dims, x.dtype)
            else:
                zero = promote_types(zero, x.dtype)
            continue
        dtype = _number_dtype(x)
        if dtype is None:
            raise TypeError(f"{op}: expected a tensor or a number, got {type(x).__name__} {x!r}")
        number = promote_types(number, dtype)
    return _combine(dims, _combine(zero, number))


def _cast(x, dtype):
    if isinstance(x, _ARRAYS):
        return x if x.dtype == dtype else x.astype(dtype)
    return x


def common(a, b, op="op"):
    """``a`` and ``b`` (numpy arrays or Python numbers) such that numpy computes in PyTorch's
    result dtype: unchanged in the usual cases, else cast."""
    ta, tb = type(a), type(b)
    if ta is np.ndarray:
        if tb is np.ndarray:
            if a.dtype is b.dtype:
                return a, b
        elif (tb is float or tb is int) and a.dtype.kind == "f":
            return a, b               # numpy keeps a float array's dtype with a Python number
    elif tb is np.ndarray and (ta is float or ta is int) and b.dtype.kind == "f":
        return a, b
    dtype = result_type(a, b, op=op)
    return _cast(a, dtype), _cast(b, dtype)


def common_all(*operands, op="op"):
    """``common`` for any number of operands (None passes through)."""
    dtype = result_type(*operands, op=op)
    return tuple(_cast(x, dtype) for x in operands), dtype


def to_float(x):
    """An integer or bool array as the default float dtype (true division, float math);
    float arrays and Python numbers as they are."""
    if isinstance(x, _ARRAYS) and x.dtype.kind not in "fc":
        return x.astype(get_default_dtype())
    return x


# PyTorch's C++ names of the dtypes, as its dtype-mismatch errors print them
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
              "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def check_same_dtype(op, a, b):
    """Raise PyTorch's error when a matrix product mixes dtypes (it never promotes)."""
    if a.dtype != b.dtype:
        na, nb = dtype_name(a.dtype), dtype_name(b.dtype)
        raise RuntimeError(f"{op}: expected m1 and m2 to have the same dtype, but got: "
                           f"{_CPP_NAMES.get(na, na)} != {_CPP_NAMES.get(nb, nb)}")
