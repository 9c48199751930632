"""nn.Module: registration, traversal, state_dict, modes, dtype, hooks, containers and repr."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 20)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(20, 1)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


class Net(nn.Module):
    """Parameters, a BatchNorm (buffers), a Sequential and a plain attribute."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))
        self.scale = nn.Parameter(ad.ones(1))
        self.name_tag = "net"

    def forward(self, x):
        return self.head(self.bn(self.fc(x))) * self.scale


NET_KEYS = ["scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias", "bn.running_mean",
            "bn.running_var", "bn.num_batches_tracked", "head.1.weight", "head.1.bias"]

MLP_REPR = """MLP(
  (fc1): Linear(in_features=8, out_features=20, bias=True)
  (relu): ReLU()
  (fc2): Linear(in_features=20, out_features=1, bias=True)
)"""


# ---------------------------------------------------------------------- registration
def test_attributes_are_registered_by_kind():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["fc", "bn", "head"]
    assert list(net.bn._buffers) == ["running_mean", "running_var", "num_batches_tracked"]
    assert net.name_tag == "net" and "name_tag" not in net._parameters
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias", "head.1.weight", "head.1.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert sum(p.numel() for p in net.parameters()) == 1 + 12 + 4 + 4 + 4 + 8 + 2
    assert [n for n, _ in net.named_children()] == ["fc", "bn", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "bn", "head", "head.0", "head.1"]
    assert list(net.children())[0] is net.fc
    assert len(list(net.modules())) == 6
    assert all(p.requires_grad and p.is_leaf for p in net.parameters())


def test_reassigning_and_deleting_attributes():
    net = Net()
    old = net.fc
    net.fc = nn.Linear(3, 4)
    assert net.fc is not old and net._modules["fc"] is net.fc
    net.scale = None                       # a declared but absent parameter
    assert net.scale is None and "scale" not in dict(net.named_parameters())
    net.scale = nn.Parameter(ad.zeros(2))
    assert net.get_parameter("scale").shape == (2,)
    del net.fc
    assert "fc" not in net._modules
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'fc'"):
        net.fc
    net.fc = 3                             # now a plain attribute
    assert net.fc == 3 and "fc" not in net._modules


def test_shared_parameters_are_listed_once():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    net[1].weight = net[0].weight
    assert len(list(net.parameters())) == 3
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]   # as PyTorch


def test_unknown_attribute_names_itself():
    with pytest.raises(AttributeError, match="'MLP' object has no attribute 'fc3'"):
        MLP().fc3


def test_wrong_assignments_raise_clear_errors():
    net = MLP()
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight'"):
        net.fc1.weight = ad.ones(20, 8)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'relu'"):
        net.relu = 3
    with pytest.raises(TypeError, match="buffer 'running_mean'"):
        nn.BatchNorm1d(2).running_mean = np.zeros(2)

    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ad.ones(1))   # no super().__init__()

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Forgetful()
    with pytest.raises(KeyError, match="empty or contain"):
        net.register_buffer("a.b", ad.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        net.add_module("x", 3)


def test_buffers_persistent_and_not():
    m = nn.Module()
    m.register_buffer("kept", ad.zeros(2))
    m.register_buffer("scratch", ad.ones(2), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]
    assert list(m.state_dict()) == ["kept"]
    m.kept = ad.full((2,), 5.0)            # assigning a tensor replaces the buffer
    assert m._buffers["kept"].tolist() == [5.0, 5.0]


def test_forward_missing_and_call():
    with pytest.raises(NotImplementedError, match='Module \\[Module\\] is missing the required "forward"'):
        nn.Module()(1)
    net = MLP()
    x = ad.randn(5, 8)
    assert np.array_equal(net(x).detach().numpy(), net.forward(x).detach().numpy())


def test_get_submodule_and_parameter():
    net = Net()
    assert net.get_submodule("head.1") is net.head[1]
    assert net.get_parameter("head.1.bias") is net.head[1].bias
    with pytest.raises(AttributeError, match="no sub-module 'nope'"):
        net.get_submodule("head.nope")


# ---------------------------------------------------------------------- state_dict
def test_state_dict_keys_and_values():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == NET_KEYS
    assert all(not v.requires_grad for v in sd.values())
    assert sd["bn.num_batches_tracked"].dtype == ad.int64 and sd["bn.num_batches_tracked"].shape == ()
    sd["fc.bias"]._data[0] = 42.0            # values share memory with the module
    assert net.fc.bias[0].item() == 42.0
    assert net.state_dict(keep_vars=True)["fc.weight"] is net.fc.weight


def test_state_dict_keys_match_pytorch(torch):
    tnn = torch.nn

    class TorchNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc = tnn.Linear(3, 4)
            self.bn = tnn.BatchNorm1d(4)
            self.head = tnn.Sequential(tnn.ReLU(), tnn.Linear(4, 2))
            self.scale = tnn.Parameter(torch.ones(1))

    assert list(TorchNet().state_dict()) == NET_KEYS


def test_load_state_dict_roundtrip():
    a, b = Net(), Net()
    x = ad.randn(6, 3)
    a.train()
    a(x)                                   # moves a's running statistics
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    a.eval(), b.eval()
    assert np.array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert b.bn.num_batches_tracked.item() == 1
    assert b.fc.weight is not a.fc.weight and not np.shares_memory(b.fc.weight._data, a.fc.weight._data)


def test_load_state_dict_accepts_numpy_arrays_and_casts():
    net = MLP()
    sd = {k: np.full(tuple(v.shape), 0.5, dtype=np.float64) for k, v in net.state_dict().items()}
    net.load_state_dict(sd)
    assert net.fc1.weight.dtype == ad.float32 and net.fc1.weight._data.max() == 0.5
    assert net.fc1.weight.requires_grad and net.fc1.weight.is_leaf


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = MLP()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    sd = OrderedDict((k, v.clone()) for k, v in net.state_dict().items())
    del sd["fc2.weight"], sd["fc2.bias"]
    sd["fc3.weight"] = ad.zeros(1, 20)
    sd["fc1.weight"] = ad.zeros(20, 4)
    sd["fc1.bias"] = ad.full((20,), 7.0)    # valid, but must not be copied either
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for MLP:")
    assert 'Missing key(s) in state_dict: "fc2.weight", "fc2.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "fc3.weight".' in msg
    assert ("size mismatch for fc1.weight: copying a param with shape (20, 4) from checkpoint, "
            "the shape in current model is (20, 8).") in msg
    for k, v in net.state_dict().items():
        assert np.array_equal(v.numpy(), before[k]), k


def test_load_state_dict_not_strict():
    net = MLP()
    sd = {k: v.clone() for k, v in MLP().state_dict().items() if k.startswith("fc1")}
    sd["extra"] = ad.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc2.weight", "fc2.bias"]
    assert result.unexpected_keys == ["extra"]
    assert np.array_equal(net.fc1.weight.detach().numpy(), sd["fc1.weight"].numpy())
    with pytest.raises(RuntimeError, match="size mismatch for fc1.bias"):   # shapes always checked
        net.load_state_dict({"fc1.bias": ad.zeros(3)}, strict=False)


def test_load_pytorch_weights_gives_pytorch_outputs(torch):
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(8, 20), torch.nn.ReLU(), torch.nn.BatchNorm1d(20),
                               torch.nn.Linear(20, 3)).double()
    tnet.train()
    tnet(torch.randn(16, 8, dtype=torch.float64))
    net = nn.Sequential(nn.Linear(8, 20), nn.ReLU(), nn.BatchNorm1d(20), nn.Linear(20, 3)).double()
    net.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    tnet.eval(), net.eval()
    x = np.random.default_rng(0).standard_normal((5, 8))
    expected = tnet(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(net(ad.tensor(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- modes, gradients, dtype
def test_train_eval_recursive():
    net = Net()
    assert net.training and net.head[0].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.head.train(False)
    assert net.training and not net.head.training and not net.head[1].training
    with pytest.raises(ValueError, match="bool"):
        net.train("yes")


def test_zero_grad():
    net = MLP()
    net(ad.randn(4, 8)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad._data.any() for p in net.parameters())
    net(ad.randn(4, 8)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_apply():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Linear", "BatchNorm1d", "ReLU", "Linear", "Sequential", "Net"]

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

    net.apply(init_weights)
    assert not net.fc.bias._data.any() and not net.head[1].bias._data.any()


def test_to_dtype_and_device():
    net = Net()
    weight = net.fc.weight
    assert net.double() is net
    assert net.fc.weight is weight                       # same objects: optimizers stay valid
    assert all(p.dtype == ad.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == ad.float64
    assert net.bn.num_batches_tracked.dtype == ad.int64  # integer buffers are not cast
    assert net(ad.randn(5, 3, dtype=ad.float64)).dtype == ad.float64
    net.to(ad.float32)
    assert all(p.dtype == ad.float32 for p in net.parameters())
    assert net.to("cpu") is net and net.to(device="cpu") is net
    with pytest.raises(RuntimeError, match="'cuda' is not available"):
        net.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        net.to(ad.int64)


def test_deepcopy_is_independent():
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.fc.weight is not net.fc.weight
    assert isinstance(clone.fc.weight, nn.Parameter) and clone.fc.weight.requires_grad
    assert clone.fc.weight is clone._modules["fc"]._parameters["weight"]
    clone.fc.weight._data[:] = 0
    assert net.fc.weight._data.any()


def test_forward_hooks():
    net = MLP()
    seen = []
    handle = net.fc1.register_forward_hook(lambda m, args, out: seen.append(tuple(out.shape)))
    pre = net.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = net(ad.randn(3, 8))
    assert seen == [(3, 20)]
    handle.remove(), pre.remove()
    expected = net.fc2(net.fc1(ad.zeros(3, 8)).relu())   # the pre-hook zeroed the input
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    assert seen == [(3, 20)]


# ---------------------------------------------------------------------- Parameter
def test_parameter():
    t = ad.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, ad.Tensor) and p.requires_grad and p.is_leaf
    assert np.shares_memory(p._data, t._data)
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is ad.Tensor
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(ad.tensor([1, 2]))


def test_parameter_repr_matches_pytorch(torch):
    expected = repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert repr(nn.Parameter(ad.tensor([1.0, 2.0]))) == expected


# ---------------------------------------------------------------------- containers
def test_sequential():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    x = ad.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), seq[2](seq[1](seq[0](x))).detach().numpy())
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]   # names kept
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and isinstance(named.act, nn.Tanh)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and len(list(layers.parameters())) == 8
    assert list(layers.state_dict())[:2] == ["0.weight", "0.bias"]
    layers.insert(0, nn.ReLU())
    assert isinstance(layers[0], nn.ReLU) and list(layers._modules) == ["0", "1", "2", "3", "4"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers.extend([nn.Tanh()])
    assert len(layers) == 6
    with pytest.raises(NotImplementedError):
        layers(ad.zeros(1))

    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert list(heads) == ["a", "b"] and "a" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    heads["c"] = nn.ReLU()
    assert list(heads.keys()) == ["a", "b", "c"]
    assert heads.pop("a") is not None and list(heads) == ["b", "c"]


# ---------------------------------------------------------------------- repr
def test_repr_of_small_mlp():
    assert repr(MLP()) == MLP_REPR


def test_repr_matches_pytorch(torch):
    tnn = torch.nn

    class MLP(tnn.Module):   # same class name as ours
        def __init__(self):
            super().__init__()
            self.fc1 = tnn.Linear(8, 20)
            self.relu = tnn.ReLU()
            self.fc2 = tnn.Linear(20, 1)

    assert repr(MLP()) == MLP_REPR

    def build(m):
        return m.Sequential(
            m.Linear(4, 8, bias=False), m.BatchNorm1d(8), m.BatchNorm1d(2, bias=False),
            m.LeakyReLU(0.2), m.Dropout(0.3),
            m.Hardtanh(-2.0, 2.0), m.Softplus(beta=2.0), m.GELU(), m.GELU(approximate="tanh"),
            m.Sigmoid(), m.Tanh(), m.Softmax(dim=1), m.LogSoftmax(dim=-1), m.Flatten(), m.Identity(),
            m.ReLU(inplace=True),
            m.ModuleList([m.Linear(2, 2), m.Linear(2, 2), m.Linear(2, 2), m.ReLU(), m.Linear(2, 2)]),
            m.ModuleDict({"loss": m.CrossEntropyLoss(), "mse": m.MSELoss()}),
            m.BatchNorm1d(3, momentum=None, affine=False, track_running_stats=False),
            m.BCEWithLogitsLoss(), m.NLLLoss(), m.L1Loss(), m.BCELoss(),
        )

    assert repr(build(nn)) == repr(build(tnn))
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList())
