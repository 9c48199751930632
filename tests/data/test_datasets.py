"""Toy dataset generators and loaders."""
import sys

import numpy as np
import pytest

import autodiff
from autodiff import datasets


def test_make_moons_geometry_by_hand():
    X, y = datasets.make_moons(6, shuffle=False)
    assert X.dtype == np.float32 and y.dtype == np.int64 and X.shape == (6, 2)
    expected = [[1, 0], [0, 1], [-1, 0],              # outer: (cos t, sin t), t = 0, pi/2, pi
                [0, 0.5], [1, -0.5], [2, 0.5]]        # inner: (1 - cos t, 1 - sin t - 0.5)
    np.testing.assert_allclose(X.numpy(), expected, atol=1e-7)
    assert y.tolist() == [0, 0, 0, 1, 1, 1]


def test_generators_are_deterministic_with_a_seed():
    for make in (datasets.make_moons, datasets.make_circles, datasets.make_xor,
                 datasets.make_spiral):
        X1, y1 = make(50, noise=0.1, seed=4)
        X2, y2 = make(50, noise=0.1, random_state=4)
        np.testing.assert_array_equal(X1.numpy(), X2.numpy())
        np.testing.assert_array_equal(y1.numpy(), y2.numpy())
        X3, _ = make(50, noise=0.1, seed=5)
        assert not np.array_equal(X1.numpy(), X3.numpy())
    autodiff.manual_seed(1)
    a = datasets.make_blobs(30)[0].numpy()
    autodiff.manual_seed(1)
    np.testing.assert_array_equal(datasets.make_blobs(30)[0].numpy(), a)


def test_moons_and_circles_match_scikit_learn():
    sk = pytest.importorskip("sklearn.datasets")
    for n in (7, 100):
        X, y = datasets.make_moons(n, shuffle=False)
        Xs, ys = sk.make_moons(n, shuffle=False)
        np.testing.assert_allclose(X.numpy(), Xs, atol=1e-6)
        np.testing.assert_array_equal(y.numpy(), ys)
        X, y = datasets.make_circles(n, factor=0.5, shuffle=False)
        Xs, ys = sk.make_circles(n, factor=0.5, shuffle=False)
        np.testing.assert_allclose(X.numpy(), Xs, atol=1e-6)
        np.testing.assert_array_equal(y.numpy(), ys)


def test_noise_has_the_requested_standard_deviation():
    X, y = datasets.make_moons(20000, noise=0.2, seed=0, shuffle=False)
    clean, _ = datasets.make_moons(20000, seed=0, shuffle=False)
    assert np.std(X.numpy() - clean.numpy()) == pytest.approx(0.2, rel=0.02)


def test_make_blobs_centers_counts_and_spread():
    centers = [[0.0, 0.0], [10.0, 10.0], [-5.0, 5.0]]
    X, y = datasets.make_blobs(10, centers=centers, cluster_std=0.0, seed=0, shuffle=False)
    assert y.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    np.testing.assert_array_equal(X.numpy(), np.array(centers, dtype=np.float32)[y.numpy()])
    X, y = datasets.make_blobs(3000, centers=centers, cluster_std=[0.5, 1.0, 2.0], seed=0)
    for k, std in enumerate([0.5, 1.0, 2.0]):
        assert X.numpy()[y.numpy() == k].std(axis=0) == pytest.approx([std, std], rel=0.1)
    X, y = datasets.make_blobs(40, centers=4, n_features=5, seed=1)
    assert X.shape == (40, 5) and sorted(set(y.tolist())) == [0, 1, 2, 3]


def test_make_xor_and_make_spiral():
    X, y = datasets.make_xor(500, seed=0)
    x = X.numpy()
    np.testing.assert_array_equal(y.numpy(), (x[:, 0] * x[:, 1] < 0).astype(np.int64))
    assert np.abs(x).max() <= 1.0
    X, y = datasets.make_spiral(300, n_classes=3, seed=0)
    assert X.shape == (300, 2) and np.bincount(y.numpy()).tolist() == [100, 100, 100]
    assert np.hypot(*X.numpy().T).max() == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="n_samples"):
        datasets.make_moons(0)


def test_train_test_split_sizes_alignment_and_seed():
    X = autodiff.arange(10).reshape(10, 1).float()
    y = autodiff.arange(10)
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.25, seed=0)
    assert (len(X_tr), len(X_te)) == (7, 3)        # scikit-learn rounds the test part up
    np.testing.assert_array_equal(X_tr.numpy()[:, 0], y_tr.numpy())
    assert sorted(y_tr.tolist() + y_te.tolist()) == list(range(10))
    assert y_te.tolist() == np.random.default_rng(0).permutation(10)[:3].tolist()
    a, b = datasets.train_test_split(np.arange(8), test_size=2, shuffle=False)
    assert a.tolist() == list(range(6)) and b.tolist() == [6, 7]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        datasets.train_test_split(X, y[:5])


def test_sklearn_loaders():
    pytest.importorskip("sklearn")
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert sorted(set(y.tolist())) == list(range(10))
    X, y = datasets.load_iris()
    assert X.shape == (150, 4) and np.bincount(y.numpy()).tolist() == [50, 50, 50]
    X, y = datasets.load_breast_cancer()
    assert X.shape == (569, 30) and set(y.tolist()) == {0, 1}


def test_sklearn_loader_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.load_digits()
