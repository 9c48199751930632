"""Scalar: one number and its gradient, for teaching backprop by hand (micrograd-style).

Each operation computes its value and, right beside it, the local derivative
of the result with respect to each operand. ``backward()`` hands the graph to
the same engine that Tensor uses (``autodiff.autograd.engine``): Kahn's
topological order, no recursion, the chain rule summed over every path.
"""
import math

from .autograd import engine


class Scalar:
    """A single float that remembers how it was computed."""

    __slots__ = ("data", "grad", "_parents", "_local_grads", "op", "label", "__weakref__")
    _hooks = None

    def __init__(self, data, label="", _parents=(), _local_grads=(), op=""):
        self.data = float(data)
        self.grad = 0.0
        self._parents = _parents          # the operands, as vertices of the graph
        self._local_grads = _local_grads  # d(self)/d(operand), one per operand
        self.op = op
        self.label = label

    def __repr__(self):
        label = f"{self.label}: " if self.label else ""
        return f"Scalar({label}data={self.data:.4g}, grad={self.grad:.4g})"

    # ---- operations: value, then the local derivative for each operand ----
    def __add__(self, other):
        other = _as_scalar(other)
        return Scalar(self.data + other.data, _parents=(self, other), _local_grads=(1.0, 1.0), op="+")

    def __mul__(self, other):
        other = _as_scalar(other)
        return Scalar(self.data * other.data, _parents=(self, other),
                      _local_grads=(other.data, self.data), op="*")

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"Scalar ** {type(exponent).__name__}: only int/float exponents are supported")
        return Scalar(self.data ** exponent, _parents=(self,),
                      _local_grads=(exponent * self.data ** (exponent - 1),), op=f"**{exponent}")

    def __rpow__(self, base):
        value = float(base) ** self.data
        return Scalar(value, _parents=(self,), _local_grads=(value * math.log(base),), op=f"{base}**")

    def exp(self):
        value = math.exp(self.data)
        return Scalar(value, _parents=(self,), _local_grads=(value,), op="exp")

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log: Scalar value {self.data} is not positive")
        return Scalar(math.log(self.data), _parents=(self,), _local_grads=(1.0 / self.data,), op="log")

    def tanh(self):
        value = math.tanh(self.data)
        return Scalar(value, _parents=(self,), _local_grads=(1.0 - value * value,), op="tanh")

    def sigmoid(self):
        x = self.data
        value = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return Scalar(value, _parents=(self,), _local_grads=(value * (1.0 - value),), op="sigmoid")

    def relu(self):
        positive = self.data > 0
        return Scalar(self.data if positive else 0.0, _parents=(self,),
                      _local_grads=(1.0 if positive else 0.0,), op="relu")

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        other = _as_scalar(other)
        return Scalar(self.data - other.data, _parents=(self, other), _local_grads=(1.0, -1.0), op="-")

    def __truediv__(self, other):
        other = _as_scalar(other)
        if other.data == 0:
            raise ZeroDivisionError(f"Scalar division: {self.data} / 0")
        return Scalar(self.data / other.data, _parents=(self, other),
                      _local_grads=(1.0 / other.data, -self.data / other.data ** 2), op="/")

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _as_scalar(other) - self

    def __rtruediv__(self, other):
        return _as_scalar(other) / self

    # ---- backpropagation, on the shared engine ----
    def backward(self):
        """Set ``.grad`` of every Scalar this one depends on (accumulating, like PyTorch)."""
        engine.backpropagate([self], [1.0])

    def zero_grad(self):
        """Reset ``.grad`` to 0 on this Scalar and everything it was computed from."""
        for vertex in engine.topological_order([self]):
            vertex.grad = 0.0

    _stores_grad = True   # every Scalar keeps its gradient (micrograd-style), a float:
    _grad = None          # nothing for the engine to check it against (see ``_check_grad``)

    def _propagate(self, grad, retain_graph=False):
        return [grad * d for d in self._local_grads]

    def _check_grad(self, grad):
        pass

    def _finish(self, grad, accumulate, owned=False):
        if accumulate:
            self.grad += grad


def _as_scalar(value):
    if isinstance(value, Scalar):
        return value
    if isinstance(value, (int, float)):
        return Scalar(value)
    raise TypeError(f"unsupported operand type for Scalar: {type(value).__name__}")
