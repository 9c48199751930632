"""save/load of nested containers and of whole models (class + constructor arguments + state,
never pickle), and load's PyTorch keywords (weights_only, map_location)."""
import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.serialization import CheckpointError, WeightsOnlyError


class Scaled(nn.Module):
    """A module-level class with constructor arguments of several kinds."""

    def __init__(self, sizes, scale=1.0, *, activation="relu", dtype=None):
        super().__init__()
        self.sizes, self.scale, self.activation = sizes, scale, activation
        self.layers = nn.Sequential(*[nn.Linear(a, b, dtype=dtype) for a, b in zip(sizes, sizes[1:])])

    def forward(self, x):
        return self.layers(x) * self.scale


class Wrapper(nn.Module):
    """A module built from another module passed as an argument."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x).sum(dim=1)


class Subclassed(Scaled):
    """No __init__ of its own: the inherited constructor's arguments are recorded."""


def test_nested_containers_round_trip(tmp_path):
    obj = {"a": [ad.ones(2), (ad.arange(3), {"deep": [ad.tensor(2.5)]})], "n": 3,
           "t": (1, "x", None, [ad.zeros(0, 2)])}
    ad.save(obj, tmp_path / "c.ckpt")
    back = ad.load(tmp_path / "c.ckpt", weights_only=True, map_location="cpu")
    assert back["a"][0].tolist() == [1.0, 1.0]
    assert isinstance(back["a"][1], tuple) and back["a"][1][0].dtype == ad.int64
    assert back["a"][1][1]["deep"][0].item() == 2.5
    assert back["n"] == 3 and back["t"][:3] == (1, "x", None) and back["t"][3][0].shape == (0, 2)


@pytest.mark.parametrize("map_location", ["cpu", ad.device("cpu"), {"cuda:0": "cpu"},
                                          lambda storage, loc: storage])
def test_map_location_forms_accepted(tmp_path, map_location):
    ad.save([ad.ones(2)], tmp_path / "m.ckpt")
    assert ad.load(tmp_path / "m.ckpt", map_location=map_location)[0].tolist() == [1.0, 1.0]


def test_weights_only_must_be_a_bool(tmp_path):
    ad.save([ad.ones(2)], tmp_path / "m.ckpt")
    with pytest.raises(TypeError, match="weights_only"):
        ad.load(tmp_path / "m.ckpt", weights_only="yes")


def _same_outputs(a, b, x):
    with ad.no_grad():
        np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)),
    lambda: Scaled([3, 5, 2], 0.5, activation="tanh"),
    lambda: Scaled((3, 2), dtype=ad.float64),
    lambda: Wrapper(nn.Sequential(nn.Linear(3, 2), nn.Tanh())),
    lambda: Subclassed([3, 2]),
], ids=["sequential", "kwargs", "dtype_argument", "module_argument", "inherited_init"])
def test_whole_model_round_trip(tmp_path, make):
    ad.manual_seed(0)
    model = make()
    model.eval()
    ad.save(model, tmp_path / "model.pt")
    ad.manual_seed(1)    # the rebuilt model starts from other weights; the state must replace them
    loaded = ad.load(tmp_path / "model.pt", weights_only=False)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert loaded is not model and not loaded.training
    assert all(not m.training for m in loaded.modules())
    x = ad.randn(4, 3, dtype=next(model.parameters()).dtype)
    _same_outputs(model, loaded, x)
    for p, q in zip(model.parameters(), loaded.parameters()):
        assert p.dtype == q.dtype and q.requires_grad


def test_whole_model_inside_a_dict_keeps_training_modes(tmp_path):
    model = Scaled([2, 3, 1])
    model.layers[1].eval()
    ad.save({"model": model, "epoch": 7}, tmp_path / "ckpt")
    back = ad.load(tmp_path / "ckpt", weights_only=False)
    assert back["epoch"] == 7 and back["model"].training and not back["model"].layers[1].training
    _same_outputs(model, back["model"], ad.randn(2, 2))


def test_weights_only_default_refuses_a_whole_model_naming_both_ways_out(tmp_path):
    path = tmp_path / "model.pt"
    ad.save(nn.Linear(2, 3), path)
    before = path.read_bytes()
    with pytest.raises(WeightsOnlyError) as info:
        ad.load(path)
    message = str(info.value)
    assert "weights_only=False" in message and "state_dict()" in message and "Linear" in message
    assert path.read_bytes() == before


def test_save_refuses_a_class_defined_in_a_function(tmp_path):
    class Local(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    with pytest.raises(TypeError, match="inside a function"):
        ad.save(Local(), tmp_path / "local.pt")
    assert not (tmp_path / "local.pt").exists()


def test_save_refuses_constructor_arguments_that_are_not_plain_values(tmp_path):
    model = Wrapper(inner=nn.Linear(2, 2))
    model.__dict__["_constructor_arguments"] = ((object(),), {})
    with pytest.raises(TypeError, match="constructor argument.*object.*state_dict"):
        ad.save(model, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


def test_tampered_and_truncated_model_files_raise_checkpoint_error(tmp_path):
    path = tmp_path / "model.pt"
    ad.save(Scaled([2, 2], 3.0), path)
    data = path.read_bytes()
    tampered = data.replace(b"3.0", b"4.0")
    assert tampered != data
    (tmp_path / "tampered.pt").write_bytes(tampered)
    with pytest.raises(CheckpointError, match="altered"):
        ad.load(tmp_path / "tampered.pt", weights_only=False)
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        ad.load(tmp_path / "truncated.pt", weights_only=False)


def test_missing_class_on_load_says_which(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    ad.save(Scaled([2, 2]), path)
    monkeypatch.delattr(__import__(__name__), "Scaled")
    with pytest.raises(RuntimeError, match="Scaled.*cannot be imported"):
        ad.load(path, weights_only=False)


def test_constructor_arguments_are_recorded_once_for_the_outermost_class():
    model = Scaled([3, 2], 2.0, activation="x")
    assert model._constructor_arguments == (([3, 2], 2.0), {"activation": "x"})
    assert nn.Linear(3, 4, bias=False)._constructor_arguments == ((3, 4), {"bias": False})


def _checkpoint_with_a_cuda_tensor(path):
    """A file as save() writes it for a tensor that lived on a GPU (made here without one)."""
    import json

    from safetensors.numpy import save as to_bytes

    from autodiff import serialization as S
    arrays = {"obj[0]": np.array([1.0, 2.0], dtype=np.float32)}
    structure = json.dumps({"list": [{"cuda_tensor": "obj[0]"}]}, separators=(",", ":"))
    metadata = {"format": S.FORMAT, "version": S.VERSION, "structure": structure,
                "sha256": S._digest(structure, arrays)}
    path.write_bytes(to_bytes(arrays, metadata=metadata))


@pytest.mark.skipif(ad.cuda.is_available(), reason="checks the CPU-only machine's message")
def test_gpu_tensors_need_map_location_cpu_on_a_cpu_only_machine(tmp_path):
    path = tmp_path / "gpu.ckpt"
    _checkpoint_with_a_cuda_tensor(path)
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        ad.load(path)
    (t,) = ad.load(path, map_location="cpu")
    assert t.tolist() == [1.0, 2.0] and not t.is_cuda
    (t,) = ad.load(path, map_location=lambda storage, loc: storage)
    assert not t.is_cuda
