"""Convolution, pooling, resizing and normalisation layers: PyTorch parity with copied weights
(values and gradients), state_dict keys and loading, reprs, initialisation and errors.

Op-level gradients (finite differences, second derivatives, PyTorch) are in the op table
(``autodiff/ops/table/conv.py``, run by tests/test_op_table.py).
"""
import math

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F


def _numpy_state(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _compare(torch, ours, theirs, x, atol=1e-10, train=True):
    """Same output and same input/parameter gradients, in float64, for one random upstream."""
    ours.double() if hasattr(ours, "double") else None
    theirs = theirs.double()
    ours.load_state_dict(_numpy_state(theirs))
    ours.train(train)
    theirs.train(train)
    xa = autodiff.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=1e-7)
    upstream = np.random.default_rng(5).standard_normal(tuple(yt.shape))
    ya.backward(autodiff.tensor(upstream))
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), atol=atol, rtol=1e-7)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=atol, rtol=1e-7, err_msg=name)
    return ya, yt


CONV_CASES = [
    ("Conv2d", (3, 4, 3), dict(), (2, 3, 7, 6)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=(1, 2), dilation=(2, 1), groups=2), (2, 4, 8, 7)),
    ("Conv2d", (3, 3, 3), dict(padding="same", groups=3, bias=False), (1, 3, 5, 5)),
    ("Conv2d", (2, 4, 4), dict(padding="same", dilation=(1, 2)), (1, 2, 6, 7)),
    ("Conv2d", (2, 3, 3), dict(padding=1, padding_mode="reflect"), (2, 2, 5, 5)),
    ("Conv2d", (2, 3, 3), dict(padding=(2, 1), padding_mode="replicate", stride=2), (1, 2, 5, 6)),
    ("Conv2d", (2, 3, 3), dict(padding="same", padding_mode="circular"), (1, 2, 4, 5)),
    ("Conv2d", (2, 3, 3), dict(padding=1), (2, 5, 5)),                      # unbatched
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 9)),
    ("Conv1d", (4, 4, 2), dict(groups=4, dilation=3, padding="same", padding_mode="reflect"), (2, 4, 8)),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 3, 4)),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(groups=2, dilation=2, bias=False), (1, 4, 3, 3)),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=3, padding=1), (2, 3, 5)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", CONV_CASES, ids=[f"{c[0]}-{k}" for k, c in enumerate(CONV_CASES)])
def test_conv_layers_match_pytorch_with_copied_weights(torch, name, args, kwargs, shape):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape)
    x = np.random.default_rng(0).standard_normal(shape)
    _compare(torch, ours, theirs, x)


def test_conv_transpose_output_size_argument(torch):
    ours, theirs = nn.ConvTranspose2d(2, 3, 3, stride=2), torch.nn.ConvTranspose2d(2, 3, 3, stride=2).double()
    ours.double().load_state_dict(_numpy_state(theirs))
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4))
    ya = ours(autodiff.tensor(x), output_size=[10, 10])
    yt = theirs(torch.tensor(x), output_size=[10, 10])
    assert tuple(ya.shape) == (1, 3, 10, 10)
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="ConvTranspose2d: requested an output size"):
        ours(autodiff.tensor(x), output_size=[12, 12])


def test_conv_initialisation_follows_pytorch_bounds():
    autodiff.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3)
    fan_in = 16 * 9
    bound = 1 / math.sqrt(fan_in)            # kaiming_uniform_(a=sqrt(5)) on the weight; the same for bias
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound          # uniform(-a, a) has std a/sqrt(3)
    assert conv.weight.dtype == autodiff.float32 and conv.weight.requires_grad
    transposed = nn.ConvTranspose2d(8, 4, 3)                           # fan_in from weight.shape[1]: 4 * 9
    assert np.abs(transposed.bias.detach().numpy()).max() <= 1 / math.sqrt(4 * 9)


def test_lenet_loads_a_pytorch_state_dict_and_trains_alike(torch):
    def lenet(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(1, 6, 5, padding=2), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
                                 lib.nn.Conv2d(6, 16, 5), lib.nn.ReLU(), lib.nn.MaxPool2d(2), lib.nn.Flatten(),
                                 lib.nn.Linear(400, 120), lib.nn.ReLU(), lib.nn.Linear(120, 84), lib.nn.ReLU(),
                                 lib.nn.Linear(84, 10))
    torch.manual_seed(0)
    theirs = lenet(torch)
    ours = lenet(autodiff)
    ours.load_state_dict(_numpy_state(theirs))
    rng = np.random.default_rng(0)
    x = rng.random((8, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    opt_a = autodiff.optim.Adam(ours.parameters(), lr=1e-3)
    opt_t = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    for _ in range(3):
        for model, opt, lib in ((ours, opt_a, autodiff), (theirs, opt_t, torch)):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=2e-5, err_msg=name)


# ---------------------------------------------------------------------- pooling and resizing layers
POOL_CASES = [
    ("MaxPool2d", (2,), dict(), (2, 3, 6, 6)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (1, 2, 7, 8)),
    ("MaxPool1d", (3,), dict(stride=1, padding=1, dilation=1), (2, 3, 7)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False, ceil_mode=True), (1, 2, 7, 8)),
    ("AvgPool1d", (2,), dict(), (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((1, 1),), dict(), (2, 3, 5, 7)),
    ("AdaptiveAvgPool1d", (4,), dict(), (2, 3, 7)),
    ("AdaptiveMaxPool2d", (2,), dict(), (2, 3, 5, 7)),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear", align_corners=False), (1, 2, 3, 4)),
    ("Upsample", (), dict(size=(5, 3), mode="nearest"), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2), (1, 2, 3, 3)),
    ("PixelShuffle", (2,), dict(), (2, 8, 3, 3)),
    ("PixelUnshuffle", (2,), dict(), (2, 2, 4, 6)),
    ("Flatten", (), dict(), (2, 3, 4, 5)),
    ("Unfold", (2,), dict(padding=1, stride=2), (2, 3, 5, 4)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pooling_layers_match_pytorch(torch, name, args, kwargs, shape):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(3).permutation(int(np.prod(shape))).reshape(shape) * 0.1
    _compare(torch, ours, theirs, x)


def test_max_unpool_inverts_max_pool_at_the_maxima(torch):
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 4))
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    out, indices = pool(autodiff.tensor(x))
    assert indices.dtype == autodiff.int64
    restored = unpool(out, indices)
    t_out, t_indices = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    np.testing.assert_array_equal(restored.numpy(), torch.nn.MaxUnpool2d(2)(t_out, t_indices).numpy())
    assert np.count_nonzero(restored.numpy()) == out.numel()


# ---------------------------------------------------------------------- normalisation layers
NORM_CASES = [
    ("BatchNorm2d", (3,), dict(), (4, 3, 2, 5)),
    ("BatchNorm2d", (3,), dict(affine=False, momentum=None), (4, 3, 2, 2)),
    ("LayerNorm", ((4, 5),), dict(), (2, 3, 4, 5)),
    ("LayerNorm", (5,), dict(elementwise_affine=False), (3, 5)),
    ("LayerNorm", (5,), dict(bias=False), (3, 5)),
    ("GroupNorm", (2, 6), dict(), (2, 6, 3, 2)),
    ("GroupNorm", (3, 3), dict(affine=False), (2, 3, 4)),
    ("InstanceNorm2d", (3,), dict(), (2, 3, 4, 4)),
    ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True), (2, 3, 4, 4)),
    ("InstanceNorm1d", (3,), dict(affine=True), (2, 3, 6)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", NORM_CASES, ids=[c[0] for c in NORM_CASES])
def test_normalisation_layers_match_pytorch(torch, name, args, kwargs, shape):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(6)
    with torch.no_grad():                     # non-trivial affine parameters
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape))))
    for step in range(2):
        _compare(torch, ours, theirs, rng.standard_normal(shape), atol=1e-9)
    for key, value in theirs.state_dict().items():   # running statistics moved alike
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), atol=1e-12, err_msg=key)
    if getattr(theirs, "track_running_stats", False):
        _compare(torch, ours, theirs, rng.standard_normal(shape), atol=1e-9, train=False)


def test_batchnorm2d_eval_uses_running_statistics():
    bn = nn.BatchNorm2d(2).double()
    x = autodiff.tensor(np.random.default_rng(0).standard_normal((5, 2, 3, 3)) * 3 + 1)
    bn(x)
    bn.eval()
    y = bn(x).detach().numpy()
    mean, var = bn.running_mean.numpy(), bn.running_var.numpy()
    expected = (x.numpy() - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
    np.testing.assert_allclose(y, expected, atol=1e-12)


def test_channel_dropout_zeros_whole_channels():
    autodiff.manual_seed(0)
    x = autodiff.ones(8, 16, 3, 3)
    y = nn.Dropout2d(0.5)(x).detach().numpy()
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()    # a channel is all kept or all dropped
    assert 0.25 < (per_channel[:, :, 0] == 0).mean() < 0.75
    y1 = nn.Dropout1d(0.3)(autodiff.ones(4, 10, 5)).numpy()
    assert (y1.min(axis=2) == y1.max(axis=2)).all()
    drop = nn.Dropout2d(0.5).eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="dropout2d: expected 3D \\(unbatched\\) or 4D"):
        nn.Dropout2d()(autodiff.ones(2, 3))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


def test_channel_dropout_gradient_uses_the_same_mask():
    autodiff.manual_seed(1)
    x = autodiff.ones(4, 6, 2, 2, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_flatten_on_image_batches():
    x = autodiff.randn(2, 3, 4, 5)
    assert tuple(nn.Flatten()(x).shape) == (2, 60)
    assert tuple(nn.Flatten(0, 1)(x).shape) == (6, 4, 5)


# ---------------------------------------------------------------------- errors
def test_conv_errors_name_the_op_and_the_shapes():
    conv = nn.Conv2d(3, 6, 5)
    with pytest.raises(ValueError, match=r"conv2d: expected 3D \(unbatched\) or 4D \(batched\) input, "
                                         r"but got input of size: \[2, 3\]"):
        conv(autodiff.ones(2, 3))
    with pytest.raises(ValueError, match=r"conv2d: given groups=1, weight of size \[6, 3, 5, 5\], expected "
                                         r"input\[1, 1, 28, 28\] to have 3 channels, but got 1 channels"):
        conv(autodiff.ones(1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"conv2d: calculated padded input size per channel: \(4 x 4\)\. "
                                         r"Kernel size: \(5 x 5\)"):
        conv(autodiff.ones(1, 3, 4, 4))
    with pytest.raises(TypeError, match=r"conv2d: input type \(float64\) and weight type \(float32\)"):
        conv(autodiff.ones(1, 3, 8, 8, dtype=autodiff.float64))
    with pytest.raises(TypeError, match="conv2d: expected a floating point input"):
        conv(autodiff.ones(1, 3, 8, 8, dtype=autodiff.int64))
    with pytest.raises(ValueError, match=r"conv1d: expected 2D \(unbatched\) or 3D"):
        nn.Conv1d(2, 2, 3)(autodiff.ones(1, 2, 3, 4))


def test_conv_layer_rejects_bad_hyper_parameters():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: out_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv2d: invalid padding string 'full'"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="Conv2d: padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="conv2d: stride must be positive"):
        nn.Conv2d(1, 1, 3, stride=0)(autodiff.ones(1, 1, 5, 5))
    with pytest.raises(ValueError, match="conv2d: padding must be non-negative"):
        F.conv2d(autodiff.ones(1, 1, 5, 5), autodiff.ones(1, 1, 3, 3), padding=-1)
    with pytest.raises(ValueError, match="conv2d: expected bias of shape \\(2,\\)"):
        F.conv2d(autodiff.ones(1, 1, 5, 5), autodiff.ones(2, 1, 3, 3), autodiff.ones(3))
    with pytest.raises(ValueError, match="conv_transpose2d: output padding must be smaller"):
        F.conv_transpose2d(autodiff.ones(1, 1, 3, 3), autodiff.ones(1, 1, 3, 3), output_padding=1)


def test_pooling_and_norm_errors():
    with pytest.raises(ValueError, match="max_pool2d: pad should be at most half of effective kernel size"):
        F.max_pool2d(autodiff.ones(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match=r"max_pool2d: expected 3D \(unbatched\) or 4D"):
        nn.MaxPool2d(2)(autodiff.ones(4, 4))
    with pytest.raises(ValueError, match="max_pool2d: given input size"):
        F.max_pool2d(autodiff.ones(1, 1, 1, 1), 3)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(N, C, H, W\), got 3D"):
        nn.BatchNorm2d(3)(autodiff.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 3 channels \(dim 1\), got input of shape "
                                         r"\(2, 4, 3, 3\)"):
        nn.BatchNorm2d(3)(autodiff.ones(2, 4, 3, 3))
    with pytest.raises(RuntimeError, match=r"layer_norm: given normalized_shape=\[5\], expected input with "
                                         r"shape \[\*, 5\], but got input of size \[2, 4\]"):
        nn.LayerNorm(5)(autodiff.ones(2, 4))
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(5\) must be divisible by num_groups"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"group_norm: expected the number of channels \(6\) to be divisible"):
        F.group_norm(autodiff.ones(2, 6, 3), 4)
    with pytest.raises(ValueError, match="pad: padding size should be less than the corresponding input"):
        F.pad(autodiff.ones(1, 2, 3), (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="pad: unrecognised padding mode 'mirror'"):
        F.pad(autodiff.ones(1, 2, 3), (1, 0), mode="mirror")
    with pytest.raises(ValueError, match="interpolate: only one of size or scale_factor"):
        F.interpolate(autodiff.ones(1, 1, 2, 2))
    with pytest.raises(ValueError, match="interpolate: got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(autodiff.ones(1, 1, 2), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="pixel_shuffle: expected the channels \\(3\\) to be divisible"):
        F.pixel_shuffle(autodiff.ones(1, 3, 2, 2), 2)


def test_bad_input_leaves_parameters_and_grads_untouched():
    conv = nn.Conv2d(3, 2, 3)
    before = {k: v.numpy().copy() for k, v in conv.state_dict().items()}
    conv(autodiff.ones(1, 3, 5, 5)).sum().backward()
    grads = [p.grad.numpy().copy() for p in conv.parameters()]
    with pytest.raises(ValueError):
        conv(autodiff.ones(1, 2, 5, 5))
    for k, v in conv.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    for p, g in zip(conv.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_conv_gradients_do_not_depend_on_the_backend():
    from autodiff import backends
    x = autodiff.randn(2, 3, 8, 8, requires_grad=True)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    results = []
    for mode in ("numpy", "numba"):
        with backends.use(mode):
            x.grad = None
            conv.zero_grad()
            out = F.max_pool2d(F.relu(conv(x)), 2)
            out.sum().backward()
            results.append((out.detach().numpy(), x.grad.numpy(), conv.weight.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- random geometries
def test_conv2d_random_geometries_match_pytorch(torch):
    """Values and gradients of conv2d and conv_transpose2d over random stride, padding, dilation,
    groups and sizes (including kernels as large as the padded input), against PyTorch."""
    from hypothesis import assume, given, settings, strategies as st

    @settings(max_examples=30, deadline=None)
    @given(st.data())
    def check(data):
        groups = data.draw(st.integers(1, 3))
        c_in, c_out = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
        kernel = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
        stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
        padding = (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
        dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
        low = [max(1, d * (k - 1) + 1 - 2 * p) for k, p, d in zip(kernel, padding, dilation)]
        size = (data.draw(st.integers(low[0], low[0] + 4)), data.draw(st.integers(low[1], low[1] + 4)))
        rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
        x = rng.standard_normal((2, c_in) + size)
        w = rng.standard_normal((c_out, c_in // groups) + kernel)
        b = rng.standard_normal(c_out)
        ours = [autodiff.tensor(a, requires_grad=True) for a in (x, w, b)]
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        ya, yt = F.conv2d(*ours, **kwargs), torch.nn.functional.conv2d(*theirs, **kwargs)
        np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), atol=1e-10)
        up = rng.standard_normal(tuple(yt.shape))
        ya.backward(autodiff.tensor(up))
        yt.backward(torch.tensor(up))
        for a, t in zip(ours, theirs):
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-10)
        # the transposed convolution of the output, with the same geometry
        output_padding = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        wt = rng.standard_normal((c_out, c_in // groups) + kernel)
        assume(all((n - 1) * s - 2 * p + d * (k - 1) + o + 1 > 0 for n, s, p, d, k, o in
                   zip(up.shape[2:], stride, padding, dilation, kernel, output_padding)))
        za = F.conv_transpose2d(autodiff.tensor(up), autodiff.tensor(wt), output_padding=output_padding, **kwargs)
        zt = torch.nn.functional.conv_transpose2d(torch.tensor(up), torch.tensor(wt), output_padding=output_padding,
                                                  **kwargs)
        np.testing.assert_allclose(za.numpy(), zt.numpy(), atol=1e-10)

    check()
