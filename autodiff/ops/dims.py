"""Shape helpers shared by the ops: dim normalisation and the broadcasting rule."""
import numpy as np


def normalize_dims(dim, ndim, op):
    """``dim`` (None, int or tuple, negatives allowed) as a sorted tuple of axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}(): argument 'dim' must be an int or a tuple of ints, not "
                        f"{type(dim).__name__} ({dim!r})")
    if not dims:   # dim=() reduces every dimension, as in PyTorch
        return None
    out = []
    for position, d in enumerate(dims):
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{op}(): argument 'dim' must be tuple of ints, but found element of type "
                            f"{type(d).__name__} at pos {position} ({dim!r})")
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions")
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim!r} names the same dimension twice")
    return tuple(sorted(out)) if ndim else None


def normalize_dim(dim, ndim, op):
    """One dim, negatives allowed, as a non-negative int."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__} ({dim!r})")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return int(dim) % max(ndim, 1)


def keepdim_shape(shape, dims):
    """``shape`` with the reduced ``dims`` (None: all) set to 1."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def reduced_shape(shape, dims):
    """``shape`` with the reduced ``dims`` (None: all) removed."""
    if dims is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def broadcast_shapes(op, *shapes):
    """The common shape, or a ValueError that names the op and every shape."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be broadcast "
            "together (each dimension, aligned from the right, must match or be 1)") from None


def sum_to_shape(array, shape):
    """Sum ``array`` over the dimensions that broadcasting added or stretched to reach it from ``shape``."""
    if array.shape == shape:
        return array
    if array.shape[1:] == shape:           # a bias: one leading dimension added
        return np.add.reduce(array, axis=0)
    lead = array.ndim - len(shape)
    stretched = [lead + i for i, n in enumerate(shape) if n == 1 and array.shape[lead + i] != 1]
    if lead > 0 and not stretched:         # only leading dimensions were added (a bias)
        return np.add.reduce(array, axis=0 if lead == 1 else tuple(range(lead)))
    out = np.add.reduce(array, axis=tuple(range(lead)) + tuple(stretched), keepdims=True)
    return out.reshape(shape)


def check_sum_to(shape, target):
    """Raise unless ``target`` broadcasts to ``shape`` (so a gradient can be summed to it)."""
    ok = len(target) <= len(shape) and all(
        t == n or t == 1 for t, n in zip(target[::-1], shape[::-1]))
    if not ok:
        raise ValueError(f"sum_to_size: cannot sum a tensor of shape {tuple(shape)} to shape "
                         f"{tuple(target)}: {tuple(target)} does not broadcast to it")


def is_basic_index(key):
    """True for keys made of ints, slices, None and Ellipsis (numpy returns a view)."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)
