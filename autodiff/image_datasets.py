"""Image datasets for convolutional networks (re-exported by ``autodiff.datasets``).

- ``load_digits_images``: scikit-learn's 1,797 handwritten digits as (N, 1, 8, 8) images,
  offline (scikit-learn ships the data file);
- ``MNIST``: the MNIST files in their IDX format, read from a local folder (nothing is
  downloaded); ``read_idx`` reads any IDX file, gzipped or not.
"""
import gzip
import os

import numpy as np

from .data import Dataset
from .tensor import Tensor

__all__ = ["load_digits_images", "MNIST", "read_idx"]


def load_digits_images(normalize=True):
    """The 8x8 digits as images: X (1797, 1, 8, 8) float32, y (1797,) int64.

    ``normalize``: pixel values divided by 16, into [0, 1] (scikit-learn's are 0..16).
    """
    from .datasets import load_digits
    X, y = load_digits()
    images = X._data.reshape(-1, 1, 8, 8)
    if normalize:
        images = images / np.float32(16)
    return Tensor._wrap(np.ascontiguousarray(images, dtype=np.float32)), y


# ---------------------------------------------------------------------- IDX files
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path):
    """The array stored in an IDX file (MNIST's format; ``.gz`` files are decompressed).

    Header: two zero bytes, a type code, the number of dimensions, then one big-endian
    uint32 per dimension; the values follow in row-major order.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number {data[:4].hex()})")
    dtype = np.dtype(_IDX_TYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {path} is truncated (its header is incomplete)")
    shape = tuple(int(n) for n in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    count = int(np.prod(shape)) if shape else 1
    if len(data) - header != count * dtype.itemsize:
        raise ValueError(f"read_idx: {path} holds {len(data) - header} bytes of values, but its header "
                         f"announces shape {shape} of {dtype} ({count * dtype.itemsize} bytes)")
    values = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


class MNIST(Dataset):
    """The MNIST digits from local IDX files: ``MNIST(root, train=True)``.

    The four files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``) are
    looked for in ``root``, ``root/MNIST/raw`` (torchvision's layout) and ``root/raw``.
    Each item is (image, label): a float32 tensor (1, 28, 28) in [0, 1] and an int,
    passed through ``transform`` / ``target_transform`` when given. ``data`` (N, 28, 28)
    uint8 and ``targets`` (N,) int64 hold everything, for whole-tensor batching.
    """

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.fspath(root)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            raise RuntimeError("MNIST: autodiff does not download data; put the four MNIST files in "
                               f"{self._folders()[0]} (see the MNIST docstring) and use download=False")
        images, labels = (self._find(name) for name in _FILES[bool(train)])
        data = read_idx(images)
        targets = read_idx(labels)
        if data.ndim != 3 or targets.ndim != 1 or len(data) != len(targets):
            raise ValueError(f"MNIST: {images} holds shape {data.shape} and {labels} shape {targets.shape}; "
                             "expected (N, rows, cols) images and N labels")
        self.data = Tensor._wrap(np.ascontiguousarray(data, dtype=np.uint8))
        self.targets = Tensor._wrap(targets.astype(np.int64))

    def _folders(self):
        return [self.root, os.path.join(self.root, "MNIST", "raw"), os.path.join(self.root, "raw")]

    def _find(self, name):
        for folder in self._folders():
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        wanted = ", ".join(_FILES[True] + _FILES[False])
        raise FileNotFoundError(
            f"MNIST: {name} (or {name}.gz) not found in {self.root!r}. autodiff reads MNIST from local "
            f"files and never downloads: put the four files ({wanted}, each optionally gzipped) in "
            f"{self._folders()[0]!r} or {self._folders()[1]!r}")

    def __len__(self):
        return len(self.targets._data)

    def __getitem__(self, index):
        image = Tensor._wrap((self.data._data[index][None] / np.float32(255)).astype(np.float32))
        target = int(self.targets._data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self):
        return (f"Dataset MNIST\n    Number of datapoints: {len(self)}\n    Root location: {self.root}\n"
                f"    Split: {'Train' if self.train else 'Test'}")
