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
  from the base's the next time they are used (``RefreshingView._refresh`` in
  ``autodiff.tensor_views``).

Either way the shared version counter goes up, so that backward refuses values a
node saved and that were changed since.
"""
import numpy as np

from . import dtypes
from .autograd.grad_mode import _state
from .cuda.devices import DeviceMismatchError
from .ops import elementwise as E
from .ops import inplace as _inplace_ops
from .ops.inplace import ViewScatter, replay
from .ops.promotion import _CATEGORY, result_type
from .autograd.tensor_base import TensorBase




_SCALAR_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                 "int32": "Int", "int64": "Long", "float16": "Half", "float32": "Float",
                 "float64": "Double", "complex64": "ComplexFloat",
                 "complex128": "ComplexDouble"}


def check_result_type(name, target, other):
    """Raise as PyTorch does when ``target op= other`` has a result (by PyTorch's promotion
    rule) of a higher category than the target's (bool < integer < float < complex)."""
    data = target._data
    kind = data.dtype.kind
    if kind == "c":
        return
    if name == "div_" and kind in "biu":      # true division: a float result, whatever other is
        result = dtypes.get_default_dtype()
    else:
        operands = other if type(other) is tuple else (other,)
        try:
            result = result_type(data, *[o._data if isinstance(o, TensorBase) else o
                                         for o in operands], op=name)
        except TypeError:
            return                            # (not a number: the op itself says what is wrong)
    if _CATEGORY[result.kind] > _CATEGORY[kind]:
        raise RuntimeError(
            f"{name}: result type {_scalar_name(result)} can't be cast to the desired "
            f"output type {_scalar_name(data.dtype)} (in-place change of a "
            f"{dtypes.name(data.dtype)} tensor of shape {tuple(data.shape)})")


_FLOAT_SAFE = frozenset({float, int, bool, type(None)})   # never widen a float target


def _scalar_name(dtype):
    return _SCALAR_NAMES.get(dtypes.name(dtype), dtypes.name(dtype))


def apply_inplace(target, name, other, recorded, raw, casts=False):
    """Change ``target`` in place: ``raw(array, other)`` when no gradient is recorded, else
    ``recorded(old, other)`` on a snapshot of the old values, written back in place.

    ``casts``: the op writes its value in the target's dtype whatever it is (fill_, copy_,
    x[k] = v), so the result-type check does not apply. The plain forms of add_, mul_ and
    div_ (``_NUMPY_CHECKED``) are not checked first: numpy's "same_kind" casting refuses
    every cast PyTorch refuses (and a few it allows, such as int64 into uint8), and only
    then the check runs, to raise PyTorch's error or retry with any cast. That takes the
    check (0.17 us) off each in-place update of the optimizers' hot path."""
    if _state.enabled and (target._requires_grad or
                           (isinstance(other, TensorBase) and other._requires_grad)):
        if not casts:
            _check_result_type_at_once(name, target, other)
        _record_inplace(target, name, other, recorded)
    else:
        if not casts and raw not in _NUMPY_CHECKED:
            _check_result_type_at_once(name, target, other)
        value = other._data if isinstance(other, TensorBase) else other
        try:
            raw(target._data, value)
        except ValueError:
            if not _writeable(target._data):
                raise _overlap_error(name, target) from None
            raise _shape_error(name, target, other) from None
        except DeviceMismatchError as exc:
            raise DeviceMismatchError(f"{name}: {exc}") from None
        except TypeError as exc:
            if raw in _NUMPY_CHECKED:
                check_result_type(name, target, other)   # raises where PyTorch refuses too
                try:
                    raw(target._data, value, "unsafe")
                except TypeError:
                    pass
                else:
                    target._bump_version()
                    return target
            raise TypeError(f"{name}: {exc} (tensor of shape {tuple(target.shape)}, "
                            f"{dtypes.name(target._data.dtype)})") from None
    target._bump_version()
    return target


def _check_result_type_at_once(name, target, other):
    """``check_result_type``, with the common cases (a float target, a real operand) decided
    here without its loop."""
    if target._data.dtype.kind != "f":
        check_result_type(name, target, other)
    elif type(other) not in _FLOAT_SAFE:     # (a float target takes any real operand)
        data = other._data if type(other) is TensorBase._plain_class else other
        if type(data) is not np.ndarray or data.dtype.kind == "c":
            check_result_type(name, target, other)


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
    if isinstance(target, TensorBase._view_class):
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
    old = TensorBase._plain_class._wrap(tensor._data.copy())
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
    shape = getattr(other._data if isinstance(other, TensorBase) else other, "shape", ())
    return ValueError(f"{name}: cannot broadcast {tuple(shape)} into the in-place target of "
                      f"shape {tuple(target._data.shape)}")


# ---------------------------------------------------------------------- the in-place forms
# Tensor's in-place methods: the recorded (out-of-place) form and the plain numpy form. The
# forms of add_, mul_ and div_ let numpy refuse a cast to another kind (``casting``): see
# ``apply_inplace``
def _add(old, other):
    return old + other


def _add_raw(data, other, casting="same_kind"):
    np.add(data, other, out=data, casting=casting)


def _mul(old, other):
    return old * other


def _mul_raw(data, other, casting="same_kind"):
    np.multiply(data, other, out=data, casting=casting)


def _div(old, other):
    return old / other


def _div_raw(data, other, casting="same_kind"):
    np.divide(data, other, out=data, casting=casting)


def _clamp(old, bounds):
    return old.clamp(*bounds)


def _clamp_raw(data, bounds):
    np.clip(data, _data_of(bounds[0]), _data_of(bounds[1]), out=data)


def _fill(old, value):
    return _inplace_ops.Fill.apply(old, value)


def _fill_raw(data, value):
    data[...] = value


def _copy(old, src):
    return _inplace_ops.Copy.apply(old, src)


def _copy_raw(data, src):
    np.copyto(data, src, casting="unsafe")


def _data_of(value):
    return value._data if isinstance(value, TensorBase) else value


_NUMPY_CHECKED = frozenset({_add_raw, _mul_raw, _div_raw})   # see apply_inplace
