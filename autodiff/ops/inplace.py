"""The ops behind recorded in-place changes whose result does not depend on the
values they overwrite (``fill_``, ``copy_``), and the scatter of a changed view
back into its base (PyTorch's CopySlices)."""
import numpy as np

from ..autograd.function import Op, _NO_GRAPH
from ..cuda.devices import as_array


class Fill(Op):
    """``x.fill_(value)`` as a new tensor: every element is ``value``, whatever ``x`` held
    (inf and nan included), in ``x``'s dtype. ``value`` may be a 0-d tensor."""

    op_name = "fill_"

    @staticmethod
    def forward(ctx, x, value):
        out = x.copy()
        out[...] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_value = ctx.needs_input_grad
        return (_zeros_like(ctx, grad) if need_x else None,
                grad.sum() if need_value else None)


class Copy(Op):
    """``x.copy_(src)`` as a new tensor: ``src`` broadcast to ``x``'s shape, in ``x``'s dtype.
    The overwritten values get a zero gradient; ``src`` gets the gradient, which the
    engine sums back to its shape and casts to its dtype."""

    op_name = "copy_"

    @staticmethod
    def forward(ctx, x, src):
        out = x.copy()
        out[...] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_src = ctx.needs_input_grad
        return (_zeros_like(ctx, grad) if need_x else None, grad if need_src else None)


def _zeros_like(ctx, grad):
    """The gradient of overwritten values: zeros (not grad * 0, which is nan where grad is
    inf); a constant, so a tensor outside the graph under create_graph."""
    if ctx._on_arrays:
        return np.zeros_like(grad)
    from ..tensor import Tensor
    return Tensor._wrap(np.zeros_like(grad._data))


def replay(chain, value):
    """Apply a view chain ``[(op, args), ...]`` to an array (unrecorded) or a tensor (recorded)."""
    if isinstance(value, np.ndarray) or not hasattr(value, "_requires_grad"):
        for op, args in chain:
            value = as_array(op.forward(_NO_GRAPH, value, *args))
        return value
    for op, args in chain:
        value = op.apply(value, *args)
    return value


class ViewScatter(Op):
    """``base`` with the region that ``chain`` views replaced by ``value``: the history
    of a base after one of its views was changed in place (PyTorch's CopySlices).

    The gradient of the base is the incoming gradient with that region zeroed (those
    values were overwritten); ``value`` gets the region's gradient."""

    op_name = "copy_slices"

    @classmethod
    def name(cls):
        return "CopySlices"      # (PyTorch's name for this node)

    @staticmethod
    def forward(ctx, base, value, chain):
        ctx.chain = chain
        out = base.copy()
        replay(chain, out)[...] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        chain = ctx.chain
        need_base, need_value, _ = ctx.needs_input_grad
        grad_value = None
        if need_value:
            grad_value = replay(chain, grad)
            if ctx._on_arrays:
                grad_value = grad_value.copy()   # (its own memory: never a view of grad)
        if not need_base:
            return None, grad_value, None
        if ctx._on_arrays:
            grad_base = grad.copy()
            replay(chain, grad_base)[...] = 0
        else:
            grad_base = ViewScatter.apply(grad, 0.0, chain)
        return grad_base, grad_value, None
