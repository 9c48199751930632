"""What the autograd core knows of a tensor, without importing the Tensor class.

``TensorBase`` holds the slots every tensor has (its array, whether it requires grad,
its gradient, the node that made it, its version counter) and nothing more. The
classes users see subclass it and name their part when they are defined, e.g.
``class Tensor(TensorBase, role="plain_class")``: the core (``autograd.function``,
``graph``, ``views``) tests ``isinstance(x, TensorBase)``, makes its outputs as
``TensorBase._plain_class`` and its views as ``TensorBase._view_class``, and never
imports ``autodiff.tensor``, which sits above it. The layers import one way:
``tensor`` -> ``ops`` -> ``autograd``.
"""

_ROLES = ("plain_class", "view_class", "refreshing_view_class")


class TensorBase:
    """The slots of a tensor (the hot attributes; rarely set ones live in ``__dict__``)."""

    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_version_counter", "__dict__", "__weakref__")

    _plain_class = None            # autodiff.tensor.Tensor: what ops return
    _view_class = None             # autodiff.tensor_views.View: a view with a fixed history
    _refreshing_view_class = None  # autodiff.tensor_views.RefreshingView

    def __init_subclass__(cls, role=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if role is not None:
            if role not in _ROLES:
                raise ValueError(f"TensorBase: role must be one of {_ROLES}, got {role!r}")
            setattr(TensorBase, "_" + role, cls)
