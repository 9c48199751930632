"""Reductions and normalisations: forward against numpy/PyTorch, first and second
derivatives against central differences (float64), any valid dim, keepdim or not."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import autodiff as ad
from autodiff.testing import (assert_gradgrad_match, assert_gradients_match, shapes, tensors,
                              valid_dims)

SHAPES = shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def axis_of(dim, x):
    """The numpy axis for a PyTorch dim (an empty tuple reduces everything, and a 0-d
    tensor takes dim 0 or -1)."""
    return None if dim == () or x.ndim == 0 else dim


def distinct(x, data):
    """Give ``x`` (in place, views kept) distinct values 0.75 apart: no ties for max/min,
    and a variance that is never 0."""
    n = x.numel()
    order = np.array(data.draw(st.permutations(range(n)), label="order"), dtype=np.float64)
    x._data[...] = (order.reshape(x.shape) - n / 2) * 0.75
    return x


def draw_x_dim(data, allow_none=True, allow_tuple=True, shape=SHAPES, **kwargs):
    x = data.draw(tensors(shape=shape, contiguous=None, **kwargs), label="x")
    dim = data.draw(valid_dims(x.ndim, allow_none=allow_none, allow_tuple=allow_tuple), label="dim")
    return x, dim


def count_of(x, dim):
    if dim is None or dim == () or x.ndim == 0:
        return x.numel()
    dims = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([x.shape[d] for d in dims]))


@given(data=st.data(), keepdim=st.booleans())
def test_sum(data, keepdim):
    x, dim = draw_x_dim(data)
    out = x.sum(dim, keepdim=keepdim)
    np.testing.assert_allclose(out._data, np.sum(x._data, axis=axis_of(dim, x), keepdims=keepdim), rtol=1e-12)
    assert_gradients_match(lambda t: t.sum(dim, keepdim=keepdim), x)
    assert_gradgrad_match(lambda t: (t * t).sum(dim, keepdim=keepdim), x)


def test_sum_full_and_function_form():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = ad.sum(x)
    assert y.shape == () and y.item() == 15.0
    y.backward()
    np.testing.assert_array_equal(x.grad._data, np.ones((2, 3)))
    np.testing.assert_array_equal(x.sum(-1)._data, [3.0, 12.0])
    np.testing.assert_array_equal(x.sum((0, 1), keepdim=True)._data, [[15.0]])


@given(data=st.data(), keepdim=st.booleans())
def test_mean(data, keepdim):
    x, dim = draw_x_dim(data)
    out = x.mean(dim, keepdim=keepdim)
    np.testing.assert_allclose(out._data, np.mean(x._data, axis=axis_of(dim, x), keepdims=keepdim),
                               rtol=1e-12, atol=1e-12)
    assert_gradients_match(lambda t: t.mean(dim, keepdim=keepdim), x)
    assert_gradgrad_match(lambda t: (t * t).mean(dim, keepdim=keepdim), x)


@given(data=st.data(), keepdim=st.booleans(), correction=st.sampled_from([0, 1]))
def test_var(data, keepdim, correction):
    x, dim = draw_x_dim(data)
    assume(count_of(x, dim) > correction)
    out = x.var(dim, keepdim=keepdim, correction=correction)
    ref = np.var(x._data, axis=axis_of(dim, x), keepdims=keepdim, ddof=correction)
    np.testing.assert_allclose(out._data, ref, rtol=1e-10, atol=1e-10)
    assert_gradients_match(lambda t: t.var(dim, keepdim=keepdim, correction=correction), x)
    assert_gradgrad_match(lambda t: t.var(dim, keepdim=keepdim, correction=correction), x)


@given(data=st.data(), keepdim=st.booleans(), unbiased=st.booleans())
def test_std(data, keepdim, unbiased):
    x, dim = draw_x_dim(data)
    assume(count_of(x, dim) > 1)
    distinct(x, data)
    out = x.std(dim, unbiased=unbiased, keepdim=keepdim)
    ref = np.std(x._data, axis=axis_of(dim, x), keepdims=keepdim, ddof=int(unbiased))
    np.testing.assert_allclose(out._data, ref, rtol=1e-10)
    assert_gradients_match(lambda t: t.std(dim, unbiased=unbiased, keepdim=keepdim), x)
    assert_gradgrad_match(lambda t: t.std(dim, unbiased=unbiased, keepdim=keepdim), x)


def test_var_std_default_is_unbiased_like_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 4.0, 2.5], [0.5, -3.0, 2.0]])
    x = ad.tensor(values)
    t = torch.tensor(values)
    np.testing.assert_allclose(x.var()._data, t.var().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.std(1)._data, t.std(1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.var(0, unbiased=False)._data, t.var(0, unbiased=False).numpy(), rtol=1e-12)


@pytest.mark.parametrize("which", ["max", "min"])
@given(data=st.data(), keepdim=st.booleans())
def test_max_min_with_dim(which, data, keepdim):
    x, dim = draw_x_dim(data, allow_none=False, allow_tuple=False)
    distinct(x, data)
    values, indices = getattr(x, which)(dim, keepdim=keepdim)
    axis = dim if x.ndim else None
    ref = getattr(np, which)(x._data, axis=axis, keepdims=keepdim)
    np.testing.assert_array_equal(values._data, ref)
    arg = getattr(np, "arg" + which)(x._data, axis=axis, keepdims=keepdim)
    np.testing.assert_array_equal(indices._data, arg)
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert_gradients_match(lambda t: getattr(t, which)(dim, keepdim=keepdim).values, x)
    assert_gradgrad_match(lambda t: getattr(t, which)(dim, keepdim=keepdim)[0] ** 2, x)


@pytest.mark.parametrize("which", ["max", "min", "amax", "amin"])
@given(data=st.data())
def test_max_min_full_reduction(which, data):
    x = data.draw(tensors(shape=SHAPES, contiguous=None), label="x")
    distinct(x, data)
    out = getattr(x, which)()
    assert out.shape == ()
    assert out.item() == getattr(np, which)(x._data)
    assert_gradients_match(lambda t: getattr(t, which)(), x)
    assert_gradgrad_match(lambda t: getattr(t, which)() ** 2, x)


@pytest.mark.parametrize("which", ["amax", "amin"])
@given(data=st.data(), keepdim=st.booleans())
def test_amax_amin_dims(which, data, keepdim):
    x, dim = draw_x_dim(data)
    distinct(x, data)
    ref = getattr(np, which)(x._data, axis=axis_of(dim, x), keepdims=keepdim)
    np.testing.assert_array_equal(getattr(x, which)(dim, keepdim=keepdim)._data, ref)
    assert_gradients_match(lambda t: getattr(t, which)(dim, keepdim=keepdim), x)


def test_max_ties_share_the_gradient_like_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = ad.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    x.max().backward()
    t.max().backward()
    np.testing.assert_array_equal(x.grad._data, t.grad.numpy())   # [[0, .5, .5], [0, 0, 0]]
    x.grad = None
    x.max(1).values.sum().backward()   # along a dim, one index wins (the first, as numpy's argmax)
    np.testing.assert_array_equal(x.grad._data, [[0, 1, 0], [1, 0, 0]])


@given(data=st.data(), keepdim=st.booleans())
def test_logsumexp(data, keepdim):
    x, dim = draw_x_dim(data, allow_none=False)
    out = x.logsumexp(dim, keepdim=keepdim)
    ref = np.log(np.sum(np.exp(x._data), axis=axis_of(dim, x), keepdims=keepdim))
    np.testing.assert_allclose(out._data, ref, rtol=1e-12, atol=1e-12)
    assert_gradients_match(lambda t: t.logsumexp(dim, keepdim=keepdim), x)
    assert_gradgrad_match(lambda t: ad.logsumexp(t, dim, keepdim=keepdim), x)


def test_logsumexp_is_stable():
    x = ad.tensor(np.array([1000.0, 1000.0, -1000.0]), requires_grad=True)
    y = x.logsumexp(0)
    np.testing.assert_allclose(y.item(), 1000.0 + np.log(2.0))
    y.backward()
    np.testing.assert_allclose(x.grad._data, [0.5, 0.5, 0.0])


def softmax_ref(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_log_softmax(which, data):
    x, dim = draw_x_dim(data, allow_none=False, allow_tuple=False)
    axis = dim if x.ndim else None
    ref = softmax_ref(x._data, axis)
    out = getattr(x, which)(dim)
    np.testing.assert_allclose(out._data, ref if which == "softmax" else np.log(ref), rtol=1e-10, atol=1e-12)
    assert_gradients_match(lambda t: getattr(t, which)(dim), x)
    assert_gradgrad_match(lambda t: getattr(ad, which)(t, dim), x)


def test_softmax_is_stable_and_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[1000.0, 999.0, -5.0], [0.1, 0.2, 0.3]])
    up = np.array([[0.3, -1.0, 2.0], [1.5, 0.5, -0.5]])
    for which in ("softmax", "log_softmax"):
        x = ad.tensor(values, requires_grad=True)
        t = torch.tensor(values, requires_grad=True)
        out, tout = getattr(x, which)(1), getattr(t, which)(1)
        out.backward(ad.tensor(up))
        tout.backward(torch.tensor(up))
        np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("which", ["sum", "mean", "var", "std", "logsumexp", "amax"])
def test_reductions_match_torch(which):
    torch = pytest.importorskip("torch")
    values = np.array([[[0.5, -1.0], [2.0, 3.5]], [[-0.25, 4.0], [1.0, -2.0]]])
    up = np.array([[1.0, -2.0], [0.5, 3.0]])
    x = ad.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    out, tout = getattr(x, which)(1), getattr(t, which)(1)
    out.backward(ad.tensor(up))
    tout.backward(torch.tensor(up))
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-10)


@given(data=st.data())
def test_reduction_of_a_tensor_used_twice(data):
    x = data.draw(tensors(shape=SHAPES, contiguous=None))
    assert_gradients_match(lambda t: t.sum() * t.mean() + (t * t.softmax(-1)).sum(), x)
