"""Reordering and repeating (flip, roll, repeat, tile), grids, stacking, moving dims, nelement."""
import builtins

import numpy as np

from ..ops import shape as S
from ..ops.dims import normalize_dims
from ..tensor import Tensor, cat, stack
from ._args import _int, _dim, _index_array, _tensor_list
from .indexing import _dim_key


# ---------------------------------------------------------------------- reordering and repeating
def flip(input, dims):
    """``input`` with the order of elements reversed along each of ``dims`` (a copy)."""
    dims = (dims,) if isinstance(dims, (builtins.int, np.integer)) else tuple(dims)
    axes = normalize_dims(tuple(_int("flip", "dims", d) for d in dims), input._data.ndim, "flip") or ()
    out = input
    for d in axes:
        out = S.Index.apply(out, _dim_key(np.arange(input._data.shape[d] - 1, -1, -1), d))
    return out if axes else S.Clone.apply(input)


def roll(input, shifts, dims=None):
    """``input`` rotated by ``shifts`` along ``dims`` (None: the flattened tensor, reshaped back)."""
    shifts = (shifts,) if isinstance(shifts, (builtins.int, np.integer)) else tuple(shifts)
    shifts = tuple(_int("roll", "shifts", s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll(): shifts {shifts} need dims of the same length")
        flat = input.reshape(-1)
        return roll(flat, shifts, 0).reshape(input.shape)
    dims = (dims,) if isinstance(dims, (builtins.int, np.integer)) else tuple(dims)
    if len(dims) != len(shifts):
        raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims: {len(dims)}")
    out = input
    for shift, dim in zip(shifts, dims):
        d = _dim("roll", dim, input._data.ndim, "dims")
        n = input._data.shape[d] if input._data.ndim else 1
        if n:
            out = S.Index.apply(out, _dim_key(np.roll(np.arange(n), shift), d))
    return out if out is not input else S.Clone.apply(input)


def _sizes(op, sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return tuple(_int(op, "sizes", s) for s in sizes)


def _repeat(op, x, sizes):
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"{op}(): trying to create a tensor with negative dimension: {sizes}")
    lead = len(sizes) - x._data.ndim
    x = x.reshape((1,) * lead + tuple(x._data.shape))
    positions = [np.tile(np.arange(n), r) for n, r in zip(x._data.shape, sizes)]
    if not positions:
        return S.Clone.apply(x)
    return S.Index.apply(x, np.ix_(*positions))


def repeat(input, *sizes):
    """``input`` tiled ``sizes[d]`` times along each dim (leading new dims allowed)."""
    sizes = _sizes("repeat", sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError(f"repeat(): number of dimensions of repeat dims ({len(sizes)}) can not be "
                           f"smaller than number of dimensions of tensor ({input._data.ndim})")
    return _repeat("repeat", input, sizes)


def tile(input, dims):
    """Like ``repeat``, with missing leading ``dims`` taken as 1."""
    dims = _sizes("tile", (dims,) if not isinstance(dims, (builtins.int, np.integer)) else ((dims,),))
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return _repeat("tile", input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along ``dim``) repeated ``repeats`` times, in place."""
    if repeats is None:      # repeat_interleave(counts): each position i, counts[i] times
        counts = _index_array("repeat_interleave", input, "repeats")
        return Tensor._wrap(np.repeat(np.arange(len(counts)), counts))
    if isinstance(repeats, Tensor):
        repeats = _index_array("repeat_interleave", repeats, "repeats")
    else:
        repeats = _int("repeat_interleave", "repeats", repeats)
    if np.any(np.asarray(repeats) < 0):
        raise RuntimeError("repeat_interleave(): repeats can not be negative")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim("repeat_interleave", dim, x._data.ndim)
    if x._data.ndim == 0:
        x = x.reshape(1)
    n = x._data.shape[d]
    if np.ndim(repeats) == 1 and len(repeats) not in (1, n):
        raise RuntimeError(f"repeat_interleave(): repeats must have the same size as input along dim, "
                           f"but got repeats.size(0) = {len(repeats)} and input.size({d}) = {n}")
    return S.Index.apply(x, _dim_key(np.repeat(np.arange(n), repeats), d))


# ---------------------------------------------------------------------- grids
def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (matrix, the default) or 'xy' (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid(): indexing must be 'ij' or 'xy', got {indexing!r}")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t._data.ndim > 1:
            raise RuntimeError(f"meshgrid(): expects 0-D or 1-D tensors, got "
                               f"{type(t).__name__ if not isinstance(t, Tensor) else tuple(t.shape)} "
                               f"at position {k}")
    vectors = [t.reshape(-1) for t in tensors]
    shape = tuple(v._data.shape[0] for v in vectors)
    grids = []
    for k, v in enumerate(vectors):
        view = [1] * len(shape)
        view[k] = shape[k]
        grids.append(v.reshape(view).expand(*shape))
    if indexing == "xy" and len(grids) >= 2:    # Cartesian: the first two dims swap
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of the elements of 1-D tensors, one per row."""
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


# ---------------------------------------------------------------------- stacking and moving dims
def _atleast(t, ndim):
    """``t`` with dims of size 1 added (at the front; a 1-D tensor becomes a row) up to ``ndim``."""
    shape = tuple(t._data.shape)
    if len(shape) >= ndim:
        return t
    if ndim == 3 and len(shape) == 2:
        return t.unsqueeze(-1)
    if ndim == 3 and len(shape) == 1:
        return t.reshape(1, shape[0], 1)
    return t.reshape((1,) * (ndim - len(shape)) + shape)


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [_atleast(t, 1) for t in _tensor_list("hstack", tensors)]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0, 1-D tensors taken as rows."""
    return cat([_atleast(t, 2) for t in _tensor_list("vstack", tensors)], 0)


def dstack(tensors):
    """Concatenate along dim 2 (depth), after making each tensor at least 3-D."""
    return cat([_atleast(t, 3) for t in _tensor_list("dstack", tensors)], 2)


def column_stack(tensors):
    """1-D (and 0-d) tensors as columns, side by side with the 2-D ones."""
    tensors = _tensor_list("column_stack", tensors)
    return hstack([t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in tensors])


def movedim(input, source, destination):
    """``input`` with the dims ``source`` moved to positions ``destination`` (a view)."""
    ndim = input._data.ndim
    source = (source,) if isinstance(source, (builtins.int, np.integer)) else tuple(source)
    destination = (destination,) if isinstance(destination, (builtins.int, np.integer)) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim(): invalid source or destination dims: source ({list(source)} dims) "
                           f"should contain the same number of dims as destination ({list(destination)} dims)")
    src = [_dim("movedim", d, ndim, "source") for d in source]
    dst = [_dim("movedim", d, ndim, "destination") for d in destination]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim(): repeated dim in source {list(source)} or destination {list(destination)}")
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return input.permute(*order) if ndim else input.reshape(())


def swapaxes(input, axis0, axis1):
    """Same as ``transpose``."""
    return input.transpose(axis0, axis1)


def unflatten(input, dim, sizes):
    """Dim ``dim`` split into ``sizes`` (one of them may be -1)."""
    d = _dim("unflatten", dim, input._data.ndim)
    sizes = tuple(_int("unflatten", "sizes", n) for n in sizes)
    n = input._data.shape[d]
    known = int(np.prod([k for k in sizes if k != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(f"unflatten(): provided sizes {list(sizes)} don't multiply up to the size of "
                           f"dim {dim} ({n}) in the input tensor of shape {tuple(input.shape)}")
    sizes = tuple(n // known if k == -1 else k for k in sizes)
    shape = tuple(input._data.shape)
    return input.reshape(shape[:d] + sizes + shape[d + 1:])


def nelement(input):
    """The number of elements (same as ``numel``)."""
    return input._data.size
