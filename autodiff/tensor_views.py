"""The tensor classes for views: ``View`` (a fixed history) and ``RefreshingView``.

``autodiff.autograd.views`` decides which one an op returns and makes it (the graph code
knows them as ``TensorBase._view_class`` and ``TensorBase._refreshing_view_class``, named
here when they are defined); ``autodiff.inplace`` records in-place changes through them.
"""
from .autograd.grad_mode import enable_grad
from .tensor import Tensor


class View(Tensor, role="view_class"):
    """A tensor that shares memory with ``_base`` (see ``autodiff.autograd.views``).

    Its history (``grad_fn``, ``requires_grad``) is fixed when it is made: that holds
    for views made with grad mode off and for views of a leaf that requires grad, whose
    base's history no in-place change can replace. Other views are ``RefreshingView``."""

    # the view op (None when made with grad mode off) and its arguments, the base first
    __slots__ = ("_view_op", "_view_args")

    @property
    def _base(self):
        return self._view_args[0]

    def detach_(self):
        raise RuntimeError("detach_: can't detach views in-place (its history would come back "
                           "from its base); use detach() instead")

    def _root_and_chain(self, name):
        """The tensor that owns the memory, and the view ops from it to this view."""
        chain = []
        tensor = self
        while isinstance(tensor, View):
            if tensor._view_op is None:
                raise RuntimeError(
                    f"{name}: a view was created in no_grad mode and is being modified inplace "
                    "with grad mode enabled; this is ambiguous, as in PyTorch. Make the view "
                    "with grad mode on, or .clone() it before changing it")
            chain.append((tensor._view_op, tensor._view_args[1:]))
            tensor = tensor._view_args[0]
        chain.reverse()
        return tensor, chain


class RefreshingView(View, role="refreshing_view_class"):
    """A view whose base an in-place change may give a new history (a non-leaf, or a leaf
    that does not require grad). ``grad_fn`` and ``requires_grad`` are properties here:
    when the shared version counter moved since this view's history was made, the history
    is made again from the base's. They are kept in slots of their own (``_view_grad_fn``,
    ``_view_requires_grad``). (Only these views pay for the check: a view of a parameter,
    such as the ``w.T`` of every linear layer, reads plain slots, 0.45 us less per use.)"""

    __slots__ = ("_view_version", "_view_grad_fn", "_view_requires_grad")

    @property
    def grad_fn(self):
        if self._version_counter[0] != self._view_version:
            self._refresh()
        return self._view_grad_fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._view_grad_fn = node

    @property
    def _requires_grad(self):
        if self._version_counter[0] != self._view_version:
            self._refresh()
        return self._view_requires_grad

    @_requires_grad.setter
    def _requires_grad(self, flag):
        self._view_requires_grad = flag

    def _refresh(self):
        """Make this view's history again from its base's (after an in-place change)."""
        self._view_version = self._version_counter[0]
        if self._view_op is None or not self._view_args[0]._requires_grad:
            return
        with enable_grad():
            fresh = self._view_op.apply(*self._view_args)
        self._view_grad_fn = fresh.grad_fn
        self._view_requires_grad = True
