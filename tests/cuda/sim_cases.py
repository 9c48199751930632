"""CUDA tensors on Numba's CUDA simulator: every result equals the same computation on the CPU.

Not collected directly (the name does not match test_*.py): test_cuda_sim.py runs this file
in a fresh interpreter with NUMBA_ENABLE_CUDASIM=1, which must be set before Numba is first
imported. The simulator runs about 2,000 threads a second, so tensors are tiny. With
AUTODIFF_CUDA_RECORD=<path>, the kernels launched here are written to <path> (as specs and
argument types) so that test_cuda_sim.py can compile each one for a real GPU.

On a machine with a GPU, run the same cases on it with
``AUTODIFF_TEST_GPU=1 python -m pytest tests/cuda/sim_cases.py``.
"""
import json
import os

import numpy as np
import pytest

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
if not SIM and os.environ.get("AUTODIFF_TEST_GPU") != "1":
    pytest.skip("runs under the CUDA simulator (see test_cuda_sim.py), or on a GPU with "
                "AUTODIFF_TEST_GPU=1", allow_module_level=True)

import autodiff  # noqa: E402
from autodiff import nn, optim  # noqa: E402
from autodiff.cuda import DeviceMismatchError  # noqa: E402
from autodiff.cuda import _kernels  # noqa: E402
from autodiff.cuda.array import CudaArray  # noqa: E402
import autodiff.nn.functional as F  # noqa: E402

RECORD = os.environ.get("AUTODIFF_CUDA_RECORD")
if RECORD:
    _kernels._RECORD = set()


@pytest.fixture(scope="module", autouse=True)
def record_kernels():
    yield
    if RECORD:
        with open(RECORD, "w") as f:
            json.dump(sorted([kind, spec, types] for kind, spec, types in _kernels._RECORD), f)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def host(t):
    return t.detach().cpu().numpy()


def close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def check(fn, *arrays, grad=True, rtol=1e-5, atol=1e-6):
    """fn on CPU tensors and on CUDA tensors made from ``arrays``: same values, same gradients
    (for a random upstream gradient), results on the right devices."""
    def make(device):
        return [autodiff.tensor(a, device=device, requires_grad=grad and a.dtype.kind == "f")
                for a in arrays]
    cpu_inputs, cuda_inputs = make("cpu"), make("cuda")
    cpu_out, cuda_out = fn(*cpu_inputs), fn(*cuda_inputs)
    assert cuda_out.device == "cuda:0" and cpu_out.device == "cpu"
    assert cuda_out.dtype == cpu_out.dtype and cuda_out.shape == cpu_out.shape
    close(host(cuda_out), host(cpu_out), rtol, atol)
    if grad and cpu_out.requires_grad:
        seed = np.random.default_rng(1).standard_normal(cpu_out.shape).astype(cpu_out.dtype)
        cpu_out.backward(autodiff.tensor(seed))
        cuda_out.backward(autodiff.tensor(seed, device="cuda"))
        for a, b in zip(cpu_inputs, cuda_inputs):
            if a.requires_grad:
                assert b.grad.device == "cuda:0" and b.grad.dtype == a.grad.dtype
                close(host(b.grad), host(a.grad), rtol, atol)
    return cuda_out


# ---------------------------------------------------------------------- devices, creation, moves
def test_is_available_and_devices():
    assert autodiff.cuda.is_available() and autodiff.cuda.device_count() >= 1
    assert autodiff.cuda.get_device_name() == "simulator" or not SIM
    d = autodiff.device("cuda")
    assert str(d) == "cuda" and repr(d) == "device(type='cuda')"
    x = autodiff.zeros(2, device="cuda")
    assert x.device == "cuda:0" and x.device == autodiff.device("cuda", 0) and x.device.type == "cuda"
    assert x.is_cuda and not x.cpu().is_cuda and repr(x.device) == "device(type='cuda', index=0)"
    with pytest.raises(RuntimeError, match="cuda:1"):
        autodiff.zeros(2, device="cuda:1")
    with pytest.raises(RuntimeError, match="device type"):
        autodiff.zeros(2, device="tpu")
    autodiff.cuda.synchronize()


@pytest.mark.parametrize("make", [
    lambda d: autodiff.zeros(2, 3, device=d), lambda d: autodiff.ones((3,), dtype=autodiff.float64, device=d),
    lambda d: autodiff.full((2, 2), 7, device=d), lambda d: autodiff.eye(3, device=d),
    lambda d: autodiff.arange(5, device=d), lambda d: autodiff.linspace(0, 1, 4, device=d),
    lambda d: autodiff.tensor([[1.0, 2.0]], device=d), lambda d: autodiff.tensor([True, False], device=d),
    lambda d: autodiff.as_tensor(np.arange(3), device=d),
    lambda d: autodiff.zeros_like(autodiff.ones(2, device=d)),
    lambda d: autodiff.full_like(autodiff.ones(2, device=d), 3.5),
])
def test_creation_on_device(make):
    cpu, cuda = make("cpu"), make("cuda")
    assert cuda.device == "cuda:0" and cuda.dtype == cpu.dtype and cuda.shape == cpu.shape
    np.testing.assert_array_equal(host(cuda), host(cpu))


@pytest.mark.parametrize("name", ["rand", "randn", "randint", "randperm"])
def test_random_creation_matches_the_cpu_for_a_seed(name):
    args = {"rand": (2, 3), "randn": (4,), "randint": (0, 9, (5,)), "randperm": (6,)}[name]
    autodiff.manual_seed(3)
    cpu = getattr(autodiff, name)(*args)
    autodiff.manual_seed(3)
    cuda = getattr(autodiff, name)(*args, device="cuda")
    assert cuda.device == "cuda:0"
    np.testing.assert_array_equal(host(cuda), host(cpu))


def test_layers_made_on_the_device_match_the_cpu():
    autodiff.manual_seed(4)
    cpu = nn.Linear(3, 2)
    autodiff.manual_seed(4)
    cuda = nn.Linear(3, 2, device="cuda")
    assert cuda.weight.device == "cuda:0" and cuda.bias.device == "cuda:0"
    close(host(cuda.weight), host(cpu.weight))
    for init in (nn.init.zeros_, nn.init.eye_, lambda t: nn.init.constant_(t, 0.5)):
        init(cuda.weight)
        init(cpu.weight)
        close(host(cuda.weight), host(cpu.weight))


def test_round_trips_and_to():
    x = autodiff.tensor([[1.5, -2.0, 3.0]])
    y = x.to("cuda")
    assert y.device == "cuda:0" and x.device == "cpu"
    assert y.to("cuda") is y and y.cuda() is y and x.cpu() is x
    assert y.to(autodiff.device("cuda", 0)) is y and x.to(device="cuda").device == "cuda:0"
    assert x.cuda(0).device == "cuda:0"
    back = y.cpu()
    assert back.device == "cpu" and back is not x
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    z = x.to("cuda", autodiff.float64)
    assert z.device == "cuda:0" and z.dtype == autodiff.float64
    w = autodiff.zeros(1, dtype=autodiff.int64).to(y)            # dtype and device of another tensor
    assert w.device == "cuda:0" and w.dtype == autodiff.float32
    assert y.to(autodiff.int64).tolist() == [[1, -2, 3]]
    assert autodiff.tensor(y).device == "cuda:0"                  # a copy stays on its device
    assert autodiff.tensor(y, device="cpu").device == "cpu"
    c = y.clone()
    c[0, 0] = 9.0
    assert y[0, 0].item() == 1.5


def test_moving_is_differentiable():
    x = autodiff.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert y.grad_fn is not None and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])
    w = autodiff.tensor([2.0], device="cuda", requires_grad=True)
    (w.cpu() * 3).sum().backward()
    assert w.grad.device == "cuda:0" and w.grad.item() == 3.0
    with autodiff.no_grad():
        assert not x.to("cuda").requires_grad


def test_numpy_needs_cpu_first_item_and_printing():
    y = autodiff.tensor([[0.25, 2.0]], device="cuda")
    with pytest.raises(TypeError, match=r"\.cpu\(\)"):
        y.numpy()
    with pytest.raises(TypeError, match=r"\.cpu\(\)"):
        np.asarray(y)
    assert y[0, 1].item() == 2.0 and isinstance(y[0, 0].item(), float)
    assert float(y[0, 0]) == 0.25 and y.tolist() == [[0.25, 2.0]]
    assert bool(autodiff.tensor(1, device="cuda")) and int(autodiff.tensor(3, device="cuda")) == 3
    assert repr(y) == "tensor([[0.2500, 2.0000]], device='cuda:0')"
    z = autodiff.tensor([1.0, 2.0], dtype=autodiff.float64, device="cuda", requires_grad=True)
    assert repr(z) == "tensor([1., 2.], device='cuda:0', dtype=autodiff.float64, requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(z * 2) and "device='cuda:0'" in str(z * 2)


def test_device_mismatch_names_the_op_and_both_devices():
    a = autodiff.ones(3, device="cuda")
    b = autodiff.ones(3)
    with pytest.raises(DeviceMismatchError, match="add: expected all tensors on the same device, "
                                                  "got cuda:0 and cpu"):
        a + b
    with pytest.raises(RuntimeError, match="mul: expected all tensors on the same device, got cpu and cuda:0"):
        b * a
    with pytest.raises(RuntimeError, match="matmul: .*cuda:0 and cpu"):
        autodiff.ones(2, 3, device="cuda") @ autodiff.ones(3, 2)
    with pytest.raises(RuntimeError, match="less: .*cuda:0 and cpu"):
        a < b
    with pytest.raises(RuntimeError, match="add_: .*cuda:0 and cpu"):
        a.add_(b)
    with pytest.raises(RuntimeError, match="linear: .*cpu and cuda:0"):
        nn.Linear(3, 2).to("cuda")(autodiff.ones(4, 3))
    # CPU scalars (Python numbers, 0-d tensors) mix with CUDA tensors, as in PyTorch
    assert (a + autodiff.tensor(2.0)).device == "cuda:0"
    assert (a * 2).tolist() == [2.0, 2.0, 2.0]
    a.copy_(autodiff.tensor([1.0, 2.0, 3.0]))                    # copy_ moves values across devices
    assert a.tolist() == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------------- ops: CUDA equals CPU
def arrays(rng, *shapes, positive=False, dtype=np.float32):
    out = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return [np.abs(a) + 0.5 for a in out] if positive else out


UNARY = {
    "neg": lambda x: -x, "abs": abs, "exp": lambda x: x.exp(), "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(), "leaky_relu": lambda x: x.leaky_relu(0.1),
    "hardtanh": lambda x: x.hardtanh(-0.5, 0.5), "softplus": lambda x: x.softplus(2.0, 1.0),
    "clamp": lambda x: x.clamp(-0.3, 0.4), "clamp_min": lambda x: x.clamp(min=0.1),
    "square": lambda x: x.square(), "pow": lambda x: x ** 3, "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "scalar_ops": lambda x: (1 - x) / 2 + 3 * x,
    "rpow": lambda x: 2.0 ** x, "cast": lambda x: x.double() * 2,
}
POSITIVE = {"log": lambda x: x.log(), "log1p": lambda x: x.log1p(), "sqrt": lambda x: x.sqrt(),
            "rsqrt": lambda x: x.rsqrt(), "pow_tensor": lambda x: x ** x, "rdiv": lambda x: 1 / x}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(rng, name):
    check(UNARY[name], *arrays(rng, (2, 3)))


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_unary_ops_on_positive_values(rng, name):
    check(POSITIVE[name], *arrays(rng, (3, 2), positive=True))


BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "maximum": lambda a, b: a.maximum(b),
          "minimum": lambda a, b: a.minimum(b),
          "where": lambda a, b: autodiff.where(a > b, a, b * 2)}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 1, 3), (4, 1)), ((3,), ())])
def test_binary_ops_with_broadcasting(rng, name, shapes):
    check(BINARY[name], *arrays(rng, *shapes))


def test_float64_and_dtype_promotion(rng):
    check(lambda a, b: a * b + a.exp(), *arrays(rng, (2, 2), (2,), dtype=np.float64), rtol=1e-12, atol=1e-12)
    i = np.array([1, 2, 3], dtype=np.int64)
    f = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    for fn in (lambda a, b: a + b, lambda a, b: a * 0.5, lambda a, b: a / 2, lambda a, b: (a > 1) * b,
               lambda a, b: a.exp(), lambda a, b: (a == 2) + (a < 3), lambda a, b: ~(a > 1) & (a < 3)):
        cpu = fn(autodiff.tensor(i), autodiff.tensor(f))
        cuda = fn(autodiff.tensor(i, device="cuda"), autodiff.tensor(f, device="cuda"))
        assert cuda.dtype == cpu.dtype
        close(host(cuda), host(cpu))


def test_comparisons_and_logic(rng):
    a, b = arrays(rng, (2, 3), (3,))
    for fn in (lambda x, y: x < y, lambda x, y: x >= y, lambda x, y: x == x, lambda x, y: x != y,
               lambda x, y: (x > 0).logical_not(), lambda x, y: x.sign(), lambda x, y: x.isfinite(),
               lambda x, y: (x / 0).isnan(), lambda x, y: (x > 0).all(), lambda x, y: (x > 0).any()):
        check(fn, a, b, grad=False)
    x = autodiff.tensor(a, device="cuda")
    assert x.allclose(autodiff.tensor(a + 1e-9, device="cuda")) and x.equal(x.clone())
    assert not x.equal(x + 1)


REDUCTIONS = {
    "sum": lambda x: x.sum(), "sum_dim": lambda x: x.sum(1), "sum_keep": lambda x: x.sum((0, 2), keepdim=True),
    "mean": lambda x: x.mean(), "mean_dim": lambda x: x.mean(-1, keepdim=True),
    "max": lambda x: x.max(), "max_dim": lambda x: x.max(1).values, "min_dim": lambda x: x.min(0, keepdim=True)[0],
    "amax": lambda x: x.amax((0, 1)), "amin": lambda x: x.amin(), "var": lambda x: x.var(1),
    "std": lambda x: x.std(), "logsumexp": lambda x: x.logsumexp(2), "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(-1), "sum_to_size": lambda x: x.sum_to_size(1, 3, 1),
    "transposed_sum": lambda x: x.transpose(0, 2).sum(0),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(rng, name):
    check(REDUCTIONS[name], *arrays(rng, (2, 3, 4)))


def test_long_reductions_and_indices(rng):
    x, = arrays(rng, (50,))
    check(lambda t: t.sum() + t.max(), x)                 # split into chunks, then combined
    check(lambda t: t.reshape(2, 25).mean(1), x)
    a = np.array([[1.0, 5.0, 5.0], [2.0, -1.0, 0.0]], dtype=np.float32)
    for fn in (lambda t: t.argmax(), lambda t: t.argmin(1), lambda t: t.argmax(0, keepdim=True),
               lambda t: t.max(1).indices):
        check(fn, a, grad=False)
    check(lambda t: t.max(), a)                            # ties share the gradient
    nan = autodiff.tensor([1.0, float("nan"), 3.0], device="cuda")
    assert np.isnan(nan.max().item()) and nan.argmax().item() == 1


MATMULS = {
    "2d": ((3, 4), (4, 2)), "vec_mat": ((4,), (4, 3)), "mat_vec": ((3, 4), (4,)), "dot": ((4,), (4,)),
    "batched_broadcast": ((2, 3, 4), (4, 2)), "batched": ((2, 1, 2, 3), (3, 3, 2)),
    "tiled": ((16, 20), (20, 17)),
}


@pytest.mark.parametrize("name", sorted(MATMULS))
def test_matmul(rng, name):
    check(lambda a, b: a @ b, *arrays(rng, *MATMULS[name]), rtol=1e-4, atol=1e-5)


def test_matmul_of_views_and_linear(rng):
    a, b = arrays(rng, (4, 3), (2, 4))
    check(lambda x, y: x.T @ y.T, a, b)
    check(lambda x, y: x.T[:, ::2] @ y.T[::2], a, b)
    x, w, bias = arrays(rng, (2, 3, 4), (5, 4), (5,))
    check(F.linear, x, w, bias)
    check(lambda t, u, v: F.linear(t[0], u, v), x, w, bias)
    i = np.arange(6).reshape(2, 3)
    cuda = autodiff.tensor(i, device="cuda") @ autodiff.tensor(i.T.copy(), device="cuda")
    np.testing.assert_array_equal(host(cuda), i @ i.T)


SHAPES = {
    "reshape": lambda x: x.reshape(4, 6), "view_T": lambda x: x.reshape(6, 4).T * 1,
    "flatten": lambda x: x.flatten(1), "squeeze": lambda x: x[:, :1].squeeze(1),
    "unsqueeze": lambda x: x.unsqueeze(0) * x.unsqueeze(1)[:1], "permute": lambda x: x.permute(2, 0, 1),
    "mT": lambda x: x.mT, "expand": lambda x: x[:, :1].expand(2, 3, 4),
    "cat": lambda x: autodiff.cat([x, x * 2], dim=1), "stack": lambda x: autodiff.stack([x, -x], dim=2),
    "split": lambda x: x.split([1, 3], dim=2)[1], "chunk": lambda x: x.chunk(3, dim=1)[2],
    "unbind": lambda x: x.unbind(1)[1], "slices": lambda x: x[1:, ::2, -3:-1],
    "int_index": lambda x: x[1, 2], "ellipsis_none": lambda x: x[..., None, 1],
    "int_array": lambda x: x[[0, 1, 1], :, [3, 0, 3]], "adjacent_arrays": lambda x: x[:, [2, 0], [1, 1]],
    "tensor_index": lambda x: x[autodiff.tensor([1, 0, 1], device=x.device)],
    "negative_index": lambda x: x[:, autodiff.tensor([-1, 0], device=x.device)],
    "bool_mask": lambda x: x[x > 0.2], "row_mask": lambda x: x[autodiff.tensor([True, False], device=x.device)],
    "mixed": lambda x: x[1:, [0, 2], None, 1:3],
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_ops_and_indexing(rng, name):
    check(SHAPES[name], *arrays(rng, (2, 3, 4)))


def test_setitem(rng):
    a, = arrays(rng, (3, 4))
    for key, value in [((slice(None), 1), 5.0), ((1,), np.arange(4.0)), (([0, 2], [1, 3]), -1.0),
                       ((slice(None), [0, 0]), 2.0)]:
        cpu, cuda = autodiff.tensor(a), autodiff.tensor(a, device="cuda")
        cpu[key] = autodiff.tensor(value) if isinstance(value, np.ndarray) else value
        cuda[key] = autodiff.tensor(value, device="cuda") if isinstance(value, np.ndarray) else value
        close(host(cuda), host(cpu))
    cuda = autodiff.tensor(a, device="cuda")
    cuda[cuda < 0] = 0.0                                 # a masked fill (no copy to the host)
    close(host(cuda), np.where(a < 0, 0, a))
    cuda[0] = [1.0, 2.0, 3.0, 4.0]                       # assigned host values are copied over
    cuda[1:, :2] = autodiff.ones(2, 2)
    assert cuda[:2, :2].tolist() == [[1.0, 2.0], [1.0, 1.0]]
    with pytest.raises(IndexError, match="out of bounds"):
        cuda[autodiff.tensor([0, 5], device="cuda")] = 1.0

    def put(x, v):                                        # recorded: gradients reach both
        y = x * 1
        y[1:, [0, 2]] = v
        return y
    check(put, a, *arrays(rng, (2, 1)))


def test_inplace_ops(rng):
    a, b = arrays(rng, (2, 3), (3,))
    cpu, cuda = autodiff.tensor(a), autodiff.tensor(a, device="cuda")
    for t, other in ((cpu, autodiff.tensor(b)), (cuda, autodiff.tensor(b, device="cuda"))):
        t.add_(other, alpha=2).mul_(0.5).div_(other).clamp_(-1, 1)
        t -= 1
        t[0].fill_(3.0)
        F.relu(t[1], inplace=True)
        F.leaky_relu(t[:, 0], 0.1, inplace=True)     # numpy's where= (a masked update)
        F.hardtanh(t[:, 1:], -0.5, 0.5, inplace=True)
    close(host(cuda), host(cpu))
    cuda.zero_()
    assert host(cuda).sum() == 0


LOSSES = {
    "mse": lambda x, y: F.mse_loss(x, y), "l1": lambda x, y: F.l1_loss(x, y, reduction="sum"),
    "bce_logits": lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
    "bce_logits_pos_weight": lambda x, y: F.binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=autodiff.ones(3, device=x.device) * 2, reduction="none"),
    "bce": lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "ce_probabilities": lambda x, y: F.cross_entropy(x, y.softmax(1), label_smoothing=0.1),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses(rng, name):
    check(LOSSES[name], *arrays(rng, (4, 3), (4, 3)))


@pytest.mark.parametrize("kwargs", [{}, {"ignore_index": 2}, {"label_smoothing": 0.2},
                                    {"weight": True, "reduction": "sum"}, {"reduction": "none"}])
def test_cross_entropy_and_nll_with_class_targets(rng, kwargs):
    x, = arrays(rng, (5, 3))
    target = np.array([0, 2, 1, 2, 0])
    weight = kwargs.pop("weight", None)

    def loss(logits, t):
        w = autodiff.tensor([0.5, 1.0, 2.0], device=logits.device) if weight else None
        return F.cross_entropy(logits, t, weight=w, **kwargs) + F.nll_loss(logits.log_softmax(1), t, weight=w)
    check(loss, x, target)
    # a target out of range: checking it on the host would copy the targets back every step, so
    # on CUDA (as PyTorch's device-side assert, but without stopping) the loss is NaN instead
    bad = F.cross_entropy(autodiff.tensor(x, device="cuda"), autodiff.tensor([0, 1, 5, 0, 0], device="cuda"))
    assert np.isnan(bad.item())


def test_one_hot_and_dropout_and_batchnorm(rng):
    t = autodiff.tensor([0, 2, 1], device="cuda")
    np.testing.assert_array_equal(host(F.one_hot(t, 4)), host(F.one_hot(t.cpu(), 4)))
    x, = arrays(rng, (6, 3))
    autodiff.manual_seed(5)
    cpu = F.dropout(autodiff.tensor(x), 0.5)
    autodiff.manual_seed(5)
    cuda = F.dropout(autodiff.tensor(x, device="cuda"), 0.5)
    close(host(cuda), host(cpu))
    bn_cpu, bn_cuda = nn.BatchNorm1d(3), nn.BatchNorm1d(3).to("cuda")
    assert bn_cuda.running_mean.device == "cuda:0" and bn_cuda.num_batches_tracked.device == "cuda:0"
    inputs = [autodiff.tensor(x, requires_grad=True), autodiff.tensor(x, device="cuda", requires_grad=True)]
    outs = [bn(t) for bn, t in zip((bn_cpu, bn_cuda), inputs)]
    close(host(outs[1]), host(outs[0]))
    for out in outs:
        (out * autodiff.arange(3.0, device=out.device)).sum().backward()
    close(host(inputs[1].grad), host(inputs[0].grad))
    close(host(bn_cuda.weight.grad), host(bn_cpu.weight.grad))
    close(host(bn_cuda.running_var), host(bn_cpu.running_var))
    bn_cpu.eval(), bn_cuda.eval()
    close(host(bn_cuda(autodiff.tensor(x, device="cuda"))), host(bn_cpu(autodiff.tensor(x))))
    bn_cuda.cpu()
    assert bn_cuda.running_mean.device == "cpu" and bn_cuda.num_batches_tracked.item() == 1


def test_higher_order_gradients_on_cuda():
    def second(device):
        x = autodiff.tensor([0.5, -1.0, 2.0], device=device, requires_grad=True)
        y = (x ** 3 * x.sin()).sum()
        g, = autodiff.grad(y, x, create_graph=True)
        g.sum().backward()
        return host(g), host(x.grad)
    for got, want in zip(second("cuda"), second("cpu")):
        close(got, want)


def test_hooks_and_retain_grad_on_cuda():
    x = autodiff.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    y.sum().backward()
    assert y.grad.device == "cuda:0" and x.grad.tolist() == [6.0, 6.0]


# ---------------------------------------------------------------------- training
def mlp_step(device, make_optimizer, steps=2):
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to(device)
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    x = autodiff.randn(5, 3).to(device)
    y = autodiff.tensor([0, 1, 1, 0, 1], device=device)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    assert loss.device == device
    return model, optimizer, loss.item()


@pytest.mark.parametrize("make_optimizer", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=0.01),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda p: optim.AdamW(p, lr=0.01, amsgrad=True), lambda p: optim.RMSprop(p, momentum=0.5, centered=True),
    lambda p: optim.Adagrad(p, lr=0.1),
], ids=["sgd_momentum", "adam", "sgd_nesterov", "adamw_amsgrad", "rmsprop", "adagrad"])
def test_mlp_training_step_on_cuda_equals_cpu(make_optimizer):
    cpu_model, cpu_opt, cpu_loss = mlp_step("cpu", make_optimizer)
    cuda_model, cuda_opt, cuda_loss = mlp_step("cuda", make_optimizer)
    close(cuda_loss, cpu_loss)
    for p, q in zip(cpu_model.parameters(), cuda_model.parameters()):
        assert q.device == "cuda:0" and q.grad.device == "cuda:0"
        close(host(q), host(p))
    for state in cuda_opt.state.values():
        assert all(v.device == "cuda:0" for v in state.values() if isinstance(v, autodiff.Tensor))


def test_module_to_cuda_and_back_and_state_dicts(tmp_path):
    autodiff.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    weight = model[0].weight
    values = {k: host(v) for k, v in model.state_dict().items()}
    assert model.to("cuda") is model and model[0].weight is weight           # same Parameter objects
    assert all(p.device == "cuda:0" for p in model.parameters())
    assert all(b.device == "cuda:0" for b in model.buffers())
    model(autodiff.randn(4, 3, device="cuda")).sum().backward()
    assert weight.grad.device == "cuda:0"
    path = tmp_path / "model.safetensors"
    autodiff.save(model.state_dict(), path)                                  # saved from the GPU
    assert model.cpu() is model and weight.device == "cpu" and weight.grad.device == "cpu"
    restored = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).cuda()
    restored.load_state_dict(autodiff.load(path))                           # CPU values onto the GPU
    for k, v in restored.state_dict().items():
        assert v.device == "cuda:0"
        close(host(v), host(model.state_dict()[k]))
    assert set(values) == set(restored.state_dict())
    model.to("cuda")
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(autodiff.randn(4, 3, device="cuda")).sum().backward()
    opt.step()
    state = opt.state_dict()
    fresh = optim.Adam(restored.cpu().parameters(), lr=0.1)
    fresh.load_state_dict(state)                                            # CUDA state onto CPU params
    assert all(v.device == "cpu" for s in fresh.state.values() for v in s.values()
               if isinstance(v, autodiff.Tensor))


# ---------------------------------------------------------------------- the array protocol itself
def test_cuda_array_protocol():
    host_a = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = CudaArray.from_host(host_a)
    np.testing.assert_array_equal(np.asarray(a.T), host_a.T)                # explicit copies to the host
    np.testing.assert_array_equal((a[:, ::2] + a[:, 1::2]).get(), host_a[:, ::2] + host_a[:, 1::2])
    b = a.copy()
    b[:, 1:] -= b[:, :-1]                                                  # overlapping views: no race
    expected = host_a.copy()
    expected[:, 1:] -= expected[:, :-1].copy()
    np.testing.assert_array_equal(b.get(), expected)
    np.testing.assert_array_equal(np.concatenate([a, a[:1]]).get(), np.concatenate([host_a, host_a[:1]]))
    z = np.zeros_like(a)
    np.add.at(z, (np.array([0, 0, 2]),), a[[0, 1, 1]])                      # repeated indices add up
    expected = np.zeros_like(host_a)
    np.add.at(expected, (np.array([0, 0, 2]),), host_a[[0, 1, 1]])
    np.testing.assert_array_equal(z.get(), expected)
    idx = a.argmax(axis=1, keepdims=True)
    np.testing.assert_array_equal(np.take_along_axis(a, idx, axis=1).get(), host_a[:, -1:])
    hits = np.zeros_like(a, dtype=bool)
    np.put_along_axis(hits, idx, True, axis=1)
    assert hits.get().sum() == 3 and hits.get()[:, -1].all()
    out = np.empty_like(a)
    np.multiply(a, 2, out=out)
    np.maximum(out, 5.0, out=out)
    np.testing.assert_array_equal(out.get(), np.maximum(host_a * 2, 5.0))
    dest = np.empty((3, 4), np.float32)
    np.copyto(dest, a)                                                    # device -> host
    np.copyto(a, host_a[::-1].copy())                                     # host -> device
    np.testing.assert_array_equal(dest, host_a)
    np.testing.assert_array_equal(a.get(), host_a[::-1])
    assert np.sum(a) == host_a.sum() and a.dtype == np.float32 and a.strides == (16, 4)
    with pytest.raises(DeviceMismatchError):
        a + host_a
    with pytest.raises(TypeError, match="not supported on CUDA arrays"):
        np.fft.fft(a)
    with pytest.raises(ValueError, match="cannot reshape"):
        a.reshape(5, -1)
    with pytest.raises(IndexError, match="out of bounds"):
        a[3]
    with pytest.raises(IndexError, match="out of bounds"):
        a[CudaArray.from_host(np.array([0, 3]))]
    with pytest.raises(ValueError, match="broadcast"):
        a + CudaArray.from_host(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="no identity"):
        CudaArray.from_host(np.ones((0, 2))).max()
    assert CudaArray.from_host(np.ones((0, 2))).sum(axis=0).get().tolist() == [0.0, 0.0]
    e = CudaArray.empty((0, 3), np.float32)
    assert e.get().shape == (0, 3) and (e + 1).shape == (0, 3)


def test_stats_count_launches_and_copies():
    def counts():
        numbers = autodiff.cuda.stats(reset=True)
        return {key: numbers[key] for key in ("launches", "host_to_device", "device_to_host")}

    counts()
    a = autodiff.tensor(np.arange(3.0), device="cuda")
    assert counts() == {"launches": 0, "host_to_device": 1, "device_to_host": 0}
    b = a + a
    assert counts() == {"launches": 1, "host_to_device": 0, "device_to_host": 0}
    assert b.sum().item() == 6.0
    assert counts() == {"launches": 1, "host_to_device": 0, "device_to_host": 1}
    np.testing.assert_array_equal(host(b), [0.0, 2.0, 4.0])
    assert counts() == {"launches": 0, "host_to_device": 0, "device_to_host": 1}


# ---------------------------------------------------------------------- random numbers, legacy, save/load
def test_samplers_give_the_same_numbers_on_cuda_and_keep_the_device(tmp_path):
    g = autodiff.Generator()
    for draw in (lambda d: autodiff.rand(3, generator=g, device=d),
                 lambda d: autodiff.zeros(4, device=d).normal_(1.0, 2.0, generator=g),
                 lambda d: autodiff.zeros(4, device=d).random_(0, 9, generator=g),
                 lambda d: autodiff.bernoulli(autodiff.full((4,), 0.5, device=d), generator=g),
                 lambda d: autodiff.multinomial(autodiff.ones(5, device=d), 3, generator=g)):
        g.manual_seed(1)
        on_gpu = draw("cuda")
        g.manual_seed(1)
        assert on_gpu.is_cuda and on_gpu.cpu().tolist() == draw("cpu").tolist()
    x = autodiff.ones(2, device="cuda")
    assert x.type() == "autodiff.cuda.FloatTensor" and not x.type("torch.FloatTensor").is_cuda
    assert x.new_zeros(3).is_cuda and autodiff.zeros(3, out=x) is x and x.shape == (3,)
    model = nn.Linear(2, 3).cuda()
    autodiff.save({"model": model, "t": x}, tmp_path / "m.pt")
    back = autodiff.load(tmp_path / "m.pt", weights_only=False)
    assert back["t"].is_cuda and next(back["model"].parameters()).is_cuda
    host = autodiff.load(tmp_path / "m.pt", weights_only=False, map_location="cpu")
    assert not host["t"].is_cuda and not next(host["model"].parameters()).is_cuda
    np.testing.assert_array_equal(host["model"].weight.detach().numpy(), model.weight.detach().cpu().numpy())
