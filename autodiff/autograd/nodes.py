"""``AccumulateGrad``: the node that stands for a leaf tensor in ``grad_fn.next_functions``,
as in PyTorch (``loss.grad_fn.next_functions[0][0].variable`` is the leaf).

The engine sends gradients to the leaf itself; these nodes exist only for walking the graph.
Each leaf has one (made on first request and kept in the leaf's ``__dict__``, so that the same
leaf gives the same node); it refers to its leaf weakly, so the pair makes no reference cycle.
"""
import weakref

from .tensor_base import TensorBase


class AccumulateGrad:
    """The graph node of a leaf: its gradient is accumulated into ``variable.grad``."""

    __slots__ = ("_variable", "__weakref__")
    next_functions = ()

    def __init__(self, variable):
        self._variable = weakref.ref(variable)

    @property
    def variable(self):
        """The leaf tensor (None once it has been freed)."""
        return self._variable()

    @staticmethod
    def name():
        return "AccumulateGrad"

    def register_hook(self, hook):
        """A hook on the leaf's gradient (``hook(grad)``), as ``variable.register_hook``."""
        return self.variable.register_hook(hook)

    def __repr__(self):
        return "<AccumulateGrad>"


def accumulate_grad_node(leaf):
    node = leaf.__dict__.get("_grad_accumulator")
    if node is None:
        node = leaf.__dict__["_grad_accumulator"] = AccumulateGrad(leaf)
    return node


def next_function(parent):
    """One entry of ``next_functions``: (node, 0); a leaf becomes its AccumulateGrad node."""
    if parent is None or not isinstance(parent, TensorBase):
        return (parent, 0)
    return (accumulate_grad_node(parent), 0)
