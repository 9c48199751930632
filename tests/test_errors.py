"""Every error names the operation and the shapes involved; and a failing op or backward
leaves the inputs and every accumulated ``.grad`` exactly as they were."""
import re
from contextlib import contextmanager

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops.linalg import Linear


@contextmanager
def unchanged(*tensors):
    """Assert that values, versions and .grad of ``tensors`` are identical after the block."""
    before = [(t.detach().numpy().copy(), t._version,
               None if t.grad is None else t.grad.numpy().copy()) for t in tensors]
    yield
    for t, (data, version, grad) in zip(tensors, before):
        np.testing.assert_array_equal(t.detach().numpy(), data)
        assert t._version == version
        if grad is None:
            assert t.grad is None
        else:
            np.testing.assert_array_equal(t.grad.numpy(), grad)


@pytest.fixture
def leaves():
    """Two leaves that already have a gradient from a successful backward."""
    x = ad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = ad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    ((x * w).sum() + (w * w).sum()).backward()
    assert x.grad.tolist() == [[0.5, -1.0, 2.0]] * 2 and w.grad.tolist() == [6.0, 5.0, 13.0]
    return x, w


# ---------------------------------------------------------------------- shapes
def test_matmul_shape_mismatch(leaves):
    a, b = ad.randn(10, 2, requires_grad=True), ad.randn(3, 4, requires_grad=True)
    message = re.escape("matmul: cannot multiply (10, 2) by (3, 4): inner sizes 2 and 3 differ")
    with unchanged(a, b):
        for fn in (lambda: a @ b, lambda: ad.matmul(a, b), lambda: a.mm(b), lambda: a.detach() @ b.detach()):
            with pytest.raises(ValueError, match="^" + message + "$"):
                fn()
    x, w = leaves
    with unchanged(x, w), pytest.raises(ValueError, match=re.escape("(2, 3) by (2, 3): inner sizes 3 and 2")):
        x @ x


@pytest.mark.parametrize("a_shape, b_shape, message", [
    ((3,), (4,), "matmul: cannot multiply (3,) by (4,): inner sizes 3 and 4 differ"),
    ((2, 3), (4,), "matmul: cannot multiply (2, 3) by (4,): inner sizes 3 and 4 differ"),
    ((3,), (4, 2), "matmul: cannot multiply (3,) by (4, 2): inner sizes 3 and 4 differ"),
    ((2, 2, 3), (3, 3, 2), "matmul: batch dimensions of (2, 2, 3) and (3, 3, 2) cannot be broadcast together"),
    ((), (3,), "matmul: both arguments need at least 1 dimension, got shapes () and (3,)"),
])
def test_matmul_other_mismatches(a_shape, b_shape, message):
    a, b = ad.randn(*a_shape, requires_grad=True), ad.randn(*b_shape)
    with unchanged(a, b), pytest.raises(ValueError, match=re.escape(message)):
        a @ b


def test_mm_needs_2d():
    with pytest.raises(ValueError, match=re.escape("mm: both arguments must be 2-D, got shapes (3,) and (3, 2)")):
        ad.randn(3).mm(ad.randn(3, 2))


def test_linear_shape_mismatch():
    x, w = ad.randn(4, 3, requires_grad=True), ad.randn(2, 5, requires_grad=True)
    with unchanged(x, w), pytest.raises(ValueError, match=re.escape(
            "linear: cannot multiply input (4, 3) by weight.T of weight (2, 5): expected input features 5, got 3")):
        Linear.apply(x, w, None)
    with pytest.raises(ValueError, match=re.escape("linear: bias of shape (3,) does not match weight (2, 3)")):
        Linear.apply(ad.randn(4, 3), ad.randn(2, 3), ad.randn(3))


@pytest.mark.parametrize("name, fn", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
    ("maximum", lambda a, b: a.maximum(b)), ("minimum", lambda a, b: a.minimum(b)),
    ("where", lambda a, b: ad.where(a > 0, a, b)),
])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_broadcast_failure_names_op_and_both_shapes(name, fn, requires_grad):
    a = ad.rand(2, 3, requires_grad=requires_grad)
    b = ad.rand(4, requires_grad=requires_grad)
    with unchanged(a, b), pytest.raises(ValueError, match=re.escape(
            f"{name}: shapes (2, 3) and (4,) cannot be broadcast together")):
        fn(a, b)


def test_shape_op_errors():
    x = ad.randn(2, 3, requires_grad=True)
    cases = [
        (lambda: x.reshape(4, 2), ValueError,
         "reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into shape (4, 2)"),
        (lambda: x.view(5), ValueError, "reshape: cannot reshape a tensor of shape (2, 3)"),
        (lambda: x.expand(2, 4), ValueError,
         "expand: the expanded size 4 must match the existing size 3 at non-singleton dimension 1"),
        (lambda: x.expand(3), ValueError, "expand: the number of sizes 1 must be at least the number of dimensions 2"),
        (lambda: ad.cat([x, ad.randn(3, 2)]), ValueError,
         "cat: sizes of tensors must match except in dimension 0; got shapes (2, 3), (3, 2)"),
        (lambda: ad.stack([x, ad.randn(3, 2)]), ValueError,
         "stack: expects each tensor to be equal size, got shapes (2, 3), (3, 2)"),
        (lambda: x.permute(0, 0), ValueError, "permute: dims (0, 0) are not a permutation"),
        (lambda: ad.cat([]), ValueError, "cat: expected a non-empty list of tensors"),
        (lambda: x.split([1, 1], dim=1), ValueError, "split: sections [1, 1] sum to 2, but dimension 1"),
        (lambda: x.sum(dim=(0, -2)), ValueError, "sum: dim (0, -2) names the same dimension twice"),
        (lambda: x.clamp(), ValueError, "clamp: at least one of min and max must be given"),
    ]
    with unchanged(x):
        for fn, error, message in cases:
            with pytest.raises(error, match=re.escape(message)):
                fn()


# ---------------------------------------------------------------------- dims and indices
@pytest.mark.parametrize("name, fn, message", [
    ("sum", lambda x: x.sum(dim=2), "sum: dim 2 is out of range for a tensor with 2 dimensions"),
    ("mean", lambda x: x.mean(-3), "mean: dim -3 is out of range for a tensor with 2 dimensions"),
    ("max", lambda x: x.max(dim=5), "max: dim 5 is out of range for a tensor with 2 dimensions"),
    ("softmax", lambda x: x.softmax(dim=2), "softmax: dim 2 is out of range"),
    ("log_softmax", lambda x: x.log_softmax(-3), "log_softmax: dim -3 is out of range"),
    ("logsumexp", lambda x: x.logsumexp(2), "logsumexp: dim 2 is out of range"),
    ("transpose", lambda x: x.transpose(0, 2), "transpose: dim 2 is out of range"),
    ("unsqueeze", lambda x: x.unsqueeze(3), "unsqueeze: dim 3 is out of range for a tensor with 3 dimensions"),
    ("squeeze", lambda x: x.squeeze(2), "squeeze: dim 2 is out of range"),
    ("flatten", lambda x: x.flatten(0, 4), "flatten: dim 4 is out of range"),
    ("cat", lambda x: ad.cat([x, x], dim=2), "cat: dim 2 is out of range"),
    ("size", lambda x: x.size(2), "size: dim 2 is out of range"),
    ("argmax", lambda x: x.argmax(2), "argmax: dim 2 is out of range"),
    ("var", lambda x: x.var(2), "var: dim 2 is out of range"),
])
def test_out_of_range_dim(name, fn, message, leaves):
    x, w = leaves
    with unchanged(x, w), pytest.raises(IndexError, match=re.escape(message)):
        fn(x)


@pytest.mark.parametrize("key, message", [
    (5, "index: index 5 is out of bounds for axis 0 with size 2 (indexing a tensor of shape (2, 3))"),
    ((0, -4), "index -4 is out of bounds for axis 1 with size 3 (indexing a tensor of shape (2, 3))"),
    (np.array([0, 7]), "index 7 is out of bounds for axis 0 with size 2"),
    (np.array([True, False, True]), "boolean index did not match indexed array along axis 0"),
    ((0, 0, 0), "too many indices"),
])
def test_out_of_range_index(key, message, leaves):
    x, w = leaves
    with unchanged(x, w), pytest.raises(IndexError, match=re.escape(message)):
        x[key]
    with unchanged(x, w), pytest.raises(IndexError, match=re.escape(message)):
        x.detach()[key]


def test_setitem_out_of_range_changes_nothing(leaves):
    x, w = leaves
    y = x * 1.0
    with unchanged(x, w, y), pytest.raises(IndexError, match="index 9 is out of bounds"):
        y[9] = 1.0
    with unchanged(x, w), ad.no_grad(), pytest.raises(IndexError, match="index 9 is out of bounds"):
        x[9] = 1.0


# ---------------------------------------------------------------------- operand types
@pytest.mark.parametrize("fn", [
    lambda x: x + "a", lambda x: "a" - x, lambda x: x * None, lambda x: x / object(),
    lambda x: x ** "2", lambda x: x @ 3.0, lambda x: x @ [1.0, 2.0, 3.0], lambda x: {} + x,
])
def test_unsupported_operand_types(fn, leaves):
    x, w = leaves
    with unchanged(x, w), pytest.raises(TypeError, match="unsupported operand type|can only concatenate"):
        fn(x)


def test_tensor_from_unsupported_data():
    with pytest.raises(TypeError, match=re.escape("tensor: cannot make a tensor from str")):
        ad.tensor("abc")


# ---------------------------------------------------------------------- requires_grad and dtypes
@pytest.mark.parametrize("fn", [
    lambda: ad.tensor([1, 2], requires_grad=True),
    lambda: ad.tensor([1, 2]).requires_grad_(),
    lambda: setattr(ad.tensor([True]), "requires_grad", True),
    lambda: ad.arange(3, requires_grad=True),
    lambda: ad.zeros(2, dtype=ad.int32, requires_grad=True),
])
def test_requires_grad_on_integer_tensor(fn):
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients, got dtype (int|bool)"):
        fn()


def test_requires_grad_false_on_non_leaf():
    y = ad.randn(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf tensors"):
        y.requires_grad_(False)


def test_numpy_and_item_errors(leaves):
    x, _ = leaves
    with pytest.raises(RuntimeError, match=re.escape("use tensor.detach().numpy()")):
        x.numpy()
    with pytest.raises(ValueError, match="a tensor with 6 elements cannot be converted to a Python number"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


# ---------------------------------------------------------------------- backward
def test_backward_on_non_scalar_without_gradient(leaves):
    x, w = leaves
    y = x * w
    with unchanged(x, w), pytest.raises(RuntimeError, match=re.escape(
            "grad can be implicitly created only for scalar outputs; this tensor has shape (2, 3)")):
        y.backward()
    with unchanged(x, w), pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        ad.grad(y, x)
    y.backward(ad.ones(2, 3))            # the graph was not consumed by the failures
    assert w.grad.tolist() == [6.0 + 5.0, 5.0 + 7.0, 13.0 + 9.0]


def test_backward_with_gradient_of_wrong_shape(leaves):
    x, w = leaves
    y = x * w
    with unchanged(x, w), pytest.raises(RuntimeError, match=re.escape(
            "backward: gradient has shape (3,) but the tensor has shape (2, 3)")):
        y.backward(ad.ones(3))
    with unchanged(x, w), pytest.raises(RuntimeError, match=re.escape(
            "grad: grad_output of shape (2,) does not match output of shape (2, 3)")):
        ad.grad(y, x, grad_outputs=ad.ones(2))


def test_backward_on_tensor_that_does_not_require_grad(leaves):
    x, w = leaves
    with unchanged(x, w), pytest.raises(RuntimeError, match="does not require grad and has no grad_fn"):
        (x.detach() * 2).sum().backward()
    with ad.no_grad():
        y = (x * w).sum()
    with unchanged(x, w), pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_second_backward_through_a_freed_graph(leaves):
    x, w = leaves
    y = (x * w).exp().sum()
    y.backward()
    with unchanged(x, w), pytest.raises(RuntimeError, match=r"backward through the graph a second time.*"
                                                            r"retain_graph=True"):
        y.backward()
    # a new graph that reaches into the freed one fails as a whole: x.grad gets nothing from it
    z = y * 2 + (x * x).sum()
    with unchanged(x, w), pytest.raises(RuntimeError, match="retain_graph=True"):
        z.backward()


def test_inplace_change_of_a_saved_tensor(leaves):
    x, w = leaves
    h = x * 1.0
    loss = h.sin().sum() + (w * 3).sum()      # sin saves h; the w branch is fine
    h.add_(1.0)
    with unchanged(x, w), pytest.raises(RuntimeError, match=r"SinBackward: one of the variables needed "
                                                            r"for gradient computation has been modified "
                                                            r"by an inplace operation.*shape \(2, 3\) is at "
                                                            r"version 1; expected version 0"):
        loss.backward()


def test_inplace_on_a_leaf_that_requires_grad(leaves):
    x, w = leaves
    for fn in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.clamp_(0, 1),
               lambda: x.copy_(ad.zeros(2, 3)), lambda: x.__setitem__(0, 1.0)):
        with unchanged(x, w), pytest.raises(RuntimeError, match="a leaf tensor that requires grad is being "
                                                                "used in an in-place operation"):
            fn()


def test_inplace_broadcast_failure_changes_nothing(leaves):
    x, w = leaves
    with unchanged(x, w), ad.no_grad(), pytest.raises(ValueError, match=re.escape(
            "add_: cannot broadcast (4,) into the in-place target of shape (2, 3)")):
        x.add_(ad.ones(4))
    with unchanged(x, w), ad.no_grad(), pytest.raises(ValueError, match=re.escape(
            "mul_: cannot broadcast (2, 3) into the in-place target of shape (3,)")):
        w.mul_(x)


def test_error_in_a_hook_half_way_leaves_every_grad_as_it_was(leaves):
    x, w = leaves
    h = x * w
    handle = h.register_hook(lambda g: 1 / 0)
    loss = h.sum() + (w * w).sum() + x.sum()
    with unchanged(x, w), pytest.raises(ZeroDivisionError):
        loss.backward()
    handle.remove()
    (x * w).sum().backward()               # and the next backward starts from them
    assert x.grad.tolist() == [[1.0, -2.0, 4.0]] * 2
    assert w.grad.tolist() == [6.0 + 5.0, 5.0 + 7.0, 13.0 + 9.0]


def test_grad_errors(leaves):
    x, w = leaves
    other = ad.randn(3, requires_grad=True)
    y = (x * w).sum()
    with unchanged(x, w), pytest.raises(RuntimeError, match=re.escape(
            "grad: input 0 (shape (3,)) was not used in the graph of the outputs; "
            "set allow_unused=True if this is intended")):
        ad.grad(y, other, retain_graph=True)
    with unchanged(x, w), pytest.raises(RuntimeError, match=re.escape(
            "grad: input 0 (shape (3,)) does not require grad")):
        ad.grad(y, ad.randn(3), retain_graph=True)
    with pytest.raises(ValueError, match="got 1 outputs but 2 grad_outputs"):
        ad.grad(y, x, grad_outputs=[ad.ones(()), ad.ones(())])
