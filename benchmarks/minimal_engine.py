"""The least a numpy autograd engine can do: a yardstick for bench_core.py, not a library.

It runs the very code of bench_core's step and chain (the same names as autodiff
and torch for the ops they use) with nothing else: no version counters, no dtype
rules, no error checks, no hooks, no grad modes, no devices, no create_graph.
Each op makes one object holding its parents and a backward closure that
returns its parents' gradients. Whatever this engine costs per op beyond numpy is
the floor for any Python engine on this machine; autodiff pays for its features
on top of it.
"""
import contextlib

import numpy as np


class Tensor:
    __slots__ = ("data", "grad", "parents", "backward_fn", "requires_grad")

    def __init__(self, data, parents=(), backward_fn=None, requires_grad=False):
        self.data, self.parents, self.backward_fn = data, parents, backward_fn
        self.grad, self.requires_grad = None, requires_grad

    # ---- ops: forward, and a closure giving each parent's gradient ----
    def __add__(self, other):
        other = _lift(other)
        a, b = self.data, other.data
        return Tensor(a + b, (self, other), lambda g: (_unbroadcast(g, a.shape), _unbroadcast(g, b.shape)))

    def __sub__(self, other):
        other = _lift(other)
        a, b = self.data, other.data
        return Tensor(a - b, (self, other), lambda g: (_unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)))

    def __mul__(self, other):
        other = _lift(other)
        a, b = self.data, other.data
        return Tensor(a * b, (self, other), lambda g: (_unbroadcast(g * b, a.shape), _unbroadcast(g * a, b.shape)))

    def __neg__(self):
        return Tensor(-self.data, (self,), lambda g: (-g,))

    def __matmul__(self, other):
        a, b = self.data, other.data
        return Tensor(a @ b, (self, other), lambda g: (g @ b.T, a.T @ g))

    @property
    def T(self):
        return Tensor(self.data.T, (self,), lambda g: (g.T,))

    def relu(self):
        out = np.maximum(self.data, 0)
        return Tensor(out, (self,), lambda g: (g * (out > 0),))

    def clamp(self, min):
        x = self.data
        return Tensor(np.maximum(x, min), (self,), lambda g: (g * (x > min),))

    def abs(self):
        x = self.data
        return Tensor(np.abs(x), (self,), lambda g: (g * np.sign(x),))

    def exp(self):
        out = np.exp(self.data)
        return Tensor(out, (self,), lambda g: (g * out,))

    def log1p(self):
        x = self.data
        return Tensor(np.log1p(x), (self,), lambda g: (g / (1 + x),))

    def mean(self):
        x = self.data
        return Tensor(np.asarray(x.mean()), (self,), lambda g: (np.full(x.shape, g / x.size, x.dtype),))

    # ---- backward: iterative topological sort, then the chain rule ----
    def backward(self):
        order, seen, stack = [], {self}, [(self, False)]
        while stack:
            vertex, expanded = stack.pop()
            if expanded:
                order.append(vertex)
                continue
            stack.append((vertex, True))
            for parent in vertex.parents:
                if parent not in seen:
                    seen.add(parent)
                    stack.append((parent, False))
        grads = {self: np.ones_like(self.data)}
        for vertex in reversed(order):
            grad = grads.pop(vertex, None)
            if grad is None:
                continue
            if vertex.backward_fn is None:
                if vertex.requires_grad:
                    vertex.grad = grad if vertex.grad is None else vertex.grad + grad
                continue
            for parent, parent_grad in zip(vertex.parents, vertex.backward_fn(grad)):
                previous = grads.get(parent)
                grads[parent] = parent_grad if previous is None else previous + parent_grad

    # ---- what the optimizer and the benchmark read ----
    def mul_(self, value):
        self.data *= value
        return self

    def add_(self, other):
        self.data += other.data
        return self

    def sub_(self, other, alpha=1):
        self.data -= alpha * other.data
        return self

    def item(self):
        return self.data.item()

    def __float__(self):
        return float(self.data)


def _lift(value):
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value, np.float32))


def _unbroadcast(grad, shape):
    """Sum ``grad`` back to ``shape`` over the dimensions broadcasting added or stretched."""
    if grad.shape == shape:
        return grad
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape)))) if grad.ndim > len(shape) else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def tensor(data, requires_grad=False):
    data = np.asarray(data)
    return Tensor(data.astype(np.float32) if data.dtype == np.float64 else data, requires_grad=requires_grad)


def zeros_like(t):
    return Tensor(np.zeros_like(t.data))


no_grad = contextlib.nullcontext   # nothing is recorded for in-place ops anyway
