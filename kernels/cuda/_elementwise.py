"""Elementwise CUDA kernels: activations forward and backward, arithmetic with broadcasting.

Activations use the scalar formulas in `kernels._scalar` (the same source the CPU kernels
compile) in grid-stride loops over the flattened arrays. Arithmetic works on 2-D views
whose operands may have a single row or column (a row vector, a column vector, or a 1 x 1
array is broadcast), or on a device array and a Python scalar.
"""

import numbers

from numba import cuda

from .. import _scalar as S
from .._checks import same_dtype
from ._common import THREADS, blocks_for, check_out, device_float, flat, launch

# ---- activations ----


@cuda.jit
def _relu(x, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = S.relu(x[i])


@cuda.jit
def _relu_backward(grad, out, grad_in):
    for i in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        grad_in[i] = S.relu_grad(grad[i], out[i])


@cuda.jit
def _leaky_relu(x, slope, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = S.leaky_relu(x[i], slope)


@cuda.jit
def _leaky_relu_backward(grad, x, slope, grad_in):
    for i in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        grad_in[i] = S.leaky_relu_grad(grad[i], x[i], slope)


@cuda.jit
def _sigmoid(x, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = S.sigmoid(x[i])


@cuda.jit
def _sigmoid_backward(grad, out, grad_in):
    for i in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        grad_in[i] = S.sigmoid_grad(grad[i], out[i])


@cuda.jit
def _tanh(x, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = S.tanh(x[i])


@cuda.jit
def _tanh_backward(grad, out, grad_in):
    for i in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        grad_in[i] = S.tanh_grad(grad[i], out[i])


@cuda.jit
def _hardtanh(x, min_val, max_val, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = S.hardtanh(x[i], min_val, max_val)


@cuda.jit
def _hardtanh_backward(grad, x, min_val, max_val, grad_in):
    for i in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        grad_in[i] = S.hardtanh_grad(grad[i], x[i], min_val, max_val)


@cuda.jit
def _gelu(x, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = S.gelu(x[i])


@cuda.jit
def _gelu_backward(grad, x, grad_in):
    for i in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        grad_in[i] = S.gelu_grad(grad[i], x[i])


@cuda.jit
def _softplus(x, beta, threshold, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = S.softplus(x[i], beta, threshold)


@cuda.jit
def _softplus_backward(grad, x, beta, threshold, grad_in):
    for i in range(cuda.grid(1), grad.size, cuda.gridsize(1)):
        grad_in[i] = S.softplus_grad(grad[i], x[i], beta, threshold)


def _forward(op, kernel, x, out, *params):
    """Launch kernel(flat x, *params in x's dtype, flat out); out has x's shape."""
    device_float(x, op, "x")
    out = check_out(op, out, x.shape, x.dtype)
    if x.size:
        launch(kernel, blocks_for(x.size), THREADS, flat(x, op, "x"), *(x.dtype.type(p) for p in params),
                                            flat(out, op, "out"))
    return out


def _backward(op, kernel, grad, saved, saved_name, *params, grad_in=None):
    """Launch kernel(flat grad, flat saved, *params, flat result); returns the result
    (written into ``grad_in`` when given)."""
    device_float(grad, op, "grad")
    device_float(saved, op, saved_name)
    same_dtype(op, grad=grad, **{saved_name: saved})
    if grad.shape != saved.shape:
        raise ValueError(f"{op}: grad shape {grad.shape} does not match "
                         f"{saved_name} shape {saved.shape}")
    grad_in = check_out(op, grad_in, grad.shape, grad.dtype)
    if grad.size:
        launch(kernel, blocks_for(grad.size), THREADS, flat(grad, op, "grad"), flat(saved, op, saved_name),
            *(grad.dtype.type(p) for p in params), flat(grad_in, op, "grad_in"))
    return grad_in


def relu(x, out=None):
    return _forward("relu", _relu, x, out)


def relu_backward(grad, out, grad_in=None):
    return _backward("relu_backward", _relu_backward, grad, out, "out", grad_in=grad_in)


def leaky_relu(x, slope=0.01, out=None):
    return _forward("leaky_relu", _leaky_relu, x, out, slope)


def leaky_relu_backward(grad, x, slope=0.01, grad_in=None):
    return _backward("leaky_relu_backward", _leaky_relu_backward, grad, x, "x", slope, grad_in=grad_in)


def sigmoid(x, out=None):
    return _forward("sigmoid", _sigmoid, x, out)


def sigmoid_backward(grad, out, grad_in=None):
    return _backward("sigmoid_backward", _sigmoid_backward, grad, out, "out", grad_in=grad_in)


def tanh(x, out=None):
    return _forward("tanh", _tanh, x, out)


def tanh_backward(grad, out, grad_in=None):
    return _backward("tanh_backward", _tanh_backward, grad, out, "out", grad_in=grad_in)


def hardtanh(x, min_val=-1.0, max_val=1.0, out=None):
    return _forward("hardtanh", _hardtanh, x, out, min_val, max_val)


def hardtanh_backward(grad, x, min_val=-1.0, max_val=1.0, grad_in=None):
    return _backward("hardtanh_backward", _hardtanh_backward, grad, x, "x", min_val, max_val, grad_in=grad_in)


def gelu(x, out=None):
    return _forward("gelu", _gelu, x, out)


def gelu_backward(grad, x, grad_in=None):
    return _backward("gelu_backward", _gelu_backward, grad, x, "x", grad_in=grad_in)


def softplus(x, beta=1.0, threshold=20.0, out=None):
    return _forward("softplus", _softplus, x, out, beta, threshold)


def softplus_backward(grad, x, beta=1.0, threshold=20.0, grad_in=None):
    return _backward("softplus_backward", _softplus_backward, grad, x, "x", beta, threshold, grad_in=grad_in)


# ---- arithmetic ----

_OPS = {"add": 0, "sub": 1, "mul": 2, "div": 3}


@cuda.jit(device=True)
def _apply(op, x, y):
    if op == 0:
        return x + y
    if op == 1:
        return x - y
    if op == 2:
        return x * y
    return x / y


@cuda.jit
def _binary(a, b, op, out):
    """out[i, j] = a[i, j] op b[i, j]; an operand with one row (or column) repeats it."""
    rows, cols = out.shape
    a_rows, a_cols = a.shape[0] - 1, a.shape[1] - 1
    b_rows, b_cols = b.shape[0] - 1, b.shape[1] - 1
    for index in range(cuda.grid(1), rows * cols, cuda.gridsize(1)):
        i = index // cols
        j = index - i * cols
        x = a[min(i, a_rows), min(j, a_cols)]
        y = b[min(i, b_rows), min(j, b_cols)]
        out[i, j] = _apply(op, x, y)


@cuda.jit
def _binary_scalar(a, s, op, scalar_first, out):
    """out = a op s, or s op a when scalar_first (for 1 - x, 1 / x)."""
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        out[i] = _apply(op, s, a[i]) if scalar_first else _apply(op, a[i], s)


def _as_2d(x):
    """x itself if 2-D (any strides), else a (1, n) or (1, 1) view."""
    return x if x.ndim == 2 else x.reshape((1,) * (2 - x.ndim) + x.shape)


def _broadcast_shape(op, a, b):
    """numpy's broadcast shape, or PyTorch's error naming the first mismatched dimension."""
    ndim = max(a.ndim, b.ndim)
    sa = (1,) * (ndim - a.ndim) + tuple(a.shape)
    sb = (1,) * (ndim - b.ndim) + tuple(b.shape)
    for dim, (x, y) in enumerate(zip(sa, sb)):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"{op}: The size of tensor a ({x}) must match the size of "
                             f"tensor b ({y}) at non-singleton dimension {dim}")
    return tuple(y if x == 1 else x for x, y in zip(sa, sb))


def _arithmetic(op, a, b, out=None):
    """a op b for two device arrays (broadcast as `_binary` allows) or an array and a number."""
    for name, x in (("a", a), ("b", b)):
        if not (hasattr(x, "copy_to_host") or isinstance(x, numbers.Number)):
            raise TypeError(f"{op}: {name} must be a device array (move it with cuda.to_device) "
                            f"or a number, got {type(x).__name__}")
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        raise TypeError(f"{op}: expected at least one device array, got two numbers")
    if isinstance(a, numbers.Number) or isinstance(b, numbers.Number):
        scalar_first = isinstance(a, numbers.Number)
        array, scalar = (b, a) if scalar_first else (a, b)
        name = "b" if scalar_first else "a"
        device_float(array, op, name)
        out = check_out(op, out, array.shape, array.dtype)
        if array.size:
            launch(_binary_scalar, blocks_for(array.size), THREADS, flat(array, op, name), array.dtype.type(scalar), _OPS[op], scalar_first,
                flat(out, op, "out"))
        return out
    device_float(a, op, "a")
    device_float(b, op, "b")
    same_dtype(op, a=a, b=b)
    shape = _broadcast_shape(op, a, b)
    if len(shape) > 2 and a.shape != b.shape:
        raise ValueError(f"{op}: broadcasting needs arrays of at most 2 dimensions, "
                         f"got shapes {a.shape} and {b.shape}")
    out = check_out(op, out, shape, a.dtype)
    if len(shape) <= 2:
        a2, b2, out2 = _as_2d(a), _as_2d(b), _as_2d(out)
    else:  # same N-D shape: flat (1, size) views
        a2, b2, out2 = (flat(x, op, name).reshape(1, x.size)
                        for x, name in ((a, "a"), (b, "b"), (out, "out")))
    if out.size:
        launch(_binary, blocks_for(out.size), THREADS, a2, b2, _OPS[op], out2)
    return out


def add(a, b):
    """a + b: device arrays (a row or column vector broadcasts) or an array and a scalar."""
    return _arithmetic("add", a, b)


def sub(a, b):
    """a - b, broadcasting like `add`."""
    return _arithmetic("sub", a, b)


def mul(a, b):
    """a * b, broadcasting like `add`."""
    return _arithmetic("mul", a, b)


def div(a, b):
    """a / b, broadcasting like `add`."""
    return _arithmetic("div", a, b)


def bias_add(x, bias, out=None):
    """x + bias for x of shape (batch, features) and bias of shape (features,)."""
    device_float(x, "bias_add", "x")
    device_float(bias, "bias_add", "bias")
    if x.ndim != 2 or bias.shape != (x.shape[1],):
        raise ValueError(f"bias_add: expected x (batch, n) and bias (n,), "
                         f"got {x.shape} and {bias.shape}")
    return _arithmetic("add", x, bias, out)
