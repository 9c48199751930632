"""Image datasets: the digits as (N, 1, 8, 8) images and the MNIST IDX reader (on small IDX
files written here)."""
import gzip
import os
import struct

import numpy as np
import pytest

import autodiff
from autodiff import datasets
from autodiff.data import DataLoader


def test_digits_as_images_are_the_flat_digits_reshaped():
    pytest.importorskip("sklearn")
    X, y = datasets.load_digits_images()
    flat, labels = datasets.load_digits()
    assert tuple(X.shape) == (1797, 1, 8, 8) and X.dtype == autodiff.float32
    np.testing.assert_array_equal(X.numpy().reshape(1797, 64) * 16, flat.numpy())
    np.testing.assert_array_equal(y.numpy(), labels.numpy())
    assert X.numpy().min() == 0 and X.numpy().max() == 1
    raw, _ = datasets.load_digits_images(normalize=False)
    assert raw.numpy().max() == 16


def _write_idx(path, array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    body = array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + body)


def _fake_mnist(folder, n_train=5, n_test=3, gz=False):
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    content = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        suffix = ".gz" if gz else ""
        _write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte{suffix}"), images)
        _write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{suffix}"), labels)
        content[prefix] = (images, labels)
    return content


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files_in_torchvision_layout(tmp_path, gz):
    content = _fake_mnist(str(tmp_path / "MNIST" / "raw"), gz=gz)
    train = datasets.MNIST(tmp_path, train=True)
    test = datasets.MNIST(str(tmp_path), train=False)
    assert len(train) == 5 and len(test) == 3
    images, labels = content["train"]
    np.testing.assert_array_equal(train.data.numpy(), images)
    np.testing.assert_array_equal(train.targets.numpy(), labels)
    assert train.targets.dtype == autodiff.int64
    image, label = train[2]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype == autodiff.float32
    np.testing.assert_allclose(image.numpy()[0], images[2] / 255, rtol=1e-6)
    assert label == labels[2] and isinstance(label, int)
    xb, yb = next(iter(DataLoader(test, batch_size=2)))
    assert tuple(xb.shape) == (2, 1, 28, 28) and yb.tolist() == content["t10k"][1][:2].tolist()


def test_mnist_transforms_and_files_directly_in_root(tmp_path):
    _fake_mnist(str(tmp_path))
    data = datasets.MNIST(tmp_path, transform=lambda x: x * 2, target_transform=lambda t: t + 100)
    image, label = data[0]
    assert float(image.numpy().max()) > 1.0 and label >= 100


def test_mnist_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*never downloads.*put the four files"):
        datasets.MNIST(tmp_path)
    with pytest.raises(RuntimeError, match="does not download"):
        datasets.MNIST(tmp_path, download=True)


def test_read_idx_checks_the_header(tmp_path):
    good = str(tmp_path / "ok-idx")
    values = np.arange(6, dtype=np.int32).reshape(2, 3)
    _write_idx(good, values, type_code=0x0C)
    np.testing.assert_array_equal(datasets.read_idx(good), values)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="is not an IDX file"):
        datasets.read_idx(str(bad))
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match=r"holds 3 bytes of values, but its header announces shape \(10,\)"):
        datasets.read_idx(str(short))
