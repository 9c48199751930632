"""All parameters as one flat vector, and back (PyTorch's ``parameters_to_vector``)."""
from ...tensor import Tensor, cat


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated, in order (a differentiable copy)."""
    parameters = list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into each parameter's values (outside the graph)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} elements (the "
                         f"parameters' total), got shape {tuple(vec.shape)}")
    data = vec._data
    start = 0
    for p in parameters:
        n = p.numel()
        p._data[...] = data[start:start + n].reshape(p._data.shape)
        p._bump_version()
        start += n
