"""Parameter: a tensor that a Module registers as one of its learnable weights."""
import numpy as np

from ..cuda.devices import DeviceArray
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` (by default) that a Module collects.

    Assigning one to a module attribute (``self.weight = Parameter(...)``) puts it
    in ``module.parameters()`` and ``module.state_dict()``. It shares memory with
    the tensor it was made from. Operations on it return plain tensors.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            array = np.empty(0, dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data._data
        elif isinstance(data, (np.ndarray, DeviceArray)):
            array = data
        else:
            raise TypeError(f"Parameter: expected a Tensor (or numpy array), got {type(data).__name__}")
        p = Tensor.__new__(cls)
        p._data = array
        p._requires_grad = False
        p.grad = None
        p.grad_fn = None
        p._version_counter = None
        p._hooks = None
        p._name = None
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass   # everything happens in __new__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self._data.copy(), self._requires_grad)
        if self.grad is not None:
            result.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = result
        return result



class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (``nn.LazyLinear``'s weight before its first call).

    It holds an empty array that keeps the dtype and device the parameter will have
    (``module.to(...)`` before the first call applies to it); ``materialize(shape)`` gives it
    its values in place and turns it into an ordinary Parameter, so that an optimizer built
    before the first call updates it afterwards, as in PyTorch.
    """

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from .. import creation
        return Parameter.__new__(cls, creation.empty(0, dtype=dtype, device=device), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        """Give the parameter ``shape`` (zeros: the layer's ``reset_parameters`` draws them)."""
        from .. import creation
        from ..cuda import devices
        dtype = self._data.dtype if dtype is None else dtype
        device = devices.device_of(self._data) if device is None else device
        self._swap_data(creation.zeros(*shape, dtype=dtype, device=device)._data)
        self.__class__ = Parameter

    def detach(self):
        return self          # (state_dict() shows the uninitialized parameter itself, as PyTorch)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            copy = UninitializedParameter(self._requires_grad)
            copy._data = self._data.copy()      # (the empty array: its dtype and device)
            memo[id(self)] = copy
        return memo[id(self)]

    def __repr__(self):
        return "<UninitializedParameter>"

    __str__ = __repr__
