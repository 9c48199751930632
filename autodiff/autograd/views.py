"""Views: tensors that share memory with a base tensor, as in PyTorch.

An op with ``is_view = True`` (indexing with ints and slices, reshape when it can,
transpose, permute, expand, ...) returns a ``View`` when its array really shares
the base's memory. A view keeps its base and how it was made from it (the op and
its other arguments), so that

* a change in place through the base or through any of its views shows in all of
  them (they share the memory and one version counter);
* after an in-place change, a view's history is made again from its base's new
  history the first time it is used (``RefreshingView._refresh``);
* an in-place change of a view is recorded on its root base, as PyTorch's
  CopySlices does: the base's new history is "the old base with the view's region
  replaced by f(old view)" (``autodiff.inplace``).

The ``View`` classes themselves live in ``autodiff.tensor_views`` (they are Tensors,
above this layer; see ``tensor_base``); this module is what the graph nodes need of them.
"""
import numpy as np

from .grad_mode import _state
from .tensor_base import TensorBase

_new = object.__new__


def shares_memory(out, base):
    """True when the array ``out`` is a view into ``base``'s memory (reshape may copy)."""
    if type(out) is np.ndarray:
        owner = out.base
        return owner is not None and (owner is base or owner is getattr(base, "base", None))
    buffer = getattr(out, "_buf", None)          # a device array: views share its buffer
    return buffer is not None and buffer is getattr(base, "_buf", None)


def view_of(op, node, args, base_data, out_data):
    """The output of view op ``op`` (node ``node``, None when not recorded) on ``args[0]``,
    whose array is ``base_data``: a view when ``out_data`` shares its memory, else None
    (the op copied). The check for numpy arrays is inlined: a ``.T`` per layer and step."""
    if type(out_data) is np.ndarray:
        owner = out_data.base
        if owner is None or (owner is not base_data and owner is not getattr(base_data, "base", None)):
            return None
    elif not shares_memory(out_data, base_data):
        return None
    base = args[0]
    cell = base._version_counter or base._version_cell()
    if _state.enabled:
        # a fixed history where its base's cannot change: a leaf that requires grad (in place
        # with grad mode on is an error) or such a view; else remade after in-place changes
        if type(base) is TensorBase._view_class or (base.grad_fn is None and base._requires_grad):
            view = _new(TensorBase._view_class)
        else:
            view = _new(TensorBase._refreshing_view_class)
            view._view_version = cell[0]
        view._view_op = op
    else:                           # made with grad mode off: no history to remake, and
        view = _new(TensorBase._view_class)   # changing it in place with grad mode on is an error
        view._view_op = None
    view.grad_fn = node
    view._requires_grad = node is not None
    view._data = out_data
    view._grad = None
    view._view_args = args
    view._version_counter = cell
    return view
