"""Reverse-mode backpropagation over a DAG of vertices, shared by Tensor and Scalar.

A vertex is anything with
  ``_parents``            a tuple of vertices (None where no gradient is wanted),
  ``_hooks``              None, or a list of hooks run by ``_run_hooks(grad)``,
  ``_propagate(grad, retain_graph)``
                          the gradients for each parent (None where there is none);
                          a node frees what it saved unless ``retain_graph``,
  ``_stores_grad``        True for vertices that keep a ``.grad`` (leaves, retained
                          tensors): once the whole pass has succeeded, for those that
                          already hold one (``_grad`` is not None), ``_check_grad(grad)``
                          runs, then for all ``_finish(grad, accumulate, owned)``.

The order is Kahn's topological sort: a vertex runs once every gradient
contribution to it has arrived, so the chain rule sums over all paths
(diamonds, reused tensors). Everything is iterative: no recursion, whatever the
depth of the graph. Gradients are stored only once the pass has succeeded, so
an error half-way leaves every ``.grad`` as it was: each stored gradient is
checked (``_check_grad``) before the first one is written. Storing holds one
lock, so that threads running backward into the same leaves lose no update.
"""
import threading
from sys import getrefcount

import numpy as np

from . import anomaly_mode
from .grad_mode import _state

_accumulate_lock = threading.RLock()   # one backward at a time stores into .grad (a hook
# that runs while storing may itself call backward: the same thread may enter again)


def count_dependencies(roots):
    """Number of gradient contributions each reachable vertex will receive."""
    deps = dict.fromkeys(roots, 0)
    stack = list(deps)
    pop, push, count = stack.pop, stack.append, deps.get
    while stack:
        for parent in pop()._parents:
            if parent is not None:
                seen = count(parent)
                if seen is None:
                    deps[parent] = 1
                    push(parent)
                else:
                    deps[parent] = seen + 1
    return deps


def topological_order(roots):
    """Vertices reachable from ``roots``, each after every vertex that consumes it."""
    deps = count_dependencies(roots)
    ready = [v for v in dict.fromkeys(roots) if deps[v] == 0]
    order = []
    while ready:
        vertex = ready.pop()
        order.append(vertex)
        for parent in vertex._parents:
            if parent is None:
                continue
            deps[parent] -= 1
            if deps[parent] == 0:
                ready.append(parent)
    return order


def backpropagate(roots, root_grads, retain_graph=False, create_graph=False, capture=None):
    """Push ``root_grads`` back from ``roots`` through the graph.

    Gradients travel as whatever the roots' gradients are: numpy arrays for an
    ordinary backward (fast), tensors when ``create_graph`` records the pass.

    Without ``capture`` every leaf reached accumulates its gradient (``backward``).
    With ``capture`` (a list of vertices) nothing accumulates and the total
    gradient arriving at each captured vertex is returned (``autodiff.grad``).
    """
    deps = count_dependencies(roots)
    pending = {}      # gradients still waiting for more contributions
    for root, grad in zip(roots, root_grads):
        pending[root] = pending[root] + grad if root in pending else grad
    ready = [(v, pending.pop(v)) for v in list(pending) if deps[v] == 0]
    captured = dict.fromkeys(capture) if capture is not None else None
    finished = []
    recording = _state.enabled
    _state.enabled = create_graph        # the backward pass is recorded only for create_graph
    capturing = captured is not None
    previous = None
    anomaly = anomaly_mode.enabled_here()
    try:
        while ready:
            vertex, grad = ready.pop()
            if grad is None:  # every path to it carried no gradient
                parent_grads = (None,) * len(vertex._parents)
            else:
                if vertex._hooks:
                    grad = vertex._run_hooks(grad)
                if capturing and vertex in captured:
                    captured[vertex] = grad
                if vertex._stores_grad:
                    finished.append((vertex, grad))
                if anomaly:
                    parent_grads = anomaly_mode.checked_propagate(vertex, grad, retain_graph)
                else:
                    parent_grads = vertex._propagate(grad, retain_graph)
            for parent, parent_grad in zip(vertex._parents, parent_grads):
                if parent is None:
                    continue
                remaining = deps[parent] - 1
                if remaining:                  # more contributions to come: keep the sum
                    deps[parent] = remaining
                    if parent_grad is not None:
                        previous = pending.get(parent)
                        pending[parent] = parent_grad if previous is None else previous + parent_grad
                    continue
                if pending and parent in pending:   # the last contribution: add the earlier ones
                    previous = pending.pop(parent)
                    if previous is not None:
                        parent_grad = previous if parent_grad is None else previous + parent_grad
                if parent._parents or parent._hooks or capturing:
                    ready.append((parent, parent_grad))
                elif parent_grad is not None:   # a plain leaf: only a gradient to store
                    finished.append((parent, parent_grad))
        accumulate = captured is None
        parent_grads = parent_grad = grad = previous = None   # drop stale references (see `owned`)
        with _accumulate_lock:
            if accumulate:
                for vertex, grad in finished:
                    if vertex._grad is not None:   # (the call only where a .grad is held)
                        vertex._check_grad(grad)
            grad = None
            while finished:
                vertex, grad = finished.pop()
                # an array nothing else refers to (this local and getrefcount's argument) may be
                # stored as it is; one shared with another vertex or the caller is copied
                owned = type(grad) is np.ndarray and grad.base is None and getrefcount(grad) == 2
                vertex._finish(grad, accumulate, owned)
    finally:
        _state.enabled = recording
    return captured
