"""Elementwise CUDA kernels: activations forward and backward, and a bias added to every row.

Activations use the scalar formulas in `kernels._scalar` (the same source the CPU kernels
compile) in grid-stride loops over the flattened arrays. (Other arithmetic on device arrays
is autodiff's CudaArray's business: it generates one kernel per numpy operation.)
"""

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
        launch(kernel, blocks_for(x.size), THREADS, flat(x, op, "x"),
               *(x.dtype.type(p) for p in params), flat(out, op, "out"))
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
        launch(kernel, blocks_for(grad.size), THREADS, flat(grad, op, "grad"),
               flat(saved, op, saved_name), *(grad.dtype.type(p) for p in params),
               flat(grad_in, op, "grad_in"))
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


# ---- bias ----


@cuda.jit
def _bias_add(x, bias, out):
    """out[i, j] = x[i, j] + bias[j]."""
    rows, cols = out.shape
    for index in range(cuda.grid(1), rows * cols, cuda.gridsize(1)):
        i = index // cols
        j = index - i * cols
        out[i, j] = x[i, j] + bias[j]


def bias_add(x, bias, out=None):
    """x + bias for x of shape (batch, features) and bias of shape (features,); ``out`` may
    be ``x`` itself (in place)."""
    op = "bias_add"
    device_float(x, op, "x")
    device_float(bias, op, "bias")
    same_dtype(op, x=x, bias=bias)
    if x.ndim != 2 or bias.shape != (x.shape[1],):
        raise ValueError(f"{op}: expected x (batch, n) and bias (n,), got {x.shape} and {bias.shape}")
    out = check_out(op, out, x.shape, x.dtype)
    if out.size:
        launch(_bias_add, blocks_for(out.size), THREADS, x, bias, out)
    return out
