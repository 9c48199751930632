"""The CUDA backend: each hot path as one (or a few) ``kernels.cuda`` launches on CudaArrays.

A CudaArray answers numpy's protocol with one generated kernel per numpy call (see
``autodiff.cuda``), which is right for the long tail of ops but costs a launch per step of a
formula: sigmoid's stable form is four, Adam's update about ten per parameter. The methods
here run the fused kernels of ``kernels.cuda`` instead (handed out by ``choice.kernel``),
writing into CudaArrays from the caching allocator, and never copy anything to the host:
shapes and hyperparameters stay on the host, values (even a loss's mean and its count of
kept rows) stay on the device.

Where the kernels do not apply (integer or half dtypes, amsgrad, a softmax over an inner
dimension ...) a method falls back to the CPU backend's numpy formula, which runs on the
CudaArray through its numpy protocol (same values, more launches).
"""
import numpy as np

from ..cuda.array import CudaArray
from . import choice
from .cpu import CpuBackend

_FLOATS = choice._FLOATS


def _flat_view(a, shape):
    """``a``'s elements (C order, from its offset) as a Numba device array of ``shape``. Each
    Numba slice or reshape builds several Python objects (the MNIST step made ~80 a step, most
    of its 10 ms on an H200), so the allocator's block is used as it is where it is the array."""
    buf = a._buf
    if a._offset or a.size != buf.size:
        buf = buf[a._offset:a._offset + a.size]
    return buf if buf.shape == shape else buf.reshape(shape)


def _numba(a):
    """A C-contiguous CudaArray as a Numba device array of its shape (a copy when strided)."""
    if not a.is_c_contiguous:
        a = a.copy()
    return _flat_view(a, a.shape)


def _numba_matrix(a):
    """A 2-D CudaArray as a Numba device array for the matmul kernels, which read any strides:
    the transpose of a C-contiguous matrix (``w.T``) is a view, not a copy."""
    rows, cols = a.shape
    if not a.is_c_contiguous and a._strides == (1, rows):
        from kernels.cuda._common import transposed
        return transposed(_flat_view(a, (cols, rows)))
    return _numba(a)


def _like(shape, dtype):
    """A new CudaArray (from the caching allocator) and its Numba view, for a kernel's ``out``."""
    out = CudaArray.empty(shape, dtype)
    return out, _flat_view(out, out.shape)


def _product(name, a, b, shape):
    """The matrix product kernel ``name`` (matmul, matmul_tn or matmul_nt) of 2-D float
    CudaArrays a and b, into a new CudaArray of ``shape``."""
    out, view = _like(shape, a.dtype)
    choice.kernel(name, a)(_numba_matrix(a), _numba_matrix(b), out=view)
    return out


def _floats(*arrays):
    """True when every array is a float32/float64 CudaArray of one dtype (the kernels' domain)."""
    dtype = arrays[0].dtype
    return dtype in _FLOATS and all(type(a) is CudaArray and a.dtype == dtype for a in arrays)


class _OnDevice(tuple):
    """What a loss kernel's backward needs, as a type of its own: a backward told it from the
    CPU formula's tuple (a forward that fell back) by ``type(saved) is _OnDevice``."""


def _require_floats(op, x):
    """Only float kernels exist for convolution and pooling on CUDA (no numpy fallback there)."""
    if not _floats(x):
        raise TypeError(f"{op}: on a CUDA device the input must be float32 or float64, got {x.dtype}")


class CudaBackend(CpuBackend):
    """The hot paths of the ops on CudaArrays (see the module docstring)."""

    name = "cuda"

    # ------------------------------------------------------------------ matrix products
    def matmul(self, a, b):
        if not _floats(a, b):
            return np.matmul(a, b)
        return _product("matmul", a, b, (a.shape[0], b.shape[1]))

    def matmul_tn(self, a, b):
        if not _floats(a, b):
            return super().matmul_tn(a, b)
        return _product("matmul_tn", a, b, (a.shape[1], b.shape[1]))

    def matmul_nt(self, a, b):
        if not _floats(a, b):
            return super().matmul_nt(a, b)
        return _product("matmul_nt", a, b, (a.shape[0], b.shape[0]))

    def linear(self, x, weight, bias):
        """x @ weight.T + bias in one launch: the tiled matmul reads weight transposed in place
        and adds the bias as it writes each output."""
        if not _floats(x, weight, *(() if bias is None else (bias,))):
            return super().linear(x, weight, bias)
        out, view = _like((x.shape[0], weight.shape[0]), x.dtype)
        choice.kernel("matmul_nt", x)(_numba_matrix(x), _numba(weight), out=view,
                                      bias=None if bias is None else _numba(bias))
        return out

    def linear_backward(self, grad, x, weight, need_x, need_weight, need_bias):
        if not _floats(grad, x, weight):
            return super().linear_backward(grad, x, weight, need_x, need_weight, need_bias)
        g = _numba(grad)
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x, view = _like(x.shape, x.dtype)
            choice.kernel("matmul", grad)(g, _numba(weight), out=view)
        if need_weight:
            grad_w, view = _like(weight.shape, weight.dtype)
            choice.kernel("matmul_tn", grad)(g, _numba(x), out=view)
        if need_bias:
            grad_b, view = _like((grad.shape[1],), grad.dtype)
            choice.kernel("bias_grad", grad)(g, out=view)
        return grad_x, grad_w, grad_b

    def bias_add(self, x, bias):
        if not (_floats(x, bias) and x.ndim == 2 and bias.shape == (x.shape[1],)):
            return x + bias
        out, view = _like(x.shape, x.dtype)
        choice.kernel("bias_add", x)(_numba(x), _numba(bias), out=view)
        return out

    def bias_grad(self, grad):
        if not (_floats(grad) and grad.ndim == 2):
            return super().bias_grad(grad)
        out, view = _like((grad.shape[1],), grad.dtype)
        choice.kernel("bias_grad", grad)(_numba(grad), out=view)
        return out

    # ------------------------------------------------------------------ activations
    def _forward(self, name, x, *params):
        out, view = _like(x.shape, x.dtype)
        choice.kernel(name, x)(_numba(x), *params, out=view)
        return out

    def _backward(self, name, grad, saved, *params):
        out, view = _like(grad.shape, grad.dtype)
        choice.kernel(name, grad)(_numba(grad), _numba(saved), *params, grad_in=view)
        return out

    def relu(self, x):
        return self._forward("relu", x) if _floats(x) else super().relu(x)

    def relu_backward(self, grad, out):
        return self._backward("relu_backward", grad, out) if _floats(grad, out) else \
            super().relu_backward(grad, out)

    def leaky_relu(self, x, negative_slope):
        return self._forward("leaky_relu", x, negative_slope) if _floats(x) else \
            super().leaky_relu(x, negative_slope)

    def leaky_relu_backward(self, grad, x, negative_slope):
        return self._backward("leaky_relu_backward", grad, x, negative_slope) if _floats(grad, x) \
            else super().leaky_relu_backward(grad, x, negative_slope)

    def sigmoid(self, x):
        return self._forward("sigmoid", x) if _floats(x) else super().sigmoid(x)

    def sigmoid_backward(self, grad, out):
        return self._backward("sigmoid_backward", grad, out) if _floats(grad, out) else \
            super().sigmoid_backward(grad, out)

    def tanh(self, x):
        return self._forward("tanh", x) if _floats(x) else super().tanh(x)

    def tanh_backward(self, grad, out):
        return self._backward("tanh_backward", grad, out) if _floats(grad, out) else \
            super().tanh_backward(grad, out)

    def hardtanh(self, x, min_val, max_val):
        return self._forward("hardtanh", x, min_val, max_val) if _floats(x) else \
            super().hardtanh(x, min_val, max_val)

    def hardtanh_backward(self, grad, x, min_val, max_val):
        return self._backward("hardtanh_backward", grad, x, min_val, max_val) \
            if _floats(grad, x) else super().hardtanh_backward(grad, x, min_val, max_val)

    def softplus(self, x, beta, threshold):
        return self._forward("softplus", x, beta, threshold) if _floats(x) else \
            super().softplus(x, beta, threshold)

    def softplus_backward(self, grad, x, beta, threshold):
        return self._backward("softplus_backward", grad, x, beta, threshold) \
            if _floats(grad, x) else super().softplus_backward(grad, x, beta, threshold)

    def gelu(self, x):
        return self._forward("gelu", x) if _floats(x) else None

    def gelu_backward(self, grad, x):
        return self._backward("gelu_backward", grad, x) if _floats(grad, x) else None

    # ------------------------------------------------------------------ softmax and cross-entropy
    def softmax(self, x, dim):
        if not (_floats(x) and x.ndim == 2 and dim in (-1, 1)):
            return super().softmax(x, dim)
        return self._forward("softmax", x)

    def log_softmax(self, x, dim):
        if not (_floats(x) and x.ndim == 2 and dim in (-1, 1)):
            return super().log_softmax(x, dim)
        return self._forward("log_softmax", x)

    def softmax_cross_entropy(self, logits, targets, ignore_index, reduction):
        """Two launches ('none': one), nothing copied to the host: the mean's count of kept
        rows stays on the device, and a target out of range gives NaN (not an exception)."""
        if not (_floats(logits) and logits.ndim == 2 and logits.shape[1]
                and type(targets) is CudaArray and targets.dtype.kind in "iu"):
            return super().softmax_cross_entropy(logits, targets, ignore_index, reduction)
        if targets.dtype != np.int64:
            targets = targets.astype(np.int64)
        rows = logits.shape[0]
        probs, probs_view = _like(logits.shape, logits.dtype)
        loss, loss_view = _like((rows,) if reduction == "none" else (1,), logits.dtype)
        kept, kept_view = _like((1,), logits.dtype)
        choice.kernel("softmax_cross_entropy_forward", logits)(
            _numba(logits), _numba(targets), ignore_index, reduction, probs=probs_view,
            loss=loss_view, kept=kept_view)
        return (loss if reduction == "none" else loss.reshape(())), _OnDevice((probs, kept, targets))

    def softmax_cross_entropy_backward(self, grad, saved, targets, ignore_index, reduction):
        if type(saved) is not _OnDevice or type(grad) is not CudaArray:
            return super().softmax_cross_entropy_backward(grad, saved, targets, ignore_index, reduction)
        probs, kept, targets = saved
        if grad.dtype != probs.dtype:
            grad = grad.astype(probs.dtype)
        out, view = _like(probs.shape, probs.dtype)
        choice.kernel("softmax_cross_entropy_backward", probs)(
            _numba(probs), _numba(targets), _numba(grad).reshape(grad.size), _numba(kept), ignore_index,
            reduction, out=view)
        return out

    def nll_loss(self, log_probs, targets, ignore_index, reduction):
        """Two launches ('none': one), nothing copied to the host (as ``softmax_cross_entropy``)."""
        if not (_floats(log_probs) and log_probs.ndim == 2 and log_probs.shape[1]
                and type(targets) is CudaArray and targets.dtype.kind in "iu"):
            return super().nll_loss(log_probs, targets, ignore_index, reduction)
        if targets.dtype != np.int64:
            targets = targets.astype(np.int64)
        rows = log_probs.shape[0]
        loss, loss_view = _like((rows,) if reduction == "none" else (1,), log_probs.dtype)
        kept, kept_view = _like((1,), log_probs.dtype)
        choice.kernel("nll_loss_forward", log_probs)(
            _numba(log_probs), _numba(targets), ignore_index, reduction, loss=loss_view, kept=kept_view)
        saved = _OnDevice((kept, targets, log_probs.shape[1], log_probs.dtype))
        return (loss if reduction == "none" else loss.reshape(())), saved

    def nll_loss_backward(self, grad, saved, targets, ignore_index, reduction):
        if type(saved) is not _OnDevice or type(grad) is not CudaArray:
            return super().nll_loss_backward(grad, saved, targets, ignore_index, reduction)
        kept, targets, classes, dtype = saved
        if grad.dtype != dtype:
            grad = grad.astype(dtype)
        out, view = _like((targets.shape[0], classes), dtype)
        choice.kernel("nll_loss_backward", grad)(
            _numba(targets), classes, _numba(grad).reshape(grad.size), _numba(kept), ignore_index,
            reduction, out=view)
        return out

    # ------------------------------------------------------------------ convolution and pooling
    def im2col(self, x, kernel, stride, padding, dilation, out_size):
        _require_floats("im2col", x)
        out, view = _like(x.shape[:2] + tuple(kernel) + tuple(out_size), x.dtype)
        choice.kernel("im2col", x)(_numba(x), kernel, stride, padding[::2], dilation, out_size,
                                   out=view)
        return out

    def col2im(self, cols, x_shape, stride, padding, dilation):
        _require_floats("col2im", cols)
        out, view = _like(tuple(x_shape), cols.dtype)
        choice.kernel("col2im", cols)(_numba(cols), x_shape, stride, padding[::2], dilation, out=view)
        return out

    def max_pool2d_indices(self, x, kernel, stride, padding, dilation, out_size):
        _require_floats("max_pool2d", x)
        out, view = _like(x.shape[:2] + tuple(out_size), np.int64)
        choice.kernel("max_pool2d_indices", x)(_numba(x), kernel, stride, padding, dilation,
                                               out_size, out=view)
        return out

    # ------------------------------------------------------------------ reductions
    def sum(self, x, axis=None, keepdims=False):
        """A float sum of everything, or over one axis of a 2-D array: ``kernels.cuda.sum``
        (block tree sums, deterministic); other sums: the CudaArray's own reduction."""
        if not _floats(x) or x.size == 0 or not (axis is None or (x.ndim == 2 and axis in (0, 1, -1, -2))):
            return super().sum(x, axis, keepdims)
        if axis is None:
            out, view = _like((1,), x.dtype)
            choice.kernel("sum", x)(_numba(x), out=view)
            return out.reshape((1,) * x.ndim if keepdims else ())
        kept = x.shape[1] if axis in (0, -2) else x.shape[0]
        out, view = _like((kept,), x.dtype)
        choice.kernel("sum", x)(_numba(x), axis=axis, out=view)
        if keepdims:
            return out.reshape((1, kept) if axis in (0, -2) else (kept, 1))
        return out

    # ------------------------------------------------------------------ optimizer updates (in place)
    def sgd_step(self, param, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
                 nesterov, maximize):
        if maximize or dampening != 0 or not _floats(param, grad) or not param.is_c_contiguous \
                or not grad.is_c_contiguous:
            return super().sgd_step(param, grad, momentum_buffer, lr, momentum, dampening,
                                    weight_decay, nesterov, maximize)
        if momentum != 0 and momentum_buffer is None:
            # PyTorch starts the buffer at the first step's gradient; the kernel computes
            # momentum * buffer + g, which from zeros is that gradient
            momentum_buffer = CudaArray.full(param.shape, 0, param.dtype)
        choice.kernel("sgd_update", param)(
            _numba(param), _numba(grad), None if momentum_buffer is None else _numba(momentum_buffer),
            lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
        return momentum_buffer

    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2,
                  eps, weight_decay, decoupled, maximize):
        if maximize or max_exp_avg_sq is not None or not _floats(param, grad, exp_avg, exp_avg_sq) \
                or not all(a.is_c_contiguous for a in (param, grad, exp_avg, exp_avg_sq)):
            return super().adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr,
                                     beta1, beta2, eps, weight_decay, decoupled, maximize)
        choice.kernel("adam_update", param)(
            _numba(param), _numba(grad), _numba(exp_avg), _numba(exp_avg_sq), step, lr=lr,
            betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
            decoupled_weight_decay=decoupled)

    def rmsprop_step(self, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                     weight_decay, momentum, maximize):
        arrays = [a for a in (param, grad, square_avg, grad_avg, momentum_buffer) if a is not None]
        if maximize or not _floats(*arrays) or not all(a.is_c_contiguous for a in arrays):
            return super().rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr,
                                        alpha, eps, weight_decay, momentum, maximize)
        choice.kernel("rmsprop_update", param)(
            _numba(param), _numba(grad), _numba(square_avg),
            None if grad_avg is None else _numba(grad_avg),
            None if momentum_buffer is None else _numba(momentum_buffer),
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)

    def adagrad_step(self, param, grad, state_sum, clr, eps, weight_decay, maximize):
        if maximize or not _floats(param, grad, state_sum) or not all(
                a.is_c_contiguous for a in (param, grad, state_sum)):
            return super().adagrad_step(param, grad, state_sum, clr, eps, weight_decay, maximize)
        choice.kernel("adagrad_update", param)(_numba(param), _numba(grad), _numba(state_sum),
                                               lr=clr, eps=eps, weight_decay=weight_decay)


CUDA = CudaBackend()
