"""Embedding and EmbeddingBag: values and gradients against PyTorch (weights copied in),
against central differences, state_dict keys, reprs and errors."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import backends, nn
import autodiff.nn.functional as F
from autodiff.testing import assert_gradgrad_match, assert_gradients_match

RNG = np.random.default_rng(3)


@pytest.mark.parametrize("mode", ["numpy", "numba"])     # backward: sorted sums, or kernels.cpu.embedding_backward
def test_embedding_matches_pytorch(torch, mode):
    with backends.use(mode):
        _check_embedding_against(torch)


def _check_embedding_against(torch):
    for kwargs in [dict(), dict(padding_idx=2), dict(padding_idx=-1, scale_grad_by_freq=True)]:
        ours = nn.Embedding(6, 3, **kwargs).double()
        theirs = torch.nn.Embedding(6, 3, **kwargs).double()
        assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
        if "padding_idx" in kwargs:
            assert not ours.weight.detach().numpy()[kwargs["padding_idx"]].any()
        theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
        idx = np.array([[0, 2, 5, 2], [1, 1, 3, 5]])
        out, t_out = ours(ad.tensor(idx)), theirs(torch.tensor(idx))
        np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
        g = RNG.standard_normal(tuple(t_out.shape))
        out.backward(ad.tensor(g)), t_out.backward(torch.tensor(g))
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)


def test_embedding_max_norm_renormalises_used_rows_like_pytorch(torch):
    w = RNG.standard_normal((5, 4)) * 3
    ours, theirs = ad.tensor(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)
    idx = np.array([0, 3, 3])
    out = F.embedding(ad.tensor(idx), ours, max_norm=1.0)
    t_out = torch.nn.functional.embedding(torch.tensor(idx), theirs, max_norm=1.0)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_from_pretrained_freezes_by_default():
    table = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and emb(ad.tensor([1])).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


@pytest.mark.parametrize("mode", ["numpy", "numba"])
def test_embedding_gradients_match_finite_differences(mode):
    idx = ad.tensor(np.array([[0, 2], [2, 1]]))
    w = ad.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    with backends.use(mode):
        assert_gradients_match(lambda w: F.embedding(idx, w), w)   # (padding_idx and scale_grad_by_freq
        # change the gradient on purpose: checked against PyTorch above)
        assert_gradgrad_match(lambda w: F.embedding(idx, w) ** 2, w)


def test_embedding_backward_kernel_adds_as_np_add_at():
    from kernels import cpu
    values = RNG.standard_normal((50, 7)).astype(np.float32)
    index = RNG.integers(0, 6, 50)
    expected = np.zeros((6, 7), np.float32)
    np.add.at(expected, index, values)
    np.testing.assert_array_equal(cpu.embedding_backward(values, index, 6), expected)   # (the same order)
    values[3, 2] = np.nan
    assert np.isnan(cpu.embedding_backward(values, index, 6)[index[3], 2])
    assert cpu.embedding_backward(np.ones((0, 2)), np.zeros(0, np.int64), 3).tolist() == [[0.0, 0.0]] * 3
    with pytest.raises(IndexError, match="embedding_backward: index out of range for 6 rows"):
        cpu.embedding_backward(values, index + 1, 6)
    with pytest.raises(ValueError, match=r"embedding_backward: expected values \(N, F\) and integer index"):
        cpu.embedding_backward(values, index[:3], 6)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_pytorch(torch, mode):
    ours = nn.EmbeddingBag(7, 3, mode=mode, padding_idx=6).double()
    theirs = torch.nn.EmbeddingBag(7, 3, mode=mode, padding_idx=6).double()
    assert repr(ours) == repr(theirs)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    cases = [(np.array([1, 2, 4, 5, 6, 3, 0]), np.array([0, 2, 2, 5])),     # an empty bag, a padded index
             (np.array([[1, 2, 6], [0, 0, 5]]), None)]
    for idx, offsets in cases:
        args = [ad.tensor(idx)] + ([ad.tensor(offsets)] if offsets is not None else [])
        t_args = [torch.tensor(idx)] + ([torch.tensor(offsets)] if offsets is not None else [])
        out, t_out = ours(*args), theirs(*t_args)
        np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12)
        g = RNG.standard_normal(tuple(t_out.shape))
        ours.zero_grad(), theirs.zero_grad()
        out.backward(ad.tensor(g)), t_out.backward(torch.tensor(g))
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)


def test_embedding_bag_per_sample_weights_match_pytorch(torch):
    w = RNG.standard_normal((5, 2))
    idx, offsets, psw = np.array([0, 4, 4, 2]), np.array([0, 1]), RNG.standard_normal(4)
    out = F.embedding_bag(ad.tensor(idx), ad.tensor(w), ad.tensor(offsets), mode="sum",
                          per_sample_weights=ad.tensor(psw))
    t_out = torch.nn.functional.embedding_bag(torch.tensor(idx), torch.tensor(w), torch.tensor(offsets),
                                              mode="sum", per_sample_weights=torch.tensor(psw))
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-12)
    weights = ad.tensor(w, requires_grad=True)
    assert_gradients_match(lambda w, p: F.embedding_bag(ad.tensor(idx), w, ad.tensor(offsets), mode="sum",
                                                        per_sample_weights=p), weights,
                           ad.tensor(psw, requires_grad=True))


def test_embedding_errors_name_the_problem():
    emb = nn.Embedding(4, 2)
    with pytest.raises(TypeError, match="embedding: expected indices as an integer tensor"):
        emb(ad.tensor([0.0, 1.0]))
    with pytest.raises(IndexError, match="index 4 is out of range for a weight of 4 rows"):
        emb(ad.tensor([0, 4]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        nn.EmbeddingBag(4, 2)(ad.tensor([0, 1]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        nn.EmbeddingBag(4, 2)(ad.tensor([[0, 1]]), per_sample_weights=ad.ones(1, 2))
    before = emb.weight.detach().numpy().copy()
    with pytest.raises(IndexError):
        F.embedding(ad.tensor([9]), emb.weight, max_norm=0.1)
    np.testing.assert_array_equal(emb.weight.detach().numpy(), before)   # untouched
