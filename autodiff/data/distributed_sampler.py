"""DistributedSampler: each process of a data-parallel job reads its own part of a dataset.

    sampler = DistributedSampler(dataset)             # rank and world size from the group
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                      # a new order every epoch, the same on all ranks

The partitioning and padding are PyTorch's: the (shuffled) indices are padded by repeating
their beginning up to a multiple of ``num_replicas`` (or cut down to one, ``drop_last``),
and rank r takes every ``num_replicas``-th index starting at r. The shuffle is a numpy
permutation seeded with ``seed + epoch``: the same on every rank, but not torch's order.
"""
import math
import numbers

import numpy as np


class DistributedSampler:
    """Indices of ``dataset`` for one rank of ``num_replicas``: disjoint, equally many per rank."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"DistributedSampler: {name} must be an int, got {value!r}")
        if num_replicas <= 0:
            raise ValueError(f"DistributedSampler: num_replicas must be positive, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use before each epoch so that shuffling differs between epochs (same on all ranks)."""
        self.epoch = int(epoch)
