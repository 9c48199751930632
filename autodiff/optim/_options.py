"""PyTorch's implementation switches (``foreach``, ``fused``, ``capturable``, ``differentiable``):
accepted so that PyTorch code runs unchanged, and kept in ``defaults`` as PyTorch keeps them.

The first three choose between PyTorch's kernels and change no result: autodiff has one
implementation of each optimizer, so they are ignored. ``differentiable=True`` asks for
gradients through the update itself, which these in-place numpy updates cannot record.
"""


def check_switches(name, differentiable=False):
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True (backpropagating through the "
                                  "optimizer's update) is not supported; the update changes the "
                                  "parameters in place without recording a graph")
