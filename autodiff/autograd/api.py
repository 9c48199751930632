"""``autodiff.grad`` and ``autodiff.autograd.backward``, as in PyTorch."""
import numpy as np

from . import engine
from ..cuda.devices import DeviceArray as _DeviceArray
from .tensor_base import TensorBase


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _root_grads(outputs, grad_outputs, fname):
    Tensor = TensorBase._plain_class
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _as_list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{fname}: got {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    roots, grads = [], []
    for out, g in zip(outputs, grad_outputs):
        if not isinstance(out, Tensor) or not out._requires_grad:
            raise RuntimeError(f"{fname}: an output does not require grad and has no grad_fn")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(f"{fname}: grad can be implicitly created only for scalar outputs; "
                                   f"an output has shape {tuple(out.shape)}: pass grad_outputs")
            g = Tensor._wrap(np.ones_like(out._data))
        elif not isinstance(g, Tensor):
            g = Tensor._wrap(np.asarray(g, dtype=out._data.dtype))
        if g._data.shape != out._data.shape:
            raise RuntimeError(f"{fname}: grad_output of shape {tuple(g.shape)} does not match "
                               f"output of shape {tuple(out.shape)}")
        roots.append(out.grad_fn if out.grad_fn is not None else out)
        grads.append(g)
    return roots, grads


def _carried(grads, create_graph):
    """What the engine carries: tensors when recording the backward pass, else arrays."""
    return grads if create_graph else [g._data for g in grads]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated in ``.grad``).

    ``only_inputs`` is accepted and ignored (deprecated in PyTorch too); ``materialize_grads``
    gives zeros instead of None for unused inputs (and implies ``allow_unused``)."""
    Tensor = TensorBase._plain_class
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"grad: inputs[{i}] must be a tensor that requires grad, got "
                            f"{type(x).__name__} ({x!r})")
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"grad: outputs[{i}] must be a tensor, got {type(out).__name__} "
                            f"({out!r})")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused to be True or None")
    roots, grads = _root_grads(outputs, grad_outputs, "grad")
    targets = []
    for i, x in enumerate(inputs):
        if not x._requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(x.shape)}) does not require grad")
        targets.append(x.grad_fn if x.grad_fn is not None else x)
    if retain_graph is None:
        retain_graph = create_graph
    captured = engine.backpropagate(roots, _carried(grads, create_graph), retain_graph,
                                    create_graph, capture=targets)
    result = []
    for i, (x, target) in enumerate(zip(inputs, targets)):
        g = captured.get(target)
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {tuple(x.shape)}) was not used in the graph "
                               "of the outputs; set allow_unused=True if this is intended")
        if g is not None and not isinstance(g, TensorBase):
            g = TensorBase._plain_class._wrap(   # a copy: never alias another result
                g.copy() if isinstance(g, _DeviceArray) else np.array(g))
        if g is None and materialize_grads:
            g = TensorBase._plain_class._wrap(np.zeros_like(x._data))
        result.append(g)
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate gradients of several outputs at once into the leaves' ``.grad``."""
    tensors = _as_list(tensors)
    roots, grads = _root_grads(tensors, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    engine.backpropagate(roots, _carried(grads, create_graph), retain_graph, create_graph)
