"""Elementwise ops: forward against numpy/PyTorch, backward and double backward against
central differences (float64), on broadcast shapes, non-contiguous inputs and a random
upstream gradient."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autodiff as ad
from autodiff.testing import (assert_gradgrad_match, assert_gradients_match, broadcastable_shapes,
                              shapes, tensors)

SHAPES = shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def off_grid(x):
    """Move every value (in place, views kept) to k/4 + 1/8: at least 1/8 away from any
    multiple of 1/4, so from the kinks of relu, abs, clamp and from ties between two such tensors."""
    x._data[...] = np.floor(x._data * 4) / 4 + 0.125
    return x


def draw_pair(data, lo=-10, hi=10, lo_b=None, hi_b=None):
    in_a, in_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3)).input_shapes
    a = data.draw(tensors(shape=in_a, min_value=lo, max_value=hi, contiguous=None), label="a")
    b = data.draw(tensors(shape=in_b, min_value=lo if lo_b is None else lo_b,
                          max_value=hi if hi_b is None else hi_b, contiguous=None), label="b")
    return a, b


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name, function, numpy reference, value bounds, has a kink (values are kept off it)
UNARY = [
    ("neg", lambda x: -x, np.negative, (-10, 10), False),
    ("abs", lambda x: x.abs(), np.abs, (-10, 10), True),
    ("abs_builtin", abs, np.abs, (-10, 10), True),
    ("exp", lambda x: x.exp(), np.exp, (-5, 5), False),
    ("log", lambda x: x.log(), np.log, (0.1, 10), False),
    ("log1p", lambda x: x.log1p(), np.log1p, (-0.9, 10), False),
    ("sqrt", lambda x: x.sqrt(), np.sqrt, (0.1, 10), False),
    ("sin", lambda x: x.sin(), np.sin, (-10, 10), False),
    ("cos", lambda x: x.cos(), np.cos, (-10, 10), False),
    ("tanh", lambda x: x.tanh(), np.tanh, (-5, 5), False),
    ("sigmoid", lambda x: x.sigmoid(), sigmoid, (-10, 10), False),
    ("relu", lambda x: x.relu(), lambda a: np.maximum(a, 0), (-10, 10), True),
    ("leaky_relu", lambda x: ad.leaky_relu(x), lambda a: np.where(a > 0, a, 0.01 * a), (-10, 10), True),
    ("leaky_relu_0.2", lambda x: x.leaky_relu(0.2), lambda a: np.where(a > 0, a, 0.2 * a), (-10, 10), True),
    ("hardtanh", lambda x: ad.hardtanh(x), lambda a: np.clip(a, -1, 1), (-3, 3), True),
    ("hardtanh_-2_0.5", lambda x: x.hardtanh(-2.0, 0.5), lambda a: np.clip(a, -2, 0.5), (-3, 3), True),
    ("softplus", lambda x: x.softplus(), lambda a: np.log1p(np.exp(a)), (-10, 10), False),
    ("softplus_beta2", lambda x: x.softplus(beta=2.0), lambda a: np.log1p(np.exp(2 * a)) / 2,
     (-5, 5), False),
    ("clamp", lambda x: x.clamp(-1.0, 2.0), lambda a: np.clip(a, -1, 2), (-4, 4), True),
    ("clamp_min", lambda x: x.clamp(min=0.5), lambda a: np.maximum(a, 0.5), (-4, 4), True),
    ("clamp_max", lambda x: ad.clamp(x, max=-0.5), lambda a: np.minimum(a, -0.5), (-4, 4), True),
    ("square", lambda x: x.square(), np.square, (-10, 10), False),
    ("rsqrt", lambda x: x.rsqrt(), lambda a: 1 / np.sqrt(a), (0.1, 10), False),
    ("pow_2", lambda x: x ** 2, np.square, (-10, 10), False),
    ("pow_3", lambda x: x ** 3, lambda a: a ** 3, (-5, 5), False),
    ("pow_-1", lambda x: x ** -1.0, lambda a: 1 / a, (0.2, 5), False),
    ("pow_0.5", lambda x: x ** 0.5, np.sqrt, (0.1, 10), False),
    ("rpow_2", lambda x: 2.0 ** x, lambda a: 2.0 ** a, (-5, 5), False),
]
SMOOTH = [u for u in UNARY if not u[4]]


@pytest.mark.parametrize("name, fn, ref, bounds, kink", UNARY, ids=[u[0] for u in UNARY])
@given(data=st.data())
def test_unary(name, fn, ref, bounds, kink, data):
    x = data.draw(tensors(shape=SHAPES, min_value=bounds[0], max_value=bounds[1], contiguous=None))
    if kink:
        off_grid(x)
    out = fn(x)
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out._data, ref(x._data), rtol=1e-10, atol=1e-12)
    assert_gradients_match(fn, x)


@pytest.mark.parametrize("name, fn, ref, bounds, kink", UNARY, ids=[u[0] for u in UNARY])
@given(data=st.data())
def test_unary_second_derivative(name, fn, ref, bounds, kink, data):
    x = data.draw(tensors(shape=shapes(0, 2, 1, 3), min_value=bounds[0], max_value=bounds[1]))
    if kink:
        off_grid(x)
    assert_gradgrad_match(fn, x)


TORCH_UNARY = {
    "abs": ("abs", {}), "exp": ("exp", {}), "sin": ("sin", {}), "cos": ("cos", {}),
    "tanh": ("tanh", {}), "sigmoid": ("sigmoid", {}), "relu": ("relu", {}),
    "leaky_relu_0.2": ("nn.functional.leaky_relu", {"negative_slope": 0.2}),
    "hardtanh": ("nn.functional.hardtanh", {}), "softplus": ("nn.functional.softplus", {}),
    "softplus_beta2": ("nn.functional.softplus", {"beta": 2.0}),
    "clamp": ("clamp", {"min": -1.0, "max": 2.0}), "log1p": ("log1p", {}),
}


@pytest.mark.parametrize("name", sorted(TORCH_UNARY))
def test_unary_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn = dict((u[0], u[1]) for u in UNARY)[name]
    values = np.array([[-0.75, -0.3, 0.3], [0.9, 1.7, 3.2]])
    x = ad.tensor(values, requires_grad=True)
    fn(x).sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    torch_fn = torch
    for part in TORCH_UNARY[name][0].split("."):
        torch_fn = getattr(torch_fn, part)
    out = torch_fn(tx, **TORCH_UNARY[name][1])
    out.sum().backward()
    np.testing.assert_allclose(fn(x.detach())._data, out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-12)


def test_softplus_above_threshold_is_identity():
    x = ad.tensor(np.array([25.0, 30.0]), requires_grad=True)
    y = x.softplus()
    np.testing.assert_array_equal(y._data, [25.0, 30.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, [1.0, 1.0])


def test_sigmoid_no_overflow_warning():
    x = ad.tensor(np.array([-1000.0, 0.0, 1000.0]))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_array_equal(x.sigmoid()._data, [0.0, 0.5, 1.0])


def test_kink_derivatives_follow_torch_convention():
    # relu'(0) = 0, abs'(0) = 0, clamp passes the gradient at its bounds (as PyTorch)
    x = ad.tensor(np.array([0.0, -1.0, 2.0]), requires_grad=True)
    (x.relu() + x.abs() + x.clamp(-1.0, 2.0)).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0 + 0.0 + 1.0, 0.0 - 1.0 + 1.0, 1.0 + 1.0 + 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_selects_like_torch(dtype):
    # PyTorch's threshold_backward selects: where relu's output is 0 the gradient is 0 even
    # when the upstream gradient is inf or NaN (a product would give NaN); a NaN input passes it
    x = ad.tensor(np.array([0.0, -1.0, np.nan, 2.0, -3.0], dtype), requires_grad=True)
    x.relu().backward(ad.tensor(np.array([np.inf, np.nan, 1.0, np.inf, -np.inf], dtype)))
    np.testing.assert_array_equal(x.grad._data, np.array([0.0, 0.0, 1.0, np.inf, 0.0], dtype))
    assert x.grad.dtype == x.dtype


# ---------------------------------------------------------------------- binary ops
BINARY = [
    # name, fn, numpy reference, bounds of a, bounds of b
    ("add", lambda a, b: a + b, np.add, (-10, 10), (-10, 10)),
    ("sub", lambda a, b: a - b, np.subtract, (-10, 10), (-10, 10)),
    ("mul", lambda a, b: a * b, np.multiply, (-10, 10), (-10, 10)),
    ("div", lambda a, b: a / b, np.divide, (-10, 10), (0.5, 4)),
    ("div_negative", lambda a, b: a / b, np.divide, (-10, 10), (-4, -0.5)),
    ("pow", lambda a, b: a ** b, np.power, (0.5, 3), (-2, 2)),
    ("add_method", lambda a, b: a.add(b), np.add, (-10, 10), (-10, 10)),
    ("sub_function", lambda a, b: ad.sub(a, b), np.subtract, (-10, 10), (-10, 10)),
    ("mul_function", lambda a, b: ad.mul(a, b), np.multiply, (-10, 10), (-10, 10)),
    ("div_function", lambda a, b: ad.div(a, b), np.divide, (-10, 10), (0.5, 4)),
    ("pow_function", lambda a, b: ad.pow(a, b), np.power, (0.5, 3), (-2, 2)),
]
TIES = [
    ("maximum", lambda a, b: ad.maximum(a, b), np.maximum),
    ("minimum", lambda a, b: a.minimum(b), np.minimum),
    ("max_tensor", lambda a, b: a.max(b), np.maximum),
    ("min_tensor", lambda a, b: ad.min(a, b), np.minimum),
]


@pytest.mark.parametrize("name, fn, ref, bounds_a, bounds_b", BINARY, ids=[b[0] for b in BINARY])
@given(data=st.data())
def test_binary_broadcast(name, fn, ref, bounds_a, bounds_b, data):
    a, b = draw_pair(data, *bounds_a, *bounds_b)
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(out._data, ref(a._data, b._data), rtol=1e-12, atol=1e-12)
    assert_gradients_match(fn, a, b)


@pytest.mark.parametrize("name, fn, ref", TIES, ids=[t[0] for t in TIES])
@given(data=st.data())
def test_maximum_minimum_broadcast(name, fn, ref, data):
    a, b = draw_pair(data)
    off_grid(a)
    b._data[...] = np.floor(b._data * 4) / 4   # a - b is never 0: no ties
    out = fn(a, b)
    np.testing.assert_array_equal(out._data, ref(a._data, b._data))
    assert_gradients_match(fn, a, b)


@pytest.mark.parametrize("name, fn, ref", TIES, ids=[t[0] for t in TIES])
def test_maximum_minimum_ties_split_gradient(name, fn, ref):
    a = ad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = ad.tensor(np.array([1.0, 0.0, 5.0]), requires_grad=True)
    fn(a, b).sum().backward()
    wins = np.array([0.5, 1.0, 0.0]) if ref is np.maximum else np.array([0.5, 0.0, 1.0])
    np.testing.assert_array_equal(a.grad._data, wins)
    np.testing.assert_array_equal(b.grad._data, 1 - wins)


@pytest.mark.parametrize("name, fn, ref, bounds_a, bounds_b", BINARY[:6], ids=[b[0] for b in BINARY[:6]])
@given(data=st.data())
def test_binary_second_derivative(name, fn, ref, bounds_a, bounds_b, data):
    in_a, in_b = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3)).input_shapes
    a = data.draw(tensors(shape=in_a, min_value=bounds_a[0], max_value=bounds_a[1]))
    b = data.draw(tensors(shape=in_b, min_value=bounds_b[0], max_value=bounds_b[1]))
    assert_gradgrad_match(fn, a, b)


NUMBER_OPS = [
    ("add", lambda x, c: x + c, lambda x, c: c + x, np.add),
    ("sub", lambda x, c: x - c, lambda x, c: c - x, np.subtract),
    ("mul", lambda x, c: x * c, lambda x, c: c * x, np.multiply),
    ("div", lambda x, c: x / c, lambda x, c: c / x, np.divide),
    ("pow", lambda x, c: x ** c, lambda x, c: c ** x, np.power),
]


@pytest.mark.parametrize("name, right, left, ref", NUMBER_OPS, ids=[n[0] for n in NUMBER_OPS])
@given(data=st.data(), c=st.floats(0.5, 3.0), integer=st.booleans())
def test_python_number_on_either_side(name, right, left, ref, data, c, integer):
    c = max(round(c), 1) if integer else c
    x = data.draw(tensors(shape=SHAPES, min_value=0.5, max_value=3, contiguous=None))
    np.testing.assert_allclose(right(x, c)._data, ref(x._data, c), rtol=1e-12)
    np.testing.assert_allclose(left(x, c)._data, ref(c, x._data), rtol=1e-12)
    assert right(x, c).dtype == np.float64 and left(x, c).dtype == np.float64
    assert_gradients_match(lambda t: right(t, c), x)
    assert_gradients_match(lambda t: left(t, c), x)


def test_python_number_keeps_float32():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    for y in (x + 1, 1 - x, x * 2.5, 2.5 / x, x ** 2, 2 ** x):
        assert y.dtype == np.float32
    (2 ** x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad._data, np.log(2) * 2.0 ** np.array([1.0, 2.0]), rtol=1e-6)


@pytest.mark.parametrize("name, fn, ref, bounds_a, bounds_b", BINARY[:6], ids=[b[0] for b in BINARY[:6]])
@given(data=st.data())
def test_binary_same_tensor_twice(name, fn, ref, bounds_a, bounds_b, data):
    lo, hi = max(bounds_a[0], bounds_b[0]), min(bounds_a[1], bounds_b[1])
    if lo > hi:
        lo, hi = bounds_b
    x = data.draw(tensors(shape=SHAPES, min_value=lo, max_value=hi, contiguous=None))
    np.testing.assert_allclose(fn(x, x)._data, ref(x._data, x._data), rtol=1e-12)
    assert_gradients_match(lambda t: fn(t, t), x)


@given(data=st.data())
def test_x_times_x_gradient_is_2x(data):
    x = data.draw(tensors(shape=SHAPES, contiguous=None))
    y = x * x
    y.backward(ad.ones_like(y))
    np.testing.assert_allclose(x.grad._data, 2 * x._data)


@given(data=st.data())
def test_where(data):
    s_cond, s_a, s_b = data.draw(broadcastable_shapes(3, max_dims=3, max_side=3)).input_shapes
    cond = data.draw(tensors(shape=s_cond, dtype=bool, contiguous=None), label="cond")
    a = data.draw(tensors(shape=s_a, contiguous=None), label="a")
    b = data.draw(tensors(shape=s_b, contiguous=None), label="b")
    out = ad.where(cond, a, b)
    np.testing.assert_array_equal(out._data, np.where(cond._data, a._data, b._data))
    assert_gradients_match(lambda x, y: ad.where(cond, x, y), a, b)
    assert_gradients_match(lambda x, y: x.where(cond, y), a, b)
    assert_gradgrad_match(lambda x, y: ad.where(cond, x, y), a, b)


def test_where_with_a_number_and_same_tensor():
    x = ad.tensor(np.array([-1.0, 2.0, -3.0]), requires_grad=True)
    y = ad.where(x > 0, x, x * x)
    y.sum().backward()
    np.testing.assert_array_equal(y._data, [1.0, 2.0, 9.0])
    np.testing.assert_array_equal(x.grad._data, [-2.0, 1.0, -6.0])
    z = ad.where(x > 0, x, 0.0)
    np.testing.assert_array_equal(z._data, [0.0, 2.0, 0.0])


@pytest.mark.parametrize("name, fn, ref, bounds_a, bounds_b", BINARY[:6], ids=[b[0] for b in BINARY[:6]])
def test_binary_matches_torch(name, fn, ref, bounds_a, bounds_b):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    va = rng.uniform(*bounds_a, size=(2, 1, 3))
    vb = rng.uniform(*bounds_b, size=(4, 1))
    a, b = ad.tensor(va, requires_grad=True), ad.tensor(vb, requires_grad=True)
    ta, tb = torch.tensor(va, requires_grad=True), torch.tensor(vb, requires_grad=True)
    up = rng.standard_normal((2, 4, 3))
    out, tout = fn(a, b), fn(ta, tb)
    out.backward(ad.tensor(up))
    tout.backward(torch.tensor(up))
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad._data, ta.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(b.grad._data, tb.grad.numpy(), rtol=1e-10)


def test_float32_gradients_stay_float32_and_broadcast():
    a = ad.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    b = ad.tensor([[1.0], [2.0]], requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad._data, [[3.0, 3.0, 3.0]])
    np.testing.assert_array_equal(b.grad._data, [[6.0], [6.0]])


@given(data=st.data())
def test_float32_gradients_agree_with_float64(data):
    x64 = data.draw(tensors(shape=shapes(1, 2, 1, 3), min_value=0.5, max_value=3, contiguous=None))
    x32 = ad.tensor(x64._data.astype(np.float32), requires_grad=True)

    def f(t):
        return ((t.exp() * t).sigmoid() / (t + 1) + t.sqrt().tanh() * t ** 2).softmax(-1) * t.log()

    for x in (x64, x32):
        f(x).sum().backward()
    assert x32.grad.dtype == np.float32 and f(x32).dtype == np.float32
    np.testing.assert_allclose(x32.grad._data, x64.grad._data, rtol=1e-4, atol=1e-5)


def test_integer_tensor_with_python_float_gives_float32():
    i = ad.tensor([1, 2])
    for y in (i + 0.5, i * 2.5, 0.5 - i, i ** 0.5, i / 2, i * ad.tensor([0.5, 1.0])):
        assert y.dtype == np.float32           # as PyTorch; numpy would give float64
    assert (i * 2).dtype == np.int64 and (i + i).dtype == np.int64
    assert (i * ad.tensor(np.array([0.5, 1.0]))).dtype == np.float64


def test_unary_math_on_integer_tensor_gives_float32():
    i = ad.tensor([1, 2])
    for y in (i.sqrt(), i.exp(), i.log(), i.sin(), i.sigmoid(), i.tanh()):
        assert y.dtype == np.float32
