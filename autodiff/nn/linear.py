"""Linear (the fully connected layer), LazyLinear, Identity, Flatten and Unflatten."""
import math
import numbers

from .. import creation
from ..ops.linalg import Linear as _LinearOp
from . import init
from .module import Module
from .parameter import Parameter, UninitializedParameter


def _check_features(layer, **sizes):
    """PyTorch's errors for a layer size that is not a non-negative int (``Linear(2.5, 3)``)."""
    for what, value in sizes.items():
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"{layer}: {what} must be an int, got {value!r} "
                            f"({type(value).__name__})")
        if value < 0:
            raise RuntimeError(f"{layer}: trying to create a weight with negative dimension: "
                               f"{what}={value}")


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features).

    Initialised as PyTorch does: weight by kaiming_uniform_(a=sqrt(5)), i.e.
    uniform(-1/sqrt(in_features), 1/sqrt(in_features)), and bias uniform in the
    same interval, drawn from the generator that ``autodiff.manual_seed`` seeds.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        _check_features("Linear", in_features=in_features, out_features=out_features)
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.zeros(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.zeros(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return _LinearOp.apply(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class LazyLinear(Linear):
    """A Linear layer whose ``in_features`` is read from its first input's last dimension.

    Until then its weight and bias are ``UninitializedParameter``s (shown so in ``repr`` and
    ``state_dict``, with ``in_features=0``). The first call gives them their shapes, draws
    them as ``Linear`` does, and turns the layer into a ``Linear``. The parameters keep their
    identity, so an optimizer made before the first call updates them (as in PyTorch);
    loading a state dict into an uninitialized layer takes the shapes from it.
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        _check_features("LazyLinear", out_features=out_features)
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def has_uninitialized_params(self):
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Give weight and bias their shapes from ``input`` and draw them (the first call)."""
        if not self.has_uninitialized_params():
            return
        if input.ndim == 0:
            raise ValueError("LazyLinear: expected an input with at least one dimension (its last "
                             "one is in_features), got a 0-d tensor")
        self._materialize(int(input.shape[-1]))

    def _materialize(self, in_features):
        self.in_features = in_features
        self.weight.materialize((self.out_features, in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.__class__ = self.cls_to_become
        self.reset_parameters()

    def forward(self, input):
        self.initialize_parameters(input)
        return Linear.forward(self, input)

    def _materialize_from_state(self, state_dict, prefix):
        """Called by ``load_state_dict`` (of this layer or a model holding it): take the shapes
        of the weights being loaded."""
        weight = state_dict.get(prefix + "weight")
        if self.has_uninitialized_params() and weight is not None and len(weight.shape) == 2:
            self._materialize(int(weight.shape[1]))


class Identity(Module):
    """Returns its input unchanged (a placeholder; any constructor arguments are ignored)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dimensions ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dimension ``dim`` into ``unflattened_size``: (N, 12) -> (N, 3, 4) with
    ``Unflatten(1, (3, 4))`` (one size may be -1)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(unflattened_size, (tuple, list)):
            for i, n in enumerate(unflattened_size):
                if not isinstance(n, numbers.Integral) or isinstance(n, bool):
                    raise TypeError(f"Unflatten: unflattened_size must be tuple of ints, but found "
                                    f"element of type {type(n).__name__} at pos {i}")
        else:
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        shape = tuple(input.shape)
        dim = self.dim + len(shape) if self.dim < 0 else self.dim
        if not 0 <= dim < len(shape):
            raise IndexError(f"Unflatten: dimension {self.dim} is out of range for an input of shape "
                             f"{shape}")
        sizes = tuple(int(n) for n in self.unflattened_size)
        known = math.prod(n for n in sizes if n != -1)
        if sizes.count(-1) > 1 or (-1 not in sizes and known != shape[dim]) or \
                (-1 in sizes and (known == 0 or shape[dim] % known)):
            raise RuntimeError(f"Unflatten: provided sizes {sizes} don't multiply up to the size of "
                               f"dim {self.dim} ({shape[dim]}) in the input tensor of shape {shape}")
        return input.reshape(shape[:dim] + sizes + shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
