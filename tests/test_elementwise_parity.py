"""PyTorch parity of the elementwise ops beyond what the op table's rows express: the dtype
promotion rule over every mix of dtypes and kinds of operand, matrix products that refuse
mixed dtypes, argument errors, in-place forms, and gradients PyTorch defines at singular points."""
import itertools
import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops.promotion import result_type

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]


def _operand(kind, dtype, lib):
    """A tensor with dimensions, a 0-d tensor, or a Python number of ``dtype``'s category."""
    values = np.array([1, 0, 1]).astype(dtype)
    if kind == "dims":
        return ad.tensor(values) if lib is ad else torch.from_numpy(values)
    if kind == "zero":
        return ad.tensor(values[0]) if lib is ad else torch.from_numpy(values[:1].reshape(()))
    return {"b": True, "u": 2, "i": 2, "f": 0.5}[np.dtype(dtype).kind]


KINDS = ["dims", "zero", "number"]


@pytest.mark.parametrize("kind_a, kind_b", [(a, b) for a, b in itertools.product(KINDS, KINDS)
                                            if "dims" in (a, b) or (a, b) == ("zero", "zero")
                                            or (a, b) == ("zero", "number")])
def test_result_dtype_of_add_matches_pytorch(kind_a, kind_b):
    """Every pair of dtypes and kinds of operand (tensor with dims, 0-d tensor, Python number)."""
    for da, db in itertools.product(DTYPES, DTYPES):
        if kind_a == "number" and kind_b == "number":
            continue
        ours = _operand(kind_a, da, ad) + _operand(kind_b, db, ad)
        theirs = _operand(kind_a, da, torch) + _operand(kind_b, db, torch)
        assert str(ours.dtype).replace("autodiff.", "") == str(theirs.dtype).replace("torch.", ""), \
            f"{kind_a} {da} + {kind_b} {db}: {ours.dtype}, PyTorch {theirs.dtype}"


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "atan2", "fmod",
                                "remainder", "eq", "lt", "pow"])
def test_float32_with_float64_zero_dim_tensor_stays_float32(op):
    x = np.array([0.5, 1.5, 2.0], np.float32)
    ours = getattr(ad, op)(ad.tensor(x), ad.tensor(np.float64(0.7)))
    theirs = getattr(torch, op)(torch.from_numpy(x), torch.tensor(0.7, dtype=torch.float64))
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_the_issue_cases():
    c = ad.tensor([True, False, True])
    assert ad.where(c, ad.tensor([1, 2, 3]), 0.5).dtype == ad.float32
    assert ad.clamp(ad.tensor([1, 2, 3]), 0.5, 2.5).dtype == ad.float32
    np.testing.assert_array_equal(ad.clamp(ad.tensor([1, 2, 3]), 0.5, 2.5).numpy(), [1.0, 2.0, 2.5])
    assert (ad.ones(3) + ad.tensor(2.0, dtype=ad.float64)).dtype == ad.float32
    assert (ad.tensor([1, 2]) / ad.tensor([2, 4])).dtype == ad.float32
    assert (ad.tensor([1, 2]) + ad.tensor(1.5, dtype=ad.float64)).dtype == ad.float64   # across categories


def test_result_type_names_the_op_for_a_bad_operand():
    with pytest.raises(TypeError, match=r"clamp: expected a tensor or a number, got str 'x'"):
        result_type(np.ones(2), "x", op="clamp")


# ---------------------------------------------------------------------- matrix products
@pytest.mark.parametrize("a_dtype, b_dtype, names", [
    (np.float32, np.float64, "float != double"),
    (np.int64, np.float32, "long int != float"),
    (np.float64, np.float32, "double != float"),
])
def test_matmul_of_mixed_dtypes_raises_as_pytorch(a_dtype, b_dtype, names):
    a = ad.tensor(np.ones((2, 3), a_dtype))
    b = ad.tensor(np.ones((3, 2), b_dtype))
    with pytest.raises(RuntimeError, match=f"matmul: expected m1 and m2 to have the same dtype, but got: {names}"):
        a @ b
    with pytest.raises(RuntimeError):
        torch.from_numpy(np.ones((2, 3), a_dtype)) @ torch.from_numpy(np.ones((3, 2), b_dtype))


def test_linear_on_an_int_input_raises_as_pytorch():
    layer = ad.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="linear: expected m1 and m2 to have the same dtype, but got: long int != float"):
        layer(ad.tensor([[1, 2, 3]]))
    with pytest.raises(RuntimeError, match="same dtype"):
        layer(ad.tensor(np.ones((1, 3))))          # float64 input, float32 weight
    assert layer(ad.ones(1, 3)).dtype == ad.float32


# ---------------------------------------------------------------------- argument errors
def test_where_with_a_non_bool_condition_raises():
    with pytest.raises(RuntimeError, match="where: expected condition to be a boolean tensor, but got a tensor "
                                           "with dtype int64"):
        ad.where(ad.tensor([1, 0]), ad.ones(2), ad.zeros(2))


@pytest.mark.parametrize("kwargs, message", [
    (dict(min="x"), "clamp: min must be a number or a tensor, got str 'x'"),
    (dict(max=[1.0]), "clamp: max must be a number or a tensor, got list [1.0]"),
    (dict(), "clamp: at least one of min and max must be given"),
])
def test_clamp_argument_errors_name_the_argument(kwargs, message):
    x = ad.ones(2, requires_grad=True)
    with pytest.raises((TypeError, ValueError), match=message.replace("[", r"\[").replace("]", r"\]")):
        x.clamp(**kwargs)


@pytest.mark.parametrize("call, message", [   # PyTorch's wording: "sum(): argument 'dim' must be ..."
    (lambda x: x.sum(dim=1.5), "sum(): argument 'dim' must be an int or a tuple of ints, not float (1.5)"),
    (lambda x: x.mean(dim=(0, 1.0)),
     "mean(): argument 'dim' must be tuple of ints, but found element of type float at pos 1"),
    (lambda x: x.amax(dim=1.0), "amax(): argument 'dim' must be an int or a tuple of ints, not float (1.0)"),
    (lambda x: x.max(dim=1.0), "max(): argument 'dim' must be int, not float (1.0)"),
    (lambda x: x.argmax(dim=0.5), "argmax(): argument 'dim' must be int, not float (0.5)"),
    (lambda x: x.softmax(dim=None), "softmax(): argument 'dim' must be int, not NoneType (None)"),
    (lambda x: ad.log_softmax(x, None), "log_softmax(): argument 'dim' must be int, not NoneType (None)"),
    (lambda x: x.logsumexp(dim=1.5), "logsumexp(): argument 'dim' must be an int or a tuple of ints"),
    (lambda x: x.var(dim="0"), "var(): argument 'dim' must be an int or a tuple of ints, not str ('0')"),
])
def test_float_and_missing_dims_raise_naming_the_op(call, message):
    x = ad.ones(2, 3)
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(x)


def test_max_over_an_empty_dim_raises_as_pytorch():
    x = ad.zeros(0, 3)
    with pytest.raises(IndexError, match="max: expected reduction dim 0 to have non-zero size"):
        x.max(dim=0)
    with pytest.raises(IndexError, match="amin: expected reduction dim 0 to have non-zero size"):
        x.amin(0)
    assert x.max(dim=1).values.shape == (0,) and x.max(dim=1).indices.dtype == ad.int64


def test_bitwise_ops_refuse_floats():
    with pytest.raises(RuntimeError, match="bitwise_and: only integer and bool tensors are supported, got float32"):
        ad.ones(2) & ad.ones(2)
    with pytest.raises(RuntimeError, match="bitwise_not"):
        ~ad.ones(2)


# ---------------------------------------------------------------------- in-place forms
@pytest.mark.parametrize("name, args", [
    ("log2", ()), ("expm1", ()), ("reciprocal", ()), ("floor", ()), ("round", ()), ("frac", ()), ("tan", ()),
    ("atan", ()), ("sinh", ()), ("asinh", ()), ("atanh", ()), ("erf", ()), ("fmod", (0.7,)), ("remainder", (0.7,)),
    ("atan2", (np.array([0.5, -1.0, 2.0]),)), ("lerp", (np.array([1.0, 2.0, 3.0]), 0.3)),
    ("nan_to_num", ()),
])
def test_inplace_forms_write_the_out_of_place_result(name, args):
    values = np.array([0.25, 1.5, 2.75], np.float32)
    ours, theirs = ad.tensor(values), torch.from_numpy(values.copy())
    ours_args = [ad.tensor(a.astype(np.float32)) if isinstance(a, np.ndarray) else a for a in args]
    theirs_args = [torch.from_numpy(a.astype(np.float32)) if isinstance(a, np.ndarray) else a for a in args]
    result = getattr(ours, name + "_")(*ours_args)
    getattr(theirs, name + "_")(*theirs_args)
    assert result is ours and ours._version == 1
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_inplace_float_result_into_an_int_tensor_raises_as_pytorch():
    x = ad.tensor([3, 4])
    with pytest.raises(RuntimeError, match="log2_: result type Float can't be cast to the desired output type Long"):
        x.log2_()
    np.testing.assert_array_equal(x.numpy(), [3, 4])
    assert x.floor_() is x and x.dtype == ad.int64
    y = ad.tensor([3, 0])
    y.logical_and_(ad.tensor([1, 1]))
    np.testing.assert_array_equal(y.numpy(), [1, 0])


def test_inplace_form_is_recorded_for_gradients():
    x = ad.tensor([0.5, 1.5], requires_grad=True)
    y = x * 1.0
    y.atan2_(ad.tensor([1.0, 2.0]))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / (0.25 + 1), 2 / (2.25 + 4)], rtol=1e-6)


# ---------------------------------------------------------------------- gradients at singular points
def test_second_derivative_of_x_to_the_one_at_zero_is_zero():
    for lib in (ad, torch):
        x = lib.tensor(0.0, requires_grad=True)
        (g,) = lib.autograd.grad(x ** 1, x, create_graph=True)
        (gg,) = lib.autograd.grad(g, x)
        assert float(g) == 1.0 and float(gg) == 0.0, lib.__name__


@pytest.mark.parametrize("fn", [lambda lib, a, b: a ** b, lambda lib, a, b: 0.0 ** b, lambda lib, a, b: a ** 0])
def test_pow_gradients_at_zero_match_pytorch(fn):
    grads = {}
    for lib in (ad, torch):
        a = lib.tensor([0.0, 0.0, 2.0], requires_grad=True)
        b = lib.tensor([0.0, 2.0, 0.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(lib, a, b).sum().backward()
        grads[lib.__name__] = [None if t.grad is None else t.grad.numpy() for t in (a, b)]
    for ours, theirs in zip(grads["autodiff"], grads["torch"]):
        if theirs is None:
            assert ours is None or not np.any(ours)
        else:
            np.testing.assert_array_equal(ours, theirs)


def test_std_of_a_constant_slice_has_a_zero_gradient():
    x = ad.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], requires_grad=True)
    x.std(dim=1).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy())) and not np.any(x.grad.numpy()[0])


def test_clamp_sends_gradients_to_tensor_bounds():
    x = ad.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    lo = ad.tensor([-1.0, -1.0, -1.0], requires_grad=True)
    hi = ad.tensor(2.0, requires_grad=True)
    x.clamp(min=lo, max=hi).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 0])
    np.testing.assert_array_equal(lo.grad.numpy(), [1, 0, 0])
    assert float(hi.grad) == 1.0


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_classification_loss_with_a_minus_inf_logit_in_another_class_is_finite(loss):
    logits = np.array([[1.0, -np.inf, 0.5], [-np.inf, 2.0, 0.0]], np.float32)
    target = np.array([0, 1])
    results = {}
    for lib in (ad, torch):
        x = (ad.tensor(logits) if lib is ad else torch.from_numpy(logits.copy())).requires_grad_(True)
        t = ad.tensor(target) if lib is ad else torch.from_numpy(target)
        F = lib.nn.functional
        out = F.cross_entropy(x, t) if loss == "cross_entropy" else F.nll_loss(F.log_softmax(x, dim=1), t)
        out.backward()
        results[lib.__name__] = (float(out), x.grad.numpy())
    assert np.isfinite(results["autodiff"][0])
    np.testing.assert_allclose(results["autodiff"][0], results["torch"][0], rtol=1e-6)
    np.testing.assert_allclose(results["autodiff"][1], results["torch"][1], rtol=1e-6, atol=1e-7)


def test_erfinv_without_scipy_inverts_erf(monkeypatch):
    """The fallback used when scipy is missing: Newton's method on the pure-Python erf."""
    from autodiff.ops import elementwise, nn
    monkeypatch.setattr(nn, "_erf", nn.erf_python)
    x = np.concatenate([np.linspace(-0.9999, 0.9999, 201), [-1.0, 1.0, 0.0, 1.5]])
    y = elementwise._erfinv_newton(x)
    np.testing.assert_allclose(nn.erf_python(y[:-4]), x[:-4], rtol=0, atol=1e-13)
    np.testing.assert_array_equal(y[-4:-1], [-np.inf, np.inf, 0.0])
    assert np.isnan(y[-1])
    assert elementwise._erfinv_newton(x.astype(np.float32)).dtype == np.float32
