"""gradcheck and gradgradcheck: they pass correct derivatives and catch wrong ones, saying where."""
import numpy as np
import pytest

import autodiff as ad


def leaf(values, requires_grad=True):
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


class WrongSquare(ad.Function):
    """x**2 whose backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x


class DetachedCube(ad.Function):
    """x**3 with a correct first derivative computed outside the graph: its second derivative is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * ad.tensor(3 * x.detach().numpy() ** 2)


def test_gradcheck_passes_correct_ops():
    x, y = leaf([[0.5, -1.0], [2.0, 0.3]]), leaf([1.5, -0.7])
    assert ad.gradcheck(lambda a, b: (a * b).sin() + a.exp() / (b * b + 1), (x, y)) is True
    assert ad.gradcheck(lambda a: a.softmax(-1), x) is True
    assert ad.gradcheck(lambda a, b: a @ b, (x, y)) is True
    assert ad.gradgradcheck(lambda a, b: (a * b).tanh(), (x, y)) is True


def test_gradcheck_multiple_outputs_and_constant_inputs():
    x, c = leaf([1.0, 2.0, 3.0]), leaf([0.5, 0.25, 2.0], requires_grad=False)
    assert ad.gradcheck(lambda a, b: (a * b, a.log(), a.sum()), (x, c))
    assert ad.gradgradcheck(lambda a, b: (a * a * b, a.sum()), (x, c))


def test_gradcheck_leaves_inputs_untouched():
    x = leaf([0.1, 0.2, 0.3])
    ad.gradcheck(lambda a: a.exp(), x)
    assert x.tolist() == [0.1, 0.2, 0.3] and x.grad is None


def test_gradcheck_catches_a_wrong_derivative_and_says_where():
    x = leaf([1.0, 2.0, -3.0])
    with pytest.raises(ad.GradcheckError) as info:
        ad.gradcheck(WrongSquare.apply, x)
    message = str(info.value)
    assert "output 0" in message and "input 0" in message and "shape (3,)" in message
    assert "element (0,)" in message
    assert "numerical 2," in message and "analytical 1 " in message
    assert "3 of 9 entries differ" in message
    assert isinstance(info.value, RuntimeError)


def test_gradcheck_names_the_second_input():
    x, y = leaf([1.0]), leaf([[4.0, 5.0]])
    with pytest.raises(ad.GradcheckError, match=r"input 1 \(shape \(1, 2\)\) element \(0, 0\): "
                                                r"numerical 8, analytical 4"):
        ad.gradcheck(lambda a, b: a + WrongSquare.apply(b), (x, y))


def test_gradcheck_returns_false_without_raising():
    x = leaf([1.0, 2.0])
    assert ad.gradcheck(WrongSquare.apply, x, raise_exception=False) is False
    assert ad.gradgradcheck(DetachedCube.apply, x, raise_exception=False) is False


def test_gradgradcheck_catches_a_non_differentiable_backward():
    x = leaf([1.0, -2.0, 0.5])
    assert ad.gradcheck(DetachedCube.apply, x) is True          # first derivative is right
    with pytest.raises(ad.GradcheckError, match="numerical .*analytical 0"):
        ad.gradgradcheck(DetachedCube.apply, x)


def test_gradgradcheck_with_given_grad_outputs():
    x = leaf([1.0, -2.0])
    assert ad.gradgradcheck(lambda a: a ** 3, x, grad_outputs=[np.array([0.5, 2.0])])


def test_gradcheck_rejects_bad_inputs():
    with pytest.raises(TypeError, match="float64"):
        ad.gradcheck(lambda a: a * 2, ad.tensor([1.0], requires_grad=True))
    with pytest.raises(ValueError, match="requires_grad=True"):
        ad.gradcheck(lambda a: a * 2, leaf([1.0], requires_grad=False))
    with pytest.raises(TypeError, match="expected a Tensor"):
        ad.gradcheck(lambda a: a * 2, (np.ones(2),))


def test_gradcheck_tolerances():
    class SlightlyOff(ad.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.001

    x = leaf([1.0, 2.0])
    assert ad.gradcheck(SlightlyOff.apply, x) is True             # within rtol=1e-3
    assert ad.gradcheck(SlightlyOff.apply, x, rtol=1e-5, raise_exception=False) is False


# ---------------------------------------------------------------------- autodiff.testing
def test_import_autodiff_does_not_need_hypothesis():
    import subprocess
    import sys
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "import autodiff\n"
            "print((autodiff.tensor([1.0], requires_grad=True) * 2).sum().item())\n"
            "try:\n    autodiff.testing\nexcept ImportError:\n    print('no testing')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2.0", "no", "testing"]


def test_autodiff_testing_is_exported():
    from autodiff import testing
    assert ad.testing is testing
    assert {"tensors", "shapes", "broadcastable_shapes", "valid_dims", "index_expressions",
            "assert_gradients_match", "assert_gradgrad_match"} <= set(testing.__all__)


def test_strategies_draw_what_they_promise():
    from hypothesis import given, strategies as st
    from autodiff import testing

    @given(x=testing.tensors(shape=testing.shapes(0, 3, 1, 3), min_value=-2, max_value=3,
                             contiguous=False),
           y=testing.tensors(shape=(2, 3), dtype=np.float32, contiguous=True),
           i=testing.tensors(shape=(4,), dtype=np.int64, min_value=0, max_value=5),
           shapes=testing.broadcastable_shapes(3, max_dims=3, max_side=3), data=st.data())
    def check(x, y, i, shapes, data):
        assert x.dtype == np.float64 and x.requires_grad and x.is_leaf and x.ndim <= 3
        assert ((x._data >= -2) & (x._data <= 3)).all()
        if sum(n > 1 for n in x.shape) >= 1:
            assert not x._data.flags.c_contiguous     # a transpose or a strided slice
        assert y.dtype == np.float32 and y.shape == (2, 3) and y._data.flags.c_contiguous
        assert i.dtype == np.int64 and not i.requires_grad and ((i._data >= 0) & (i._data <= 5)).all()
        assert np.broadcast_shapes(*shapes.input_shapes) == shapes.result_shape
        dim = data.draw(testing.valid_dims(x.ndim))
        x.sum(dim)                                     # accepted by the reductions
        key = data.draw(testing.index_expressions(x.shape))
        np.testing.assert_array_equal(x[key]._data, x._data[key])

    check()


def test_assert_gradients_match_catches_wrong_derivatives():
    from autodiff.testing import assert_gradgrad_match, assert_gradients_match
    x = leaf([1.0, -2.0, 0.5])
    assert_gradients_match(lambda t: t ** 3, x)
    assert_gradients_match(lambda t: t ** 3, x, upstream=np.array([1.0, 0.0, 2.0]))
    assert_gradgrad_match(lambda t: t ** 3, x)
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_gradients_match(WrongSquare.apply, x)
    assert_gradients_match(DetachedCube.apply, x)          # first derivative is right ...
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_gradgrad_match(DetachedCube.apply, x)        # ... the second is not
    assert x.grad is None and x.tolist() == [1.0, -2.0, 0.5]


def test_assert_gradients_match_catches_a_mutated_input():
    from autodiff.testing import assert_gradients_match

    class Sloppy(ad.Function):
        @staticmethod
        def forward(ctx, x):
            data = x.detach().numpy()
            data += 1.0                    # changes the caller's tensor
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(AssertionError, match="input 0 was changed in place"):
        assert_gradients_match(Sloppy.apply, leaf([1.0, 2.0]))
