"""Graph nodes: one recorded operation each, with its forward and its derivative.

``Function`` is PyTorch's custom-op API: subclass it with static
``forward(ctx, *args)`` and ``backward(ctx, *grads)`` and call ``.apply``.
``Op`` is the same node for the built-in operations, with a cheaper entry
point: its ``forward`` works on numpy arrays (so it reads like numpy), its
``backward`` on tensors (so that it is itself differentiable and
``create_graph=True`` works). The instance is both the ``ctx`` and the graph
node; the output tensor points to it, it never points back to the output, so
graphs are freed by reference counting alone.

Broadcasting and dtype are handled here, once for every op: a gradient is
summed back to its input's shape and cast to its input's dtype.
"""
import numpy as np

from .grad_mode import _state

_OUTPUT = object()   # marks "the op's own output" among saved values
_FREED = object()    # marks a node whose saved values were released by backward

Tensor = None  # set by autodiff.tensor (circular import)


def _second_backward_error(node):
    return RuntimeError(
        f"{node.name()}: trying to backward through the graph a second time (or to read "
        "saved tensors after they were freed). Saved values are released by backward(); "
        "specify retain_graph=True on the first backward() if you need to call it again.")


class Function:
    """A differentiable operation recorded in the graph (and its ``ctx``)."""

    is_view = False      # True when the output shares memory with the first input
    _hooks = None
    _retained = None     # weak reference to a non-leaf tensor that called retain_grad()
    _retained_grad = None
    _output_data = None
    _to_save = ()
    _saved = ()

    # ---- the ctx API used inside forward/backward (PyTorch's names) ----
    def save_for_backward(self, *values):
        """Keep inputs, the output or other arrays for backward."""
        self._to_save = values

    @property
    def saved_tensors(self):
        """What forward saved: the input tensors themselves (still in the graph),
        the output (as a tensor whose grad_fn is this node), or constants."""
        saved = self._saved
        if saved is _FREED:
            raise _second_backward_error(self)
        values = []
        for value, version in saved:
            if value is _OUTPUT:
                out = Tensor._wrap(self._output_data)
                out._requires_grad = True
                out.grad_fn = self
                values.append(out)
            elif isinstance(value, Tensor):
                if value._version[0] != version:
                    raise RuntimeError(
                        f"{self.name()}: one of the variables needed for gradient computation "
                        f"has been modified by an inplace operation: a tensor of shape "
                        f"{tuple(value.shape)} is at version {value._version[0]}; expected "
                        f"version {version} instead. Avoid changing it in place (use an "
                        "out-of-place op, or .clone() it first).")
                values.append(value)
            elif isinstance(value, np.ndarray):
                values.append(Tensor._wrap(value))
            else:
                values.append(value)
        return tuple(values)

    @classmethod
    def name(cls):
        return cls.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    @property
    def next_functions(self):
        """The nodes (or leaf tensors) this node sends gradient to, as in PyTorch."""
        return tuple((p, 0) for p in self._parents)

    # ---- entry point for user-defined functions (forward on tensors) ----
    @classmethod
    def apply(cls, *args):
        """Run ``forward`` without recording, then record one node for it."""
        node = cls.__new__(cls)
        node._parents = ()
        saved_mode = _state.enabled
        _state.enabled = False
        try:
            out = cls.forward(node, *args)
        finally:
            _state.enabled = saved_mode
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}")
        if saved_mode and any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return node._record(args, args, out, out._data)
        return out

    # ---- graph bookkeeping, shared by Function and Op ----
    def _record(self, args, raw, out, out_data):
        """Link this node to its inputs and wrap ``out_data`` as its output tensor."""
        parents = []
        meta = []
        needs = []
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad:
                grad_fn = a.grad_fn
                parents.append(a if grad_fn is None else grad_fn)
                data = a._data
                meta.append((data.shape, data.dtype))
                needs.append(True)
            else:
                parents.append(None)
                meta.append(None)
                needs.append(False)
        self._parents = parents
        self._input_meta = meta
        self.needs_input_grad = needs
        if self._to_save:
            saved = []
            for value in self._to_save:
                if value is out or value is out_data:
                    saved.append((_OUTPUT, 0))
                    self._output_data = out_data
                    continue
                for a, r in zip(args, raw):
                    if (value is r or value is a) and isinstance(a, Tensor):
                        saved.append((a, a._version[0]))
                        break
                else:
                    saved.append((value, 0))
            self._saved = saved
            self._to_save = ()
        result = Tensor._wrap(out_data)
        result._requires_grad = True
        result.grad_fn = self
        if self.is_view:
            result._version = args[0]._version
        return result

    # ---- the vertex protocol used by the engine ----
    def _propagate(self, grad):
        if self._saved is _FREED:
            raise _second_backward_error(self)
        if self._retained is not None:
            self._retained_grad = grad
        grads = type(self).backward(self, grad)
        if type(grads) is not tuple:
            grads = (grads,)
        result = []
        for g, meta in zip(grads, self._input_meta):
            if g is None or meta is None:
                result.append(None)
                continue
            if not isinstance(g, Tensor):
                g = Tensor._wrap(np.asarray(g))
            shape, dtype = meta
            if g._data.shape != shape:
                g = g.sum_to_size(shape)
            if g._data.dtype != dtype:
                g = g.to(dtype)
            result.append(g)
        return result

    def _finish(self, grad, retain_graph, accumulate):
        if self._retained is not None:
            tensor = self._retained()
            if tensor is not None and accumulate:
                tensor._accumulate_grad(self._retained_grad)
            self._retained_grad = None
        if not retain_graph and self._saved:
            self._saved = _FREED
            self._output_data = None


class _NoGraph:
    """Stand-in ctx when nothing is recorded: saving is a no-op."""

    needs_input_grad = ()

    def save_for_backward(self, *values):
        pass


_NO_GRAPH = _NoGraph()


class Op(Function):
    """A built-in operation: ``forward(ctx, *arrays)`` on numpy arrays and
    Python numbers, ``backward(ctx, grad)`` on tensors."""

    @classmethod
    def apply(cls, *args):
        raw = []
        requires_grad = False
        for a in args:
            if isinstance(a, Tensor):
                raw.append(a._data)
                if a._requires_grad:
                    requires_grad = True
            else:
                raw.append(a)
        if requires_grad and _state.enabled:
            node = cls.__new__(cls)
            try:
                out = cls.forward(node, *raw)
            except (ValueError, IndexError, TypeError) as exc:
                raise _op_error(cls, args, exc) from None
            if type(out) is np.ndarray:
                return node._record(args, raw, out, out)
            return node._record(args, raw, out, np.asarray(out))   # numpy scalar from a 0-d op
        try:
            out = cls.forward(_NO_GRAPH, *raw)
        except (ValueError, IndexError, TypeError) as exc:
            raise _op_error(cls, args, exc) from None
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        result = Tensor._wrap(out)
        if cls.is_view:
            result._version = args[0]._version
        return result


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
    shapes = [tuple(a._data.shape) for a in args if isinstance(a, Tensor)]
    if isinstance(exc, ValueError) and "broadcast" in msg and len(shapes) >= 2:
        msg = f"shapes {' and '.join(map(str, shapes))} cannot be broadcast together"
        return ValueError(f"{op_name(cls)}: {msg}")
    detail = ", ".join(f"{tuple(a._data.shape)} {a._data.dtype}" for a in args if isinstance(a, Tensor))
    return type(exc)(f"{op_name(cls)}: {msg} (operands: {detail})")
