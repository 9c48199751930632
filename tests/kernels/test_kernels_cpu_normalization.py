"""The fused LayerNorm kernels (kernels.cpu.layer_norm_*) against the numpy path of the same op,
central differences and PyTorch."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import backends
from autodiff.nn import functional as F

CASES = [  # (input shape, normalized_shape, weight, bias)
    ((4, 7), (7,), True, True),
    ((2, 3, 5), (5,), True, False),
    ((2, 3, 4), (3, 4), False, True),
    ((3, 9), (9,), False, False),
]


def _run(mode, x, normalized_shape, weight, bias, upstream, dtype):
    with backends.use(mode):
        leaves = [None if a is None else ad.tensor(a.astype(dtype), requires_grad=True) for a in (x, weight, bias)]
        out = F.layer_norm(leaves[0], normalized_shape, leaves[1], leaves[2], eps=1e-5)
        out.backward(ad.tensor(upstream.astype(dtype)))
        return [out.detach().numpy()] + [None if t is None else t.grad.numpy() for t in leaves]


def _arrays(shape, normalized_shape, has_weight, has_bias, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3 + 1
    weight = rng.standard_normal(normalized_shape) if has_weight else None
    bias = rng.standard_normal(normalized_shape) if has_bias else None
    return x, weight, bias, rng.standard_normal(shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, normalized_shape, has_weight, has_bias", CASES)
def test_fused_layer_norm_matches_the_numpy_path(shape, normalized_shape, has_weight, has_bias, dtype):
    x, weight, bias, upstream = _arrays(shape, normalized_shape, has_weight, has_bias)
    fused = _run("numba", x, normalized_shape, weight, bias, upstream, dtype)
    plain = _run("numpy", x, normalized_shape, weight, bias, upstream, dtype)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fused, plain):
        if b is None:
            assert a is None
            continue
        assert a.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape, normalized_shape, has_weight, has_bias", CASES)
def test_fused_layer_norm_gradients_match_finite_differences(shape, normalized_shape, has_weight, has_bias):
    x, weight, bias, _ = _arrays(shape, normalized_shape, has_weight, has_bias, seed=1)
    leaves = [ad.tensor(a, requires_grad=True) for a in (x, weight, bias) if a is not None]

    def fn(*args):
        args = list(args)
        w = args.pop(1) if has_weight else None
        b = args.pop(1) if has_bias else None
        return F.layer_norm(args[0], normalized_shape, w, b, eps=1e-5)
    with backends.use("numba"):
        assert ad.gradcheck(fn, leaves)


def test_fused_layer_norm_matches_pytorch():
    torch = pytest.importorskip("torch")
    x, weight, bias, upstream = _arrays((3, 4, 16), (16,), True, True, seed=2)
    with backends.use("numba"):
        ours = [ad.tensor(a, requires_grad=True) for a in (x, weight, bias)]
        out = F.layer_norm(ours[0], (16,), ours[1], ours[2])
        out.backward(ad.tensor(upstream))
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    t_out = torch.nn.functional.layer_norm(theirs[0], (16,), theirs[1], theirs[2])
    t_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_fused_layer_norm_nan_and_inf_rows_as_the_numpy_path():
    x = np.array([[1.0, 2.0, 3.0], [1.0, np.inf, 3.0], [np.nan, 0.0, 1.0], [5.0, 5.0, 5.0]])
    upstream = np.ones_like(x)
    with np.errstate(invalid="ignore"):
        fused = _run("numba", x, (3,), np.ones(3), np.zeros(3), upstream, np.float64)
        plain = _run("numpy", x, (3,), np.ones(3), np.zeros(3), upstream, np.float64)
    assert np.isnan(fused[0][1:3]).all() and np.isfinite(fused[0][[0, 3]]).all()
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)     # (NaNs in the same places)


def test_layer_norm_second_derivative_through_the_fused_forward():
    x, weight, bias, _ = _arrays((2, 5), (5,), True, True, seed=3)
    with backends.use("numba"):
        leaves = [ad.tensor(a, requires_grad=True) for a in (x, weight, bias)]
        assert ad.gradgradcheck(lambda *a: F.layer_norm(a[0], (5,), a[1], a[2]), leaves)


def test_layer_norm_kernels_name_the_op_on_bad_input():
    from kernels import cpu
    with pytest.raises(TypeError, match="layer_norm_forward: x must be float32 or float64, got int64"):
        cpu.layer_norm_forward(np.ones((2, 3), np.int64), None, None, 1e-5)
    with pytest.raises(ValueError, match=r"layer_norm_forward: weight must have shape \(3,\), got \(4,\)"):
        cpu.layer_norm_forward(np.ones((2, 3)), np.ones(4), None, 1e-5)
    with pytest.raises(ValueError, match="layer_norm_backward: expected grad and xhat of one 2-D shape"):
        cpu.layer_norm_backward(np.ones((2, 3)), np.ones((2, 4)), np.ones(2), None)
