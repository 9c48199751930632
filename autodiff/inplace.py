"""In-place changes (``add_``, ``mul_``, ``fill_``, ``x[k] = v``, ``relu_`` ...) and views.

Every in-place op goes through ``apply_inplace``, one mechanism for all of them:

* the result type is checked first (a float result cannot be written into an int
  tensor: PyTorch's "result type Float can't be cast to the desired output type Long");
* with no gradient to record, numpy changes the array in place;
* with one, the new values are computed out of place from a snapshot of the old ones
  (recorded in the graph, so the snapshot is what backward sees), then written into
  the tensor's own memory, so that every view of it sees them, and the tensor takes
  the new history. A view changed this way records the change on its root base
  (``ViewScatter``, PyTorch's CopySlices); the other views remake their history
  from the base's the next time they are used (``View._refresh``).

Either way the shared version counter goes up, so that backward refuses values a
node saved and that were changed since.
"""
import numpy as np

from . import dtypes
from .autograd import views as _views
from .autograd.grad_mode import _state, enable_grad
from .cuda.devices import DeviceMismatchError
from .ops import elementwise as E
from .ops.inplace import ViewScatter, replay
from .tensor import Tensor



class View(Tensor):
    """A tensor that shares memory with ``_base`` (see ``autodiff.autograd.views``).

    ``grad_fn`` and ``requires_grad`` are properties here (and only here): when the
    shared version counter moved since this view's history was made, the history is
    made again from the base's, which an in-place change may have replaced. They are
    kept in slots of their own (``_view_grad_fn``, ``_view_requires_grad``)."""

    __slots__ = ("_base", "_view_fn", "_view_version", "_view_grad_fn", "_view_requires_grad")

    @property
    def grad_fn(self):
        if self._vc[0] != self._view_version:
            self._refresh()
        return self._view_grad_fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._view_grad_fn = node

    @property
    def _requires_grad(self):
        if self._vc[0] != self._view_version:
            self._refresh()
        return self._view_requires_grad

    @_requires_grad.setter
    def _requires_grad(self, flag):
        self._view_requires_grad = flag

    def detach_(self):
        raise RuntimeError("detach_: can't detach views in-place (its history would come back "
                           "from its base); use detach() instead")

    def _refresh(self):
        """Make this view's history again from its base's (after an in-place change)."""
        self._view_version = self._vc[0]
        if self._view_fn is None or not self._base._requires_grad:
            return
        op, args = self._view_fn
        with enable_grad():
            fresh = op.apply(self._base, *args)
        self._view_grad_fn = fresh._view_grad_fn
        self._view_requires_grad = True

    def _root_and_chain(self, name):
        """The tensor that owns the memory, and the view ops from it to this view."""
        chain = []
        tensor = self
        while isinstance(tensor, View):
            if tensor._view_fn is None:
                raise RuntimeError(
                    f"{name}: a view was created in no_grad mode and is being modified inplace "
                    "with grad mode enabled; this is ambiguous, as in PyTorch. Make the view "
                    "with grad mode on, or .clone() it before changing it")
            chain.append(tensor._view_fn)
            tensor = tensor._base
        chain.reverse()
        return tensor, chain


_views.View = View

# the category of a dtype kind, in PyTorch's order: a result of a higher category
# cannot be written into a tensor of a lower one (bool < integer < float < complex)
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_SCALAR_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                 "int32": "Int", "int64": "Long", "float16": "Half", "float32": "Float",
                 "float64": "Double", "complex64": "ComplexFloat",
                 "complex128": "ComplexDouble"}


def _result_dtype(target_dtype, other):
    """The dtype of ``target op other``, by PyTorch's rules for the categories that matter."""
    if isinstance(other, Tensor):
        other = other._data
    if isinstance(other, bool):
        return target_dtype
    if isinstance(other, int):
        return target_dtype if target_dtype.kind != "b" else dtypes.int64
    if isinstance(other, float):
        return target_dtype if target_dtype.kind in "fc" else dtypes.get_default_dtype()
    if isinstance(other, complex):
        return target_dtype if target_dtype.kind == "c" else np.dtype(np.complex64)
    dtype = getattr(other, "dtype", None)
    if dtype is None:
        return target_dtype
    if getattr(other, "ndim", 1) == 0 and _CATEGORY.get(dtype.kind, 0) <= \
            _CATEGORY.get(target_dtype.kind, 0):
        return target_dtype          # a 0-d operand of the same category does not promote
    return np.promote_types(target_dtype, dtype)


def check_result_type(name, target, other):
    """Raise as PyTorch does when ``target op= other`` would need a wider category."""
    kind = target._data.dtype.kind
    if kind == "c":
        return
    if name == "div_" and kind in "biu":      # true division: a float result, whatever other is
        raise RuntimeError(
            f"{name}: result type {_scalar_name(dtypes.get_default_dtype())} can't be cast to "
            f"the desired output type {_scalar_name(target._data.dtype)} (in-place change of a "
            f"{dtypes.name(target._data.dtype)} tensor of shape {tuple(target._data.shape)})")
    if kind == "f":                          # (the common cases, decided at once)
        if other is None or type(other) is float or type(other) is int:
            return
        data = other._data if isinstance(other, Tensor) else other
        if type(data) is np.ndarray and data.dtype.kind != "c":
            return
    operands = other if type(other) is tuple else (other,)
    for operand in operands:
        if operand is None:
            continue
        result = _result_dtype(target._data.dtype, operand)
        if _CATEGORY.get(result.kind, 0) > _CATEGORY.get(kind, 0):
            raise RuntimeError(
                f"{name}: result type {_scalar_name(result)} can't be cast to the desired "
                f"output type {_scalar_name(target._data.dtype)} (in-place change of a "
                f"{dtypes.name(target._data.dtype)} tensor of shape {tuple(target._data.shape)})")


_FLOAT_SAFE = frozenset({float, int, bool, type(None)})   # never widen a float target


def _scalar_name(dtype):
    return _SCALAR_NAMES.get(dtypes.name(dtype), dtypes.name(dtype))


def apply_inplace(target, name, other, recorded, raw, casts=False):
    """Change ``target`` in place: ``raw(array, other)`` when no gradient is recorded, else
    ``recorded(old, other)`` on a snapshot of the old values, written back in place.

    ``casts``: the op writes its value in the target's dtype whatever it is (fill_, copy_,
    x[k] = v), so the result-type check does not apply."""
    if not casts:
        if target._data.dtype.kind != "f":
            check_result_type(name, target, other)
        elif type(other) not in _FLOAT_SAFE:     # (a float target takes any real operand:
            data = other._data if type(other) is Tensor else other   # decided here at once)
            if type(data) is not np.ndarray or data.dtype.kind == "c":
                check_result_type(name, target, other)
    if _state.enabled and (target._requires_grad or
                           (isinstance(other, Tensor) and other._requires_grad)):
        _record_inplace(target, name, other, recorded)
    else:
        try:
            raw(target._data, other._data if isinstance(other, Tensor) else other)
        except ValueError:
            if not _writeable(target._data):
                raise _overlap_error(name, target) from None
            raise _shape_error(name, target, other) from None
        except DeviceMismatchError as exc:
            raise DeviceMismatchError(f"{name}: {exc}") from None
        except TypeError as exc:
            raise TypeError(f"{name}: {exc} (tensor of shape {tuple(target.shape)}, "
                            f"{dtypes.name(target._data.dtype)})") from None
    target._bump_version()
    return target


def _record_inplace(target, name, other, recorded):
    target._version_cell()          # (a node that saved its values must see this change)
    if target.grad_fn is None and target._requires_grad:
        raise RuntimeError(f"{name}: a leaf tensor that requires grad is being used in an "
                           "in-place operation; do it under `with autodiff.no_grad():`")
    if target._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: cannot record an in-place change of a "
                           f"{dtypes.name(target._data.dtype)} tensor with a gradient")
    if not _writeable(target._data):
        raise _overlap_error(name, target)
    if isinstance(target, View):
        root, chain = target._root_and_chain(name)
        if root.grad_fn is None and root._requires_grad:
            raise RuntimeError(f"{name}: a view of a leaf tensor that requires grad is being "
                               "used in an in-place operation; do it under "
                               "`with autodiff.no_grad():`")
    else:
        root, chain = target, None
    root._version_cell()
    old_root = _snapshot(root)
    old = replay(chain, old_root) if chain else old_root
    new = recorded(old, other)
    if new._data.shape != target._data.shape:
        raise _shape_error(name, target, other)
    if new._data.dtype != target._data.dtype:     # the target keeps its dtype
        new = E.Cast.apply(new, target._data.dtype)
    if chain:
        new_root = ViewScatter.apply(old_root, new, chain)
    else:
        new_root = new
    target._data[...] = new._data                 # in its own memory: its views see the change
    root.grad_fn = new_root.grad_fn
    root._requires_grad = True


def _snapshot(tensor):
    """The old values with the old history: what the recorded op reads (and may save)."""
    old = Tensor._wrap(tensor._data.copy())
    old._requires_grad = tensor._requires_grad
    old.grad_fn = tensor.grad_fn
    return old


def _writeable(data):
    flags = getattr(data, "flags", None)
    return flags is None or flags.writeable


def _overlap_error(name, target):
    return RuntimeError(
        f"{name}: unsupported operation: more than one element of the written-to tensor (shape "
        f"{tuple(target._data.shape)}, an expanded view) refers to a single memory location. "
        "Please clone() the tensor before performing the operation.")


def _shape_error(name, target, other):
    shape = getattr(other._data if isinstance(other, Tensor) else other, "shape", ())
    return ValueError(f"{name}: cannot broadcast {tuple(shape)} into the in-place target of "
                      f"shape {tuple(target._data.shape)}")
