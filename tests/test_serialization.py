"""autodiff.save / autodiff.load: round trips, refusing pickles, damage, atomic saves."""
import os
import pickle

import numpy as np
import pytest

import autodiff
from autodiff import serialization
from autodiff.serialization import CheckpointError


def _nested():
    return {
        "weight": autodiff.tensor([[1.5, -2.0], [0.25, 3.0]], requires_grad=True),
        "bias": autodiff.tensor([0.1, 0.2], dtype=autodiff.float64),
        "steps": autodiff.tensor(7),
        "mask": autodiff.tensor([True, False, True]),
        "scalar": autodiff.tensor(2.5),
        "empty": autodiff.zeros(0, 3),
        "half": autodiff.tensor([1.0, 2.0], dtype=autodiff.float16),
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "np_scalar": np.float32(1.25),
        3: [1, 2.5, "three", None, True, (4, (5.0, "six")), float("inf")],
        "state": {0: {"step": 3, "buf": np.ones(2)}, "name": "Adam"},
        "nothing": None,
    }


def test_round_trip_of_nested_structures(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    obj = _nested()
    autodiff.save(obj, path)
    back = autodiff.load(path)
    assert list(back) == list(obj)
    for key in ("weight", "bias", "steps", "mask", "scalar", "empty", "half"):
        t, u = obj[key], back[key]
        assert isinstance(u, autodiff.Tensor) and not u.requires_grad
        assert u.dtype == t.dtype and u.shape == t.shape
        np.testing.assert_array_equal(u.numpy(), t.detach().numpy())
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int32
    np.testing.assert_array_equal(back["array"], obj["array"])
    assert back["np_scalar"] == np.float32(1.25) and back["np_scalar"].dtype == np.float32
    assert back[3] == [1, 2.5, "three", None, True, (4, (5.0, "six")), float("inf")]
    assert type(back[3][0]) is int and type(back[3][4]) is bool
    assert back["state"][0]["step"] == 3 and back["state"]["name"] == "Adam"
    np.testing.assert_array_equal(back["state"][0]["buf"], [1.0, 1.0])
    assert back["nothing"] is None
    back["weight"]._data += 1                      # loaded arrays are writable and owned
    assert obj["weight"].detach().numpy()[0, 0] == 1.5


def test_file_objects_and_str_paths(tmp_path):
    import io
    buffer = io.BytesIO()
    autodiff.save([autodiff.tensor([1.0, 2.0])], buffer)
    buffer.seek(0)
    assert autodiff.load(buffer)[0].tolist() == [1.0, 2.0]
    autodiff.save({"a": 1}, str(tmp_path / "a"))
    assert autodiff.load(str(tmp_path / "a")) == {"a": 1}


def test_unsupported_values_are_named():
    with pytest.raises(TypeError, match=r"cannot store function at obj\['fn'\]"):
        autodiff.save({"fn": lambda: 0}, "/nonexistent/never-written")
    with pytest.raises(TypeError, match="dtype"):
        autodiff.save(np.array(["a"]), "/nonexistent/never-written")


class _Payload:
    """A pickle that, when unpickled, creates a marker file: the attack a checkpoint must not allow."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"weight": _Payload(str(marker))}))
    with pytest.raises(CheckpointError, match="evil.ckpt.*pickle"):
        autodiff.load(path)
    assert not marker.exists()
    # the same payload with an old protocol (no 0x80 opcode) and behind a valid-looking prefix
    path.write_bytes(pickle.dumps(_Payload(str(marker)), protocol=0))
    with pytest.raises(CheckpointError, match="evil.ckpt"):
        autodiff.load(path)
    path.write_bytes((8).to_bytes(8, "little") + b'{"a":1} ' + pickle.dumps(_Payload(str(marker))))
    with pytest.raises(CheckpointError, match="evil.ckpt"):
        autodiff.load(path)
    assert not marker.exists()


def test_a_torch_save_file_is_refused_without_running_it(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    torch.save({"x": torch.ones(2), "p": _Payload(str(marker))}, path)
    with pytest.raises(CheckpointError, match="model.pt.*zip"):
        autodiff.load(path)
    assert not marker.exists()


def test_foreign_files_raise_naming_the_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("these are not the weights you are looking for\n")
    with pytest.raises(CheckpointError, match="notes.txt.*not an autodiff checkpoint"):
        autodiff.load(text)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty.bin"):
        autodiff.load(empty)
    from safetensors.numpy import save_file
    plain = tmp_path / "plain.safetensors"
    save_file({"w": np.ones(3, dtype=np.float32)}, str(plain))
    with pytest.raises(CheckpointError, match="plain.safetensors.*without autodiff's structure"):
        autodiff.load(plain)
    assert isinstance(CheckpointError("x"), ValueError)


def test_truncated_files_raise_naming_the_file(tmp_path):
    path = tmp_path / "big.ckpt"
    autodiff.save({"w": autodiff.randn(100, 10), "b": autodiff.zeros(10)}, path)
    data = path.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 100, 9, 3):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="big.ckpt.*truncated"):
            autodiff.load(path)


def test_tampered_files_raise_naming_the_file(tmp_path):
    path = tmp_path / "t.ckpt"
    autodiff.save({"w": autodiff.tensor([1.0, 2.0, 3.0]), "lr": 0.1}, path)
    data = bytearray(path.read_bytes())
    flipped = bytearray(data)
    flipped[-3] ^= 0x40                                        # a bit of the tensor data
    path.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="t.ckpt.*altered"):
        autodiff.load(path)
    edited = bytes(data).replace(b"0.1", b"9.9")              # a value in the structure
    assert edited != bytes(data)
    path.write_bytes(edited)
    with pytest.raises(CheckpointError, match="t.ckpt.*altered"):
        autodiff.load(path)
    edited = bytes(data).replace(b'"F32"', b'"I32"')          # a dtype in the header
    path.write_bytes(edited)
    with pytest.raises(CheckpointError, match="t.ckpt.*altered"):
        autodiff.load(path)


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    autodiff.save({"w": autodiff.tensor([1.0, 2.0])}, path)
    before = path.read_bytes()

    def crash(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialization.os, "fsync", crash)
    with pytest.raises(OSError, match="simulated"):
        autodiff.save({"w": autodiff.tensor([9.0, 9.0, 9.0])}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert autodiff.load(path)["w"].tolist() == [1.0, 2.0]
    assert os.listdir(tmp_path) == ["model.ckpt"]          # no temporary file left behind


def test_a_crash_in_the_middle_of_writing_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    autodiff.save({"w": autodiff.tensor([1.0])}, path)
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise KeyboardInterrupt        # interrupted halfway through

    monkeypatch.setattr(serialization.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        autodiff.save({"w": autodiff.randn(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.ckpt"]


def test_save_keeps_the_files_permissions(tmp_path):
    path = tmp_path / "m.ckpt"
    autodiff.save({"a": 1}, path)
    os.chmod(path, 0o640)
    autodiff.save({"a": 2}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640 and autodiff.load(path) == {"a": 2}


def test_random_damage_always_raises_checkpoint_error(tmp_path):
    path = tmp_path / "fuzz.ckpt"
    autodiff.save({"w": autodiff.randn(3, 4), "opt": {"state": {0: {"step": 3}}, "b": (0.9, 0.99)}},
                  path)
    data = path.read_bytes()
    rng = np.random.default_rng(0)
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rng.integers(1, 4)):
            damaged[rng.integers(len(damaged))] = rng.integers(256)
        if rng.random() < 0.3:
            damaged = damaged[:rng.integers(len(damaged))]
        path.write_bytes(bytes(damaged))
        try:
            autodiff.load(path)          # a flip in the header's padding changes nothing
        except CheckpointError as exc:
            assert "fuzz.ckpt" in str(exc)
