"""Module backward hooks (arguments and replacements as PyTorch's), LazyLinear, Unflatten,
Identity, and the nn/data argument errors PyTorch raises."""
import math

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.nn import functional as F

torch = pytest.importorskip("torch")

LIBS = ((ad, nn), (torch, torch.nn))


def _linear(lib, mod):
    lin = mod.Linear(3, 2).double()
    lin.load_state_dict({"weight": lib.tensor(np.arange(6.0).reshape(2, 3) / 10 - 0.2),
                         "bias": lib.tensor(np.array([0.1, -0.2]))})
    return lin


def _as_lists(grads):
    return [None if g is None else np.round(g.detach().numpy(), 12).tolist() for g in grads]


def _record(seen):
    def full(module, grad_input, grad_output):
        seen.append(("full", type(module).__name__, _as_lists(grad_input), _as_lists(grad_output)))

    def pre(module, grad_output):
        seen.append(("pre", type(module).__name__, _as_lists(grad_output)))
    return full, pre


@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("model", ["linear", "sequential"])
def test_full_backward_hooks_see_pytorchs_arguments(model, input_grad):
    results = []
    for lib, mod in LIBS:
        seen = []
        full, pre = _record(seen)
        if model == "linear":
            net = _linear(lib, mod)
            net.register_full_backward_hook(full)
            net.register_full_backward_pre_hook(pre)
        else:
            net = mod.Sequential(_linear(lib, mod), mod.Tanh(), mod.Linear(2, 1).double())
            net[2].load_state_dict({"weight": lib.tensor([[0.5, -1.5]]), "bias": lib.tensor([0.3])})
            for m in (net, net[0], net[1]):
                m.register_full_backward_hook(full)
            net[2].register_full_backward_pre_hook(pre)
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=input_grad)
        out = net(x)
        (out ** 2).sum().backward()
        results.append((seen, None if x.grad is None else x.grad.numpy().tolist(),
                        net.parameters().__next__().grad.numpy().tolist()))
    ours, theirs = results
    assert ours == theirs
    assert ours[0]                 # the hooks ran


def test_hooks_replace_grad_input_and_grad_output_as_in_pytorch():
    results = []
    for lib, mod in LIBS:
        lin = _linear(lib, mod)
        lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
        lin.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
        x = lib.tensor(np.ones((2, 3)), requires_grad=True)
        lin(x).sum().backward()
        results.append((x.grad.numpy().tolist(), lin.weight.grad.numpy().tolist()))
    assert results[0] == results[1]


class _Pair:
    """A module of two tensor inputs and a number, defined for both libraries."""

    @staticmethod
    def build(mod):
        class Pair(mod.Module):
            def __init__(self):
                super().__init__()
                self.lin = mod.Linear(3, 3).double()

            def forward(self, a, scale, b):
                return self.lin(a) * scale + b.sum() * a
        return Pair()


@pytest.mark.parametrize("input_grad", [True, False])
def test_hooks_run_on_every_backward_of_a_retained_graph(input_grad):
    counts = []
    for lib, mod in LIBS:
        lin = _linear(lib, mod)
        seen = []
        lin.register_full_backward_hook(lambda m, gi, go: seen.append(gi[0] is None))
        out = lin(lib.tensor(np.ones((2, 3)), requires_grad=input_grad)).sum()
        out.backward(retain_graph=True)
        out.backward()
        counts.append(seen)
    assert counts[0] == counts[1] == [not input_grad] * 2


def test_a_module_of_several_inputs_gets_one_grad_per_tensor_input():
    results = []
    for lib, mod in LIBS:
        pair = _Pair.build(mod)
        pair.lin.load_state_dict({"weight": lib.tensor(np.eye(3) * 0.5 + 0.1), "bias": lib.tensor(np.zeros(3))})
        seen = []
        pair.register_full_backward_hook(_record(seen)[0])
        pair.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[1], gi[2] * 2))
        a = lib.tensor(np.arange(6.0).reshape(2, 3) / 7, requires_grad=True)
        b = lib.tensor(np.array([0.5, -1.0]), requires_grad=True)
        (pair(a, 3.0, b) ** 2).sum().backward()
        results.append((seen, a.grad.numpy().tolist(), b.grad.numpy().tolist()))
    np.testing.assert_allclose(np.array(results[0][1]), np.array(results[1][1]), rtol=1e-12)
    np.testing.assert_allclose(np.array(results[0][2]), np.array(results[1][2]), rtol=1e-12)
    ours, theirs = results[0][0][0], results[1][0][0]
    assert [g is None for g in ours[2]] == [g is None for g in theirs[2]] == [False, True, False]
    for o, t in zip(ours[2] + ours[3], theirs[2] + theirs[3]):
        if o is not None:
            np.testing.assert_allclose(np.array(o), np.array(t), rtol=1e-12)


def test_backward_hook_handles_and_the_deprecated_alias():
    lin = _linear(ad, nn)
    calls = []
    handle = lin.register_backward_hook(lambda m, gi, go: calls.append(len(gi)))
    x = ad.ones(1, 3, dtype=ad.float64, requires_grad=True)
    lin(x).sum().backward()
    assert calls == [1]
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
        lin.register_full_backward_hook(lambda *a: None)
    handle.remove()
    lin(x).sum().backward()
    assert calls == [1]
    with ad.no_grad():          # no graph, no hooks
        lin.register_full_backward_hook(lambda *a: calls.append("no"))
        out = lin(x)
    assert out.grad_fn is None and calls == [1]


def test_forward_pre_hook_may_replace_the_input_as_in_pytorch():
    outs = []
    for lib, mod in LIBS:
        lin = _linear(lib, mod)
        lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        outs.append(lin(lib.tensor(np.ones((1, 3)))).detach().numpy().tolist())
    assert outs[0] == outs[1]


# ---------------------------------------------------------------------- LazyLinear
def test_lazy_linear_before_and_after_its_first_call_is_pytorchs():
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert repr(ours.state_dict()["weight"]) == repr(theirs.state_dict()["weight"])
    assert repr(ours.weight) == "<UninitializedParameter>"
    ours(ad.randn(2, 5))
    theirs(torch.randn(2, 5))
    assert repr(ours) == repr(theirs) == "Linear(in_features=5, out_features=3, bias=True)"
    assert type(ours) is nn.Linear and type(ours.weight) is nn.Parameter
    assert ours.weight.shape == (3, 5) and ours.bias.shape == (3,)
    assert repr(nn.LazyLinear(2, bias=False)) == repr(torch.nn.LazyLinear(2, bias=False))


def test_lazy_linear_draws_as_linear_and_an_earlier_optimizer_updates_it():
    x = ad.randn(5, 4)
    ad.manual_seed(3)
    expected = nn.Linear(4, 2)
    ad.manual_seed(3)
    lazy = nn.LazyLinear(2)
    opt = ad.optim.Adam(lazy.parameters(), lr=0.1)    # made before the first call (PyTorch allows it)
    out = lazy(x)
    np.testing.assert_array_equal(lazy.weight.detach().numpy(), expected.weight.detach().numpy())
    np.testing.assert_array_equal(lazy.bias.detach().numpy(), expected.bias.detach().numpy())
    assert np.abs(lazy.weight.detach().numpy()).max() <= 1 / math.sqrt(4)
    before = lazy.weight.detach().numpy().copy()
    out.sum().backward()
    opt.step()
    assert not np.array_equal(lazy.weight.detach().numpy(), before)
    assert len(opt.state) == 2


def test_a_copy_of_an_uninitialized_lazy_linear_is_still_lazy():
    import copy
    lazy = nn.LazyLinear(3).double()
    twin = copy.deepcopy(lazy)
    assert repr(twin.weight) == "<UninitializedParameter>" and twin.weight is not lazy.weight
    twin(ad.randn(2, 4, dtype=ad.float64))
    assert twin.weight.shape == (3, 4) and twin.weight.dtype == ad.float64
    assert repr(lazy) == "LazyLinear(in_features=0, out_features=3, bias=True)"


def test_lazy_linear_takes_dtype_from_to_and_shapes_from_a_state_dict():
    lazy = nn.LazyLinear(2).double()
    lazy(ad.randn(3, 6, dtype=ad.float64))
    assert lazy.weight.dtype == ad.float64
    source = nn.Linear(7, 2)
    fresh = nn.LazyLinear(2)
    fresh.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(fresh.weight.detach().numpy(), source.weight.detach().numpy())
    assert fresh.in_features == 7
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    assert model(ad.randn(2, 9)).shape == (2, 1)
    assert [p.shape for p in model.parameters()] == [(4, 9), (4,), (1, 4), (1,)]
    restored = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    restored.load_state_dict(model.state_dict())        # the lazy layers inside take the shapes
    x = ad.randn(3, 9)
    np.testing.assert_array_equal(restored(x).detach().numpy(), model(x).detach().numpy())


# ---------------------------------------------------------------------- Unflatten, Identity
@pytest.mark.parametrize("dim,sizes,shape", [(1, (2, 3), (4, 6)), (-1, [3, -1], (2, 2, 6)),
                                             (0, (2, 2), (4,))])
def test_unflatten_matches_pytorch(dim, sizes, shape):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(ours) == repr(theirs)
    t = ad.tensor(x, requires_grad=True)
    out = ours(t)
    np.testing.assert_array_equal(out.detach().numpy(), theirs(torch.tensor(x)).numpy())
    (out * out).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), 2 * x)


def test_unflatten_and_identity_errors_and_repr():
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 2)
    with pytest.raises(TypeError, match="element of type float at pos 1"):
        nn.Unflatten(1, (2, 1.5))
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim 1"):
        nn.Unflatten(1, (4, 2))(ad.zeros(2, 6))
    assert repr(nn.Identity(54, unused="x")) == repr(torch.nn.Identity(54, unused="x")) == "Identity()"
    x = ad.ones(2)
    assert nn.Identity()(x) is x


# ---------------------------------------------------------------------- argument errors
def test_argument_errors_are_pytorchs():
    with pytest.raises(TypeError, match=r"Linear: in_features must be an int, got 2.5 \(float\)"):
        nn.Linear(2.5, 3)
    with pytest.raises(TypeError, match="out_features must be an int"):
        nn.Linear(3, True)
    with pytest.raises(RuntimeError, match="negative dimension: in_features=-1"):
        nn.Linear(-1, 3)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        ad.data.DataLoader(ad.data.TensorDataset(ad.zeros(4, 2)), num_workers=-1)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        nn.Dropout()(ad.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="desired output type Bool"):
        F.dropout(ad.tensor([True, False]), 0.3)
    ints = ad.tensor([1, 2, 3])
    assert nn.Dropout().eval()(ints) is ints
    assert F.dropout(ints, 1.0).tolist() == [0, 0, 0] and F.dropout(ints, 1.0).dtype == ad.int64
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1.*nan"):
        F.binary_cross_entropy(ad.tensor([float("nan"), 0.5]), ad.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        nn.BCELoss()(ad.tensor([1.5, 0.5]), ad.tensor([1.0, 0.0]))
