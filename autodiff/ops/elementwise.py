"""Elementwise operations: forward on numpy arrays, derivative right below it.

A derivative uses Python operators and ``ctx.xp`` (numpy-named functions), so
the same formula runs on arrays or, under create_graph, on tensors.
Broadcasting is not handled here: the engine sums each gradient back to its
input's shape (see ``autodiff.autograd.function``). The activations hand large
arrays to a Numba kernel computing the same formula in one pass (``autodiff.backends``).
"""
import numpy as np

from .. import backends as backend
from ..autograd.function import Op
from ..cuda.devices import DeviceArray
from ..dtypes import get_default_dtype


_FLOAT64 = np.dtype(np.float64)


def promote(out, a, b):
    """PyTorch's result dtype where numpy's differs: integers (or float32) mixed with a
    Python float or an integer tensor give the default float dtype, not float64."""
    if out.dtype is not _FLOAT64:      # (nearly always: a cheap exit)
        return out
    if not (
            (isinstance(a, (np.ndarray, DeviceArray)) and a.dtype == np.float64)
            or (isinstance(b, (np.ndarray, DeviceArray)) and b.dtype == np.float64)):
        return out.astype(get_default_dtype())
    return out


class Add(Op):
    @staticmethod
    def forward(ctx, a, b):
        return promote(a + b, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Op):
    @staticmethod
    def forward(ctx, a, b):
        return promote(a - b, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote(a * b, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote(a / b, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


class Pow(Op):
    @staticmethod
    def forward(ctx, a, b):
        out = promote(a ** b, a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * b * a ** (b - 1) if need_a else None
        grad_b = grad * out * ctx.xp.log(a) if need_b else None
        return grad_a, grad_b


class Neg(Op):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * ctx.xp.sign(x)


class Exp(Op):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out


class Log(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class Log1p(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x + 1)


class Sqrt(Op):
    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad / (out * 2)


class Sin(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * ctx.xp.cos(x)


class Cos(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad * ctx.xp.sin(x)


class Tanh(Op):
    @staticmethod
    def forward(ctx, x):
        fast = backend.kernel("tanh", x)
        out = fast(x) if fast else np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        fast = backend.kernel("tanh_backward", grad)   # (never on tensors: create_graph)
        return fast(grad, out) if fast else grad * (1 - out * out)


def stable_sigmoid(x):
    """1 / (1 + exp(-x)) without overflow warnings for large |x|."""
    return np.exp(-np.logaddexp(0, -x))


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, x):
        fast = backend.kernel("sigmoid", x)
        out = fast(x) if fast else stable_sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        fast = backend.kernel("sigmoid_backward", grad)
        return fast(grad, out) if fast else grad * out * (1 - out)


class Relu(Op):
    op_name = "relu"

    @staticmethod
    def forward(ctx, x):
        fast = backend.kernel("relu", x)
        out = fast(x) if fast else np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        fast = backend.kernel("relu_backward", grad)
        # out >= 0, so sign(out) is the 0/1 mask out > 0, already in grad's dtype
        # (half the cost of a bool mask; a NaN output passes NaN back, where PyTorch passes grad)
        return fast(grad, out) if fast else grad * ctx.xp.sign(out)


class LeakyRelu(Op):
    op_name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        fast = backend.kernel("leaky_relu", x)
        return fast(x, negative_slope) if fast else np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        fast = backend.kernel("leaky_relu_backward", grad)
        if fast:
            return fast(grad, x, ctx.negative_slope)
        return ctx.xp.where(x > 0, grad, grad * ctx.negative_slope)


class Hardtanh(Op):
    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        lo, hi = ctx.bounds
        return grad * ((x > lo) & (x < hi))


class Softplus(Op):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        scaled = x * beta
        return np.where(scaled > threshold, x, np.logaddexp(0, scaled) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        scaled = x * ctx.beta
        return grad * ctx.xp.where(scaled > ctx.threshold, 1.0, ctx.xp.sigmoid(scaled))   # linear above threshold


class Clamp(Op):
    @staticmethod
    def forward(ctx, x, min_val, max_val):
        if min_val is None and max_val is None:
            raise ValueError("clamp: at least one of min and max must be given")
        ctx.save_for_backward(x, min_val, max_val)
        if max_val is None:                  # (np.clip costs ~1 us more on small arrays)
            return promote(np.maximum(x, min_val), x, min_val)
        if min_val is None:
            return promote(np.minimum(x, max_val), x, max_val)
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        if lo is not None and hi is not None:
            return grad * ((x >= lo) & (x <= hi))
        return grad * ((x >= lo) if lo is not None else (x <= hi))


class Maximum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote(np.maximum(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a > b) + (a == b) * 0.5   # ties split the gradient evenly
        return grad * share_a, grad * (1 - share_a)


class Minimum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return promote(np.minimum(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a < b) + (a == b) * 0.5
        return grad * share_a, grad * (1 - share_a)


class Where(Op):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        condition, = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        grad_a = ctx.xp.where(condition, grad, 0) if need_a else None
        grad_b = ctx.xp.where(condition, 0, grad) if need_b else None
        return None, grad_a, grad_b


class Cast(Op):
    """Change of floating dtype; the engine casts the gradient back."""

    op_name = "to"

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad
