"""Scalar (micrograd-style): values and derivatives by hand and by finite differences,
on the same engine as Tensor."""
import gc
import math
import sys

import pytest
from hypothesis import given, strategies as st

import autodiff as ad
from autodiff import Scalar

finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


def numerical(f, *values, eps=1e-6):
    """Central differences of ``f`` (Scalars in, a Scalar out) at ``values``."""
    grads = []
    for i in range(len(values)):
        hi = [v + eps if j == i else v for j, v in enumerate(values)]
        lo = [v - eps if j == i else v for j, v in enumerate(values)]
        grads.append((f(*map(Scalar, hi)).data - f(*map(Scalar, lo)).data) / (2 * eps))
    return grads


def test_lecture_example():
    x, y, z = Scalar(-2.0, label="x"), Scalar(5.0, label="y"), Scalar(-4.0, label="z")
    q = x + y
    f = q * z
    f.backward()
    assert (f.data, q.data) == (-12.0, 3.0)
    assert (x.grad, y.grad, z.grad, q.grad, f.grad) == (-4.0, -4.0, 3.0, -4.0, 1.0)
    assert repr(x) == "Scalar(x: data=-2, grad=-4)"


# op: (function, value, derivative(s) by hand) at a = 1.5, b = -0.5
A, B = 1.5, -0.5
BY_HAND = {
    "add": (lambda a, b: a + b, A + B, (1.0, 1.0)),
    "sub": (lambda a, b: a - b, A - B, (1.0, -1.0)),
    "mul": (lambda a, b: a * b, A * B, (B, A)),
    "div": (lambda a, b: a / b, A / B, (1 / B, -A / B ** 2)),
    "pow": (lambda a, b: a ** 3, A ** 3, (3 * A ** 2, 0.0)),
    "pow_float": (lambda a, b: a ** 0.5, A ** 0.5, (0.5 / A ** 0.5, 0.0)),
    "rpow": (lambda a, b: 2 ** a, 2 ** A, (2 ** A * math.log(2), 0.0)),
    "neg": (lambda a, b: -a, -A, (-1.0, 0.0)),
    "exp": (lambda a, b: a.exp(), math.exp(A), (math.exp(A), 0.0)),
    "log": (lambda a, b: a.log(), math.log(A), (1 / A, 0.0)),
    "tanh": (lambda a, b: b.tanh(), math.tanh(B), (0.0, 1 - math.tanh(B) ** 2)),
    "sigmoid": (lambda a, b: b.sigmoid(), 1 / (1 + math.exp(-B)),
                (0.0, math.exp(-B) / (1 + math.exp(-B)) ** 2)),
    "relu_pos": (lambda a, b: a.relu(), A, (1.0, 0.0)),
    "relu_neg": (lambda a, b: b.relu(), 0.0, (0.0, 0.0)),
}


@pytest.mark.parametrize("name", BY_HAND)
def test_ops_by_hand(name):
    fn, value, (da, db) = BY_HAND[name]
    a, b = Scalar(A), Scalar(B)
    out = fn(a, b)
    out.backward()
    assert out.data == pytest.approx(value, rel=1e-12)
    assert a.grad == pytest.approx(da, rel=1e-12) and b.grad == pytest.approx(db, rel=1e-12)


@pytest.mark.parametrize("fn, value, da", [
    (lambda a: a + 2, 3.5, 1.0), (lambda a: 2 + a, 3.5, 1.0),
    (lambda a: a - 2, -0.5, 1.0), (lambda a: 2 - a, 0.5, -1.0),
    (lambda a: a * 3, 4.5, 3.0), (lambda a: 3 * a, 4.5, 3.0),
    (lambda a: a / 2, 0.75, 0.5), (lambda a: 3 / a, 2.0, -3 / A ** 2),
    (lambda a: 2.0 ** a, 2 ** A, 2 ** A * math.log(2)),
])
def test_python_numbers_on_either_side(fn, value, da):
    a = Scalar(A)
    out = fn(a)
    out.backward()
    assert isinstance(out, Scalar)
    assert out.data == pytest.approx(value, rel=1e-12) and a.grad == pytest.approx(da, rel=1e-12)


def composite(x, y):
    return ((x * y + x.exp() / (y * y + 1)).tanh() - (x - y) ** 2 / 4 + (y * y + 0.5).log()
            + (x * 0.5).sigmoid() * 3 - 1 / (x * x + 2))


@given(finite, finite)
def test_composite_against_finite_differences(x0, y0):
    x, y = Scalar(x0), Scalar(y0)
    out = composite(x, y)
    out.backward()
    expected = numerical(composite, x0, y0)
    assert x.grad == pytest.approx(expected[0], rel=1e-4, abs=1e-6)
    assert y.grad == pytest.approx(expected[1], rel=1e-4, abs=1e-6)


@given(finite)
def test_scalar_agrees_with_tensor(x0):
    s = Scalar(x0)
    t = ad.tensor(x0, dtype=ad.float64, requires_grad=True)
    for x in (s, t):
        ((x * x + 1).log() * x.tanh() + (x * 2).exp() / 8).backward()
    assert s.grad == pytest.approx(t.grad.item(), rel=1e-10, abs=1e-12)


def test_reused_scalar_sums_over_paths():
    a = Scalar(3.0)
    b = a * a            # a used twice in one op
    c = b + a            # and again
    d = c * b            # b used on two paths (diamond)
    d.backward()
    # d = (a^2 + a) a^2 = a^4 + a^3 -> 4a^3 + 3a^2
    assert d.data == 3 ** 4 + 3 ** 3
    assert a.grad == 4 * 27 + 3 * 9


def test_backward_twice_gives_exactly_double():
    """The micrograd trap: interior gradients must not be fed back into the second pass."""
    a, b = Scalar(2.0), Scalar(-3.0)
    c = a * b
    d = c * c + c        # c is an interior node used twice
    e = d * a
    e.backward()
    first = (a.grad, b.grad, c.grad, d.grad)
    e.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == tuple(2 * g for g in first)
    e.zero_grad()
    assert (a.grad, b.grad, c.grad, d.grad, e.grad) == (0.0, 0.0, 0.0, 0.0, 0.0)
    e.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == first


def test_deep_chain_has_no_recursion_error():
    assert sys.getrecursionlimit() <= 10_000
    enabled = gc.isenabled()
    gc.disable()                         # the cycle collector only slows 200,000 allocations down
    try:
        x = Scalar(0.5)
        y = x
        for _ in range(100_000):
            y = y + 0.5
        y.backward()
        assert y.data == 50_000.5 and x.grad == 1.0
        y.zero_grad()
        assert x.grad == 0.0
    finally:
        if enabled:
            gc.enable()


def test_errors():
    with pytest.raises(ZeroDivisionError, match="/ 0"):
        Scalar(1.0) / Scalar(0.0)
    with pytest.raises(ValueError, match="not positive"):
        Scalar(-1.0).log()
    with pytest.raises(TypeError, match="exponent"):
        Scalar(2.0) ** Scalar(2.0)
    with pytest.raises(TypeError, match="str"):
        Scalar(1.0) + "a"
    with pytest.raises(TypeError):
        "a" * Scalar(1.0) + 1
