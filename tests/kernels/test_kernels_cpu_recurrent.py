"""The fused LSTM kernels (kernels.cpu.lstm_sequence_*) against the numpy path of the same op."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import backends, nn
from autodiff.ops.recurrent import Recurrent


def _run(mode, arrays, reverse, dtype, upstream):
    with backends.use(mode):
        leaves = [ad.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = Recurrent.apply(*leaves[:7], None, "LSTM", reverse, None)
        out.backward(ad.tensor(upstream.astype(dtype)))
        return [out.detach().numpy()] + [t.grad.numpy() for t in leaves]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_lstm_matches_the_numpy_path(reverse, dtype):
    rng = np.random.default_rng(0)
    steps, batch, features, hidden = 5, 3, 4, 6
    arrays = [rng.standard_normal(s) for s in [(steps, batch, features), (batch, hidden), (batch, hidden),
                                                (4 * hidden, features), (4 * hidden, hidden), (4 * hidden,),
                                                (4 * hidden,)]]
    upstream = rng.standard_normal((steps + 1, batch, 2 * hidden))
    fused = _run("numba", arrays, reverse, dtype, upstream)
    plain = _run("numpy", arrays, reverse, dtype, upstream)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fused, plain):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_fused_lstm_layer_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LSTM(3, 4, bidirectional=True).double(), torch.nn.LSTM(3, 4, bidirectional=True).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((6, 2, 3))
    with backends.use("numba"):
        xa = ad.tensor(x, requires_grad=True)
        out, (h, c) = ours(xa)
        (out.sum() + h.sum() * 2 + c.sum() * 3).backward()
    xt = torch.tensor(x, requires_grad=True)
    t_out, (t_h, t_c) = theirs(xt)
    (t_out.sum() + t_h.sum() * 2 + t_c.sum() * 3).backward()
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)
