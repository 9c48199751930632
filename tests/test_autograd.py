"""Graph semantics: paths sum, .grad accumulates, retain_graph and create_graph, autodiff.grad,
hooks, grad modes, custom Functions, in-place operations and versions."""
import threading

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autodiff as ad
from autodiff.testing import assert_gradients_match, shapes, tensors


def leaf(values, requires_grad=True):
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------------- paths and accumulation
def test_diamond_sums_over_paths():
    x = leaf([1.0, -2.0, 3.0])
    a, b = x * 2, x * 3          # x -> a -> y and x -> b -> y
    y = (a * b).sum()            # 6 x^2
    y.backward()
    np.testing.assert_allclose(x.grad._data, 12 * x._data)


def test_reused_intermediate_sums_over_paths():
    x = leaf(1.5)
    h = x.exp()
    y = h * h + h.sin() + h      # three uses of h
    y.backward()
    e = np.exp(1.5)
    np.testing.assert_allclose(x.grad.item(), (2 * e + np.cos(e) + 1) * e)


def test_deep_diamond_chain():
    x = leaf(0.5)
    y = x
    for _ in range(30):          # 2^30 paths: counted, not walked
        y = y * 0.5 + y * 0.5
    y.backward()
    assert x.grad.item() == pytest.approx(1.0)


def test_grad_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, 2 * x._data + 3)
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 3.0])


def test_gradients_of_two_leaves_never_alias():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    assert a.grad is not b.grad
    assert not np.shares_memory(a.grad._data, b.grad._data)
    a.grad._data[0] = 100.0
    assert b.grad._data[0] == 1.0
    c = leaf([1.0, 2.0])
    y = c * 1
    y.backward(ad.tensor(np.array([5.0, 6.0])))
    up = ad.tensor(np.array([5.0, 6.0]))
    z = c + 0
    c.grad = None
    z.backward(up)
    assert not np.shares_memory(c.grad._data, up._data)


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    first = x.grad._data.copy()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(x.grad._data, first)


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad._data, 2 * (np.exp(x._data) * (x._data + 1)))


def test_backward_of_several_outputs_at_once():
    x = leaf([1.0, 2.0])
    y1, y2 = (x * x).sum(), (x * 3).sum()
    ad.autograd.backward([y1, y2])
    np.testing.assert_array_equal(x.grad._data, 2 * x._data + 3)


def test_backward_of_a_leaf():
    x = leaf([1.0, 2.0])
    x.backward(ad.tensor(np.array([3.0, 4.0])))
    np.testing.assert_array_equal(x.grad._data, [3.0, 4.0])


# ---------------------------------------------------------------------- higher order
@given(x=tensors(shape=shapes(1, 2, 1, 4)), v=st.data())
def test_hessian_vector_product_of_sum_cubed(x, v):
    v = v.draw(tensors(shape=x.shape, requires_grad=False))
    f = (x ** 3).sum()
    g, = ad.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g._data, 3 * x._data ** 2)
    assert g.requires_grad
    hv, = ad.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv._data, 6 * x._data * v._data, rtol=1e-12, atol=1e-12)


def test_backward_with_create_graph_then_backward_again():
    x = leaf([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad._data, 6 * x._data)


def test_third_derivative():
    x = leaf(0.7)
    g1, = ad.grad(x.sin(), x, create_graph=True)
    g2, = ad.grad(g1, x, create_graph=True)
    g3, = ad.grad(g2, x)
    np.testing.assert_allclose([g1.item(), g2.item(), g3.item()],
                               [np.cos(0.7), -np.sin(0.7), -np.cos(0.7)])


def test_gradient_penalty_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    vx, vw = rng.standard_normal((3, 2)), rng.standard_normal((2, 2))

    def penalty(lib, x, w):            # WGAN-GP: (|d out / d x| - 1)^2 per row
        g, = lib.autograd.grad((lib.tanh(x @ w)).sum(), x, create_graph=True)
        return ((g * g).sum(1).sqrt() - 1).pow(2).mean()

    x, w = leaf(vx), leaf(vw)
    tx, tw = torch.tensor(vx, requires_grad=True), torch.tensor(vw, requires_grad=True)
    p, tp = penalty(ad, x, w), penalty(torch, tx, tw)
    p.backward()
    tp.backward()
    np.testing.assert_allclose(p.item(), tp.item(), rtol=1e-12)
    np.testing.assert_allclose(w.grad._data, tw.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-10)


# ---------------------------------------------------------------------- autodiff.grad
def test_grad_returns_without_accumulating():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = ad.grad(y, [x, w])
    np.testing.assert_array_equal(gx._data, [3.0, 4.0])
    np.testing.assert_array_equal(gw._data, [1.0, 2.0])
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad
    ga, gb = ad.grad((x + w).sum(), [x, w])       # Add sends one gradient to both inputs
    assert not np.shares_memory(ga._data, gb._data)


def test_grad_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ad.grad(y, [x, unused], retain_graph=True)
    gx, gu = ad.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx._data, [2.0])
    assert gu is None


def test_grad_with_respect_to_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    gh, gx = ad.grad(y, [h, x])
    np.testing.assert_array_equal(gh._data, 2 * h._data)
    np.testing.assert_array_equal(gx._data, 6 * h._data)


def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    g, = ad.grad(y, x, grad_outputs=ad.tensor(np.array([1.0, 0.0, -1.0])))
    np.testing.assert_array_equal(g._data, [2.0, 0.0, -6.0])


# ---------------------------------------------------------------------- hooks and retain_grad
def test_hook_on_a_leaf_replaces_its_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g._data.copy()) or g * 2)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [6.0, 6.0])
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 3.0])
    assert len(seen) == 1


def test_hook_on_a_non_leaf_changes_what_flows_back():
    x = leaf([1.0, 2.0])
    h = x * x
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_array_equal(x.grad._data, 20 * x._data)


def test_hook_returning_none_keeps_the_gradient():
    x = leaf([1.0, 2.0])
    calls = []
    x.register_hook(lambda g: calls.append(1))
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])
    assert calls == [1]


def test_retain_grad_on_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    y = (h * h).sum()
    y.backward()
    np.testing.assert_array_equal(h.grad._data, 2 * h._data)
    np.testing.assert_array_equal(x.grad._data, 6 * h._data)
    other = x * 2
    (other * 1).sum().backward()
    assert other.grad is None      # non-leaves keep no .grad unless asked


# ---------------------------------------------------------------------- grad modes
def test_no_grad_context_manager():
    x = leaf([1.0])
    with ad.no_grad():
        assert not ad.is_grad_enabled()
        y = x * 2
        with ad.enable_grad():
            assert ad.is_grad_enabled()
            z = x * 2
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_grad_modes_as_decorators():
    x = leaf([1.0])

    @ad.no_grad()
    def off(t):
        return t * 2

    @ad.enable_grad()
    def on(t):
        return t * 2

    @ad.set_grad_enabled(False)
    def off_too(t):
        return t * 2

    assert ad.is_grad_enabled()   # making the decorator did not switch anything
    assert not off(x).requires_grad and not off_too(x).requires_grad
    with ad.no_grad():
        assert on(x).requires_grad
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()


def test_set_grad_enabled_as_function_and_context():
    x = leaf([1.0])
    try:
        ad.set_grad_enabled(False)
        assert not (x * 2).requires_grad
    finally:
        ad.set_grad_enabled(True)
    with ad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ValueError):
        with ad.no_grad():
            raise ValueError("inside")
    assert ad.is_grad_enabled()


def test_grad_mode_is_thread_local():
    x = leaf([1.0])
    inside, entered, done = [], threading.Event(), threading.Event()

    def worker():
        with ad.no_grad():
            entered.set()
            done.wait(5)
            inside.append((x * 2).requires_grad)

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait(5)
    assert ad.is_grad_enabled()           # the other thread's no_grad does not reach here
    assert (x * 2).requires_grad
    done.set()
    thread.join()
    assert inside == [False]


# ---------------------------------------------------------------------- custom Function
class Cube(ad.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 3 * x * x


class ScaledProduct(ad.Function):
    """a * b * scale, with needs_input_grad respected."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b, _ = ctx.needs_input_grad
        ctx.seen = (need_a, need_b)
        return (grad * b * ctx.scale if need_a else None,
                grad * a * ctx.scale if need_b else None, None)


@given(x=tensors(shape=shapes(0, 2, 1, 3)))
def test_custom_function_passes_gradcheck(x):
    assert ad.gradcheck(Cube.apply, (x,))
    assert ad.gradgradcheck(Cube.apply, (x,))
    assert_gradients_match(Cube.apply, x)


def test_custom_function_graph_and_needs_input_grad():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0], requires_grad=False)
    y = ScaledProduct.apply(a, b, 2.0)
    assert y.grad_fn.name() == "ScaledProductBackward"
    assert ad.gradcheck(lambda a_, b_: ScaledProduct.apply(a_, b_, 2.0), (a, b))
    y.sum().backward()
    assert y.grad_fn.seen == (True, False)
    np.testing.assert_array_equal(a.grad._data, [6.0, 8.0])
    assert b.grad is None


def test_custom_function_without_grad_records_nothing():
    x = leaf([2.0])
    with ad.no_grad():
        y = Cube.apply(x)
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_array_equal(y._data, [8.0])


# ---------------------------------------------------------------------- in-place operations
@pytest.mark.parametrize("op, args, expected", [
    ("add_", (2.0,), [3.0, 4.0]), ("sub_", (1.0,), [0.0, 1.0]), ("mul_", (3.0,), [3.0, 6.0]),
    ("div_", (2.0,), [0.5, 1.0]), ("zero_", (), [0.0, 0.0]), ("fill_", (7.0,), [7.0, 7.0]),
    ("copy_", (np.array([5.0, 6.0]),), [5.0, 6.0]), ("clamp_", (1.5, 1.8), [1.5, 1.8]),
    ("add_", (ad.tensor(np.array([1.0, 1.0])),), [2.0, 3.0]),
])
def test_inplace_under_no_grad_changes_values_and_bumps_version(op, args, expected):
    x = leaf([1.0, 2.0])
    data = x._data
    version = x._version
    with ad.no_grad():
        out = getattr(x, op)(*args)
    assert out is x and x._data is data           # the same memory, changed in place
    np.testing.assert_array_equal(x._data, expected)
    assert x._version == version + 1
    assert x.is_leaf and x.requires_grad


def test_inplace_operators():
    x = ad.tensor(np.array([1.0, 2.0]))
    x += 1
    x *= 3
    x -= 1
    x /= 2
    np.testing.assert_array_equal(x._data, [2.5, 4.0])
    assert x._version == 4


def test_inplace_on_a_leaf_requiring_grad_raises():
    x = leaf([1.0, 2.0])
    for op, args in [("add_", (1.0,)), ("mul_", (2.0,)), ("zero_", ()), ("fill_", (1.0,))]:
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            getattr(x, op)(*args)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] = 5.0
    np.testing.assert_array_equal(x._data, [1.0, 2.0])
    assert x._version == 0


def test_inplace_change_of_a_saved_tensor_raises_version_error():
    x = leaf([1.0, 2.0])
    h = x * 2
    y = (h * h).sum()                 # h is saved for backward
    with ad.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="version 1; expected version 0"):
        y.backward()
    assert x.grad is None


def test_version_error_names_the_versions_when_a_saved_tensor_was_changed_before():
    x = leaf([1.0, 2.0])
    h = x * 2
    with ad.no_grad():
        h.add_(1.0)                   # version 1 when saved below
    y = (h * x).sum()
    with ad.no_grad():
        h.mul_(2.0)                   # version 2 at backward
    with pytest.raises(RuntimeError, match="MulBackward.*version 2; expected version 1"):
        y.backward()
    assert x.grad is None


def test_a_change_after_a_first_backward_is_caught_by_the_second():
    # the first backward finds every saved tensor unchanged; the node must look again
    # once anything has been changed in place since
    x = leaf([1.0, 2.0])
    h = x * 2
    y = (h * h).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])
    with ad.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="version 1; expected version 0"):
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])   # untouched by the failed pass


def test_assigning_data_of_a_saved_tensor_is_caught_not_silently_used():
    w = leaf([1.0, 2.0])
    y = (w * w).sum()                 # w is saved
    w.data = ad.tensor([10.0, 20.0])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    assert w.grad is None
    z = (w * w).sum()                 # a graph built after the change is fine
    z.backward()
    np.testing.assert_allclose(w.grad.numpy(), [20.0, 40.0])


def test_inplace_change_through_a_view_is_detected():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    h = x * 1
    y = (h.exp()).sum() + (h * h).sum()
    view = h[0]
    with ad.no_grad():
        view.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_on_unsaved_input_is_fine():
    x = leaf([1.0, 2.0])
    h = x * 2
    y = (h + 1).sum()                  # add saves nothing
    with ad.no_grad():
        h.add_(100.0)
    y.backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])


@pytest.mark.parametrize("name, fn", [
    ("add_", lambda t: t.mul(2).add_(t)),
    ("sub_", lambda t: (t.exp() * 1).sub_(t * t)),   # (exp's own output is saved: see engine tests)
    ("mul_", lambda t: t.sin().mul_(t)),
    ("div_", lambda t: (t * 3).div_(t * t + 1)),
    ("clamp_", lambda t: (t * 1).clamp_(-0.5, 0.5) * t),
    ("copy_", lambda t: (t * 1).copy_(t.exp()) * t),
    ("fill_", lambda t: (t * 1).fill_(2.0) * t),
    ("zero_", lambda t: (t * 1).zero_() + t * t),
    ("iadd", lambda t: _iadd(t * 1, t.cos())),
    ("setitem", lambda t: _setitem(t * 1, t[1:2].exp())),
])
def test_inplace_on_a_non_leaf_is_recorded(name, fn):
    x = leaf([0.3, -1.2, 2.1])
    y = fn(x)
    assert y.grad_fn is not None
    assert_gradients_match(fn, x)


def _iadd(a, b):
    a += b
    return a


def _setitem(a, value):
    a[0] = value[0] * 2
    a[np.array([2])] = 1.0
    return a


def test_inplace_on_a_non_leaf_bumps_its_version():
    x = leaf([1.0, 2.0])
    h = x * 2
    before = h._version
    h.add_(1.0)
    assert h._version == before + 1
    np.testing.assert_array_equal(h._data, [3.0, 5.0])
    h.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])


def test_inplace_on_a_constant_with_a_grad_operand():
    x = leaf([1.0, 2.0])
    buf = ad.zeros(2, dtype=ad.float64)
    buf.add_(x * x)
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 4.0])


def test_setitem_of_grad_values_into_a_constant_buffer():
    x = leaf([1.0, 2.0])
    buf = ad.zeros(3, dtype=ad.float64)
    buf[1:] = x * x
    buf[0] = x[0] * 5
    np.testing.assert_array_equal(buf._data, [5.0, 1.0, 4.0])
    buf.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [7.0, 4.0])


# ---------------------------------------------------------------------- leaves and names
def test_detach_shares_memory_and_leaves_the_graph():
    x = leaf([1.0, 2.0])
    h = x * 2
    d = h.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d._data, h._data)
    y = (d * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad._data, h._data)   # no gradient through d


def test_requires_grad_and_is_leaf():
    x = ad.tensor(np.array([1.0]))
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    x.requires_grad = False
    assert not (x * 2).requires_grad
    c = ad.tensor(np.array([1.0])) * 2
    assert c.is_leaf and not c.requires_grad


@pytest.mark.parametrize("fn, name", [
    (lambda x: x.sigmoid(), "SigmoidBackward"), (lambda x: x * 2, "MulBackward"),
    (lambda x: x + x, "AddBackward"), (lambda x: x.sum(), "SumBackward"),
    (lambda x: x @ x, "MatMulBackward"), (lambda x: x.exp(), "ExpBackward"),
    (lambda x: x.reshape(2, 1), "ReshapeBackward"), (lambda x: x[0], "IndexBackward"),
    (lambda x: x.relu(), "ReluBackward"), (lambda x: -x, "NegBackward"),
])
def test_grad_fn_names(fn, name):
    y = fn(leaf([1.0, 2.0]))
    assert y.grad_fn.name() == name
    assert repr(y.grad_fn) == f"<{name}>"
    assert f"grad_fn=<{name}>" in repr(y)


def test_next_functions_walk_the_graph():
    x, w = leaf([1.0]), leaf([2.0])
    y = (x * w).exp()
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward"
    assert [p.variable for p, _ in mul.next_functions] == [x, w]


def test_inplace_on_a_view_of_a_non_leaf_is_recorded_on_its_base():
    # as PyTorch's CopySlices: the base's history becomes "old base with the view's
    # region replaced by 3 * old view"
    x = leaf([1.0, 2.0])
    h = x * 1
    h[0:1].mul_(3.0)
    np.testing.assert_array_equal(h._data, [3.0, 2.0])
    assert h.grad_fn.name() == "CopySlices"
    h.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 1.0])


def test_inplace_on_a_view_without_grad_writes_through():
    h = ad.tensor([1.0, 2.0])
    h[0:1].mul_(3.0)
    np.testing.assert_array_equal(h._data, [3.0, 2.0])
