"""Multi-head attention and the Transformer encoder and decoder layers, with PyTorch's API.

Parameter names, shapes and initialisation follow PyTorch (``self_attn.in_proj_weight``,
``self_attn.out_proj.weight``, ``linear1``, ``norm1``, ...), so a PyTorch state_dict loads
as it is. The attention itself is one op (``F.scaled_dot_product_attention``) when the
weights are not asked for; ``need_weights=True`` composes it from matmul and softmax so
that the (head-averaged) probabilities can be returned.
"""
import copy
import math

import numpy as np

from .. import creation, dtypes
from ..tensor import Tensor
from . import functional as F
from . import functional_seq
from . import init
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm
from .parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear layer (PyTorch's name for MultiheadAttention.out_proj, kept so reprs match)."""


def _bool_or_float_mask(name, what, mask, dtype):
    """A boolean mask (True: may NOT attend, PyTorch's MultiheadAttention rule) as 0/-inf; floats as they are."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor, got {type(mask).__name__}")
    data = mask._data
    if data.dtype == np.bool_:
        return Tensor._wrap(np.where(data, -np.inf, 0.0).astype(dtype))
    if data.dtype.kind != "f":
        raise TypeError(f"{name}: only bool and floating types of {what} are supported, got "
                        f"{dtypes.name(data.dtype)}")
    return mask if data.dtype == dtype else mask.to(dtype)


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of size embed_dim / num_heads:
    out_proj(concat_h softmax(q_h k_h^T / sqrt(d) + mask) v_h), q, k, v projected by in_proj.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None); shapes
    (L, N, E) or, with batch_first, (N, L, E); unbatched (L, E) too.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        factory = dict(dtype=dtype, device=device)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.zeros(3 * embed_dim, embed_dim, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.zeros(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(creation.zeros(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(creation.zeros(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.zeros(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _project(self, query, key, value):
        """q, k, v = the three input projections (one matrix product for self-attention)."""
        e = self.embed_dim
        b = self.in_proj_bias
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:
                return F.linear(query, w, b).chunk(3, -1)
            if key is value:
                q = F.linear(query, w[:e], None if b is None else b[:e])
                k, v = F.linear(key, w[e:], None if b is None else b[e:]).chunk(2, -1)
                return q, k, v
            ws = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        bs = (None,) * 3 if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return tuple(F.linear(x, w_, b_) for x, w_, b_ in zip((query, key, value), ws, bs))

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        name = "MultiheadAttention"
        for what, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"{name}: query, key and value must all be 3-D (batched) or 2-D (unbatched), "
                             f"got shapes {tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
        if query.shape[-1] != self.embed_dim:
            raise ValueError(f"{name}: was expecting embedding dimension of {self.embed_dim}, but got "
                             f"{query.shape[-1]} (query of shape {tuple(query.shape)})")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(f"{name}: key {tuple(key.shape)} and value {tuple(value.shape)} must have "
                             f"{self.kdim} and {self.vdim} features")
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{name}: Need attn_mask if specifying the is_causal hint. You may use the "
                               "Transformer module method `generate_square_subsequent_mask` to create this mask.")
        same, same_kv = query is key and key is value, key is value
        if not batched:                          # (L, E) -> (1, L, E)
            batch_major = lambda t: t.unsqueeze(0)   # noqa: E731
        elif not self.batch_first:               # (L, N, E) -> (N, L, E)
            batch_major = lambda t: t.transpose(0, 1)   # noqa: E731
        else:
            batch_major = lambda t: t   # noqa: E731
        query = batch_major(query)
        key = query if same else batch_major(key)
        value = key if same_kv else batch_major(value)
        batch, target, source = query.shape[0], query.shape[1], key.shape[1]
        if key.shape[0] != batch or value.shape[:2] != key.shape[:2]:
            raise ValueError(f"{name}: key and value must have the batch size and source length of the "
                             f"batch, got shapes {tuple(key.shape)} and {tuple(value.shape)}")
        dtype = query._data.dtype
        mask = self._merged_mask(name, attn_mask, key_padding_mask, batch, target, source, batched, dtype)
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if same and self._qkv_same_embed_dim and not need_weights and type(query._data) is np.ndarray:
            # self-attention: heads split and merged inside one op (ops.attention.PackedSelfAttention)
            qkv = F.linear(query, self.in_proj_weight, self.in_proj_bias)
            out = functional_seq.packed_self_attention(qkv, self.num_heads, mask, dropout_p)
        else:
            out, weights = self._attend(query, key, value, mask, dropout_p, need_weights)
            if weights is not None:
                if average_attn_weights:
                    weights = weights.mean(1)
                if not batched:
                    weights = weights.squeeze(0)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _attend(self, query, key, value, mask, dropout_p, need_weights):
        """(the heads' attention merged back to (N, L, E), the per-head probabilities (N, heads,
        L, S) with ``need_weights``, else None): projections and heads as recorded ops."""
        batch, target, source = query.shape[0], query.shape[1], key.shape[1]
        heads, head_dim = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        q = q.reshape(batch, target, heads, head_dim).transpose(1, 2)
        k = k.reshape(batch, source, heads, head_dim).transpose(1, 2)
        v = v.reshape(batch, source, heads, head_dim).transpose(1, 2)
        if need_weights:
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(head_dim))
            if mask is not None:
                scores = scores + mask
            weights = scores.softmax(-1)
            attended = F.dropout(weights, dropout_p, True) if dropout_p else weights
            out = (attended @ v).transpose(1, 2).reshape(batch, target, self.embed_dim)
            return out, weights
        out = functional_seq.scaled_dot_product_attention(q, k, v, mask, dropout_p)
        return out.transpose(1, 2).reshape(batch, target, self.embed_dim), None

    def _merged_mask(self, name, attn_mask, key_padding_mask, batch, target, source, batched, dtype):
        """attn_mask (L, S) or (N*H, L, S) and key_padding_mask (N, S) as one additive mask."""
        heads = self.num_heads
        mask = _bool_or_float_mask(name, "attn_mask", attn_mask, dtype)
        if mask is not None:
            if mask.ndim == 2:
                if tuple(mask.shape) != (target, source):
                    raise RuntimeError(f"{name}: The shape of the 2D attn_mask is {tuple(mask.shape)}, but "
                                       f"should be {(target, source)}.")
            elif mask.ndim == 3:
                if tuple(mask.shape) != (batch * heads, target, source):
                    raise RuntimeError(f"{name}: The shape of the 3D attn_mask is {tuple(mask.shape)}, but "
                                       f"should be {(batch * heads, target, source)}.")
                mask = mask.reshape(batch, heads, target, source)
            else:
                raise RuntimeError(f"{name}: attn_mask's dimension {mask.ndim} is not supported")
        padding = _bool_or_float_mask(name, "key_padding_mask", key_padding_mask, dtype)
        if padding is not None:
            want = (batch, source) if batched else (source,)
            if tuple(padding.shape) != want:
                raise RuntimeError(f"{name}: expected key_padding_mask of shape {want}, got "
                                   f"{tuple(padding.shape)}")
            padding = padding.reshape(batch, 1, 1, source)
            mask = padding if mask is None else mask + padding
        return mask


# ---------------------------------------------------------------------- Transformer layers
def _activation(name, activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise RuntimeError(f"{name}: activation should be relu/gelu, not {activation}")


def _clones(module, count):
    return ModuleList([copy.deepcopy(module) for _ in range(count)])


def generate_square_subsequent_mask(size, device=None, dtype=None):
    """(size, size) float mask: 0 on and below the diagonal, -inf above (query i sees keys 0..i)."""
    from ..tensor import tensor
    return tensor(np.triu(np.full((size, size), -np.inf), k=1), dtype=dtype or dtypes.float32, device=device)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm
    (after the residual, or before each block with ``norm_first=True``)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation("TransformerEncoderLayer", activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``num_layers`` copies of an encoder layer, then an optional final norm."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        if self.norm is not None:
            x = self.norm(x)
        return x


class TransformerDecoderLayer(Module):
    """Self-attention on the target, attention over the encoder's memory, then a feed-forward block."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                            **factory)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first,
                                                 bias=bias, **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation("TransformerDecoderLayer", activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoder(Module):
    """``num_layers`` copies of a decoder layer, then an optional final norm."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        if self.norm is not None:
            x = self.norm(x)
        return x
