"""Convolutional layers on CUDA tensors (Numba's CUDA simulator, or a GPU): every value and
gradient equals the same computation on the CPU.

Not collected directly: test_cnn_cuda_sim.py runs this file in a fresh interpreter with
NUMBA_ENABLE_CUDASIM=1. Tiny sizes (the simulator runs ~2,000 threads a second). On a machine
with a GPU: ``AUTODIFF_TEST_GPU=1 python -m pytest tests/cuda/cnn_sim_cases.py``.
"""
import os

import numpy as np
import pytest

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
if not SIM and os.environ.get("AUTODIFF_TEST_GPU") != "1":
    pytest.skip("runs under the CUDA simulator (see test_cnn_cuda_sim.py), or on a GPU with "
                "AUTODIFF_TEST_GPU=1", allow_module_level=True)

import autodiff  # noqa: E402
from autodiff import nn  # noqa: E402
import autodiff.nn.functional as F  # noqa: E402
from autodiff.cuda.array import CudaArray  # noqa: E402


def _both(fn, *arrays):
    """fn on CPU tensors and on CUDA tensors: (outputs, input gradients) for each."""
    results = []
    for device in ("cpu", "cuda"):
        leaves = [autodiff.tensor(a, device=device, requires_grad=True) for a in arrays]
        out = fn(*leaves)
        if device == "cuda":
            assert isinstance(out._data, CudaArray), "the result did not stay on the GPU"
        upstream = np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(arrays[0].dtype)
        out.backward(autodiff.tensor(upstream, device=device))
        results.append((out.detach().cpu().numpy(), [x.grad.cpu().numpy() for x in leaves]))
    (cpu_out, cpu_grads), (gpu_out, gpu_grads) = results
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-5, atol=1e-6)
    for a, b in zip(gpu_grads, cpu_grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


RNG = np.random.default_rng(0)


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def test_conv2d_with_bias_stride_and_padding():
    _both(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), _arr(1, 2, 4, 4), _arr(2, 2, 3, 3), _arr(2))


def test_conv1d_and_conv_transpose2d():
    _both(lambda x, w: F.conv1d(x, w, padding=1), _arr(1, 2, 5), _arr(2, 2, 3))
    _both(lambda x, w: F.conv_transpose2d(x, w, stride=2), _arr(1, 2, 2, 2), _arr(2, 1, 2, 2))


def test_grouped_convolution_and_unfold_fold():
    _both(lambda x, w: F.conv2d(x, w, groups=2, dilation=(1, 2), padding=(0, 1)), _arr(1, 4, 3, 5), _arr(2, 2, 2, 2))
    _both(lambda x: F.fold(F.unfold(x, 2, padding=1), (3, 3), 2, padding=1), _arr(1, 2, 3, 3))


def test_max_pooling_kinds():
    _both(lambda x: F.max_pool2d(x, 2), _arr(1, 2, 4, 4))
    _both(lambda x: F.max_pool2d(x, 3, stride=1, padding=1), _arr(1, 1, 3, 4))        # overlapping windows
    _both(lambda x: F.adaptive_max_pool2d(x, (2, 1)), _arr(1, 2, 3, 3))
    out, indices = F.max_pool2d(autodiff.tensor(_arr(1, 1, 4, 4), device="cuda"), 2, return_indices=True)
    assert indices.device.type == "cuda" and indices.dtype == autodiff.int64
    restored = F.max_unpool2d(out, indices, 2)
    assert restored.device.type == "cuda" and np.count_nonzero(restored.cpu().numpy()) == 4


def test_pooling_and_resizing():
    _both(lambda x: F.avg_pool2d(x, 2, padding=1), _arr(1, 1, 3, 3))
    _both(lambda x: F.adaptive_avg_pool2d(x, 1), _arr(1, 2, 3, 3))
    _both(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), _arr(1, 1, 2, 2))
    _both(lambda x: F.pad(x, (1, 1, 1, 0), mode="reflect"), _arr(1, 1, 3, 3))


def test_normalisation_layers():
    _both(lambda x: F.layer_norm(x, (3,)), _arr(2, 3))
    _both(lambda x: F.group_norm(x, 2), _arr(2, 4, 2))
    bn = nn.BatchNorm2d(2)
    _both(lambda x: bn.to(x.device)(x), _arr(2, 2, 2, 2))


def test_a_small_conv_net_trains_alike_on_the_gpu():
    def run(device):
        autodiff.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(8, 3)).to(device)
        opt = autodiff.optim.Adam(model.parameters(), lr=0.01)
        x = autodiff.tensor(np.linspace(-1, 1, 32).reshape(2, 1, 4, 4).astype(np.float32), device=device)
        y = autodiff.tensor(np.array([0, 2]), device=device)
        for _ in range(2):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return [p.detach().cpu().numpy() for p in model.parameters()]
    for a, b in zip(run("cuda"), run("cpu")):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
