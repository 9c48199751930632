"""The two math namespaces a derivative formula runs on (``ctx.math`` in ``backward``).

Each op's derivative is written once, with Python operators and the functions
below. An ordinary ``backward()`` runs it on numpy arrays (``ArrayMath``): no
graph, no tensor objects, the speed of numpy. ``create_graph=True`` runs the very
same formula on tensors (``TensorMath``), so the backward pass is itself
recorded and can be differentiated again.
"""
import numpy as np

from .. import backends
from ..autograd.tensor_base import TensorBase
from ..cuda.devices import DeviceArray
from .dims import is_basic_index, sum_to_shape


def sign(x):
    """np.sign of a number array, but 0 at NaN (PyTorch's sign, and the derivative of abs there)."""
    out = np.sign(x)
    if type(out) is not np.ndarray:
        if isinstance(out, DeviceArray):
            return out                   # (the CUDA kernel gives 0 at NaN itself)
        out = np.asarray(out)            # (a numpy scalar, from a 0-d array)
    out[out != out] = 0                  # (cheaper than np.copyto(..., where=) on small arrays)
    return out


def _sigmoid(x):
    """The device backend's sigmoid, the one the forward pass runs (one formula, one place)."""
    backend = backends.of(x)
    return backend.sigmoid(x) if backend is not None else backends.CPU.sigmoid(np.asarray(x))


def _broadcast_to(x, shape):
    """``x`` spread over ``shape``, as a new array (np.broadcast_to's view costs ~2 us)."""
    if type(x) is not np.ndarray:        # (a device array makes its own view)
        return np.broadcast_to(x, shape)
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out


def _index_backward(grad, key, shape):
    """Scatter-add ``grad`` into zeros of ``shape`` at ``key`` (repeated indices accumulate)."""
    out = np.zeros_like(grad, shape=shape)
    if is_basic_index(key):
        out[key] = grad
    else:
        np.add.at(out, key, grad)
    return out


def _index_put(x, key, value):
    out = x.copy()
    out[key] = value
    return out


class ArrayMath:
    """Derivative formulas on numpy arrays."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    sinh = staticmethod(np.sinh)
    floor = staticmethod(np.floor)
    trunc = staticmethod(np.trunc)
    cosh = staticmethod(np.cosh)
    sign = staticmethod(sign)
    where = staticmethod(np.where)
    sigmoid = staticmethod(_sigmoid)
    broadcast_to = staticmethod(_broadcast_to)
    expand_dims = staticmethod(np.expand_dims)
    squeeze = staticmethod(np.squeeze)
    transpose = staticmethod(np.transpose)
    index_backward = staticmethod(_index_backward)
    index_put = staticmethod(_index_put)
    sum_to_shape = staticmethod(sum_to_shape)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return np.add.reduce(x, axis=axis, keepdims=keepdims)   # (np.sum's wrapper costs ~2 us)

    @staticmethod
    def swapaxes(x, a, b):
        return x.swapaxes(a, b)        # (the method: np.swapaxes's wrapper costs 4x more)


class TensorMath:
    """The same functions on tensors, recorded in the graph (``create_graph=True``)."""

    @staticmethod
    def exp(x):
        return x.exp()

    @staticmethod
    def log(x):
        return x.log() if isinstance(x, TensorBase) else float(np.log(np.float64(x)))

    @staticmethod
    def sin(x):
        return x.sin()

    @staticmethod
    def cos(x):
        return x.cos()

    @staticmethod
    def sinh(x):
        return x.sinh()

    @staticmethod
    def floor(x):
        return x.floor()

    @staticmethod
    def trunc(x):
        return x.trunc()

    @staticmethod
    def cosh(x):
        return x.cosh()

    @staticmethod
    def sign(x):
        return x.sign()

    @staticmethod
    def where(condition, a, b):
        from ..tensor import where
        return where(condition, a, b)

    @staticmethod
    def sigmoid(x):
        return x.sigmoid()

    @staticmethod
    def broadcast_to(x, shape):
        return x.expand(*shape)

    @staticmethod
    def expand_dims(x, axis):
        return x.unsqueeze(axis)

    @staticmethod
    def squeeze(x, axis):
        return x.squeeze(axis)

    @staticmethod
    def swapaxes(x, a, b):
        return x.transpose(a, b)

    @staticmethod
    def transpose(x, axes):
        return x.permute(*axes)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return x.sum(axis, keepdim=keepdims)

    @staticmethod
    def sum_to_shape(x, shape):
        return x.sum_to_size(shape)

    @staticmethod
    def index_backward(grad, key, shape):
        from .shape import IndexBackward
        return IndexBackward.apply(grad, key, shape)

    @staticmethod
    def index_put(x, key, value):
        from .shape import IndexPut
        return IndexPut.apply(x, key, value)
