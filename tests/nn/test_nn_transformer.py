"""Attention and Transformer layers: values and gradients against PyTorch with copied weights,
against central differences, state_dict keys, reprs and errors."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
import autodiff.nn.functional as F
from autodiff.nn.transformer import generate_square_subsequent_mask
from autodiff.testing import assert_gradgrad_match, assert_gradients_match

RNG = np.random.default_rng(11)


def copy_to_torch(torch, ours, theirs):
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def compare(torch, ours, theirs, inputs, modules=None, rtol=1e-9, atol=1e-11):
    """Run both on float64 copies of ``inputs`` (None stays None); compare outputs and gradients."""
    a_in = [ad.tensor(x, requires_grad=True) if isinstance(x, np.ndarray) else x for x in inputs]
    t_in = [torch.tensor(x, requires_grad=True) if isinstance(x, np.ndarray) else x for x in inputs]
    out_a, out_t = ours(*a_in), theirs(*t_in)
    out_a = [o for o in (out_a if isinstance(out_a, tuple) else (out_a,)) if o is not None]
    out_t = [o for o in (out_t if isinstance(out_t, tuple) else (out_t,)) if o is not None]
    assert len(out_a) == len(out_t)
    ups = [RNG.standard_normal(tuple(t.shape)) for t in out_t]
    for a, t in zip(out_a, out_t):
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    sum(((a * ad.tensor(u)).sum() for a, u in zip(out_a, ups)), ad.tensor(0.0)).backward()
    sum((t * torch.tensor(u)).sum() for t, u in zip(out_t, ups)).backward()
    for a, t in zip(a_in, t_in):
        if isinstance(a, ad.Tensor) and a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
    if modules:
        for (name, p), q in zip(modules[0].named_parameters(), modules[1].parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


# ---------------------------------------------------------------------- scaled_dot_product_attention
def test_sdpa_matches_pytorch(torch):
    q, k, v = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 5, 4)), RNG.standard_normal((2, 5, 3))
    causal = RNG.standard_normal((2, 4, 4))
    bool_mask = RNG.random((3, 5)) < 0.7
    bool_mask[:, 0] = True
    cases = [((q, k, v), {}), ((causal, causal, causal), dict(is_causal=True)),
             ((q, k, v, RNG.standard_normal((3, 5))), dict(scale=0.7))]      # a float mask, differentiated
    for arrays, kwargs in cases:
        compare(torch, lambda *t: F.scaled_dot_product_attention(*t, **kwargs),
                lambda *t: torch.nn.functional.scaled_dot_product_attention(*t, **kwargs), arrays)
    compare(torch, lambda *t: F.scaled_dot_product_attention(*t, attn_mask=ad.tensor(bool_mask)),
            lambda *t: torch.nn.functional.scaled_dot_product_attention(*t, attn_mask=torch.tensor(bool_mask)),
            (q, k, v))


def test_sdpa_gradients_and_second_derivatives_match_finite_differences():
    q, k, v = (ad.tensor(RNG.standard_normal(s), requires_grad=True) for s in [(2, 3), (4, 3), (4, 2)])
    mask = ad.tensor(RNG.standard_normal((2, 4)), requires_grad=True)
    assert_gradients_match(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), q, k, v, mask)
    assert_gradgrad_match(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), q, k, v, mask)
    assert_gradgrad_match(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                          *(ad.tensor(RNG.standard_normal((3, 2)), requires_grad=True) for _ in range(3)))


def test_sdpa_dropout_keeps_expectation_and_gradients_consistent():
    ad.manual_seed(0)
    q, k, v = (ad.tensor(RNG.standard_normal(s), requires_grad=True) for s in [(3, 2), (3, 2), (3, 2)])
    assert np.array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).detach().numpy(), np.zeros((3, 2)))
    ad.manual_seed(1)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ad.manual_seed(1)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(out.detach().numpy(), again.detach().numpy())

    def seeded(q, k, v):
        ad.manual_seed(1)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert_gradients_match(seeded, q, k, v)


def test_sdpa_errors():
    q = ad.zeros(2, 3)
    with pytest.raises(ValueError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ad.ones(2, 2, dtype=ad.bool), is_causal=True)
    with pytest.raises(ValueError, match=r"must share the feature size"):
        F.scaled_dot_product_attention(q, ad.zeros(2, 4), ad.zeros(2, 4))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 3\) does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ad.zeros(3, 3))
    with pytest.raises(TypeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.scaled_dot_product_attention(ad.zeros(3), q, q)


# ---------------------------------------------------------------------- MultiheadAttention
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_pytorch(torch, batch_first):
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    copy_to_torch(torch, ours, theirs)
    shape = (3, 4, 8) if batch_first else (4, 3, 8)
    x, mem = RNG.standard_normal(shape), RNG.standard_normal((3, 6, 8) if batch_first else (6, 3, 8))
    padding = np.zeros((3, 6), dtype=bool)
    padding[1, 4:] = True
    attn_mask = RNG.random((4, 6)) < 0.3
    attn_mask[:, 0] = False
    for need_weights in (True, False):
        # self-attention (one projection) with a causal float mask
        mask = generate_square_subsequent_mask(4, dtype=ad.float64)
        t_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
        compare(torch, lambda x: ours(x, x, x, attn_mask=mask, need_weights=need_weights),
                lambda x: theirs(x, x, x, attn_mask=t_mask, need_weights=need_weights), [x], (ours, theirs))
        ours.zero_grad(), theirs.zero_grad()
        # cross-attention with a key padding mask and a boolean attn_mask, weights per head
        compare(torch, lambda q, m: ours(q, m, m, key_padding_mask=ad.tensor(padding), need_weights=need_weights,
                                         attn_mask=ad.tensor(attn_mask), average_attn_weights=False),
                lambda q, m: theirs(q, m, m, key_padding_mask=torch.tensor(padding), need_weights=need_weights,
                                    attn_mask=torch.tensor(attn_mask), average_attn_weights=False),
                [x, mem], (ours, theirs))
        ours.zero_grad(), theirs.zero_grad()


def _self_attention_both_ways(mha, x, seed, **kwargs):
    """mha's self-attention through the packed op (query, key and value one tensor) and through
    scaled_dot_product_attention (key and value copies): outputs and gradients."""
    results = []
    for packed in (True, False):
        ad.manual_seed(seed)
        mha.zero_grad()
        q = ad.tensor(x, requires_grad=True)
        kv = q if packed else q * 1.0
        with np.errstate(invalid="ignore"):
            out = mha(q, kv, kv, need_weights=False, **kwargs)[0]
            out.backward(ad.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape))))
        results.append([out.detach().numpy(), q.grad.numpy()] + [p.grad.numpy() for p in mha.parameters()])
    return results


@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_self_attention_equals_the_general_route(batch_first):
    """Dropout (the same draws), a key padding mask, no bias, unbatched input, and a query that
    may attend to nothing (NaN, as PyTorch)."""
    mha = nn.MultiheadAttention(8, 2, dropout=0.3, batch_first=batch_first).double()
    x = RNG.standard_normal((3, 4, 8))          # 3 sequences of 4
    if not batch_first:
        x = x.transpose(1, 0, 2).copy()
    padding = np.zeros((3, 4), dtype=bool)
    padding[1, 2:] = True
    for kwargs in [dict(), dict(key_padding_mask=ad.tensor(padding)),
                   dict(attn_mask=generate_square_subsequent_mask(4, dtype=ad.float64))]:
        packed, general = _self_attention_both_ways(mha, x, 5, **kwargs)
        for a, b in zip(packed, general):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    no_bias = nn.MultiheadAttention(6, 3, bias=False).double().eval()
    for a, b in zip(*_self_attention_both_ways(no_bias, RNG.standard_normal((5, 6)), 0)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    blocked = np.zeros((4, 4))
    blocked[2] = -np.inf                       # query 2 may attend to nothing
    packed, general = _self_attention_both_ways(mha.eval(), x, 0, attn_mask=ad.tensor(blocked))
    assert np.isnan(packed[0][(slice(None), 2) if batch_first else 2]).all()
    for a, b in zip(packed, general):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_packed_self_attention_gradients_match_finite_differences():
    qkv = ad.tensor(RNG.standard_normal((2, 3, 12)), requires_grad=True)
    mask = ad.tensor(RNG.standard_normal((3, 3)), requires_grad=True)
    from autodiff.nn.functional_seq import packed_self_attention
    attention = lambda qkv, mask: packed_self_attention(qkv, 2, mask, 0.0)   # noqa: E731
    assert_gradients_match(attention, qkv, mask)
    assert_gradgrad_match(attention, qkv, mask)


def test_multihead_attention_kdim_vdim_unbatched_and_no_bias(torch):
    ours = nn.MultiheadAttention(6, 3, kdim=4, vdim=5, bias=False).double()
    theirs = torch.nn.MultiheadAttention(6, 3, kdim=4, vdim=5, bias=False).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_to_torch(torch, ours, theirs)
    compare(torch, ours, theirs, [RNG.standard_normal((2, 6)), RNG.standard_normal((5, 4)),
                                  RNG.standard_normal((5, 5))], (ours, theirs))


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(4, 2)
    x = ad.zeros(3, 2, 4)
    with pytest.raises(ValueError, match="was expecting embedding dimension of 4, but got 5"):
        mha(ad.zeros(3, 2, 5), x, x)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(2, 3\), but should be \(3, 3\)"):
        mha(x, x, x, attn_mask=ad.zeros(2, 3))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match=r"expected key_padding_mask of shape \(2, 3\)"):
        mha(x, x, x, key_padding_mask=ad.zeros(3, 2, dtype=ad.bool))


# ---------------------------------------------------------------------- Transformer layers
@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder_matches_pytorch(torch, norm_first, activation):
    kwargs = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kwargs), 2).double()
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kwargs), 2,
                                         enable_nested_tensor=False).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    copy_to_torch(torch, ours, theirs)
    mask = generate_square_subsequent_mask(5, dtype=ad.float64)
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    padding = np.zeros((2, 5), dtype=bool)
    padding[0, 3:] = True
    compare(torch, lambda x: ours(x, mask=mask, src_key_padding_mask=ad.tensor(padding)),
            lambda x: theirs(x, mask=t_mask, src_key_padding_mask=torch.tensor(padding)),
            [RNG.standard_normal((2, 5, 8))], (ours, theirs), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_matches_pytorch(torch, norm_first):
    kwargs = dict(dim_feedforward=12, dropout=0.0, norm_first=norm_first)
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(6, 3, **kwargs), 2).double()
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(6, 3, **kwargs), 2).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_to_torch(torch, ours, theirs)
    mask = generate_square_subsequent_mask(4, dtype=ad.float64)
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    compare(torch, lambda t, m: ours(t, m, tgt_mask=mask), lambda t, m: theirs(t, m, tgt_mask=t_mask),
            [RNG.standard_normal((4, 2, 6)), RNG.standard_normal((3, 2, 6))], (ours, theirs), rtol=1e-8, atol=1e-10)


def test_encoder_layer_gradients_match_finite_differences():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0).double()
    x = ad.tensor(RNG.standard_normal((3, 1, 4)), requires_grad=True)
    assert_gradients_match(lambda x: layer(x), x)


def test_encoder_layer_dropout_only_in_training():
    ad.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.5)
    x = ad.randn(3, 2, 4)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.train()
    assert not np.array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


def test_layer_norm_matches_pytorch_and_finite_differences(torch):
    ours, theirs = nn.LayerNorm((3, 4)).double(), torch.nn.LayerNorm((3, 4)).double()
    with ad.no_grad():
        ours.weight.copy_(ad.tensor(RNG.standard_normal((3, 4))))
        ours.bias.copy_(ad.tensor(RNG.standard_normal((3, 4))))
    copy_to_torch(torch, ours, theirs)
    assert repr(ours) == repr(theirs)
    compare(torch, ours, theirs, [RNG.standard_normal((2, 3, 4))], (ours, theirs))
    x = ad.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    assert_gradients_match(lambda x, w, b: _layer_norm_op(x, w, b), x, ours.weight.detach().requires_grad_(),
                           ours.bias.detach().requires_grad_())
    assert_gradgrad_match(lambda x, w: _layer_norm_op(x, w, None), x, ours.weight.detach().requires_grad_())
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 3, 4\]"):
        ours(ad.zeros(2, 4, 3, dtype=ad.float64))


def _layer_norm_op(x, w, b):
    from autodiff.ops.nn import LayerNorm
    return LayerNorm.apply(x, w, b, 2, 1e-5)
