"""Factory keywords (size=, out=, dtype=, device=, requires_grad=) and argument errors, each
compared with PyTorch: the same result dtype and shape, or the same exception type."""
import math

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")


def _lib_call(lib, text):
    return eval(text, {"lib": lib, "nan": math.nan, "inf": math.inf, "np": np})


OK = [
    "lib.zeros(2, 3)", "lib.zeros((2, 3))", "lib.zeros([2, 3])", "lib.zeros(size=(2, 3))",
    "lib.zeros(lib.Size([2, 1]))", "lib.zeros(())", "lib.zeros(0)", "lib.ones(2, dtype=lib.int64)",
    "lib.ones(size=[3], dtype=lib.float64)", "lib.empty(2, 2).shape", "lib.full((2,), 3)",
    "lib.full((2,), 3.5)", "lib.full((2,), True)", "lib.full([2, 1], 7, dtype=lib.float64)",
    "lib.full((2,), 2.0, dtype=lib.int64)", "lib.eye(3)", "lib.eye(2, 3, dtype=lib.int64)",
    "lib.arange(5)", "lib.arange(1, 4)", "lib.arange(0, 1, 0.25)", "lib.arange(5, 0, -2)",
    "lib.arange(0.0, 3)", "lib.arange(3, dtype=lib.float64)", "lib.arange(0, 0)",
    "lib.linspace(0, 1, 5)", "lib.linspace(0, 1, 0)", "lib.linspace(-1, 1, 3, dtype=lib.float64)",
    "lib.zeros_like(lib.ones(2, dtype=lib.int64))", "lib.ones_like(lib.ones(2), dtype=lib.int32)",
    "lib.full_like(lib.ones(2, dtype=lib.int64), 4)", "lib.full_like(lib.ones(2), 2.5)",
    "lib.empty_like(lib.ones(2, 2)).dtype", "lib.rand(3).shape", "lib.randn(size=(2,)).shape",
    "lib.rand(2, dtype=lib.float64).dtype", "lib.randint(0, 5, (3,), dtype=lib.float32).dtype",
    "lib.randperm(4, dtype=lib.int32).dtype", "lib.randint(10, (2, 2)).shape",
    "lib.randn(2, 2, requires_grad=True).requires_grad",
    "lib.tensor(np.array([1, 2], dtype=np.uint8))", "lib.tensor(np.array([1.5], dtype=np.float16))",
    "lib.normal(lib.zeros(2, 1), lib.ones(3)).shape", "lib.normal(0.0, 1.0, (2, 3)).shape",
    "lib.normal(lib.zeros(2, dtype=lib.float64), 1.0).dtype", "lib.normal(2.0, lib.ones(3)).dtype",
    "lib.bernoulli(lib.full((2,), 0.5, dtype=lib.float64)).dtype", "lib.poisson(lib.ones(2)).dtype",
    "lib.multinomial(lib.ones(3), 2).dtype", "lib.multinomial(lib.ones(2, 3), 4, True).shape",
    "lib.randint_like(lib.zeros(2, dtype=lib.int32), 3).dtype", "lib.rand_like(lib.zeros(2, 2)).shape",
    "lib.randn_like(lib.zeros(2, dtype=lib.float64)).dtype", "lib.zeros(3).random_(2).dtype",
    "lib.zeros(3, dtype=lib.int32).random_(0, 4).dtype", "lib.zeros(2).bernoulli_(0.5).dtype",
]

ERRORS = [
    "lib.zeros(2.5)", "lib.ones(2, 2.0)", "lib.zeros(-1)", "lib.zeros((2, -3))", "lib.randn(2.5)",
    "lib.rand(3, dtype=lib.int64)", "lib.randn(2, dtype=lib.bool)", "lib.randn(2, dtype=lib.int32)",
    "lib.randperm(-1)", "lib.randperm(2.5)", "lib.full((2,), nan, dtype=lib.int64)",
    "lib.full((2,), inf, dtype=lib.int32)", "lib.full((2,), 300, dtype=lib.uint8)",
    "lib.full((2,), 'x')", "lib.arange(0, 10, 0)", "lib.arange(0, 10, -1)", "lib.arange(0, nan)",
    "lib.arange('a')", "lib.linspace(0, 1, -1)", "lib.linspace(0, 1, 2.5)", "lib.eye(-1)",
    "lib.zeros_like([1, 2])", "lib.ones_like(np.ones(2))", "lib.rand_like([1.0])",
    "lib.full_like((1, 2), 0)", "lib.randint(5, 3, (2,))", "lib.tensor(np.array(['a', 'b']))",
    "lib.tensor(np.array([object()], dtype=object))",
    "lib.tensor(np.array(['2020-01-01'], dtype='datetime64[D]'))",
    "lib.from_numpy(np.array(['a']))", "lib.zeros(2, out=lib.ones(2, requires_grad=True))",
    "lib.rand_like(lib.zeros(2, dtype=lib.int64))", "lib.normal(lib.zeros(2, dtype=lib.int64), 1.0)",
    "lib.zeros(3).random_(5, 2)", "lib.bernoulli(lib.ones(2), 1.5)", "lib.zeros(2).normal_(0, -1)",
]


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "")


@pytest.mark.parametrize("text", OK)
def test_factories_match_pytorch(text):
    got, expected = _lib_call(ad, text), _lib_call(torch, text)
    if isinstance(expected, torch.Tensor):
        assert _dtype_name(expected.dtype) == ad.dtypes.name(got.dtype)
        assert tuple(got.shape) == tuple(expected.shape)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    elif isinstance(expected, torch.dtype):
        assert _dtype_name(expected) == ad.dtypes.name(got)
    else:
        assert tuple(got) == tuple(expected) if isinstance(expected, tuple) else got == expected


@pytest.mark.parametrize("text", ERRORS)
def test_factory_errors_match_pytorch_and_name_the_op(text):
    with pytest.raises(Exception) as expected:
        _lib_call(torch, text)
    with pytest.raises((TypeError, RuntimeError, ValueError)) as got:
        _lib_call(ad, text)
    assert isinstance(got.value, type(expected.value)) or \
        (isinstance(expected.value, RuntimeError) and isinstance(got.value, RuntimeError))
    op = text.rsplit(").", 1)[1].split("(")[0] if ")." in text else text.split("(")[0][4:]
    assert op in str(got.value)


def test_set_default_dtype_refuses_integers_and_leaves_the_default():
    with pytest.raises(TypeError, match="set_default_dtype.*int64"):
        ad.set_default_dtype(ad.int64)
    assert ad.get_default_dtype() == ad.float32
    ad.set_default_dtype(ad.float64)
    try:
        assert ad.zeros(1).dtype == ad.float64 and ad.Tensor(2).dtype == ad.float64
    finally:
        ad.set_default_dtype(ad.float32)


@pytest.mark.parametrize("factory", ["zeros", "ones", "empty", "rand", "randn"])
def test_out_is_resized_and_overwritten(factory):
    out = ad.full((5,), 7.0)
    result = getattr(ad, factory)(2, 3, out=out)
    assert result is out and out.shape == (2, 3) and out.dtype == ad.float32
    same_shape = ad.full((2,), 7.0, dtype=ad.float64)
    storage = same_shape._data
    getattr(ad, factory)(2, out=same_shape)
    assert same_shape._data is storage and same_shape.dtype == ad.float64 and same_shape._version >= 1
    if factory in ("zeros", "ones"):
        assert same_shape.tolist() == [float(factory == "ones")] * 2


def test_out_with_another_dtype_raises_like_pytorch():
    with pytest.raises(RuntimeError):
        torch.zeros(2, dtype=torch.float32, out=torch.empty(2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="zeros.*float32.*float64"):
        ad.zeros(2, dtype=ad.float32, out=ad.empty(2, dtype=ad.float64))
    out = ad.arange(3, out=ad.zeros(1, dtype=ad.int64))
    assert out.tolist() == [0, 1, 2]


def test_requires_grad_and_device_keywords():
    for make in (lambda: ad.zeros(2, requires_grad=True), lambda: ad.full((2,), 1.5, requires_grad=True),
                 lambda: ad.linspace(0, 1, 3, requires_grad=True), lambda: ad.eye(2, requires_grad=True),
                 lambda: ad.ones_like(ad.ones(2), requires_grad=True)):
        t = make()
        assert t.requires_grad and t.is_leaf
        t.sum().backward()
        assert t.grad is not None
    assert ad.zeros(2, device="cpu").device == ad.device("cpu")
    with pytest.raises(RuntimeError, match="floating point"):
        ad.zeros(2, dtype=ad.int64, requires_grad=True)
