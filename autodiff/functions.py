"""``autodiff.exp(x)``, ``autodiff.sum(x, dim)`` ...: the function forms of Tensor methods."""

from .tensor import Tensor, cat, chunk, concat, split, stack, tensor, where  # noqa: F401
from . import tensor_ops as _tensor_ops
from .tensor_ops import (addmm, aminmax, all, any, argsort, bincount, bmm, cartesian_prod,  # noqa: F401
                         column_stack, count_nonzero, cumprod, cumsum, diag, diagonal, dist, dot,
                         dstack, einsum, flip, gather, histc, histogram, hstack, index_add,
                         index_select, kthvalue, masked_fill, masked_select, median, meshgrid, mode,
                         moveaxis, movedim, mv, narrow, nonzero, norm, outer, prod, repeat_interleave,
                         roll, scatter, scatter_add, select, sort, swapaxes, swapdims, take, tile, topk, trace,
                         tril, triu, unflatten, unique, vstack, inner, tensordot, kron, cdist,
                         tril_indices, triu_indices, quantile)

_tensor_ops.install()


def _as_tensor(value):
    return value if isinstance(value, Tensor) else tensor(value)


def _method_as_function(name):
    def function(input, *args, **kwargs):
        return getattr(_as_tensor(input), name)(*args, **kwargs)
    function.__name__ = name
    function.__doc__ = f"Same as ``Tensor.{name}``."
    return function


_NAMES = """
    add sub mul div pow neg abs exp log log1p sqrt rsqrt square sin cos tanh sigmoid relu
    clamp clip maximum minimum sum mean var std max min amax amin argmax argmin logsumexp
    softmax log_softmax matmul mm reshape flatten squeeze unsqueeze transpose permute t
    expand broadcast_to unbind sign isnan isfinite allclose equal numel detach clone
    eq ne lt le gt ge logical_not
""".split()

from .tensor_math import FUNCTIONS as _MATH_NAMES  # noqa: E402  (the elementwise math of tensor_math.py)
_NAMES += _MATH_NAMES

for _name in _NAMES:
    globals()[_name] = _method_as_function(_name)
del _name

divide, multiply, subtract, true_divide = div, mul, sub, div  # noqa: F821


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(x):
    return x.dtype.kind == "f"


def leaky_relu(input, negative_slope=0.01):
    return input.leaky_relu(negative_slope)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    return input.hardtanh(min_val, max_val)


def softplus(input, beta=1.0, threshold=20.0):
    return input.softplus(beta, threshold)
