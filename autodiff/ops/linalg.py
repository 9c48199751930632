"""Matrix products: matmul (1-D, 2-D, batched, broadcast-batched) and the fused linear layer."""
import numpy as np

from ..autograd.function import Op
from .. import backends as backend


def check_matmul_shapes(op, a_shape, b_shape):
    """Raise the error PyTorch users expect, naming both shapes, before numpy does."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"{op}: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a_shape)} and {tuple(b_shape)}")
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        raise ValueError(f"{op}: cannot multiply {tuple(a_shape)} by {tuple(b_shape)}: "
                         f"inner sizes {inner_a} and {inner_b} differ")
    if len(a_shape) > 2 and len(b_shape) > 2:
        try:
            np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        except ValueError:
            raise ValueError(f"{op}: batch dimensions of {tuple(a_shape)} and {tuple(b_shape)} "
                             "cannot be broadcast together") from None


class MatMul(Op):
    op_name = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            if a.ndim == 2 and b.ndim == 2:
                return backend.matmul(a, b)
            return np.matmul(a, b)
        except ValueError:
            check_matmul_shapes("matmul", a.shape, b.shape)   # says which shapes, and why
            raise

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:          # dot product
            return (grad * b if need_a else None), (grad * a if need_b else None)
        if a.ndim == 1:                          # (k,) @ (..., k, m) -> (..., m)
            xp = ctx.xp
            grad_a = xp.squeeze(xp.expand_dims(grad, -2) @ b.mT, -2) if need_a else None
            grad_b = xp.expand_dims(a, -1) * xp.expand_dims(grad, -2) if need_b else None
            return grad_a, grad_b
        if b.ndim == 1:                          # (..., n, k) @ (k,) -> (..., n)
            xp = ctx.xp
            grad_a = xp.expand_dims(grad, -1) * b if need_a else None
            grad_b = xp.squeeze(a.mT @ xp.expand_dims(grad, -1), -1) if need_b else None
            return grad_a, grad_b
        # batch dimensions that were broadcast are summed back by the engine
        return (grad @ b.mT if need_a else None), (a.mT @ grad if need_b else None)


class Linear(Op):
    """``x @ weight.T + bias`` as one node: the layer every MLP is made of."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: cannot multiply input {tuple(x.shape)} by weight.T of "
                             f"weight {tuple(weight.shape)}: expected input features "
                             f"{weight.shape[1] if weight.ndim == 2 else '?'}, got {x.shape[-1] if x.ndim else 'a scalar'}")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias of shape {tuple(bias.shape)} does not match weight "
                             f"{tuple(weight.shape)}: expected ({weight.shape[0]},)")
        ctx.save_for_backward(x, weight)
        fused = backend.linear_kernel(x, weight)
        if fused:
            return fused.linear_forward(x, weight, bias)
        if x.ndim > 2:   # one (N*L, in) product: numpy's matmul runs one GEMM per leading index (2x slower)
            out = np.matmul(x.reshape(-1, x.shape[-1]), weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        else:
            out = np.matmul(x, weight.T)
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        fused = backend.linear_kernel(grad, weight)
        if fused:
            return fused.linear_backward(grad, x, weight)
        grad_x = None
        if need_x:
            grad_x = grad @ weight if grad.ndim <= 2 else \
                (grad.reshape(-1, grad.shape[-1]) @ weight).reshape(tuple(x.shape))
        grad_w = None
        if need_w:
            if x.ndim == 2:
                grad_w = grad.mT @ x
            else:
                grad_w = grad.reshape(-1, grad.shape[-1]).mT @ x.reshape(-1, x.shape[-1])
        grad_b = None
        if need_b:   # summed over every row (the engine would do it too, more slowly)
            grad_b = ctx.xp.sum(grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1]), 0)
        return grad_x, grad_w, grad_b
