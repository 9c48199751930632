"""Graph nodes: one recorded operation each, with its forward and its derivative.

``Function`` is PyTorch's custom-op API: subclass it with static
``forward(ctx, *args)`` and ``backward(ctx, *grads)`` and call ``.apply``; both
see tensors. ``Op`` is the same node for the built-in operations, with a
cheaper contract: ``forward`` works on numpy arrays (so it reads like numpy),
and ``backward`` is written once against ``ctx.math`` (see ``autodiff.ops.derivative_math``)
with Python operators, so that it runs on numpy arrays in an ordinary
backward pass and on tensors, recorded, under ``create_graph=True``.

The instance is both the ``ctx`` and the graph node; the output tensor points
to it, it never points back to the output, so graphs are freed by reference
counting alone. Broadcasting and dtype are handled here, once for every op: a
gradient is summed back to its input's shape and cast to its input's dtype.
"""
from operator import is_ as _is

import numpy as np

from ..cuda.devices import DeviceArray as _DeviceArray, DeviceMismatchError, as_array as _as_array
from .grad_mode import _state
from .tensor_base import TensorBase

_RELEASED = object()  # marks a node whose saved values were released by backward
# How many in-place changes there have been, to any tensor (Tensor._bump_version counts
# them). A node notes it when it saves tensors: while it is unchanged, none of them can
# have changed, and backward skips looking at each one's version.
_inplace_changes = [0]

_new = object.__new__


def _second_backward_error(node):
    return RuntimeError(
        f"{node.name()}: trying to backward through the graph a second time (or to read "
        "saved tensors after they were freed). Saved values are released by backward(); "
        "specify retain_graph=True on the first backward() if you need to call it again.")


class Function:
    """A differentiable operation recorded in the graph (and its ``ctx``)."""

    is_view = False      # True when the output shares memory with the first input
    array_backward = False   # Op sets True: backward may run on numpy arrays via ctx.math
    _hooks = None
    _retained = None     # weak reference to a non-leaf tensor that called retain_grad()
    _stores_grad = False  # True once retain_grad() was called (see the engine)
    _retained_grad = None
    # attributes every node has, in slots (no per-node dict unless an op stores
    # its own, like ctx.dim): fewer objects per op for the garbage collector
    __slots__ = ("_parents", "_out_shape", "_out_dtype", "_saved", "_saved_version", "_changes_at_save",
                 "_output", "_output_version", "_on_arrays", "__dict__", "__weakref__")

    # ---- the ctx API used inside forward/backward (PyTorch's names) ----
    def save_for_backward(self, *values):
        """Keep inputs, the output or other arrays for backward."""
        self._saved = values

    @property
    def saved_tensors(self):
        """What forward saved: the input tensors themselves (still in the graph),
        the output (linked to this node), or constants; as numpy arrays when
        backward runs on arrays. Raises if a saved tensor was changed in place since."""
        saved = self._saved
        if saved is _RELEASED:
            raise _second_backward_error(self)
        if not saved:
            return ()
        if self._changes_at_save != _inplace_changes[0]:   # something was changed in place since forward
            if type(saved) is _graph.PackedSaved:   # (saved under saved_tensors_hooks: always)
                return _graph.unpack(self, getattr(self, "_on_arrays", False), _inplace_error)
            self._check_versions()
        try:
            on_arrays = self._on_arrays
        except AttributeError:                # (read outside backward)
            on_arrays = False
        if on_arrays:
            if len(saved) == 1:
                value = saved[0]
                return (value._data if isinstance(value, TensorBase) else value),
            return tuple([value._data if isinstance(value, TensorBase) else value for value in saved])
        values = []
        for value in saved:
            if isinstance(value, TensorBase) or not isinstance(value, (np.ndarray, _DeviceArray)):
                values.append(value)
            else:                             # the output, linked to this node; or a constant
                out = TensorBase._plain_class._wrap(value)
                if value is getattr(self, "_output", None):
                    out._requires_grad = True
                    out.grad_fn = self
                    out._version_counter = self._output_version
                values.append(out)
        return tuple(values)

    def _check_versions(self):
        """Raise if a saved tensor (an input, or the output) was changed in place since
        forward saved it, whatever changed it: a recorded op, no_grad, .detach(), .data."""
        expected = self._saved_version        # 0: every saved tensor was at version 0
        for k, value in enumerate(self._saved):
            if isinstance(value, TensorBase):
                cell = value._version_counter
                if cell is not None and cell[0] != (expected and expected[k]):
                    raise _inplace_error(self, value, cell[0], expected and expected[k])
            elif value is not None and value is getattr(self, "_output", None):
                cell = self._output_version   # the output's counter (None: never changed)
                if cell is not None and cell[0]:
                    raise _inplace_error(self, value, cell[0], 0, "output 0 of " + self.name())
        self._changes_at_save = _inplace_changes[0]     # (checked: no need to look again until a change)

    @property
    def _input_meta(self):
        """(shape, dtype) of each input that receives a gradient, else None (for pictures)."""
        return [None if p is None else (p._out_shape, p._out_dtype) for p in self._parents]

    @property
    def needs_input_grad(self):
        """For each forward argument, whether a gradient must be computed for it."""
        parents = self._parents
        if len(parents) == 2:        # most ops: spare the comprehension's call
            return parents[0] is not None, parents[1] is not None
        return tuple([p is not None for p in parents])

    @property
    def math(self):
        """The math namespace of the running backward: numpy arrays or recorded tensors."""
        return ArrayMath if self._on_arrays else TensorMath

    @classmethod
    def name(cls):
        return cls.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    @property
    def next_functions(self):
        """The nodes this node sends gradient to, in input order, as in PyTorch: a leaf's
        ``AccumulateGrad`` node (``.variable`` is the leaf), or ``(None, 0)`` for an input
        that needs no gradient (non-tensor arguments, such as dims, included)."""
        from .nodes import next_function
        return tuple(map(next_function, self._parents))

    # ---- entry point for user-defined functions (forward on tensors) ----
    @classmethod
    def apply(cls, *args):
        """Run ``forward`` without recording, then record one node for it."""
        node = _new(cls)
        node._parents = ()
        node._saved = ()
        saved_mode = _state.enabled
        _state.enabled = False
        try:
            out = cls.forward(node, *args)
        finally:
            _state.enabled = saved_mode
        if not isinstance(out, TensorBase):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}")
        if saved_mode and any(isinstance(a, TensorBase) and a._requires_grad for a in args):
            return node._record(args, args, _links(args), out, out._data)
        return out

    # ---- graph bookkeeping, shared by Function and Op ----
    def _record(self, args, raw, parents, out, out_data):
        """Link this node to its inputs and wrap ``out_data`` as its output tensor.

        ``parents[i]`` is the vertex that receives argument i's gradient (its
        grad_fn, or the leaf itself; None for constants). The output's shape and
        dtype are kept for the nodes downstream, which sum and cast gradients to them.
        """
        self._parents = parents
        self._out_shape = out_data.shape
        self._out_dtype = out_data.dtype
        if _anomaly_mode.threads_on:     # (a module attribute: free while anomaly mode is off)
            _anomaly_mode.note_forward_trace(self)
        if self.is_view:
            view = _views.view_of(type(self), self, args, raw[0], out_data)
            if view is not None:
                return view
        result = _new(TensorBase._plain_class)
        result._data = out_data
        result._requires_grad = True
        result._grad = None
        result.grad_fn = self
        # an output that backward needs gets its version counter now, so that any later
        # change (no_grad, .detach(), .data) is seen by the check
        result._version_counter = self._keep_saved(args, raw, out, out_data) if self._saved else None
        return result

    def _keep_saved(self, args, raw, out, out_data):
        """Swap saved input arrays for their tensors (with their versions, when already
        changed in place, so that a change before backward is caught) and note the output.

        Returns the version counter for the output tensor when the output was saved
        (the node keeps the same cell), else None."""
        self._changes_at_save = _inplace_changes[0]
        if len(self._saved) == 1 and self._saved[0] is out_data:   # (an activation saving its output)
            self._output = out_data
            self._saved_version = 0
            self._output_version = None   # (the output tensor makes it on its first change)
            if _graph.threads_with_hooks:
                _graph.pack(self)
                return self._output_version
            return None
        if len(self._saved) == len(raw) and all(map(_is, self._saved, raw)):
            saved = args      # (forward saved exactly its inputs: keep the tuple of them)
        else:
            saved = self._saved_values(args, raw, out, out_data)
            self._output_version = None
        versions = None       # only when a saved tensor was already changed in place
        for k, value in enumerate(saved):
            if isinstance(value, TensorBase):
                cell = value._version_counter
                if cell is not None and cell[0]:
                    if versions is None:
                        versions = [0] * len(saved)
                    versions[k] = cell[0]
        self._saved = saved
        self._saved_version = 0 if versions is None else tuple(versions)
        if _graph.threads_with_hooks:
            _graph.pack(self)
            return getattr(self, "_output_version", None)
        return None

    def _saved_values(self, args, raw, out, out_data):
        """What forward saved, with each input array replaced by its tensor."""
        saved = []
        for value in self._saved:
            if value is out_data or value is out:
                value = self._output = out_data      # (an array: never the output tensor itself)
            else:
                for i, r in enumerate(raw):
                    if value is r:
                        value = args[i]
                        break
            saved.append(value)
        return tuple(saved)

    # ---- the vertex protocol used by the engine ----
    def _run_hooks(self, grad):
        return _run_tensor_hooks(self._hooks, grad)

    def _propagate(self, grad, retain_graph=False):
        """Gradients for each input from the gradient of the output.

        ``grad`` is a numpy array in an ordinary backward pass and a tensor under
        create_graph; built-in ops (``array_backward``) run their formula on it as
        it is, other Functions always see tensors. Each gradient is then summed
        back over broadcast dimensions and cast to its input's dtype: here, once,
        for every op.
        """
        saved = self._saved
        if saved is _RELEASED:
            raise _second_backward_error(self)
        if self._retained is not None:
            self._retained_grad = grad
        cls = type(self)
        if type(grad) is not np.ndarray:
            if isinstance(grad, TensorBase):
                self._on_arrays = False
                return self._tensor_gradients(cls.backward(self, grad), saved, retain_graph)
            grad = _as_array(grad)             # 0-d arithmetic gives numpy scalars
        if cls.array_backward:
            self._on_arrays = True
            grads = cls.backward(self, grad)
            self._on_arrays = False
        else:
            self._on_arrays = False
            grads = cls.backward(self, TensorBase._plain_class._wrap(grad))
        if type(grads) is not tuple:
            grads = (grads,)
        result = []
        for g, parent in zip(grads, self._parents):
            if g is None or parent is None:
                result.append(None)
                continue
            if type(g) is not np.ndarray:
                g = g._data if isinstance(g, TensorBase) else _as_array(g)
            if g.shape != parent._out_shape:       # summed back over broadcast dimensions
                g = _sum_to_shape(g, parent._out_shape)
            if g.dtype is not parent._out_dtype and g.dtype != parent._out_dtype:
                g = g.astype(parent._out_dtype)    # and cast to the input's dtype
            result.append(g)
        if saved and not retain_graph:
            self._saved = _RELEASED            # release what forward kept for backward
            self._output = None
        return result

    def _tensor_gradients(self, grads, saved, retain_graph):
        """``_propagate``'s second half under create_graph: the same rules, on tensors."""
        if type(grads) is not tuple:
            grads = (grads,)
        result = []
        for g, parent in zip(grads, self._parents):
            if g is None or parent is None:
                g = None
            else:
                if not isinstance(g, TensorBase):
                    g = TensorBase._plain_class._wrap(_as_array(g))
                if g._data.shape != parent._out_shape:
                    g = g.sum_to_size(parent._out_shape)
                if g._data.dtype != parent._out_dtype:
                    g = g.to(parent._out_dtype)
            result.append(g)
        if saved and not retain_graph:
            self._saved = _RELEASED
            self._output = None
        return result

    @property
    def _grad(self):
        """The ``.grad`` held by the tensor that retain_grad() made this node keep, if any."""
        tensor = self._retained() if self._retained is not None else None
        return None if tensor is None else tensor._grad

    def _check_grad(self, grad):
        tensor = self._retained()
        if tensor is not None:
            tensor._check_grad(self._retained_grad)

    def _finish(self, grad, accumulate, owned=False):
        tensor = self._retained()
        if tensor is not None and accumulate:
            tensor._accumulate_grad(self._retained_grad)
        self._retained_grad = None


def _run_tensor_hooks(hooks, grad):
    """Hooks see and return tensors, whatever the engine carries."""
    on_arrays = not isinstance(grad, TensorBase)
    value = TensorBase._plain_class._wrap(_as_array(grad)) if on_arrays else grad
    for hook in hooks:
        changed = hook(value)
        if changed is not None:
            changed = changed if isinstance(changed, TensorBase) else TensorBase._plain_class._wrap(_as_array(changed))
            if changed._data.shape != value._data.shape or changed._data.dtype != value._data.dtype:
                raise RuntimeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                    f"{tuple(changed.shape)} and dtype {changed.dtype}; expected shape "
                    f"{tuple(value.shape)} and dtype {value.dtype}")
            value = changed
    return value._data if on_arrays else value


def _inplace_error(node, value, version, expected, what="a tensor"):
    return RuntimeError(
        f"{node.name()}: one of the variables needed for gradient computation has been "
        f"modified by an inplace operation: {what} of shape {tuple(value.shape)} is at "
        f"version {version}; expected version {expected} instead. Avoid changing it "
        "in place (use an out-of-place op, or .clone() it first).")


class _NoGraph:
    """Stand-in ctx when nothing is recorded: saving is a no-op."""

    needs_input_grad = ()

    def save_for_backward(self, *values):
        pass


_NO_GRAPH = _NoGraph()


class Op(Function):
    """A built-in operation: ``forward(ctx, *arrays)`` on numpy arrays and Python
    numbers; ``backward(ctx, grad)`` written with operators and ``ctx.math``, so it
    runs on arrays (fast) or on tensors (recorded, for create_graph).

    An Op whose backward uses tensor methods instead sets ``array_backward = False``.
    """

    array_backward = True

    @classmethod
    def apply(cls, *args):
        recording = _state.enabled
        raw = []
        parents = []
        requires_grad = False
        for a in args:
            if isinstance(a, TensorBase):
                raw.append(a._data)
                if recording:
                    if a._requires_grad:
                        requires_grad = True
                        grad_fn = a.grad_fn
                        parents.append(a if grad_fn is None else grad_fn)
                    else:
                        parents.append(None)
            else:
                raw.append(a)
                if recording:
                    parents.append(None)
        if requires_grad:
            node = _new(cls)
            node._saved = ()
            try:
                out = cls.forward(node, *raw)
            except (ValueError, IndexError, TypeError, DeviceMismatchError) as exc:
                raise _op_error(cls, args, exc) from None
            out_data = out if type(out) is np.ndarray else _as_array(out)   # (a 0-d op gives a numpy scalar)
            return node._record(args, raw, parents, out, out_data)
        try:
            out = cls.forward(_NO_GRAPH, *raw)
        except (ValueError, IndexError, TypeError, DeviceMismatchError) as exc:
            raise _op_error(cls, args, exc) from None
        if type(out) is not np.ndarray:
            out = _as_array(out)
        if cls.is_view:
            view = _views.view_of(cls, None, args, raw[0], out)
            if view is not None:
                return view
        return TensorBase._plain_class._wrap(out)


def _links(args):
    """For each argument, the vertex its gradient goes to (None for constants)."""
    parents = []
    for a in args:
        if isinstance(a, TensorBase) and a._requires_grad:
            parents.append(a if a.grad_fn is None else a.grad_fn)
        else:
            parents.append(None)
    return parents


def op_name(cls):
    """'MatMul' -> 'matmul', 'LogSoftmax' -> 'log_softmax' (for error messages)."""
    name = getattr(cls, "op_name", None)
    if name:
        return name
    out = []
    for i, ch in enumerate(cls.__name__):
        if ch.isupper() and i and not cls.__name__[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _op_error(cls, args, exc):
    """Re-raise a numpy error with the op's name and its operands' shapes."""
    msg = str(exc)
    if msg.startswith(op_name(cls) + ":"):
        return exc
    shapes = [tuple(a._data.shape) for a in args if isinstance(a, TensorBase)]
    if isinstance(exc, ValueError) and "broadcast" in msg and len(shapes) >= 2:
        msg = f"shapes {' and '.join(map(str, shapes))} cannot be broadcast together"
        return ValueError(f"{op_name(cls)}: {msg}")
    detail = ", ".join(f"{tuple(a._data.shape)} {a._data.dtype}" for a in args if isinstance(a, TensorBase))
    return type(exc)(f"{op_name(cls)}: {msg} (operands: {detail})")


from . import anomaly_mode as _anomaly_mode  # noqa: E402
from . import graph as _graph  # noqa: E402
from . import views as _views  # noqa: E402
from ..ops.dims import sum_to_shape as _sum_to_shape  # noqa: E402  (circular import)
from ..ops.derivative_math import ArrayMath, TensorMath  # noqa: E402
