"""Datasets and mini-batches: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``
and ``DataLoader`` (PyTorch's ``torch.utils.data`` names and behaviour).

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=0)
    for xb, yb in loader:
        ...

A ``DataLoader`` over a ``TensorDataset`` (or a ``Subset`` of one) cuts each batch out of
the whole tensors with one numpy fancy index per tensor, with no Python loop over samples.
Other datasets are read sample by sample and collated with ``default_collate``.
"""
import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .. import creation
from ..tensor import Tensor, tensor
from .distributed_sampler import DistributedSampler  # noqa: F401

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "DataLoader", "random_split",
           "default_collate", "DistributedSampler"]


class Dataset:
    """A map-style dataset: implement ``__getitem__(i)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are ``(t[i] for t in tensors)``: rows of tensors with the same first size."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else tensor(t) for t in tensors)
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first "
                                 "(sample) dimension")
        sizes = [len(t) for t in tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions "
                             f"are {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
            index += len(self)
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        if which >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


# ---------------------------------------------------------------------- randomness
def _generator(generator):
    """A numpy Generator: the one given, a new one from an int seed, or autodiff's own."""
    if generator is None:
        return creation.default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be a numpy Generator or an int seed, got "
                    f"{type(generator).__name__}")


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths
    (ints summing to ``len(dataset)``, or fractions summing to 1)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) and 0 <= x <= 1 for x in lengths) and \
            math.isclose(sum(lengths), 1.0):
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):          # spread the remainder round-robin
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints or fractions summing "
                         f"to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths {sum(lengths)} does not equal the "
                         f"length of the dataset {n}")
    order = _generator(generator).permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + int(length)]))
        start += int(length)
    return subsets


# ---------------------------------------------------------------------- collation
def default_collate(batch):
    """Stack a list of samples into a batch: tensors, arrays and numbers become one tensor
    with a new first dimension; tuples, lists and dicts are collated field by field."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor._wrap(_stack([t._data for t in batch]))
    if isinstance(elem, (np.ndarray, np.generic)):
        return Tensor._wrap(_stack([np.asarray(a) for a in batch]))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):          # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("default_collate: each element in a batch must have the same "
                               "number of fields")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"strings, dicts or lists; found {type(elem).__name__}")


def _stack(arrays):
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise RuntimeError(f"default_collate: samples in a batch must have the same shape, got "
                               f"{tuple(shape)} at index 0 and {tuple(a.shape)} at index {i}")
    return np.stack(arrays)


def _convert(sample):
    """batch_size=None: numbers and arrays become tensors, containers are walked."""
    if isinstance(sample, Tensor):
        return sample
    if isinstance(sample, (np.ndarray, np.generic)):
        return Tensor._wrap(np.asarray(sample))
    if isinstance(sample, Mapping):
        return {k: _convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(_convert(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return [_convert(v) for v in sample]
    return sample


# ---------------------------------------------------------------------- the loader
def _tensor_source(dataset):
    """(tensors, index array or None) when batches can be cut from whole tensors."""
    index = None
    while isinstance(dataset, Subset):
        idx = np.asarray(dataset.indices, dtype=np.int64)
        index = idx if index is None else idx[index]
        dataset = dataset.dataset
    if type(dataset) is TensorDataset and not any(t._requires_grad for t in dataset.tensors):
        return dataset.tensors, index
    return None


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    ``shuffle=True`` draws a new order every epoch from ``generator`` (a numpy Generator,
    an int seed, or by default autodiff's generator, seeded by ``autodiff.manual_seed``).
    ``drop_last=True`` leaves out a final batch smaller than ``batch_size``;
    ``batch_size=None`` yields single samples. ``num_workers`` is accepted for
    compatibility; loading always happens in this process. ``sampler``: an iterable of
    indices that gives the order instead (e.g. a ``DistributedSampler``).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None, num_workers=0, pin_memory=False, sampler=None):
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral)
                                       or isinstance(batch_size, bool) or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer, got "
                             f"{batch_size!r}")
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative; use "
                             f"num_workers=0 to disable multiprocessing (got {num_workers!r})")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None (no batching) is incompatible with "
                             "drop_last=True")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader with sampler: sampler option is mutually exclusive with "
                             "shuffle")
        self.dataset = dataset
        self.sampler = sampler
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = generator if generator is None else _generator(generator)
        self._source = _tensor_source(dataset) if collate_fn is None else None

    def __len__(self):
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if self.shuffle:
            return _generator(self.generator).permutation(n)
        return None

    def __iter__(self):
        order = self._order()
        n = len(self.dataset) if order is None else len(order)
        if self.batch_size is None:
            for i in (range(n) if order is None else order.tolist()):
                yield _convert(self.dataset[i])
            return
        bs = self.batch_size
        stop = n - n % bs if self.drop_last else n
        if self._source is not None:
            yield from self._tensor_batches(order, stop)
            return
        collate = self.collate_fn or default_collate
        indices = range(n) if order is None else order.tolist()
        dataset = self.dataset
        for start in range(0, stop, bs):
            yield collate([dataset[i] for i in indices[start:start + bs]])

    def _tensor_batches(self, order, stop):
        tensors, base = self._source
        arrays = [t._data for t in tensors]
        bs = self.batch_size
        if order is None:
            if base is None:        # in order: slices, copied so a batch never aliases the data
                for start in range(0, stop, bs):
                    yield [Tensor._wrap(a[start:start + bs].copy()) for a in arrays]
                return
            order = base
        elif base is not None:
            order = base[order]
        for start in range(0, stop, bs):
            idx = order[start:start + bs]
            yield [Tensor._wrap(a[idx]) for a in arrays]
