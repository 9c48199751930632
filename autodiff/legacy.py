"""PyTorch's legacy constructors and type names: ``Tensor(2, 3)``, ``FloatTensor(data)``,
``LongTensor(...)`` ..., ``t.type()`` and ``t.type('autodiff.LongTensor')``.

Type names are spelled ``autodiff.FloatTensor`` (PyTorch: ``torch.FloatTensor``), and
``autodiff.cuda.FloatTensor`` for a tensor on a GPU. ``t.type(name)`` also accepts PyTorch's
spelling (``'torch.FloatTensor'``), so strings copied from PyTorch code work unchanged.

A legacy constructor called with sizes (``Tensor(2, 3)``, ``Tensor(Size([2, 3]))``) makes an
"uninitialised" tensor: PyTorch leaves its memory as it finds it; here it is zero-filled, which
is one of the values uninitialised memory may hold and keeps programs reproducible.
"""
import builtins

import numpy as np

from . import dtypes
from .cuda import devices as _devices
from .tensor import Size, Tensor, tensor

# PyTorch's legacy type name of each dtype
_TYPE_NAMES = {
    dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor", dtypes.float16: "HalfTensor",
    dtypes.int64: "LongTensor", dtypes.int32: "IntTensor", dtypes.int16: "ShortTensor",
    dtypes.int8: "CharTensor", dtypes.uint8: "ByteTensor", dtypes.bool: "BoolTensor",
}
_DTYPES_BY_NAME = {name: dtype for dtype, name in _TYPE_NAMES.items()}


def _is_size_list(args):
    """Tensor(2, 3) and Tensor(Size([2, 3])) give sizes; Tensor([2, 3]) gives data."""
    if len(args) == 1 and isinstance(args[0], Size):
        return True
    return len(args) > 0 and all(isinstance(a, (builtins.int, np.integer))
                                 and not isinstance(a, (builtins.bool, np.bool_)) for a in args)


def construct(args, dtype, device, name):
    """What ``Tensor(*args)`` / ``FloatTensor(*args)`` ... return (a new tensor)."""
    if len(args) == 1 and isinstance(args[0], Tensor):      # an alias of its memory, as PyTorch
        source = args[0]
        if dtype is not None and source.dtype != dtypes.as_dtype(dtype):
            raise TypeError(f"{name}: expected a {dtypes.name(dtypes.as_dtype(dtype))} tensor, got "
                            f"{dtypes.name(source.dtype)} (convert it with .to() or .type())")
        return source.detach()
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if not args:
        array = np.zeros(0, dtype=dtype)
    elif _is_size_list(args):
        shape = tuple(builtins.int(a) for a in (args[0] if isinstance(args[0], Size) else args))
        if any(n < 0 for n in shape):
            raise RuntimeError(f"{name}: trying to create tensor with negative dimension: "
                               f"{list(shape)}")
        array = np.zeros(shape, dtype=dtype)
    elif len(args) == 1:
        data = args[0]
        if isinstance(data, (builtins.float, builtins.complex, builtins.bool, np.number)) \
                or data is None:
            raise TypeError(f"{name}: data must be a sequence (got {type(data).__name__}); "
                            f"sizes must be ints: {name}(2, 3)")
        array = tensor(data, dtype=dtype)._data
    else:
        raise TypeError(f"{name}: got {len(args)} positional arguments "
                        f"({', '.join(type(a).__name__ for a in args)}); expected sizes "
                        f"({name}(2, 3)) or one sequence of data ({name}([[1, 2], [3, 4]]))")
    if device is not None:
        array = _devices.move(array, _devices.canonical(device))
    return Tensor._wrap(array)


class _LegacyTensorType(type):
    """The type of ``FloatTensor`` and friends: calling one constructs a tensor of its dtype;
    ``isinstance(t, FloatTensor)`` asks whether ``t`` is a float32 tensor on the CPU."""

    def __call__(cls, *args, device=None):
        return construct(args, cls.dtype, device, cls.__name__)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and not obj.is_cuda

    def __repr__(cls):
        return f"<class 'autodiff.{cls.__name__}'>"


def _legacy_type(name, dtype):
    return _LegacyTensorType(name, (), {"dtype": dtype, "__doc__":
                                        f"Legacy constructor of {dtypes.name(dtype)} tensors."})


FloatTensor = _legacy_type("FloatTensor", dtypes.float32)
DoubleTensor = _legacy_type("DoubleTensor", dtypes.float64)
HalfTensor = _legacy_type("HalfTensor", dtypes.float16)
LongTensor = _legacy_type("LongTensor", dtypes.int64)
IntTensor = _legacy_type("IntTensor", dtypes.int32)
ShortTensor = _legacy_type("ShortTensor", dtypes.int16)
CharTensor = _legacy_type("CharTensor", dtypes.int8)
ByteTensor = _legacy_type("ByteTensor", dtypes.uint8)
BoolTensor = _legacy_type("BoolTensor", dtypes.bool)


def type_name(t):
    """``t.type()``: 'autodiff.FloatTensor', 'autodiff.cuda.LongTensor' ..."""
    prefix = "autodiff.cuda." if t.is_cuda else "autodiff."
    return prefix + _TYPE_NAMES.get(t.dtype, dtypes.name(t.dtype))


def dtype_of_type(type_spec):
    """The dtype that ``t.type(type_spec)`` names: a dtype, a legacy class, or a name such as
    'autodiff.LongTensor' / 'torch.LongTensor' / 'torch.cuda.FloatTensor'. Returns
    (dtype, on_cuda) where on_cuda is None when the spec names no device."""
    if isinstance(type_spec, _LegacyTensorType):
        return type_spec.dtype, None
    if isinstance(type_spec, str):
        parts = type_spec.split(".")
        on_cuda = "cuda" in parts[:-1]
        if parts[0] in ("torch", "autodiff") and parts[-1] in _DTYPES_BY_NAME \
                and len(parts) == (3 if on_cuda else 2):
            return _DTYPES_BY_NAME[parts[-1]], on_cuda
        raise ValueError(f"type: invalid type {type_spec!r}; expected a dtype or a name such as "
                         f"'autodiff.FloatTensor' (or PyTorch's 'torch.FloatTensor')")
    return dtypes.as_dtype(type_spec), None


class _VariableType(type):
    def __call__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable: data must be a tensor, got {type(data).__name__}")
        t = data.detach()
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableType):
    """Deprecated (as in PyTorch since 0.4): ``Variable(t, requires_grad=...)`` returns a tensor
    sharing ``t``'s memory, outside any graph (as ``t.detach()``), that requires grad when asked.
    Every tensor is an instance of Variable."""
