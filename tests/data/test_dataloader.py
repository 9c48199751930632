"""Dataset, TensorDataset, Subset, random_split and DataLoader."""
import numpy as np
import pytest

import autodiff
from autodiff.data import (ConcatDataset, DataLoader, Dataset, Subset, TensorDataset,
                           default_collate, random_split)


def _xy(n=10):
    X = autodiff.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    y = autodiff.tensor(np.arange(n), dtype=autodiff.int64)
    return X, y


class Squares(Dataset):
    """A plain map-style dataset (no fast path): sample i is (x_i, y_i)."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __getitem__(self, i):
        return self.X[i], self.y[i]

    def __len__(self):
        return len(self.y)


def test_tensor_dataset_indexing_and_errors():
    X, y = _xy()
    ds = TensorDataset(X, y)
    assert len(ds) == 10
    x3, y3 = ds[3]
    assert x3.tolist() == [6.0, 7.0] and y3.item() == 3
    with pytest.raises(ValueError, match=r"size mismatch.*\[10, 9\]"):
        TensorDataset(X, y[:9])
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_batches_in_order_with_a_short_last_batch():
    X, y = _xy()
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == np.float32
    assert batches[2][1].dtype == np.int64
    dropped = DataLoader(TensorDataset(X, y), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [b[1].tolist() for b in dropped] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_batches_are_copies():
    X, y = _xy()
    for shuffle in (False, True):
        xb, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=shuffle,
                                     generator=0)))
        xb._data[...] = -1
    assert X.min().item() == 0.0


def test_shuffle_is_seeded_covers_everything_and_changes_every_epoch():
    X, y = _xy(20)
    loader = DataLoader(TensorDataset(X, y), batch_size=6, shuffle=True, generator=7)
    epoch1 = np.concatenate([b[1].numpy() for b in loader])
    epoch2 = np.concatenate([b[1].numpy() for b in loader])
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(epoch1, rng.permutation(20))
    np.testing.assert_array_equal(epoch2, rng.permutation(20))
    assert sorted(epoch1.tolist()) == list(range(20)) and not np.array_equal(epoch1, epoch2)
    # rows stay aligned across tensors
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.numpy()[:, 0], 2 * yb.numpy())
    again = DataLoader(TensorDataset(X, y), batch_size=6, shuffle=True,
                       generator=np.random.default_rng(7))
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in again]), epoch1)


def test_shuffle_draws_from_autodiffs_generator_by_default():
    X, y = _xy(16)
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    autodiff.manual_seed(3)
    first = next(iter(loader))[1].tolist()
    autodiff.manual_seed(3)
    assert next(iter(loader))[1].tolist() == first
    assert first == np.random.default_rng(3).permutation(16).tolist()


def test_fast_path_gives_the_same_batches_as_sample_by_sample():
    X, y = _xy(23)
    for ds_fast, ds_slow in [(TensorDataset(X, y), Squares(X, y)),
                             (Subset(TensorDataset(X, y), [5, 3, 22, 0, 9, 11, 1]),
                              Subset(Squares(X, y), [5, 3, 22, 0, 9, 11, 1]))]:
        for shuffle, drop_last in [(False, False), (True, False), (True, True)]:
            fast = list(DataLoader(ds_fast, batch_size=3, shuffle=shuffle, drop_last=drop_last,
                                   generator=1))
            slow = list(DataLoader(ds_slow, batch_size=3, shuffle=shuffle, drop_last=drop_last,
                                   generator=1))
            assert len(fast) == len(slow) > 0
            for (xf, yf), (xs, ys) in zip(fast, slow):
                np.testing.assert_array_equal(xf.numpy(), xs.numpy())
                np.testing.assert_array_equal(yf.numpy(), ys.numpy())
                assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


def test_collate_dicts_numbers_arrays_and_strings():
    class Records(Dataset):
        def __getitem__(self, i):
            return {"x": np.full(3, i, dtype=np.float32), "label": i, "weight": 0.5 * i,
                    "flag": i % 2 == 0, "name": f"s{i}", "pair": (autodiff.tensor([i, -i]), i)}

        def __len__(self):
            return 5

    batch = next(iter(DataLoader(Records(), batch_size=4)))
    assert batch["x"].shape == (4, 3) and batch["x"].dtype == np.float32
    assert batch["label"].tolist() == [0, 1, 2, 3] and batch["label"].dtype == np.int64
    assert batch["weight"].tolist() == [0.0, 0.5, 1.0, 1.5] and batch["weight"].dtype == np.float64
    assert batch["flag"].tolist() == [True, False, True, False]
    assert batch["name"] == ["s0", "s1", "s2", "s3"]
    assert batch["pair"][0].tolist() == [[0, 0], [1, -1], [2, -2], [3, -3]]
    assert batch["pair"][1].tolist() == [0, 1, 2, 3]


def test_collate_shape_mismatch_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"same shape, got \(2,\) at index 0 and \(3,\) at index 1"):
        default_collate([autodiff.zeros(2), autodiff.zeros(3)])


def test_batch_size_none_and_custom_collate():
    X, y = _xy(3)
    samples = list(DataLoader(TensorDataset(X, y), batch_size=None))
    assert len(samples) == 3 and samples[1][1].item() == 1
    sums = list(DataLoader(TensorDataset(X, y), batch_size=2,
                           collate_fn=lambda batch: sum(float(s[1]) for s in batch)))
    assert sums == [1.0, 2.0]
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(TensorDataset(X, y), batch_size=0)


def test_random_split_lengths_and_fractions():
    X, y = _xy(10)
    ds = TensorDataset(X, y)
    parts = random_split(ds, [5, 3, 2], generator=0)
    assert [len(p) for p in parts] == [5, 3, 2]
    seen = sorted(int(p[i][1]) for p in parts for i in range(len(p)))
    assert seen == list(range(10))
    again = random_split(ds, [5, 3, 2], generator=0)
    assert [p.indices for p in again] == [p.indices for p in parts]
    assert [len(p) for p in random_split(TensorDataset(*_xy(11)), [0.5, 0.5], generator=1)] == [6, 5]
    assert [len(p) for p in random_split(TensorDataset(*_xy(10)), [0.7, 0.2, 0.1])] == [7, 2, 1]
    with pytest.raises(ValueError, match="does not equal the length of the dataset 10"):
        random_split(ds, [5, 4])


def test_random_split_fraction_lengths_match_pytorch():
    torch = pytest.importorskip("torch")
    for n, fractions in [(11, [0.5, 0.5]), (10, [0.7, 0.2, 0.1]), (7, [0.25, 0.25, 0.5]),
                         (101, [0.8, 0.2])]:
        ours = [len(p) for p in random_split(TensorDataset(*_xy(n)), fractions, generator=0)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
        assert ours == theirs


def test_subset_and_concat():
    X, y = _xy(6)
    ds = TensorDataset(X, y)
    sub = Subset(ds, [4, 1])
    assert len(sub) == 2 and sub[0][1].item() == 4
    both = ds + sub
    assert isinstance(both, ConcatDataset) and len(both) == 8
    assert both[6][1].item() == 4 and both[-1][1].item() == 1
