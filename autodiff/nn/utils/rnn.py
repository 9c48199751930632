"""Batches of sequences of different lengths: padding, and PyTorch's PackedSequence.

A PackedSequence keeps only the real steps: ``data`` holds, for t = 0, 1, ..., the
step-t elements of every sequence still running (sequences sorted longest first),
and ``batch_sizes[t]`` says how many there are. The recurrent layers accept one and
return one; inside, it is unpacked to a padded (T, B, *) batch run with per-step
masks. Packing and unpacking are differentiable (indexing and its inverse).
"""
from collections import namedtuple

import numpy as np

from ...ops.recurrent import Scatter
from ...tensor import Tensor, cat, stack


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as PyTorch; build it with
    ``pack_padded_sequence`` or ``pack_sequence``, not by hand."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _wrap_long(np.argsort(sorted_indices._data))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                         self.unsorted_indices)


def _wrap_long(array):
    return Tensor._wrap(np.asarray(array, dtype=np.int64))


def _lengths_array(name, lengths):
    if isinstance(lengths, Tensor):
        lengths = lengths._data
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise ValueError(f"{name}: lengths must be a 1-D list or tensor of integers, got "
                         f"{lengths.dtype} of shape {lengths.shape}")
    return lengths.astype(np.int64)


def _positions(batch_sizes):
    """(time, batch) index of each row of a packed ``data``."""
    time = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    batch = np.concatenate([np.arange(n) for n in batch_sizes]) if len(batch_sizes) else np.zeros(0, np.int64)
    return time, batch


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (T, B, *) (or (B, T, *)), padding with ``padding_value``."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for k, s in enumerate(sequences):
        if tuple(s.shape[1:]) != trailing:
            raise ValueError(f"pad_sequence: sequence {k} has shape {tuple(s.shape)}; every sequence "
                             f"must have trailing shape {trailing} like the first")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = Tensor._wrap(np.full((missing,) + trailing, padding_value, dtype=s._data.dtype))
            s = cat([s, fill] if padding_side == "right" else [fill, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) batch (or (B, T, *) with batch_first) of sequences of ``lengths``."""
    name = "pack_padded_sequence"
    lengths = _lengths_array(name, lengths)
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"{name}: input must be a padded tensor of at least 2 dimensions, got "
                         f"{tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__}")
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if lengths.shape[0] != batch:
        raise ValueError(f"{name}: expected {batch} lengths (the batch size of input of shape "
                         f"{tuple(input.shape)}), got {lengths.shape[0]}")
    if (lengths <= 0).any():
        raise RuntimeError(f"{name}: Length of all samples has to be greater than 0, but found an "
                           f"element in 'lengths' that is <= 0: {lengths.tolist()}")
    if (lengths > steps).any():
        raise RuntimeError(f"{name}: a length ({int(lengths.max())}) exceeds the padded length {steps}")
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError(f"{name}: `lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                               "if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        input = input[:, order]
        sorted_indices = _wrap_long(order)
    batch_sizes = (lengths[None, :] > np.arange(int(lengths[0]))[:, None]).sum(1)
    time, row = _positions(batch_sizes)
    return PackedSequence(input[time, row], _wrap_long(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded batch, lengths), in the original batch order."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    padded, lengths = _packed_to_padded(sequence, padding_value)
    steps = padded.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: Expected total_length to be at least the length of "
                             f"the longest sequence in input, but got total_length={total_length} and "
                             f"max sequence length being {steps}")
        if total_length > steps:
            fill = Tensor._wrap(np.full((total_length - steps,) + tuple(padded.shape[1:]), padding_value,
                                        dtype=padded._data.dtype))
            padded = cat([padded, fill])
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices._data
        padded = padded[:, order]
        lengths = _wrap_long(lengths._data[order])
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) tensors (longest first unless enforce_sorted=False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of (L_i, *) sequences inside a padded batch."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[k, :int(n)] for k, n in enumerate(_lengths_array("unpad_sequence", lengths))]


# ---------------------------------------------------------------------- used by the recurrent layers
def _packed_to_padded(sequence, padding_value=0.0):
    """(T, B, *) padded batch in the packed (sorted) order, and the lengths tensor in that order."""
    batch_sizes = np.asarray(sequence.batch_sizes._data)
    data = sequence.data
    steps, batch = len(batch_sizes), int(batch_sizes[0]) if len(batch_sizes) else 0
    time, row = _positions(batch_sizes)
    padded = Scatter.apply(data, (time, row), (steps, batch) + tuple(data.shape[1:]))
    if padding_value:
        filled = np.full(padded.shape, padding_value, dtype=data._data.dtype)
        filled[time, row] = 0
        padded = padded + filled
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    return padded, _wrap_long(lengths)


def _padded_to_packed(padded, like):
    """A padded (T, B, *) output in packed order, packed like the PackedSequence ``like``."""
    time, row = _positions(np.asarray(like.batch_sizes._data))
    return PackedSequence(padded[time, row], like.batch_sizes, like.sorted_indices, like.unsorted_indices)
