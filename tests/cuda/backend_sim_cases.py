"""The CUDA backend on Numba's CUDA simulator: each method gives the CPU backend's values, a
training step stays within its launch budget with no copy to the host, and the caching
allocator hands blocks out again only when nothing can reach them.

Not collected directly (the name does not match test_*.py): test_backend_cuda_sim.py runs this
file in a fresh interpreter with NUMBA_ENABLE_CUDASIM=1 (set before Numba is imported). On a
GPU: ``AUTODIFF_TEST_GPU=1 python -m pytest tests/cuda/backend_sim_cases.py``.
"""
import math
import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" and os.environ.get("AUTODIFF_TEST_GPU") != "1":
    pytest.skip("runs under the CUDA simulator (see test_backend_cuda_sim.py), or on a GPU with "
                "AUTODIFF_TEST_GPU=1", allow_module_level=True)

import autodiff  # noqa: E402
from autodiff import backends, nn, optim  # noqa: E402
from autodiff.backends.cpu import CPU  # noqa: E402
from autodiff.backends.cuda import CUDA  # noqa: E402
from autodiff.cuda import memory  # noqa: E402
from autodiff.cuda.array import CudaArray  # noqa: E402

DTYPES = [np.float32, np.float64]


def dev(x):
    return CudaArray.from_host(np.asarray(x))


def tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)


def same(cuda_result, cpu_result, dtype):
    """The CUDA backend's result (arrays, or a tuple of them) equals the CPU backend's."""
    if isinstance(cpu_result, tuple):
        assert len(cuda_result) == len(cpu_result)
        for got, expected in zip(cuda_result, cpu_result):
            same(got, expected, dtype)
        return
    if cpu_result is None:
        assert cuda_result is None
        return
    assert type(cuda_result) is CudaArray
    assert cuda_result.shape == np.shape(cpu_result) and cuda_result.dtype == np.asarray(cpu_result).dtype
    np.testing.assert_allclose(cuda_result.get(), cpu_result, **tol(dtype))


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_the_backend_follows_the_array():
    assert backends.of(np.ones(2)) is CPU and backends.of(dev(np.ones(2))) is CUDA
    assert backends.of(autodiff.ones(2)) is None      # a tensor (create_graph): the op's formula


@pytest.mark.parametrize("dtype", DTYPES)
def test_matrix_products_and_the_linear_layer(rng, dtype):
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in [(5, 3), (4, 3), (4,)])
    g = rng.standard_normal((5, 4)).astype(dtype)
    same(CUDA.matmul(dev(x), dev(w.T.copy())), CPU.matmul(x, w.T.copy()), dtype)
    same(CUDA.matmul_tn(dev(x), dev(g)), CPU.matmul_tn(x, g), dtype)
    same(CUDA.matmul_nt(dev(g), dev(w.T.copy())), CPU.matmul_nt(g, w.T.copy()), dtype)
    for bias in (b, None):
        same(CUDA.linear(dev(x), dev(w), None if bias is None else dev(bias)), CPU.linear(x, w, bias), dtype)
    for needs in [(True, True, True), (False, True, False)]:
        same(CUDA.linear_backward(dev(g), dev(x), dev(w), *needs),
             CPU.linear_backward(g, x, w, *needs), dtype)
    same(CUDA.bias_add(dev(g), dev(b)), CPU.bias_add(g, b), dtype)
    same(CUDA.bias_grad(dev(g)), CPU.bias_grad(g), dtype)
    same(CUDA.matmul(dev(x).T, dev(g)), CPU.matmul(x.T, g), dtype)        # a strided operand


ACTIVATIONS = {  # name: (parameters, backward's saved array: 'out' or 'x')
    "relu": ((), "out"), "sigmoid": ((), "out"), "tanh": ((), "out"),
    "leaky_relu": ((0.2,), "x"), "hardtanh": ((-0.5, 0.8), "x"), "softplus": ((1.5, 2.0), "x"),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_forward_and_backward(rng, dtype, name):
    params, saved = ACTIVATIONS[name]
    x = (2 * rng.standard_normal((3, 4))).astype(dtype)
    x[0, 0] = 0.1     # (away from kinks: finite differences are not the point here)
    g = rng.standard_normal((3, 4)).astype(dtype)
    out = getattr(CPU, name)(x, *params)
    same(getattr(CUDA, name)(dev(x), *params), out, dtype)
    keep = out if saved == "out" else x
    same(getattr(CUDA, name + "_backward")(dev(g), dev(keep), *params),
         getattr(CPU, name + "_backward")(g, keep, *params), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gelu(rng, dtype):
    x = rng.standard_normal(7).astype(dtype)
    g = rng.standard_normal(7).astype(dtype)
    erf = np.vectorize(math.erf)
    cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
    np.testing.assert_allclose(CUDA.gelu(dev(x)).get(), x * cdf, **tol(dtype))
    pdf = np.exp(-0.5 * x.astype(np.float64) ** 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(CUDA.gelu_backward(dev(g), dev(x)).get(), g * (cdf + x * pdf), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_reductions(rng, dtype):
    x = (3 * rng.standard_normal((4, 5))).astype(dtype)
    for dim in (-1, 1, 0):                      # dim 0: the numpy formula on the CudaArray
        same(CUDA.softmax(dev(x), dim), CPU.softmax(x, dim), dtype)
        same(CUDA.log_softmax(dev(x), dim), CPU.log_softmax(x, dim), dtype)
    for axis, keepdims in [(None, False), (None, True), (0, False), (1, True), (-1, False)]:
        same(CUDA.sum(dev(x), axis, keepdims), CPU.sum(x, axis, keepdims), dtype)
    same(CUDA.sum(dev(np.arange(6)), None, False), CPU.sum(np.arange(6), None, False), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", [[2, 0, 1, 2], [2, -100, 1, -100], [-100] * 4])
def test_softmax_cross_entropy(rng, dtype, reduction, targets):
    logits = (2 * rng.standard_normal((4, 3))).astype(dtype)
    t = np.array(targets)
    cpu_loss, cpu_saved = CPU.softmax_cross_entropy(logits, t, -100, reduction)
    cuda_loss, cuda_saved = CUDA.softmax_cross_entropy(dev(logits), dev(t), -100, reduction)
    if np.isnan(cpu_loss).any():          # every row ignored: a NaN mean, as PyTorch
        assert np.isnan(cuda_loss.get()).all() and reduction == "mean"
    else:
        same(cuda_loss, cpu_loss, dtype)
    upstream = rng.standard_normal(4 if reduction == "none" else ()).astype(dtype)
    same(CUDA.softmax_cross_entropy_backward(dev(upstream), cuda_saved, dev(t), -100, reduction),
         CPU.softmax_cross_entropy_backward(upstream, cpu_saved, t, -100, reduction), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", [[2, 0, 1, 2], [2, -100, 1, -100], [-100] * 4])
def test_nll_loss(rng, dtype, reduction, targets):
    log_probs = np.log(rng.uniform(0.1, 1, (4, 3))).astype(dtype)
    t = np.array(targets)
    cpu_loss, cpu_saved = CPU.nll_loss(log_probs, t, -100, reduction)
    cuda_loss, cuda_saved = CUDA.nll_loss(dev(log_probs), dev(t), -100, reduction)
    if np.isnan(cpu_loss).any():
        assert np.isnan(cuda_loss.get()).all() and reduction == "mean"
    else:
        same(cuda_loss, cpu_loss, dtype)
    upstream = rng.standard_normal(4 if reduction == "none" else ()).astype(dtype)
    same(CUDA.nll_loss_backward(dev(upstream), cuda_saved, dev(t), -100, reduction),
         CPU.nll_loss_backward(upstream, cpu_saved, t, -100, reduction), dtype)


def _optimizer_states(rng, dtype, count):
    return [rng.standard_normal(6).astype(dtype) for _ in range(count)]


def _step_both(rng, dtype, method, arrays, *args):
    """Run ``method`` three times on host copies (CPU) and device copies (CUDA) of ``arrays``
    (None entries stay None), each time with a new gradient in second place; compare all."""
    host = [None if a is None else a.copy() for a in arrays]
    device = [None if a is None else dev(a) for a in arrays]
    for step in range(1, 4):
        g = rng.standard_normal(6).astype(dtype)
        call = [step if isinstance(a, str) else a for a in args]     # "step": the step number
        getattr(CPU, method)(host[0], g, *host[1:], *call)
        getattr(CUDA, method)(device[0], dev(g), *device[1:], *call)
    for got, expected in zip(device, host):
        if expected is not None:
            np.testing.assert_allclose(got.get(), expected, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay,decoupled,amsgrad", [(0.0, False, False), (0.1, False, False),
                                                            (0.1, True, False), (0.0, False, True)])
def test_adam_step(rng, dtype, weight_decay, decoupled, amsgrad):
    p, m, v, vmax = _optimizer_states(rng, dtype, 4)
    m, v, vmax = np.zeros_like(m), np.zeros_like(v), np.zeros_like(vmax) if amsgrad else None
    _step_both(rng, dtype, "adam_step", [p, m, v, vmax], "step", 0.01, 0.8, 0.99, 1e-6,
               weight_decay, decoupled, False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.9)])
def test_rmsprop_and_adagrad_steps(rng, dtype, centered, momentum):
    p, = _optimizer_states(rng, dtype, 1)
    zeros = np.zeros_like(p)
    _step_both(rng, dtype, "rmsprop_step", [p, zeros, zeros if centered else None,
                                             zeros if momentum else None],
               0.01, 0.9, 1e-6, 0.1, momentum, False)
    _step_both(rng, dtype, "adagrad_step", [p, zeros + 0.1], 0.05, 1e-10, 0.1, False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_step(rng, dtype):
    for momentum, nesterov, weight_decay in [(0.0, False, 0.0), (0.9, True, 0.1)]:
        p, = _optimizer_states(rng, dtype, 1)
        host_p, device_p = p.copy(), dev(p)
        host_buf = device_buf = None
        for _ in range(3):
            g = rng.standard_normal(6).astype(dtype)
            host_buf = CPU.sgd_step(host_p, g, host_buf, 0.1, momentum, 0.0, weight_decay, nesterov,
                                    False)
            device_buf = CUDA.sgd_step(device_p, dev(g), device_buf, 0.1, momentum, 0.0, weight_decay,
                                       nesterov, False)
        np.testing.assert_allclose(device_p.get(), host_p, **tol(dtype))


def test_one_training_step_launch_budget_and_no_copies_to_the_host():
    """A 3-layer MLP, CrossEntropy, Adam on 'cuda': at most 40 kernel launches, nothing copied to
    the host but the explicit loss.item(), and every device block from the cache (issue 12)."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)).to("cuda")
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    x = autodiff.tensor(rng.standard_normal((4, 6)).astype(np.float32), device="cuda")
    y = autodiff.tensor(rng.integers(0, 3, 4), device="cuda")
    losses = []
    for _ in range(3):             # (the first step also makes the optimizer's state)
        autodiff.cuda.stats(reset=True)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        counts = autodiff.cuda.stats(reset=True)
        losses.append(loss.item())
        assert autodiff.cuda.stats()["device_to_host"] == 1
    assert counts["launches"] <= 40, counts
    assert counts["device_to_host"] == 0 and counts["host_to_device"] == 0, counts
    assert counts["allocations"] == 0 and counts["cache_hits"] > 0, counts
    assert losses[2] < losses[0]


@pytest.mark.parametrize("make_loss", [
    lambda: (nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)), nn.MSELoss(), optim.SGD, "mse"),
    lambda: (nn.Sequential(nn.Linear(6, 5), nn.Sigmoid(), nn.Linear(5, 3), nn.LogSoftmax(1)),
             nn.NLLLoss(), optim.RMSprop, "nll"),
    lambda: (nn.Sequential(nn.Linear(6, 5), nn.GELU(), nn.Linear(5, 3)), nn.CrossEntropyLoss(),
             optim.Adagrad, "ce")])
def test_other_training_steps_copy_nothing_to_the_host(make_loss):
    rng = np.random.default_rng(2)
    model, loss_fn, make_optimizer, kind = make_loss()
    model.to("cuda")
    optimizer = make_optimizer(model.parameters(), lr=0.01)
    x = autodiff.tensor(rng.standard_normal((4, 6)).astype(np.float32), device="cuda")
    y = autodiff.tensor(rng.standard_normal((4, 3)).astype(np.float32) if kind == "mse"
                        else rng.integers(0, 3, 4), device="cuda")
    for _ in range(3):
        autodiff.cuda.stats(reset=True)
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    counts = autodiff.cuda.stats()
    assert counts["device_to_host"] == 0 and counts["allocations"] == 0, counts


def test_the_cpu_and_cuda_steps_agree():
    rng = np.random.default_rng(1)
    autodiff.manual_seed(3)
    cpu_model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    cuda_model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).to("cuda")
    cuda_model.load_state_dict({k: v.to("cuda") for k, v in cpu_model.state_dict().items()})
    x = rng.standard_normal((4, 6)).astype(np.float32)
    y = rng.integers(0, 3, 4)
    results = []
    for model, device in ((cpu_model, "cpu"), (cuda_model, "cuda")):
        optimizer = optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(2):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(autodiff.tensor(x, device=device)),
                                               autodiff.tensor(y, device=device))
            loss.backward()
            optimizer.step()
        results.append([loss.item()] + [p.detach().cpu().numpy() for p in model.parameters()])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_the_allocator_reuses_a_block_only_when_nothing_reaches_it():
    memory.empty_cache()
    autodiff.cuda.stats(reset=True)
    a = CudaArray.from_host(np.arange(6.0))
    view = a._buf[0:6].reshape((2, 3))       # a Numba view, as made for a kernel launch
    buffer = a._buf
    del a
    b = CudaArray.empty((6,), np.float64)     # the view still reaches a's block: a new one
    assert b._buf is not buffer and autodiff.cuda.stats()["allocations"] == 2
    del view, buffer
    c = CudaArray.empty((3, 2), np.float64)   # now a's block comes back (same dtype and size)
    assert autodiff.cuda.stats() == {**autodiff.cuda.stats(), "allocations": 2, "cache_hits": 1}
    assert c.shape == (3, 2)
    d = CudaArray.empty((6,), np.float32)     # another dtype: another block
    assert autodiff.cuda.stats()["allocations"] == 3 and d.dtype == np.float32
    assert memory.cached_blocks() == 0
    del b
    assert memory.cached_blocks() == 1
    autodiff.cuda.empty_cache()
    assert memory.cached_blocks() == 0


def test_a_transposed_matrix_is_read_in_place_and_compiles_nothing_per_call():
    # Numba's DeviceNDArray.T copies through a kernel it compiles at every call (0.1 s each on
    # a GPU: 6 a step of an MLP); kernels.cuda's transposed() is a view of the same memory
    from kernels.cuda._common import transposed
    from numba import cuda
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    a = cuda.to_device(host)
    t = transposed(a)
    assert t.shape == (3, 2) and t.strides == a.strides[::-1]
    w = CudaArray.from_host(np.arange(12, dtype=np.float32).reshape(4, 3))
    x = CudaArray.from_host(np.ones((5, 3), np.float32))
    before = autodiff.cuda.stats()["launches"]
    out = CUDA.matmul(x, w.T)          # (5, 3) @ (3, 4): w read through its transpose
    expected = np.ones((5, 3), np.float32) @ np.arange(12, dtype=np.float32).reshape(4, 3).T
    np.testing.assert_array_equal(out.get(), expected)
    assert autodiff.cuda.stats()["launches"] - before == 1     # no copy of w.T first
