"""Toy datasets for the lectures, with numpy only, and loaders for scikit-learn's bundled ones.

Every generator returns ``(X, y)``: ``X`` a float32 tensor of shape (n_samples, n_features),
``y`` an int64 tensor of class labels. ``seed`` (or its scikit-learn name
``random_state``) makes the draw deterministic; ``None`` draws from autodiff's generator
(``autodiff.manual_seed``). The geometry follows scikit-learn's ``make_moons``,
``make_circles`` and ``make_blobs``.
"""
import math
import numbers

import numpy as np

from . import creation
from .tensor import Tensor

__all__ = ["make_moons", "make_circles", "make_blobs", "make_xor", "make_spiral",
           "train_test_split", "load_digits", "load_breast_cancer", "load_iris"]


def _rng(seed, random_state=None, name="dataset"):
    if seed is not None and random_state is not None:
        raise ValueError(f"{name}: pass seed or random_state, not both")
    seed = seed if seed is not None else random_state
    if seed is None:
        return creation.default_generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral):
        return np.random.default_rng(int(seed))
    raise TypeError(f"{name}: seed must be an int or a numpy Generator, got {type(seed).__name__}")


def _check_n(name, n_samples, minimum=1):
    if not isinstance(n_samples, numbers.Integral) or n_samples < minimum:
        raise ValueError(f"{name}: n_samples must be an integer >= {minimum}, got {n_samples!r}")


def _finish(X, y, rng, shuffle, noise=0.0):
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    return Tensor._wrap(X.astype(np.float32)), Tensor._wrap(y.astype(np.int64))


def make_moons(n_samples=100, noise=0.0, seed=None, *, shuffle=True, random_state=None):
    """Two interleaving half circles: the outer one ``(cos t, sin t)`` is class 0, the
    inner one ``(1 - cos t, 1 - sin t - 0.5)`` class 1, for t in [0, pi]; Gaussian
    ``noise`` (a standard deviation) is added to the coordinates."""
    _check_n("make_moons", n_samples, 2)
    rng = _rng(seed, random_state, "make_moons")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(t_out), 1 - np.cos(t_in)),
                   np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _finish(X, y, rng, shuffle, noise)


def make_circles(n_samples=100, noise=0.0, factor=0.8, seed=None, *, shuffle=True,
                 random_state=None):
    """A large circle (class 0, radius 1) around a smaller one (class 1, radius ``factor``)."""
    _check_n("make_circles", n_samples, 2)
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor has to be between 0 and 1, got {factor}")
    rng = _rng(seed, random_state, "make_circles")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([np.append(np.cos(t_out), np.cos(t_in) * factor),
                   np.append(np.sin(t_out), np.sin(t_in) * factor)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _finish(X, y, rng, shuffle, noise)


def make_blobs(n_samples=100, centers=None, n_features=2, cluster_std=1.0, seed=None, *,
               center_box=(-10.0, 10.0), shuffle=True, random_state=None):
    """Gaussian blobs, one class per center. ``centers`` is a number of centers (drawn
    uniformly in ``center_box``; default 3) or an array of them; ``cluster_std`` is one
    standard deviation or one per center."""
    _check_n("make_blobs", n_samples)
    rng = _rng(seed, random_state, "make_blobs")
    if centers is None:
        centers = 3
    if isinstance(centers, numbers.Integral):
        centers = rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
    else:
        centers = np.asarray(centers._data if isinstance(centers, Tensor) else centers,
                             dtype=np.float64)
        if centers.ndim != 2:
            raise ValueError(f"make_blobs: centers must be an int or a 2-D array, got shape "
                             f"{centers.shape}")
        n_features = centers.shape[1]
    k = len(centers)
    stds = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,))
    counts = [n_samples // k + (1 if i < n_samples % k else 0) for i in range(k)]
    X = np.concatenate([rng.normal(loc=c, scale=s, size=(m, n_features))
                        for c, s, m in zip(centers, stds, counts)])
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    return _finish(X, y, rng, shuffle)


def make_xor(n_samples=200, noise=0.0, seed=None, *, random_state=None):
    """Points uniform in the square [-1, 1]^2; the label is 1 when x0 and x1 have opposite
    signs (the XOR of their signs). ``noise`` jitters the points after labelling."""
    _check_n("make_xor", n_samples)
    rng = _rng(seed, random_state, "make_xor")
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    return _finish(X, y, rng, False, noise)


def make_spiral(n_samples=100, n_classes=2, noise=0.0, seed=None, *, shuffle=True,
                random_state=None):
    """Interleaved spiral arms (CS231n's toy data), one per class. Along arm ``j`` the
    radius grows from 0 to 1 while the angle runs over [4j, 4(j+1)]; ``noise`` is the
    standard deviation of Gaussian noise added to the angle."""
    _check_n("make_spiral", n_samples)
    if not isinstance(n_classes, numbers.Integral) or n_classes < 1:
        raise ValueError(f"make_spiral: n_classes must be a positive integer, got {n_classes!r}")
    rng = _rng(seed, random_state, "make_spiral")
    counts = [n_samples // n_classes + (1 if j < n_samples % n_classes else 0)
              for j in range(n_classes)]
    parts = []
    for j, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(4.0 * j, 4.0 * (j + 1), m)
        if noise:
            t = t + rng.normal(scale=noise, size=m)
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    X = np.concatenate(parts)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), counts)
    return _finish(X, y, rng, shuffle)


def train_test_split(*arrays, test_size=0.25, train_size=None, seed=None, shuffle=True,
                     random_state=None):
    """Split tensors (or arrays) with the same first size into train and test parts:
    returns ``[a_train, a_test, b_train, b_test, ...]``. ``test_size`` is a fraction
    (rounded up) or a count, as in scikit-learn."""
    if not arrays:
        raise ValueError("train_test_split: at least one tensor is required")
    n = len(arrays[0])
    sizes = [len(a) for a in arrays]
    if len(set(sizes)) != 1:
        raise ValueError(f"train_test_split: inconsistent numbers of samples: {sizes}")
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: test_size={test_size} should be in (0, 1) "
                             "or an integer count")
        n_test = math.ceil(test_size * n)
    else:
        n_test = int(test_size)
    n_train = n - n_test if train_size is None else (
        math.floor(train_size * n) if isinstance(train_size, float) else int(train_size))
    if n_test <= 0 or n_train <= 0 or n_train + n_test > n:
        raise ValueError(f"train_test_split: with {n} samples, test_size={test_size} and "
                         f"train_size={train_size} leave an empty or too large split")
    if shuffle:
        order = _rng(seed, random_state, "train_test_split").permutation(n)
    else:
        order = np.arange(n)
    test_idx, train_idx = order[:n_test], order[n_test:n_test + n_train]
    if not shuffle:
        train_idx, test_idx = order[:n_train], order[n_train:n_train + n_test]
    out = []
    for a in arrays:
        if isinstance(a, Tensor):
            out += [Tensor._wrap(a._data[train_idx]), Tensor._wrap(a._data[test_idx])]
        else:
            a = np.asarray(a)
            out += [a[train_idx], a[test_idx]]
    return out


def _sklearn_loader(name):
    def load():
        try:
            from sklearn import datasets as sk
        except ImportError:
            raise ImportError(f"autodiff.datasets.{name} needs scikit-learn, which ships the "
                              "data file (no download): pip install scikit-learn") from None
        bunch = getattr(sk, name)()
        return (Tensor._wrap(np.asarray(bunch.data, dtype=np.float32)),
                Tensor._wrap(np.asarray(bunch.target, dtype=np.int64)))
    load.__name__ = name
    return load


load_digits = _sklearn_loader("load_digits")
load_digits.__doc__ = """8x8 images of handwritten digits: X (1797, 64) float32 in [0, 16], y (1797,)."""
load_breast_cancer = _sklearn_loader("load_breast_cancer")
load_breast_cancer.__doc__ = """Wisconsin breast cancer: X (569, 30) float32, y (569,) in {0, 1}."""
load_iris = _sklearn_loader("load_iris")
load_iris.__doc__ = """Iris flowers: X (150, 4) float32, y (150,) in {0, 1, 2}."""


from .image_datasets import MNIST, load_digits_images, read_idx  # noqa: E402  (images for conv nets)

__all__ += ["load_digits_images", "MNIST", "read_idx"]

# text for character-level models (a module of its own)
from .text_data import CharTokenizer, fables  # noqa: E402,F401
__all__ += ["fables", "CharTokenizer"]
