"""Matrix products: matmul in every shape combination (1-D, 2-D, batched, broadcast
batches), mm and the fused Linear op, forward against numpy/PyTorch, first and second
derivatives against central differences."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autodiff as ad
from autodiff.ops.linalg import Linear
from autodiff.testing import (assert_gradgrad_match, assert_gradients_match, broadcastable_shapes,
                              tensors)

SIDE = st.integers(1, 3)


@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) valid for a @ b: vectors, matrices, and batches that broadcast."""
    n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
    batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=2, max_side=3)).input_shapes
    a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b = (k,) if draw(st.booleans()) else batch_b + (k, m)
    return a, b


@given(data=st.data())
def test_matmul_all_shapes(data):
    shape_a, shape_b = data.draw(matmul_shapes(), label="shapes")
    a = data.draw(tensors(shape=shape_a, contiguous=None), label="a")
    b = data.draw(tensors(shape=shape_b, contiguous=None), label="b")
    out = a @ b
    np.testing.assert_allclose(out._data, np.matmul(a._data, b._data), rtol=1e-12, atol=1e-12)
    assert out.shape == np.matmul(a._data, b._data).shape
    assert_gradients_match(lambda x, y: x @ y, a, b)
    assert_gradients_match(lambda x, y: x.matmul(y), a, b)


@given(data=st.data())
def test_matmul_second_derivative(data):
    shape_a, shape_b = data.draw(matmul_shapes(), label="shapes")
    a = data.draw(tensors(shape=shape_a), label="a")
    b = data.draw(tensors(shape=shape_b), label="b")
    assert_gradgrad_match(lambda x, y: x @ y, a, b)


@given(data=st.data())
def test_matmul_same_tensor_twice(data):
    n = data.draw(SIDE)
    x = data.draw(tensors(shape=(n, n), contiguous=None))
    np.testing.assert_allclose((x @ x)._data, x._data @ x._data, rtol=1e-12)
    assert_gradients_match(lambda t: t @ t, x)
    assert_gradients_match(lambda t: t @ t.T, x)
    assert_gradgrad_match(lambda t: t @ t, x)


@given(data=st.data())
def test_mm(data):
    n, k, m = data.draw(SIDE), data.draw(SIDE), data.draw(SIDE)
    a = data.draw(tensors(shape=(n, k), contiguous=None))
    b = data.draw(tensors(shape=(k, m), contiguous=None))
    np.testing.assert_allclose(a.mm(b)._data, a._data @ b._data, rtol=1e-12)
    assert_gradients_match(lambda x, y: ad.mm(x, y), a, b)


def test_matmul_by_hand():
    a = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = ad.tensor([[5.0], [6.0]], requires_grad=True)
    y = a @ b
    np.testing.assert_array_equal(y._data, [[17.0], [39.0]])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad._data, [[5.0, 6.0], [5.0, 6.0]])
    np.testing.assert_array_equal(b.grad._data, [[4.0], [6.0]])


def test_matmul_with_numpy_operand():
    a = ad.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    m = np.array([[1.0, 0.0], [1.0, 1.0]])
    left, right = m @ a, a @ m
    assert isinstance(left, ad.Tensor) and isinstance(right, ad.Tensor)
    np.testing.assert_array_equal(left._data, m @ a._data)
    (left.sum() + right.sum()).backward()
    np.testing.assert_array_equal(a.grad._data, m.T @ np.ones((2, 2)) + np.ones((2, 2)) @ m.T)


@pytest.mark.parametrize("shape_a, shape_b", [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)), ((3,), (2, 3, 4)), ((2, 4, 3), (3,)), ((1, 2, 3), (5, 3, 2)),
])
def test_matmul_matches_torch(shape_a, shape_b):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    va, vb = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a, b = ad.tensor(va, requires_grad=True), ad.tensor(vb, requires_grad=True)
    ta, tb = torch.tensor(va, requires_grad=True), torch.tensor(vb, requires_grad=True)
    out, tout = a @ b, ta @ tb
    up = rng.standard_normal(tuple(tout.shape))
    out.backward(ad.tensor(up))
    tout.backward(torch.tensor(up))
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.grad._data, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad._data, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(data=st.data(), batch=st.lists(SIDE, max_size=2), with_bias=st.booleans())
def test_linear(data, batch, with_bias):
    n_in, n_out = data.draw(SIDE), data.draw(SIDE)
    x = data.draw(tensors(shape=tuple(batch) + (n_in,), contiguous=None), label="x")
    w = data.draw(tensors(shape=(n_out, n_in), contiguous=None), label="weight")
    b = data.draw(tensors(shape=(n_out,)), label="bias") if with_bias else None
    ref = x._data @ w._data.T + (b._data if with_bias else 0)
    out = Linear.apply(x, w, b)
    assert out.grad_fn.name() == "LinearBackward"
    np.testing.assert_allclose(out._data, ref, rtol=1e-12, atol=1e-12)
    if with_bias:
        assert_gradients_match(lambda x_, w_, b_: Linear.apply(x_, w_, b_), x, w, b)
        assert_gradgrad_match(lambda x_, w_, b_: Linear.apply(x_, w_, b_), x, w, b)
    else:
        assert_gradients_match(lambda x_, w_: Linear.apply(x_, w_, None), x, w)
        assert_gradgrad_match(lambda x_, w_: Linear.apply(x_, w_, None), x, w)


def test_linear_matches_unfused_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    vx, vw, vb = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    x, w, b = (ad.tensor(v, requires_grad=True) for v in (vx, vw, vb))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (vx, vw, vb))
    up = rng.standard_normal((4, 2))
    Linear.apply(x, w, b).backward(ad.tensor(up))
    torch.nn.functional.linear(tx, tw, tb).backward(torch.tensor(up))
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(ours.grad._data, theirs.grad.numpy(), rtol=1e-12)


def test_linear_only_some_inputs_require_grad():
    x = ad.tensor(np.ones((2, 3)))
    w = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = ad.tensor(np.zeros(2))
    Linear.apply(x, w, b).sum().backward()
    np.testing.assert_array_equal(w.grad._data, np.full((2, 3), 2.0))
    assert x.grad is None and b.grad is None
