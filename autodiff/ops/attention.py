"""Scaled dot-product attention as one graph node: softmax(q k^T * scale + mask) @ v.

The forward keeps the attention probabilities (and the dropout mask) for backward;
backward is the chain rule through the two products and the softmax, written with
operators and ``ctx.math``. Under ``create_graph=True`` the probabilities are recomputed
from the saved q and k with recorded ops, so the backward pass is itself differentiable.

The mask arrives additive (0 where a query may attend, -inf where not, or any float
bias); ``autodiff.nn.functional.scaled_dot_product_attention`` turns boolean masks and
``is_causal`` into that form.

``PackedSelfAttention`` is the same computation for MultiheadAttention's self-attention,
taking the packed projection (N, L, 3E) and returning the heads merged, (N, L, E): the
heads are split and merged inside the op (views, and one copy each way) instead of by
eleven recorded chunk/reshape/transpose nodes per layer, whose backward passes added three
zero-filled (N, L, 3E) gradients. That saved ~1 ms of the char GPT step of
benchmarks/bench_seq.py (8.1 -> 7.0 ms of process time, the minimum of each phase).
"""
import numpy as np

from ..autograd.function import Op
from ..cuda.devices import DeviceArray


def _probabilities(q, k, mask, scale):
    """softmax(q k^T * scale + mask) over the keys, on numpy arrays (rows of -inf only give NaN,
    as PyTorch). The scores are computed transposed, (..., S, L), and normalised over axis -2:
    numpy's max over a short last axis is ~4x slower than over the one before it (184 us
    against 47 us for a (16, 4, 32, 32) float32 array). Returns a (..., L, S) view."""
    scores = k @ q.swapaxes(-1, -2)
    scores *= scale
    if mask is not None:
        if mask.ndim < 2:
            mask = mask.reshape((1,) * (2 - mask.ndim) + mask.shape)
        mask = mask.swapaxes(-1, -2)
        if type(scores) is np.ndarray and mask.dtype == scores.dtype and \
                np.broadcast_shapes(mask.shape, scores.shape) == scores.shape:
            scores += mask       # (in place: a fresh (N, h, L, L) array costs its page faults again)
        else:
            scores = scores + mask
    with np.errstate(invalid="ignore"):
        scores -= scores.max(-2, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-2, keepdims=True)
    return scores.swapaxes(-1, -2)


class ScaledDotProductAttention(Op):
    """Arguments: q (..., L, E), k (..., S, E), v (..., S, Ev), mask (additive, broadcast to
    (..., L, S), or None), scale, keep (dropout's scaled keep-mask of shape (..., L, S), or None)."""

    op_name = "scaled_dot_product_attention"

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, keep):
        p = _probabilities(q, k, mask, scale)
        dropped = p if keep is None else p * keep
        ctx.save_for_backward(q, k, v, mask, p)
        ctx.scale, ctx.keep = scale, keep
        return dropped @ v

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask, p = ctx.saved_tensors
        return attention_gradients(ctx.math, q, k, v, mask, p, grad, ctx.scale, ctx.keep,
                                   ctx.needs_input_grad[:4]) + (None, None)


def attention_gradients(dmath, q, k, v, mask, p, grad, scale, keep, needs):
    """(grad_q, grad_k, grad_v, grad_mask): the chain rule through the two products and the
    softmax, on arrays (``p``: the saved probabilities) or on tensors under create_graph (p
    recomputed from q and k, so that the result can be differentiated again)."""
    need_q, need_k, need_v, need_mask = needs
    if not isinstance(grad, (np.ndarray, DeviceArray)):      # create_graph: p as a function of q, k
        scores = (q @ k.mT) * scale
        if mask is not None:
            scores = scores + mask
        p = scores.softmax(-1)
    dropped = p if keep is None else p * keep
    grad_v = dmath.swapaxes(dropped, -1, -2) @ grad if need_v else None
    grad_q = grad_k = grad_mask = None
    if need_q or need_k or need_mask:
        grad_p = grad @ dmath.swapaxes(v, -1, -2)
        if keep is not None:
            grad_p = grad_p * keep
        grad_scores = p * (grad_p - dmath.sum(grad_p * p, -1, keepdims=True))
        grad_mask = grad_scores if need_mask else None
        grad_q = (grad_scores @ k) * scale if need_q else None
        grad_k = (dmath.swapaxes(grad_scores, -1, -2) @ q) * scale if need_k else None
    return grad_q, grad_k, grad_v, grad_mask


def _heads(x, heads):
    """(N, L, heads * d) -> (N, heads, L, d): a view of arrays; recorded ops on tensors."""
    batch, length, features = x.shape
    split = x.reshape((batch, length, heads, features // heads))
    return split.swapaxes(1, 2) if type(split) is np.ndarray else split.transpose(1, 2)


def _merged(x):
    """(N, heads, L, d) -> (N, L, heads * d)."""
    batch, heads, length, size = x.shape
    swapped = x.swapaxes(1, 2) if type(x) is np.ndarray else x.transpose(1, 2)
    return swapped.reshape((batch, length, heads * size))


def _split_packed(qkv, heads):
    """q, k, v (N, heads, L, d) from the packed projection (N, L, 3E)."""
    size = qkv.shape[-1] // 3
    return tuple(_heads(qkv[..., i * size:(i + 1) * size], heads) for i in range(3))


class PackedSelfAttention(Op):
    """Self-attention on the packed projection: arguments qkv (N, L, 3E) (q | k | v, each split
    into ``heads`` heads of E / heads features), heads, mask (additive, broadcast to (N, heads,
    L, L), or None), scale, keep (dropout's scaled keep-mask (N, heads, L, L), or None).
    Output: (N, L, E), the heads' results side by side."""

    op_name = "multi_head_self_attention"

    @staticmethod
    def forward(ctx, qkv, heads, mask, scale, keep):
        q, k, v = _split_packed(qkv, heads)
        p = _probabilities(q, k, mask, scale)
        dropped = p if keep is None else p * keep
        ctx.save_for_backward(qkv, mask, p)
        ctx.heads, ctx.scale, ctx.keep = heads, scale, keep
        return _merged(dropped @ v)

    @staticmethod
    def backward(ctx, grad):
        qkv, mask, p = ctx.saved_tensors
        need_qkv, _, need_mask = ctx.needs_input_grad[:3]
        q, k, v = _split_packed(qkv, ctx.heads)
        grads = attention_gradients(ctx.math, q, k, v, mask, p, _heads(grad, ctx.heads), ctx.scale, ctx.keep,
                                    (need_qkv, need_qkv, need_qkv, need_mask))
        grad_qkv = None
        if need_qkv:
            if type(grad) is np.ndarray:     # written straight into the packed layout
                batch, heads, length, size = grads[0].shape
                grad_qkv = np.empty((batch, length, 3, heads, size), dtype=grad.dtype)
                for i in range(3):
                    grad_qkv[:, :, i] = grads[i].swapaxes(1, 2)
                grad_qkv = grad_qkv.reshape((batch, length, 3 * heads * size))
            else:
                from ..tensor import cat
                grad_qkv = cat([_merged(g) for g in grads[:3]], -1)
        return grad_qkv, None, grads[3], None, None
