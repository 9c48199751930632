"""DistributedSampler: PyTorch's partitioning and padding, and DataLoader(sampler=...)."""
import numpy as np
import pytest

import autodiff
from autodiff.data import DataLoader, DistributedSampler, TensorDataset

torch = pytest.importorskip("torch")
from torch.utils.data import DistributedSampler as TorchSampler  # noqa: E402


@pytest.mark.parametrize("n", [1, 2, 5, 10, 11, 17])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_partition_and_padding_match_pytorch(n, replicas, drop_last):
    data = list(range(n))
    if drop_last and n < replicas:
        return          # PyTorch gives every rank 0 samples here too; nothing to compare
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs), (rank, list(ours), list(theirs))
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                                  (3, 5, False)])
def test_shuffled_partition_is_pytorchs_rule_applied_to_the_epochs_permutation(n, replicas, drop_last):
    """The same permutation on every rank (seed + epoch), cut and padded as PyTorch does."""
    data = list(range(n))
    for epoch in (0, 1):
        parts = []
        for rank in range(replicas):
            sampler = DistributedSampler(data, replicas, rank, seed=7, drop_last=drop_last)
            sampler.set_epoch(epoch)
            parts.append(list(sampler))
        order = np.random.default_rng(7 + epoch).permutation(n).tolist()
        total = len(parts[0]) * replicas
        padded = (order * (total // n + 1))[:total]
        assert parts == [padded[r:total:replicas] for r in range(replicas)]
        if not drop_last:
            assert set().union(*parts) == set(data)          # every sample seen
        if not drop_last and n % replicas == 0:
            assert sorted(sum(parts, [])) == data            # disjoint when nothing is padded
    first = DistributedSampler(data, replicas, 0, seed=7)
    again = DistributedSampler(data, replicas, 0, seed=7)
    first.set_epoch(3)
    again.set_epoch(3)
    assert list(first) == list(again)


def test_dataloader_reads_the_samplers_indices():
    X = autodiff.arange(10)
    loader = DataLoader(TensorDataset(X), batch_size=2,
                        sampler=DistributedSampler(range(10), 3, 1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 4], [7, 0]]
    assert len(loader) == 2
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(TensorDataset(X), sampler=[0, 1], shuffle=True)


def test_bad_rank_is_an_error_as_in_pytorch():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))
