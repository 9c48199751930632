"""Tensor's elementwise math beyond the core ops: rounding, inverse and hyperbolic
trigonometry, erf, fmod/remainder, lerp, logical and bitwise ops, NaN/inf tests, and
their in-place ``_`` forms, as PyTorch names them.

``Tensor`` inherits them from ``MathMethods``; ``autodiff.<name>`` function forms come
from ``FUNCTIONS``. Each method only checks arguments and picks the op; the ops, forward
and derivative side by side, are in ``autodiff/ops/elementwise.py``.
"""
import numpy as np

from . import dtypes
from .ops import elementwise as E
from .cuda.devices import as_array as _as_array
from .ops.promotion import result_type

# PyTorch's names of the dtypes in its messages ("result type Float can't be cast ...")
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _torch_name(dtype):
    name = dtypes.name(dtype)
    return _TORCH_NAMES.get(name, name)


def _data(value):
    return getattr(value, "_data", value)


def _floating(x):
    """Integer and bool tensors become the default float dtype before float math (as in PyTorch)."""
    return x if x._data.dtype.kind in "fc" else x.to(dtypes.get_default_dtype())


def _unary(op):
    def method(self):
        return op.apply(_floating(self))
    method.__doc__ = f"Elementwise {op.__name__.lower()} (integers computed in the default float dtype)."
    return method


def _store(name, data, result):
    """Write ``result`` into ``data`` in place, refusing a cast to a lower category (float into int)."""
    if not np.can_cast(result.dtype, data.dtype, casting="same_kind"):
        raise RuntimeError(f"{name}: result type {_torch_name(result.dtype)} can't be cast to the "
                           f"desired output type {_torch_name(data.dtype)}")
    np.copyto(data, result, casting="same_kind")


def _inplace_form(name):
    """``x.<name>_(...)``: ``x.<name>(...)`` written into x (recorded in the graph when it
    needs a gradient), through ``Tensor._inplace``."""
    def inplace(self, *args, **kwargs):
        other = args[0] if args else None
        rest = args[1:]

        def recorded(old, other):
            return getattr(old, name)(*((other,) if args else ()), *rest, **kwargs)

        def raw(data, other):
            result = getattr(self._wrap(data), name)(*((other,) if args else ()), *rest, **kwargs)
            _store(name + "_", data, result._data)
        return self._inplace(name + "_", other, recorded, raw)
    inplace.__name__ = name + "_"
    inplace.__doc__ = f"In-place ``{name}``."
    return inplace


def _dtype_of(value):
    """The dtype of an array or tensor, or of the array a Python number would make."""
    value = _data(value)
    return value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype


def _integer_only(op, *operands):
    for x in operands:
        dtype = _dtype_of(x)
        if dtype.kind not in "iub":
            raise RuntimeError(f"{op}: only integer and bool tensors are supported, got "
                               f"{dtypes.name(dtype)}")


def _bitwise(op_name, ufunc, bools=True):
    def method(self, other):
        _integer_only(op_name, self, other)
        a, b = self._data, _data(other)
        if not bools and a.dtype == np.bool_ and _dtype_of(b) == np.bool_:
            raise RuntimeError(f"{op_name}: not implemented for two bool tensors")
        dtype = result_type(a, b, op=op_name)
        try:
            out = ufunc(a.astype(dtype, copy=False), b.astype(dtype, copy=False) if hasattr(b, "astype") else b)
        except ValueError as exc:
            raise ValueError(f"{op_name}: {exc}") from None
        return self._wrap(_as_array(out))
    method.__name__ = op_name
    method.__doc__ = f"Elementwise {op_name} of integer or bool tensors."
    return method


def _logical(op_name, ufunc):
    def method(self, other):
        try:
            return self._wrap(_as_array(ufunc(self._data, _data(other))))
        except ValueError as exc:
            raise ValueError(f"{op_name}: {exc}") from None
    method.__name__ = op_name
    method.__doc__ = f"Elementwise {op_name}: a bool tensor (nonzero counts as True)."
    return method


class MathMethods:
    """Elementwise math methods of ``Tensor`` (see the module docstring)."""

    __slots__ = ()

    log2 = _unary(E.Log2)
    log10 = _unary(E.Log10)
    exp2 = _unary(E.Exp2)
    expm1 = _unary(E.Expm1)
    reciprocal = _unary(E.Reciprocal)
    erf = _unary(E.Erf)
    erfinv = _unary(E.Erfinv)
    tan = _unary(E.Tan)
    asin = arcsin = _unary(E.Asin)
    acos = arccos = _unary(E.Acos)
    atan = arctan = _unary(E.Atan)
    sinh = _unary(E.Sinh)
    cosh = _unary(E.Cosh)
    asinh = arcsinh = _unary(E.Asinh)
    acosh = arccosh = _unary(E.Acosh)
    atanh = arctanh = _unary(E.Atanh)

    def floor(self):
        return E.Rounding.apply(self, "floor", 0)

    def ceil(self):
        return E.Rounding.apply(self, "ceil", 0)

    def trunc(self):
        return E.Rounding.apply(self, "trunc", 0)

    fix = trunc

    def round(self, decimals=0):
        """Round half to even, to ``decimals`` places (negative: tens, hundreds ...)."""
        if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
            raise TypeError(f"round: decimals must be an int, got {decimals!r}")
        if decimals and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"round: decimals are only supported for floating tensors, got "
                               f"{dtypes.name(self._data.dtype)}")
        return E.Rounding.apply(self, "round", int(decimals))

    def frac(self):
        if self._data.dtype.kind not in "fc":
            raise RuntimeError(f"frac: only floating tensors are supported, got "
                               f"{dtypes.name(self._data.dtype)}")
        return E.Frac.apply(self)

    def div(self, other, *, rounding_mode=None):
        """self / other; ``rounding_mode`` "floor" or "trunc" rounds the quotient (zero gradient)."""
        if rounding_mode is None:
            return self.__truediv__(other)
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        return E.RoundedDiv.apply(self, other, rounding_mode)

    divide = div

    def true_divide(self, other):
        return self.__truediv__(other)

    def floor_divide(self, other):
        """a // b: the quotient rounded toward -inf (integers stay integers)."""
        return E.RoundedDiv.apply(self, other, "floor")

    def __floordiv__(self, other):
        return E.RoundedDiv.apply(self, other, "floor")

    def __rfloordiv__(self, other):
        return E.RoundedDiv.apply(other, self, "floor")

    def multiply(self, other):
        return self.__mul__(other)

    def subtract(self, other, *, alpha=1):
        return self.__sub__(other if alpha == 1 else other * alpha)

    def negative(self):
        return self.__neg__()

    def absolute(self):
        return self.__abs__()

    def fmod(self, other):
        """Remainder of a / b with the sign of a (C's fmod)."""
        return E.Fmod.apply(self, other)

    def remainder(self, other):
        """Remainder of a / b with the sign of b (Python's %)."""
        return E.Remainder.apply(self, other)

    def __mod__(self, other):
        return E.Remainder.apply(self, other)

    def __rmod__(self, other):
        return E.Remainder.apply(other, self)

    def atan2(self, other):
        """The angle of the point (other, self), in (-pi, pi]."""
        return E.Atan2.apply(self, other)

    arctan2 = atan2

    def lerp(self, end, weight):
        """self + weight * (end - self); ``end`` a tensor of self's dtype, ``weight`` a number or tensor."""
        end_dtype = _data(end).dtype if hasattr(_data(end), "dtype") else None
        if end_dtype != self._data.dtype:
            got = type(end).__name__ if end_dtype is None else dtypes.name(end_dtype)
            raise RuntimeError(f"lerp: expected end of dtype {dtypes.name(self._data.dtype)}, got {got}")
        if self._data.dtype.kind not in "fc":
            raise RuntimeError(f"lerp: only floating tensors are supported, got "
                               f"{dtypes.name(self._data.dtype)}")
        return E.Lerp.apply(self, end, weight)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN -> ``nan``, +-inf -> ``posinf``/``neginf`` (default: the dtype's largest finite values)."""
        if self._data.dtype.kind not in "fc":
            return self._wrap(self._data.copy())
        return E.NanToNum.apply(self, nan, posinf, neginf)

    # ---- tests of values (bool results, no gradient)
    def isinf(self):
        return self._wrap(np.isinf(self._data))

    def isposinf(self):
        return self._wrap(np.isposinf(self._data) if self._data.dtype.kind == "f"
                          else np.zeros(self._data.shape, bool))

    def isneginf(self):
        return self._wrap(np.isneginf(self._data) if self._data.dtype.kind == "f"
                          else np.zeros(self._data.shape, bool))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """|self - other| <= atol + rtol * |other|, elementwise (same dtypes, as PyTorch requires)."""
        other_data = _data(other)
        if getattr(other_data, "dtype", self._data.dtype) != self._data.dtype:
            raise RuntimeError(f"isclose: expected both inputs to have the same dtype, got "
                               f"{dtypes.name(self._data.dtype)} and {dtypes.name(other_data.dtype)}")
        if rtol < 0 or atol < 0:
            raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
        return self._wrap(_as_array(np.isclose(self._data, other_data, rtol=rtol, atol=atol,
                                               equal_nan=equal_nan)))

    # ---- logical (any dtype, bool results) and bitwise (integers and bools)
    logical_and = _logical("logical_and", np.logical_and)
    logical_or = _logical("logical_or", np.logical_or)
    logical_xor = _logical("logical_xor", np.logical_xor)
    bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
    bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
    bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)
    bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift, bools=False)
    bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift, bools=False)
    __and__ = bitwise_and
    __or__ = bitwise_or
    __xor__ = bitwise_xor
    __lshift__ = bitwise_left_shift
    __rshift__ = bitwise_right_shift

    def __rand__(self, other):
        return self.bitwise_and(other)

    def __ror__(self, other):
        return self.bitwise_or(other)

    def __rxor__(self, other):
        return self.bitwise_xor(other)

    def bitwise_not(self):
        _integer_only("bitwise_not", self)
        return self._wrap(np.invert(self._data))

    __invert__ = bitwise_not


# in-place forms, where PyTorch has them (of Tensor's core math too)
_INPLACE = """
    exp log log1p sqrt rsqrt sin cos tanh sigmoid relu abs neg sign square pow
    log2 log10 exp2 expm1 reciprocal erf erfinv tan asin arcsin acos arccos atan arctan sinh cosh
    asinh arcsinh acosh arccosh atanh arctanh floor ceil trunc fix round frac fmod remainder
    atan2 arctan2 lerp nan_to_num logical_and logical_or logical_xor bitwise_and bitwise_or
    bitwise_xor bitwise_left_shift bitwise_right_shift bitwise_not floor_divide
""".split()
for _name in _INPLACE:
    setattr(MathMethods, _name + "_", _inplace_form(_name))
del _name

# autodiff.<name>(input, ...) for each method above
FUNCTIONS = """
    log2 log10 exp2 expm1 reciprocal erf erfinv tan asin arcsin acos arccos atan arctan sinh cosh
    asinh arcsinh acosh arccosh atanh arctanh floor ceil trunc fix round frac fmod remainder
    atan2 arctan2 lerp nan_to_num isinf isposinf isneginf isclose logical_and logical_or
    logical_xor bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift bitwise_not
    floor_divide negative absolute
""".split()
