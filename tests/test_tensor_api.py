"""The Tensor API users know from PyTorch: creation and dtype rules, attributes, printing,
comparisons."""
import numpy as np
import pytest

import autodiff as ad


# ---------------------------------------------------------------------- creation and dtypes
@pytest.mark.parametrize("data, dtype", [
    (1.5, ad.float32), ([1.0, 2.0], ad.float32), ([[1, 2.5]], ad.float32),
    (3, ad.int64), ([1, 2, 3], ad.int64), (True, ad.bool), ([True, False], ad.bool),
    (np.array([1.0, 2.0]), ad.float64), (np.array([1.0], dtype=np.float32), ad.float32),
    (np.array([1, 2], dtype=np.int32), ad.int32),
])
def test_tensor_dtype_rules(data, dtype):
    t = ad.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_tensor_copies_and_from_numpy_shares():
    a = np.array([1.0, 2.0, 3.0])
    copied, shared = ad.tensor(a), ad.from_numpy(a)
    a[0] = 10.0
    assert copied.tolist() == [1.0, 2.0, 3.0]
    assert shared.tolist() == [10.0, 2.0, 3.0]
    assert shared.dtype == ad.float64 and np.shares_memory(shared.numpy(), a)
    shared.numpy()[1] = -1.0
    assert a[1] == -1.0
    with pytest.raises(TypeError, match="from_numpy"):
        ad.from_numpy([1.0, 2.0])


def test_tensor_dtype_argument_and_requires_grad():
    t = ad.tensor([1, 2], dtype=ad.float64, requires_grad=True)
    assert t.dtype == ad.float64 and t.requires_grad and t.is_leaf and t.grad is None
    assert ad.tensor([1.0], dtype=ad.int64).dtype == ad.int64
    assert ad.Tensor([1.0, 2.0]).tolist() == [1.0, 2.0]
    assert ad.tensor(0.1, dtype=ad.float64).item() == 0.1          # not rounded through float32
    assert ad.tensor([0.1, 1], dtype=ad.float64).tolist() == [0.1, 1.0]


@pytest.mark.parametrize("make, shape, dtype, check", [
    (lambda: ad.zeros(2, 3), (2, 3), ad.float32, lambda a: (a == 0).all()),
    (lambda: ad.zeros((2, 3)), (2, 3), ad.float32, lambda a: (a == 0).all()),
    (lambda: ad.ones(4, dtype=ad.float64), (4,), ad.float64, lambda a: (a == 1).all()),
    (lambda: ad.full((2, 2), 7.5), (2, 2), ad.float32, lambda a: (a == 7.5).all()),
    (lambda: ad.full((3,), 2), (3,), ad.int64, lambda a: (a == 2).all()),
    (lambda: ad.empty(3, 2), (3, 2), ad.float32, lambda a: True),
    (lambda: ad.rand(50), (50,), ad.float32, lambda a: ((a >= 0) & (a < 1)).all()),
    (lambda: ad.randn(2, 3), (2, 3), ad.float32, lambda a: np.isfinite(a).all()),
    (lambda: ad.randint(0, 3, (20,)), (20,), ad.int64, lambda a: ((a >= 0) & (a < 3)).all()),
    (lambda: ad.randint(5, size=(2, 2)), (2, 2), ad.int64, lambda a: ((a >= 0) & (a < 5)).all()),
    (lambda: ad.arange(5), (5,), ad.int64, lambda a: a.tolist() == [0, 1, 2, 3, 4]),
    (lambda: ad.arange(1, 7, 2), (3,), ad.int64, lambda a: a.tolist() == [1, 3, 5]),
    (lambda: ad.arange(0, 1, 0.25), (4,), ad.float32, lambda a: a.tolist() == [0, 0.25, 0.5, 0.75]),
    (lambda: ad.linspace(0, 1, 5), (5,), ad.float32, lambda a: a.tolist() == [0, 0.25, 0.5, 0.75, 1]),
    (lambda: ad.eye(3), (3, 3), ad.float32, lambda a: (a == np.eye(3)).all()),
    (lambda: ad.eye(2, 3), (2, 3), ad.float32, lambda a: (a == np.eye(2, 3)).all()),
])
def test_factories(make, shape, dtype, check):
    t = make()
    assert t.shape == shape and t.dtype == dtype and not t.requires_grad
    assert check(t.numpy())


def test_like_factories_follow_shape_and_dtype():
    x = ad.tensor(np.arange(6.0).reshape(2, 3))
    for t in (ad.zeros_like(x), ad.ones_like(x), ad.empty_like(x), ad.full_like(x, 3.0),
              ad.rand_like(x), ad.randn_like(x)):
        assert t.shape == (2, 3) and t.dtype == ad.float64
    assert (ad.zeros_like(x).numpy() == 0).all() and (ad.ones_like(x).numpy() == 1).all()
    assert (ad.full_like(x, 3.0).numpy() == 3).all()
    assert ad.zeros_like(x, dtype=ad.int64).dtype == ad.int64
    assert ad.ones_like(x, requires_grad=True).requires_grad


def test_factory_requires_grad():
    assert ad.zeros(2, requires_grad=True).requires_grad
    assert ad.randn(2, 2, requires_grad=True).is_leaf


def test_manual_seed_reproducibility():
    ad.manual_seed(123)
    first = [ad.rand(3).tolist(), ad.randn(2, 2).tolist(), ad.randint(0, 100, (5,)).tolist()]
    ad.manual_seed(123)
    second = [ad.rand(3).tolist(), ad.randn(2, 2).tolist(), ad.randint(0, 100, (5,)).tolist()]
    assert first == second
    ad.manual_seed(124)
    assert ad.rand(3).tolist() != first[0]


# ---------------------------------------------------------------------- attributes and conversion
def test_attributes():
    x = ad.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tuple)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert repr(x.shape) == "autodiff.Size([2, 3, 4])"
    assert x.dtype == ad.float64 and x.ndim == 3 and x.dim() == 3
    assert x.numel() == 24 and len(x) == 2
    assert x.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.T.numpy(), np.arange(24.0).reshape(2, 3, 4).T)
    m = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert m.T.tolist() == [[1.0, 3.0], [2.0, 4.0]] and m.t().tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert ad.tensor([1.0, 2.0]).T.tolist() == [1.0, 2.0]
    assert x.device == "cpu"


def test_conversions():
    x = ad.tensor([[1.5, -2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    assert isinstance(x.detach().numpy(), np.ndarray)
    assert x.tolist() == [[1.5, -2.0]]
    s = ad.tensor(2.5)
    assert s.item() == 2.5 and isinstance(s.item(), float)
    assert ad.tensor([[7]]).item() == 7 and isinstance(ad.tensor([[7]]).item(), int)
    assert float(s) == 2.5 and int(ad.tensor(3.7)) == 3
    with pytest.raises(ValueError, match="2 elements"):
        ad.tensor([1.0, 2.0]).item()
    assert x.double().dtype == ad.float64 and x.float().dtype == ad.float32
    assert x.long().dtype == ad.int64 and x.long().tolist() == [[1, -2]]
    assert not x.long().requires_grad
    d = x.double()
    assert d.requires_grad and d.grad_fn is not None
    d.sum().backward()
    assert x.grad.dtype == ad.float32 and x.grad.tolist() == [[1.0, 1.0]]


def test_to_and_np_array():
    x = ad.tensor([1.0, 2.0])
    assert x.to(ad.float64).dtype == ad.float64 and x.to("cpu") is x
    np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="cuda"):
        x.to("cuda")


# ---------------------------------------------------------------------- printing
def test_repr_like_pytorch():
    x = ad.tensor([[0.0], [2.0]], requires_grad=True)
    assert repr(x) == "tensor([[0.],\n        [2.]], requires_grad=True)"
    y = x.sigmoid()
    assert repr(y) == ("tensor([[0.5000],\n        [0.8808]], grad_fn=<SigmoidBackward>)")
    assert repr(ad.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(ad.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ad.tensor(3.0)) == "tensor(3.)"
    assert repr(ad.tensor([True, False])) == "tensor([ True, False])"
    assert repr(ad.tensor(np.array([1.0, 2.5]))) == "tensor([1.0000, 2.5000], dtype=autodiff.float64)"
    assert repr(ad.tensor([1, 2], dtype=ad.int32)) == "tensor([1, 2], dtype=autodiff.int32)"
    assert repr(x * 2) == "tensor([[0.],\n        [4.]], grad_fn=<MulBackward>)"
    assert str(y) == repr(y)


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    for values in ([[0.5, 1.0], [-2.25, 3.0]], [1.0, 2.0, 3.0], [0.1234567], 2.0):
        ours = repr(ad.tensor(values))
        theirs = repr(torch.tensor(values))
        assert ours == theirs


# ---------------------------------------------------------------------- comparisons and argmax
def test_comparisons_give_bool_tensors_without_grad():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ad.tensor([3.0, 2.0, 1.0])
    cases = {
        (x > y): [False, False, True], (x >= y): [False, True, True], (x < y): [True, False, False],
        (x <= y): [True, True, False], (x == y): [False, True, False], (x != y): [True, False, True],
        (x > 1.5): [False, True, True], (2.0 < x): [False, False, True], (x == 2): [False, True, False],
    }
    for result, expected in cases.items():
        assert result.dtype == ad.bool and not result.requires_grad and result.grad_fn is None
        assert result.tolist() == expected
    assert x.eq(y).tolist() == [False, True, False] and x.gt(y).tolist() == [False, False, True]


def test_argmax_argmin():
    a = ad.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 9.0]], requires_grad=True)
    assert a.argmax().item() == 5 and a.argmin().item() == 0
    assert a.argmax(0).tolist() == [1, 0, 1] and a.argmin(dim=1).tolist() == [0, 1]
    assert a.argmax(dim=1, keepdim=True).tolist() == [[1], [2]]
    assert a.argmax(-1).dtype == ad.int64 and not a.argmax(-1).requires_grad
    assert ad.argmax(a, 1).tolist() == [1, 2]


def test_item_and_bool_of_single_element():
    assert bool(ad.tensor([1.0])) and not bool(ad.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ad.tensor([1.0, 2.0]))
