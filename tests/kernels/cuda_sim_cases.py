"""kernels.cuda on Numba's CUDA simulator, against numpy references and PyTorch's optimizers.

Not collected directly (the name does not match test_*.py): test_kernels_cuda_sim.py runs
this file in a subprocess with NUMBA_ENABLE_CUDASIM=1, which must be set before Numba is
first imported. The simulator runs about 2,000 threads a second, so arrays are tiny; sizes
that are not multiples of the 16 x 16 matmul tile or of the 128-thread blocks are chosen on
purpose.
"""
import os

import numpy as np
import pytest

import kernel_references as ref

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip("runs only under the CUDA simulator (see test_kernels_cuda_sim.py)",
                allow_module_level=True)

from numba import cuda  # noqa: E402  (after the simulator check)

from kernels import cuda as K  # noqa: E402

DTYPES = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def dev(x):
    return cuda.to_device(np.ascontiguousarray(x))


def host(x):
    return x.copy_to_host()


def test_is_available():
    assert K.is_available()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(5, 7, 3), (1, 1, 1), (17, 20, 18)])
def test_matmul(rng, dtype, m, k, n):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    np.testing.assert_allclose(host(K.matmul(dev(a), dev(b))), a.astype(np.float64) @ b,
                               **tol(dtype))


def test_matmul_transposed_operands(rng):
    a = rng.standard_normal((6, 5))   # used as a.T: 5 x 6
    g = rng.standard_normal((6, 4))
    np.testing.assert_allclose(host(K.matmul_tn(dev(a), dev(g))), a.T @ g, rtol=1e-12)
    h = rng.standard_normal((3, 6))
    b = rng.standard_normal((4, 6))   # used as b.T: 6 x 4
    np.testing.assert_allclose(host(K.matmul_nt(dev(h), dev(b))), h @ b.T, rtol=1e-12)
    bias = rng.standard_normal(4)
    np.testing.assert_allclose(host(K.matmul_nt(dev(h), dev(b), bias=dev(bias))), h @ b.T + bias,
                               rtol=1e-12)
    with pytest.raises(ValueError, match=r"matmul_nt: bias must have shape \(4,\), got \(3,\)"):
        K.matmul_nt(dev(h), dev(b), bias=dev(np.ones(3)))
    with pytest.raises(ValueError, match=r"matmul: mat1 and mat2 shapes cannot be multiplied \(3x6 and 4x6\)"):
        K.matmul(dev(h), dev(b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ref.ACTIVATIONS)
def test_activations(rng, dtype, name):
    forward_ref, derivative_ref, params, saves_output = ref.ACTIVATIONS[name]
    x = ref.activation_sample(rng, (3, 5), dtype)
    grad = rng.standard_normal(x.shape).astype(dtype)
    out = getattr(K, name)(dev(x), **params)
    np.testing.assert_allclose(host(out), forward_ref(x.astype(np.float64), **params), **tol(dtype))
    grad_in = getattr(K, name + "_backward")(dev(grad), out if saves_output else dev(x), **params)
    np.testing.assert_allclose(host(grad_in), grad * derivative_ref(x.astype(np.float64), **params),
                               **tol(dtype))


def test_sigmoid_extremes():
    x = np.array([-1000.0, 0.0, 1000.0], np.float32)
    np.testing.assert_array_equal(host(K.sigmoid(dev(x))), [0.0, 0.5, 1.0])


def test_bias_add_errors():
    with pytest.raises(ValueError, match=r"bias_add: expected x \(batch, n\) and bias \(n,\), got \(2, 3\) and \(4,\)"):
        K.bias_add(dev(np.ones((2, 3))), dev(np.ones(4)))
    with pytest.raises(TypeError, match="bias_add: expected one dtype, got x float64, bias float32"):
        K.bias_add(dev(np.ones((2, 3))), dev(np.ones(3, np.float32)))
    with pytest.raises(TypeError, match="bias_add: x must be a device array"):
        K.bias_add(np.ones((2, 3)), dev(np.ones(3)))


def test_bias_add_and_bias_grad(rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    np.testing.assert_allclose(host(K.bias_add(dev(x), dev(b))), x + b, rtol=1e-6)
    np.testing.assert_allclose(host(K.bias_add(dev(x).T.T, dev(b))), x + b, rtol=1e-6)
    inplace = dev(x)
    assert K.bias_add(inplace, dev(b), out=inplace) is inplace
    np.testing.assert_allclose(host(inplace), x + b, rtol=1e-6)
    np.testing.assert_allclose(host(K.bias_grad(dev(x))), x.sum(axis=0), rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sums(rng, dtype):
    x = rng.standard_normal((3, 130)).astype(dtype)  # a row longer than a block
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(host(K.sum(dev(x))), [x64.sum()], **tol(dtype))
    np.testing.assert_allclose(host(K.sum(dev(x), axis=0)), x64.sum(0), **tol(dtype))
    np.testing.assert_allclose(host(K.sum(dev(x), axis=1)), x64.sum(1), **tol(dtype))
    np.testing.assert_array_equal(host(K.sum(dev(np.arange(10.0)))), [45.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_cross_entropy(rng, dtype):
    logits = (2 * rng.standard_normal((4, 5))).astype(dtype)
    logits[0] = [1000, -1000, 0, 3, 2]
    targets = np.array([0, 4, 1, 1])
    log_p = ref.log_softmax(logits)
    np.testing.assert_allclose(host(K.log_softmax(dev(logits))), log_p, **tol(dtype))
    np.testing.assert_allclose(host(K.softmax(dev(logits))), np.exp(log_p), **tol(dtype))
    loss, probs, kept = K.softmax_cross_entropy_forward(dev(logits), dev(targets))
    expected_loss, expected_grad = ref.cross_entropy(logits, targets)
    np.testing.assert_allclose(host(loss), [expected_loss], **tol(dtype))
    np.testing.assert_allclose(host(probs), np.exp(log_p), **tol(dtype))
    assert host(kept)[0] == 4
    grad = K.softmax_cross_entropy_backward(probs, dev(targets), dev(np.array([2.0], dtype)), kept)
    np.testing.assert_allclose(host(grad), 2.0 * expected_grad, **tol(dtype))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_ignores_rows_and_reduces(rng, reduction):
    logits = rng.standard_normal((5, 3))
    targets = np.array([2, -100, 0, 1, -100])
    kept = targets != -100
    log_p = ref.log_softmax(logits)
    losses = np.where(kept, -log_p[np.arange(5), np.where(kept, targets, 0)], 0.0)
    loss, probs, count = K.softmax_cross_entropy_forward(dev(logits), dev(targets), -100, reduction)
    expected = {"mean": [losses.sum() / 3], "sum": [losses.sum()], "none": losses}[reduction]
    np.testing.assert_allclose(host(loss), expected, rtol=1e-12)
    upstream = rng.standard_normal(5 if reduction == "none" else 1)
    grad = host(K.softmax_cross_entropy_backward(probs, dev(targets), dev(upstream), count, -100,
                                                 reduction))
    onehot = np.zeros((5, 3))
    onehot[np.arange(5)[kept], targets[kept]] = 1
    scale = (upstream[:, None] if reduction == "none" else upstream[0]) * kept[:, None]
    expected_grad = (np.exp(log_p) - onehot) * scale / (3 if reduction == "mean" else 1)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(rng, reduction):
    log_p = np.log(rng.uniform(0.1, 1.0, (5, 3)))
    targets = np.array([2, -100, 0, 1, 7])        # an ignored row, a target out of range
    loss, kept = K.nll_loss_forward(dev(log_p[:4]), dev(targets[:4]), -100, reduction)
    losses = np.array([-log_p[0, 2], 0.0, -log_p[2, 0], -log_p[3, 1]])
    expected = {"mean": [losses.sum() / 3], "sum": [losses.sum()], "none": losses}[reduction]
    np.testing.assert_allclose(host(loss), expected, rtol=1e-12)
    upstream = rng.standard_normal(4 if reduction == "none" else 1)
    grad = host(K.nll_loss_backward(dev(targets[:4]), 3, dev(upstream), kept, -100, reduction))
    expected_grad = np.zeros((4, 3))
    for row, t in enumerate(targets[:4]):
        if t != -100:
            expected_grad[row, t] = -(upstream[row] if reduction == "none" else upstream[0]) / \
                (3 if reduction == "mean" else 1)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12)
    bad, _ = K.nll_loss_forward(dev(log_p), dev(targets), reduction="none")
    assert np.isnan(host(bad)[4]) and host(bad)[1] == 0


def test_cross_entropy_edge_cases():
    # every row ignored: a NaN mean (as PyTorch) and no gradient; a target out of range: NaN
    logits = dev(np.zeros((2, 3)))
    loss, probs, kept = K.softmax_cross_entropy_forward(logits, dev(np.array([-100, -100])))
    assert np.isnan(host(loss)[0]) and host(kept)[0] == 0
    grad = K.softmax_cross_entropy_backward(probs, dev(np.array([-100, -100])), dev(np.ones(1)), kept)
    np.testing.assert_array_equal(host(grad), np.zeros((2, 3)))
    loss, _, _ = K.softmax_cross_entropy_forward(logits, dev(np.array([0, 3])), reduction="none")
    assert host(loss)[0] == pytest.approx(np.log(3)) and np.isnan(host(loss)[1])


def test_sgd_matches_torch(rng):
    torch = pytest.importorskip("torch")
    for momentum, nesterov, weight_decay in [(0.0, False, 0.0), (0.9, False, 0.01),
                                             (0.9, True, 0.0)]:
        start = rng.standard_normal(7)
        grads = rng.standard_normal((3, 7))
        p = torch.tensor(start, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1, momentum=momentum, nesterov=nesterov,
                              weight_decay=weight_decay)
        param, velocity = dev(start), dev(np.zeros(7))
        for g in grads:
            p.grad = torch.tensor(g)
            opt.step()
            K.sgd_update(param, dev(g), velocity, lr=0.1, momentum=momentum,
                         weight_decay=weight_decay, nesterov=nesterov)
        np.testing.assert_allclose(host(param), p.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_matches_torch(rng, decoupled):
    torch = pytest.importorskip("torch")
    start = rng.standard_normal(6)
    grads = rng.standard_normal((3, 6))
    p = torch.tensor(start, requires_grad=True)
    kind = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = kind([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
    param, m, v = dev(start), dev(np.zeros(6)), dev(np.zeros(6))
    for step, g in enumerate(grads, start=1):
        p.grad = torch.tensor(g)
        opt.step()
        K.adam_update(param, dev(g), m, v, step, lr=0.01, betas=(0.8, 0.99), eps=1e-6,
                      weight_decay=0.1, decoupled_weight_decay=decoupled)
    np.testing.assert_allclose(host(param), p.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.0), (False, 0.9), (True, 0.5)])
def test_rmsprop_matches_torch(rng, centered, momentum):
    torch = pytest.importorskip("torch")
    start = rng.standard_normal(6)
    grads = rng.standard_normal((3, 6))
    p = torch.tensor(start, requires_grad=True)
    opt = torch.optim.RMSprop([p], lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1,
                              momentum=momentum, centered=centered)
    param, square_avg = dev(start), dev(np.zeros(6))
    grad_avg = dev(np.zeros(6)) if centered else None
    buf = dev(np.zeros(6)) if momentum else None
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        K.rmsprop_update(param, dev(g), square_avg, grad_avg, buf, lr=0.01, alpha=0.9, eps=1e-6,
                         weight_decay=0.1, momentum=momentum)
    np.testing.assert_allclose(host(param), p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_adagrad_matches_torch(rng):
    torch = pytest.importorskip("torch")
    start = rng.standard_normal(6)
    grads = rng.standard_normal((3, 6))
    p = torch.tensor(start, requires_grad=True)
    opt = torch.optim.Adagrad([p], lr=0.1, lr_decay=0.01, weight_decay=0.1, eps=1e-8)
    param, state_sum = dev(start), dev(np.zeros(6))
    for step, g in enumerate(grads, start=1):
        p.grad = torch.tensor(g)
        opt.step()
        K.adagrad_update(param, dev(g), state_sum, lr=0.1 / (1 + (step - 1) * 0.01), eps=1e-8,
                         weight_decay=0.1)
    np.testing.assert_allclose(host(param), p.detach().numpy(), rtol=1e-12, atol=1e-14)
