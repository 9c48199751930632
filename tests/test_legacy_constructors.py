"""Legacy constructors and casts (Tensor(2, 3), FloatTensor ..., t.type(), new_*, Variable) and
Python conversions (float/int/bool/complex, format), each against PyTorch's behaviour."""
import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
          "CharTensor", "ByteTensor", "BoolTensor"]


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "")


@pytest.mark.parametrize("args", [(2, 3), (0,), (4,), (ad.Size([2, 1]),)], ids=str)
def test_tensor_of_sizes_is_an_uninitialised_float_tensor_of_that_shape(args):
    t = ad.Tensor(*args)
    expected = torch.Tensor(*[torch.Size(a) if isinstance(a, ad.Size) else a for a in args])
    assert t.shape == tuple(expected.shape) and t.dtype == ad.float32
    assert not t.requires_grad and t.is_leaf


@pytest.mark.parametrize("data", [[1, 2], [[1, 2], [3, 4]], (2, 3), [True, False], np.array([1, 2]),
                                  np.array([1.5, 2.5]), [[]]], ids=str)
def test_tensor_of_data_is_float32_even_from_ints(data):
    t, expected = ad.Tensor(data), torch.Tensor(data)
    assert t.dtype == ad.float32 and t.tolist() == expected.tolist()


def test_empty_tensor_and_requires_grad_keyword():
    assert ad.Tensor().shape == (0,) and ad.Tensor().dtype == ad.float32
    t = ad.Tensor([1.0, 2.0], requires_grad=True)
    (t * t).sum().backward()
    assert t.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("args", [(2.5,), ([1], 2), (-1,)], ids=str)
def test_tensor_errors_like_pytorch(args):
    with pytest.raises(Exception) as expected:
        torch.Tensor(*args)
    with pytest.raises(type(expected.value)) as got:
        ad.Tensor(*args)
    assert "Tensor" in str(got.value)


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("args", [(3,), (2, 2), ([1.7, 2.0, 0.0],), (np.array([1, 0, 3]),)], ids=str)
def test_legacy_type_constructors_match_pytorch(name, args):
    t, expected = getattr(ad, name)(*args), getattr(torch, name)(*args)
    assert _dtype_name(expected.dtype) == ad.dtypes.name(t.dtype) and t.shape == tuple(expected.shape)
    if not isinstance(args[0], int):
        assert t.tolist() == expected.tolist()


@pytest.mark.parametrize("name", LEGACY)
def test_isinstance_and_type_names(name):
    t = getattr(ad, name)([1, 0])
    assert isinstance(t, getattr(ad, name)) and isinstance(t, ad.Tensor)
    assert not isinstance(t, ad.FloatTensor if name != "FloatTensor" else ad.LongTensor)
    assert t.type() == f"autodiff.{name}" == getattr(torch, name)([1, 0]).type().replace("torch", "autodiff")


@pytest.mark.parametrize("target", [ad.float64, "torch.LongTensor", "autodiff.IntTensor", ad.BoolTensor,
                                    "torch.DoubleTensor"], ids=str)
def test_type_casts(target):
    t = ad.tensor([1.5, 0.0, -2.0])
    torch_target = {ad.float64: torch.float64, ad.BoolTensor: torch.BoolTensor}.get(
        target, target.replace("autodiff", "torch") if isinstance(target, str) else target)
    expected = torch.tensor([1.5, 0.0, -2.0]).type(torch_target)
    got = t.type(target)
    assert ad.dtypes.name(got.dtype) == _dtype_name(expected.dtype) and got.tolist() == expected.tolist()


def test_type_of_an_unknown_name_raises():
    with pytest.raises(ValueError, match="'foo'"):
        ad.ones(2).type("foo")


def test_type_keeps_the_gradient_path_for_float_casts():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    x.type(ad.DoubleTensor).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and x.grad.dtype == ad.float32


@pytest.mark.parametrize("source_dtype", ["float32", "int64", "float64"])
def test_new_factories_take_dtype_and_device_from_self(source_dtype):
    a = ad.ones(2, dtype=getattr(ad, source_dtype))
    b = torch.ones(2, dtype=getattr(torch, source_dtype))
    pairs = [(a.new_zeros(2, 3), b.new_zeros(2, 3)), (a.new_ones((2,)), b.new_ones((2,))),
             (a.new_full((2, 2), 3), b.new_full((2, 2), 3)), (a.new_tensor([1, 2]), b.new_tensor([1, 2])),
             (a.new_empty(3).zero_(), b.new_empty(3).zero_()), (a.new_zeros(2, dtype=ad.bool), b.new_zeros(2, dtype=torch.bool))]
    for got, expected in pairs:
        assert ad.dtypes.name(got.dtype) == _dtype_name(expected.dtype)
        assert got.tolist() == expected.tolist()
    assert a.new_ones(2, requires_grad=True).requires_grad if a.dtype.kind == "f" else True


def test_variable_is_a_deprecated_alias():
    from autodiff.autograd import Variable
    t = ad.ones(2)
    v = Variable(t, requires_grad=True)
    assert v.requires_grad and v.is_leaf and not t.requires_grad
    assert isinstance(v, Variable) and isinstance(t, Variable)
    with ad.no_grad():
        v.mul_(3)
    assert t.tolist() == [3.0, 3.0]     # shares memory, as in PyTorch
    (v * v).sum().backward()
    assert v.grad.tolist() == [6.0, 6.0]
    assert not Variable(ad.ones(2)).requires_grad


# ---------------------------------------------------------------------- Python conversions
@pytest.mark.parametrize("convert", [float, int, complex, bool])
@pytest.mark.parametrize("values", [[2.7], [[-3.0]], 0.5, [0.0]], ids=str)
def test_one_element_conversions_match_pytorch(convert, values):
    assert convert(ad.tensor(values)) == convert(torch.tensor(values))


@pytest.mark.parametrize("convert", [float, int, complex, bool])
def test_conversions_of_several_elements_raise_like_pytorch(convert):
    with pytest.raises(Exception) as expected:
        convert(torch.ones(2))
    with pytest.raises(type(expected.value)):
        convert(ad.ones(2))


@pytest.mark.parametrize("spec", [".4f", ".3e", "8.2f", "", "+.1%"])
@pytest.mark.parametrize("value", [0.123456, -2.5, 3.0])
def test_format_of_0d_tensors_matches_pytorch(spec, value):
    assert format(ad.tensor(value), spec) == format(torch.tensor(value), spec)
    loss = ad.tensor(value, requires_grad=True) * 2
    assert f"{loss:{spec}}" == f"{torch.tensor(value) * 2:{spec}}" if spec else True


def test_format_of_int_tensor_and_errors_for_more_dims():
    assert f"{ad.tensor(3):05d}" == f"{torch.tensor(3):05d}" == "00003"
    assert format(ad.ones(2)) == str(ad.ones(2))
    with pytest.raises(TypeError, match="0-d"):
        format(ad.ones(1), ".3f")
    with pytest.raises(TypeError):
        format(torch.ones(1), ".3f")


def test_constructors_of_a_tensor_alias_its_memory_as_pytorch():
    t = ad.tensor([1.0, 2.0])
    alias = ad.Tensor(t)
    assert alias is not t and np.shares_memory(alias.numpy(), t.numpy())
    ints = ad.tensor([1, 2])
    assert ad.Tensor(ints).dtype == ad.int64 and torch.Tensor(torch.tensor([1, 2])).dtype == torch.int64
    assert ad.LongTensor(ints).tolist() == [1, 2]
    with pytest.raises(TypeError):
        torch.FloatTensor(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="FloatTensor: expected a float32 tensor, got int64"):
        ad.FloatTensor(ints)
