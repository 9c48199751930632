"""Embeddings, recurrent layers and attention on CUDA tensors equal the same computation on
the CPU: values, input gradients and parameter gradients.

Not collected directly: test_seq_cuda_sim.py runs this file in a fresh interpreter with
NUMBA_ENABLE_CUDASIM=1 (set before Numba is first imported). The simulator is slow, so the
shapes are tiny. On a machine with a GPU: ``AUTODIFF_TEST_GPU=1 python -m pytest tests/cuda/seq_sim_cases.py``.
"""
import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" and os.environ.get("AUTODIFF_TEST_GPU") != "1":
    pytest.skip("runs under the CUDA simulator (see test_seq_cuda_sim.py), or on a GPU with "
                "AUTODIFF_TEST_GPU=1", allow_module_level=True)

import autodiff as ad  # noqa: E402
from autodiff import nn  # noqa: E402
import autodiff.nn.functional as F  # noqa: E402
from autodiff.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

RNG = np.random.default_rng(0)


def same_on_both(make, inputs, fn):
    """fn(module, *tensors) on the CPU and on 'cuda' from the same seed: same outputs and gradients."""
    results = []
    for device in ("cpu", "cuda"):
        ad.manual_seed(0)
        module = make().to(device) if make else None
        tensors = [ad.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in inputs]
        out = fn(module, *tensors)
        assert out.device.type == device
        (out * out).sum().backward()
        grads = [t.grad.cpu().numpy() for t in tensors if t.requires_grad]
        if module is not None:
            grads += [p.grad.cpu().numpy() for p in module.parameters()]
        results.append([out.detach().cpu().numpy()] + grads)
    for cpu, cuda in zip(*results):
        np.testing.assert_allclose(cuda, cpu, rtol=1e-4, atol=1e-5)


X = RNG.standard_normal((3, 2, 2)).astype(np.float32)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers(kind):
    same_on_both(lambda: getattr(nn, kind)(2, 3, bidirectional=True), [X], lambda m, x: m(x)[0])


def test_lstm_cell_and_packed_sequence():
    same_on_both(lambda: nn.LSTMCell(2, 3), [X[0]], lambda m, x: m(x)[1])
    same_on_both(lambda: nn.GRU(2, 3), [X],
                 lambda m, x: pad_packed_sequence(m(pack_padded_sequence(x, [3, 1], enforce_sorted=False))[0])[0])


def test_embedding():
    same_on_both(lambda: nn.Embedding(5, 2, padding_idx=1), [np.array([[0, 3], [3, 1]])], lambda m, i: m(i))


def test_attention_and_a_transformer_layer():
    q = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    same_on_both(None, [q, q + 1, q * 2], lambda m, a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True))
    same_on_both(lambda: nn.MultiheadAttention(4, 2), [q], lambda m, a: m(a, a, a)[0])
    same_on_both(lambda: nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0), [q], lambda m, a: m(a))


def test_lstm_on_cuda_runs_the_fused_cell_kernels(monkeypatch):
    import kernels.cuda
    calls = []
    for name in ("lstm_cell_forward", "lstm_cell_backward"):
        original = getattr(kernels.cuda, name)
        monkeypatch.setattr(kernels.cuda, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    same_on_both(lambda: nn.LSTM(2, 3, bidirectional=True), [X], lambda m, x: m(x)[0])
    assert calls.count("lstm_cell_forward") == 6 and calls.count("lstm_cell_backward") == 6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_cell_kernels_match_numpy(dtype):
    from numba import cuda
    import kernels.cuda as K
    gates = RNG.standard_normal((2, 12)).astype(dtype)
    c_prev, d_h, d_c = (RNG.standard_normal((2, 3)).astype(dtype) for _ in range(3))
    acts, c, tanh_c, h = (a.copy_to_host() for a in K.lstm_cell_forward(cuda.to_device(gates), cuda.to_device(c_prev)))
    sig = lambda v: 1 / (1 + np.exp(-v))   # noqa: E731
    i, f, g, o = sig(gates[:, :3]), sig(gates[:, 3:6]), np.tanh(gates[:, 6:9]), sig(gates[:, 9:])
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(acts, np.concatenate([i, f, g, o], 1), **tol)
    np.testing.assert_allclose(c, f * c_prev + i * g, **tol)
    np.testing.assert_allclose(h, o * np.tanh(c), **tol)
    dgates, dc_prev = (a.copy_to_host() for a in K.lstm_cell_backward(
        cuda.to_device(d_h), cuda.to_device(d_c), cuda.to_device(acts), cuda.to_device(c_prev), cuda.to_device(tanh_c)))
    dc = d_c + d_h * o * (1 - tanh_c ** 2)
    expected = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                               d_h * tanh_c * o * (1 - o)], 1)
    np.testing.assert_allclose(dgates, expected, **tol)
    np.testing.assert_allclose(dc_prev, dc * f, **tol)
    assert dgates.dtype == dtype
    with pytest.raises(ValueError, match="expected gates of shape"):
        K.lstm_cell_forward(cuda.to_device(np.ascontiguousarray(gates[:, :8])), cuda.to_device(c_prev))
