"""Layers: Linear, activations, Dropout, BatchNorm1d, Flatten, Identity (values and gradients)."""
import math

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
import autodiff.nn.functional as F
from autodiff.ops import nn as nn_ops

RNG = np.random.default_rng(1234)


def leaf(array):
    return ad.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def values_and_grads(torch, ours, theirs, x, upstream=None):
    """Run both on float64 copies of ``x``; return (ours, theirs) outputs and input gradients."""
    a = leaf(x)
    t = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out_a, out_t = ours(a), theirs(t)
    g = RNG.standard_normal(tuple(out_t.shape)) if upstream is None else upstream
    out_a.backward(ad.tensor(g))
    out_t.backward(torch.tensor(g))
    return (out_a.detach().numpy(), out_t.detach().numpy()), (a.grad.numpy(), t.grad.numpy())


def assert_close(pair, rtol=1e-9, atol=1e-12):
    np.testing.assert_allclose(pair[0], pair[1], rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- Linear
def test_linear_matches_pytorch(torch):
    layer = nn.Linear(5, 3).double()
    tlayer = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(layer.weight.detach().numpy()))
        tlayer.bias.copy_(torch.tensor(layer.bias.detach().numpy()))
    x = RNG.standard_normal((4, 5))
    values, grads = values_and_grads(torch, layer, tlayer, x)
    assert_close(values), assert_close(grads)
    assert_close((layer.weight.grad.numpy(), tlayer.weight.grad.numpy()))
    assert_close((layer.bias.grad.numpy(), tlayer.bias.grad.numpy()))
    # 3-D input: the layer acts on the last dimension
    x3 = RNG.standard_normal((2, 4, 5))
    assert_close(values_and_grads(torch, layer, tlayer, x3)[0])


def test_linear_by_hand():
    layer = nn.Linear(2, 1)
    with ad.no_grad():
        layer.weight.copy_(ad.tensor([[2.0, -1.0]]))
        layer.bias.fill_(0.5)
    out = layer(ad.tensor([[1.0, 3.0], [0.0, 1.0]]))
    assert out.tolist() == [[-0.5], [-0.5]]
    out.sum().backward()
    assert layer.weight.grad.tolist() == [[1.0, 4.0]] and layer.bias.grad.tolist() == [2.0]


def test_linear_default_init_bounds_and_seed():
    ad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.shape == (300, 400) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound          # uniform(-b, b): std b/sqrt(3)
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(b).max() <= bound
    ad.manual_seed(0)
    again = nn.Linear(400, 300)
    assert np.array_equal(again.weight.detach().numpy(), w)


def test_linear_without_bias_and_shape_error():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    assert layer(ad.randn(4, 3)).shape == (4, 2)
    with pytest.raises(ValueError, match=r"linear: .*\(4, 5\).*weight \(2, 3\)"):
        layer(ad.randn(4, 5))
    assert nn.Linear(3, 2, dtype=ad.float64).weight.dtype == ad.float64


def test_identity_and_flatten():
    x = ad.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 20)


# ---------------------------------------------------------------------- activations
ACTIVATIONS = [
    ("ReLU", lambda m: m.ReLU()),
    ("LeakyReLU", lambda m: m.LeakyReLU(0.1)),
    ("Sigmoid", lambda m: m.Sigmoid()),
    ("Tanh", lambda m: m.Tanh()),
    ("Hardtanh", lambda m: m.Hardtanh(-0.5, 1.5)),
    ("Softplus", lambda m: m.Softplus()),
    ("Softplus-beta", lambda m: m.Softplus(beta=2.0, threshold=5.0)),
    ("GELU", lambda m: m.GELU()),
    ("GELU-tanh", lambda m: m.GELU(approximate="tanh")),
    ("Softmax", lambda m: m.Softmax(dim=1)),
    ("Softmax-0", lambda m: m.Softmax(dim=0)),
    ("LogSoftmax", lambda m: m.LogSoftmax(dim=1)),
    ("LogSoftmax-last", lambda m: m.LogSoftmax(dim=-1)),
]


@pytest.mark.parametrize("name,make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_matches_pytorch(torch, name, make):
    x = RNG.standard_normal((4, 6)) * 3
    x[0, :3] = [0.25, -0.75, 1.25]                 # inside Hardtanh's bounds, away from kinks
    values, grads = values_and_grads(torch, make(nn), make(torch.nn), x)
    assert_close(values), assert_close(grads)


@pytest.mark.parametrize("name,make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_extreme_inputs_stay_finite(torch, name, make):
    x = np.array([[-1000.0, -30.0, 0.5, 30.0, 1000.0]])
    values, grads = values_and_grads(torch, make(nn), make(torch.nn), x)
    assert np.isfinite(values[0]).all() and np.isfinite(grads[0]).all()
    assert_close(values), assert_close(grads)


@pytest.mark.parametrize("name,make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_gradcheck(name, make):
    x = leaf(RNG.standard_normal((3, 4)) + 0.05)   # away from ReLU's kink at 0
    assert ad.gradcheck(make(nn), (x,))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_second_derivative(approximate):
    x = leaf(RNG.standard_normal((2, 3)) * 2)
    assert ad.gradgradcheck(lambda t: F.gelu(t, approximate=approximate), (x,))


def test_activations_by_hand():
    x = ad.tensor([-2.0, 0.0, 3.0])
    assert nn.ReLU()(x).tolist() == [0.0, 0.0, 3.0]
    assert nn.LeakyReLU(0.5)(x).tolist() == [-1.0, 0.0, 3.0]
    assert nn.Hardtanh()(x).tolist() == [-1.0, 0.0, 1.0]
    assert nn.Sigmoid()(ad.tensor([0.0])).tolist() == [0.5]
    np.testing.assert_allclose(nn.GELU()(ad.tensor([1.0], dtype=ad.float64)).tolist(),
                               [0.5 * (1 + math.erf(1 / math.sqrt(2)))], rtol=1e-15)
    np.testing.assert_allclose(nn.Softmax(dim=0)(ad.tensor([0.0, math.log(3.0)])).tolist(),
                               [0.25, 0.75], rtol=1e-6)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU(approximate="fast")


def test_erf_fallback_is_exact():
    x = np.linspace(-6, 6, 1001)
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(nn_ops.erf_python(x), expected, rtol=0, atol=0)
    np.testing.assert_allclose(nn_ops.erf(x), expected, rtol=1e-15, atol=1e-16)
    assert nn_ops.erf_python(x.astype(np.float32)).dtype == np.float32


def test_softmax_without_dim_warns_and_uses_pytorch_choice():
    x = ad.randn(3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out = nn.Softmax()(x)
    np.testing.assert_allclose(out.sum(1).numpy(), np.ones(3), rtol=1e-6)


def test_inplace_relu_changes_its_input():
    x = leaf([-1.0, 2.0])
    h = x * 1.0
    out = F.relu(h, inplace=True)
    assert out is h and h.tolist() == [0.0, 2.0]
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]
    y = ad.tensor([-1.0, 2.0])
    nn.LeakyReLU(0.5, inplace=True)(y)
    assert y.tolist() == [-0.5, 2.0]


# ---------------------------------------------------------------------- Dropout
def test_dropout_statistics_in_training():
    ad.manual_seed(3)
    drop = nn.Dropout(p=0.3)
    x = leaf(np.ones((200, 500)))
    out = drop(x)
    data = out.detach().numpy()
    kept = data != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01                      # about p of the elements dropped
    np.testing.assert_allclose(data[kept], 1 / 0.7, rtol=1e-12)    # survivors scaled by 1/(1-p)
    assert abs(data.mean() - 1.0) < 0.02                           # the expectation is unchanged
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), data)            # gradient: the same scaled mask


def test_dropout_eval_edges_and_seed():
    x = ad.randn(50, 20)
    drop = nn.Dropout(0.5).eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).numpy().any()
    ad.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    ad.manual_seed(7)
    b = F.dropout(x, 0.5).numpy()
    assert np.array_equal(a, b)
    assert np.array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


# ---------------------------------------------------------------------- BatchNorm1d
def _copy_bn(torch, ours, theirs):
    with torch.no_grad():
        if ours.weight is not None:
            ours.weight._data[:] = RNG.uniform(0.5, 1.5, ours.num_features)
            theirs.weight.copy_(torch.tensor(ours.weight._data))
        if ours.bias is not None:
            ours.bias._data[:] = RNG.standard_normal(ours.num_features)
            theirs.bias.copy_(torch.tensor(ours.bias._data))


@pytest.mark.parametrize("shape", [(8, 3), (5, 3, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("options", [
    {},
    {"momentum": None},
    {"momentum": 0.3, "eps": 1e-3},
    {"affine": False},
    {"bias": False},
    {"track_running_stats": False},
], ids=["default", "cumulative", "momentum-eps", "no-affine", "no-bias", "no-running-stats"])
def test_batchnorm_matches_pytorch(torch, shape, options):
    bn = nn.BatchNorm1d(3, **options).double()
    tbn = torch.nn.BatchNorm1d(3, **options).double()
    _copy_bn(torch, bn, tbn)
    for step in range(3):                                    # training: batch statistics
        x = RNG.standard_normal(shape) * 2 + 1
        values, grads = values_and_grads(torch, bn, tbn, x)
        assert_close(values), assert_close(grads)
        for name, value in tbn.state_dict().items():
            np.testing.assert_allclose(bn.state_dict()[name].numpy(), value.numpy(), rtol=1e-12,
                                       err_msg=name)
    if bn.weight is not None:
        assert_close((bn.weight.grad.numpy(), tbn.weight.grad.numpy()))
    if bn.bias is not None:
        assert_close((bn.bias.grad.numpy(), tbn.bias.grad.numpy()))
    bn.eval(), tbn.eval()                                    # evaluation: running statistics
    x = RNG.standard_normal(shape)
    values, grads = values_and_grads(torch, bn, tbn, x)
    assert_close(values), assert_close(grads)


def test_batchnorm_by_hand():
    bn = nn.BatchNorm1d(1, momentum=0.5)
    out = bn(ad.tensor([[1.0], [3.0]]))
    np.testing.assert_allclose(out.detach().numpy().ravel(), [-1, 1], rtol=1e-4)    # (x - 2) / sqrt(1 + eps)
    assert bn.running_mean.tolist() == [1.0]                              # 0.5 * 0 + 0.5 * 2
    assert bn.running_var.tolist() == [1.5]                               # 0.5 * 1 + 0.5 * 2 (unbiased)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    np.testing.assert_allclose(bn(ad.tensor([[1.0]])).detach().numpy(), [[0.0]], atol=1e-6)


def test_batchnorm_gradcheck():
    bn = nn.BatchNorm1d(2).double()
    x = leaf(RNG.standard_normal((4, 2)))
    assert ad.gradcheck(lambda t: bn(t), (x,))
    w = leaf(RNG.uniform(0.5, 1.5, 2))
    b = leaf(RNG.standard_normal(2))
    assert ad.gradcheck(lambda t, w, b: F.batch_norm(t, None, None, w, b, training=True), (x, w, b))


def test_batchnorm_errors_and_state():
    bn = nn.BatchNorm1d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        bn(ad.randn(1, 4))
    with pytest.raises(ValueError, match=r"expected 2D \(N, C\) or 3D \(N, C, L\) input, got 4D"):
        bn(ad.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="expected 4 features"):
        bn(ad.randn(2, 5))
    bn.eval()
    assert bn(ad.randn(1, 4)).shape == (1, 4)              # one sample is fine in eval mode
    assert list(nn.BatchNorm1d(4, track_running_stats=False).state_dict()) == ["weight", "bias"]
    bn.train()
    bn(ad.randn(6, 4))
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0 and bn.running_var.tolist() == [1.0] * 4
