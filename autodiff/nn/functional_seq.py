"""The function forms of embeddings and attention (re-exported by ``autodiff.nn.functional``).

Each checks its arguments, naming itself and the offending shapes or dtypes, then
applies one op from ``autodiff/ops`` (``embedding_bag`` composes embedding with a
matrix product).
"""
import math

import numpy as np

from .. import creation, dtypes
from ..cuda import devices
from ..ops.attention import PackedSelfAttention, ScaledDotProductAttention
from ..ops.linalg import MatMul
from ..ops.recurrent import Embedding
from ..tensor import Tensor, cat, where


# ---------------------------------------------------------------------- embeddings
def _check_indices(name, input, rows):
    if not isinstance(input, Tensor) or input._data.dtype.kind not in "iu":
        kind = dtypes.name(input.dtype) if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"{name}: expected indices as an integer tensor (Long or Int), got {kind} "
                        "(use .long())")
    data = input._data
    if data.size and (data.min() < 0 or data.max() >= rows):
        bad = data[(data < 0) | (data >= rows)].flat[0]
        raise IndexError(f"{name}: index {int(bad)} is out of range for a weight of {rows} rows "
                         f"(indices run from 0 to {rows - 1})")
    return data


def _padding_index(name, padding_idx, rows):
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ValueError(f"{name}: padding_idx ({padding_idx}) must be within num_embeddings ({rows})")
    return padding_idx + rows if padding_idx < 0 else padding_idx


def _renorm_(weight, indices, max_norm, norm_type):
    """Scale, in place and outside the graph, the rows used whose norm exceeds max_norm (PyTorch's rule)."""
    data = weight._data
    rows = np.unique(indices)
    norms = np.linalg.norm(data[rows].astype(np.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        data[rows[over]] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(data.dtype)
        weight._bump_version()


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """weight[input]: one row of ``weight`` (num_embeddings, embedding_dim) per index."""
    name = "embedding"
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"{name}: weight must be a 2-D tensor (num_embeddings, embedding_dim), got "
                         f"{tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}")
    rows = weight.shape[0]
    indices = _check_indices(name, input, rows)
    padding_idx = _padding_index(name, padding_idx, rows)
    if max_norm is not None:
        _renorm_(weight, indices, float(max_norm), float(norm_type))
    row_scale = None
    if scale_grad_by_freq:
        counts = np.bincount(indices.reshape(-1), minlength=rows).astype(weight._data.dtype)
        row_scale = 1 / np.maximum(counts, 1)[:, None]
    out = Embedding.apply(input, weight, padding_idx, row_scale)
    if out.grad_fn is not None:     # what the rows came from, and the versions read (see gathered_rows)
        out.grad_fn.gathered_from = (input, input._version, weight, weight._version)
    return out


def gathered_rows(x):
    """(indices, table) arrays when ``x`` is, as it stands, exactly an embedding's output
    table[indices]: the output of ``embedding`` itself, with neither it, the indices nor the
    table changed in place since. Else None. An op reading x may compute with the table
    instead, V rows instead of one per index (the LSTM's input products: see
    ``kernels.cpu.lstm_sequence_forward``); x's place in the graph does not change."""
    node = x.grad_fn
    source = getattr(node, "gathered_from", None) if type(node) is Embedding else None
    if source is None or x._version:
        return None
    indices, indices_version, table, table_version = source
    if indices._version != indices_version or table._version != table_version:
        return None
    return indices._data, table._data


_BAG_MODES = ("sum", "mean", "max")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sum, mean or max of the embeddings of each bag, without building the (bags, n, dim) tensor.

    Bags: the rows of a 2-D ``input``, or the runs of a 1-D ``input`` starting at ``offsets``.
    Indices equal to ``padding_idx`` are left out (and not counted by the mean); an empty bag is zeros.
    """
    name = "embedding_bag"
    if mode not in _BAG_MODES:
        raise ValueError(f"{name}: mode has to be one of sum, mean or max, got {mode!r}")
    rows = weight.shape[0]
    data = _check_indices(name, input, rows)
    padding_idx = _padding_index(name, padding_idx, rows)
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{name}: per_sample_weights was not None. per_sample_weights is "
                                      f"only supported for mode='sum' (got mode='{mode}'). Please open a "
                                      "feature request on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"{name}: per_sample_weights of shape {tuple(per_sample_weights.shape)} must "
                             f"have the shape of input {tuple(input.shape)}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{name}: if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences")
        bags, per = data.shape
        starts = np.arange(bags) * per
        flat = data.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError(f"{name}: offsets has to be a 1D Tensor but got None")
        starts = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets).astype(np.int64)
        if starts.ndim != 1:
            raise ValueError(f"{name}: offsets has to be a 1D Tensor, got shape {starts.shape}")
        if include_last_offset:
            starts = starts[:-1]
        if starts.size and (starts[0] != 0 or (np.diff(starts) < 0).any() or starts[-1] > data.size):
            raise ValueError(f"{name}: offsets must start at 0, not decrease and stay within the "
                             f"{data.size} indices, got {starts.tolist()}")
        bags = starts.size
        flat = data
    else:
        raise ValueError(f"{name}: input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if max_norm is not None:
        _renorm_(weight, flat, float(max_norm), float(norm_type))
    flat_input = Tensor._wrap(flat)
    embedded = embedding(flat_input, weight, scale_grad_by_freq=scale_grad_by_freq)
    bag_of = np.searchsorted(starts, np.arange(flat.size), side="right") - 1
    kept = np.ones(flat.size, dtype=bool) if padding_idx is None else flat != padding_idx
    dtype = weight._data.dtype
    if mode == "max":
        return _bag_max(embedded, bag_of, kept, bags, dtype)
    if per_sample_weights is not None:
        embedded = embedded * per_sample_weights.reshape(-1, 1)
    membership = np.zeros((bags, flat.size), dtype=dtype)
    membership[bag_of[kept], np.arange(flat.size)[kept]] = 1
    if mode == "mean":
        membership /= np.maximum(membership.sum(1, keepdims=True), 1)
    return MatMul.apply(Tensor._wrap(membership), embedded)


def _bag_max(embedded, bag_of, kept, bags, dtype):
    """Elementwise max over each bag: the bags padded to equal length with -inf, then max (empty: 0)."""
    counts = np.bincount(bag_of[kept], minlength=bags)
    longest = max(int(counts.max()) if counts.size else 0, 1)
    slot = np.zeros(bag_of.size, dtype=np.int64)
    seen = np.zeros(bags, dtype=np.int64)
    for i in np.flatnonzero(kept):
        slot[i] = seen[bag_of[i]]
        seen[bag_of[i]] += 1
    features = embedded.shape[-1]
    order = np.full((bags, longest), embedded.shape[0], dtype=np.int64)   # the extra row: -inf
    order[bag_of[kept], slot[kept]] = np.flatnonzero(kept)
    filler = Tensor._wrap(np.full((1, features), -np.inf, dtype=dtype))
    padded = cat([embedded, filler])[order]
    out = padded.amax(1)
    empty = counts == 0
    if empty.any():
        out = where(Tensor._wrap(~empty[:, None]), out, Tensor._wrap(np.zeros((1, 1), dtype=dtype)))
    return out


# ---------------------------------------------------------------------- attention
def _additive_mask(name, attn_mask, is_causal, target, source, dtype):
    """The mask as a float array to add to the scores (0 or -inf for a boolean mask), or None."""
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{name}: Explicit attn_mask should not be set when is_causal=True")
        return np.where(np.tril(np.ones((target, source), dtype=bool)), 0.0, -np.inf).astype(dtype)
    if attn_mask is None:
        return None
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"{name}: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
    if attn_mask._data.dtype == np.bool_:
        return np.where(attn_mask._data, 0.0, -np.inf).astype(dtype)
    if attn_mask._data.dtype != dtype:
        raise TypeError(f"{name}: Expected attn_mask dtype to be bool or {dtypes.name(dtype)} (the dtype "
                        f"of query), got {dtypes.name(attn_mask._data.dtype)}")
    return attn_mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, scale = 1/sqrt(E) by default, as one node.

    query (..., L, E), key (..., S, E), value (..., S, Ev). ``attn_mask``: boolean (True: may
    attend) or float (added to the scores), broadcast to (..., L, S); ``is_causal``: query i
    attends to keys 0..i. Dropout with ``dropout_p`` is applied to the probabilities.
    """
    name = "scaled_dot_product_attention"
    for what, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{name}: {what} must have at least 2 dimensions (..., length, features), "
                             f"got shape {tuple(t.shape)}")
    dtype = query._data.dtype
    if key._data.dtype != dtype or value._data.dtype != dtype:
        raise TypeError(f"{name}: Expected query, key, and value to have the same dtype, but got "
                        f"query.dtype: {dtypes.name(dtype)}, key.dtype: {dtypes.name(key._data.dtype)} "
                        f"and value.dtype: {dtypes.name(value._data.dtype)} instead.")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{name}: query {tuple(query.shape)} and key {tuple(key.shape)} must share the "
                         f"feature size, and key and value {tuple(value.shape)} the source length")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}: dropout_p must be between 0 and 1, got {dropout_p}")
    target, source = query.shape[-2], key.shape[-2]
    mask = _additive_mask(name, attn_mask, is_causal, target, source, dtype)
    if mask is not None:
        mask_shape = tuple(mask.shape)
        try:
            np.broadcast_shapes(mask_shape, tuple(query.shape[:-1]) + (source,))
        except ValueError:
            raise ValueError(f"{name}: attn_mask of shape {mask_shape} does not broadcast to the scores' "
                             f"shape {tuple(query.shape[:-1]) + (source,)}") from None
    on_device = type(query._data) is not np.ndarray
    if on_device and isinstance(mask, np.ndarray):
        mask = devices.like(mask, query._data)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    shape = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2])) + (target, source)
    keep = _dropout_keep(dropout_p, shape, dtype, query._data)
    return ScaledDotProductAttention.apply(query, key, value, mask, scale, keep)


def _dropout_keep(dropout_p, shape, dtype, like):
    """Dropout's keep-mask for attention probabilities of ``shape``, scaled by 1 / (1 - p), or None."""
    if dropout_p <= 0.0:
        return None
    if dropout_p == 1.0:
        keep = np.zeros(shape, dtype=dtype)
    else:
        keep = (creation.default_generator().random(shape) >= dropout_p) * np.asarray(
            1.0 / (1.0 - dropout_p), dtype=dtype)
    if type(like) is not np.ndarray:       # drawn on the host: the same masks on every device
        keep = devices.like(keep, like)
    return keep


def packed_self_attention(qkv, heads, mask, dropout_p):
    """MultiheadAttention's self-attention on its packed projection: qkv (N, L, 3E) -> (N, L, E),
    each of q, k, v split into ``heads`` heads; ``mask``: an additive float tensor broadcast to
    (N, heads, L, L), or None. Arguments are checked by the module."""
    batch, length, features = qkv.shape
    scale = 1.0 / math.sqrt(features // 3 // heads)
    keep = _dropout_keep(dropout_p, (batch, heads, length, length), qkv._data.dtype, qkv._data)
    return PackedSelfAttention.apply(qkv, heads, mask, scale, keep)
